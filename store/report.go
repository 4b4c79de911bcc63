package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/mxid"
)

// The report table: one row per report Gavel has seen, and how it was
// shown: on a card of its own, in a digest, skipped, or as a duplicate on
// another report's card.

// ReportQuery reads and writes the report table (Store.Reports).
type ReportQuery struct {
	db *dbutil.Database
	// The outbox holds a report's card or digest. (AddDuplicate also
	// changes the case of the card the duplicate is shown on.)
	outbox *OutboxQuery
}

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
	promoteQuery = `UPDATE report SET state='notice', outbox_key=$4
		WHERE kind=$1 AND report_id=$2 AND received_ts=$3 AND state='digest'`
	duplicatesQuery = `SELECT report_id, received_ts, COALESCE(reporter, ''), COALESCE(reason, '') FROM report
		WHERE state='duplicate' AND outbox_key=$1 ORDER BY received_ts`
	insertReportQuery = `INSERT INTO report (kind, report_id, received_ts, room_id, event_id, state, outbox_key, seen_at, target_user, reporter)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`
	countReportsQuery = `SELECT state, COUNT(*) FROM report GROUP BY state`
	maxReportIDQuery  = `SELECT COALESCE(MAX(report_id), 0) FROM report WHERE kind=$1`
	// unseenQueryPrefix is completed with "kind IN (…) AND report_id IN (…)",
	// which the primary key (kind, report_id, received_ts) serves.
	unseenQueryPrefix = `SELECT kind, report_id, received_ts FROM report WHERE `
)

// ReportKind is what a report is about (see mxid.ReportKind).
type ReportKind = mxid.ReportKind

// Report kinds.
const (
	KindEvent = mxid.KindEvent
	KindUser  = mxid.KindUser
	KindRoom  = mxid.KindRoom
)

// ReportKey identifies a report: its kind, Synapse's id and the time
// Synapse received it (ids are reused after a Synapse restart).
type ReportKey struct {
	ID         int64
	ReceivedTS int64
	// Kind is KindEvent when empty.
	Kind ReportKind
}

// normal returns k with an empty Kind spelt out, as the database has it.
func (k ReportKey) normal() ReportKey {
	if k.Kind == "" {
		k.Kind = KindEvent
	}
	return k
}

// String is "12@1700000000000" for an event report and
// "user:12@1700000000000" for the other kinds.
func (k ReportKey) String() string {
	s := strconv.FormatInt(k.ID, 10) + "@" + strconv.FormatInt(k.ReceivedTS, 10)
	if k := k.normal(); k.Kind != KindEvent {
		s = string(k.Kind) + ":" + s
	}
	return s
}

// Ref is the report as moderators name it.
func (k ReportKey) Ref() mxid.ReportRef { return mxid.ReportRef{Kind: k.Kind, ID: k.ID}.Normal() }

// Report is a report Gavel has seen.
type Report struct {
	ReportKey
	// RoomID and EventID are the reported event's (for a room report, the
	// room); empty when the report is not about them.
	RoomID  id.RoomID
	EventID id.EventID
	// TargetUser is who the report is about: the reported event's sender,
	// or the reported user; empty when unknown.
	TargetUser id.UserID
	// Reporter is who filed it.
	Reporter id.UserID
}

// Report states.
const (
	ReportNotice  = "notice"  // a notice is queued or sent
	ReportSkipped = "skipped" // open at the first start, summarised instead
	ReportDigest  = "digest"  // covered by a digest, queued or sent
	// ReportDuplicate: a report of an event that had an open card, shown
	// on that card.
	ReportDuplicate = "duplicate"
)

// ErrAlreadySeen is returned by AddDigest when one of the reports
// already has a row: nothing was recorded or queued.
var ErrAlreadySeen = errors.New("a report in the digest was already seen")

var scanReportKey dbutil.ConvertRowFn[ReportKey] = func(row dbutil.Scannable) (k ReportKey, err error) {
	err = row.Scan(&k.Kind, &k.ID, &k.ReceivedTS)
	return
}

