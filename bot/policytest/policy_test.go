// Package policytest holds the integration tests of policy lists: a list
// room on a real Synapse, followed from its state and from sync, asked
// with !policy check and !policy list, and counted in !status.
package policytest

import (
	"context"
	"os"
	"path/filepath"
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
	"github.com/gavel-bot/gavel/policy"
	"github.com/gavel-bot/gavel/preflight"
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

// stateRule reads the rule under the stable type of entity's kind and
// Gavel's state key in a list room, as the moderator sees it.
func stateRule(t *testing.T, e *bottest.Env, list id.RoomID, entity string) map[string]any {
	t.Helper()
	content := map[string]any{}
	err := e.Mod.StateEvent(bg, list, policy.EntityKind(entity).Type(), policy.StateKey(entity), &content)
	require.NoError(t, err, "the rule about %s", entity)
	return content
}

// TestWriteRules: the card's 📜 and !policy ban write a rule through
// Gavel's account after a preview and ✅ (or --yes), with the case in its
// reason and the action on the card; the next card shows the rule; what
// would reach Gavel itself is refused; !policy unban empties the rule;
// Draupnir's library reads the rules as Gavel does; gavel -check checks
// the power to write.
func TestWriteRules(t *testing.T) {
	e := bottest.NewEnv(t, nil)
	own := e.BotCli.UserID.Homeserver()
	list := listRoom(t, e, "", 50)
	readOnly := listRoom(t, e, "", 0)
	e.Cfg.PolicyLists = []config.PolicyList{{Room: string(readOnly), Shortcode: "community"}, {Room: string(list), Shortcode: "main", Write: true}}
	e.Start()

	spam := e.Spam("buy now")
	e.Report(spam, "spam")
	reportID := e.ReportID(spam)
	var card *event.Event
	require.Eventually(t, func() bool {
		cards := e.CardsOf("event")[reportID]
		if len(cards) > 0 {
			card = cards[0]
		}
		return card != nil
	}, 30*time.Second, 100*time.Millisecond)
	spammer := string(e.Spammer.UserID)
	n := bottest.Itoa(reportID)
	assert.Contains(t, card.Content.AsMessage().Body, "📜 ban them on policy list main (asks first)")
	assert.NotContains(t, card.Content.AsMessage().Body, "Policy lists:", "nothing matches yet")

	// 📜 on the card: a preview, then ✅; the card lists the action.
	press, err := e.Mod.SendReaction(bg, e.Room, card.ID, "📜")
	require.NoError(t, err)
	preview := e.AnswerEvent(press.EventID)
	assert.Contains(t, preview.Content.AsMessage().Body, "📜 Write a ban of `"+spammer+"` to list `main`, reason `case "+n+"`?")
	confirm, err := e.Mod.SendReaction(bg, e.Room, preview.ID, "✅")
	require.NoError(t, err)
	assert.Contains(t, e.AnswerEvent(confirm.EventID).Content.AsMessage().Body, "📜 Banned `"+spammer+"` on list `main` (m.policy.rule.user, reason `case "+n+"`). The bots that follow the list enforce it")
	assert.Equal(t, map[string]any{"entity": spammer, "recommendation": "m.ban", "reason": "case " + n}, stateRule(t, e, list, spammer))
	require.Eventually(t, func() bool {
		edits := e.Edits(card.ID)
		return len(edits) > 0 && strings.Contains(edits[len(edits)-1], "policy ban")
	}, 30*time.Second, 100*time.Millisecond, "the card lists the action")

	// The next card about them says so, and has no 📜.
	spam2 := e.Spam("buy again")
	e.Report(spam2, "spam again")
	report2 := e.ReportID(spam2)
	var card2 *event.Event
	require.Eventually(t, func() bool {
		cards := e.CardsOf("event")[report2]
		if len(cards) > 0 {
			card2 = cards[0]
		}
		return card2 != nil
	}, 30*time.Second, 100*time.Millisecond)
	body := card2.Content.AsMessage().Body
	assert.Contains(t, body, "Policy lists: main — `m.ban` `case "+n+"` (since ")
	assert.NotContains(t, body, "📜")

	// Typed, with --yes and a reason: the same rule, rewritten.
	reply := e.Command(e.Mod, "!policy ban "+spammer+` --yes --reason "buying <b>now</b>" --report `+n).Body
	assert.Contains(t, reply, "📜 Banned `"+spammer+"` on list `main` (m.policy.rule.user, reason `buying <b>now</b> (case "+n+")`). The bots that follow the list enforce it")
	assert.Equal(t, "buying <b>now</b> (case "+n+")", stateRule(t, e, list, spammer)["reason"])
	assert.Contains(t, e.Command(e.Mod, "!policy check "+spammer).Body, "main: `m.ban` `"+spammer+"` `buying <b>now</b> (case "+n+")`", "Gavel's own rule is matched at once")

	// A glob: a preview, then ✅.
	previewEvt := e.WaitReply(e.Say(e.Mod, "!policy ban @*:spam.example --reason spam"))
	assert.Contains(t, previewEvt.Content.AsMessage().Body, "📜 Write a ban of every user matching `@*:spam.example` to list `main`")
	_, err = e.Mod.SendReaction(bg, e.Room, previewEvt.ID, "✅")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		content := map[string]any{}
		return e.Mod.StateEvent(bg, list, event.StatePolicyUser, policy.StateKey("@*:spam.example"), &content) == nil && content["entity"] == "@*:spam.example"
	}, 30*time.Second, 200*time.Millisecond, "the glob's rule is written once confirmed")

	for cmd, want := range map[string]string{
		"!policy ban @*:" + own:                     "would match Gavel's own account",
		"!policy ban " + own:                        "would match Gavel's own server",
		"!policy ban *":                             "would match every server",
		"!policy ban " + string(e.Room):             "would match a desk's room",
		"!policy ban @x:y.example --list community": "Gavel only reads list `community`",
		"!policy ban @nope":                         "Give a user id (@spam:example.org), a room id or alias",
	} {
		assert.Contains(t, e.Command(e.Mod, cmd).Body, want, cmd)
	}

	reply = e.Command(e.Mod, "!policy unban "+spammer).Body
	assert.Contains(t, reply, "Removed 1 rule about `"+spammer+"` from list `main`. This unbans no one by itself")
	assert.Empty(t, stateRule(t, e, list, spammer))
	assert.Contains(t, e.Command(e.Mod, "!policy unban "+spammer).Body, "List `main` has no rule about `"+spammer+"`")

	// Draupnir's library reads what Gavel wrote as Gavel does, globs and
	// a rule of an older type (the moderator's) included.
	for _, entity := range []string{"*.spam.example", "spam.example", "@sp?m*:evil.example", "!abc:evil.example", "#bad:evil.example", "!*:evil.example", "@Bob:evil.example"} {
		assert.Contains(t, e.Command(e.Mod, "!policy ban "+entity+" --yes --reason interop").Body, "📜 Banned `"+entity+"`")
	}
	rule(t, e.Mod, list, "org.matrix.mjolnir.rule.server", "rule:bad.example", ban("bad.example", "old type"))
	require.Eventually(t, func() bool {
		return strings.Contains(e.Command(e.Mod, "!policy check bad.example").Body, "old type")
	}, 30*time.Second, 500*time.Millisecond)
	t.Run("Draupnir's library agrees", func(t *testing.T) {
		interop(t, e, list, map[policy.Kind][]string{
			policy.User: {"@a:spam.example", "@a:SPAM.example", "@spam:evil.example", "@spammer:evil.example", "@spm:evil.example",
				"@Bob:evil.example", "@bob:evil.example", spammer, "@x:a.spam.example"},
			policy.Room:   {"!abc:evil.example", "!xyz:evil.example", "#bad:evil.example", "!abc:good.example", "#good:evil.example"},
			policy.Server: {"a.spam.example", "spam.example", "x.spam.example.org", "SPAM.example", "bad.example", "evil.example"},
		})
	})

	// gavel -check: main may be written, community may not.
	e.Cfg.PolicyLists[0].Write = true
	path := filepath.Join(t.TempDir(), "config.yaml")
	data, err := e.Cfg.Marshal()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, data, 0o600))
	var out strings.Builder
	assert.ErrorIs(t, preflight.Run(bg, path, &out), preflight.ErrFailed)
	assert.Contains(t, out.String(), "FAIL policy lists: policy list community has write: true, but Gavel's account has power level 0 there and m.policy.rule.user needs 50")
	e.Cfg.PolicyLists = e.Cfg.PolicyLists[1:]
	data, err = e.Cfg.Marshal()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, data, 0o600))
	out.Reset()
	require.NoError(t, preflight.Run(bg, path, &out), out.String())
	assert.Contains(t, out.String(), "ok   policy lists: main ("+string(list)+", 9 rules) is read and written")
}
