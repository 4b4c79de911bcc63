package misusetest

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gavel-bot/gavel/bot"
	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/internal/testkit/bottest"
	"github.com/gavel-bot/gavel/internal/testkit/faultproxy"
)

// TestOversizedAnswersAreNotRead: an admin API answer larger than
// adminapi.MaxAnswerSize is never read in full. A page of reports that large is
// read again in smaller pages; a reported event that large is left out of
// its notice.
func TestOversizedAnswersAreNotRead(t *testing.T) {
	e := newEnv(t, bottest.NewServer(t))
	p := e.ViaProxy()
	for i := range 6 {
		e.Report(e.Spam("report "+bottest.Itoa(int64(i))), "six")
	}
	huge := e.Spam("a reported event Synapse answers with 64 MiB for")
	e.Report(huge, "huge")
	hugeID := e.ReportID(huge)

	var mostWritten atomic.Int64 // by one answer
	hugeAnswer := hugeAnswer(&mostWritten)
	p.SetRule(func(r *http.Request) faultproxy.Fault {
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		switch {
		case faultproxy.IsReportListing(r) && limit > 2:
			return hugeAnswer
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/event_reports/"+bottest.Itoa(hugeID)):
			return hugeAnswer
		}
		return nil
	})
	gavel := e.Start(func(o *bot.Options) { o.Feed.PageSize = 8 })
	notices := e.WaitNotices(7)
	e.AssertOnePerReport(7)
	var hugeNotice string
	for _, n := range notices {
		if bottest.Field(t, n).ReportID == hugeID {
			hugeNotice = n.Content.AsMessage().Body
		}
	}
	assert.Contains(t, hugeNotice, "The reported event is not shown: Synapse's answer was larger than 16 MiB.")
	t.Logf("the most of a 64 MiB answer written before Gavel hung up: %.1f MiB", float64(mostWritten.Load())/(1<<20))
	assert.Less(t, mostWritten.Load(), int64(40<<20), "Gavel stopped reading long before the end of a 64 MiB answer")

	limits := map[string]bool{}
	for _, r := range p.Requests() {
		if r.Path == "/_synapse/admin/v1/event_reports" {
			limits[r.Query.Get("limit")] = true
		}
	}
	assert.Equal(t, map[string]bool{"8": true, "4": true, "2": true}, limits, "pages of 8, then 4, then 2")
	gavel.StillRunning(t)
}

// hugeAnswer answers with 64 MiB of JSON and no Content-Length, so that the
// client must stop reading by itself; mostWritten keeps the most one answer
// got written before the client hung up.
func hugeAnswer(mostWritten *atomic.Int64) faultproxy.Fault {
	return func(w http.ResponseWriter, r *http.Request) {
		var written int64
		defer func() {
			for old := mostWritten.Load(); written > old && !mostWritten.CompareAndSwap(old, written); old = mostWritten.Load() {
			}
		}()
		w.Header().Set("Content-Type", "application/json")
		chunk := []byte(strings.Repeat(" ", 64<<10))
		_, _ = w.Write([]byte(`{"padding": "`))
		for range 1024 {
			n, err := w.Write(chunk)
			written += int64(n)
			if err != nil {
				return
			}
		}
		_, _ = w.Write([]byte(`"}`))
	}
}

// TestUnreadableReportIsSkipped: a report whose listing alone is larger
// than Gavel reads (a reason of many MiB) is skipped with one alert to the
// moderators; the reports around it are posted, and the feed goes on.
func TestUnreadableReportIsSkipped(t *testing.T) {
	e := newEnv(t, bottest.NewServer(t))
	p := e.ViaProxy()
	events := []string{"oldest", "unreadable", "newest"}
	for _, body := range events {
		e.Report(e.Spam(body), body)
	}
	var written atomic.Int64
	// The middle report is at offset 1 in either direction.
	p.SetRule(func(r *http.Request) faultproxy.Fault {
		from, _ := strconv.Atoi(r.URL.Query().Get("from"))
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		if faultproxy.IsReportListing(r) && from <= 1 && 1 < from+limit {
			return hugeAnswer(&written)
		}
		return nil
	})
	gavel := e.Start(func(o *bot.Options) { o.Feed.PageSize = 4 })
	notices := e.WaitNotices(2)
	var posted []string
	for _, n := range notices {
		posted = append(posted, n.Content.AsMessage().Body)
	}
	assert.Len(t, posted, 2)
	for _, body := range posted {
		assert.NotContains(t, body, "> unreadable")
	}
	// Later reports still come through.
	e.Report(e.Spam("later"), "later")
	e.WaitNotices(3)
	var alerts []string
	for _, evt := range e.BotMessages() {
		if body := evt.Content.AsMessage().Body; strings.HasPrefix(body, "A report is too large for Gavel to read") {
			alerts = append(alerts, body)
		}
	}
	require.Len(t, alerts, 1, "one alert, however often the feed passes the report")
	assert.Contains(t, alerts[0], "Look at it with the admin API: GET /_synapse/admin/v1/event_reports?from=1&limit=1&dir=")
	gavel.StillRunning(t)
}

// TestFloodOfCommands: a hundred commands while Gavel cannot send. Each is
// handled once, its reply waits in the database (not in memory), and all
// are answered once sending works again.
func TestFloodOfCommands(t *testing.T) {
	e := newEnv(t, nil)
	e.Cfg.Reports.OnFirstStart = config.FirstStartSkip
	p := e.ViaProxy()
	gavel := e.Start()
	e.Command(e.Mod, "!help")
	var blocked atomic.Bool
	blocked.Store(true)
	p.SetRule(func(r *http.Request) faultproxy.Fault {
		if faultproxy.IsSend(r) && blocked.Load() {
			return faultproxy.RateLimit(200 * time.Millisecond)
		}
		return nil
	})
	const n = 100
	var sent []string
	for i := range n {
		sent = append(sent, string(e.Say(e.Mod, "!report show "+bottest.Itoa(int64(1_000_000+i)))))
	}
	// All handled and waiting in the outbox before any is sent.
	st := e.OpenStore()
	require.Eventually(t, func() bool {
		unsent, err := st.Outbox.Unsent(bg, 1000)
		require.NoError(t, err)
		return len(unsent) == n
	}, time.Minute, 200*time.Millisecond)
	blocked.Store(false)
	require.Eventually(t, func() bool {
		answered := 0
		for _, evt := range e.BotMessages() {
			if msg := evt.Content.AsMessage(); msg.RelatesTo != nil {
				for _, cmd := range sent {
					if string(msg.RelatesTo.GetReplyTo()) == cmd {
						answered++
					}
				}
			}
		}
		return answered == n
	}, time.Minute, 500*time.Millisecond, "every command answered exactly once")
	gavel.StillRunning(t)
}
