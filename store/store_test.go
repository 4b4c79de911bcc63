package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/mxid"
	"github.com/gavel-bot/gavel/internal/testkit/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

var ctx = context.Background()

// backends runs a test once on SQLite and once on PostgreSQL.
func backends(t *testing.T, test func(t *testing.T, open func() *Store)) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "gavel.db")
		test(t, func() *Store { return openStore(t, path) })
	})
	t.Run("postgres", func(t *testing.T) {
		uri := pgtest.URI(t)
		test(t, func() *Store { return openStore(t, uri) })
	})
}

func openStore(t *testing.T, uri string) *Store {
	t.Helper()
	s, err := Open(ctx, uri, zerolog.Nop())
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func notice(key string) Message {
	return Message{Key: OutboxKey(key), Priority: PriorityNotice, RoomID: "!mods:example.org", Content: json.RawMessage(`{"body":"` + key + `"}`)}
}

func TestKV(t *testing.T) {
	backends(t, func(t *testing.T, open func() *Store) {
		s := open()
		v, err := s.KV.Get(ctx, "sync.next_batch")
		require.NoError(t, err)
		assert.Empty(t, v)
		require.NoError(t, s.KV.Set(ctx, "sync.next_batch", "s1"))
		require.NoError(t, s.KV.Set(ctx, "sync.next_batch", "s2"))
		v, err = s.KV.Get(ctx, "sync.next_batch")
		require.NoError(t, err)
		assert.Equal(t, "s2", v)

		// State survives reopening: that is how a restart resumes.
		s.Close()
		s = open()
		v, err = s.KV.Get(ctx, "sync.next_batch")
		require.NoError(t, err)
		assert.Equal(t, "s2", v)
	})
}

// TestTablesShareATransaction: the query types of different tables share
// the transaction a context carries, so what one writes inside another's
// DoTxn is rolled back with it, and committed with it.
func TestTablesShareATransaction(t *testing.T) {
	backends(t, func(t *testing.T, open func() *Store) {
		s := open()
		write := func(value string, fail error) error {
			return s.DB().DoTxn(ctx, nil, func(ctx context.Context) error {
				if err := s.KV.Set(ctx, "sync.next_batch", value); err != nil {
					return err
				}
				if err := s.Outbox.Enqueue(ctx, notice("gavel-report-"+value)); err != nil {
					return err
				}
				return fail
			})
		}
		require.Error(t, write("1-1", errors.New("rolled back")))
		v, err := s.KV.Get(ctx, "sync.next_batch")
		require.NoError(t, err)
		assert.Empty(t, v, "the kv write was rolled back with the transaction")
		m, err := s.Outbox.Get(ctx, "gavel-report-1-1")
		require.NoError(t, err)
		assert.Nil(t, m, "the outbox write was rolled back with the transaction")

		require.NoError(t, write("2-2", nil))
		v, err = s.KV.Get(ctx, "sync.next_batch")
		require.NoError(t, err)
		assert.Equal(t, "2-2", v)
		m, err = s.Outbox.Get(ctx, "gavel-report-2-2")
		require.NoError(t, err)
		assert.NotNil(t, m)
	})
}

func TestReportsAreSeenOnceByIDAndTime(t *testing.T) {
	backends(t, func(t *testing.T, open func() *Store) {
		s := open()
		r := Report{ReportKey: ReportKey{ID: 2, ReceivedTS: 1000}, RoomID: "!r:example.org", EventID: "$e"}
		unseen, err := s.Reports.Unseen(ctx, []ReportKey{r.ReportKey, {ID: 3, ReceivedTS: 1001}})
		require.NoError(t, err)
		assert.Equal(t, []ReportKey{{ID: 2, ReceivedTS: 1000}, {ID: 3, ReceivedTS: 1001}}, unseen)

		require.NoError(t, s.Reports.AddNotice(ctx, r, notice("report-2-1000")))
		// Adding it again queues nothing more.
		require.NoError(t, s.Reports.AddNotice(ctx, r, notice("report-2-1000-again")))
		unsent, err := s.Outbox.Unsent(ctx, 10)
		require.NoError(t, err)
		require.Len(t, unsent, 1)
		assert.Equal(t, OutboxKey("report-2-1000"), unsent[0].Key)

		// Synapse handed id 2 out again after a restart: a new report.
		unseen, err = s.Reports.Unseen(ctx, []ReportKey{{ID: 2, ReceivedTS: 1000}, {ID: 2, ReceivedTS: 5000}})
		require.NoError(t, err)
		assert.Equal(t, []ReportKey{{ID: 2, ReceivedTS: 5000}}, unseen)

		counts, err := s.Reports.CountByState(ctx)
		require.NoError(t, err)
		assert.Equal(t, map[string]int{ReportNotice: 1}, counts)
	})
}

func TestDigestCoversItsReportsOnce(t *testing.T) {
	backends(t, func(t *testing.T, open func() *Store) {
		s := open()
		report := func(id int64) Report {
			return Report{ReportKey: ReportKey{ID: id, ReceivedTS: 1000 + id}, RoomID: "!r:example.org", EventID: "$e"}
		}
		require.NoError(t, s.Reports.AddDigest(ctx, []Report{report(1), report(2)}, notice("digest-1")))
		// A digest that would cover report 2 again records and queues
		// nothing, not even its new report 3.
		err := s.Reports.AddDigest(ctx, []Report{report(3), report(2)}, notice("digest-3"))
		require.ErrorIs(t, err, ErrAlreadySeen)
		unseen, err := s.Reports.Unseen(ctx, []ReportKey{report(1).ReportKey, report(2).ReportKey, report(3).ReportKey})
		require.NoError(t, err)
		assert.Equal(t, []ReportKey{report(3).ReportKey}, unseen)
		unsent, err := s.Outbox.Unsent(ctx, 10)
		require.NoError(t, err)
		require.Len(t, unsent, 1)
		assert.Equal(t, OutboxKey("digest-1"), unsent[0].Key)
		counts, err := s.Reports.CountByState(ctx)
		require.NoError(t, err)
		assert.Equal(t, map[string]int{ReportDigest: 2}, counts)
	})
}

func TestOutboxOrderAndLifecycle(t *testing.T) {
	backends(t, func(t *testing.T, open func() *Store) {
		s := open()
		for _, key := range []string{"n1", "n2", "n3"} {
			require.NoError(t, s.Outbox.Enqueue(ctx, notice(key)))
		}
		reply := Message{Key: "reply", Priority: PriorityReply, RoomID: "!mods:example.org", Content: json.RawMessage(`{}`)}
		require.NoError(t, s.Outbox.Enqueue(ctx, reply))
		require.NoError(t, s.Outbox.Enqueue(ctx, notice("n1")), "queueing a key twice is a no-op")

		unsent, err := s.Outbox.Unsent(ctx, 10)
		require.NoError(t, err)
		assert.Equal(t, []string{"reply", "n1", "n2", "n3"}, keys(unsent), "replies first, then in queue order")
		assert.True(t, unsent[1].AttemptedAt.IsZero())
		assert.JSONEq(t, `{"body":"n1"}`, string(unsent[1].Content))
		assert.Equal(t, id.RoomID("!mods:example.org"), unsent[1].RoomID)

		require.NoError(t, s.Outbox.MarkAttempted(ctx, "n1"))
		first, err := s.Outbox.Get(ctx, "n1")
		require.NoError(t, err)
		require.False(t, first.AttemptedAt.IsZero())
		require.NoError(t, s.Outbox.MarkAttempted(ctx, "n1"))
		again, err := s.Outbox.Get(ctx, "n1")
		require.NoError(t, err)
		assert.Equal(t, first.AttemptedAt, again.AttemptedAt, "the first attempt's time is kept")

		require.NoError(t, s.Outbox.MarkSent(ctx, "reply", "$r"))
		require.NoError(t, s.Outbox.MarkSent(ctx, "n1", "$n1"))
		unsent, err = s.Outbox.Unsent(ctx, 1)
		require.NoError(t, err)
		assert.Equal(t, []string{"n2"}, keys(unsent))

		sent, err := s.Outbox.Get(ctx, "n1")
		require.NoError(t, err)
		assert.Equal(t, id.EventID("$n1"), sent.EventID)
		assert.False(t, sent.SentAt.IsZero())
		missing, err := s.Outbox.Get(ctx, "nope")
		require.NoError(t, err)
		assert.Nil(t, missing)
	})
}

func TestSkipReports(t *testing.T) {
	backends(t, func(t *testing.T, open func() *Store) {
		s := open()
		reports := []Report{
			{ReportKey: ReportKey{ID: 2, ReceivedTS: 10}, RoomID: "!r:x", EventID: "$a"},
			{ReportKey: ReportKey{ID: 3, ReceivedTS: 11}, RoomID: "!r:x", EventID: "$b"},
		}
		summary := Message{Key: "summary", Priority: PriorityNotice, RoomID: "!m:x", Content: json.RawMessage(`{}`)}
		require.NoError(t, s.Reports.Skip(ctx, reports))
		require.NoError(t, s.Outbox.EnqueueAndSet(ctx, summary, "feed.initialized", "1"))
		unseen, err := s.Reports.Unseen(ctx, []ReportKey{{ID: 2, ReceivedTS: 10}, {ID: 3, ReceivedTS: 11}, {ID: 4, ReceivedTS: 12}})
		require.NoError(t, err)
		assert.Equal(t, []ReportKey{{ID: 4, ReceivedTS: 12}}, unseen)
		counts, err := s.Reports.CountByState(ctx)
		require.NoError(t, err)
		assert.Equal(t, map[string]int{ReportSkipped: 2}, counts)
		v, err := s.KV.Get(ctx, "feed.initialized")
		require.NoError(t, err)
		assert.Equal(t, "1", v)
		unsent, err := s.Outbox.Unsent(ctx, 10)
		require.NoError(t, err)
		assert.Equal(t, []string{"summary"}, keys(unsent))
	})
}

func TestCommandsAreFinishedOnce(t *testing.T) {
	backends(t, func(t *testing.T, open func() *Store) {
		s := open()
		state, err := s.Commands.Start(ctx, "$cmd")
		require.NoError(t, err)
		assert.Equal(t, CommandNew, state)
		state, err = s.Commands.Start(ctx, "$cmd")
		require.NoError(t, err)
		assert.Equal(t, CommandStarted, state, "started but not finished: Gavel stopped while running it")

		action := &Action{Sender: "@mod:x", EventID: "$cmd", Command: "report delete 12", OK: false, Result: "report 12 does not exist", Target: "report 12", Reason: "spam", Report: mxid.EventReport(12)}
		reply := Message{Key: "reply-$cmd", RoomID: "!m:x", Content: json.RawMessage(`{}`)}
		first, err := s.Commands.Finish(ctx, "$cmd", Finished{Reply: reply, Action: action})
		require.NoError(t, err)
		assert.True(t, first)
		first, err = s.Commands.Finish(ctx, "$cmd", Finished{Reply: Message{Key: "reply-$cmd-2", RoomID: "!m:x", Content: json.RawMessage(`{}`)}, Action: action})
		require.NoError(t, err)
		assert.False(t, first, "a replayed command is not recorded twice")

		state, err = s.Commands.Start(ctx, "$cmd")
		require.NoError(t, err)
		assert.Equal(t, CommandHandled, state)
		unsent, err := s.Outbox.Unsent(ctx, 10)
		require.NoError(t, err)
		assert.Equal(t, []string{"reply-$cmd"}, keys(unsent))

		// Finishing without starting (a refusal) works too.
		first, err = s.Commands.Finish(ctx, "$other", Finished{Reply: Message{Key: "reply-$other", RoomID: "!m:x", Content: json.RawMessage(`{}`)}})
		require.NoError(t, err)
		assert.True(t, first)
		state, err = s.Commands.Start(ctx, "$other")
		require.NoError(t, err)
		assert.Equal(t, CommandHandled, state)

		actions, err := s.Actions.Latest(ctx, 10)
		require.NoError(t, err)
		require.Len(t, actions, 1, "commands without an action (help) are not logged as actions")
		assert.Equal(t, "report delete 12", actions[0].Command)
		assert.Equal(t, id.UserID("@mod:x"), actions[0].Sender)
		assert.False(t, actions[0].OK)
		assert.Equal(t, "report 12 does not exist", actions[0].Result)
		assert.Equal(t, "report 12", actions[0].Target)
		assert.Equal(t, "spam", actions[0].Reason)
		assert.Equal(t, mxid.EventReport(12), actions[0].Report)
	})
}

func TestFailedAndReaddressedMessages(t *testing.T) {
	backends(t, func(t *testing.T, open func() *Store) {
		s := open()
		require.NoError(t, s.Outbox.Enqueue(ctx, notice("n1")))
		require.NoError(t, s.Outbox.Enqueue(ctx, Message{Key: "old-notice", Priority: PriorityNotice, RoomID: "!old:x", Content: json.RawMessage(`{}`)}))
		require.NoError(t, s.Outbox.Enqueue(ctx, Message{Key: "old-reply", Priority: PriorityReply, RoomID: "!old:x", Content: json.RawMessage(`{}`)}))

		require.NoError(t, s.Outbox.MarkFailed(ctx, "n1", "M_TOO_LARGE"))
		failed, err := s.Outbox.Get(ctx, "n1")
		require.NoError(t, err)
		assert.Equal(t, "M_TOO_LARGE", failed.Error)
		assert.Empty(t, failed.EventID)

		moved, dropped, err := s.Outbox.Readdress(ctx, "!mods:example.org")
		require.NoError(t, err)
		assert.Equal(t, int64(1), moved)
		assert.Equal(t, int64(1), dropped)
		unsent, err := s.Outbox.Unsent(ctx, 10)
		require.NoError(t, err)
		require.Equal(t, []string{"old-notice"}, keys(unsent))
		assert.Equal(t, id.RoomID("!mods:example.org"), unsent[0].RoomID)
	})
}

// Feed and command goroutines write at the same time.
func TestConcurrentWriters(t *testing.T) {
	backends(t, func(t *testing.T, open func() *Store) {
		s := open()
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 25 {
					r := Report{ReportKey: ReportKey{ID: int64(g*100 + i + 2), ReceivedTS: int64(i)}, RoomID: "!r:x", EventID: "$e"}
					assert.NoError(t, s.Reports.AddNotice(ctx, r, notice(r.String())))
				}
			}()
		}
		wg.Wait()
		unsent, err := s.Outbox.Unsent(ctx, 1000)
		require.NoError(t, err)
		assert.Len(t, unsent, 100)
	})
}

