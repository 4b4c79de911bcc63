package preflight

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/config"
)

// TestRolesTable: gavel -check's table gives each group's commands by
// the level they need, an entry of commands.power_levels moving a command
// out of its group's level.
func TestRolesTable(t *testing.T) {
	c := config.Defaults().Commands
	c.MinPowerLevel = 40
	c.PowerLevels = map[string]int{"read": 0, "suspend": 100, "lock": 20, "room delete": 120}
	assert.Equal(t, []string{
		"read: 0 — help, reports, report show, user, room show, policy check, policy list, desk refresh, status, audit, stats",
		"cases: 40 — report delete, report claim, report unclaim, report resolve, report dismiss, report reopen, report escalate",
		"room: 40 — kick, ban, unban, redact event",
		"server: 20 — lock; 40 — quarantine media, unquarantine media, quarantine room, quarantine user, protect media, unprotect media, unsuspend, unlock, shadowban, unshadowban, room block, room unblock, policy ban, policy unban; 100 — suspend",
		"destructive: 100 — deactivate, redact user; 120 — room delete",
	}, Roles(c))

	// A community desk's table: its own levels, and only what it runs.
	d := config.Desk{Name: "gaming", PowerLevels: map[string]int{"cases": 20, "redact user": 50}}
	assert.Equal(t, []string{
		"read: 40 — help, reports, report show, room show, policy check, policy list, desk refresh, status",
		"cases: 20 — report delete, report claim, report unclaim, report resolve, report dismiss, report reopen, report escalate",
		"room: 40 — kick, ban, unban, redact event",
		"destructive: 50 — redact user",
	}, DeskRoles(40, d))
}

// TestUnreachable: gavel -check warns when no member of the management
// room (Gavel aside) has the level some commands need, and names them.
func TestUnreachable(t *testing.T) {
	state := func(levels map[id.UserID]int, roomVersion string) []*event.Event {
		key := func(s string) *string { return &s }
		evts := []*event.Event{
			{Type: event.StateCreate, StateKey: key(""), Sender: "@creator:x",
				Content: event.Content{VeryRaw: json.RawMessage(`{"room_version": "` + roomVersion + `"}`)}},
			{Type: event.StatePowerLevels, StateKey: key(""), Content: event.Content{VeryRaw: mustJSON(t, map[string]any{"users": levels})}},
		}
		for _, user := range []id.UserID{"@gavel:x", "@creator:x", "@mod:x", "@member:x"} {
			evts = append(evts, &event.Event{Type: event.StateMember, StateKey: key(string(user)), Content: event.Content{VeryRaw: json.RawMessage(`{"membership": "join"}`)}})
		}
		return evts
	}
	c := config.Defaults().Commands
	assert.Equal(t, "the highest power level of a member of matrix.management_room is 50, so nobody there can run deactivate, room delete, redact user (they need up to 100): "+
		"raise a moderator's level in the room, or lower what these commands need in commands.power_levels",
		Unreachable(c, state(map[id.UserID]int{"@gavel:x": 100, "@creator:x": 50, "@mod:x": 50}, "10"), "@gavel:x"), "Gavel's own level does not count")
	assert.Empty(t, Unreachable(c, state(map[id.UserID]int{"@mod:x": 100}, "10"), "@gavel:x"))
	assert.Empty(t, Unreachable(c, state(map[id.UserID]int{"@mod:x": 50}, "12"), "@gavel:x"), "in room version 12 the creator outranks every level")

	c.PowerLevels = map[string]int{"suspend": 120}
	assert.Contains(t, Unreachable(c, state(map[id.UserID]int{"@mod:x": 100}, "10"), "@gavel:x"), "is 100, so nobody there can run suspend (they need up to 120)")
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
