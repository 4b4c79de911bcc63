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

	"github.com/gavel-bot/gavel/internal/mxid"
)

// The report_case table: where each report stands as a case. A report
// without a row is open. A change is made against the version it was read
// at, in one transaction with the edit of the report's card, so two
// moderators cannot both make it, and a crash loses neither half.

const (
	// The card's report (o.report_*) is the case of a duplicate.
	seenReportQuery = `SELECT r.kind, r.report_id, r.received_ts, r.room_id, r.event_id, r.state, r.outbox_key, o.report_kind, o.report_id, o.report_ts
		FROM report r LEFT JOIN outbox o ON o.key=r.outbox_key
		WHERE r.kind=$1 AND r.report_id=$2 ORDER BY r.received_ts DESC LIMIT 1`
	openCardQuery = `SELECT r.kind, r.report_id, r.received_ts, r.room_id, r.event_id, r.state, r.outbox_key, o.report_kind, o.report_id, o.report_ts
		FROM report r LEFT JOIN outbox o ON o.key=r.outbox_key
		LEFT JOIN report_case c ON c.kind=r.kind AND c.report_id=r.report_id AND c.received_ts=r.received_ts
		WHERE r.kind='event' AND r.event_id=$1 AND r.state='notice' AND COALESCE(c.state, 'open') IN ('open', 'claimed')
		ORDER BY r.received_ts DESC LIMIT 1`
	insertDuplicateQuery = `INSERT INTO report (kind, report_id, received_ts, room_id, event_id, state, outbox_key, seen_at, reporter, reason, target_user)
		VALUES ($1, $2, $3, $4, $5, 'duplicate', $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`
	archiveQuery = `INSERT INTO report_archive (kind, report_id, received_ts, report, archived_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (kind, report_id, received_ts) DO UPDATE SET report=excluded.report, archived_at=excluded.archived_at`
	getArchivedQuery = `SELECT received_ts, report FROM report_archive WHERE kind=$1 AND report_id=$2 ORDER BY received_ts DESC LIMIT 1`
	promoteQuery     = `UPDATE report SET state='notice', outbox_key=$4
		WHERE kind=$1 AND report_id=$2 AND received_ts=$3 AND state='digest'`
	duplicatesQuery = `SELECT report_id, received_ts, COALESCE(reporter, ''), COALESCE(reason, '') FROM report
		WHERE state='duplicate' AND outbox_key=$1 ORDER BY received_ts`
	replaceContentQuery = `UPDATE outbox SET content=$2 WHERE key=$1`
	getCaseQuery        = `SELECT state, changed_by, changed_at, note, version FROM report_case
		WHERE kind=$1 AND report_id=$2 AND received_ts=$3`
	changeCaseQuery = `INSERT INTO report_case (kind, report_id, received_ts, state, changed_by, changed_at, note, version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8 + 1)
		ON CONFLICT (kind, report_id, received_ts) DO UPDATE SET state=excluded.state, changed_by=excluded.changed_by,
			changed_at=excluded.changed_at, note=excluded.note, version=excluded.version
		WHERE report_case.version=$8`
)

// Case states.
const (
	CaseOpen      = "open"
	CaseClaimed   = "claimed"
	CaseResolved  = "resolved"
	CaseDismissed = "dismissed"
	// CaseDeleted: the report was deleted in Synapse outside Gavel while
	// its case was open.
	CaseDeleted = "deleted"
)

// Closed reports whether a case in state is closed: resolved, dismissed
// or deleted outside Gavel.
func Closed(state string) bool {
	return state == CaseResolved || state == CaseDismissed || state == CaseDeleted
}

// SeenReport is a report Gavel has a row for, and how it was shown.
type SeenReport struct {
	Report
	// State is ReportNotice, ReportDigest, ReportSkipped or
	// ReportDuplicate; CardKey is the outbox key of the card that shows it
	// (its notice, or for a duplicate the first report's), empty for the
	// others.
	State   string
	CardKey OutboxKey
	// CaseKey is the report whose case this one's is: its own, or for a
	// duplicate the report its card is for.
	CaseKey ReportKey
	// CoveredBy is the outbox key of the message that covers it: its
	// card, the card it is a duplicate on, or its digest.
	CoveredBy OutboxKey
}

