package bot

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/desk"
	"github.com/gavel-bot/gavel/feed"
	"github.com/gavel-bot/gavel/store"
)

// TestReadinessFollowsTheCurrentBot: /readyz and the metrics built from a
// Current read whichever bot runs now. Without one, a standby says why it
// does not act and the last poll is zero; with one, its own checks count
// (its poll, the management room), and the standby's reason no longer.
func TestReadinessFollowsTheCurrentBot(t *testing.T) {
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "gavel.db"), zerolog.Nop())
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	var current atomic.Pointer[Bot]
	running := Current(current.Load)
	const standing = "standing by: gavel-a is the active instance"
	ready := running.Readiness(time.Minute, st, func() string { return standing })
	now := time.Now()

	assert.Equal(t, standing, ready.Check(context.Background(), now))
	assert.True(t, running.Sources(st).LastPoll().IsZero())

	cfg := config.Defaults()
	cfg.Matrix.ManagementRoom = "!m:x"
	b := &Bot{startedAt: now.Add(-2 * time.Minute), feed: feed.New(feed.Config{Store: st, Room: "!m:x", Prefix: "!",
		Reports: config.Defaults().Reports, Log: zerolog.Nop(), Notify: func() {}}), desks: desk.FromConfig(&cfg)}
	b.rooms = deskRooms(b.desks)
	current.Store(b)
	assert.Equal(t, "no poll of the reports has succeeded since Gavel started 2m ago (poll_interval 1m0s); "+
		"the bot is not in the management room: invite it back", ready.Check(context.Background(), now))
	b.serverRoom().joined.Store(true)
	assert.Equal(t, "no poll of the reports has succeeded since Gavel started 2m ago (poll_interval 1m0s)", ready.Check(context.Background(), now))

	current.Store(nil)
	assert.Equal(t, standing, ready.Check(context.Background(), now), "the term ended: standing by again")
}
