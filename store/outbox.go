package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"sync/atomic"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// The outbox table: messages to post exactly once. The key is also the
// transaction id of the send, so a resend after a crash is deduplicated by
// the homeserver.

// OutboxQuery reads and writes the outbox table (Store.Outbox).
type OutboxQuery struct {
	db    *dbutil.Database
	fence *fenceHolder
	kv    *KVQuery // EnqueueAndSet's other table
}

const (
	messageColumns = `key, priority, room_id, content, attempted_at, sent_at, event_id, error, relates_to, type, report_kind, report_id, report_ts, in_thread`
	enqueueQuery   = `INSERT INTO outbox (key, priority, room_id, content, queued_at, relates_to, type, report_kind, report_id, report_ts, in_thread)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (key) DO NOTHING`
	unsentQuery         = `SELECT ` + messageColumns + ` FROM outbox WHERE sent_at IS NULL ORDER BY priority, queued_at LIMIT $1`
	unsentInQuery       = `SELECT ` + messageColumns + ` FROM outbox WHERE sent_at IS NULL AND room_id=$2 ORDER BY priority, queued_at LIMIT $1`
	getMessageQuery     = `SELECT ` + messageColumns + ` FROM outbox WHERE key=$1`
	messageByEventQuery = `SELECT ` + messageColumns + ` FROM outbox WHERE event_id=$1`
	// A card is the one message that holds its report (see CardMessages).
	cardsQuery         = `SELECT ` + messageColumns + ` FROM outbox WHERE report_id=$2 AND report_kind=$1 AND report_ts=$3 ORDER BY queued_at`
	markAttemptedQuery = `UPDATE outbox SET attempted_at=$2 WHERE key=$1 AND attempted_at IS NULL`
	markFailedQuery    = `UPDATE outbox SET sent_at=$2, error=$3 WHERE key=$1`
	markSentQuery      = `UPDATE outbox SET sent_at=$2, event_id=$3 WHERE key=$1`
	readdressQuery     = `UPDATE outbox SET room_id=$1 WHERE sent_at IS NULL AND room_id<>$1 AND priority<>$2`
	dropOtherRoomQuery = `UPDATE outbox SET sent_at=$2, error=$3 WHERE sent_at IS NULL AND room_id<>$1`
	// outbox_unsent_idx holds only the unsent messages.
	outboxDepthQuery = `SELECT COUNT(*), MIN(queued_at) FROM outbox WHERE sent_at IS NULL`
)

// Message is a message in the outbox: posted once, in order of Priority
// then queueing.
type Message struct {
	// Key identifies the message and is the transaction id of its send.
	// keys.go has the constructors (OutboxKey).
	Key OutboxKey
	// Priority orders the outbox: lower goes first. Command replies go
	// before report notices, so moderators get answers during a flood.
	Priority int
	RoomID   id.RoomID
	// Content is the event content as JSON.
	Content json.RawMessage
	// Type is the event type: "" for m.room.message, or m.reaction.
	Type string
	// RelatesTo, when set, is the key of the message this one relates to,
	// sent with the event id that message was posted as: a message is an
	// edit of it (Content is the new content, sent as an m.replace), a
	// reaction annotates it. It must be queued after that message, with
	// the same priority or a later one, so that it is sent after it.
	RelatesTo OutboxKey
	// InThread makes the message, instead, a new message in the thread
	// rooted at RelatesTo: a note in the thread of a card that may not be
	// posted yet.
	InThread bool
	// Report is the report whose card this message is (see CardMessages);
	// zero for every other message. A reaction to the card is about it.
	Report ReportKey
	// AttemptedAt is when a send was first tried; zero before that.
	AttemptedAt time.Time
	// SentAt and EventID are set once the homeserver accepted the message;
	// SentAt and Error when it refused it for good.
	SentAt  time.Time
	EventID id.EventID
	Error   string
}

// Outbox priorities.
const (
	PriorityReply  = 0
	PriorityNotice = 1
	// PriorityButton is for the reactions Gavel puts on its cards: they
	// never hold up a card or a reply.
	PriorityButton = 2
)

