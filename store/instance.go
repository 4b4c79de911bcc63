package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"go.mau.fi/util/dbutil"
)

// The instance table: the Gavels sharing a PostgreSQL database, and which
// of them is active. The active one holds a session advisory lock on a
// connection of its own (a Conn); package standby runs the protocol, this
// file holds its SQL. Times are the database's clock, so that instances on
// different machines compare them without trusting each other's clocks.

// InstanceQuery reads and writes the instance table (Store.Instances).
type InstanceQuery struct{ db *dbutil.Database }

// Instance is one Gavel process that shares the database.
type Instance struct {
	ID        string // random per start
	Name      string // host name and pid, for people
	Version   string
	Active    bool
	StartedAt time.Time
	SeenAt    time.Time
}

// The advisory lock's two keys: "GVL" and 1. Advisory locks belong to one
// database, so Gavels on other databases of the same server never meet.
const (
	lockClass = 0x47564c00
	lockObj   = 1
)

const (
	dbNow = `(EXTRACT(EPOCH FROM clock_timestamp())*1000)::BIGINT`
	// lockHeldBy is true when backend pid $N holds the lock.
	lockHeldBy = `EXISTS (SELECT 1 FROM pg_locks WHERE locktype='advisory' AND classid=%d AND objid=%d AND objsubid=2
		AND granted AND database=(SELECT oid FROM pg_database WHERE datname=current_database()) AND pid=%s)`

	backendPidQuery  = `SELECT pg_backend_pid()`
	tryLockQuery     = `SELECT pg_try_advisory_lock($1, $2)`
	unlockQuery      = `SELECT pg_advisory_unlock($1, $2)`
	standbySeenQuery = `INSERT INTO instance (id, name, version, started_at, seen_at) VALUES ($1, $2, $3, ` + dbNow + `, ` + dbNow + `)
		ON CONFLICT (id) DO UPDATE SET seen_at=excluded.seen_at, active=false`
	// An active instance's heartbeat counts only while its row is still
	// the active one and its connection still holds the lock.
	activeSeenQuery = `UPDATE instance SET seen_at=` + dbNow + ` WHERE id=$1 AND active AND backend=pg_backend_pid() AND `
	activateQuery   = `UPDATE instance SET active=(id=$1),
		backend=CASE WHEN id=$1 THEN pg_backend_pid() ELSE backend END,
		seen_at=CASE WHEN id=$1 THEN ` + dbNow + ` ELSE seen_at END
		WHERE active OR id=$1`
	deactivateQuery = `UPDATE instance SET active=false WHERE id=$1`
	// leaseLeftQuery is how long, in ms, the last instance marked active
	// (other than $1) may still act: its last heartbeat plus the lease $2.
	leaseLeftQuery = `SELECT COALESCE(MAX(seen_at), 0) + $2 - ` + dbNow + ` FROM instance WHERE active AND id<>$1`
	holderQuery    = `SELECT l.pid, COALESCE(i.id, ''), COALESCE(i.name, ''), COALESCE(` + dbNow + ` - i.seen_at, -1)
		FROM pg_locks l LEFT JOIN instance i ON i.backend=l.pid AND i.active
		WHERE l.locktype='advisory' AND l.classid=$1 AND l.objid=$2 AND l.objsubid=2 AND l.granted
		AND l.database=(SELECT oid FROM pg_database WHERE datname=current_database())`
	// terminateQuery ends session $1 and every other session of the
	// instance whose connections are named $2 (ApplicationName).
	terminateQuery = `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE (pid=$1 OR (application_name=$2 AND $2<>'')) AND datname=current_database() AND pid<>pg_backend_pid()`
	instancesQuery = `SELECT id, name, version, active, started_at, seen_at FROM instance WHERE seen_at >= $1 ORDER BY active DESC, started_at`
	pruneQuery     = `DELETE FROM instance WHERE seen_at < $1 AND NOT active`
)

var (
	activeSeenByQuery = activeSeenQuery + fmt.Sprintf(lockHeldBy, lockClass, lockObj, "pg_backend_pid()")
	lockHeldQuery     = `SELECT ` + fmt.Sprintf(lockHeldBy, lockClass, lockObj, "$1")
)

// ErrNotActive is the fence's answer when this instance may no longer act:
// another Gavel is, or may be about to be, the active one.
var ErrNotActive = errors.New("this Gavel is no longer the active instance")

// Conn is a database connection of its own, outside the pool: a session
// advisory lock lives as long as the session that took it.
type Conn struct {
	conn *sql.Conn
	pid  int64
}

// Conn opens a connection of its own (PostgreSQL only).
func (s *InstanceQuery) Conn(ctx context.Context) (*Conn, error) {
	if s.db.Dialect != dbutil.Postgres {
		return nil, errors.New("a dedicated connection needs PostgreSQL")
	}
	conn, err := s.db.RawDB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	c := &Conn{conn: conn}
	if err := conn.QueryRowContext(ctx, backendPidQuery).Scan(&c.pid); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return c, nil
}

