package casestest

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/outbox"
	"github.com/gavel-bot/gavel/store"
)

// react reacts as cli to evt with key, and returns the reaction's id.
func (e *env) react(cli *mautrix.Client, evt id.EventID, key string) id.EventID {
	e.T.Helper()
	resp, err := cli.SendReaction(bg, e.Room, evt, key)
	require.NoError(e.T, err)
	return resp.EventID
}

// answer waits for Gavel's answer to a reaction (a reply to the preview
// it reacted to) and returns its body.
func (e *env) answer(reaction id.EventID) string {
	e.T.Helper()
	key := string(store.ReplyKey(reaction))
	var body string
	require.Eventuallyf(e.T, func() bool {
		for _, evt := range e.BotMessages() {
			if evt.Content.Raw[outbox.KeyField] == key {
				body = evt.Content.AsMessage().Body
				return true
			}
		}
		return false
	}, 30*time.Second, 100*time.Millisecond, "waiting for the answer to %s", reaction)
	return body
}

// deactivated reports whether Synapse says the account is deactivated.
func (e *env) deactivated(userID id.UserID) bool {
	e.T.Helper()
	acc, err := e.Admin.Account(bg, userID)
	require.NoError(e.T, err)
	return bool(acc.Deactivated)
}

// TestConfirmations: !deactivate first posts a preview that carries
// gavel.confirm and changes nothing; ✅ from a moderator runs it once, also
// when two moderators confirm; ❌ cancels; an expired preview says so;
// --yes skips the preview; reactions from members below the power level
// are refused.
func TestConfirmations(t *testing.T) {
	e := newEnv(t, nil)
	e.Cfg.Commands.ConfirmTimeout = 6 * time.Second
	e.Start()
	victim := func() id.UserID { return e.Srv.User(t, "victim", false).UserID }

	// A preview, then ✅.
	target := victim()
	cmd := e.Say(e.Mod, "!deactivate "+string(target))
	preview := e.WaitReply(cmd)
	msg := preview.Content.AsMessage()
	assert.True(t, strings.HasPrefix(msg.Body, "Deactivate "+string(target)+"? A local account created "), msg.Body)
	assert.Contains(t, msg.Body, "React ✅ to this message within 6s to confirm, ❌ to cancel, or send the command again with `--yes`.")
	confirm, ok := preview.Content.Raw["gavel.confirm"].(map[string]any)
	require.True(t, ok, "the preview carries gavel.confirm")
	assert.NotEmpty(t, confirm["id"])
	assert.Greater(t, confirm["expires_ts"], float64(time.Now().UnixMilli()))
	assert.False(t, e.deactivated(target), "a preview changes nothing")

	low := e.react(e.Member, preview.ID, "✅")
	assert.Contains(t, e.answer(low), "Sorry, Gavel's commands need power level 50")
	assert.False(t, e.deactivated(target))

	e.SetPowerLevel(e.Member.UserID, 50)
	first := e.react(e.Mod, preview.ID, "✅")
	second := e.react(e.Member, preview.ID, "✅️") // with the variation selector some clients send
	assert.Equal(t, "Deactivated "+string(target)+".", e.answer(first))
	assert.Contains(t, e.answer(second), "Already confirmed by "+string(e.Mod.UserID))
	assert.True(t, e.deactivated(target))
	assert.Len(t, e.Replies(preview.ID), 3, "the answers to the reactions reply to the preview")

	// ❌ cancels, and a later ✅ does nothing.
	target = victim()
	preview = e.WaitReply(e.Say(e.Mod, "!deactivate "+string(target)+" --erase"))
	assert.Contains(t, preview.Content.AsMessage().Body, "--erase also erases their profile")
	assert.Equal(t, "Cancelled by "+string(e.Member.UserID)+": nothing was done.", e.answer(e.react(e.Member, preview.ID, "❌")))
	assert.Contains(t, e.answer(e.react(e.Mod, preview.ID, "✅")), "Already cancelled by "+string(e.Member.UserID))
	assert.False(t, e.deactivated(target))

	// An expired preview.
	target = victim()
	preview = e.WaitReply(e.Say(e.Mod, "!deactivate "+string(target)))
	time.Sleep(6500 * time.Millisecond)
	assert.Contains(t, e.answer(e.react(e.Mod, preview.ID, "✅")), "This preview expired at ")
	assert.False(t, e.deactivated(target))

	// --yes: no preview.
	target = victim()
	assert.Equal(t, "Deactivated "+string(target)+".", e.Command(e.Mod, "!deactivate "+string(target)+" --yes").Body)
	assert.True(t, e.deactivated(target))

	// Other reactions, and reactions to other messages, do nothing.
	other := e.Say(e.Mod, "just a message")
	e.react(e.Mod, other, "✅")
	e.react(e.Mod, preview.ID, "👍")
	time.Sleep(time.Second)
	for _, evt := range e.BotMessages() {
		rel := evt.Content.AsMessage().RelatesTo
		if rel != nil {
			assert.NotEqual(t, other, rel.GetReplyTo(), "no reply to a reaction on an ordinary message")
		}
	}

	actions, err := e.OpenStore().Actions.Latest(bg, 50)
	require.NoError(t, err)
	ran := 0
	for _, a := range actions {
		if strings.HasPrefix(a.Result, "Deactivated ") {
			ran++
		}
	}
	assert.Equal(t, 2, ran, "each confirmed deactivation ran once")
}
