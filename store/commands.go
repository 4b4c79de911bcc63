package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"maunium.net/go/mautrix/id"
)

// Action is one moderator action for the log: who ran what, and the result.
type Action struct {
	Time    time.Time
	Sender  id.UserID
	EventID id.EventID
	Command string
	OK      bool
	Result  string
}

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
	res, err := s.db.Exec(ctx, "INSERT INTO command (event_id, started_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
		eventID, time.Now().UnixMilli())
	if err != nil {
		return 0, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return CommandNew, nil
	}
	var handled sql.NullInt64
	if err := s.db.QueryRow(ctx, "SELECT handled_at FROM command WHERE event_id=$1", eventID).Scan(&handled); err != nil {
		return 0, err
	}
	if handled.Valid {
		return CommandHandled, nil
	}
	return CommandStarted, nil
}

// FinishCommand records, in one transaction, that the command event was
// handled, the action (when it is not nil) and the reply to post. A command
// already finished is left alone; FinishCommand then returns false.
func (s *Store) FinishCommand(ctx context.Context, eventID id.EventID, action *Action, reply Message) (bool, error) {
	first := false
	err := s.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		now := time.Now().UnixMilli()
		res, err := s.db.Exec(ctx, `INSERT INTO command (event_id, started_at, handled_at) VALUES ($1, $2, $2)
			ON CONFLICT (event_id) DO UPDATE SET handled_at=excluded.handled_at WHERE command.handled_at IS NULL`,
			eventID, now)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		first = true
		if action != nil {
			_, err = s.db.Exec(ctx, "INSERT INTO action (ts, sender, event_id, command, ok, result) VALUES ($1, $2, $3, $4, $5, $6)",
				action.Time.UnixMilli(), action.Sender, action.EventID, action.Command, action.OK, action.Result)
			if err != nil {
				return err
			}
		}
		return s.enqueue(ctx, reply)
	})
	return first, err
}

// Actions returns the newest actions first, at most limit of them.
func (s *Store) Actions(ctx context.Context, limit int) ([]Action, error) {
	rows, err := s.db.Query(ctx, "SELECT ts, sender, event_id, command, ok, result FROM action ORDER BY id DESC LIMIT $1", limit)
	if err != nil {
		return nil, err
	}
	var actions []Action
	for rows.Next() {
		var a Action
		var ts int64
		if err := rows.Scan(&ts, &a.Sender, &a.EventID, &a.Command, &a.OK, &a.Result); err != nil {
			rows.Close()
			return nil, err
		}
		a.Time = time.UnixMilli(ts)
		actions = append(actions, a)
	}
	return actions, errors.Join(rows.Err(), rows.Close())
}
