// Package faultproxy is a reverse proxy for tests that sits between Gavel
// and a real Synapse: it records every request, and a test can make it
// fail requests on purpose (an HTTP error, a rate limit, no answer, or no
// server at all) to see Gavel survive what a homeserver does in real life.
//
// Of Gavel's packages it may import: none.
package faultproxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Request is one request the proxy received.
type Request struct {
	Method string
	Path   string // unescaped path, as Synapse routes it
	Query  url.Values
	// Faulted is true when a Fault answered instead of Synapse.
	Faulted bool
	// Took is how long the answer took, from the request's arrival to
	// the end of the answer (given to AfterResponse; zero in Requests).
	Took time.Duration
}

// IsAdmin reports whether the request went to the Synapse admin API.
func (r Request) IsAdmin() bool { return strings.HasPrefix(r.Path, "/_synapse/admin/") }

func (r Request) String() string { return r.Method + " " + r.Path }

// A Fault answers a request instead of Synapse.
type Fault func(w http.ResponseWriter, r *http.Request)

// A Rule picks the Fault for a request, or nil to pass it to Synapse.
type Rule func(r *http.Request) Fault

// Status answers with an HTTP status and a Matrix error body.
func Status(code int, errcode string) Fault {
	return func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, code, map[string]any{"errcode": errcode, "error": "injected by faultproxy"})
	}
}

// RateLimit answers 429 M_LIMIT_EXCEEDED with retry_after_ms.
func RateLimit(retryAfter time.Duration) Fault {
	return func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusTooManyRequests, map[string]any{
			"errcode": "M_LIMIT_EXCEEDED", "error": "injected by faultproxy", "retry_after_ms": retryAfter.Milliseconds(),
		})
	}
}

// Hang never answers: it holds the request until the client gives up or
// the proxy closes.
func Hang(w http.ResponseWriter, r *http.Request) {
	<-r.Context().Done()
}

// Drop closes the connection without an answer.
func Drop(w http.ResponseWriter, r *http.Request) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		conn.Close()
	}
}

func writeJSON(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}

// Proxy forwards to a homeserver, records requests and injects faults.
type Proxy struct {
	// URL is where clients reach the proxy; it stays the same across Down
	// and Up.
	URL string

	addr    string
	forward *httputil.ReverseProxy

	mu       sync.Mutex
	server   *http.Server
	rule     Rule
	after    func(Request, int)
	requests []Request
}

// New starts a proxy on a free loopback port in front of target.
func New(target string) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	p := &Proxy{forward: httputil.NewSingleHostReverseProxy(u)}
	// Report an unreachable upstream the way a real reverse proxy does.
	p.forward.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		if r.Context().Err() == nil {
			writeJSON(w, http.StatusBadGateway, map[string]any{"errcode": "M_UNKNOWN", "error": "faultproxy: " + err.Error()})
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p.addr = ln.Addr().String()
	p.URL = "http://" + p.addr
	p.serve(ln)
	return p, nil
}

func (p *Proxy) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(p.handle), ReadHeaderTimeout: 10 * time.Second}
	p.mu.Lock()
	p.server = srv
	p.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// recorder remembers the status a handler wrote.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (for Drop).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (p *Proxy) handle(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	rule, after := p.rule, p.after
	p.mu.Unlock()
	var fault Fault
	if rule != nil {
		fault = rule(r)
	}
	req := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Faulted: fault != nil}
	p.mu.Lock()
	p.requests = append(p.requests, req)
	p.mu.Unlock()

	rec := &recorder{ResponseWriter: w}
	arrived := time.Now()
	if fault != nil {
		fault(rec, r)
	} else {
		p.forward.ServeHTTP(rec, r)
	}
	if after != nil {
		req.Took = time.Since(arrived)
		after(req, rec.status)
	}
}

// SetRule sets the rule that decides which requests fail; nil passes
// everything through.
func (p *Proxy) SetRule(rule Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rule = rule
}

// AfterResponse sets a function called after each request has been
// answered, with the status the client got (0 if none).
func (p *Proxy) AfterResponse(fn func(req Request, status int)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.after = fn
}

// Requests returns the requests received so far, oldest first.
func (p *Proxy) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.requests...)
}

// Mark returns a position in the request log, for Since.
func (p *Proxy) Mark() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.requests)
}

// Since returns the requests received after mark.
func (p *Proxy) Since(mark int) []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.requests[mark:]...)
}

// Down closes the listener and every open connection: clients get
// "connection refused" until Up.
func (p *Proxy) Down() {
	p.mu.Lock()
	srv := p.server
	p.server = nil
	p.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Up listens again on the same address after Down.
func (p *Proxy) Up() error {
	var ln net.Listener
	var err error
	// The port is free again at once, but allow a moment for the kernel.
	for range 50 {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			p.serve(ln)
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("faultproxy: listen again on %s: %w", p.addr, err)
}

// Close stops the proxy.
func (p *Proxy) Close() {
	p.mu.Lock()
	srv := p.server
	p.server = nil
	p.mu.Unlock()
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = srv.Close()
		}
	}
}

// Matching helpers for rules.

// IsSend reports whether r sends a message event into a room.
func IsSend(r *http.Request) bool {
	return r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/send/")
}

// IsReportListing reports whether r lists event reports (the feed's poll).
func IsReportListing(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/_synapse/admin/v1/event_reports")
}

// IsAdmin reports whether r goes to the Synapse admin API.
func IsAdmin(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/_synapse/admin/") }
