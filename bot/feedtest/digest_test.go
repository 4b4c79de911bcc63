package feedtest

import (
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gavel-bot/gavel/bot"
	"github.com/gavel-bot/gavel/internal/testkit/bottest"
	"github.com/gavel-bot/gavel/internal/testkit/faultproxy"
)

// digestEnv is a homeserver of its own with Gavel stopped after its first
// start, and n reports filed meanwhile: the next start finds them in one
// poll.
func digestEnv(t *testing.T, n int) *env {
	e := newEnv(t, bottest.NewServer(t))
	e.Cfg.Reports.MaxIndividual = 20
	gavel := e.Start()
	e.Command(e.Mod, "!help")
	require.NoError(t, gavel.Stop())
	e.ReportMany(n)
	return e
}

func TestFloodBecomesDigests(t *testing.T) {
	e := digestEnv(t, 120)
	e.Report(e.Spam(`<img src=x onerror=alert(1)> @room https://evil.example`), `<b>reason</b> @room https://evil.example`)
	e.Start()
	e.AssertOnePerReport(121)

	digests := e.Digests()
	require.Len(t, digests, 3, "121 reports: digests of 50, 50 and 21")
	assert.Empty(t, e.Notices(), "no report is posted on its own as well")
	var covered []any
	for i, d := range digests {
		msg := d.Content.AsMessage()
		ids := d.Content.Raw["gavel.reports"].([]any)
		covered = append(covered, ids...)
		assert.Equal(t, map[string]any{}, d.Content.Raw["m.mentions"])
		assert.LessOrEqual(t, len(ids), 50)
		// A restart's first poll reads every page, so the total is known
		// only at the end.
		if i < len(digests)-1 {
			assert.Contains(t, msg.Body, "New reports, digest "+bottest.Itoa(int64(i+1))+" (more follow). Too many to post one by one: `!report <id>` shows one, `!reports` lists the open ones.")
		} else {
			assert.Contains(t, msg.Body, "121 new reports, digest 3 of 3.")
		}
		assert.Contains(t, msg.FormattedBody, "<table><thead><tr><th>id</th><th>reported user</th><th>room</th><th>reason</th></tr></thead><tbody>")
		assert.Equal(t, len(ids), strings.Count(msg.FormattedBody, "<tr><td>"))
		for _, s := range []string{msg.Body, msg.FormattedBody} {
			assert.NotRegexp(t, `(?i)@room`, s)
			assert.NotContains(t, s, "https://evil")
		}
		assert.NotContains(t, msg.FormattedBody, "<b>reason")
		assert.NotContains(t, msg.FormattedBody, "<b>stuff", "the room's name is escaped")
	}
	assert.Len(t, covered, 121)
	last := digests[2].Content.AsMessage()
	assert.Contains(t, last.FormattedBody, "<td>&lt;b&gt;reason&lt;/b&gt; @\u2060room https[:]//evil.example</td>")

	// A few new reports in one poll are posted one by one again.
	for i := range 3 {
		e.Report(e.Spam("calm "+bottest.Itoa(int64(i))), "calm")
	}
	e.AssertOnePerReport(124)
	assert.Len(t, e.Notices(), 3)
}

// TestDigestsWithAKnownTotal: when one of the usual polls (newest pages
// only) finds a flood, every digest says how many reports came in.
func TestDigestsWithAKnownTotal(t *testing.T) {
	e := newEnv(t, bottest.NewServer(t))
	e.Cfg.Reports.MaxIndividual = 20
	p := e.ViaProxy()
	e.Start()
	e.Command(e.Mod, "!help")
	// Hold Gavel's next look at the reports (a listing or a lookup by id)
	// until all 70 are filed, so that one poll finds them all.
	release := make(chan struct{})
	p.SetRule(func(r *http.Request) faultproxy.Fault {
		if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/_synapse/admin/v1/event_reports") {
			<-release
		}
		return nil
	})
	e.ReportMany(70)
	close(release)
	e.AssertOnePerReport(70)
	digests := e.Digests()
	require.Len(t, digests, 2)
	assert.Contains(t, digests[0].Content.AsMessage().Body, "70 new reports, digest 1 of 2.")
	assert.Contains(t, digests[1].Content.AsMessage().Body, "70 new reports, digest 2 of 2.")
}

// TestDigestsSurviveCrashesAndRateLimits: a crash right after a digest was
// sent, and a homeserver that answers sends with 429 for a while.
func TestDigestsSurviveCrashesAndRateLimits(t *testing.T) {
	e := digestEnv(t, 180)
	p := e.ViaProxy()
	var sends, refused atomic.Int32
	p.SetRule(func(r *http.Request) faultproxy.Fault {
		// Every other send of the first six is refused.
		if !faultproxy.IsSend(r) {
			return nil
		}
		if n := sends.Add(1); n%2 == 0 && n <= 6 {
			refused.Add(1)
			return faultproxy.RateLimit(500 * time.Millisecond)
		}
		return nil
	})
	crash := errors.New("simulated crash after a digest was sent")
	var sent atomic.Int32
	gavel := e.Start(func(o *bot.Options) {
		o.AfterSend = func(key string) error {
			if strings.HasPrefix(key, "gavel-digest-") && sent.Add(1) == 2 {
				return crash
			}
			return nil
		}
	})
	select {
	case err := <-gavel.Done:
		require.ErrorIs(t, err, crash)
		gavel.Done <- err
	case <-time.After(time.Minute):
		t.Fatal("Gavel did not reach the crash point")
	}
	require.Len(t, e.Digests(), 2, "the second digest was sent before the crash")
	e.Start()
	e.AssertOnePerReport(180)
	assert.Equal(t, int32(3), refused.Load(), "sends were refused with 429 on the way")
}
