package feed

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/internal/testkit/faultproxy"
	"github.com/gavel-bot/gavel/internal/testkit/synapsetest"
	"github.com/gavel-bot/gavel/store"
)

func TestMain(m *testing.M) { synapsetest.Main(m) }

var bg = context.Background()

// newFeed is a Feed on a fresh SQLite store whose loop does not run, so
// that a test can drive it step by step.
func newFeed(t *testing.T, w *synapsetest.World, reports config.Reports, opts Options) *Feed {
	t.Helper()
	st, err := store.Open(bg, filepath.Join(t.TempDir(), "gavel.db"), zerolog.Nop())
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return New(Config{Admin: w.Admin, Store: st, Room: w.ManagementRoom, Prefix: "!", Reports: reports,
		Log: zerolog.Nop(), Notify: func() {}, Options: opts})
}

// TestManyReportsInOnePollAreTakenInBatches: a poll takes on at most
// MaxNewPerPoll new reports; the next poll takes the rest. Together they
// cover every report once.
func TestManyReportsInOnePollAreTakenInBatches(t *testing.T) {
	srv := synapsetest.New(t, synapsetest.Options{})
	w, err := srv.NewWorld(bg, synapsetest.WorldOptions{Unique: true})
	require.NoError(t, err)
	const filed, batch = 30, 7
	for i := range filed {
		evt, err := w.Spam(bg, fmt.Sprintf("flood %d", i))
		require.NoError(t, err)
		require.NoError(t, w.Report(bg, evt, "flood"))
	}
	reports := config.Reports{PollInterval: time.Second, OnFirstStart: config.FirstStartPost, MaxIndividual: 1000}
	opts := Options{PageSize: 5, MaxNewPerPoll: batch}

	t.Run("posting", func(t *testing.T) {
		f := newFeed(t, w, reports, opts)
		require.NoError(t, f.Store.KV.Set(bg, store.KVInitialized, config.FirstStartPost))
		// The usual poll stops reading after a batch and hands over to a
		// full scan, which reads the rest a page at a time.
		found, backlog, err := f.eventReports().newReports(bg)
		require.NoError(t, err)
		assert.LessOrEqual(t, len(found), batch+f.PageSize-1, "one look holds at most a batch (plus the rest of its page)")
		assert.True(t, backlog)
		require.NoError(t, f.poll(bg, false))
		counts, err := f.Store.Reports.CountByState(bg)
		require.NoError(t, err)
		assert.Equal(t, map[string]int{store.ReportNotice: filed}, counts, "every report got a notice")
		cards := func() (n int) {
			unsent, err := f.Store.Outbox.Unsent(bg, 10000)
			require.NoError(t, err)
			for _, m := range unsent {
				if m.Report != (store.ReportKey{}) {
					n++
				}
			}
			return n
		}
		assert.Equal(t, filed, cards(), "one notice each")
		require.NoError(t, f.poll(bg, false))
		assert.Equal(t, filed, cards(), "a second poll adds nothing")
	})

	t.Run("first start skips them all", func(t *testing.T) {
		reports := reports
		reports.OnFirstStart = config.FirstStartSkip
		f := newFeed(t, w, reports, opts)
		require.NoError(t, f.eventReports().firstStart(bg))
		counts, err := f.Store.Reports.CountByState(bg)
		require.NoError(t, err)
		assert.Equal(t, filed, counts[store.ReportSkipped])
		msg, err := f.Store.Outbox.Get(bg, store.FirstStartSummaryKey(store.KindEvent))
		require.NoError(t, err)
		assert.Contains(t, string(msg.Content), fmt.Sprintf("%d reports were already open", filed))
		found, _, err := f.eventReports().newReports(bg)
		require.NoError(t, err)
		assert.Empty(t, found, "none is left to post")
	})
}

// probeEnv is a feed on a Synapse of its own behind a recording proxy,
// which has seen one report: the next polls probe.
func probeEnv(t *testing.T) (*Feed, *synapsetest.World, *faultproxy.Proxy) {
	t.Helper()
	srv := synapsetest.New(t, synapsetest.Options{})
	w, err := srv.NewWorld(bg, synapsetest.WorldOptions{Unique: true})
	require.NoError(t, err)
	proxy, err := faultproxy.New(srv.URL)
	require.NoError(t, err)
	t.Cleanup(proxy.Close)
	admin, err := adminapi.New(proxy.URL, w.Bot.AccessToken)
	require.NoError(t, err)
	reports := config.Reports{PollInterval: time.Second, OnFirstStart: config.FirstStartPost, MaxIndividual: 1000}
	f := newFeed(t, w, reports, Options{})
	f.Admin = admin
	f.kinds = []poller{f.eventReports()}
	file(t, w, "first")
	require.NoError(t, f.poll(bg, true))
	require.True(t, f.kinds[0].(*kindFeed[adminapi.EventReport]).probing(), "a report seen: the polls probe")
	return f, w, proxy
}

// file files a report about a new spam message and returns its id.
func file(t *testing.T, w *synapsetest.World, body string) int64 {
	t.Helper()
	evt, err := w.Spam(bg, body)
	require.NoError(t, err)
	require.NoError(t, w.Report(bg, evt, body))
	id, err := w.ReportID(bg, evt)
	require.NoError(t, err)
	return id
}

