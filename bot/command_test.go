package bot

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/internal/mxid"
	"github.com/gavel-bot/gavel/metrics"
)

// testBot is a Bot that needs no homeserver: power levels are cached.
func testBot(t *testing.T, levels map[id.UserID]int) *Bot {
	cfg := config.Defaults()
	cfg.Matrix = config.Matrix{Homeserver: "https://matrix.example.org", UserID: "@gavel:example.org", AccessToken: "x", ManagementRoom: "!mods:example.org"}
	// Without a store, the metrics read none.
	b, err := New(&cfg, nil, zerolog.Nop(), Options{Metrics: metrics.New("test", metrics.Sources{})})
	require.NoError(t, err)
	b.serverRoom().powerLevels = &event.PowerLevelsEventContent{Users: levels}
	b.serverRoom().createEvent = &event.Event{Type: event.StateCreate, Sender: "@creator:example.org",
		Content: event.Content{Parsed: &event.CreateEventContent{RoomVersion: "10"}}}
	return b
}

func commandEvent(sender id.UserID, age time.Duration) *event.Event {
	return &event.Event{ID: "$c", Sender: sender, RoomID: "!mods:example.org", Timestamp: time.Now().Add(-age).UnixMilli()}
}

func TestPermissions(t *testing.T) {
	b := testBot(t, map[id.UserID]int{"@mod:example.org": 50, "@admin:example.org": 100, "@helper:example.org": 49})
	for user, allowed := range map[id.UserID]bool{"@mod:example.org": true, "@admin:example.org": true, "@helper:example.org": false, "@stranger:example.org": false} {
		out := b.intake.Decide(context.Background(), commandEvent(user, 0), commands.Help{}, nil)
		if allowed {
			assert.Contains(t, out.Reply.Plain(), "Gavel's commands", user)
			assert.False(t, out.Action, "help is not an action")
		} else {
			assert.True(t, strings.HasPrefix(out.Reply.Plain(), "Sorry, Gavel's commands need power level 50 in this room; yours is "), user)
			assert.True(t, out.Action, "a refusal is logged")
			assert.False(t, out.OK)
		}
	}
	b.cfg.Commands.MinPowerLevel = 0
	out := b.intake.Decide(context.Background(), commandEvent("@stranger:example.org", 0), commands.Help{}, nil)
	assert.Contains(t, out.Reply.Plain(), "Gavel's commands", "min_power_level 0 lets every member in")

	// In room version 12 the creator outranks every level without being
	// listed.
	b.cfg.Commands.MinPowerLevel = 50
	b.serverRoom().createEvent.Content.Parsed = &event.CreateEventContent{RoomVersion: "12"}
	out = b.intake.Decide(context.Background(), commandEvent("@creator:example.org", 0), commands.Help{}, nil)
	assert.Contains(t, out.Reply.Plain(), "Gavel's commands")
	b.serverRoom().createEvent.Content.Parsed = &event.CreateEventContent{RoomVersion: "10"}
	out = b.intake.Decide(context.Background(), commandEvent("@creator:example.org", 0), commands.Help{}, nil)
	assert.Contains(t, out.Reply.Plain(), "Sorry", "before v12 the creator has only its listed level")
}

func TestStaleCommandsDoNotRun(t *testing.T) {
	b := testBot(t, map[id.UserID]int{"@mod:example.org": 100})
	out := b.intake.Decide(context.Background(), commandEvent("@mod:example.org", 3*time.Hour), commands.DeleteReport{ID: mxid.EventReport(12)}, nil)
	assert.Contains(t, out.Reply.Plain(), "Not run: this command is from")
	assert.Contains(t, out.Reply.Plain(), "3 h ago, while Gavel was not running. Send it again if it still applies.")
}

func TestUsageErrorsPointToHelp(t *testing.T) {
	b := testBot(t, map[id.UserID]int{"@mod:example.org": 100})
	err := &commands.UsageError{Command: "report delete", Problem: "give exactly one report id, like 12", Usage: "report delete <id>"}
	out := b.intake.Decide(context.Background(), commandEvent("@mod:example.org", 0), nil, err)
	assert.Equal(t, "Give exactly one report id, like 12; usage: report delete <id>. See `!help report delete`.", out.Reply.Plain())
}
