package store

import (
	"context"
	"database/sql"
	"time"

	"maunium.net/go/mautrix/id"
)

// The command table: command events seen. A command is started before it
// runs and handled once its reply is queued, so a replayed sync never runs
// one twice, and a crash in between is noticed.

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

// StartCommand records that a command event is about to run and returns
// the state it was in before.
func (s *Store) StartCommand(ctx context.Context, eventID id.EventID) (CommandState, error) {
	res, err := s.db.Exec(ctx, startCommandQuery, eventID, time.Now().UnixMilli())
	if err != nil {
		return 0, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return CommandNew, nil
	}
	var handled sql.NullInt64
	if err := s.db.QueryRow(ctx, commandStateQuery, eventID).Scan(&handled); err != nil {
		return 0, err
	}
	if handled.Valid {
		return CommandHandled, nil
	}
	return CommandStarted, nil
}

// FinishCommand records, in one transaction, that the command event was
// handled, the action (when it is not nil), the reply to post, and when the
// reply is the preview of an action that needs confirmation, that action
// (pending, when not nil; its PreviewKey is the reply's). A command already
// finished is left alone; FinishCommand then returns false.
func (s *Store) FinishCommand(ctx context.Context, eventID id.EventID, action *Action, reply Message, pending ...*Pending) (bool, error) {
	first := false
	err := s.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		res, err := s.db.Exec(ctx, finishCommandQuery, eventID, time.Now().UnixMilli())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		first = true
		if action != nil {
			if err := s.insertAction(ctx, action); err != nil {
				return err
			}
		}
		for _, p := range pending {
			p.PreviewKey = reply.Key
			if err := s.insertPending(ctx, p); err != nil {
				return err
			}
		}
		return s.enqueue(ctx, reply)
	})
	return first, err
}