// CardMessages is the card of report r under key (NoticeKey(r) in the
// server desk, DeskCardKey in a community desk; with r in its Report),
// for room, with content, and the reactions Gavel puts on it, with the
// contents reactions holds (see notice.Reactions): queued after every
// card and reply, each relating to the card.
func CardMessages(key OutboxKey, r ReportKey, room id.RoomID, priority int, content json.RawMessage, reactions []json.RawMessage) (Message, []Message) {
	card := Message{Key: key, Priority: priority, RoomID: room, Content: content, Report: r.normal()}
	messages := make([]Message, len(reactions))
	for i, c := range reactions {
		messages[i] = Message{Key: ButtonKey(key, i+1), Priority: PriorityButton, RoomID: room, Type: "m.reaction", Content: c, RelatesTo: key}
	}
	return card, messages
}

var scanMessage dbutil.ConvertRowFn[Message] = func(row dbutil.Scannable) (Message, error) {
	var m Message
	var content string
	var attempted, sent sql.NullInt64
	var eventID, failure, relatesTo, typ, reportKind sql.NullString
	var reportID, reportTS sql.NullInt64
	err := row.Scan(&m.Key, &m.Priority, &m.RoomID, &content, &attempted, &sent, &eventID, &failure, &relatesTo, &typ, &reportKind, &reportID, &reportTS, &m.InThread)
	if reportKind.Valid {
		m.Report = ReportKey{Kind: ReportKind(reportKind.String), ID: reportID.Int64, ReceivedTS: reportTS.Int64}
	}
	m.RelatesTo, m.Type = OutboxKey(relatesTo.String), typ.String
	m.Content = json.RawMessage(content)
	m.AttemptedAt, m.SentAt = fromMilli(attempted), fromMilli(sent)
	m.EventID, m.Error = id.EventID(eventID.String), failure.String
	return m, err
}

// fromMilli turns a nullable column of Unix milliseconds into a time, zero
// for NULL.
func fromMilli(ms sql.NullInt64) time.Time {
	if !ms.Valid {
		return time.Time{}
	}
	return time.UnixMilli(ms.Int64)
}

var lastQueued atomic.Int64

// queueTime returns nanoseconds since the epoch, strictly increasing within
// this process, so that messages queued together keep their order.
func queueTime() int64 {
	for {
		last, now := lastQueued.Load(), time.Now().UnixNano()
		if now <= last {
			now = last + 1
		}
		if lastQueued.CompareAndSwap(last, now) {
			return now
		}
	}
}

func (s *OutboxQuery) enqueue(ctx context.Context, m Message) error {
	relatesTo := sql.NullString{String: string(m.RelatesTo), Valid: m.RelatesTo != ""}
	typ := sql.NullString{String: m.Type, Valid: m.Type != ""}
	var reportKind sql.NullString
	var reportID, reportTS sql.NullInt64
	if m.Report != (ReportKey{}) {
		r := m.Report.normal()
		reportKind = sql.NullString{String: string(r.Kind), Valid: true}
		reportID, reportTS = sql.NullInt64{Int64: r.ID, Valid: true}, sql.NullInt64{Int64: r.ReceivedTS, Valid: true}
	}
	_, err := s.db.Exec(ctx, enqueueQuery, m.Key, m.Priority, m.RoomID, string(m.Content), queueTime(), relatesTo, typ, reportKind, reportID, reportTS, m.InThread)
	return err
}

// Enqueue adds a message to the outbox unless one with its key is there.
func (s *OutboxQuery) Enqueue(ctx context.Context, m Message) error {
	return s.enqueue(ctx, m)
}

// EnqueueAll queues messages in one transaction, in order.
func (s *OutboxQuery) EnqueueAll(ctx context.Context, messages ...Message) error {
	return s.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		for _, m := range messages {
			if err := s.enqueue(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
}

// EnqueueAndSet queues a message and stores kv key=value in one
// transaction: the first start's summary and the mark that it is done.
func (s *OutboxQuery) EnqueueAndSet(ctx context.Context, m Message, key KVKey, value string) error {
	return s.EnqueueAllAndSet(ctx, key, value, m)
}

// EnqueueAllAndSet queues messages, in order, and stores kv key=value in
// one transaction: the weekly picture and the mark that its week is done.
func (s *OutboxQuery) EnqueueAllAndSet(ctx context.Context, key KVKey, value string, messages ...Message) error {
	return s.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		for _, m := range messages {
			if err := s.enqueue(ctx, m); err != nil {
				return err
			}
		}
		return s.kv.Set(ctx, key, value)
	})
}