func TestOpenReportsBadLocations(t *testing.T) {
	_, err := Open(ctx, filepath.Join(t.TempDir(), "missing-dir", "gavel.db"), zerolog.Nop())
	assert.ErrorContains(t, err, "connecting to the database")
	_, err = Open(ctx, "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", zerolog.Nop())
	assert.ErrorContains(t, err, "connecting to the database")
}

func keys(msgs []Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = string(m.Key)
	}
	return out
}

func TestOpenNeverEchoesThePassword(t *testing.T) {
	for _, uri := range []string{
		"postgres://gavel:s3cret-pw@127.0.0.1:1/gavel?sslmode=disable&connect_timeout=2",
		"postgres://gavel:s3cret-pw@db host/gavel",
	} {
		_, err := Open(ctx, uri, zerolog.Nop())
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "s3cret-pw", uri)
	}
}

// TestTasksAreFollowedToTheirEnd: a task recorded with its command is
// running until it ends; each state is shown once (a stale copy of the
// task cannot queue an edit), and the end fills in the action's result.
func TestTasksAreFollowedToTheirEnd(t *testing.T) {
	backends(t, func(t *testing.T, open func() *Store) {
		s := open()
		task := &Task{ID: "abc", Kind: TaskRedactUser, Params: json.RawMessage(`{"user":"@spam:x"}`), Shown: "Redacting…"}
		action := &Action{Sender: "@mod:x", EventID: "$cmd", Command: "redact user @spam:x", OK: true, Result: "Redacting…"}
		reply := Message{Key: ReplyKey("$cmd"), RoomID: "!m:x", Content: json.RawMessage(`{}`)}
		_, err := s.Commands.Finish(ctx, "$cmd", Finished{Reply: reply, Action: action, Task: task})
		require.NoError(t, err)

		running, err := s.Tasks.Running(ctx)
		require.NoError(t, err)
		require.Len(t, running, 1)
		got := running[0]
		assert.Equal(t, id.EventID("$cmd"), got.CommandID)
		assert.Equal(t, id.RoomID("!m:x"), got.RoomID)
		assert.Equal(t, ReplyKey("$cmd"), got.ReplyKey())
		assert.JSONEq(t, `{"user":"@spam:x"}`, string(got.Params))
		assert.Equal(t, "Redacting…", got.Shown)

		stale := got
		edit := Message{Key: got.EditKey(), RoomID: got.RoomID, Content: json.RawMessage(`{}`)}
		shown, err := s.Tasks.Show(ctx, &got, "Still redacting…", &edit, nil)
		require.NoError(t, err)
		assert.True(t, shown)
		assert.Equal(t, 1, got.Edits)
		shown, err = s.Tasks.Show(ctx, &stale, "Still redacting…", &Message{Key: stale.EditKey(), RoomID: got.RoomID, Content: json.RawMessage(`{}`)}, nil)
		require.NoError(t, err)
		assert.False(t, shown, "a stale copy shows nothing")

		final := Message{Key: got.EditKey(), RoomID: got.RoomID, Content: json.RawMessage(`{}`)}
		shown, err = s.Tasks.Show(ctx, &got, "Redacted 3 events.", &final, &TaskEnd{OK: true, Result: "Redacted 3 events."})
		require.NoError(t, err)
		assert.True(t, shown)
		running, err = s.Tasks.Running(ctx)
		require.NoError(t, err)
		assert.Empty(t, running, "an ended task is not followed")

		unsent, err := s.Outbox.Unsent(ctx, 10)
		require.NoError(t, err)
		assert.Equal(t, []string{string(ReplyKey("$cmd")), string(EditKey("$cmd", 1)), string(EditKey("$cmd", 2))}, keys(unsent))
		actions, err := s.Actions.Latest(ctx, 10)
		require.NoError(t, err)
		require.Len(t, actions, 1)
		assert.Equal(t, "Redacted 3 events.", actions[0].Result)
	})
}

