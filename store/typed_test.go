package store

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/mxid"
)

// TestPendingKeepsItsTypedCommand: a pending action keeps the command to
// run as its name and arguments, the report it is about and the thread of
// its preview, across a restart; a row an older Gavel wrote (its text
// only) reads back without a name.
func TestPendingKeepsItsTypedCommand(t *testing.T) {
	backends(t, func(t *testing.T, open func() *Store) {
		s := open()
		now := time.Now()
		reply := Message{Key: "reply-typed", RoomID: "!mods:example.org", Content: []byte(`{}`)}
		p := &Pending{Command: "!room delete !r:example.org --report u3", Sender: "@mod:example.org", CreatedAt: now, ExpiresAt: now.Add(time.Minute),
			Name: "room delete", Args: json.RawMessage(`{"Room":{"ID":"!r:example.org","Alias":""},"Yes":false}`),
			Report: mxid.ReportRef{Kind: mxid.KindUser, ID: 3}, Thread: "$card"}
		_, err := s.Commands.Finish(ctx, "$cmd-typed", Finished{Reply: reply, Pending: p})
		require.NoError(t, err)
		require.NoError(t, s.Outbox.MarkSent(ctx, reply.Key, "$preview"))
		s.Close()

		s = open()
		got, err := s.Pending.ByEvent(ctx, "$preview")
		require.NoError(t, err)
		require.NotNil(t, got)
		assert.Equal(t, "room delete", got.Name)
		assert.JSONEq(t, string(p.Args), string(got.Args))
		assert.Equal(t, p.Report, got.Report)
		assert.Equal(t, id.EventID("$card"), got.Thread)
		assert.Equal(t, p.Command, got.Command)

		// As a Gavel before v9 left it.
		old := Message{Key: "reply-old", RoomID: "!mods:example.org", Content: []byte(`{}`)}
		require.NoError(t, s.Outbox.Enqueue(ctx, old))
		require.NoError(t, s.Outbox.MarkSent(ctx, old.Key, "$old-preview"))
		_, err = s.db.Exec(ctx, `INSERT INTO pending (preview_key, command, sender, created_at, expires_at, state) VALUES ($1, $2, $3, $4, $5, 'pending')`,
			old.Key, "deactivate @spam:example.org", "@mod:example.org", now.UnixMilli(), now.Add(time.Minute).UnixMilli())
		require.NoError(t, err)
		got, err = s.Pending.ByEvent(ctx, "$old-preview")
		require.NoError(t, err)
		require.NotNil(t, got)
		assert.Empty(t, got.Name, "no command to run: only its text")
		assert.Nil(t, got.Args)
		assert.True(t, got.Report.IsZero())
		assert.Equal(t, "deactivate @spam:example.org", got.Command)
	})
}

// TestCardsCarryTheirReport: a card's outbox row holds its report, which
// a reaction to it is about; other messages hold none. Cards queued before
// v9 get theirs from the report table when the database is upgraded.
func TestCardsCarryTheirReport(t *testing.T) {
	backends(t, func(t *testing.T, open func() *Store) {
		s := open()
		k := ReportKey{ID: 12, ReceivedTS: 34, Kind: KindUser}
		card, buttons := CardMessages(NoticeKey(k), k, "!mods:example.org", PriorityNotice, []byte(`{}`), []json.RawMessage{json.RawMessage(`{"key":"👀"}`)})
		require.NoError(t, s.Reports.AddNotice(ctx, Report{ReportKey: k, TargetUser: "@spam:example.org"}, card, buttons...))
		require.NoError(t, s.Outbox.MarkSent(ctx, card.Key, "$card"))
		m, err := s.Outbox.ByEvent(ctx, "$card")
		require.NoError(t, err)
		require.NotNil(t, m)
		assert.Equal(t, k, m.Report)
		b, err := s.Outbox.Get(ctx, buttons[0].Key)
		require.NoError(t, err)
		assert.Equal(t, ReportKey{}, b.Report, "a button's reaction is no card")

		// An event report's card, queued without its report by the caller.
		e := ReportKey{ID: 5, ReceivedTS: 6}
		require.NoError(t, s.Reports.AddNotice(ctx, Report{ReportKey: e}, Message{Key: NoticeKey(e), RoomID: "!mods:example.org", Content: []byte(`{}`)}))
		m, err = s.Outbox.Get(ctx, NoticeKey(e))
		require.NoError(t, err)
		assert.Equal(t, ReportKey{ID: 5, ReceivedTS: 6, Kind: KindEvent}, m.Report)
	})
	for _, v := range fixtures {
		t.Run(fmt.Sprintf("fixture v%d", v), func(t *testing.T) {
			s := openStore(t, fixtureURI(t, "sqlite", v))
			m, err := s.Outbox.Get(ctx, "gavel-report-3-3000")
			require.NoError(t, err)
			require.NotNil(t, m)
			assert.Equal(t, ReportKey{ID: 3, ReceivedTS: 3000, Kind: KindEvent}, m.Report)
			r, err := s.Reports.Seen(ctx, KindEvent, 6)
			require.NoError(t, err)
			require.NotNil(t, r)
			digest, err := s.Outbox.Get(ctx, r.CoveredBy)
			require.NoError(t, err)
			require.NotNil(t, digest)
			assert.Equal(t, ReportKey{}, digest.Report, "a digest is no card")
		})
	}
}

// TestActionKeepsItsCommandName: an action is logged with the name of the
// command that ran, which a card lists without reading the text.
func TestActionKeepsItsCommandName(t *testing.T) {
	backends(t, func(t *testing.T, open func() *Store) {
		s := open()
		reply := Message{Key: "reply-action", RoomID: "!mods:example.org", Content: []byte(`{}`)}
		a := &Action{Time: time.Now(), Sender: "@mod:example.org", EventID: "$button", Command: "🗑️ !redact !r:x $e --report 12", OK: true, Result: "Redacted",
			Report: mxid.EventReport(12), Name: "redact event"}
		_, err := s.Commands.Finish(ctx, "$button", Finished{Reply: reply, Action: a})
		require.NoError(t, err)
		got, err := s.Actions.Latest(ctx, 1)
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, "redact event", got[0].Name)
		assert.Equal(t, a.Command, got[0].Command)
	})
}
