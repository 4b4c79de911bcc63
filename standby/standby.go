// Package standby decides which of the Gavels sharing one database is the
// active one: the only one that syncs, polls, sends and acts.
//
// On PostgreSQL, the active instance holds a session advisory lock on a
// connection of its own and renews a lease every 2 s by a heartbeat on that
// connection, which succeeds only while its session still holds the lock.
// The others wait as standbys, trying the lock every second. When the
// active one dies its session ends and the lock is free; when it hangs
// (its heartbeat is older than 10 s), a standby ends all its sessions
// (they share an application_name, store.ApplicationName) with
// pg_terminate_backend, freeing the lock and any row locks, and takes over.
//
// The fence: an active instance acts only within 5 s of its last
// confirmed heartbeat (Term.Check, which guards every request Gavel makes
// to the homeserver), and claims each outbox message and command in a
// transaction that checks that its session still holds the lock
// (Term.Fence). A new active instance starts only once every earlier
// holder's lease has run out: it takes over a hung one only after 10 s of
// silence, and after a lock that came free (a crash, a database restart)
// it waits until the last heartbeat of the previous holder is 5 s old. So
// by the time a new instance starts, the old one can no longer begin a
// request, and a resumed one finds its lease expired and its session gone.
//
// On SQLite there is no standby: a second Gavel on the same file refuses
// to start.
//
// Of Gavel's packages it may import: store.
package standby

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/gavel-bot/gavel/store"
)

// Timings of the protocol; see the package comment. Tests shorten none of
// them: the takeover bound (15 s) is what they check.
const (
	heartbeatEvery = 2 * time.Second
	heartbeatLimit = 3 * time.Second // a heartbeat slower than this fails
	lease          = 5 * time.Second
	staleAfter     = 10 * time.Second
	tryEvery       = time.Second
	forgetAfter    = 24 * time.Hour // instance rows not seen this long are removed
)

// ErrLost ends a term: this instance was active and no longer is.
var ErrLost = errors.New("lost the active instance's lock")

// Elector elects this process among the Gavels sharing its database.
type Elector struct {
	st       *store.Store
	log      zerolog.Logger
	self     store.Instance
	postgres bool
	file     *os.File // SQLite: the lock file, held while Gavel runs
	base     time.Time
	status   atomic.Pointer[string] // what standing by looks like now
}

// New prepares the election for a Gavel with database st (at uri) and
// version. On SQLite it takes the database's lock file, or says which
// process holds it.
func New(st *store.Store, uri, version string, log zerolog.Logger) (*Elector, error) {
	host, _ := os.Hostname()
	e := &Elector{st: st, log: log, base: time.Now(), postgres: st.Dialect() == "postgres",
		self: store.Instance{ID: st.Session(), Name: fmt.Sprintf("%s pid %d", host, os.Getpid()), Version: version}}
	if !e.postgres {
		f, err := lockFile(uri + ".lock")
		if err != nil {
			return nil, err
		}
		e.file = f
	}
	return e, nil
}

// Shared reports whether other instances may share the database
// (PostgreSQL): then one may take over when this one stops acting.
func (e *Elector) Shared() bool { return e.postgres }

// Status says why this instance is not acting now: starting, or standing
// by and who is active (what the log said last).
func (e *Elector) Status() string {
	if s := e.status.Load(); s != nil {
		return *s
	}
	return "starting"
}

// Name is this instance's name: its host name and process id.
func (e *Elector) Name() string { return e.self.Name }

// Close releases what New took.
func (e *Elector) Close() {
	if e.file != nil {
		_ = e.file.Close()
	}
}

// since is the monotonic time since the elector started: a lease is
// measured on it, so that neither a clock change nor a stopped process
// lengthens one.
func (e *Elector) since() time.Duration { return time.Since(e.base) }

// Term is one stretch of being the active instance.
type Term struct {
	e      *Elector
	ctx    context.Context
	cancel context.CancelCauseFunc
	conn   *store.Conn // nil on SQLite
	// confirmed is when (Elector.since) the last heartbeat that confirmed
	// the lock was sent.
	confirmed atomic.Int64
	wg        sync.WaitGroup
	endOnce   sync.Once
}