// Pid is the connection's PostgreSQL backend process id.
func (c *Conn) Pid() int64 { return c.pid }

// Close closes the connection and ends its session.
func (c *Conn) Close() error {
	// driver.ErrBadConn makes database/sql discard the connection instead
	// of pooling it again: the session ends, and any lock it held with it.
	_ = c.conn.Raw(func(any) error { return driver.ErrBadConn })
	return c.conn.Close()
}

// TryLock takes the active instance's lock if no one holds it.
func (c *Conn) TryLock(ctx context.Context) (bool, error) {
	var ok bool
	err := c.conn.QueryRowContext(ctx, tryLockQuery, lockClass, lockObj).Scan(&ok)
	return ok, err
}

// Unlock releases the lock.
func (c *Conn) Unlock(ctx context.Context) error {
	_, err := c.conn.ExecContext(ctx, unlockQuery, lockClass, lockObj)
	return err
}

// StandingBy records that inst is alive and waiting as a standby.
func (c *Conn) StandingBy(ctx context.Context, inst Instance) error {
	_, err := c.conn.ExecContext(ctx, standbySeenQuery, inst.ID, inst.Name, inst.Version)
	return err
}

// Activate marks instance id as the active one, on this connection, and
// every other instance as not.
func (c *Conn) Activate(ctx context.Context, id string) error {
	_, err := c.conn.ExecContext(ctx, activateQuery, id)
	return err
}

// Heartbeat records that the active instance id is alive. It fails with
// ErrNotActive unless its row is still the active one and this connection
// still holds the lock.
func (c *Conn) Heartbeat(ctx context.Context, id string) error {
	res, err := c.conn.ExecContext(ctx, activeSeenByQuery, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotActive
	}
	return nil
}

// LeaseLeft is how long the instance last marked active, other than id,
// may still be acting on its lease of the given length: 0 or less when
// none may.
func (c *Conn) LeaseLeft(ctx context.Context, id string, lease time.Duration) (time.Duration, error) {
	var ms int64
	err := c.conn.QueryRowContext(ctx, leaseLeftQuery, id, lease.Milliseconds()).Scan(&ms)
	return time.Duration(ms) * time.Millisecond, err
}

// Holder is the session that holds the lock.
type Holder struct {
	Pid  int64
	ID   string        // "" when no active instance row names that session
	Name string        // likewise
	Age  time.Duration // since its last heartbeat; negative when unknown
}

// Holder returns who holds the lock; ok is false when no one does.
func (c *Conn) Holder(ctx context.Context) (h Holder, ok bool, err error) {
	var ageMs int64
	err = c.conn.QueryRowContext(ctx, holderQuery, lockClass, lockObj).Scan(&h.Pid, &h.ID, &h.Name, &ageMs)
	if errors.Is(err, sql.ErrNoRows) {
		return h, false, nil
	}
	h.Age = time.Duration(ageMs) * time.Millisecond
	return h, err == nil, err
}

// Terminate ends PostgreSQL session pid, and every session of instance id
// (when known), releasing their locks: the advisory lock, and the row locks
// of a transaction the instance was in when it hung.
func (c *Conn) Terminate(ctx context.Context, pid int64, id string) error {
	name := ""
	if id != "" {
		name = ApplicationName(id)
	}
	_, err := c.conn.ExecContext(ctx, terminateQuery, pid, name)
	return err
}

// Deactivate marks instance id as not active, on a graceful stop.
func (c *Conn) Deactivate(ctx context.Context, id string) error {
	_, err := c.conn.ExecContext(ctx, deactivateQuery, id)
	return err
}

// List returns the instances seen since the given time, the active
// one first.
func (s *InstanceQuery) List(ctx context.Context, since time.Time) ([]Instance, error) {
	if s.db.Dialect != dbutil.Postgres {
		return nil, nil
	}
	rows, err := s.db.Query(ctx, instancesQuery, since.UnixMilli())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Instance
	for rows.Next() {
		var in Instance
		var started, seen int64
		if err := rows.Scan(&in.ID, &in.Name, &in.Version, &in.Active, &started, &seen); err != nil {
			return nil, err
		}
		in.StartedAt, in.SeenAt = time.UnixMilli(started), time.UnixMilli(seen)
		out = append(out, in)
	}
	return out, rows.Err()
}

// Prune removes the rows of instances not seen since before.
func (s *InstanceQuery) Prune(ctx context.Context, before time.Time) error {
	_, err := s.db.Exec(ctx, pruneQuery, before.UnixMilli())
	return err
}

// LockHeld reports whether PostgreSQL session pid holds the active
// instance's lock, as seen by ctx's transaction.
func (s *InstanceQuery) LockHeld(ctx context.Context, pid int64) (bool, error) {
	var held bool
	err := s.db.QueryRow(ctx, lockHeldQuery, pid).Scan(&held)
	return held, err
}
