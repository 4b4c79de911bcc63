package stats

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/mxid"
	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/store"
)

var ctx = context.Background()

func openStore(t testing.TB) *store.Store {
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "gavel.db"), zerolog.Nop())
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

// now is the end of the window of the tests.
var now = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

// report is a report the tests add, received ago before now.
func report(kind mxid.ReportKind, n int64, ago time.Duration) store.Report {
	return store.Report{ReportKey: store.ReportKey{Kind: kind, ID: n, ReceivedTS: now.Add(-ago).UnixMilli()}, RoomID: "!r:x", EventID: "$e"}
}

func change(t *testing.T, st *store.Store, r store.Report, state store.CaseState, by id.UserID, after time.Duration) {
	c := store.Case{Report: r.ReportKey, State: state, By: by, At: time.UnixMilli(r.ReceivedTS).Add(after)}
	changed, err := st.Cases.Change(ctx, &c, func(int) []store.Message { return nil })
	require.NoError(t, err)
	require.True(t, changed)
}

func act(t *testing.T, st *store.Store, name string, by id.UserID, r store.Report, after time.Duration, ok bool) {
	a := store.Action{Time: time.UnixMilli(r.ReceivedTS).Add(after), Sender: by, EventID: id.EventID("$" + name + string(by) + r.String()),
		Command: "!" + name, OK: ok, Name: name, Report: r.Ref()}
	_, err := st.Commands.Finish(ctx, a.EventID, store.Finished{Action: &a, Reply: store.Message{Key: store.ReplyKey(a.EventID), RoomID: "!m:x", Content: json.RawMessage(`{}`)}})
	require.NoError(t, err)
}

// TestGather checks every figure against a database filled with known
// cases and actions, one of each kind of thing a figure counts or leaves
// out.
func TestGather(t *testing.T) {
	st := openStore(t)
	resolved := report(mxid.KindEvent, 1, 6*24*time.Hour)
	dismissed := report(mxid.KindEvent, 2, 5*24*time.Hour)
	claimed := report(mxid.KindUser, 1, 24*time.Hour)
	open := report(mxid.KindRoom, 1, 2*time.Hour)
	before := report(mxid.KindEvent, 3, 10*24*time.Hour) // before the window, still open
	deleted := report(mxid.KindEvent, 5, 3*24*time.Hour)
	require.NoError(t, st.Reports.Skip(ctx, []store.Report{resolved, dismissed, claimed, open, before, deleted}))
	duplicate := report(mxid.KindEvent, 4, time.Hour)
	_, err := st.DB().Exec(ctx, `INSERT INTO report (kind, report_id, received_ts, room_id, event_id, state, seen_at) VALUES ('event', 4, $1, '!r:x', '$e', 'duplicate', 0)`, duplicate.ReceivedTS)
	require.NoError(t, err)

	act(t, st, "report claim", "@mod1:x", resolved, 30*time.Minute, true)
	act(t, st, "report resolve", "@mod1:x", resolved, 2*time.Hour, true)
	change(t, st, resolved, store.CaseResolved, "@mod1:x", 2*time.Hour)
	change(t, st, dismissed, store.CaseDismissed, "@mod2:x", 4*time.Hour) // no action recorded: the change is the first response
	act(t, st, "suspend", "@mod2:x", claimed, 10*time.Minute, true)
	act(t, st, "kick", "@mod1:x", claimed, 5*time.Minute, false) // failed: neither a response nor counted
	change(t, st, claimed, store.CaseClaimed, "@mod2:x", 10*time.Minute)
	change(t, st, deleted, store.CaseDeleted, "@gavel:x", time.Hour)
	act(t, st, "ban", "@mod1:x", before, time.Hour, true) // a week before the window: not counted

	s, err := Gather(ctx, st, now.Add(-7*24*time.Hour), now, time.UTC)
	require.NoError(t, err)
	assert.Equal(t, map[mxid.ReportKind]int{mxid.KindEvent: 4, mxid.KindUser: 1, mxid.KindRoom: 1}, s.Received, "the duplicate is a report received")
	assert.Equal(t, map[string]int{"open": 1, "claimed": 1, "resolved": 1, "dismissed": 1, "deleted": 1}, s.Cases, "the duplicate is no case")
	assert.Equal(t, notice.Spread{N: 3, Median: 30 * time.Minute, P90: 4 * time.Hour}, s.Claim)
	assert.Equal(t, notice.Spread{N: 2, Median: 2 * time.Hour, P90: 4 * time.Hour}, s.Resolve)
	require.NotNil(t, s.OldestOpen)
	assert.Equal(t, before.Ref(), s.OldestOpen.Report, "the oldest open case, before the window too")
	assert.Equal(t, []notice.Tally{{Name: "report claim", N: 1}, {Name: "report resolve", N: 1}, {Name: "suspend", N: 1}}, s.Actions)
	assert.Equal(t, []notice.Tally{{Name: "@mod1:x", N: 2}, {Name: "@mod2:x", N: 1}}, s.Moderators)

	require.Len(t, s.Days, 8, "from Monday 30 November to Monday 7 December, both in part")
	assert.Equal(t, time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), s.Days[0].Day)
	first := s.Days[1] // 1 December: the resolved report
	assert.Equal(t, map[mxid.ReportKind]int{mxid.KindEvent: 1}, first.Received)
	assert.Equal(t, notice.Spread{N: 1, Median: 2 * time.Hour, P90: 2 * time.Hour}, first.Resolve)
	assert.Equal(t, map[mxid.ReportKind]int{mxid.KindRoom: 1, mxid.KindEvent: 1}, s.Days[7].Received, "the open room report and the duplicate")
}

