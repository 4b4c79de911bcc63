package stats

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClock is a clock the test moves; After fires when it is moved past.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
	waiting chan time.Time // each After's deadline, as the loop asks
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock(now time.Time) *fakeClock {
	return &fakeClock{now: now, waiting: make(chan time.Time, 10)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, waiter{c.now.Add(d), ch})
	c.waiting <- c.now.Add(d)
	return ch
}

// set moves the clock to t and fires what waited until then.
func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(t) {
			w.ch <- t
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

// waitFor returns the deadline the loop waits for next.
func (c *fakeClock) waitFor(t *testing.T) time.Time {
	t.Helper()
	select {
	case at := <-c.waiting:
		return at
	case <-time.After(5 * time.Second):
		t.Fatal("the loop does not wait")
		return time.Time{}
	}
}

// TestWeeklyOnFakeClock: the picture goes out at Monday 09:00 in the
// configured zone, once per week; a failed post is tried again 5 minutes
// later; a restart later that Monday calls post again with the same week
// (whose kv key makes it post nothing), and one on a Thursday does not.
func TestWeeklyOnFakeClock(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	clock := newFakeClock(time.Date(2026, 12, 6, 20, 0, 0, 0, berlin)) // Sunday evening
	var mu sync.Mutex
	var dues []time.Time
	fail := 1 // the second week's first try fails
	post := func(_ context.Context, due time.Time) error {
		mu.Lock()
		defer mu.Unlock()
		if due.Day() == 14 && fail > 0 {
			fail--
			return errors.New("homeserver down")
		}
		dues = append(dues, due)
		return nil
	}
	posted := func() []time.Time {
		mu.Lock()
		defer mu.Unlock()
		return append([]time.Time(nil), dues...)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { RunWeekly(ctx, clock, berlin, post, zerolog.Nop()); close(done) }()

	monday := time.Date(2026, 12, 7, 9, 0, 0, 0, berlin)
	assert.True(t, clock.waitFor(t).Equal(monday), "Sunday evening: waits for Monday 09:00 Berlin")
	assert.Empty(t, posted())
	clock.set(monday)
	next := clock.waitFor(t)
	assert.True(t, next.Equal(monday.AddDate(0, 0, 7)), "then for the next Monday: %v", next)
	assert.Equal(t, []time.Time{monday}, posted())
	assert.Equal(t, "2026-W50", Week(posted()[0]))

	clock.set(monday.Add(time.Hour)) // nothing due: nothing posted
	assert.Len(t, posted(), 1)
	clock.set(next)
	retry := clock.waitFor(t)
	assert.True(t, retry.Equal(next.Add(5*time.Minute)), "a failed post is tried again in 5 minutes: %v", retry)
	clock.set(retry)
	clock.waitFor(t)
	assert.Equal(t, []time.Time{monday, next}, posted())
	cancel()
	<-done

	// A restart later that Monday asks again for that week; on Thursday
	// it does not.
	for start, want := range map[time.Time]int{next.Add(3 * time.Hour): 1, next.AddDate(0, 0, 3): 0} {
		clock := newFakeClock(start)
		before := len(posted())
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { RunWeekly(ctx, clock, berlin, post, zerolog.Nop()); close(done) }()
		clock.waitFor(t)
		cancel()
		<-done
		assert.Equal(t, want, len(posted())-before, "started %v", start)
	}
}

// TestDueAcrossDST: Monday 09:00 stays 09:00 on the wall clock when
// summer time ends in between.
func TestDueAcrossDST(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	sunday := time.Date(2026, 10, 25, 12, 0, 0, 0, berlin) // summer time ended at 03:00
	assert.Equal(t, time.Date(2026, 10, 26, 9, 0, 0, 0, berlin), NextDue(sunday, berlin))
	assert.Equal(t, time.Date(2026, 10, 19, 9, 0, 0, 0, berlin), LastDue(sunday, berlin))
	assert.Equal(t, "08:00", NextDue(sunday, berlin).UTC().Format("15:04"))
	assert.Equal(t, "07:00", LastDue(sunday, berlin).UTC().Format("15:04"))
	monday := time.Date(2026, 10, 26, 9, 0, 0, 0, berlin)
	assert.Equal(t, monday, LastDue(monday, berlin), "at 09:00 sharp it is due")
}
