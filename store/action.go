package store

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// The action table: what moderators did, who, what, on whom or what, why,
// and the result. Rows are written by FinishCommand, with the command they
// came from; a long-running action's result is filled in when its task
// ends (EndTask).

const (
	actionColumns     = `ts, sender, event_id, command, ok, result, target, reason, report_id`
	insertActionQuery = `INSERT INTO action (` + actionColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`
	getActionsQuery   = `SELECT ` + actionColumns + ` FROM action ORDER BY id DESC LIMIT $1`
	endActionQuery    = `UPDATE action SET ok=$2, result=$3 WHERE event_id=$1`
)

// Action is one moderator action for the log: who ran what, on which
// target, why, and the result.
type Action struct {
	Time    time.Time
	Sender  id.UserID
	EventID id.EventID
	Command string
	OK      bool
	Result  string
	// Target is what the action was on (a user, room, event, media or
	// report), as typed; Reason the reason the moderator gave.
	Target string
	Reason string
	// ReportID is the report the action was taken for; 0 for none.
	ReportID int64
}

var scanAction dbutil.ConvertRowFn[Action] = func(row dbutil.Scannable) (Action, error) {
	var a Action
	var ts int64
	var reportID sql.NullInt64
	err := row.Scan(&ts, &a.Sender, &a.EventID, &a.Command, &a.OK, &a.Result, &a.Target, &a.Reason, &reportID)
	a.Time, a.ReportID = time.UnixMilli(ts), reportID.Int64
	return a, err
}

func (s *Store) insertAction(ctx context.Context, a *Action) error {
	reportID := sql.NullInt64{Int64: a.ReportID, Valid: a.ReportID != 0}
	_, err := s.db.Exec(ctx, insertActionQuery, a.Time.UnixMilli(), a.Sender, a.EventID, a.Command, a.OK, a.Result, a.Target, a.Reason, reportID)
	return err
}

// Actions returns the newest actions first, at most limit of them.
func (s *Store) Actions(ctx context.Context, limit int) ([]Action, error) {
	return scanAction.NewRowIter(s.db.Query(ctx, getActionsQuery, limit)).AsList()
}

// AuditQuery selects actions for the audit trail.
type AuditQuery struct {
	Since    time.Time // at or after; zero for any time
	By       id.UserID // who; "" for anyone
	ReportID int64     // for this report; 0 for any
	Limit    int
}

// Audit returns the actions q selects, newest first.
func (s *Store) Audit(ctx context.Context, q AuditQuery) ([]Action, error) {
	query := `SELECT ` + actionColumns + ` FROM action WHERE ts>=$1`
	args := []any{q.Since.UnixMilli()}
	if q.By != "" {
		args = append(args, q.By)
		query += ` AND sender=$` + strconv.Itoa(len(args))
	}
	if q.ReportID != 0 {
		args = append(args, q.ReportID)
		query += ` AND report_id=$` + strconv.Itoa(len(args))
	}
	args = append(args, q.Limit)
	query += ` ORDER BY id DESC LIMIT $` + strconv.Itoa(len(args))
	return scanAction.NewRowIter(s.db.Query(ctx, query, args...)).AsList()
}
