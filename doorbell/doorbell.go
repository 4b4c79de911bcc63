// Package doorbell is the HTTP endpoint a reverse proxy rings when someone
// files a report (reports.doorbell_listen): any POST to /doorbell makes
// the feed poll at once. A ring says only "look now": its request is not
// read, so nothing in it can be trusted or misused, and a ring that never
// comes loses nothing, since the feed keeps polling.
//
// Of Gavel's packages it may import: none.
package doorbell

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Path is where the doorbell answers.
const Path = "/doorbell"

// Doorbell is a listening doorbell.
type Doorbell struct {
	ln  net.Listener
	srv *http.Server
}

// Listen starts listening on addr; Serve answers. A busy or bad address
// is an error that names it.
func Listen(addr string, ring func()) (*Doorbell, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("reports.doorbell_listen: cannot listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+Path, func(w http.ResponseWriter, r *http.Request) {
		ring()
		w.WriteHeader(http.StatusNoContent)
	})
	srv := &http.Server{
		Handler: mux,
		// A ring is a few hundred bytes; anything slow or large is not one.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       5 * time.Second,
		WriteTimeout:      5 * time.Second,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    8 << 10,
	}
	return &Doorbell{ln: ln, srv: srv}, nil
}

// Addr is the address the doorbell listens on.
func (d *Doorbell) Addr() net.Addr { return d.ln.Addr() }

// Serve answers rings until ctx ends, then stops listening.
func (d *Doorbell) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = d.srv.Shutdown(shutdown)
	})
	defer stop()
	err := d.srv.Serve(d.ln)
	if errors.Is(err, http.ErrServerClosed) {
		return ctx.Err()
	}
	return err
}
