package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// Records of users and reporters, read from the report, report_case and
// action tables for the context on a card: what Gavel has seen of the
// reported user before, and how reliable the reporter has been. Only what
// Gavel has seen counts: reports recorded before v7 have no target_user,
// and their reporter only when they were duplicates.

// RecordQuery reads users' and reporters' records (Store.Records).
type RecordQuery struct{ db *dbutil.Database }

// Counts stop at RecordCap + 1, so that a user reported 100,000 times
// costs no more than one reported a thousand times; cases (report_case)
// are far fewer than reports, so the queries on them start there.
const (
	userReportsQuery = `SELECT COUNT(*) FROM (SELECT 1 FROM report
		WHERE target_user=$1 AND NOT (kind=$2 AND report_id=$3 AND received_ts=$4) LIMIT $5) AS counted`
	lastOutcomeQuery = `SELECT c.state, c.changed_by, c.changed_at, c.note FROM report_case c
		WHERE c.state IN ('resolved', 'dismissed', 'deleted') AND NOT (c.kind=$2 AND c.report_id=$3 AND c.received_ts=$4)
			AND EXISTS (SELECT 1 FROM report r WHERE r.kind=c.kind AND r.report_id=c.report_id AND r.received_ts=c.received_ts AND r.target_user=$1)
		ORDER BY c.changed_at DESC LIMIT 1`
	// The target column holds what an action was on, separated by spaces;
	// a user id may hold LIKE's wildcards, so they are escaped.
	userActionsQuery = `SELECT COUNT(*) FROM action
		WHERE ok AND (' ' || target || ' ') LIKE $1 ESCAPE '\'`
	reporterQuery = `SELECT COUNT(*) FROM (SELECT 1 FROM report
		WHERE reporter=$1 AND NOT (kind=$2 AND report_id=$3 AND received_ts=$4) LIMIT $5) AS counted`
	dismissedQuery = `SELECT COUNT(*) FROM report_case c
		WHERE c.state='dismissed' AND NOT (c.kind=$2 AND c.report_id=$3 AND c.received_ts=$4)
			AND EXISTS (SELECT 1 FROM report r WHERE r.kind=c.kind AND r.report_id=c.report_id AND r.received_ts=c.received_ts AND r.reporter=$1)`
)

// RecordCap is where the counts of a record stop: a count of RecordCap+1
// means more than RecordCap.
const RecordCap = 1000

// UserRecord is what Gavel has seen of a user before a report about them.
type UserRecord struct {
	// Reports counts the other reports about the user, up to
	// RecordCap+1.
	Reports int
	// Last is the case of the one closed last, if any.
	Last *Case
	// Actions counts the actions moderators took on the user that
	// succeeded.
	Actions int
}

// User returns what Gavel has seen of user, leaving report except
// out.
func (s *RecordQuery) User(ctx context.Context, user id.UserID, except ReportKey) (UserRecord, error) {
	var rec UserRecord
	k := except.normal()
	if err := s.db.QueryRow(ctx, userReportsQuery, user, k.Kind, k.ID, k.ReceivedTS, RecordCap+1).Scan(&rec.Reports); err != nil {
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
	// Filed counts the reporter's other reports Gavel has seen (up to
	// RecordCap+1), and Dismissed those of them whose case was dismissed.
	Filed, Dismissed int
}

// Reporter returns reporter's record, leaving report except out.
func (s *RecordQuery) Reporter(ctx context.Context, reporter id.UserID, except ReportKey) (ReporterRecord, error) {
	var rec ReporterRecord
	k := except.normal()
	if err := s.db.QueryRow(ctx, reporterQuery, reporter, k.Kind, k.ID, k.ReceivedTS, RecordCap+1).Scan(&rec.Filed); err != nil {
		return rec, err
	}
	err := s.db.QueryRow(ctx, dismissedQuery, reporter, k.Kind, k.ID, k.ReceivedTS).Scan(&rec.Dismissed)
	return rec, err
}