// TestCaseChangesAreMadeOnce: a report's case is open until changed; a
// change made against an old version changes nothing, and each change
// queues its card's edit in the same step.
func TestCaseChangesAreMadeOnce(t *testing.T) {
	backends(t, func(t *testing.T, open func() *Store) {
		s := open()
		r := Report{ReportKey: ReportKey{ID: 12, ReceivedTS: 1000}, RoomID: "!r:x", EventID: "$e"}
		card := Message{Key: NoticeKey(r.ReportKey), Priority: PriorityNotice, RoomID: "!m:x", Content: json.RawMessage(`{}`)}
		require.NoError(t, s.Reports.AddNotice(ctx, r, card))
		// An older report with the same id (Synapse reused it).
		require.NoError(t, s.Reports.Skip(ctx, []Report{{ReportKey: ReportKey{ID: 12, ReceivedTS: 500}}}))

		seen, err := s.Reports.Seen(ctx, KindEvent, 12)
		require.NoError(t, err)
		require.NotNil(t, seen)
		assert.Equal(t, int64(1000), seen.ReceivedTS, "the newest report with that id")
		assert.Equal(t, card.Key, seen.CardKey)
		none, err := s.Reports.Seen(ctx, KindUser, 12)
		require.NoError(t, err)
		assert.Nil(t, none)

		c, err := s.Cases.Get(ctx, seen.ReportKey)
		require.NoError(t, err)
		assert.Equal(t, CaseOpen, c.State)
		assert.Zero(t, c.Version)

		stale := c
		edit := func(v int) []Message {
			return []Message{{Key: CaseEditKey(card.Key, v), Priority: PriorityNotice, RoomID: "!m:x", Content: json.RawMessage(`{}`), RelatesTo: card.Key}}
		}
		c.State, c.By, c.At = CaseClaimed, "@mod:x", time.UnixMilli(2000)
		changed, err := s.Cases.Change(ctx, &c, edit)
		require.NoError(t, err)
		assert.True(t, changed)
		assert.Equal(t, 1, c.Version)
		stale.State, stale.By, stale.At = CaseClaimed, "@other:x", time.UnixMilli(2001)
		changed, err = s.Cases.Change(ctx, &stale, edit)
		require.NoError(t, err)
		assert.False(t, changed, "a change against an old version is refused")

		c.State, c.Note = CaseResolved, "spam"
		changed, err = s.Cases.Change(ctx, &c, edit)
		require.NoError(t, err)
		assert.True(t, changed)
		got, err := s.Cases.Get(ctx, seen.ReportKey)
		require.NoError(t, err)
		assert.Equal(t, Case{Report: seen.ReportKey, State: CaseResolved, By: "@mod:x", At: time.UnixMilli(2000), Note: "spam", Version: 2}, got)

		unsent, err := s.Outbox.Unsent(ctx, 10)
		require.NoError(t, err)
		assert.Equal(t, []string{string(card.Key), string(CaseEditKey(card.Key, 1)), string(CaseEditKey(card.Key, 2))}, keys(unsent))
	})
}

