package store

import (
	"context"
	"database/sql"
	"encoding/json"
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
	replaceContentQuery = `UPDATE outbox SET content=$2 WHERE key=$1`
	getCaseQuery        = `SELECT state, changed_by, changed_at, note, version, desk FROM report_case
		WHERE kind=$1 AND report_id=$2 AND received_ts=$3`
	changeCaseQuery = `INSERT INTO report_case (kind, report_id, received_ts, state, changed_by, changed_at, note, version, desk)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8 + 1, $9)
		ON CONFLICT (kind, report_id, received_ts) DO UPDATE SET state=excluded.state, changed_by=excluded.changed_by,
			changed_at=excluded.changed_at, note=excluded.note, version=excluded.version, desk=excluded.desk
		WHERE report_case.version=$8`
)

// ReportCaseQuery reads and writes the report_case table (Store.Cases).
type ReportCaseQuery struct {
	db *dbutil.Database
	// A change's other tables: the card's edit, the archived report.
	outbox  *OutboxQuery
	archive *ReportArchiveQuery
}

// CaseState is where a case stands, as the report_case table spells it.
type CaseState string

// Case states.
const (
	CaseOpen      CaseState = "open"
	CaseClaimed   CaseState = "claimed"
	CaseResolved  CaseState = "resolved"
	CaseDismissed CaseState = "dismissed"
	// CaseDeleted: the report was deleted in Synapse outside Gavel while
	// its case was open.
	CaseDeleted CaseState = "deleted"
)

// Closed reports whether a case in state is closed: resolved, dismissed
// or deleted outside Gavel.
func Closed(state CaseState) bool {
	return state == CaseResolved || state == CaseDismissed || state == CaseDeleted
}

// Edits returns the edits of a report's cards (one per desk that shows
// it) for the new version of its case; none when it has no card.
type Edits func(version int) []Message

// errCaseChanged rolls back a transaction whose case changed meanwhile.
var errCaseChanged = errors.New("the case changed meanwhile")

// Case is where a report stands.
type Case struct {
	Report ReportKey
	State  CaseState
	// By is who made the last change, at At, with Note.
	By   id.UserID
	At   time.Time
	Note string
	// Desk is the desk the change was made in: its name, "" for the
	// server desk.
	Desk string
	// Version counts the changes: 0 for a case never changed.
	Version int
}

// Get returns the case of report r; one never changed is open.
func (s *ReportCaseQuery) Get(ctx context.Context, r ReportKey) (Case, error) {
	r = r.normal()
	c := Case{Report: r, State: CaseOpen}
	var at int64
	err := s.db.QueryRow(ctx, getCaseQuery, r.Kind, r.ID, r.ReceivedTS).Scan(&c.State, &c.By, &at, &c.Note, &c.Version, &c.Desk)
	if errors.Is(err, sql.ErrNoRows) {
		return c, nil
	} else if err != nil {
		return c, err
	}
	c.At = time.UnixMilli(at)
	return c, nil
}

// Change records c as the case's new state, made against the version
// c was read at (c.Version), and queues the message edit returns for the
// new version in the same transaction; edit must not use
// the store. With archive (not nil), the report (k) is archived in the
// same transaction, as archive holds it. It reports false, changing
// nothing, when the case changed since. On success c.Version is the new
// version.
func (s *ReportCaseQuery) Change(ctx context.Context, c *Case, edit Edits, archive ...Archived) (bool, error) {
	return s.change(ctx, c, edit, func(ctx context.Context) error {
		for _, a := range archive {
			if err := s.archive.add(ctx, a); err != nil {
				return err
			}
		}
		return nil
	})
}

// ReplaceCard makes content the card under card's content from now on
// (for the edits that follow) and queues the edit edit returns, made
// against the version the case c was read at, in one transaction: c's
// version goes up, so that the edits of a card are ordered. It reports
// false, changing nothing, when the case changed since.
func (s *ReportCaseQuery) ReplaceCard(ctx context.Context, c *Case, card OutboxKey, content json.RawMessage, edit Edits) (bool, error) {
	return s.change(ctx, c, edit, func(ctx context.Context) error {
		_, err := s.db.Exec(ctx, replaceContentQuery, card, string(content))
		return err
	})
}

