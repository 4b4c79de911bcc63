package desk

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gavel-bot/gavel/commands"
)

// TestServerWideReads: the reads that show the whole server (an account,
// every moderator's actions, the team's figures) are the server desk's.
func TestServerWideReads(t *testing.T) {
	community, server := &Desk{Name: "gaming"}, &Desk{}
	for _, name := range []string{"user", "audit", "stats"} {
		assert.False(t, community.Offers(commands.ByName(name)), name)
		assert.True(t, server.Offers(commands.ByName(name)), name)
	}
	assert.True(t, community.Offers(commands.ByName("reports")), "a read of the desk's own reports")
}
