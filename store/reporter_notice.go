package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// The reporter_notice table: reporters told, by server notice, that their
// report's case was closed. A report's reporter is told once, however
// often its case is closed again.

// ReporterNoticeQuery reads and writes the reporter_notice table
// (Store.ReporterNotices).
type ReporterNoticeQuery struct{ db *dbutil.Database }

const (
	getReporterNoticeQuery    = `SELECT event_id FROM reporter_notice WHERE kind=$1 AND report_id=$2 AND received_ts=$3`
	insertReporterNoticeQuery = `INSERT INTO reporter_notice (kind, report_id, received_ts, sent_at, event_id)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`
)

// Told returns whether report k's reporter was told its case was
// closed.
func (s *ReporterNoticeQuery) Told(ctx context.Context, k ReportKey) (bool, error) {
	k = k.normal()
	var eventID string
	err := s.db.QueryRow(ctx, getReporterNoticeQuery, k.Kind, k.ID, k.ReceivedTS).Scan(&eventID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// MarkTold records that report k's reporter was told, by the
// server notice eventID.
func (s *ReporterNoticeQuery) MarkTold(ctx context.Context, k ReportKey, eventID id.EventID) error {
	k = k.normal()
	_, err := s.db.Exec(ctx, insertReporterNoticeQuery, k.Kind, k.ID, k.ReceivedTS, time.Now().UnixMilli(), eventID)
	return err
}