// Context ends when the term does: when ctx of Wait ends, or the lock is
// lost (then context.Cause is ErrLost, wrapped).
func (t *Term) Context() context.Context { return t.ctx }

// Lost reports whether the term ended because the lock was lost.
func (t *Term) Lost() bool { return errors.Is(context.Cause(t.ctx), ErrLost) }

// Check returns nil while this instance may act: its lease runs. Every
// request to the homeserver checks it.
func (t *Term) Check() error {
	if t.conn == nil {
		return nil
	}
	if err := context.Cause(t.ctx); err != nil {
		return fmt.Errorf("%w: %w", store.ErrNotActive, err)
	}
	if age := t.e.since() - time.Duration(t.confirmed.Load()); age >= lease {
		t.lose(fmt.Errorf("no heartbeat confirmed the lock for %s", age.Round(time.Millisecond)))
		return store.ErrNotActive
	}
	return nil
}

// Fence checks, in ctx's transaction, that this instance's session still
// holds the lock and its lease runs; it is the store's fence (SetFence).
func (t *Term) Fence(ctx context.Context) error {
	if t.conn == nil {
		return nil
	}
	if err := t.Check(); err != nil {
		return err
	}
	held, err := t.e.st.Instances.LockHeld(ctx, t.conn.Pid())
	if err != nil {
		return err
	}
	if !held {
		t.lose(errors.New("the lock's session no longer holds it"))
		return store.ErrNotActive
	}
	return nil
}

func (t *Term) lose(why error) {
	t.cancel(fmt.Errorf("%w: %w", ErrLost, why))
}

// End ends the term: on a graceful stop the lock is released at once, so
// a standby need not wait out the lease.
func (t *Term) End() {
	t.endOnce.Do(func() {
		lost := t.Lost()
		t.cancel(context.Canceled)
		t.wg.Wait()
		if t.conn == nil {
			return
		}
		if !lost {
			ctx, cancel := context.WithTimeout(context.Background(), heartbeatLimit)
			_ = t.conn.Deactivate(ctx, t.e.self.ID)
			_ = t.conn.Unlock(ctx)
			cancel()
		}
		_ = t.conn.Close()
	})
}

// Wait blocks while another instance is active and returns when this one
// is. On SQLite it returns at once.
func (e *Elector) Wait(ctx context.Context) (*Term, error) {
	tctx, cancel := context.WithCancelCause(ctx)
	t := &Term{e: e, ctx: tctx, cancel: cancel}
	if !e.postgres {
		return t, nil
	}
	conn, confirmed, err := e.standBy(ctx)
	if err != nil {
		cancel(err)
		return nil, err
	}
	t.conn = conn
	t.confirmed.Store(int64(confirmed))
	t.wg.Go(t.heartbeat)
	e.log.Info().Str("instance", e.self.Name).Msg("This instance is the active one")
	return t, nil
}

