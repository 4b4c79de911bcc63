package commands

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLevels: a command needs its own entry's level, else its group's,
// else min_power_level; destructive commands default to 100 (or
// min_power_level when higher).
func TestLevels(t *testing.T) {
	level := func(l Levels, name string) int {
		t.Helper()
		s := ByName(name)
		require.NotNil(t, s, name)
		return l.Of(s)
	}
	defaults := Levels{Min: 50}
	for _, s := range All() {
		want := 50
		if s.Group == GroupDestructive {
			want = 100
		}
		assert.Equal(t, want, defaults.Of(s), s.Name)
	}
	assert.Equal(t, 50, defaults.Lowest())
	assert.Equal(t, 50, defaults.Cancel(ByName("deactivate")), "any moderator may cancel")
	assert.Equal(t, 50, defaults.Cancel(nil))

	set := Levels{Min: 50, Set: map[string]int{"suspend": 100, "server": 70, "destructive": 90, "room delete": 120, "read": 0, "redact event": 30}}
	assert.Equal(t, 100, level(set, "suspend"), "its own entry")
	assert.Equal(t, 70, level(set, "lock"), "its group's")
	assert.Equal(t, 90, level(set, "deactivate"))
	assert.Equal(t, 120, level(set, "room delete"), "its own entry over its group's")
	assert.Equal(t, 0, level(set, "help"))
	assert.Equal(t, 30, level(set, "redact event"))
	assert.Equal(t, 50, level(set, "kick"), "min_power_level")
	assert.Equal(t, 50, level(set, "report claim"))
	assert.Equal(t, 0, set.Lowest())
	assert.Equal(t, 50, set.Cancel(ByName("room delete")))
	assert.Equal(t, 30, set.Cancel(ByName("redact event")), "a command's own level when lower")

	assert.Equal(t, 150, level(Levels{Min: 150}, "deactivate"), "destructive never below min_power_level by default")
	assert.Equal(t, 10, level(Levels{Min: 0, Set: map[string]int{"destructive": 10}}, "redact user"))
}

// TestLevelNames: commands.power_levels takes every group and every
// command by its name, and nothing else.
func TestLevelNames(t *testing.T) {
	names := LevelNames()
	assert.Equal(t, []string{"read", "cases", "room", "server", "destructive"}, names[:5])
	assert.Len(t, names, 5+len(All()))
	for _, s := range All() {
		assert.Contains(t, names, s.Name)
	}
	for _, g := range Groups() {
		assert.NotEmpty(t, commandsIn(g), g)
	}
}

func commandsIn(g Group) []string {
	var out []string
	for _, s := range All() {
		if s.Group == g {
			out = append(out, s.Name)
		}
	}
	return out
}