// TestDaysInZone: a report at 23:30 UTC is on the next day in Berlin.
func TestDaysInZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	w := NewWindow(now.Add(-48*time.Hour), now, berlin)
	w.Report(store.ReportKey{Kind: mxid.KindEvent, ID: 1, ReceivedTS: time.Date(2026, 12, 5, 23, 30, 0, 0, time.UTC).UnixMilli()}, false)
	s := w.Stats()
	require.Len(t, s.Days, 3)
	assert.Equal(t, 6, s.Days[1].Day.Day())
	assert.Equal(t, 1, s.Days[1].Received[mxid.KindEvent])
}

func TestSpread(t *testing.T) {
	assert.Equal(t, notice.Spread{}, Spread(nil))
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Second)
	}
	assert.Equal(t, notice.Spread{N: 100, Median: 50 * time.Second, P90: 90 * time.Second}, Spread(ds))
	assert.Equal(t, notice.Spread{N: 1, Median: time.Second, P90: time.Second}, Spread([]time.Duration{time.Second}))
}

// TestFirstActionOfReusedID: Synapse reuses report ids after a restart:
// an action for the id from before the report was received is not its
// first response, one after is, whatever the order they are read in.
func TestFirstActionOfReusedID(t *testing.T) {
	w := NewWindow(now.Add(-7*24*time.Hour), now, time.UTC)
	k := store.ReportKey{Kind: mxid.KindEvent, ID: 7, ReceivedTS: now.Add(-24 * time.Hour).UnixMilli()}
	w.Report(k, false)
	received := time.UnixMilli(k.ReceivedTS)
	for _, at := range []time.Duration{-time.Hour, 3 * time.Hour, 2 * time.Hour} {
		w.Action(store.Acted{Time: received.Add(at), Sender: "@mod:x", Name: "report claim", Report: k.Ref()})
	}
	assert.Equal(t, notice.Spread{N: 1, Median: 2 * time.Hour, P90: 2 * time.Hour}, w.Stats().Claim)
	assert.Equal(t, []notice.Tally{{Name: "report claim", N: 3}}, w.Stats().Actions, "each action counts, in the window")
}
