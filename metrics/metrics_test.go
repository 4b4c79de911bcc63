package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gavel-bot/gavel/internal/testkit/metricstest"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, err := io.ReadAll(rec.Result().Body)
	require.NoError(t, err)
	return rec.Code, string(body)
}

// TestMetricsHandler: every metric is there after it happened, with the
// values recorded; the database's are read at scrape time; build info and
// the Go collectors are on the registry.
func TestMetricsHandler(t *testing.T) {
	depth := atomic.Int64{}
	depth.Store(3)
	queued := time.Now().Add(-90 * time.Second)
	lastPoll := time.Unix(1700000000, 500e6)
	m := ForBuild(Build{Version: "1.2.3", Revision: "455a6d7", Date: "2026-12-01"}, Sources{
		Outbox: func(ctx context.Context) (int64, time.Time, error) { return depth.Load(), queued, nil },
		Pending: func(ctx context.Context, now time.Time) (int64, error) {
			return 2, nil
		},
		LastPoll: func() time.Time { return lastPoll },
	})
	m.ReportsSeen("event", 2)
	m.ReportsSeen("user", 1)
	m.ReportsSeen("room", 0)
	m.Posted("card")
	m.Posted("card")
	m.Posted("digest")
	m.Poll(30*time.Millisecond, nil)
	m.Poll(2*time.Second, errors.New("down"))
	m.AdminAPIError("GET /_synapse/admin/v1/event_reports", 0, "")
	m.AdminAPIError("GET /_synapse/admin/v1/event_reports", 502, "")
	m.AdminAPIError("GET /_synapse/admin/v1/event_reports/{report_id}", 404, "M_NOT_FOUND")
	m.AdminAPIError("GET /_synapse/admin/v1/event_reports/{report_id}", 200, "")
	m.Command("report claim", OK)
	m.Command("deactivate", Preview)
	m.Action("report claim", true)
	m.Action("suspend", false)
	m.CaseClaimed("event", 10*time.Minute)
	m.CaseClosed("event", "resolved", 2*time.Hour)
	m.SetActive(true)

	code, body := get(t, Handler(m, &Readiness{}), "/metrics")
	require.Equal(t, http.StatusOK, code)
	s := metricstest.Parse(t, body)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"gavel_reports_seen_total", []string{"kind", "event"}, 2},
		{"gavel_reports_seen_total", []string{"kind", "user"}, 1},
		{"gavel_messages_posted_total", []string{"type", "card"}, 2},
		{"gavel_messages_posted_total", []string{"type", "digest"}, 1},
		{"gavel_poll_duration_seconds", []string{"outcome", "ok"}, 1},
		{"gavel_poll_duration_seconds", []string{"outcome", "error"}, 1},
		{"gavel_admin_api_errors_total", []string{"endpoint", "GET /_synapse/admin/v1/event_reports", "errcode", "network"}, 1},
		{"gavel_admin_api_errors_total", []string{"endpoint", "GET /_synapse/admin/v1/event_reports", "errcode", "502"}, 1},
		{"gavel_admin_api_errors_total", []string{"endpoint", "GET /_synapse/admin/v1/event_reports/{report_id}", "errcode", "M_NOT_FOUND"}, 1},
		{"gavel_admin_api_errors_total", []string{"errcode", "unreadable"}, 1},
		{"gavel_commands_total", []string{"command", "report claim", "outcome", "ok"}, 1},
		{"gavel_commands_total", []string{"command", "deactivate", "outcome", "preview"}, 1},
		{"gavel_actions_total", []string{"action", "suspend", "outcome", "failed"}, 1},
		{"gavel_case_time_to_claim_seconds", []string{"kind", "event"}, 1},
		{"gavel_case_time_to_resolve_seconds", []string{"kind", "event", "outcome", "resolved"}, 1},
		{"gavel_active", nil, 1},
		{"gavel_build_info", []string{"version", "1.2.3", "revision", "455a6d7", "build_date", "2026-12-01"}, 1},
		{"gavel_outbox_depth", nil, 3},
		{"gavel_confirmations_pending", nil, 2},
		{"gavel_database_up", nil, 1},
		{"gavel_last_successful_poll_timestamp_seconds", nil, 1700000000.5},
	} {
		got, ok := s.Value(c.name, c.labels...)
		assert.True(t, ok, "%s%v is missing:\n%s", c.name, c.labels, s.Lines("gavel_"))
		assert.Equal(t, c.want, got, "%s%v", c.name, c.labels)
	}
	_, ok := s.Value("gavel_reports_seen_total", "kind", "room")
	assert.False(t, ok, "adding no report makes no series")
	age, _ := s.Value("gavel_outbox_oldest_age_seconds")
	assert.InDelta(t, 90, age, 5, "the oldest message's age, at scrape time")
	claim := s.Families["gavel_case_time_to_claim_seconds"].Metric[0].Histogram
	assert.InDelta(t, 600, claim.GetSampleSum(), 0.001)
	_, ok = s.Value("go_goroutines")
	assert.True(t, ok, "the Go collector is registered")
	_, ok = s.Value("gavel_build_info", "go_version", "")
	assert.False(t, ok, "go_version is set")
	assert.Empty(t, s.Leaks(), "the build's labels name no one")

	// Read again at the next scrape.
	depth.Store(0)
	m.SetActive(false)
	_, body = get(t, Handler(m, &Readiness{}), "/metrics")
	s = metricstest.Parse(t, body)
	got, _ := s.Value("gavel_outbox_depth")
	assert.Zero(t, got)
	got, _ = s.Value("gavel_outbox_oldest_age_seconds")
	assert.Zero(t, got, "no message waits: no age")
	got, _ = s.Value("gavel_active")
	assert.Zero(t, got)
}

