package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gavel-bot/gavel/commands"
)

// root is the repository's root, from this package's directory.
const root = "../.."

// TestCommandsDocIsCurrent: docs/commands.md is what the declarations
// make.
func TestCommandsDocIsCurrent(t *testing.T) {
	have, err := os.ReadFile(filepath.Join(root, commandsDoc))
	require.NoError(t, err, "%s is missing: run `%s` (make docs)", commandsDoc, regenerate)
	if string(have) != commandsMarkdown() {
		t.Fatalf("%s is stale: the command declarations changed. Run `%s` (make docs) and commit the result.", commandsDoc, regenerate)
	}
}

// TestReadmeGlanceIsCurrent: the README's commands at a glance, when it
// has the markers, are what the declarations make.
func TestReadmeGlanceIsCurrent(t *testing.T) {
	have, err := os.ReadFile(filepath.Join(root, readme))
	require.NoError(t, err)
	updated, ok, err := withGlance(string(have))
	require.NoError(t, err)
	if !ok {
		t.Skipf("%s has no %s … %s block", readme, startMarker, endMarker)
	}
	if updated != string(have) {
		t.Fatalf("the commands at a glance in %s are stale: the command declarations changed. Run `%s` (make docs) and commit the result.", readme, regenerate)
	}
}

// TestDocCoversEveryCommand: every command is in the doc with its usage,
// group and each argument's doc, and once in the glance.
func TestDocCoversEveryCommand(t *testing.T) {
	doc, at := commandsMarkdown(), glance()
	for _, s := range commands.All() {
		assert.Contains(t, doc, "\n### !"+s.Name+"\n\n    !"+s.Usage+"\n", s.Name)
		assert.Contains(t, doc, s.Details, s.Name)
		for i := range s.Args {
			assert.Contains(t, doc, "- `"+s.Args[i].Usage()+"`: "+s.Args[i].Doc, s.Name)
		}
		assert.Equal(t, 1, strings.Count(at, "- `!"+s.Usage+"` — "+s.Summary+"\n"), s.Name)
	}
	assert.Contains(t, doc, "### !lock\n\n    !lock <@user:server> [--yes] [--report <id>]\n\nLock a local account: its sessions end and it cannot log in.\n\n- `<@user:server>`: a local user\n- `[--yes]`: also when the account is a server admin\n")
	assert.Contains(t, doc, "\nGroup: `destructive`.\n")
	assert.Contains(t, at, "**Accounts**\n\n- `!user <@user:server>`")
}

// TestWithGlance: only the block between the markers is rewritten; a README
// without them is left alone; markers out of order are an error.
func TestWithGlance(t *testing.T) {
	readme := "# Gavel\n\nIntro.\n\n" + startMarker + "\nold list\n" + endMarker + "\n\nMore.\n"
	updated, ok, err := withGlance(readme)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "# Gavel\n\nIntro.\n\n"+startMarker+"\n"+glance()+endMarker+"\n\nMore.\n", updated)
	again, _, _ := withGlance(updated)
	assert.Equal(t, updated, again, "rewriting a current README changes nothing")

	_, ok, err = withGlance("# Gavel\n")
	assert.False(t, ok)
	assert.NoError(t, err)
	_, _, err = withGlance(endMarker + startMarker)
	assert.Error(t, err)
	_, _, err = withGlance(startMarker)
	assert.Error(t, err)
}

// TestWrite: the program writes the doc, and the README only when it has
// the markers.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	plain := "# Gavel\n\nno markers\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, readme), []byte(plain), 0o644))
	require.NoError(t, write(dir))
	doc, err := os.ReadFile(filepath.Join(dir, commandsDoc))
	require.NoError(t, err)
	assert.Equal(t, commandsMarkdown(), string(doc))
	have, err := os.ReadFile(filepath.Join(dir, readme))
	require.NoError(t, err)
	assert.Equal(t, plain, string(have))

	marked := "# Gavel\n" + startMarker + endMarker + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, readme), []byte(marked), 0o644))
	require.NoError(t, write(dir))
	have, err = os.ReadFile(filepath.Join(dir, readme))
	require.NoError(t, err)
	assert.Equal(t, "# Gavel\n"+startMarker+"\n"+glance()+endMarker+"\n", string(have))
}
