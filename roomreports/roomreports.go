// Package roomreports reads reports about rooms (MSC4151). Synapse 1.160
// stores them in its room_reports table but has no admin API to list
// them. Gavel reads that one table, read-only, from Synapse's database
// when synapse.database names it (a PostgreSQL URI, or the path of
// Synapse's SQLite file), and prefers the admin API as soon as Synapse
// answers it. Nothing is intercepted or changed: Synapse keeps every
// report, and Gavel never writes to its database.
//
// Of Gavel's packages it may import: adminapi, internal/mxid, internal/retry,
// internal/textcut.
package roomreports

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"maunium.net/go/mautrix"

	"github.com/gavel-bot/gavel/adminapi"

	// Database drivers, as package store has them.
	_ "github.com/lib/pq"
	_ "modernc.org/sqlite"
)

// ErrNotConfigured says that room reports cannot be read: Synapse has no
// admin API for them and synapse.database is not set. It wraps
// adminapi.ErrUnsupported.
var ErrNotConfigured = fmt.Errorf("%w: Synapse has no admin API for room reports, and synapse.database is not set", adminapi.ErrUnsupported)

// Source reads room reports from the admin API when Synapse has one, and
// otherwise from Synapse's database when it was given.
type Source struct {
	admin    *adminapi.Client
	database string  // synapse.database
	db       *sql.DB // nil without synapse.database, or before Connect

	mu      sync.Mutex
	checked time.Time // when the admin API was last asked for
	hasAPI  bool
}

// recheckEvery is how often Gavel asks again whether Synapse has an admin
// API for room reports (it may have been upgraded).
const recheckEvery = 10 * time.Minute

// Open returns a Source, connected (see Connect).
func Open(ctx context.Context, admin *adminapi.Client, database string) (*Source, error) {
	s := New(admin, database)
	if err := s.Connect(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// New returns a Source that reads from Synapse's database once connected
// (Connect), and from the admin API meanwhile. database is
// synapse.database: "" for none, a postgres:// URI, or the path of
// Synapse's SQLite file, opened read-only.
func New(admin *adminapi.Client, database string) *Source {
	return &Source{admin: admin, database: database}
}

// Connect opens Synapse's database, if one was given, and checks that the
// room_reports table can be read. It must not run concurrently with the
// Source's other methods; once connected, it does nothing.
func (s *Source) Connect(ctx context.Context) error {
	if s.database == "" || s.db != nil {
		return nil
	}
	var db *sql.DB
	var err error
	if strings.HasPrefix(s.database, "postgres://") || strings.HasPrefix(s.database, "postgresql://") {
		db, err = sql.Open("postgres", s.database)
	} else {
		q := url.Values{}
		q.Set("mode", "ro")
		q.Add("_pragma", "query_only(1)")
		q.Add("_pragma", "busy_timeout(5000)")
		db, err = sql.Open("sqlite", "file:"+s.database+"?"+q.Encode())
	}
	if err != nil {
		return fmt.Errorf("synapse.database: %w", err)
	}
	db.SetMaxOpenConns(2)
	s.db = db
	if _, err := s.count(ctx); err != nil {
		_ = db.Close()
		s.db = nil
		return fmt.Errorf("synapse.database: cannot read Synapse's room_reports table (%v); docs/how-it-works.md (\"Room reports\") says how to give Gavel read access to it", redact(err, s.database))
	}
	return nil
}

// redact keeps a password in database out of err's text.
func redact(err error, database string) string {
	msg := err.Error()
	if u, perr := url.Parse(database); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "***")
		}
	}
	return msg
}

// Close closes the database, if any; Connect may open it again.
func (s *Source) Close() error {
	if s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db = nil
	return err
}

// FromDatabase reports whether room reports are read from Synapse's
// database (rather than the admin API, or not at all).
func (s *Source) FromDatabase() bool {
	return s.db != nil && !s.useAPI(context.Background())
}

// useAPI reports whether Synapse has an admin API for room reports,
// asking it when it has not been asked for recheckEvery.
func (s *Source) useAPI(ctx context.Context) bool {
	s.mu.Lock()
	checked, has := s.checked, s.hasAPI
	s.mu.Unlock()
	if time.Since(checked) < recheckEvery {
		return has
	}
	_, err := s.admin.ListRoomReports(ctx, adminapi.PageQuery{Limit: 1})
	if err != nil && !adminapi.IsUnsupported(err) {
		return has // no answer: keep what was known
	}
	s.mu.Lock()
	s.checked, s.hasAPI = time.Now(), err == nil
	s.mu.Unlock()
	return err == nil
}

// List returns one page of open room reports, like the other report
// listings: ordered by received_ts (newest first with dir b), Total the
// number of reports, NextToken the offset of the next page.
func (s *Source) List(ctx context.Context, q adminapi.PageQuery) (*adminapi.Page[adminapi.RoomReport], error) {
	if s.useAPI(ctx) {
		return s.admin.ListRoomReports(ctx, q)
	}
	if s.db == nil {
		return nil, ErrNotConfigured
	}
	total, err := s.count(ctx)
	if err != nil {
		return nil, dbError(err)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	order := "DESC"
	if q.Dir == mautrix.DirectionForward {
		order = "ASC"
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, received_ts, room_id, user_id, COALESCE(reason, '') FROM room_reports
		ORDER BY received_ts `+order+`, id `+order+` LIMIT $1 OFFSET $2`, limit, q.From)
	if err != nil {
		return nil, dbError(err)
	}
	defer rows.Close()
	page := &adminapi.Page[adminapi.RoomReport]{Total: total}
	for rows.Next() {
		var r adminapi.RoomReport
		if err := rows.Scan(&r.ID, &r.ReceivedTS, &r.RoomID, &r.UserID, &r.Reason); err != nil {
			return nil, dbError(err)
		}
		page.Items = append(page.Items, r)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError(err)
	}
	if next := q.From + int64(len(page.Items)); len(page.Items) > 0 && q.From+int64(limit) < total {
		page.NextToken = &next
	}
	return page, nil
}

// Get returns room report reportID: a not-found error (adminapi.IsNotFound)
// when there is none.
func (s *Source) Get(ctx context.Context, reportID int64) (*adminapi.RoomReport, error) {
	if s.useAPI(ctx) {
		return s.admin.RoomReport(ctx, reportID)
	}
	if s.db == nil {
		return nil, ErrNotConfigured
	}
	var r adminapi.RoomReport
	err := s.db.QueryRowContext(ctx, `SELECT id, received_ts, room_id, user_id, COALESCE(reason, '') FROM room_reports WHERE id=$1`, reportID).
		Scan(&r.ID, &r.ReceivedTS, &r.RoomID, &r.UserID, &r.Reason)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &adminapi.Error{Method: "SELECT", Path: "room_reports", StatusCode: http.StatusNotFound,
			ErrCode: "M_NOT_FOUND", Message: "Room report not found", Err: err}
	}
	if err != nil {
		return nil, dbError(err)
	}
	return &r, nil
}

func (s *Source) count(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM room_reports`).Scan(&n)
	return n, err
}

// dbError says where an error came from: Synapse's database, not Gavel's.
func dbError(err error) error {
	return fmt.Errorf("reading room reports from Synapse's database (synapse.database): %w", err)
}
