package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// The pending table: actions waiting for a moderator's confirmation. The
// preview Gavel posts is the outbox message under PreviewKey; a reaction
// to it is matched through the outbox's event id.

// PendingQuery reads and writes the pending table (Store.Pending).
type PendingQuery struct{ db *dbutil.Database }

const (
	insertPendingQuery = `INSERT INTO pending (preview_key, command, sender, created_at, expires_at, state)
		VALUES ($1, $2, $3, $4, $5, 'pending') ON CONFLICT DO NOTHING`
	pendingByEventQuery = `SELECT preview_key, command, sender, created_at, expires_at, state, decided_by, decided_at
		FROM pending JOIN outbox ON outbox.key=pending.preview_key WHERE outbox.event_id=$1`
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
	// Command is the command as the moderator typed it, without the
	// prefix; it is parsed again when confirmed.
	Command   string
	Sender    id.UserID
	CreatedAt time.Time
	ExpiresAt time.Time
	State     string
	DecidedBy id.UserID
	DecidedAt time.Time
}

func (s *PendingQuery) insert(ctx context.Context, p *Pending) error {
	_, err := s.db.Exec(ctx, insertPendingQuery, p.PreviewKey, p.Command, p.Sender, p.CreatedAt.UnixMilli(), p.ExpiresAt.UnixMilli())
	return err
}

// ByEvent returns the pending action whose preview was posted as
// eventID, or nil when that event is no preview.
func (s *PendingQuery) ByEvent(ctx context.Context, eventID id.EventID) (*Pending, error) {
	var p Pending
	var created, expires int64
	var decidedBy sql.NullString
	var decidedAt sql.NullInt64
	err := s.db.QueryRow(ctx, pendingByEventQuery, eventID).Scan(&p.PreviewKey, &p.Command, &p.Sender, &created, &expires, &p.State, &decidedBy, &decidedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	p.CreatedAt, p.ExpiresAt = time.UnixMilli(created), time.UnixMilli(expires)
	p.DecidedBy = id.UserID(decidedBy.String)
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
