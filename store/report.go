package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/mxid"
)

// The report table: one row per report Gavel has seen.

const (
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

// ErrAlreadySeen is returned by AddReportsDigest when one of the reports
// already has a row: nothing was recorded or queued.
var ErrAlreadySeen = errors.New("a report in the digest was already seen")

var scanReportKey dbutil.ConvertRowFn[ReportKey] = func(row dbutil.Scannable) (k ReportKey, err error) {
	err = row.Scan(&k.Kind, &k.ID, &k.ReceivedTS)
	return
}

// Unseen returns the reports among keys that the store has no row for, in
// the order given. It asks the database once for all of them.
func (s *Store) Unseen(ctx context.Context, keys []ReportKey) ([]ReportKey, error) {
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

// MaxReportID returns the highest id of the reports of kind the store has
// seen, 0 for none.
func (s *Store) MaxReportID(ctx context.Context, kind ReportKind) (int64, error) {
	var n int64
	err := s.db.QueryRow(ctx, maxReportIDQuery, kind).Scan(&n)
	return n, err
}

type stateCount struct {
	State string
	N     int
}

// CountReports returns how many reports the store has seen, by state.
func (s *Store) CountReports(ctx context.Context) (map[string]int, error) {
	return dbutil.RowIterAsMap(dbutil.NewSimpleReflectRowIter[stateCount](s.db.Query(ctx, countReportsQuery)),
		func(c *stateCount) (string, int) { return c.State, c.N })
}

// insertReport records a report as seen, with the outbox message that
// covers it ("" for none), and reports whether it was new.
func (s *Store) insertReport(ctx context.Context, r Report, state string, outboxKey OutboxKey, now int64) (bool, error) {
	k := r.normal()
	res, err := s.db.Exec(ctx, insertReportQuery,
		k.Kind, k.ID, k.ReceivedTS, r.RoomID, r.EventID, state, dbutil.StrPtr(outboxKey), now, dbutil.StrPtr(r.TargetUser), dbutil.StrPtr(r.Reporter))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// AddReportNotice records a report as seen and queues its notice (its
// card) and the buttons that go on it, in one transaction: either all
// happen or none does. A report already recorded is left alone and
// nothing is queued.
func (s *Store) AddReportNotice(ctx context.Context, r Report, notice Message, buttons ...Message) error {
	notice.Report = r.normal() // what a reaction to the card is about
	return s.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		if added, err := s.insertReport(ctx, r, ReportNotice, notice.Key, time.Now().UnixMilli()); err != nil || !added {
			return err
		}
		for _, m := range append([]Message{notice}, buttons...) {
			if err := s.enqueue(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
}

// AddReportsDigest records reports as seen and queues one digest covering
// them all, in one transaction. If any of them was already recorded,
// nothing happens and ErrAlreadySeen is returned.
func (s *Store) AddReportsDigest(ctx context.Context, reports []Report, digest Message) error {
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
		return s.enqueue(ctx, digest)
	})
}

// SkipReports records reports as seen without a notice: the reports open at
// the first start with on_first_start: skip, a page at a time.
func (s *Store) SkipReports(ctx context.Context, reports []Report) error {
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

// CardMessages is the card of report r (under NoticeKey(r), with r in its
// Report), for room, with content, and the reactions Gavel puts on it, one
// per button key (an emoji): queued after every card and reply, each
// relating to the card.
func CardMessages(r ReportKey, room id.RoomID, priority int, content json.RawMessage, buttons []string) (Message, []Message) {
	key := NoticeKey(r)
	card := Message{Key: key, Priority: priority, RoomID: room, Content: content, Report: r.normal()}
	reactions := make([]Message, len(buttons))
	for i, b := range buttons {
		c, _ := json.Marshal(map[string]string{"key": b})
		reactions[i] = Message{Key: ButtonKey(key, i+1), Priority: PriorityButton, RoomID: room, Type: "m.reaction", Content: c, RelatesTo: key}
	}
	return card, reactions
}
