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

// CommandHandled reports whether the command event was already handled.
func (s *Store) CommandHandled(ctx context.Context, eventID id.EventID) (bool, error) {
	var one int
	err := s.db.QueryRow(ctx, "SELECT 1 FROM command WHERE event_id=$1", eventID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// FinishCommand records, in one transaction, that the command event was
// handled, the action (when it is not nil) and the reply to post. A command
// already recorded is left alone; FinishCommand then returns false.
func (s *Store) FinishCommand(ctx context.Context, eventID id.EventID, action *Action, reply Message) (bool, error) {
	first := false
	err := s.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		res, err := s.db.Exec(ctx, "INSERT INTO command (event_id, handled_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
			eventID, time.Now().UnixMilli())
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