// standBy waits until this instance holds the lock and every earlier
// holder's lease has run out, and returns the lock's connection and when
// (Elector.since) the query that made this instance active was sent: its
// first lease runs from there, never from later than the database's record.
func (e *Elector) standBy(ctx context.Context) (*store.Conn, time.Duration, error) {
	var conn *store.Conn
	defer func() {
		if conn != nil && ctx.Err() != nil {
			_ = conn.Close()
		}
	}()
	said := ""
	say := func(level zerolog.Level, msg string) {
		if msg != said {
			e.log.WithLevel(level).Str("instance", e.self.Name).Msg(msg)
			said = msg
			e.status.Store(&msg)
		}
	}
	var sent time.Duration
	var hungSince time.Time // when an unnamed holder was first seen
	var hungPid int64
	for {
		if conn == nil {
			c, err := e.st.Instances.Conn(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil, 0, ctx.Err()
				}
				say(zerolog.WarnLevel, "Standing by: the database cannot be reached ("+err.Error()+"); trying again every second")
				if err := sleep(ctx, tryEvery); err != nil {
					return nil, 0, err
				}
				continue
			}
			conn = c
		}
		opCtx, cancel := context.WithTimeout(ctx, heartbeatLimit)
		active, leaseLeft, err := e.tryOnce(opCtx, conn, say, &hungSince, &hungPid)
		cancel()
		if err == nil && active {
			if leaseLeft > 0 {
				// The previous holder may still be acting on its lease.
				say(zerolog.InfoLevel, "Took the lock; waiting "+leaseLeft.Round(time.Millisecond).String()+" for the previous active instance's lease to run out")
				if err := sleep(ctx, leaseLeft); err != nil {
					return nil, 0, err
				}
			}
			opCtx, cancel := context.WithTimeout(ctx, heartbeatLimit)
			sent = e.since()
			err = conn.Activate(opCtx, e.self.ID)
			cancel()
		}
		if ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
		if err != nil {
			say(zerolog.WarnLevel, "Standing by: the database failed ("+err.Error()+"); trying again every second")
			_ = conn.Close()
			conn = nil
		} else if active {
			return conn, sent, nil
		}
		if err := sleep(ctx, tryEvery); err != nil {
			return nil, 0, err
		}
	}
}

// tryOnce takes the lock if it is free, and then returns how much of the
// previous holder's lease is left; otherwise it ends the session of a
// holder that hangs.
func (e *Elector) tryOnce(ctx context.Context, conn *store.Conn, say func(zerolog.Level, string), hungSince *time.Time, hungPid *int64) (bool, time.Duration, error) {
	if err := conn.StandingBy(ctx, e.self); err != nil {
		return false, 0, err
	}
	got, err := conn.TryLock(ctx)
	if err != nil {
		return false, 0, err
	}
	if got {
		left, err := conn.LeaseLeft(ctx, e.self.ID, lease)
		if err != nil {
			_ = conn.Unlock(ctx)
		}
		return err == nil, left, err
	}
	h, held, err := conn.Holder(ctx)
	if err != nil || !held {
		return false, 0, err // released in between: try again
	}
	name := h.Name
	if name == "" {
		name = fmt.Sprintf("a Gavel (database session %d)", h.Pid)
	}
	say(zerolog.InfoLevel, "Standing by: "+name+" is the active instance")
	age := h.Age
	if h.ID == "" {
		// A session holds the lock without an active row (yet): count
		// its silence from when this instance first saw it.
		if *hungPid != h.Pid {
			*hungPid, *hungSince = h.Pid, time.Now()
		}
		age = time.Since(*hungSince)
	}
	if age > staleAfter {
		e.log.Warn().Str("instance", e.self.Name).Str("active", name).Dur("silent", age).
			Msg("The active instance has not been heard from: ending its database sessions to take over")
		if err := conn.Terminate(ctx, h.Pid, h.ID); err != nil {
			return false, 0, err
		}
	}
	return false, 0, nil
}

// heartbeat renews the term's lease until it ends; a failed heartbeat
// ends the term.
func (t *Term) heartbeat() {
	tick := time.NewTicker(heartbeatEvery)
	defer tick.Stop()
	lastPrune := time.Time{}
	for {
		select {
		case <-t.ctx.Done():
			return
		case <-tick.C:
		}
		sent := t.e.since()
		ctx, cancel := context.WithTimeout(t.ctx, heartbeatLimit)
		err := t.conn.Heartbeat(ctx, t.e.self.ID)
		cancel()
		if t.ctx.Err() != nil {
			return
		}
		if err != nil {
			t.e.log.Error().Err(err).Str("instance", t.e.self.Name).Msg("Lost the active instance's lock: stopping everything now; standing by")
			t.lose(err)
			return
		}
		t.confirmed.Store(int64(sent))
		if time.Since(lastPrune) > time.Hour {
			lastPrune = time.Now()
			_ = t.e.st.Instances.Prune(t.ctx, time.Now().Add(-forgetAfter))
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