// TestDuplicatesJoinTheirCardsCase: a report of an event whose card is
// open is recorded on that card, in one transaction with the case change
// that edits the card and the line in its thread; its case is the card's;
// a change against an old version of the case records nothing, and a
// report is recorded once.
func TestDuplicatesJoinTheirCardsCase(t *testing.T) {
	backends(t, func(t *testing.T, open func() *Store) {
		s := open()
		r := Report{ReportKey: ReportKey{ID: 1, ReceivedTS: 1000}, RoomID: "!r:x", EventID: "$e", TargetUser: "@spammer:x", Reporter: "@alice:x"}
		card := Message{Key: NoticeKey(r.ReportKey), Priority: PriorityNotice, RoomID: "!m:x", Content: json.RawMessage(`{}`)}
		require.NoError(t, s.Reports.AddNotice(ctx, r, card))
		require.NoError(t, s.Outbox.MarkSent(ctx, card.Key, "$card"))

		open1, err := s.Reports.OpenCard(ctx, "$e")
		require.NoError(t, err)
		require.NotNil(t, open1, "the event's card is open")
		assert.Equal(t, r.ReportKey.normal(), open1.ReportKey)
		assert.Equal(t, card.Key, open1.CardKey)

		c, err := s.Cases.Get(ctx, open1.CaseKey)
		require.NoError(t, err)
		stale := c
		edit := func(v int) []Message {
			return []Message{{Key: CaseEditKey(card.Key, v), Priority: PriorityNotice, RoomID: "!m:x", Content: json.RawMessage(`{}`), RelatesTo: card.Key}}
		}
		dup := Report{ReportKey: ReportKey{ID: 2, ReceivedTS: 2000}, RoomID: "!r:x", EventID: "$e", TargetUser: "@spammer:x", Reporter: "@bob:x"}
		line := &Message{Key: DuplicateKey(dup.ReportKey), Priority: PriorityNotice, RoomID: "!m:x", Content: json.RawMessage(`{}`)}
		added, err := s.Reports.AddDuplicate(ctx, NewDuplicate{Report: dup, Reason: "spam", Card: card.Key, Case: &c, Edit: edit, Line: line})
		require.NoError(t, err)
		assert.True(t, added)
		assert.Equal(t, 1, c.Version, "the card's case moved on")

		dups, err := s.Reports.Duplicates(ctx, card.Key)
		require.NoError(t, err)
		assert.Equal(t, []Duplicate{{ReportID: 2, ReceivedTS: 2000, Reporter: "@bob:x", Reason: "spam"}}, dups)
		seen, err := s.Reports.Seen(ctx, KindEvent, 2)
		require.NoError(t, err)
		require.NotNil(t, seen)
		assert.Equal(t, ReportDuplicate, seen.State)
		assert.Equal(t, card.Key, seen.CardKey)
		assert.Equal(t, r.ReportKey.normal(), seen.CaseKey, "a duplicate's case is its card's")

		again, err := s.Reports.AddDuplicate(ctx, NewDuplicate{Report: dup, Reason: "spam", Card: card.Key, Case: &c, Edit: edit, Line: line})
		require.NoError(t, err)
		assert.False(t, again, "a report is recorded once")
		third := Report{ReportKey: ReportKey{ID: 3, ReceivedTS: 3000}, RoomID: "!r:x", EventID: "$e", Reporter: "@carol:x"}
		added, err = s.Reports.AddDuplicate(ctx, NewDuplicate{Report: third, Card: card.Key, Case: &stale, Edit: edit})
		require.NoError(t, err)
		assert.False(t, added, "a change against an old version of the case records nothing")
		none, err := s.Reports.Seen(ctx, KindEvent, 3)
		require.NoError(t, err)
		assert.Nil(t, none)

		unsent, err := s.Outbox.Unsent(ctx, 10)
		require.NoError(t, err)
		assert.Equal(t, []string{string(CaseEditKey(card.Key, 1)), string(line.Key)}, keys(unsent))

		c.State, c.By, c.At = CaseResolved, "@mod:x", time.UnixMilli(4000)
		changed, err := s.Cases.Change(ctx, &c, edit)
		require.NoError(t, err)
		require.True(t, changed)
		closed, err := s.Reports.OpenCard(ctx, "$e")
		require.NoError(t, err)
		assert.Nil(t, closed, "a closed case's card is not open")
	})
}

