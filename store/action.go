package store

import (
	"context"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// The action table: what moderators did, who, what, and the result. Rows
// are written by FinishCommand, with the command they came from.

const (
	insertActionQuery = `INSERT INTO action (ts, sender, event_id, command, ok, result) VALUES ($1, $2, $3, $4, $5, $6)`
	getActionsQuery   = `SELECT ts, sender, event_id, command, ok, result FROM action ORDER BY id DESC LIMIT $1`
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

var scanAction dbutil.ConvertRowFn[Action] = func(row dbutil.Scannable) (Action, error) {
	var a Action
	var ts int64
	err := row.Scan(&ts, &a.Sender, &a.EventID, &a.Command, &a.OK, &a.Result)
	a.Time = time.UnixMilli(ts)
	return a, err
}

func (s *Store) insertAction(ctx context.Context, a *Action) error {
	_, err := s.db.Exec(ctx, insertActionQuery, a.Time.UnixMilli(), a.Sender, a.EventID, a.Command, a.OK, a.Result)
	return err
}

// Actions returns the newest actions first, at most limit of them.
func (s *Store) Actions(ctx context.Context, limit int) ([]Action, error) {
	return scanAction.NewRowIter(s.db.Query(ctx, getActionsQuery, limit)).AsList()
}
