package store

import (
	"context"
	"database/sql"
	"time"
)

// What the metrics and /readyz read of the database.

const (
	// Both use outbox_unsent_idx, which holds only the unsent messages.
	outboxDepthQuery  = `SELECT COUNT(*), MIN(queued_at) FROM outbox WHERE sent_at IS NULL`
	pendingCountQuery = `SELECT COUNT(*) FROM pending WHERE state='pending' AND expires_at>$1`
)

// OutboxDepth returns how many messages wait to be sent, and when the
// oldest of them was queued (zero when none waits).
func (s *Store) OutboxDepth(ctx context.Context) (int64, time.Time, error) {
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

// PendingCount returns how many actions wait for a confirmation that can
// still come at now.
func (s *Store) PendingCount(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.db.QueryRow(ctx, pendingCountQuery, now.UnixMilli()).Scan(&n)
	return n, err
}

// Ping checks that the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.db.QueryRow(ctx, "SELECT 1").Scan(&one)
}
