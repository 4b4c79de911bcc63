package store

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"
)

// TestHealthReads: the outbox's depth and its oldest message follow what
// is queued and sent; pending confirmations count until decided or
// expired; Ping answers while the database is open, and not after.
func TestHealthReads(t *testing.T) {
	backends(t, func(t *testing.T, open func() *Store) {
		s := open()
		ctx := context.Background()
		require.NoError(t, s.Ping(ctx))
		n, oldest, err := s.Outbox.Depth(ctx)
		require.NoError(t, err)
		assert.Zero(t, n)
		assert.True(t, oldest.IsZero())

		before := time.Now()
		require.NoError(t, s.Outbox.Enqueue(ctx, notice("gavel-report-1-1")))
		require.NoError(t, s.Outbox.Enqueue(ctx, notice("gavel-report-2-2")))
		n, oldest, err = s.Outbox.Depth(ctx)
		require.NoError(t, err)
		assert.EqualValues(t, 2, n)
		assert.WithinRange(t, oldest, before, time.Now())
		require.NoError(t, s.Outbox.MarkSent(ctx, "gavel-report-1-1", "$one"))
		n, _, err = s.Outbox.Depth(ctx)
		require.NoError(t, err)
		assert.EqualValues(t, 1, n)

		now := time.Now()
		for i, name := range []string{"$open", "$decided", "$expired"} {
			reply := Message{Key: OutboxKey("reply-" + name), RoomID: "!mods:example.org", Content: []byte(`{}`)}
			expires := now.Add(time.Minute)
			if i == 2 {
				expires = now.Add(-time.Second)
			}
			p := &Pending{Command: "deactivate @spam:example.org", Sender: "@mod:example.org", CreatedAt: now, ExpiresAt: expires}
			_, err := s.Commands.Finish(ctx, id.EventID("$cmd"+name), Finished{Reply: reply, Pending: p})
			require.NoError(t, err)
		}
		won, err := s.Pending.Decide(ctx, "reply-$decided", PendingConfirmed, "@mod:example.org", now)
		require.NoError(t, err)
		require.True(t, won)
		pending, err := s.Pending.Count(ctx, now)
		require.NoError(t, err)
		assert.EqualValues(t, 1, pending, "only the one still waiting")

		require.NoError(t, s.Close())
		assert.Error(t, s.Ping(ctx), "a closed database does not answer")
	})
}
