package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Readiness is what /readyz checks. A nil function is not checked.
type Readiness struct {
	// PollInterval is reports.poll_interval: the last successful poll
	// must be at most readyPolls of them ago.
	PollInterval time.Duration
	// LastPoll returns when the feed last polled successfully (zero before
	// the first time).
	LastPoll func() time.Time
	// Started returns when Gavel started (as the active instance): before
	// the first successful poll, the reason says how long it has been.
	Started func() time.Time
	// Standby, when set, returns why this instance does not act (another
	// is the active one), or "" while it is the active one. A standby is
	// not ready, whatever the other checks say.
	Standby func() string
	// Ping checks that Gavel's database answers.
	Ping func(ctx context.Context) error
	// Joined reports whether the bot is in the management room.
	Joined func() bool
	// DesksLeft names the community desks whose room the bot is not in
	// (their cards wait in the outbox).
	DesksLeft func() []string
}

// readyPolls is how many poll intervals may pass without a successful poll
// before Gavel is not ready.
const readyPolls = 5

// pingTimeout bounds the database check of /readyz.
const pingTimeout = time.Second

// Check returns why Gavel is not ready at now, one sentence per problem
// joined with "; ", or "" when it is.
func (r *Readiness) Check(ctx context.Context, now time.Time) string {
	if r.Standby != nil {
		if why := r.Standby(); why != "" {
			return why
		}
	}
	var why []string
	if r.LastPoll != nil {
		last, limit := r.LastPoll(), readyPolls*r.PollInterval
		var started time.Time
		if r.Started != nil {
			started = r.Started()
		}
		switch {
		case last.IsZero() && started.IsZero():
			why = append(why, "no poll of the reports has succeeded yet")
		case last.IsZero():
			why = append(why, fmt.Sprintf("no poll of the reports has succeeded since Gavel started %s ago (poll_interval %s)", ago(now.Sub(started)), r.PollInterval))
		case now.Sub(last) > limit:
			why = append(why, fmt.Sprintf("the last successful poll was %s ago (poll_interval %s)", ago(now.Sub(last)), r.PollInterval))
		}
	}
	if r.Ping != nil {
		ctx, cancel := context.WithTimeout(ctx, pingTimeout)
		err := r.Ping(ctx)
		cancel()
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			why = append(why, fmt.Sprintf("the database did not answer within %s", pingTimeout))
		case err != nil:
			why = append(why, "the database did not answer: "+oneLine(err.Error()))
		}
	}
	if r.Joined != nil && !r.Joined() {
		why = append(why, "the bot is not in the management room: invite it back")
	}
	if r.DesksLeft != nil {
		for _, d := range r.DesksLeft() {
			why = append(why, "the bot is not in the room of desk "+d+": its cards wait in the outbox; invite it back")
		}
	}
	return strings.Join(why, "; ")
}

// ago rounds d for a reason: 3m0s reads "3m", 1.234s "1s".
func ago(d time.Duration) string {
	switch {
	case d >= time.Minute:
		d = d.Round(time.Second)
	case d >= time.Second:
		d = d.Round(100 * time.Millisecond)
	default:
		d = d.Round(time.Millisecond)
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// oneLine keeps a reason to one line of bounded length.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 300 {
		s = string(r[:300]) + "…"
	}
	return s
}

// Handler serves /metrics from m, /healthz, and /readyz from ready.
func Handler(m *Metrics, ready *Readiness) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		// One collector failing leaves the others' metrics in the answer.
		ErrorHandling: promhttp.ContinueOnError,
		Timeout:       scrapeTimeout + 3*time.Second,
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		// Answering is all there is to it: the process is alive.
		writeJSON(w, http.StatusOK, map[string]any{"alive": true})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if why := ready.Check(r.Context(), time.Now()); why != "" {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"ready": false, "reason": why})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"ready": true})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, body map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body) // one line, ending in a newline
}

// Server serves the metrics and health endpoints.
type Server struct {
	ln  net.Listener
	srv *http.Server
}

// Listen starts listening on addr (metrics.listen); Serve answers. A busy
// or bad address is an error that names it.
func Listen(addr string, m *Metrics, ready *Readiness) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics.listen: cannot listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           Handler(m, ready),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       5 * time.Second,
		WriteTimeout:      scrapeTimeout + 10*time.Second,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    8 << 10,
	}
	return &Server{ln: ln, srv: srv}, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve answers until ctx ends, then stops listening.
func (s *Server) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = s.srv.Shutdown(shutdown)
	})
	defer stop()
	err := s.srv.Serve(s.ln)
	if errors.Is(err, http.ErrServerClosed) {
		return ctx.Err()
	}
	return err
}
