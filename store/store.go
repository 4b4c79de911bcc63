// Package store keeps Gavel's state in SQLite or PostgreSQL, one file per
// table: the key-value settings (kv.go), every report seen (report.go), the
// outbox of messages to post exactly once (outbox.go), the command events
// handled (command.go), the moderators' action log (action.go), the
// encrypted messages waiting for their keys (undecrypted.go), the
// actions waiting for a moderator's confirmation (pending.go), Synapse's
// tasks followed (task.go), cases, duplicates and archived reports
// (case.go) and the reporters told (notice.go); record.go reads users' and
// reporters' records across them. keys.go names the kv and outbox keys.
// The schema lives in upgrades/; schema.go finds where a database's
// schema stands without touching it, and refuses one from a newer Gavel.
//
// It uses internal/mxid for report kinds and references, and otherwise
// mautrix's id and event packages, go.mau.fi/util/dbutil, zerolog and the
// database drivers.
//
// Of Gavel's packages it may import: internal/mxid.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"

	// Database drivers: pure-Go SQLite, so CGO_ENABLED=0 builds work, and
	// PostgreSQL.
	_ "github.com/lib/pq"
	_ "modernc.org/sqlite"
)

//go:embed upgrades/*.sql
var upgradeFS embed.FS

// upgrades brings a database to the latest schema: a new one in one step
// (00-latest.sql), an older one through the numbered upgrades.
var upgrades = dbutil.BuildUpgradeTable().WithFSPath(upgradeFS, "upgrades").Finish()

// dbOwner is Gavel's name in dbutil's database_owner table.
const dbOwner = "gavel"

// latestVersion is the schema version Open brings a database to.
func latestVersion() int { return len(upgrades) }

// LatestVersion is the schema version this Gavel brings a database to.
func LatestVersion() int { return latestVersion() }

// Store is Gavel's database.
type Store struct {
	db *dbutil.Database
	// session names this process's PostgreSQL connections (Session).
	session string
	// fence, when set, guards the claims of outbox messages and commands
	// (see SetFence).
	fence fenceHolder
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
	session := ""
	if isPostgres(uri) {
		// Every connection of this process carries the same application
		// name, so that a standby taking over from a hung instance can end
		// all of its sessions, and with them the row locks they hold.
		session = rand.Text()[:12]
		db, err = dbutil.NewWithDialect(withApplicationName(uri, ApplicationName(session)), "postgres")
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
	db.Owner = dbOwner
	db.UpgradeTable = upgrades
	db.Log = dbutil.ZeroLogger(log.With().Str("component", "database").Logger())
	if err := db.RawDB.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connecting to the database: %w", err)
	}
	if err := db.Upgrade(ctx); err != nil {
		if errors.Is(err, dbutil.ErrUnsupportedDatabaseVersion) {
			err = newerSchema(ctx, db, uri, err)
		} else {
			err = fmt.Errorf("upgrading the database schema: %w", err)
		}
		_ = db.Close()
		return nil, err
	}
	if v, compat, err := version(ctx, db); err == nil && v > latestVersion() {
		log.Warn().Int("schema", v).Int("compatible_with", compat).Int("latest_known", latestVersion()).
			Msg("The database was upgraded by a newer Gavel, which declared that this one can run on it")
	}
	return &Store{db: db, session: session}, nil
}

// ApplicationName is the PostgreSQL application_name of the connections of
// the Gavel whose Session is session.
func ApplicationName(session string) string { return "gavel-" + session }

// withApplicationName sets application_name in a postgres:// URI.
func withApplicationName(uri, name string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return uri // Open's ping reports what is wrong with it
	}
	q := u.Query()
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// Session is a random name for this process's connections to PostgreSQL
// (see ApplicationName); "" on SQLite.
func (s *Store) Session() string { return s.session }

// newerSchema turns dbutil's refusal of a newer schema into one that names
// both versions and says what to do.
func newerSchema(ctx context.Context, db *dbutil.Database, uri string, refusal error) error {
	v, compat, err := version(ctx, db)
	if err != nil {
		return refusal
	}
	if err := (Schema{Version: v, Compat: compat, Latest: latestVersion()}).refuse(uri); err != nil {
		return err
	}
	return refusal
}

// version reads the version row that dbutil's Upgrade keeps (and has
// given its compat column).
func version(ctx context.Context, db *dbutil.Database) (version, compat int, err error) {
	var c sql.NullInt64
	err = db.QueryRow(ctx, "SELECT version, compat FROM version LIMIT 1").Scan(&version, &c)
	compat = version
	if c.Valid && c.Int64 != 0 {
		compat = int(c.Int64)
	}
	return version, compat, err
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
	return &redactedError{msg: msg, err: err}
}

// redactedError is an error with its message redacted. errors.Is and As
// still see what it wraps (a refusal of a newer schema, dbutil's
// sentinels); it has no Unwrap, so no caller reaches the unredacted text
// by unwrapping.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string        { return e.msg }
func (e *redactedError) Is(target error) bool { return errors.Is(e.err, target) }
func (e *redactedError) As(target any) bool   { return errors.As(e.err, target) }

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

// Dialect names the database engine as dbutil does: "sqlite3" or
// "postgres".
func (s *Store) Dialect() string { return s.db.Dialect.String() }

// DB is the database itself, for mautrix's crypto and state stores, which
// keep their own tables (and schema versions) next to Gavel's.
func (s *Store) DB() *dbutil.Database { return s.db }