// TestListCases selects cases by state, by who changed them last and by
// age, newest report first; a report never changed is open.
func TestListCases(t *testing.T) {
	backends(t, func(t *testing.T, open func() *Store) {
		s := open()
		for i := int64(1); i <= 4; i++ {
			r := Report{ReportKey: ReportKey{ID: i, ReceivedTS: i * 1000}}
			require.NoError(t, s.Reports.AddNotice(ctx, r, Message{Key: NoticeKey(r.ReportKey), RoomID: "!m:x", Content: json.RawMessage(`{}`)}))
		}
		change := func(id int64, state CaseState, by id.UserID) {
			c, err := s.Cases.Get(ctx, ReportKey{ID: id, ReceivedTS: id * 1000})
			require.NoError(t, err)
			c.State, c.By, c.At = state, by, time.UnixMilli(9000)
			changed, err := s.Cases.Change(ctx, &c, func(int) []Message { return nil })
			require.NoError(t, err)
			require.True(t, changed)
		}
		change(2, CaseClaimed, "@a:x")
		change(3, CaseResolved, "@b:x")
		change(4, CaseDismissed, "@a:x")
		ids := func(q CaseQuery) []int64 {
			q.Limit = max(q.Limit, 10)
			cases, err := s.Cases.List(ctx, q)
			require.NoError(t, err)
			var out []int64
			for _, c := range cases {
				out = append(out, c.Report.ID)
			}
			return out
		}
		assert.Equal(t, []int64{2, 1}, ids(CaseQuery{States: []CaseState{CaseOpen, CaseClaimed}}))
		assert.Equal(t, []int64{4, 3}, ids(CaseQuery{States: []CaseState{CaseResolved, CaseDismissed}}))
		assert.Equal(t, []int64{4, 2}, ids(CaseQuery{States: []CaseState{CaseOpen, CaseClaimed, CaseResolved, CaseDismissed}, By: "@a:x"}))
		assert.Equal(t, []int64{2, 1}, ids(CaseQuery{States: []CaseState{CaseOpen, CaseClaimed, CaseResolved}, Before: time.UnixMilli(2500)}))
		cases, err := s.Cases.List(ctx, CaseQuery{States: []CaseState{CaseClaimed}, Limit: 1})
		require.NoError(t, err)
		require.Len(t, cases, 1)
		assert.Equal(t, Case{Report: ReportKey{ID: 2, ReceivedTS: 2000, Kind: KindEvent}, State: CaseClaimed, By: "@a:x", At: time.UnixMilli(9000), Version: 1}, cases[0])
	})
}

