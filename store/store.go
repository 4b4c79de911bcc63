// Package store keeps Gavel's state in SQLite or PostgreSQL. Each table
// has one query type, in the file named after the table, and Store holds
// them as fields (st.Cases.Get(ctx, k), st.Outbox.Enqueue(ctx, m)), as
// mautrix's bridgev2/database does: the key-value settings (kv.go,
// Store.KV), every report seen, duplicates included (report.go,
// Store.Reports), where each report stands as a case (report_case.go,
// Store.Cases), reports archived before Gavel deleted them in Synapse
// (report_archive.go, Store.Archive), the reporters told
// (reporter_notice.go, Store.ReporterNotices), the outbox of messages to
// post exactly once (outbox.go, Store.Outbox), the command events handled
// (command.go, Store.Commands), the moderators' action log (action.go,
// Store.Actions), the actions waiting for a moderator's confirmation
// (pending.go, Store.Pending), Synapse's tasks followed (task.go,
// Store.Tasks), the encrypted messages waiting for their keys
// (undecrypted.go, Store.Undecrypted), the Gavels sharing a PostgreSQL
// database (instance.go, Store.Instances) and the rooms in each desk's
// scope (desk_room.go, Store.DeskRooms); record.go (Store.Records)
// reads users' and reporters' records across report, report_case and
// action. A transaction travels in the context (dbutil's DoTxn), so a
// method of one table called inside another's transaction joins it.
// keys.go names the kv and outbox keys. The schema lives in upgrades/;
// schema.go finds where a database's schema stands without touching it,
// and refuses one from a newer Gavel. It builds no Matrix content: a
// message is queued with the content its caller gave it.
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
	"sync/atomic"

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

// Store is Gavel's database: one query type per table, each in the file
// named after its table, all sharing one *dbutil.Database. dbutil carries a
// transaction in the context (DoTxn), so a method of one table called
// inside another's transaction runs in that transaction.
type Store struct {
	db *dbutil.Database
	// session names this process's PostgreSQL connections (Session).
	session string
	// fence, when set, guards the claims of outbox messages and commands
	// (see SetFence).
	fence *fenceHolder

	KV              *KVQuery             // kv
	Reports         *ReportQuery         // report
	Cases           *ReportCaseQuery     // report_case
	Archive         *ReportArchiveQuery  // report_archive
	ReporterNotices *ReporterNoticeQuery // reporter_notice
	Outbox          *OutboxQuery         // outbox
	Commands        *CommandQuery        // command
	Actions         *ActionQuery         // action
	Pending         *PendingQuery        // pending
	Tasks           *TaskQuery           // task
	Undecrypted     *UndecryptedQuery    // undecrypted
	Instances       *InstanceQuery       // instance
	DeskRooms       *DeskRoomQuery       // desk_room
	// Records reads users' and reporters' records across report,
	// report_case and action.
	Records *RecordQuery
}

// newStore gives db its query types.
func newStore(db *dbutil.Database, session string) *Store {
	s := &Store{db: db, session: session, fence: &fenceHolder{}}
	s.KV = &KVQuery{db: db}
	s.Outbox = &OutboxQuery{db: db, fence: s.fence, kv: s.KV}
	s.Actions = &ActionQuery{db: db}
	s.Archive = &ReportArchiveQuery{db: db}
	s.Cases = &ReportCaseQuery{db: db, outbox: s.Outbox, archive: s.Archive}
	s.Reports = &ReportQuery{db: db, outbox: s.Outbox}
	s.ReporterNotices = &ReporterNoticeQuery{db: db}
	s.Pending = &PendingQuery{db: db}
	s.Tasks = &TaskQuery{db: db, outbox: s.Outbox, actions: s.Actions}
	s.Commands = &CommandQuery{db: db, fence: s.fence, outbox: s.Outbox, actions: s.Actions, pending: s.Pending, tasks: s.Tasks}
	s.Undecrypted = &UndecryptedQuery{db: db}
	s.Instances = &InstanceQuery{db: db}
	s.DeskRooms = &DeskRoomQuery{db: db, kv: s.KV}
	s.Records = &RecordQuery{db: db}
	return s
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
	return newStore(db, session), nil
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

// Ping checks that the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.db.QueryRow(ctx, "SELECT 1").Scan(&one)
}

// A Fence says whether this instance may still act; it runs inside the
// transaction that claims an outbox message or a command, and returns
// ErrNotActive (or a database error) when it may not.
type Fence func(ctx context.Context) error

// SetFence makes every claim of an outbox message or a command check f in
// its transaction; nil removes it.
func (s *Store) SetFence(f Fence) {
	if f == nil {
		s.fence.Store(nil)
		return
	}
	s.fence.Store(&f)
}

// fenceHolder is the Store's fence, swapped atomically as terms begin;
// the outbox and command tables check it.
type fenceHolder struct{ atomic.Pointer[Fence] }

// check runs the fence, if any, in ctx's transaction.
func (h *fenceHolder) check(ctx context.Context) error {
	if f := h.Load(); f != nil {
		return (*f)(ctx)
	}
	return nil
}

// DB is the database itself, for mautrix's crypto and state stores, which
// keep their own tables (and schema versions) next to Gavel's.
func (s *Store) DB() *dbutil.Database { return s.db }