// change is Change with also, run in the transaction once the
// case has changed.
func (s *ReportCaseQuery) change(ctx context.Context, c *Case, edit Edits, also func(ctx context.Context) error) (bool, error) {
	r := c.Report.normal()
	changed := false
	err := s.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		res, err := s.db.Exec(ctx, changeCaseQuery, r.Kind, r.ID, r.ReceivedTS, c.State, c.By, c.At.UnixMilli(), c.Note, c.Version, c.Desk)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		changed = true
		if err := also(ctx); err != nil {
			return err
		}
		for _, m := range edit(c.Version + 1) {
			if err := s.outbox.enqueue(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || !changed {
		return false, err
	}
	c.Version++
	return true, nil
}

// CaseQuery selects cases, for !reports.
type CaseQuery struct {
	Kinds  []ReportKind // reports of these kinds; empty for every kind
	States []CaseState  // any of these states
	By     id.UserID    // last changed by; "" for anyone
	Before time.Time    // received before; zero for any time
	// CardsIn: only reports with a card in this room (a desk's); "" for
	// every report.
	CardsIn id.RoomID
	Limit   int
	// oldest: the oldest report first (OldestOpen).
	oldest bool
}

// List returns the cases q selects, newest report first.
func (s *ReportCaseQuery) List(ctx context.Context, q CaseQuery) ([]Case, error) {
	return s.casesIter(ctx, q).AsList()
}

// Each calls fn with each case q selects, newest report first, without
// holding them all in memory; fn stops the iteration by returning false.
// fn must not use the store: the query holds a connection while it runs.
func (s *ReportCaseQuery) Each(ctx context.Context, q CaseQuery, fn func(Case) bool) error {
	return s.casesIter(ctx, q).Iter(func(c Case) (bool, error) { return fn(c), nil })
}

func (s *ReportCaseQuery) casesIter(ctx context.Context, q CaseQuery) dbutil.RowIter[Case] {
	var args []any
	where := []string{"r.state<>'duplicate'"}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if len(q.Kinds) > 0 {
		var kinds []string
		for _, k := range q.Kinds {
			kinds = append(kinds, arg(k))
		}
		where = append(where, "r.kind IN ("+strings.Join(kinds, ", ")+")")
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
	if q.CardsIn != "" {
		where = append(where, "EXISTS (SELECT 1 FROM outbox o WHERE o.report_id=r.report_id AND o.report_kind=r.kind AND o.report_ts=r.received_ts AND o.room_id="+arg(q.CardsIn)+")")
	}
	query := `SELECT r.kind, r.report_id, r.received_ts, COALESCE(c.state, 'open'), COALESCE(c.changed_by, ''),
			COALESCE(c.changed_at, 0), COALESCE(c.note, ''), COALESCE(c.version, 0), COALESCE(c.desk, '')
		FROM report r LEFT JOIN report_case c
			ON c.kind=r.kind AND c.report_id=r.report_id AND c.received_ts=r.received_ts
		WHERE ` + strings.Join(where, " AND ") + ` ORDER BY r.received_ts DESC, r.report_id DESC LIMIT ` + arg(q.Limit)
	if q.oldest {
		query = strings.Replace(query, "r.received_ts DESC, r.report_id DESC", "r.received_ts, r.report_id", 1)
	}
	return scanCase.NewRowIter(s.db.Query(ctx, query, args...))
}

var scanCase dbutil.ConvertRowFn[Case] = func(row dbutil.Scannable) (Case, error) {
	var c Case
	var at int64
	err := row.Scan(&c.Report.Kind, &c.Report.ID, &c.Report.ReceivedTS, &c.State, &c.By, &at, &c.Note, &c.Version, &c.Desk)
	if at != 0 {
		c.At = time.UnixMilli(at)
	}
	return c, err
}

// Changed calls fn with the case of each report received in [since,
// until) that was ever changed (a report without one is open), in no
// particular order, without holding them in memory (for !stats): its
// report, state and time (At) only, for speed. fn must not use the
// store.
func (s *ReportCaseQuery) Changed(ctx context.Context, since, until time.Time, fn func(Case)) error {
	rows, err := s.db.Query(ctx, changedCasesQuery, since.UnixMilli(), until.UnixMilli())
	if err != nil {
		return err
	}
	defer rows.Close()
	var kind, reportID, ts, state, at any
	for rows.Next() {
		if err := rows.Scan(&kind, &reportID, &ts, &state, &at); err != nil {
			return err
		}
		fn(Case{Report: ReportKey{Kind: ReportKind(text(kind)), ID: integer(reportID), ReceivedTS: integer(ts)},
			State: CaseState(text(state)), At: time.UnixMilli(integer(at))})
	}
	return rows.Err()
}

const changedCasesQuery = `SELECT kind, report_id, received_ts, state, changed_at FROM report_case
	WHERE received_ts>=$1 AND received_ts<$2`

// OldestOpen returns the open case (nobody claimed or closed it)
// received longest ago, before before; false when there is none.
func (s *ReportCaseQuery) OldestOpen(ctx context.Context, before time.Time) (Case, bool, error) {
	cases, err := s.casesIter(ctx, CaseQuery{States: []CaseState{CaseOpen}, Before: before, Limit: 1, oldest: true}).AsList()
	if err != nil || len(cases) == 0 {
		return Case{}, false, err
	}
	return cases[0], true, nil
}
