package store

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"
)

// TestRecords: a user's record counts the other reports about them, the
// last closed case and the actions on them (a user id with LIKE's
// wildcards matches only itself); a reporter's record counts their other
// reports and how many were dismissed.
func TestRecords(t *testing.T) {
	backends(t, func(t *testing.T, open func() *Store) {
		s := open()
		const bad, other, rep = id.UserID("@bad_1:x"), id.UserID("@badx1:x"), id.UserID("@rep:x")
		reports := []Report{
			{ReportKey: ReportKey{Kind: KindEvent, ID: 1, ReceivedTS: 10}, RoomID: "!r:x", EventID: "$1", TargetUser: bad, Reporter: rep},
			{ReportKey: ReportKey{Kind: KindUser, ID: 1, ReceivedTS: 20}, TargetUser: bad, Reporter: rep},
			{ReportKey: ReportKey{Kind: KindEvent, ID: 2, ReceivedTS: 30}, RoomID: "!r:x", EventID: "$2", TargetUser: other, Reporter: "@someone:x"},
			{ReportKey: ReportKey{Kind: KindEvent, ID: 3, ReceivedTS: 40}, RoomID: "!r:x", EventID: "$3", TargetUser: bad, Reporter: rep},
		}
		require.NoError(t, s.Reports.Skip(ctx, reports))
		for _, c := range []Case{
			{Report: reports[0].ReportKey, State: CaseDismissed, By: "@mod:x", At: time.UnixMilli(100), Note: "not spam"},
			{Report: reports[1].ReportKey, State: CaseResolved, By: "@mod:x", At: time.UnixMilli(200)},
		} {
			changed, err := s.Cases.Change(ctx, &c, func(int) []Message { return nil })
			require.NoError(t, err)
			require.True(t, changed)
		}
		for i, a := range []Action{
			{Command: "!suspend @bad_1:x", Target: "@bad_1:x", OK: true},
			{Command: "!kick @bad_1:x !r:x", Target: "@bad_1:x !r:x", OK: true},
			{Command: "!lock @bad_1:x", Target: "@bad_1:x", OK: false},
			{Command: "!suspend @badx1:x", Target: "@badx1:x", OK: true},
		} {
			a.EventID, a.Time, a.Sender = id.EventID("$a"+itoa(i)), time.Now(), "@mod:x"
			_, err := s.Commands.Finish(ctx, a.EventID, Finished{Action: &a, Reply: Message{Key: ReplyKey(a.EventID), RoomID: "!m:x", Content: json.RawMessage(`{}`)}})
			require.NoError(t, err)
		}

		rec, err := s.Records.User(ctx, bad, reports[3].ReportKey)
		require.NoError(t, err)
		assert.Equal(t, 2, rec.Reports, "the other two reports about the user")
		require.NotNil(t, rec.Last)
		assert.Equal(t, CaseResolved, rec.Last.State, "the case closed last")
		assert.Equal(t, 2, rec.Actions, "the two that succeeded, not the other user's")

		rec, err = s.Records.User(ctx, other, reports[2].ReportKey)
		require.NoError(t, err)
		assert.Equal(t, UserRecord{Actions: 1}, rec)

		reporter, err := s.Records.Reporter(ctx, rep, reports[3].ReportKey)
		require.NoError(t, err)
		assert.Equal(t, ReporterRecord{Filed: 2, Dismissed: 1}, reporter)
	})
}

func itoa(i int) string { return string(rune('0' + i)) }

// TestRecordsStopCounting: past RecordCap the counts stop, at RecordCap+1.
func TestRecordsStopCounting(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "gavel.db"))
	reports := make([]Report, RecordCap+5)
	for i := range reports {
		reports[i] = Report{ReportKey: ReportKey{Kind: KindUser, ID: int64(i + 1), ReceivedTS: int64(i)}, TargetUser: "@bad:x", Reporter: "@rep:x"}
	}
	require.NoError(t, s.Reports.Skip(ctx, reports))
	rec, err := s.Records.User(ctx, "@bad:x", ReportKey{Kind: KindUser, ID: 1, ReceivedTS: 0})
	require.NoError(t, err)
	assert.Equal(t, RecordCap+1, rec.Reports)
	rep, err := s.Records.Reporter(ctx, "@rep:x", ReportKey{Kind: KindUser, ID: 1, ReceivedTS: 0})
	require.NoError(t, err)
	assert.Equal(t, RecordCap+1, rep.Filed)
}