// SeenReport returns the newest report of kind with id that Gavel has seen
// (Synapse reuses ids after a restart), or nil.
func (s *Store) SeenReport(ctx context.Context, kind ReportKind, reportID int64) (*SeenReport, error) {
	return s.seenReport(ctx, seenReportQuery, kind, reportID)
}

// OpenCard returns the report whose card shows event eventID, while its
// case is open or claimed, or nil.
func (s *Store) OpenCard(ctx context.Context, eventID id.EventID) (*SeenReport, error) {
	return s.seenReport(ctx, openCardQuery, eventID)
}

func (s *Store) seenReport(ctx context.Context, query string, args ...any) (*SeenReport, error) {
	var r SeenReport
	var key, cardKind sql.NullString
	var cardID, cardTS sql.NullInt64
	err := s.db.QueryRow(ctx, query, args...).Scan(&r.Kind, &r.ID, &r.ReceivedTS, &r.RoomID, &r.EventID, &r.State, &key, &cardKind, &cardID, &cardTS)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	r.CaseKey, r.CoveredBy = r.ReportKey, OutboxKey(key.String)
	switch r.State {
	case ReportNotice:
		r.CardKey = OutboxKey(key.String)
	case ReportDuplicate:
		// Its case is its card's.
		r.CardKey = OutboxKey(key.String)
		if cardKind.Valid {
			r.CaseKey = ReportKey{Kind: ReportKind(cardKind.String), ID: cardID.Int64, ReceivedTS: cardTS.Int64}
		}
	}
	return &r, nil
}

