package statstest

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/event"

	"github.com/gavel-bot/gavel/bot"
	"github.com/gavel-bot/gavel/internal/testkit/bottest"
)

// clock is a stats.Clock the test moves: After fires once the clock is
// set past it, and waiting says the loop waits.
type clock struct {
	mu      sync.Mutex
	now     time.Time
	waiters map[chan time.Time]time.Time
	waiting chan struct{}
}

func newClock(now time.Time) *clock {
	return &clock{now: now, waiters: map[chan time.Time]time.Time{}, waiting: make(chan struct{}, 10)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters[ch] = c.now.Add(d)
	c.waiting <- struct{}{}
	return ch
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
	for ch, at := range c.waiters {
		if !at.After(t) {
			ch <- t
			delete(c.waiters, ch)
		}
	}
}

func (c *clock) waitLoop(t *testing.T) {
	t.Helper()
	select {
	case <-c.waiting:
	case <-time.After(30 * time.Second):
		t.Fatal("the weekly loop does not wait")
	}
}

// weekly returns Gavel's weekly messages in the room: the figures and
// the chart.
func weekly(e *bottest.Env) (texts, images []*event.Event) {
	for _, evt := range e.BotMessages() {
		c := evt.Content.AsMessage()
		switch {
		case c.MsgType == event.MsgImage:
			images = append(images, evt)
		case strings.HasPrefix(c.Body, "Weekly picture"):
			texts = append(texts, evt)
		}
	}
	return
}

// TestWeeklyOnInjectedClock: with stats.weekly on in Europe/Berlin, the
// clock reaching Monday 09:00 there posts the past week's figures and
// chart in the management room; Gavel restarted an hour later posts
// nothing again (the messages' outbox keys name the week; the kv key,
// which moderation's TestPostWeeklyOnce checks, spares the upload too).
func TestWeeklyOnInjectedClock(t *testing.T) {
	e := bottest.NewEnv(t, nil)
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	monday := time.Date(2026, 12, 7, 9, 0, 0, 0, berlin)
	fill(t, e.Cfg.Database.URI, monday)
	e.Cfg.Stats.Weekly, e.Cfg.Stats.Timezone = true, "Europe/Berlin"
	require.NoError(t, e.Cfg.Validate())

	c := newClock(monday.Add(-time.Hour))
	gavel := e.Start(func(o *bot.Options) { o.StatsClock = c })
	c.waitLoop(t)
	texts, images := weekly(e)
	assert.Empty(t, texts, "not before Monday 09:00")
	c.set(monday)
	require.Eventually(t, func() bool {
		texts, images = weekly(e)
		return len(texts) > 0 && len(images) > 0
	}, 30*time.Second, 200*time.Millisecond, "the weekly picture is posted")
	body := texts[0].Content.AsMessage().Body
	assert.Contains(t, body, "Weekly picture, 2026-W50.")
	assert.Contains(t, body, "Reports received: 3 (3 event)")
	assert.Contains(t, body, "Time to resolve: median 2h 00min")
	img := images[0].Content.AsMessage()
	assert.Equal(t, 800, img.Info.Width)
	assert.Nil(t, img.RelatesTo, "a message of its own")

	require.NoError(t, gavel.Stop())
	c = newClock(monday.Add(time.Hour))
	e.Start(func(o *bot.Options) { o.StatsClock = c })
	c.waitLoop(t)
	time.Sleep(2 * time.Second) // a second post would come within this
	texts, images = weekly(e)
	assert.Len(t, texts, 1, "once per week, across a restart")
	assert.Len(t, images, 1)
}
