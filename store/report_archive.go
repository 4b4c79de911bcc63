package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"go.mau.fi/util/dbutil"
)

// The report_archive table: reports as Synapse had them before Gavel
// deleted them there (moderation.delete_on_resolve), archived in the
// transaction that closes their case.

const (
	archiveQuery = `INSERT INTO report_archive (kind, report_id, received_ts, report, archived_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (kind, report_id, received_ts) DO UPDATE SET report=excluded.report, archived_at=excluded.archived_at`
	getArchivedQuery = `SELECT received_ts, report FROM report_archive WHERE kind=$1 AND report_id=$2 ORDER BY received_ts DESC LIMIT 1`
)

// ReportArchiveQuery reads and writes the report_archive table
// (Store.Archive).
type ReportArchiveQuery struct{ db *dbutil.Database }

// Archived is a report as Synapse had it before Gavel deleted it there.
type Archived struct {
	Report ReportKey
	JSON   json.RawMessage
}

// Get returns the newest archived report of kind with id, or
// nil.
func (s *ReportArchiveQuery) Get(ctx context.Context, kind ReportKind, reportID int64) (*Archived, error) {
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

// add archives a, in the transaction of the case change that closes it.
func (s *ReportArchiveQuery) add(ctx context.Context, a Archived) error {
	k := a.Report.normal()
	_, err := s.db.Exec(ctx, archiveQuery, k.Kind, k.ID, k.ReceivedTS, string(a.JSON), time.Now().UnixMilli())
	return err
}
