package preflight

import (
	"testing"

	"github.com/stretchr/testify/assert"

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
		"read: 0 — help, reports, report show, user, room show, status, audit",
		"cases: 40 — report delete, report claim, report unclaim, report resolve, report dismiss, report reopen",
		"room: 40 — kick, ban, unban, redact event",
		"server: 20 — lock; 40 — quarantine media, unquarantine media, quarantine room, quarantine user, protect media, unprotect media, unsuspend, unlock, shadowban, unshadowban, room block, room unblock; 100 — suspend",
		"destructive: 100 — deactivate, redact user; 120 — room delete",
	}, Roles(c))
}
