package intake

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/moderation"
)

// TestEachCommandNeedsItsLevel: a command runs only for a member with the
// level it needs (commands.power_levels, else its group's, else
// min_power_level); below the lowest level any command needs, the
// refusal says so; a usage error needs only that lowest level.
func TestEachCommandNeedsItsLevel(t *testing.T) {
	levels := map[id.UserID]int{"@admin:x": 100, "@mod:x": 50, "@helper:x": 10, "@member:x": 0}
	cfg := config.Defaults().Commands
	mod, err := moderation.New(moderation.Config{})
	require.NoError(t, err)
	in := New(Config{Commands: &cfg, Mod: mod, Log: zerolog.Nop(),
		PowerLevel: func(_ context.Context, _ id.RoomID, user id.UserID) (int, error) { return levels[user], nil }})
	decide := func(user id.UserID, cmd commands.Command) string {
		t.Helper()
		evt := &event.Event{ID: "$c", Sender: user, RoomID: "!mods:x", Timestamp: time.Now().UnixMilli()}
		return in.Decide(context.Background(), evt, cmd, nil).Reply.Plain()
	}
	deactivate := commands.Deactivate{User: "@spam:x"}

	assert.Equal(t, "Not done: deactivate needs power 100 here; yours is 50.", decide("@mod:x", deactivate))
	assert.Equal(t, "Sorry, Gavel's commands need power level 50 in this room; yours is 10.", decide("@helper:x", deactivate))
	assert.Contains(t, decide("@mod:x", commands.Help{}), "Gavel's commands", "the read group needs min_power_level")

	cfg.PowerLevels = map[string]int{"suspend": 100, "read": 10, "redact user": 50}
	assert.Equal(t, "Not done: suspend needs power 100 here; yours is 50.", decide("@mod:x", commands.Suspend{User: "@spam:x"}))
	assert.Equal(t, "Not done: lock needs power 50 here; yours is 10.", decide("@helper:x", commands.Lock{User: "@spam:x"}))
	assert.Contains(t, decide("@helper:x", commands.Help{}), "Gavel's commands", "read: 10 lets a helper read")
	assert.Equal(t, "Sorry, Gavel's commands need power level 10 in this room; yours is 0.", decide("@member:x", commands.Help{}))
	evt := &event.Event{ID: "$c", Sender: "@helper:x", RoomID: "!mods:x", Timestamp: time.Now().UnixMilli()}
	usage := in.Decide(context.Background(), evt, nil, &commands.UsageError{Command: "deactivate", Problem: "missing user", Usage: "deactivate <user>"})
	assert.NotContains(t, usage.Reply.Plain(), "needs power", "a usage error is answered to whoever may run a command")
	refusal := in.Decide(context.Background(), &event.Event{ID: "$c", Sender: "@mod:x", Timestamp: time.Now().UnixMilli()}, commands.Suspend{User: "@spam:x"}, nil)
	assert.True(t, refusal.Action, "a refusal is logged")
	assert.False(t, refusal.OK)
	assert.Equal(t, "@spam:x", refusal.Target)
}