// seen returns the ids of the event reports the feed recorded.
func seen(t *testing.T, f *Feed, ids ...int64) []int64 {
	t.Helper()
	var out []int64
	for _, id := range ids {
		r, err := f.Store.Reports.Seen(bg, store.KindEvent, id)
		require.NoError(t, err)
		if r != nil {
			out = append(out, id)
		}
	}
	return out
}

// listings counts the report listings among the requests since mark.
func listings(p *faultproxy.Proxy, mark int) (n int) {
	for _, r := range p.Since(mark) {
		if r.Path == "/_synapse/admin/v1/event_reports" {
			n++
		}
	}
	return n
}

// TestProbingFindsReportsFiledBetweenPolls: two reports filed between two
// polls are both found by looking them up by id, without a listing.
func TestProbingFindsReportsFiledBetweenPolls(t *testing.T) {
	f, w, proxy := probeEnv(t)
	a, b := file(t, w, "a"), file(t, w, "b")
	mark := proxy.Mark()
	require.NoError(t, f.poll(bg, false))
	assert.Equal(t, []int64{a, b}, seen(t, f, a, b))
	assert.Zero(t, listings(proxy, mark), "no listing: the usual poll probes")
	for _, id := range []int64{a, b} {
		n := 0
		for _, r := range proxy.Since(mark) {
			if r.Path == fmt.Sprintf("/_synapse/admin/v1/event_reports/%d", id) {
				n++
			}
		}
		assert.Equal(t, 1, n, "report %d is looked up once: its card uses what the lookup found", id)
	}
	mark = proxy.Mark()
	require.NoError(t, f.poll(bg, false))
	assert.Len(t, proxy.Since(mark), 1, "an idle poll is one lookup")
}

// TestProbingStepsOverAGap: reports deleted before Gavel read them leave a
// gap in the ids; the reports after it are found within lookaheadEvery
// polls, still without a listing.
func TestProbingStepsOverAGap(t *testing.T) {
	f, w, proxy := probeEnv(t)
	gone1, gone2 := file(t, w, "deleted before it was read"), file(t, w, "this one too")
	after := file(t, w, "after the gap")
	require.NoError(t, f.Admin.DeleteEventReport(bg, gone1))
	require.NoError(t, f.Admin.DeleteEventReport(bg, gone2))
	mark := proxy.Mark()
	for range lookaheadEvery {
		require.NoError(t, f.poll(bg, false))
	}
	assert.Equal(t, []int64{after}, seen(t, f, gone1, gone2, after))
	assert.Zero(t, listings(proxy, mark))
}

// TestProbingAfterTheNewestWasDeleted: when the newest report is deleted
// and a full scan shows it, a later report with the next id is still found
// (the lookups go on from the highest id seen), and so is one with the
// deleted id again, as a restarted Synapse hands it out.
func TestProbingAfterTheNewestWasDeleted(t *testing.T) {
	f, w, _ := probeEnv(t)
	newest := file(t, w, "newest")
	require.NoError(t, f.poll(bg, false))
	require.NoError(t, f.Admin.DeleteEventReport(bg, newest))
	require.NoError(t, f.poll(bg, true)) // sees that it is gone
	next := file(t, w, "next")
	assert.Equal(t, newest+1, next, "no restart: Synapse goes on")
	require.NoError(t, f.poll(bg, false))
	assert.Equal(t, []int64{next}, seen(t, f, next))

	// Synapse restarts: it hands out the ids after the highest it has.
	require.NoError(t, f.Admin.DeleteEventReport(bg, next))
	require.NoError(t, f.poll(bg, true))
	require.NoError(t, w.Server.Restart(bg))
	reused := file(t, w, "reused")
	assert.Less(t, reused, next, "Synapse reused an id")
	for range lookaheadEvery {
		require.NoError(t, f.poll(bg, false))
	}
	r, err := f.Store.Reports.Seen(bg, store.KindEvent, reused)
	require.NoError(t, err)
	require.NotNil(t, r)
	detail, err := f.Admin.EventReport(bg, reused)
	require.NoError(t, err)
	assert.Equal(t, detail.ReceivedTS, r.ReceivedTS, "the new report with the reused id was recorded")
}

// TestListingCrossesALongGap: more reports deleted before Gavel saw them
// than the lookups step over; the next poll that lists the newest reports
// finds the one after them.
func TestListingCrossesALongGap(t *testing.T) {
	f, w, proxy := probeEnv(t)
	var gone []int64
	for i := range lookahead + 3 {
		gone = append(gone, file(t, w, "deleted "+fmt.Sprint(i)))
	}
	after := file(t, w, "after the long gap")
	for _, id := range gone {
		require.NoError(t, f.Admin.DeleteEventReport(bg, id))
	}
	for range lookaheadEvery {
		require.NoError(t, f.poll(bg, false))
	}
	assert.Empty(t, seen(t, f, after), "too far for the lookups")
	f.kinds[0].(*kindFeed[adminapi.EventReport]).nextList = time.Time{} // a listing is due
	mark := proxy.Mark()
	require.NoError(t, f.poll(bg, false))
	assert.Equal(t, []int64{after}, seen(t, f, after))
	assert.Equal(t, 1, listings(proxy, mark))
	assert.True(t, f.kinds[0].(*kindFeed[adminapi.EventReport]).probing(), "and the polls after it look up by id again")
}