// TestAudit selects actions by time, moderator and report, newest first.
func TestAudit(t *testing.T) {
	backends(t, func(t *testing.T, open func() *Store) {
		s := open()
		for i, a := range []Action{
			{Time: time.UnixMilli(500), Sender: "@b:x", Command: "!lock @t:x --report u12", Report: mxid.ReportRef{Kind: KindUser, ID: 12}},
			{Time: time.UnixMilli(1000), Sender: "@a:x", Command: "!suspend @s:x", Report: mxid.EventReport(12)},
			{Time: time.UnixMilli(2000), Sender: "@b:x", Command: "!report claim 12", Report: mxid.EventReport(12)},
			{Time: time.UnixMilli(3000), Sender: "@a:x", Command: "!room block !r:x"},
		} {
			a.EventID = id.EventID(fmt.Sprintf("$%d", i))
			_, err := s.Commands.Finish(ctx, a.EventID, Finished{Action: &a, Reply: Message{Key: ReplyKey(a.EventID), RoomID: "!m:x", Content: json.RawMessage(`{}`)}})
			require.NoError(t, err)
		}
		commands := func(q AuditQuery) []string {
			if q.Limit == 0 {
				q.Limit = 10
			}
			actions, err := s.Actions.Audit(ctx, q)
			require.NoError(t, err)
			var out []string
			for _, a := range actions {
				out = append(out, a.Command)
			}
			return out
		}
		assert.Equal(t, []string{"!room block !r:x", "!report claim 12", "!suspend @s:x", "!lock @t:x --report u12"}, commands(AuditQuery{}))
		assert.Equal(t, []string{"!room block !r:x", "!suspend @s:x"}, commands(AuditQuery{By: "@a:x"}))
		assert.Equal(t, []string{"!report claim 12", "!suspend @s:x"}, commands(AuditQuery{Report: mxid.EventReport(12)}),
			"event report 12, not user report 12")
		assert.Equal(t, []string{"!lock @t:x --report u12"}, commands(AuditQuery{Report: mxid.ReportRef{Kind: KindUser, ID: 12}}))
		forUser, err := s.Actions.ForReport(ctx, mxid.ReportRef{Kind: KindUser, ID: 12}, 10)
		require.NoError(t, err)
		require.Len(t, forUser, 1)
		assert.Equal(t, mxid.ReportRef{Kind: KindUser, ID: 12}, forUser[0].Report)
		forEvent, err := s.Actions.ForReport(ctx, mxid.EventReport(12), 10)
		require.NoError(t, err)
		assert.Len(t, forEvent, 2)
		assert.Equal(t, []string{"!room block !r:x", "!report claim 12"}, commands(AuditQuery{Since: time.UnixMilli(2000)}))
		assert.Equal(t, []string{"!room block !r:x"}, commands(AuditQuery{Limit: 1}))
	})
}