// TestDatabaseDownAtScrape: when the database does not answer, the scrape
// still works, says gavel_database_up 0 and leaves the outbox out rather
// than showing a stale or zero depth.
func TestDatabaseDownAtScrape(t *testing.T) {
	m := New("dev", Sources{
		Outbox: func(ctx context.Context) (int64, time.Time, error) {
			<-ctx.Done() // hangs until the scrape's timeout
			return 0, time.Time{}, ctx.Err()
		},
		Pending: func(ctx context.Context, now time.Time) (int64, error) { return 0, errors.New("database is locked") },
	})
	started := time.Now()
	code, body := get(t, Handler(m, &Readiness{}), "/metrics")
	require.Equal(t, http.StatusOK, code)
	assert.Less(t, time.Since(started), scrapeTimeout+time.Second, "the scrape's database reads are bounded")
	s := metricstest.Parse(t, body)
	up, ok := s.Value("gavel_database_up")
	assert.True(t, ok)
	assert.Zero(t, up)
	_, ok = s.Value("gavel_outbox_depth")
	assert.False(t, ok)
	_, ok = s.Value("gavel_confirmations_pending")
	assert.False(t, ok)
}

// TestNilMetrics: a nil *Metrics takes every call and does nothing.
func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.ReportsSeen("event", 1)
	m.Posted("card")
	m.Poll(time.Second, nil)
	m.AdminAPIError("GET other", 500, "")
	m.Command("help", OK)
	m.Action("suspend", true)
	m.CaseClaimed("event", time.Second)
	m.CaseClosed("event", "resolved", time.Second)
	m.SetActive(true)
}

// TestLabelHygiene: what callers pass that is not a fixed value (Synapse's
// errcode) cannot put an id or arbitrary text into a label; the scrape
// holds no label that looks like a Matrix id.
func TestLabelHygiene(t *testing.T) {
	m := New("dev", Sources{})
	m.AdminAPIError("GET /_synapse/admin/v1/users/{user_id}/admin", 403, "M_FORBIDDEN")
	m.AdminAPIError("GET /_synapse/admin/v1/users/{user_id}/admin", 400, "@spam:example.org is not local")
	m.AdminAPIError("GET /_synapse/admin/v1/users/{user_id}/admin", 400, "m_lowercase")
	_, body := get(t, Handler(m, &Readiness{}), "/metrics")
	s := metricstest.Parse(t, body)
	got, _ := s.Value("gavel_admin_api_errors_total", "errcode", "other")
	assert.Equal(t, 2.0, got, "an errcode not shaped like Matrix's is other:\n%s", s.Lines("gavel_admin"))
	assert.Empty(t, s.Leaks("secret-token"))

	// The check itself finds what it should.
	leaky := metricstest.Parse(t, "# TYPE x counter\n"+
		`x{a="@spam:example.org"} 1`+"\n"+`x{a="!room:matrix.org"} 1`+"\n"+`x{a="$event"} 1`+"\n"+
		`x{a="user:localhost:8008"} 1`+"\n"+`x{a="syt_secret-token_x"} 1`+"\n"+`x{a="GET /_synapse/admin/v1/event_reports"} 1`+"\n")
	assert.Len(t, leaky.Leaks("secret-token"), 5, "every leak but the endpoint: %v", leaky.Leaks("secret-token"))
}

