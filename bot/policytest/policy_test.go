// Package policytest holds the integration tests of policy lists: a list
// room on a real Synapse, followed from its state and from sync, asked
// with !policy check and !policy list, and counted in !status.
package policytest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/internal/testkit/bottest"
)

func TestMain(m *testing.M) { bottest.Main(m) }

var bg = context.Background()

// listRoom makes a policy list room as the moderator, public, with an
// alias, Gavel's account at power level botLevel.
func listRoom(t *testing.T, e *bottest.Env, alias string, botLevel int) id.RoomID {
	t.Helper()
	resp, err := e.Mod.CreateRoom(bg, &mautrix.ReqCreateRoom{Name: "Bans", Preset: "public_chat", RoomAliasName: alias,
		PowerLevelOverride: &event.PowerLevelsEventContent{Users: map[id.UserID]int{e.Mod.UserID: 100, e.BotCli.UserID: botLevel}}})
	require.NoError(t, err)
	return resp.RoomID
}

// rule sends a rule into a list room as the moderator.
func rule(t *testing.T, cli *mautrix.Client, room id.RoomID, typ, key string, content map[string]any) {
	t.Helper()
	_, err := cli.SendStateEvent(bg, room, event.Type{Type: typ, Class: event.StateEventType}, key, content)
	require.NoError(t, err)
}

func ban(entity, reason string) map[string]any {
	return map[string]any{"entity": entity, "recommendation": "m.ban", "reason": reason}
}

// TestFollowAndAsk: a list given by alias is joined and read at start
// (old rule types and hostile rules included), kept from sync, and asked
// with !policy check and !policy list; !status counts its rules.
func TestFollowAndAsk(t *testing.T) {
	e := bottest.NewEnv(t, nil)
	server := e.Spammer.UserID.Homeserver()
	alias := "bans-" + strings.ToLower(strings.TrimPrefix(string(e.Room), "!")[:8])
	list := listRoom(t, e, alias, 50)
	rule(t, e.Mod, list, "m.policy.rule.user", "spammer", ban(string(e.Spammer.UserID), "<b>spam</b> @room"))
	rule(t, e.Mod, list, "org.matrix.mjolnir.rule.server", "glob", ban("*.spam.example", "spam servers"))
	rule(t, e.Mod, list, "m.policy.rule.user", "bad", ban("@"+strings.Repeat("?", 1100)+"*", "invalid glob"))
	e.Cfg.PolicyLists = []config.PolicyList{{Room: "#" + alias + ":" + server, Shortcode: "main", Write: true}}
	require.NoError(t, e.Cfg.Validate())
	e.Start()

	reply := e.Command(e.Mod, "!policy check "+string(e.Spammer.UserID))
	assert.Contains(t, reply.Body, "main: `m.ban` `"+string(e.Spammer.UserID)+"` `<b>spam</b> @\u2060room`")
	assert.NotContains(t, reply.FormattedBody, "<b>spam", "a list's reason is inert")
	assert.Contains(t, e.Command(e.Mod, "!policy check a.spam.example").Body, "a glob matching `a.spam.example`")

	// A rule set after start arrives by sync.
	rule(t, e.Mod, list, "m.policy.rule.room", "room", ban(string(e.Public), "spam room"))
	require.Eventually(t, func() bool {
		return strings.Contains(e.Command(e.Mod, "!policy check "+string(e.Public)).Body, "spam room")
	}, 30*time.Second, 500*time.Millisecond)
	// And a removed one goes.
	rule(t, e.Mod, list, "m.policy.rule.user", "spammer", map[string]any{})
	require.Eventually(t, func() bool {
		return strings.Contains(e.Command(e.Mod, "!policy check "+string(e.Spammer.UserID)).Body, ": nothing, in 1 list.")
	}, 30*time.Second, 500*time.Millisecond)

	body := e.Command(e.Mod, "!policy list").Body
	assert.Contains(t, body, "List main ("+string(list)+"): 2 rules, 1 ignored as invalid; Gavel writes to it:")
	assert.Contains(t, body, "server `m.ban` `*.spam.example` `spam servers`")
	assert.Contains(t, e.Command(e.Mod, "!policy list --list main --server x.spam.example").Body, "Those that match:\n• server `m.ban` `*.spam.example`")
	assert.Contains(t, e.Command(e.Mod, "!policy list --list other").Body, "No followed list is called `other`: the lists are main.")
	assert.Contains(t, e.Command(e.Mod, "!status").Body, "Policy list main ("+string(list)+"): 2 rules, 1 ignored as invalid; Gavel writes to it.")
}
