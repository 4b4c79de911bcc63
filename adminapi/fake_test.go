package adminapi

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// request is what the fake homeserver saw of one request.
type request struct {
	Method string
	// Path is the path exactly as sent, escapes included.
	Path  string
	Query url.Values
	Body  string
	Auth  string
}

func (r request) String() string { return r.Method + " " + r.Path }

// fakeSynapse is an httptest server that records every request and answers
// with a handler chosen per path.
type fakeSynapse struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []request
	// answer returns the status and JSON body for a request.
	answer func(r request) (int, string)
}

func newFake(t *testing.T, answer func(r request) (int, string)) (*Client, *fakeSynapse) {
	t.Helper()
	f := &fakeSynapse{answer: answer}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		path, rawQuery, _ := strings.Cut(r.RequestURI, "?")
		query, _ := url.ParseQuery(rawQuery)
		req := request{Method: r.Method, Path: path, Query: query, Body: string(body), Auth: r.Header.Get("Authorization")}
		f.mu.Lock()
		f.got = append(f.got, req)
		f.mu.Unlock()
		status, resp := f.answer(req)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, resp)
	}))
	t.Cleanup(f.srv.Close)
	c, err := New(f.srv.URL, "secret-token")
	require.NoError(t, err)
	return c, f
}

// answerOK answers every request with 200 and the given body.
func answerOK(body string) func(request) (int, string) {
	return func(request) (int, string) { return http.StatusOK, body }
}

func (f *fakeSynapse) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.got...)
}
