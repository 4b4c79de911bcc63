package notice

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gavel-bot/gavel/commands"
)

// TestHelpGroupsCommands: !help lists every command once, one line each,
// under its section, the sections in order.
func TestHelpGroupsCommands(t *testing.T) {
	plain := Help("", "!", nil).Plain()
	lines := strings.Split(plain, "\n")
	var sections []string
	seen := map[string]string{} // usage line → section
	section := ""
	for _, line := range lines[1:] {
		if usage, ok := strings.CutPrefix(line, "• `"); ok {
			usage, _, _ = strings.Cut(usage, "` — ")
			assert.NotContains(t, seen, usage, "listed once")
			seen[usage] = section
			continue
		}
		section = line
		sections = append(sections, line)
	}
	assert.Equal(t, []string{"Reports and cases", "Accounts", "Rooms", "Media", "Policy lists", "Gavel"}, sections)
	require.Len(t, seen, len(commands.All()), "one line per command:\n%s", plain)
	for _, s := range commands.All() {
		assert.Equal(t, string(s.Section), seen["!"+s.Usage], s.Name)
	}
	assert.Equal(t, "Gavel", seen["!status"])
	assert.Equal(t, "Reports and cases", seen["!report claim <id>"])
	assert.Equal(t, "Media", seen["!quarantine room <!room:server | #alias:server> [--report <id>]"])
	assert.Contains(t, plain, "• `!lock <@user:server> [--yes] [--report <id>]` — lock a local account")
}

// TestHelpExplainsACommand: !help <command> gives the usage, the details
// and each argument's doc.
func TestHelpExplainsACommand(t *testing.T) {
	plain := Help("room delete", "!", nil).Plain()
	assert.Contains(t, plain, "• `!room delete <!room:server | #alias:server> [--block] [--purge] [--message text] [--yes] [--report <id>]` — delete a room")
	assert.Contains(t, plain, "Removes every local member from the room")
	assert.Contains(t, plain, "\n  `[--purge]`: remove its history from the database")
	assert.Contains(t, plain, "\n  `[--yes]`: no preview: delete at once")
	assert.Contains(t, plain, "\n  `<!room:server | #alias:server>`: a room id or alias")
	assert.NotContains(t, plain, "!room block")

	assert.Equal(t, "There is no command `!frobnicate`. `!help` lists them.", Help("frobnicate", "!", nil).Plain())
}

// TestHelpMarksWhatIsOutOfReach: !help marks the commands the asking
// member's power level is too low for, with the level each needs; !help
// <command> says the level it needs, and the member's when lower.
func TestHelpMarksWhatIsOutOfReach(t *testing.T) {
	have := 50
	roles := &Roles{Levels: commands.Levels{Min: 50, Set: map[string]int{"suspend": 100}}, Have: &have}
	plain := Help("", "!", roles).Plain()
	first, _, _ := strings.Cut(plain, "\n")
	assert.Equal(t, "Gavel's commands (`!help <command>` explains one). Your power level here is 50: the commands marked need more:", first)
	var names []string
	for _, s := range commands.All() {
		start := strings.Index(plain, "• `!"+s.Usage+"` — ")
		require.GreaterOrEqual(t, start, 0, s.Name)
		line, _, _ := strings.Cut(plain[start:], "\n")
		if strings.HasSuffix(line, " — needs power 100 here") {
			names = append(names, s.Name)
		} else {
			assert.NotContains(t, line, "needs power", s.Name)
		}
	}
	assert.ElementsMatch(t, []string{"suspend", "deactivate", "room delete", "redact user"}, names)

	have = 100
	plain = Help("", "!", roles).Plain()
	assert.NotContains(t, plain, "needs power")
	assert.NotContains(t, plain, "Your power level")

	have = 50
	plain = Help("deactivate", "!", roles).Plain()
	assert.Contains(t, plain, "\n  Needs power 100 here; yours is 50.")
	plain = Help("quarantine", "!", roles).Plain()
	assert.Equal(t, 3, strings.Count(plain, "\n  Needs power 50 here."), plain)
	assert.NotContains(t, Help("deactivate", "!", nil).Plain(), "Needs power", "no levels when they are not known")
}