// Unseen returns the reports among keys that the store has no row for, in
// the order given. It asks the database once for all of them.
func (s *ReportQuery) Unseen(ctx context.Context, keys []ReportKey) ([]ReportKey, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	var kinds, ids []string
	var args []any
	seenKind := map[ReportKind]bool{}
	for _, k := range keys {
		if kind := k.normal().Kind; !seenKind[kind] {
			seenKind[kind] = true
			args = append(args, kind)
			kinds = append(kinds, "$"+strconv.Itoa(len(args)))
		}
	}
	for _, k := range keys {
		args = append(args, k.ID)
		ids = append(ids, "$"+strconv.Itoa(len(args)))
	}
	query := unseenQueryPrefix + "kind IN (" + strings.Join(kinds, ",") + ") AND report_id IN (" + strings.Join(ids, ",") + ")"
	known, err := dbutil.RowIterAsMap(scanReportKey.NewRowIter(s.db.Query(ctx, query, args...)),
		func(k ReportKey) (ReportKey, bool) { return k, true })
	if err != nil {
		return nil, err
	}
	var unseen []ReportKey
	for _, k := range keys {
		if !known[k.normal()] {
			unseen = append(unseen, k)
		}
	}
	return unseen, nil
}

// MaxID returns the highest id of the reports of kind the store has
// seen, 0 for none.
func (s *ReportQuery) MaxID(ctx context.Context, kind ReportKind) (int64, error) {
	var n int64
	err := s.db.QueryRow(ctx, maxReportIDQuery, kind).Scan(&n)
	return n, err
}

type stateCount struct {
	State string
	N     int
}

// CountByState returns how many reports the store has seen, by state.
func (s *ReportQuery) CountByState(ctx context.Context) (map[string]int, error) {
	return dbutil.RowIterAsMap(dbutil.NewSimpleReflectRowIter[stateCount](s.db.Query(ctx, countReportsQuery)),
		func(c *stateCount) (string, int) { return c.State, c.N })
}

// insertReport records a report as seen, with the outbox message that
// covers it ("" for none), and reports whether it was new.
func (s *ReportQuery) insertReport(ctx context.Context, r Report, state string, outboxKey OutboxKey, now int64) (bool, error) {
	k := r.normal()
	res, err := s.db.Exec(ctx, insertReportQuery,
		k.Kind, k.ID, k.ReceivedTS, r.RoomID, r.EventID, state, dbutil.StrPtr(outboxKey), now, dbutil.StrPtr(r.TargetUser), dbutil.StrPtr(r.Reporter))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// AddNotice records a report as seen and queues its notice (its
// card) and the buttons that go on it, in one transaction: either all
// happen or none does. A report already recorded is left alone and
// nothing is queued.
func (s *ReportQuery) AddNotice(ctx context.Context, r Report, notice Message, buttons ...Message) error {
	notice.Report = r.normal() // what a reaction to the card is about
	return s.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		if added, err := s.insertReport(ctx, r, ReportNotice, notice.Key, time.Now().UnixMilli()); err != nil || !added {
			return err
		}
		for _, m := range append([]Message{notice}, buttons...) {
			if err := s.outbox.enqueue(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
}

// AddDigest records reports as seen and queues one digest covering
// them all, in one transaction. If any of them was already recorded,
// nothing happens and ErrAlreadySeen is returned.
func (s *ReportQuery) AddDigest(ctx context.Context, reports []Report, digest Message) error {
	return s.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		now := time.Now().UnixMilli()
		for _, r := range reports {
			added, err := s.insertReport(ctx, r, ReportDigest, digest.Key, now)
			if err != nil {
				return err
			}
			if !added {
				return fmt.Errorf("%w: %s", ErrAlreadySeen, r.ReportKey)
			}
		}
		return s.outbox.enqueue(ctx, digest)
	})
}

// Skip records reports as seen without a notice: the reports open at
// the first start with on_first_start: skip, a page at a time.
func (s *ReportQuery) Skip(ctx context.Context, reports []Report) error {
	return s.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		now := time.Now().UnixMilli()
		for _, r := range reports {
			if _, err := s.insertReport(ctx, r, ReportSkipped, "", now); err != nil {
				return err
			}
		}
		return nil
	})
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

// Seen returns the newest report of kind with id that Gavel has seen
// (Synapse reuses ids after a restart), or nil.
func (s *ReportQuery) Seen(ctx context.Context, kind ReportKind, reportID int64) (*SeenReport, error) {
	return s.seenReport(ctx, seenReportQuery, kind, reportID)
}

