package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"
)

// Records of users and reporters, read from the report, report_case and
// action tables for the context on a card: what Gavel has seen of the
// reported user before, and how reliable the reporter has been. Only what
// Gavel has seen counts: reports recorded before v7 have no target_user,
// and their reporter only when they were duplicates.

const (
	userReportsQuery = `SELECT COUNT(*) FROM report
		WHERE target_user=$1 AND NOT (kind=$2 AND report_id=$3 AND received_ts=$4)`
	lastOutcomeQuery = `SELECT c.state, c.changed_by, c.changed_at, c.note FROM report r
		JOIN report_case c ON c.kind=r.kind AND c.report_id=r.report_id AND c.received_ts=r.received_ts
		WHERE r.target_user=$1 AND c.state IN ('resolved', 'dismissed', 'deleted')
			AND NOT (r.kind=$2 AND r.report_id=$3 AND r.received_ts=$4)
		ORDER BY c.changed_at DESC LIMIT 1`
	// The target column holds what an action was on, separated by spaces;
	// a user id may hold LIKE's wildcards, so they are escaped.
	userActionsQuery = `SELECT COUNT(*) FROM action
		WHERE ok AND (' ' || target || ' ') LIKE $1 ESCAPE '\'`
	reporterQuery = `SELECT COUNT(*), COALESCE(SUM(CASE WHEN c.state='dismissed' THEN 1 ELSE 0 END), 0) FROM report r
		LEFT JOIN report_case c ON c.kind=r.kind AND c.report_id=r.report_id AND c.received_ts=r.received_ts
		WHERE r.reporter=$1 AND NOT (r.kind=$2 AND r.report_id=$3 AND r.received_ts=$4)`
)

// UserRecord is what Gavel has seen of a user before a report about them.
type UserRecord struct {
	// Reports counts the other reports about the user.
	Reports int
	// Last is the case of the one closed last, if any.
	Last *Case
	// Actions counts the actions moderators took on the user that
	// succeeded.
	Actions int
}

// UserRecord returns what Gavel has seen of user, leaving report except
// out.
func (s *Store) UserRecord(ctx context.Context, user id.UserID, except ReportKey) (UserRecord, error) {
	var rec UserRecord
	k := except.normal()
	if err := s.db.QueryRow(ctx, userReportsQuery, user, k.Kind, k.ID, k.ReceivedTS).Scan(&rec.Reports); err != nil {
		return rec, err
	}
	if rec.Reports > 0 {
		c := Case{}
		var at int64
		err := s.db.QueryRow(ctx, lastOutcomeQuery, user, k.Kind, k.ID, k.ReceivedTS).Scan(&c.State, &c.By, &at, &c.Note)
		switch {
		case err == nil:
			c.At = time.UnixMilli(at)
			rec.Last = &c
		case !errors.Is(err, sql.ErrNoRows):
			return rec, err
		}
	}
	pattern := "% " + likeEscaper.Replace(string(user)) + " %"
	err := s.db.QueryRow(ctx, userActionsQuery, pattern).Scan(&rec.Actions)
	return rec, err
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// ReporterRecord is how a reporter's reports went.
type ReporterRecord struct {
	// Filed counts the reporter's other reports Gavel has seen, and
	// Dismissed those of them whose case was dismissed.
	Filed, Dismissed int
}

// ReporterRecord returns reporter's record, leaving report except out.
func (s *Store) ReporterRecord(ctx context.Context, reporter id.UserID, except ReportKey) (ReporterRecord, error) {
	var rec ReporterRecord
	k := except.normal()
	err := s.db.QueryRow(ctx, reporterQuery, reporter, k.Kind, k.ID, k.ReceivedTS).Scan(&rec.Filed, &rec.Dismissed)
	return rec, err
}
