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

	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/internal/synapsetest"
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
		require.NoError(t, f.Store.Set(bg, store.KVInitialized, config.FirstStartPost))
		// The usual poll stops reading after a batch and hands over to a
		// full scan, which reads the rest a page at a time.
		found, backlog, err := f.eventReports().newReports(bg)
		require.NoError(t, err)
		assert.LessOrEqual(t, len(found), batch+f.PageSize-1, "one look holds at most a batch (plus the rest of its page)")
		assert.True(t, backlog)
		require.NoError(t, f.poll(bg, false))
		counts, err := f.Store.CountReports(bg)
		require.NoError(t, err)
		assert.Equal(t, map[string]int{store.ReportNotice: filed}, counts, "every report got a notice")
		cards := func() (n int) {
			unsent, err := f.Store.Unsent(bg, 10000)
			require.NoError(t, err)
			for _, m := range unsent {
				if _, ok := m.Key.Report(); ok {
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
		counts, err := f.Store.CountReports(bg)
		require.NoError(t, err)
		assert.Equal(t, filed, counts[store.ReportSkipped])
		msg, err := f.Store.Message(bg, store.FirstStartSummaryKey(store.KindEvent))
		require.NoError(t, err)
		assert.Contains(t, string(msg.Content), fmt.Sprintf("%d reports were already open", filed))
		found, _, err := f.eventReports().newReports(bg)
		require.NoError(t, err)
		assert.Empty(t, found, "none is left to post")
	})
}