// OpenCard returns the report whose card shows event eventID, while its
// case is open or claimed, or nil.
func (s *ReportQuery) OpenCard(ctx context.Context, eventID id.EventID) (*SeenReport, error) {
	return s.seenReport(ctx, openCardQuery, eventID)
}

func (s *ReportQuery) seenReport(ctx context.Context, query string, args ...any) (*SeenReport, error) {
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
func (s *ReportQuery) PromoteToCard(ctx context.Context, k ReportKey, card Message, buttons ...Message) (bool, error) {
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
			if err := s.outbox.enqueue(ctx, m); err != nil {
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
func (s *ReportQuery) Duplicates(ctx context.Context, card OutboxKey) ([]Duplicate, error) {
	rows, err := s.db.Query(ctx, duplicatesQuery, card)
	return dbutil.NewRowIterWithError(rows, func(row dbutil.Scannable) (d Duplicate, err error) {
		err = row.Scan(&d.ReportID, &d.ReceivedTS, &d.Reporter, &d.Reason)
		return
	}, err).AsList()
}

// NewDuplicate is a report to show on another report's card as a
// duplicate (ReportQuery.AddDuplicate).
type NewDuplicate struct {
	// Report is the duplicate, its Reporter who filed it, with Reason.
	Report Report
	Reason string
	// Card is the outbox key of the card it is shown on, and Case that
	// card's case, as read.
	Card OutboxKey
	Case *Case
	// Edit returns the cards' edits for the case's new version; Line is a
	// note in the card's thread (nil for none).
	Edit Edits
	Line *Message
}

// AddDuplicate records d.Report as a duplicate shown on the card d.Card,
// whose case is d.Case (as read), in one transaction with the change that
// edits the card (the case's version goes up, d.Edit returns the edit for
// the new version) and d.Line. It reports false, recording nothing, when
// the case changed since it was read, or the report was already recorded.
func (s *ReportQuery) AddDuplicate(ctx context.Context, d NewDuplicate) (bool, error) {
	r, reporter, reason, card, c, edit, line := d.Report, d.Report.Reporter, d.Reason, d.Card, d.Case, d.Edit, d.Line
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
		res, err = s.db.Exec(ctx, changeCaseQuery, cr.Kind, cr.ID, cr.ReceivedTS, c.State, c.By, c.At.UnixMilli(), c.Note, c.Version, c.Desk)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errCaseChanged
		}
		added = true
		messages := edit(c.Version + 1)
		if line != nil {
			messages = append(messages, *line)
		}
		for _, m := range messages {
			if err := s.outbox.enqueue(ctx, m); err != nil {
				return err
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

// Received calls fn with each report received in [since, until),
// duplicates included (dup), in no particular order, without holding
// them in memory (for !stats). fn must not use the store.
func (s *ReportQuery) Received(ctx context.Context, since, until time.Time, fn func(k ReportKey, dup bool)) error {
	rows, err := s.db.Query(ctx, receivedQuery, since.UnixMilli(), until.UnixMilli())
	if err != nil {
		return err
	}
	defer rows.Close()
	var kind, reportID, ts, dup any
	for rows.Next() {
		if err := rows.Scan(&kind, &reportID, &ts, &dup); err != nil {
			return err
		}
		fn(ReportKey{Kind: ReportKind(text(kind)), ID: integer(reportID), ReceivedTS: integer(ts)}, integer(dup) != 0)
	}
	return rows.Err()
}

// receivedQuery scans the table alone: joined with report_case row by
// row, !stats over 100,000 reports took 3 times as long as the two scans.
const receivedQuery = `SELECT kind, report_id, received_ts, state='duplicate' FROM report WHERE received_ts>=$1 AND received_ts<$2`

// The scans of !stats read columns into any, which database/sql fills
// without reflection (unlike an *int64 or a named string type): over
// 100,000 rows that is about a fifth of the time. text and integer read
// them as both drivers give them.

// text is a TEXT column read into any.
func text(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	}
	return ""
}

// integer is an integer or boolean column read into any.
func integer(v any) int64 {
	switch v := v.(type) {
	case int64:
		return v
	case int32:
		return int64(v)
	case bool:
		if v {
			return 1
		}
	}
	return 0
}
