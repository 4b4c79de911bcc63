package store

import (
	"context"
	"database/sql"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// The command table: command events seen. A command is started before it
// runs and handled once its reply is queued, so a replayed sync never runs
// one twice, and a crash in between is noticed.

// CommandQuery reads and writes the command table (Store.Commands).
type CommandQuery struct {
	db    *dbutil.Database
	fence *fenceHolder
	// Finish's other tables: what a command left.
	outbox  *OutboxQuery
	actions *ActionQuery
	pending *PendingQuery
	tasks   *TaskQuery
}

const (
	startCommandQuery  = `INSERT INTO command (event_id, started_at) VALUES ($1, $2) ON CONFLICT DO NOTHING`
	commandStateQuery  = `SELECT handled_at FROM command WHERE event_id=$1`
	finishCommandQuery = `INSERT INTO command (event_id, started_at, handled_at) VALUES ($1, $2, $2)
		ON CONFLICT (event_id) DO UPDATE SET handled_at=excluded.handled_at WHERE command.handled_at IS NULL`
)

// CommandState is how far a command event got.
type CommandState int

// Command states.
const (
	CommandNew     CommandState = iota // never seen
	CommandStarted                     // started, not finished: Gavel stopped while running it
	CommandHandled                     // finished, its reply queued
)

// Start records that a command event is about to run and returns
// the state it was in before. With a fence (SetFence), it is checked in the
// same transaction: ErrNotActive means the command must not run here.
func (s *CommandQuery) Start(ctx context.Context, eventID id.EventID) (state CommandState, err error) {
	err = s.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		if err := s.fence.check(ctx); err != nil {
			return err
		}
		res, err := s.db.Exec(ctx, startCommandQuery, eventID, time.Now().UnixMilli())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			state = CommandNew
			return nil
		}
		var handled sql.NullInt64
		if err := s.db.QueryRow(ctx, commandStateQuery, eventID).Scan(&handled); err != nil {
			return err
		}
		state = CommandStarted
		if handled.Valid {
			state = CommandHandled
		}
		return nil
	})
	return state, err
}

// Finished is what running a command left to record.
type Finished struct {
	// Reply is the reply to post.
	Reply Message
	// Action is the entry for the action log; nil for a command that
	// changes nothing.
	Action *Action
	// Pending is the action that waits for confirmation when Reply is its
	// preview (its PreviewKey becomes the reply's key); nil otherwise.
	Pending *Pending
	// Task is the Synapse task the command started, whose progress is
	// shown by editing Reply (its CommandID becomes the command's); nil
	// for none.
	Task *Task
}

// Finish records, in one transaction, that the command event was
// handled, and what it left (Finished). A command already finished is left
// alone; Finish then returns false.
func (s *CommandQuery) Finish(ctx context.Context, eventID id.EventID, f Finished) (bool, error) {
	first := false
	err := s.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		// A command whose instance lost its turn stays started: the next
		// active instance says it may or may not have taken effect.
		if err := s.fence.check(ctx); err != nil {
			return err
		}
		res, err := s.db.Exec(ctx, finishCommandQuery, eventID, time.Now().UnixMilli())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		first = true
		if f.Action != nil {
			if err := s.actions.insert(ctx, f.Action); err != nil {
				return err
			}
		}
		if f.Pending != nil {
			f.Pending.PreviewKey = f.Reply.Key
			if err := s.pending.insert(ctx, f.Pending); err != nil {
				return err
			}
		}
		if f.Task != nil {
			f.Task.CommandID, f.Task.RoomID = eventID, f.Reply.RoomID
			if err := s.tasks.insert(ctx, f.Task); err != nil {
				return err
			}
		}
		return s.outbox.enqueue(ctx, f.Reply)
	})
	return first, err
}
