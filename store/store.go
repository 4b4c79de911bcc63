// Package store keeps Gavel's state in SQLite or PostgreSQL: the sync
// token, every report seen, the outbox of messages to post exactly once,
// handled commands and the moderators' action log.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"

	// Database drivers: pure-Go SQLite, so CGO_ENABLED=0 builds work, and
	// PostgreSQL.
	_ "github.com/lib/pq"
	_ "modernc.org/sqlite"
)

//go:embed upgrades/*.sql
var upgradeFS embed.FS

var upgrades = dbutil.BuildUpgradeTable().WithFSPath(upgradeFS, "upgrades").Finish()

// Store is Gavel's database.
type Store struct {
	db *dbutil.Database
}

// Open opens the database that uri names — a postgres:// or postgresql://
// URI, or otherwise a SQLite file path, created if missing — and brings its
// schema up to date.
func Open(ctx context.Context, uri string, log zerolog.Logger) (*Store, error) {
	s, err := open(ctx, uri, log)
	return s, redact(err, uri)
}

func open(ctx context.Context, uri string, log zerolog.Logger) (*Store, error) {
	var db *dbutil.Database
	var err error
	if isPostgres(uri) {
		db, err = dbutil.NewWithDialect(uri, "postgres")
	} else {
		db, err = dbutil.NewWithDialect(sqliteDSN(uri), "sqlite")
		if err == nil {
			// One connection: SQLite has one writer anyway, and this keeps
			// "database is locked" out of the picture.
			db.RawDB.SetMaxOpenConns(1)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("opening database: %w", err)
	}
	db.Owner = "gavel"
	db.UpgradeTable = upgrades
	db.Log = dbutil.ZeroLogger(log.With().Str("component", "database").Logger())
	if err := db.RawDB.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connecting to the database: %w", err)
	}
	if err := db.Upgrade(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("upgrading the database schema: %w", err)
	}
	return &Store{db: db}, nil
}

func isPostgres(uri string) bool {
	return strings.HasPrefix(uri, "postgres://") || strings.HasPrefix(uri, "postgresql://")
}

// redact keeps a PostgreSQL password out of an error message: drivers and
// URL parsing quote the URI they were given.
func redact(err error, uri string) error {
	if err == nil || !isPostgres(uri) {
		return err
	}
	msg := err.Error()
	if u, parseErr := url.Parse(uri); parseErr == nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
	} else if _, rest, ok := strings.Cut(uri, "://"); ok {
		// Unparseable: hide everything between :// and the last @.
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			msg = strings.ReplaceAll(msg, rest[:at], "xxxxx")
		}
	}
	return errors.New(msg)
}

// sqliteDSN turns a file path into a modernc.org/sqlite DSN with the
// pragmas Gavel relies on.
func sqliteDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Dialect names the database engine, "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.db.Dialect.String() }

// Get returns the value stored under key, or "" when there is none.
func (s *Store) Get(ctx context.Context, key string) (string, error) {
	var value string
	err := s.db.QueryRow(ctx, "SELECT value FROM kv WHERE key=$1", key).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return value, err
}

// Set stores value under key.
func (s *Store) Set(ctx context.Context, key, value string) error {
	_, err := s.db.Exec(ctx, "INSERT INTO kv (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value=excluded.value", key, value)
	return err
}

// ReportKey identifies a report: Synapse's id and the time it received it.
type ReportKey struct {
	ID         int64
	ReceivedTS int64
}

func (k ReportKey) String() string { return fmt.Sprintf("%d@%d", k.ID, k.ReceivedTS) }

// Report is a report Gavel has seen.
type Report struct {
	ReportKey
	RoomID  id.RoomID
	EventID id.EventID
}

// Report states.
const (
	ReportNotice  = "notice"  // a notice is queued or sent
	ReportSkipped = "skipped" // open at the first start, summarised instead
	ReportDigest  = "digest"  // covered by a digest, queued or sent
)

// ErrAlreadySeen is returned by AddReportsDigest when one of the reports
// already has a row: nothing was recorded or queued.
var ErrAlreadySeen = errors.New("a report in the digest was already seen")

// Unseen returns the reports among keys that the store has no row for, in
// the order given. It asks the database once for all of them.
func (s *Store) Unseen(ctx context.Context, keys []ReportKey) ([]ReportKey, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	placeholders := make([]string, len(keys))
	args := make([]any, len(keys))
	for i, k := range keys {
		placeholders[i] = "$" + strconv.Itoa(i+1)
		args[i] = k.ID
	}
	rows, err := s.db.Query(ctx, "SELECT report_id, received_ts FROM report WHERE report_id IN ("+strings.Join(placeholders, ",")+")", args...)
	if err != nil {
		return nil, err
	}
	known := make(map[ReportKey]bool, len(keys))
	for rows.Next() {
		var k ReportKey
		if err := rows.Scan(&k.ID, &k.ReceivedTS); err != nil {
			rows.Close()
			return nil, err
		}
		known[k] = true
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, err
	}
	var unseen []ReportKey
	for _, k := range keys {
		if !known[k] {
			unseen = append(unseen, k)
		}
	}
	return unseen, nil
}

// CountReports returns how many reports the store has seen, by state.
func (s *Store) CountReports(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.Query(ctx, "SELECT state, COUNT(*) FROM report GROUP BY state")
	if err != nil {
		return nil, err
	}
	counts := make(map[string]int)
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			rows.Close()
			return nil, err
		}
		counts[state] = n
	}
	return counts, errors.Join(rows.Err(), rows.Close())
}

// insertReport records a report as seen, with the outbox message that
// covers it ("" for none), and reports whether it was new.
func (s *Store) insertReport(ctx context.Context, r Report, state, outboxKey string, now int64) (bool, error) {
	var key any
	if outboxKey != "" {
		key = outboxKey
	}
	res, err := s.db.Exec(ctx, `INSERT INTO report (report_id, received_ts, room_id, event_id, state, outbox_key, seen_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
		r.ID, r.ReceivedTS, r.RoomID, r.EventID, state, key, now)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// AddReportNotice records a report as seen and queues its notice, in one
// transaction: either both happen or neither does. A report already
// recorded is left alone and nothing is queued.
func (s *Store) AddReportNotice(ctx context.Context, r Report, notice Message) error {
	return s.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		if added, err := s.insertReport(ctx, r, ReportNotice, notice.Key, time.Now().UnixMilli()); err != nil || !added {
			return err
		}
		return s.enqueue(ctx, notice)
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

// EnqueueAndSet queues a message and stores kv key=value in one
// transaction: the first start's summary and the mark that it is done.
func (s *Store) EnqueueAndSet(ctx context.Context, m Message, key, value string) error {
	return s.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		if err := s.enqueue(ctx, m); err != nil {
			return err
		}
		return s.Set(ctx, key, value)
	})
}