// Unsent returns up to limit unsent messages in send order.
func (s *OutboxQuery) Unsent(ctx context.Context, limit int) ([]Message, error) {
	return scanMessage.NewRowIter(s.db.Query(ctx, unsentQuery, limit)).AsList()
}

// UnsentIn returns up to limit messages for room not sent yet, in the
// order to send them.
func (s *OutboxQuery) UnsentIn(ctx context.Context, room id.RoomID, limit int) ([]Message, error) {
	return scanMessage.NewRowIter(s.db.Query(ctx, unsentInQuery, limit, room)).AsList()
}

// Get returns the outbox message with the given key, or nil.
func (s *OutboxQuery) Get(ctx context.Context, key OutboxKey) (*Message, error) {
	m, err := scanMessage(s.db.QueryRow(ctx, getMessageQuery, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return &m, nil
}

// ByEvent returns the outbox message that was posted as eventID,
// or nil.
func (s *OutboxQuery) ByEvent(ctx context.Context, eventID id.EventID) (*Message, error) {
	m, err := scanMessage(s.db.QueryRow(ctx, messageByEventQuery, eventID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return &m, nil
}

// MarkAttempted records that a send of the message is about to be tried;
// the first attempt's time is kept. With a fence (SetFence), it is checked
// in the same transaction: ErrNotActive means the message must not be sent.
func (s *OutboxQuery) MarkAttempted(ctx context.Context, key OutboxKey) error {
	return s.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		if err := s.fence.check(ctx); err != nil {
			return err
		}
		_, err := s.db.Exec(ctx, markAttemptedQuery, key, time.Now().UnixMilli())
		return err
	})
}

// MarkFailed records that the homeserver refused the message for good
// (too large, malformed): it is not sent again.
func (s *OutboxQuery) MarkFailed(ctx context.Context, key OutboxKey, reason string) error {
	_, err := s.db.Exec(ctx, markFailedQuery, key, time.Now().UnixMilli(), reason)
	return err
}

// MarkSent records that the homeserver accepted the message as eventID.
func (s *OutboxQuery) MarkSent(ctx context.Context, key OutboxKey, eventID id.EventID) error {
	_, err := s.db.Exec(ctx, markSentQuery, key, time.Now().UnixMilli(), eventID)
	return err
}

// Cards returns the cards of report r, one per desk that shows it, in
// the order they were queued.
func (s *OutboxQuery) Cards(ctx context.Context, r ReportKey) ([]Message, error) {
	r = r.normal()
	return scanMessage.NewRowIter(s.db.Query(ctx, cardsQuery, r.Kind, r.ID, r.ReceivedTS)).AsList()
}

// Readdress points the unsent messages queued for rooms other than room
// and the desks' rooms at room: notices follow the management room when
// it changes (and a desk's when the desk is gone); replies to commands in
// another room are dropped, since what they reply to is not in room. It
// returns how many messages were moved and dropped.
func (s *OutboxQuery) Readdress(ctx context.Context, room id.RoomID, desks ...id.RoomID) (moved, dropped int64, err error) {
	// keep leaves the desks' rooms alone; their ids follow the query's
	// own arguments.
	keep := func(query string, args ...any) (string, []any) {
		for _, d := range desks {
			args = append(args, d)
			query += " AND room_id<>$" + strconv.Itoa(len(args))
		}
		return query, args
	}
	err = s.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		query, args := keep(readdressQuery, room, PriorityReply)
		res, err := s.db.Exec(ctx, query, args...)
		if err != nil {
			return err
		}
		moved, _ = res.RowsAffected()
		query, args = keep(dropOtherRoomQuery, room, time.Now().UnixMilli(), "the management room changed")
		res, err = s.db.Exec(ctx, query, args...)
		if err != nil {
			return err
		}
		dropped, _ = res.RowsAffected()
		return nil
	})
	return moved, dropped, err
}

// Depth returns how many messages wait to be sent, and when the
// oldest of them was queued (zero when none waits).
func (s *OutboxQuery) Depth(ctx context.Context) (int64, time.Time, error) {
	var n int64
	var oldest sql.NullInt64
	if err := s.db.QueryRow(ctx, outboxDepthQuery).Scan(&n, &oldest); err != nil {
		return 0, time.Time{}, err
	}
	if !oldest.Valid {
		return n, time.Time{}, nil
	}
	return n, time.Unix(0, oldest.Int64), nil // queued_at is in nanoseconds (queueTime)
}
