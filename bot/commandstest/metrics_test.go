package commandstest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"

	"github.com/gavel-bot/gavel/bot"
	"github.com/gavel-bot/gavel/internal/testkit/bottest"
	"github.com/gavel-bot/gavel/internal/testkit/faultproxy"
	"github.com/gavel-bot/gavel/internal/testkit/metricstest"
	"github.com/gavel-bot/gavel/metrics"
)

// readyz returns /readyz's status and its reason ("" when ready).
func readyz(t *testing.T, base string) (int, string) {
	t.Helper()
	resp, err := http.Get(base + "/readyz")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var got struct {
		Ready  bool   `json:"ready"`
		Reason string `json:"reason"`
	}
	require.NoError(t, json.Unmarshal(body, &got), "%s", body)
	assert.Equal(t, resp.StatusCode == http.StatusOK, got.Ready, "%s", body)
	return resp.StatusCode, got.Reason
}

// waitReady waits until /readyz answers want, and returns its reason.
func waitReady(t *testing.T, base string, want int) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, reason := readyz(t, base)
		if code == want {
			return reason
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for /readyz to answer %d; it answers %d %q", want, code, reason)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMetricsAndReadiness runs Gavel with metrics.listen, files an event
// and a user report, claims one, and scrapes: reports by kind, cards,
// the command and its action, polls, the claim's wait are counted, no
// label holds an id or a token; /readyz is 200, then 503 with the reason
// while the admin API fails (and the errors are counted by route and
// errcode) and while the bot is out of the management room.
func TestMetricsAndReadiness(t *testing.T) {
	e := newEnv(t, nil)
	proxy := e.ViaProxy()
	gavel := e.Start()
	// As main serves them.
	ready := bot.Current(func() *bot.Bot { return gavel.Bot }).Readiness(e.Cfg.Reports.PollInterval, gavel.Store, nil)
	srv, err := metrics.Listen("127.0.0.1:0", gavel.Bot.Metrics(), ready)
	require.NoError(t, err)
	ctx, stop := context.WithCancel(bg)
	defer stop()
	go func() { _ = srv.Serve(ctx) }()
	base := "http://" + srv.Addr().String()
	waitReady(t, base, http.StatusOK)

	spam := e.Spam("buy now")
	e.Report(spam, "spam")
	reportID := e.ReportID(spam)
	require.NoError(t, e.Srv.FileUserReport(bg, e.Reporter, e.Spammer.UserID, "spammer"))
	e.WaitNotices(1)
	e.WaitUserCards(1)
	reply := e.Command(e.Mod, "!report claim "+bottest.Itoa(reportID))
	require.Contains(t, reply.Body, "Claimed by")
	e.Command(e.Mod, "!status")

	var s metricstest.Scrape
	require.Eventually(t, func() bool {
		s = metricstest.Get(t, base+"/metrics")
		n, _ := s.Value("gavel_messages_posted_total", "type", "reply")
		return n >= 2
	}, 10*time.Second, 50*time.Millisecond, "the replies are counted once posted")
	atLeast := func(min float64, name string, labels ...string) {
		t.Helper()
		got, ok := s.Value(name, labels...)
		assert.True(t, ok && got >= min, "%s%v = %v, want at least %v:\n%s", name, labels, got, min, s.Lines("gavel_"))
	}
	exactly := func(want float64, name string, labels ...string) {
		t.Helper()
		got, _ := s.Value(name, labels...)
		assert.Equal(t, want, got, "%s%v:\n%s", name, labels, s.Lines("gavel_"))
	}
	// The shared server holds other tests' open reports too: at least ours.
	atLeast(1, "gavel_reports_seen_total", "kind", "event")
	atLeast(1, "gavel_reports_seen_total", "kind", "user")
	atLeast(2, "gavel_messages_posted_total", "type", "card")
	atLeast(1, "gavel_messages_posted_total", "type", "card_edit") // the claim
	atLeast(1, "gavel_poll_duration_seconds", "outcome", "ok")
	exactly(1, "gavel_commands_total", "command", "report claim", "outcome", "ok")
	exactly(1, "gavel_commands_total", "command", "status", "outcome", "ok")
	exactly(1, "gavel_actions_total", "action", "report claim", "outcome", "ok")
	exactly(0, "gavel_actions_total", "action", "status") // read-only: no action
	exactly(1, "gavel_case_time_to_claim_seconds", "kind", "event")
	exactly(1, "gavel_active")
	exactly(1, "gavel_database_up")
	exactly(1, "gavel_build_info", "version", "test")
	atLeast(0, "gavel_outbox_depth")
	atLeast(0, "gavel_confirmations_pending")
	atLeast(float64(time.Now().Add(-time.Minute).Unix()), "gavel_last_successful_poll_timestamp_seconds")
	atLeast(1, "go_goroutines")

	// The admin API fails: polls fail, the errors are counted by route
	// and errcode, and after 5 × poll_interval Gavel is not ready.
	proxy.SetRule(func(r *http.Request) faultproxy.Fault {
		if faultproxy.IsAdmin(r) {
			return faultproxy.Status(http.StatusInternalServerError, "M_UNKNOWN")
		}
		return nil
	})
	reason := waitReady(t, base, http.StatusServiceUnavailable)
	assert.Regexp(t, `^the last successful poll was [0-9.]+m?s ago \(poll_interval 200ms\)$`, reason)
	// A command's request fails too: its route has a user id in it.
	e.Command(e.Mod, "!user "+string(e.Spammer.UserID))
	s = metricstest.Get(t, base+"/metrics")
	// A failed poll looked the next report up, or listed the newest (when
	// the fault came at a listing poll's turn).
	lookups, _ := s.Value("gavel_admin_api_errors_total", "endpoint", "GET /_synapse/admin/v1/event_reports/{report_id}", "errcode", "M_UNKNOWN")
	listings, _ := s.Value("gavel_admin_api_errors_total", "endpoint", "GET /_synapse/admin/v1/event_reports", "errcode", "M_UNKNOWN")
	assert.GreaterOrEqual(t, lookups+listings, 1.0, "the feed's failed requests, by route:\n%s", s.Lines("gavel_admin_api_errors_total"))
	atLeast(1, "gavel_admin_api_errors_total", "endpoint", "GET /_synapse/admin/v2/users/{user_id}", "errcode", "M_UNKNOWN")
	exactly(0, "gavel_admin_api_errors_total", "errcode", "M_NOT_FOUND") // the feed's probes for the next id
	atLeast(1, "gavel_poll_duration_seconds", "outcome", "error")
	atLeast(1, "gavel_commands_total", "command", "user") // it shows what it could read
	proxy.SetRule(nil)
	waitReady(t, base, http.StatusOK)

	// Out of the management room: not ready until invited back.
	_, err = e.Mod.KickUser(bg, e.Room, &mautrix.ReqKickUser{UserID: e.BotCli.UserID, Reason: "testing /readyz"})
	require.NoError(t, err)
	reason = waitReady(t, base, http.StatusServiceUnavailable)
	assert.Equal(t, "the bot is not in the management room: invite it back", reason)
	_, err = e.Mod.InviteUser(bg, e.Room, &mautrix.ReqInviteUser{UserID: e.BotCli.UserID})
	require.NoError(t, err)
	waitReady(t, base, http.StatusOK)

	// After all that traffic, no label holds an id or a token.
	s = metricstest.Get(t, base+"/metrics")
	assert.Empty(t, s.Leaks(e.Cfg.Matrix.AccessToken, e.Cfg.AdminToken(), e.BotPassword, e.ModPassword, e.Mod.AccessToken, e.Reporter.AccessToken), "labels that could identify someone")
	for _, id := range []string{string(e.Room), string(e.Public), string(spam), string(e.Spammer.UserID), string(e.Reporter.UserID)} {
		assert.NotContains(t, s.Text, id)
	}
	t.Logf("An excerpt of /metrics:\n%s", s.Lines("gavel_"))

	require.NoError(t, gavel.Stop())
	fams, err := gavel.Bot.Metrics().Registry().Gather()
	require.NoError(t, err)
	for _, f := range fams {
		if f.GetName() == "gavel_active" {
			assert.Zero(t, f.Metric[0].GetGauge().GetValue(), "not active once stopped")
		}
	}
}
