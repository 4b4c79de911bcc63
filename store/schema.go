package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"

	"go.mau.fi/util/dbutil"
)

// Where a database's schema stands, found without changing it: for
// `gavel -check`, which may run next to a Gavel using the database.

// NewerSchemaError is the refusal of a database that a newer Gavel
// upgraded past what this one can run on.
type NewerSchemaError struct {
	Database string // the SQLite path, or the PostgreSQL host and database
	Version  int    // the database's schema version
	Compat   int    // the oldest schema version that can run on it
	Latest   int    // the newest schema version this Gavel knows
}

func (e *NewerSchemaError) Error() string {
	at := fmt.Sprintf("schema v%d", e.Version)
	if e.Compat != e.Version {
		at += fmt.Sprintf(" (which needs a Gavel that knows v%d or later)", e.Compat)
	}
	return fmt.Sprintf("the database %s is at %s, written by a newer Gavel; this Gavel knows up to v%d: run the newer Gavel, or restore a backup from before it ran",
		e.Database, at, e.Latest)
}

// Is makes errors.Is(err, dbutil.ErrUnsupportedDatabaseVersion) hold, as
// it did for dbutil's own error.
func (e *NewerSchemaError) Is(target error) bool {
	return target == dbutil.ErrUnsupportedDatabaseVersion
}

// Schema is where a database's schema stands.
type Schema struct {
	// Missing: the SQLite file does not exist yet; Open creates it.
	Missing bool
	// Version and Compat are the schema version and the oldest version
	// that runs on it; both 0 for a database without Gavel's tables.
	Version, Compat int
	// Latest is the version this Gavel brings a database to.
	Latest int
}

// String says what Open will do with the database.
func (s Schema) String() string {
	switch {
	case s.Missing:
		return fmt.Sprintf("does not exist yet: Gavel creates it at schema v%d", s.Latest)
	case s.Version == 0:
		return fmt.Sprintf("has no Gavel tables yet: Gavel creates them at schema v%d", s.Latest)
	case s.Version < s.Latest:
		return fmt.Sprintf("is at schema v%d: Gavel upgrades it to v%d when it starts (take a backup first)", s.Version, s.Latest)
	case s.Version > s.Latest:
		return fmt.Sprintf("is at schema v%d, written by a newer Gavel, which this one (v%d) can run on", s.Version, s.Latest)
	}
	return fmt.Sprintf("is at schema v%d, current", s.Version)
}

// Inspect finds where the schema of the database uri names stands, and
// the error Open would give for it (a newer schema, a database of another
// program), without writing, creating or upgrading anything: SQLite is
// opened read-only, PostgreSQL read in a read-only transaction.
func Inspect(ctx context.Context, uri string) (Schema, error) {
	s, err := inspect(ctx, uri)
	return s, redact(err, uri)
}

func inspect(ctx context.Context, uri string) (Schema, error) {
	schema := Schema{Latest: latestVersion()}
	var db *dbutil.Database
	var err error
	if isPostgres(uri) {
		db, err = dbutil.NewWithDialect(uri, "postgres")
	} else {
		if _, statErr := os.Stat(uri); errors.Is(statErr, os.ErrNotExist) {
			schema.Missing = true
			return schema, nil
		}
		// mode=ro: no journal_mode pragma or anything else that writes; a
		// reader does not block a running Gavel's writes in WAL mode.
		q := url.Values{}
		q.Set("mode", "ro")
		q.Add("_pragma", "busy_timeout(10000)")
		db, err = dbutil.NewWithDialect("file:"+uri+"?"+q.Encode(), "sqlite")
	}
	if err != nil {
		return schema, fmt.Errorf("opening database: %w", err)
	}
	defer db.Close()
	db.RawDB.SetMaxOpenConns(1)
	tx, err := db.RawDB.BeginTx(ctx, &sql.TxOptions{ReadOnly: isPostgres(uri)})
	if err != nil {
		return schema, fmt.Errorf("connecting to the database: %w", err)
	}
	defer tx.Rollback()
	exists := func(query string, args ...any) (found bool, err error) {
		err = tx.QueryRowContext(ctx, query, args...).Scan(&found)
		return found, err
	}
	tableExists, columnExists := `SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type='table' AND tbl_name=$1)`,
		`SELECT EXISTS(SELECT 1 FROM pragma_table_info($1) WHERE name=$2)`
	if db.Dialect == dbutil.Postgres {
		tableExists = `SELECT EXISTS(SELECT 1 FROM information_schema.tables WHERE table_name=$1 AND table_schema=current_schema())`
		columnExists = `SELECT EXISTS(SELECT 1 FROM information_schema.columns WHERE table_name=$1 AND column_name=$2 AND table_schema=current_schema())`
	}
	// What dbutil refuses before any upgrade: Synapse's or Dendrite's
	// database, or one that another program owns.
	for table, owner := range map[string]string{"state_groups_state": "Synapse", "roomserver_rooms": "Dendrite"} {
		if found, err := exists(tableExists, table); err != nil {
			return schema, fmt.Errorf("reading the database: %w", err)
		} else if found {
			return schema, fmt.Errorf("%w (found %s, likely belonging to %s): give Gavel a database of its own", dbutil.ErrForeignTables, table, owner)
		}
	}
	if found, err := exists(tableExists, "database_owner"); err != nil {
		return schema, fmt.Errorf("reading the database: %w", err)
	} else if found {
		var owner string
		err := tx.QueryRowContext(ctx, "SELECT owner FROM database_owner WHERE key=0").Scan(&owner)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return schema, fmt.Errorf("reading the database owner: %w", err)
		} else if err == nil && owner != dbOwner {
			return schema, fmt.Errorf("%w: give Gavel a database of its own", dbutil.NotOwnedError{Owner: owner})
		}
	}
	if found, err := exists(tableExists, "version"); err != nil || !found {
		return schema, err
	}
	// dbutil added compat later; without it compat is the version.
	compatColumn := "0"
	if found, err := exists(columnExists, "version", "compat"); err != nil {
		return schema, fmt.Errorf("reading the schema version: %w", err)
	} else if found {
		compatColumn = "compat"
	}
	var compat sql.NullInt64
	err = tx.QueryRowContext(ctx, "SELECT version, "+compatColumn+" FROM version LIMIT 1").Scan(&schema.Version, &compat)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return schema, fmt.Errorf("reading the schema version: %w", err)
	}
	schema.Compat = schema.Version
	if compat.Valid && compat.Int64 != 0 {
		schema.Compat = int(compat.Int64)
	}
	return schema, schema.refuse(uri)
}

// refuse is the error for a schema this Gavel cannot run on, as dbutil's
// Upgrade decides it: the oldest version that runs on it is newer than
// this Gavel's latest.
func (s Schema) refuse(uri string) error {
	if s.Compat > s.Latest {
		return &NewerSchemaError{Database: DatabaseName(uri), Version: s.Version, Compat: s.Compat, Latest: s.Latest}
	}
	return nil
}

// DatabaseName names the database uri names, for messages: the SQLite
// path, or PostgreSQL's host and database, without credentials.
func DatabaseName(uri string) string {
	if !isPostgres(uri) {
		return uri
	}
	u, err := url.Parse(uri)
	if err != nil {
		return "(PostgreSQL)"
	}
	return u.Host + u.Path
}
