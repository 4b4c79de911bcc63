package store

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/mxid"
)

// The action table: what moderators did, who, what, on whom or what, why,
// and the result. Rows are written by CommandQuery.Finish, with the
// command they came from; a long-running action's result is filled in
// when its task ends (TaskQuery.Show).

const (
	actionColumns     = `ts, sender, event_id, command, ok, result, target, reason, report_id, report_kind, name`
	insertActionQuery = `INSERT INTO action (` + actionColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`
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
	// Report is the report the action was taken for; zero for none.
	Report mxid.ReportRef
	// Name is the command that ran (commands.Spec.Name), or what the
	// event was ("confirm", "button") when none did; empty for an action
	// logged before schema v9.
	Name string
}

var scanAction dbutil.ConvertRowFn[Action] = func(row dbutil.Scannable) (Action, error) {
	var a Action
	var ts int64
	var reportID sql.NullInt64
	var kind, name sql.NullString
	err := row.Scan(&ts, &a.Sender, &a.EventID, &a.Command, &a.OK, &a.Result, &a.Target, &a.Reason, &reportID, &kind, &name)
	a.Name = name.String
	a.Time = time.UnixMilli(ts)
	if reportID.Valid {
		a.Report = mxid.ReportRef{Kind: ReportKind(kind.String), ID: reportID.Int64}.Normal()
	}
	return a, err
}

// actionReport is a report's report_id and report_kind columns: NULL for
// none, and the kind NULL for an event report, as before v7.
func actionReport(r mxid.ReportRef) (sql.NullInt64, sql.NullString) {
	r = r.Normal()
	return sql.NullInt64{Int64: r.ID, Valid: r.ID != 0}, sql.NullString{String: string(r.Kind), Valid: r.ID != 0 && r.Kind != KindEvent}
}

// ActionQuery reads and writes the action table (Store.Actions).
type ActionQuery struct{ db *dbutil.Database }

func (s *ActionQuery) insert(ctx context.Context, a *Action) error {
	reportID, kind := actionReport(a.Report)
	_, err := s.db.Exec(ctx, insertActionQuery, a.Time.UnixMilli(), a.Sender, a.EventID, a.Command, a.OK, a.Result, a.Target, a.Reason, reportID, kind, nullable(a.Name))
	return err
}

// Latest returns the newest actions first, at most limit of them.
func (s *ActionQuery) Latest(ctx context.Context, limit int) ([]Action, error) {
	return scanAction.NewRowIter(s.db.Query(ctx, getActionsQuery, limit)).AsList()
}

// AuditQuery selects actions for the audit trail.
type AuditQuery struct {
	Since  time.Time      // at or after; zero for any time
	By     id.UserID      // who; "" for anyone
	Report mxid.ReportRef // for this report; zero for any
	Limit  int
}

// reportIs is the condition that an action was for report r, its
// arguments added to args.
func reportIs(r mxid.ReportRef, args *[]any) string {
	*args = append(*args, r.ID)
	cond := `report_id=$` + strconv.Itoa(len(*args))
	if r := r.Normal(); r.Kind == KindEvent {
		return cond + ` AND report_kind IS NULL`
	}
	*args = append(*args, r.Kind)
	return cond + ` AND report_kind=$` + strconv.Itoa(len(*args))
}

// Audit returns the actions q selects, newest first.
func (s *ActionQuery) Audit(ctx context.Context, q AuditQuery) ([]Action, error) {
	query := `SELECT ` + actionColumns + ` FROM action WHERE ts>=$1`
	args := []any{q.Since.UnixMilli()}
	if q.By != "" {
		args = append(args, q.By)
		query += ` AND sender=$` + strconv.Itoa(len(args))
	}
	if !q.Report.IsZero() {
		query += ` AND ` + reportIs(q.Report, &args)
	}
	args = append(args, q.Limit)
	query += ` ORDER BY id DESC LIMIT $` + strconv.Itoa(len(args))
	return scanAction.NewRowIter(s.db.Query(ctx, query, args...)).AsList()
}

// ForReport returns the actions taken for report r, newest first, at
// most limit.
func (s *ActionQuery) ForReport(ctx context.Context, r mxid.ReportRef, limit int) ([]Action, error) {
	args := []any{}
	query := `SELECT ` + actionColumns + ` FROM action WHERE ` + reportIs(r, &args)
	args = append(args, limit)
	query += ` ORDER BY id DESC LIMIT $` + strconv.Itoa(len(args))
	return scanAction.NewRowIter(s.db.Query(ctx, query, args...)).AsList()
}

// end fills in the result of the action of the command commandID, when
// its task ends.
func (s *ActionQuery) end(ctx context.Context, commandID id.EventID, end TaskEnd) error {
	_, err := s.db.Exec(ctx, endActionQuery, commandID, end.OK, end.Result)
	return err
}

// Acted is a successful action, as !stats counts it.
type Acted struct {
	Time   time.Time
	Sender id.UserID
	// Name is the command's name (Action.Name); "" for an action logged
	// before schema v9.
	Name string
	// Report is the report it was taken for; zero for none.
	Report mxid.ReportRef
}

const actedQuery = `SELECT ts, sender, COALESCE(name, ''), COALESCE(report_id, 0), COALESCE(report_kind, '') FROM action
	WHERE ts>=$1 AND ts<$2 AND ok`

// Acted calls fn with each successful action taken in [since, until), in
// no particular order, without holding them in memory. One scan serves
// the counts by command and by moderator and each report's first action,
// which is cheaper than a GROUP BY for each. fn must not use the store.
func (s *ActionQuery) Acted(ctx context.Context, since, until time.Time, fn func(Acted)) error {
	rows, err := s.db.Query(ctx, actedQuery, since.UnixMilli(), until.UnixMilli())
	if err != nil {
		return err
	}
	defer rows.Close()
	var ts, sender, name, report, kind any
	for rows.Next() {
		if err := rows.Scan(&ts, &sender, &name, &report, &kind); err != nil {
			return err
		}
		a := Acted{Time: time.UnixMilli(integer(ts)), Sender: id.UserID(text(sender)), Name: text(name)}
		if r := integer(report); r != 0 {
			a.Report = mxid.ReportRef{Kind: ReportKind(text(kind)), ID: r}.Normal()
		}
		fn(a)
	}
	return rows.Err()
}
