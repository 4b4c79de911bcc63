package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/mxid"
)

// The pending table: actions waiting for a moderator's confirmation. The
// preview Gavel posts is the outbox message under PreviewKey; a reaction
// to it is matched through the outbox's event id.

// PendingQuery reads and writes the pending table (Store.Pending).
type PendingQuery struct{ db *dbutil.Database }

const (
	insertPendingQuery = `INSERT INTO pending (preview_key, command, sender, created_at, expires_at, state, command_name, args, report_kind, report_id, thread)
		VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`
	pendingByEventQuery = `SELECT p.preview_key, p.command, p.sender, p.created_at, p.expires_at, p.state, p.decided_by, p.decided_at,
			p.command_name, p.args, p.report_kind, p.report_id, p.thread
		FROM pending p JOIN outbox ON outbox.key=p.preview_key WHERE outbox.event_id=$1`
	decidePendingQuery = `UPDATE pending SET state=$2, decided_by=$3, decided_at=$4
		WHERE preview_key=$1 AND state='pending' AND expires_at>$4`
	pendingCountQuery = `SELECT COUNT(*) FROM pending WHERE state='pending' AND expires_at>$1`
)

// Pending states.
const (
	PendingOpen      = "pending"
	PendingConfirmed = "confirmed"
	PendingCancelled = "cancelled"
)

// Pending is an action waiting for confirmation.
type Pending struct {
	PreviewKey OutboxKey
	// Command is the command as the moderator sent it, for the action
	// log; it is never parsed again.
	Command string
	// Name and Args are what runs when a moderator confirms: the
	// command's name (commands.Spec.Name) and its parsed arguments as
	// JSON. Name is empty for an action left pending by a Gavel older
	// than schema v9, which stored only the text: it cannot be confirmed.
	Name string
	Args json.RawMessage
	// Report is the report the command is about (zero for none), and
	// Thread the thread its preview was posted in ("" for none).
	Report    mxid.ReportRef
	Thread    id.EventID
	Sender    id.UserID
	CreatedAt time.Time
	ExpiresAt time.Time
	State     string
	DecidedBy id.UserID
	DecidedAt time.Time
}

func (s *PendingQuery) insert(ctx context.Context, p *Pending) error {
	var reportKind sql.NullString
	var reportID sql.NullInt64
	if !p.Report.IsZero() {
		r := p.Report.Normal()
		reportKind, reportID = sql.NullString{String: string(r.Kind), Valid: true}, sql.NullInt64{Int64: r.ID, Valid: true}
	}
	_, err := s.db.Exec(ctx, insertPendingQuery, p.PreviewKey, p.Command, p.Sender, p.CreatedAt.UnixMilli(), p.ExpiresAt.UnixMilli(),
		nullable(p.Name), nullable(string(p.Args)), reportKind, reportID, nullable(string(p.Thread)))
	return err
}

// ByEvent returns the pending action whose preview was posted as
// eventID, or nil when that event is no preview.
func (s *PendingQuery) ByEvent(ctx context.Context, eventID id.EventID) (*Pending, error) {
	var p Pending
	var created, expires int64
	var decidedBy, name, args, reportKind, thread sql.NullString
	var decidedAt, reportID sql.NullInt64
	err := s.db.QueryRow(ctx, pendingByEventQuery, eventID).Scan(&p.PreviewKey, &p.Command, &p.Sender, &created, &expires, &p.State, &decidedBy, &decidedAt,
		&name, &args, &reportKind, &reportID, &thread)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	p.CreatedAt, p.ExpiresAt = time.UnixMilli(created), time.UnixMilli(expires)
	p.DecidedBy = id.UserID(decidedBy.String)
	p.Name, p.Thread = name.String, id.EventID(thread.String)
	if args.Valid {
		p.Args = json.RawMessage(args.String)
	}
	if reportKind.Valid {
		p.Report = mxid.ReportRef{Kind: mxid.ReportKind(reportKind.String), ID: reportID.Int64}
	}
	if decidedAt.Valid {
		p.DecidedAt = time.UnixMilli(decidedAt.Int64)
	}
	return &p, nil
}

// Decide confirms or cancels a pending action, as by at now, and
// reports whether this call decided it: only one call can, and only
// before the action expires.
func (s *PendingQuery) Decide(ctx context.Context, key OutboxKey, state string, by id.UserID, now time.Time) (bool, error) {
	res, err := s.db.Exec(ctx, decidePendingQuery, key, state, by, now.UnixMilli())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Count returns how many actions wait for a confirmation that can
// still come at now.
func (s *PendingQuery) Count(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.db.QueryRow(ctx, pendingCountQuery, now.UnixMilli()).Scan(&n)
	return n, err
}

// nullable is s, or NULL when empty.
func nullable(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
