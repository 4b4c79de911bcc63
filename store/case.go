package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// The report_case table: where each report stands as a case. A report
// without a row is open. A change is made against the version it was read
// at, in one transaction with the edit of the report's card, so two
// moderators cannot both make it, and a crash loses neither half.

const (
	seenReportQuery = `SELECT kind, report_id, received_ts, room_id, event_id, state, outbox_key FROM report
		WHERE kind=$1 AND report_id=$2 ORDER BY received_ts DESC LIMIT 1`
	getCaseQuery = `SELECT state, changed_by, changed_at, note, version FROM report_case
		WHERE kind=$1 AND report_id=$2 AND received_ts=$3`
	changeCaseQuery = `INSERT INTO report_case (kind, report_id, received_ts, state, changed_by, changed_at, note, version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8 + 1)
		ON CONFLICT (kind, report_id, received_ts) DO UPDATE SET state=excluded.state, changed_by=excluded.changed_by,
			changed_at=excluded.changed_at, note=excluded.note, version=excluded.version
		WHERE report_case.version=$8`
	actionsForReportQuery = `SELECT ` + actionColumns + ` FROM action WHERE report_id=$1 ORDER BY id DESC LIMIT $2`
)

// Case states.
const (
	CaseOpen      = "open"
	CaseClaimed   = "claimed"
	CaseResolved  = "resolved"
	CaseDismissed = "dismissed"
)

// SeenReport is a report Gavel has a row for, and how it was shown.
type SeenReport struct {
	Report
	// State is ReportNotice, ReportDigest or ReportSkipped; CardKey is
	// the outbox key of its card (its notice), empty for the others.
	State   string
	CardKey OutboxKey
}

// SeenReport returns the newest report of kind with id that Gavel has seen
// (Synapse reuses ids after a restart), or nil.
func (s *Store) SeenReport(ctx context.Context, kind ReportKind, reportID int64) (*SeenReport, error) {
	var r SeenReport
	var key sql.NullString
	err := s.db.QueryRow(ctx, seenReportQuery, kind, reportID).Scan(&r.Kind, &r.ID, &r.ReceivedTS, &r.RoomID, &r.EventID, &r.State, &key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if r.State == ReportNotice {
		r.CardKey = OutboxKey(key.String)
	}
	return &r, nil
}

// Case is where a report stands.
type Case struct {
	Report ReportKey
	State  string
	// By is who made the last change, at At, with Note.
	By   id.UserID
	At   time.Time
	Note string
	// Version counts the changes: 0 for a case never changed.
	Version int
}

// Case returns the case of report r; one never changed is open.
func (s *Store) Case(ctx context.Context, r ReportKey) (Case, error) {
	r = r.normal()
	c := Case{Report: r, State: CaseOpen}
	var at int64
	err := s.db.QueryRow(ctx, getCaseQuery, r.Kind, r.ID, r.ReceivedTS).Scan(&c.State, &c.By, &at, &c.Note, &c.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return c, nil
	} else if err != nil {
		return c, err
	}
	c.At = time.UnixMilli(at)
	return c, nil
}

// ChangeCase records c as the case's new state, made against the version
// c was read at (c.Version), and queues the message edit returns for the
// new version (nil for none) in the same transaction; edit must not use
// the store. It reports false, changing nothing, when the case changed
// since. On success c.Version is the new version.
func (s *Store) ChangeCase(ctx context.Context, c *Case, edit func(version int) *Message) (bool, error) {
	r := c.Report.normal()
	changed := false
	err := s.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		res, err := s.db.Exec(ctx, changeCaseQuery, r.Kind, r.ID, r.ReceivedTS, c.State, c.By, c.At.UnixMilli(), c.Note, c.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		changed = true
		if m := edit(c.Version + 1); m != nil {
			return s.enqueue(ctx, *m)
		}
		return nil
	})
	if err != nil || !changed {
		return false, err
	}
	c.Version++
	return true, nil
}

// ActionsFor returns the actions taken for report reportID, newest
// first, at most limit.
func (s *Store) ActionsFor(ctx context.Context, reportID int64, limit int) ([]Action, error) {
	return scanAction.NewRowIter(s.db.Query(ctx, actionsForReportQuery, reportID, limit)).AsList()
}

// CaseQuery selects cases, for !reports.
type CaseQuery struct {
	States []string  // any of these states
	By     id.UserID // last changed by; "" for anyone
	Before time.Time // received before; zero for any time
	Limit  int
}

// ListCases returns the event reports' cases q selects, newest report
// first.
func (s *Store) ListCases(ctx context.Context, q CaseQuery) ([]Case, error) {
	args := []any{KindEvent}
	where := []string{"r.kind=$1"}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	var states []string
	for _, st := range q.States {
		states = append(states, arg(st))
	}
	where = append(where, "COALESCE(c.state, 'open') IN ("+strings.Join(states, ", ")+")")
	if q.By != "" {
		where = append(where, "c.changed_by="+arg(q.By))
	}
	if !q.Before.IsZero() {
		where = append(where, "r.received_ts<"+arg(q.Before.UnixMilli()))
	}
	query := `SELECT r.kind, r.report_id, r.received_ts, COALESCE(c.state, 'open'), COALESCE(c.changed_by, ''),
			COALESCE(c.changed_at, 0), COALESCE(c.note, ''), COALESCE(c.version, 0)
		FROM report r LEFT JOIN report_case c
			ON c.kind=r.kind AND c.report_id=r.report_id AND c.received_ts=r.received_ts
		WHERE ` + strings.Join(where, " AND ") + ` ORDER BY r.received_ts DESC, r.report_id DESC LIMIT ` + arg(q.Limit)
	return scanCase.NewRowIter(s.db.Query(ctx, query, args...)).AsList()
}

var scanCase dbutil.ConvertRowFn[Case] = func(row dbutil.Scannable) (Case, error) {
	var c Case
	var at int64
	err := row.Scan(&c.Report.Kind, &c.Report.ID, &c.Report.ReceivedTS, &c.State, &c.By, &at, &c.Note, &c.Version)
	if at != 0 {
		c.At = time.UnixMilli(at)
	}
	return c, err
}