// TestHealthAndReadiness: /healthz answers while the process runs;
// /readyz is 200 {"ready":true} only when the last successful poll is
// recent, the database answers and the bot is in the room, else 503 with
// one line of JSON that says why.
func TestHealthAndReadiness(t *testing.T) {
	var lastPoll atomic.Int64
	var pingErr atomic.Pointer[error]
	var joined atomic.Bool
	var standby atomic.Pointer[string]
	joined.Store(true)
	lastPoll.Store(time.Now().UnixNano())
	started := time.Now().Add(-time.Minute)
	active := ""
	standby.Store(&active)
	noErr := error(nil)
	pingErr.Store(&noErr)
	ready := &Readiness{
		PollInterval: 30 * time.Second,
		Started:      func() time.Time { return started },
		LastPoll: func() time.Time {
			if n := lastPoll.Load(); n != 0 {
				return time.Unix(0, n)
			}
			return time.Time{}
		},
		Ping:    func(ctx context.Context) error { return *pingErr.Load() },
		Joined:  joined.Load,
		Standby: func() string { return *standby.Load() },
	}
	h := Handler(New("dev", Sources{}), ready)

	code, body := get(t, h, "/healthz")
	assert.Equal(t, http.StatusOK, code)
	assert.JSONEq(t, `{"alive":true}`, body)

	code, body = get(t, h, "/readyz")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "{\"ready\":true}\n", body)

	notReady := func(want string) {
		t.Helper()
		code, body := get(t, h, "/readyz")
		assert.Equal(t, http.StatusServiceUnavailable, code, body)
		assert.Equal(t, 1, strings.Count(body, "\n"), "one line: %q", body)
		var got struct {
			Ready  *bool
			Reason string
		}
		require.NoError(t, json.Unmarshal([]byte(body), &got))
		require.NotNil(t, got.Ready)
		assert.False(t, *got.Ready)
		assert.Equal(t, want, got.Reason)
	}

	lastPoll.Store(time.Now().Add(-149 * time.Second).UnixNano())
	code, _ = get(t, h, "/readyz")
	assert.Equal(t, http.StatusOK, code, "within 5 × poll_interval")
	lastPoll.Store(time.Now().Add(-3 * time.Minute).UnixNano())
	notReady("the last successful poll was 3m ago (poll_interval 30s)")
	lastPoll.Store(0)
	notReady("no poll of the reports has succeeded since Gavel started 1m ago (poll_interval 30s)")
	lastPoll.Store(time.Now().UnixNano())

	down := error(errors.New("dial tcp 127.0.0.1:5432: connect: connection refused\n(more)"))
	pingErr.Store(&down)
	notReady("the database did not answer: dial tcp 127.0.0.1:5432: connect: connection refused (more)")
	pingErr.Store(&noErr)

	joined.Store(false)
	notReady("the bot is not in the management room: invite it back")
	pingErr.Store(&down)
	lastPoll.Store(time.Now().Add(-time.Hour).UnixNano())
	notReady("the last successful poll was 1h ago (poll_interval 30s); the database did not answer: dial tcp 127.0.0.1:5432: connect: connection refused (more); the bot is not in the management room: invite it back")

	// A standby is not ready, and says which instance is.
	waiting := "standing by: gavel-b pid 97 is the active instance"
	standby.Store(&waiting)
	notReady(waiting)

	code, _ = get(t, h, "/nothing")
	assert.Equal(t, http.StatusNotFound, code)
}

// TestReadinessPingTimeout: a database that hangs is not ready after
// pingTimeout, not when the prober gives up.
func TestReadinessPingTimeout(t *testing.T) {
	r := &Readiness{Ping: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }}
	started := time.Now()
	assert.Equal(t, "the database did not answer within 1s", r.Check(context.Background(), time.Now()))
	assert.Less(t, time.Since(started), 2*pingTimeout)
}

// TestServer: Listen names the key of a busy address; Serve answers and
// ends with its context.
func TestServer(t *testing.T) {
	s, err := Listen("127.0.0.1:0", New("dev", Sources{}), &Readiness{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	s1 := metricstest.Get(t, "http://"+s.Addr().String()+"/metrics")
	_, ok := s1.Value("gavel_build_info")
	assert.True(t, ok)

	_, err = Listen(s.Addr().String(), nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "metrics.listen: cannot listen on "+s.Addr().String())

	cancel()
	select {
	case err := <-served:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not end with its context")
	}
}