// PromoteToCard gives report k, which came in a digest, a card of its own:
// its row points at card from now on, and card and its buttons are
// queued, in one transaction. It reports false, changing nothing, when
// the report is not (or no longer) in a digest.
func (s *Store) PromoteToCard(ctx context.Context, k ReportKey, card Message, buttons ...Message) (bool, error) {
	k = k.normal()
	card.Report = k // what a reaction to the card is about
	promoted := false
	err := s.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		res, err := s.db.Exec(ctx, promoteQuery, k.Kind, k.ID, k.ReceivedTS, card.Key)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		promoted = true
		for _, m := range append([]Message{card}, buttons...) {
			if err := s.enqueue(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	return promoted, err
}

// Duplicate is a report shown on another report's card.
type Duplicate struct {
	ReportID   int64
	ReceivedTS int64
	Reporter   id.UserID
	Reason     string
}

// Duplicates returns the duplicate reports shown on the card under key,
// oldest first.
func (s *Store) Duplicates(ctx context.Context, card OutboxKey) ([]Duplicate, error) {
	rows, err := s.db.Query(ctx, duplicatesQuery, card)
	return dbutil.NewRowIterWithError(rows, func(row dbutil.Scannable) (d Duplicate, err error) {
		err = row.Scan(&d.ReportID, &d.ReceivedTS, &d.Reporter, &d.Reason)
		return
	}, err).AsList()
}

// AddDuplicate records r, from reporter with reason, as a duplicate shown
// on the card under card, whose case is c (as read), in one transaction
// with the change that edits the card (c's version goes up, edit returns
// the edit for the new version) and line, a note in the card's thread
// (nil for none). It reports false, recording nothing, when the case
// changed since c was read, or r was already recorded.
func (s *Store) AddDuplicate(ctx context.Context, r Report, reporter id.UserID, reason string, card OutboxKey, c *Case, edit func(version int) *Message, line *Message) (bool, error) {
	k := r.normal()
	added := false
	err := s.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		res, err := s.db.Exec(ctx, insertDuplicateQuery, k.Kind, k.ID, k.ReceivedTS, r.RoomID, r.EventID, card, time.Now().UnixMilli(), reporter, reason, dbutil.StrPtr(r.TargetUser))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		cr := c.Report.normal()
		res, err = s.db.Exec(ctx, changeCaseQuery, cr.Kind, cr.ID, cr.ReceivedTS, c.State, c.By, c.At.UnixMilli(), c.Note, c.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errCaseChanged
		}
		added = true
		for _, m := range []*Message{edit(c.Version + 1), line} {
			if m != nil {
				if err := s.enqueue(ctx, *m); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if errors.Is(err, errCaseChanged) {
		return false, nil
	}
	if err != nil || !added {
		return false, err
	}
	c.Version++
	return true, nil
}

// errCaseChanged rolls back a transaction whose case changed meanwhile.
var errCaseChanged = errors.New("the case changed meanwhile")

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
// the store. With archive (not nil), the report (k) is archived in the
// same transaction, as archive holds it. It reports false, changing
// nothing, when the case changed since. On success c.Version is the new
// version.
func (s *Store) ChangeCase(ctx context.Context, c *Case, edit func(version int) *Message, archive ...Archived) (bool, error) {
	return s.changeCase(ctx, c, edit, func(ctx context.Context) error {
		for _, a := range archive {
			k := a.Report.normal()
			if _, err := s.db.Exec(ctx, archiveQuery, k.Kind, k.ID, k.ReceivedTS, string(a.JSON), time.Now().UnixMilli()); err != nil {
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
func (s *Store) ReplaceCard(ctx context.Context, c *Case, card OutboxKey, content json.RawMessage, edit func(version int) *Message) (bool, error) {
	return s.changeCase(ctx, c, edit, func(ctx context.Context) error {
		_, err := s.db.Exec(ctx, replaceContentQuery, card, string(content))
		return err
	})
}

// changeCase is ChangeCase with also, run in the transaction once the
// case has changed.
func (s *Store) changeCase(ctx context.Context, c *Case, edit func(version int) *Message, also func(ctx context.Context) error) (bool, error) {
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
		if err := also(ctx); err != nil {
			return err
		}
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

// Archived is a report as Synapse had it before Gavel deleted it there.
type Archived struct {
	Report ReportKey
	JSON   json.RawMessage
}

// ArchivedReport returns the newest archived report of kind with id, or
// nil.
func (s *Store) ArchivedReport(ctx context.Context, kind ReportKind, reportID int64) (*Archived, error) {
	a := Archived{Report: ReportKey{Kind: kind, ID: reportID}}
	var data string
	err := s.db.QueryRow(ctx, getArchivedQuery, kind, reportID).Scan(&a.Report.ReceivedTS, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	a.JSON = json.RawMessage(data)
	return &a, nil
}

// ActionsFor returns the actions taken for report r, newest first, at
// most limit.
func (s *Store) ActionsFor(ctx context.Context, r mxid.ReportRef, limit int) ([]Action, error) {
	args := []any{}
	query := `SELECT ` + actionColumns + ` FROM action WHERE ` + reportIs(r, &args)
	args = append(args, limit)
	query += ` ORDER BY id DESC LIMIT $` + strconv.Itoa(len(args))
	return scanAction.NewRowIter(s.db.Query(ctx, query, args...)).AsList()
}

// CaseQuery selects cases, for !reports.
type CaseQuery struct {
	Kinds  []ReportKind // reports of these kinds; empty for every kind
	States []string     // any of these states
	By     id.UserID    // last changed by; "" for anyone
	Before time.Time    // received before; zero for any time
	Limit  int
}

// ListCases returns the cases q selects, newest report first.
func (s *Store) ListCases(ctx context.Context, q CaseQuery) ([]Case, error) {
	return s.casesIter(ctx, q).AsList()
}

// EachCase calls fn with each case q selects, newest report first, without
// holding them all in memory; fn stops the iteration by returning false.
// fn must not use the store: the query holds a connection while it runs.
func (s *Store) EachCase(ctx context.Context, q CaseQuery, fn func(Case) bool) error {
	return s.casesIter(ctx, q).Iter(func(c Case) (bool, error) { return fn(c), nil })
}

func (s *Store) casesIter(ctx context.Context, q CaseQuery) dbutil.RowIter[Case] {
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
	query := `SELECT r.kind, r.report_id, r.received_ts, COALESCE(c.state, 'open'), COALESCE(c.changed_by, ''),
			COALESCE(c.changed_at, 0), COALESCE(c.note, ''), COALESCE(c.version, 0)
		FROM report r LEFT JOIN report_case c
			ON c.kind=r.kind AND c.report_id=r.report_id AND c.received_ts=r.received_ts
		WHERE ` + strings.Join(where, " AND ") + ` ORDER BY r.received_ts DESC, r.report_id DESC LIMIT ` + arg(q.Limit)
	return scanCase.NewRowIter(s.db.Query(ctx, query, args...))
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
