package standby

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gavel-bot/gavel/internal/testkit/pgtest"
	"github.com/gavel-bot/gavel/internal/testkit/synapsetest"
	"github.com/gavel-bot/gavel/store"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	synapsetest.StopShared()
	synapsetest.RemoveBinary()
	os.Exit(code)
}

var bg = context.Background()

func openStore(t *testing.T, uri string) *store.Store {
	t.Helper()
	st, err := store.Open(bg, uri, zerolog.Nop())
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

func newElector(t *testing.T, st *store.Store, uri string) *Elector {
	t.Helper()
	e, err := New(st, uri, "test", zerolog.New(zerolog.NewTestWriter(t)))
	require.NoError(t, err)
	t.Cleanup(e.Close)
	return e
}

// wait runs e.Wait in the background; the term arrives on the channel.
func wait(t *testing.T, e *Elector) <-chan *Term {
	ctx, cancel := context.WithCancel(bg)
	t.Cleanup(cancel)
	ch := make(chan *Term, 1)
	go func() {
		term, err := e.Wait(ctx)
		if err == nil {
			t.Cleanup(term.End)
			ch <- term
		}
	}()
	return ch
}

func fenceErr(st *store.Store, term *Term) error {
	return st.DB().DoTxn(bg, nil, func(ctx context.Context) error { return term.Fence(ctx) })
}

// Two Gavels on one PostgreSQL database: one is active, the other stands
// by until the first stops, and then takes over at once (a graceful stop
// leaves no lease to wait out).
func TestOneActiveAndAHandover(t *testing.T) {
	uri := pgtest.URI(t)
	stA, stB := openStore(t, uri), openStore(t, uri)
	a, b := newElector(t, stA, uri), newElector(t, stB, uri)

	termA := <-wait(t, a)
	require.NoError(t, termA.Check())
	require.NoError(t, fenceErr(stA, termA))
	termsB := wait(t, b)
	select {
	case <-termsB:
		t.Fatal("a second instance became active while the first holds the lock")
	case <-time.After(3 * tryEvery):
	}
	instances, err := stA.Instances.List(bg, time.Now().Add(-time.Minute))
	require.NoError(t, err)
	require.Len(t, instances, 2)
	assert.True(t, instances[0].Active)
	assert.Equal(t, a.Name(), instances[0].Name)
	assert.False(t, instances[1].Active, "the standby")

	termA.End()
	start := time.Now()
	termB := <-termsB
	t.Logf("handover took %s", time.Since(start))
	assert.Less(t, time.Since(start), lease, "no lease to wait out after a graceful stop")
	require.NoError(t, fenceErr(stB, termB))
	assert.ErrorIs(t, termA.Check(), store.ErrNotActive)
}

// An active instance whose database session ends (an administrator, a
// network cut, a database restart) loses its term within a heartbeat, and
// its fence refuses claims at once; the standby becomes active only once
// the lost one's lease has run out.
func TestLosingTheSessionEndsTheTerm(t *testing.T) {
	uri := pgtest.URI(t)
	stA, stB := openStore(t, uri), openStore(t, uri)
	a, b := newElector(t, stA, uri), newElector(t, stB, uri)
	termA := <-wait(t, a)
	termsB := wait(t, b)

	db, err := sql.Open("postgres", uri)
	require.NoError(t, err)
	defer db.Close()
	killed := time.Now()
	_, err = db.Exec(`SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype='advisory' AND granted`)
	require.NoError(t, err)

	assert.ErrorIs(t, fenceErr(stA, termA), store.ErrNotActive, "the fence sees the lock gone at once")
	select {
	case <-termA.Context().Done():
		assert.True(t, termA.Lost())
		assert.ErrorIs(t, context.Cause(termA.Context()), ErrLost)
	case <-time.After(heartbeatEvery + heartbeatLimit):
		t.Fatal("the term did not end")
	}
	assert.ErrorIs(t, termA.Check(), store.ErrNotActive)

	termB := <-termsB
	took := time.Since(killed)
	t.Logf("took over %s after the session ended", took)
	assert.GreaterOrEqual(t, took, lease-heartbeatEvery, "the standby waited out the lease of the last heartbeat")
	require.NoError(t, fenceErr(stB, termB))
}

// An active instance that stops renewing its lease (hung) has its session
// ended by the standby once its heartbeat is staleAfter old.
func TestHungActiveIsReplaced(t *testing.T) {
	uri := pgtest.URI(t)
	stA, stB := openStore(t, uri), openStore(t, uri)
	a, b := newElector(t, stA, uri), newElector(t, stB, uri)
	termA := <-wait(t, a)
	// Hang A in the middle of a transaction on another of its
	// connections, holding a row lock: its heartbeat stops, its sessions,
	// the lock and the row lock stay.
	require.NoError(t, stA.KV.Set(bg, store.KVNextBatch, "s1"))
	tx, err := stA.DB().RawDB.BeginTx(bg, nil)
	require.NoError(t, err)
	defer tx.Rollback()
	_, err = tx.Exec(`UPDATE kv SET value='s2' WHERE key=$1`, store.KVNextBatch)
	require.NoError(t, err)
	termA.cancel(errors.New("test: hung"))
	termA.wg.Wait()
	hung := time.Now()

	termB := <-wait(t, b)
	took := time.Since(hung)
	t.Logf("took over %s after the last heartbeat", took)
	assert.GreaterOrEqual(t, took, staleAfter-heartbeatEvery)
	require.NoError(t, fenceErr(stB, termB))
	held, err := stA.Instances.LockHeld(bg, termA.conn.Pid())
	require.NoError(t, err)
	assert.False(t, held, "A's session was ended")
	assert.Error(t, termA.conn.Heartbeat(bg, a.self.ID), "A cannot renew its lease any more")
	// A's other sessions were ended too: the row it locked is free.
	ctx, cancel := context.WithTimeout(bg, 5*time.Second)
	defer cancel()
	require.NoError(t, stB.KV.Set(ctx, store.KVNextBatch, "s3"), "B writes the row A's transaction had locked")
	assert.Error(t, tx.Commit(), "A's transaction is gone")
}

// On SQLite a second Gavel on the same file refuses to start, naming the
// process that runs.
func TestSecondGavelOnSQLiteRefuses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gavel.db")
	st := openStore(t, path)
	first := newElector(t, st, path)
	term, err := first.Wait(bg)
	require.NoError(t, err)
	require.NoError(t, term.Check())

	_, err = New(st, path, "test", zerolog.Nop())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "another Gavel (process "+strconv.Itoa(os.Getpid())+") is running on the SQLite database "+path)
	assert.Contains(t, err.Error(), "PostgreSQL")

	first.Close()
	again, err := New(st, path, "test", zerolog.Nop())
	require.NoError(t, err, "the lock goes with the process that held it")
	again.Close()
}
