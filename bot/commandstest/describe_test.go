package commandstest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/event/cmdschema"

	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/internal/testkit/bottest"
)

// descriptions returns the management room's command descriptions by
// state key, as a client reads them.
func (e *env) descriptions() map[string]*event.Event {
	e.T.Helper()
	state, err := e.Mod.State(bg, e.Room)
	require.NoError(e.T, err)
	return state[commands.DescriptionType]
}

// TestCommandDescriptions: Gavel publishes its command descriptions
// (MSC4391) in the management room once it may, without stopping when it
// may not; it empties its stale ones and leaves others' alone; and a
// structured command, as a client builds it from a description, gets the
// same reply as the typed command.
func TestCommandDescriptions(t *testing.T) {
	e := newEnv(t, nil)
	logs := &bottest.LockedBuffer{}
	log := zerolog.New(logs).Level(zerolog.DebugLevel)
	e.Logger = &log
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Gavel's log:\n%s", logs.String())
		}
	})

	// At power 0 Gavel cannot send state: it says what to do, and works.
	gavel := e.Start()
	e.Command(e.Mod, "!status")
	require.Eventually(t, func() bool {
		return strings.Contains(logs.String(), "Gavel cannot publish its command descriptions")
	}, 10*time.Second, 50*time.Millisecond)
	assert.Contains(t, logs.String(), "its power level is 0, and state events of type org.matrix.msc4391.command_description need 50. Give "+string(e.BotCli.UserID)+" power level 50")
	assert.Empty(t, e.descriptions())
	require.NoError(t, gavel.Stop())

	// A description of a command that is gone, left by an older Gavel,
	// and another bot's description.
	e.SetPowerLevel(e.BotCli.UserID, 50)
	gone := &cmdschema.EventContent{Command: "frobnicate"}
	_, err := e.BotCli.SendStateEvent(bg, e.Room, commands.DescriptionType, gone.StateKey(e.BotCli.UserID), gone)
	require.NoError(t, err)
	others := &cmdschema.EventContent{Command: "ping"}
	_, err = e.Mod.SendStateEvent(bg, e.Room, commands.DescriptionType, others.StateKey(e.Mod.UserID), others)
	require.NoError(t, err)

	gavel = e.Start()
	var got map[string]*event.Event
	require.Eventually(t, func() bool {
		got = e.descriptions()
		evt := got[gone.StateKey(e.BotCli.UserID)]
		return evt != nil && len(evt.Content.Raw) == 0
	}, time.Minute, 100*time.Millisecond, "the stale description is emptied")
	for _, s := range commands.All() {
		want := s.Description()
		evt := got[want.StateKey(e.BotCli.UserID)]
		require.NotNil(t, evt, "%s is published", s.Name)
		assert.Equal(t, e.BotCli.UserID, evt.Sender)
		var have cmdschema.EventContent
		require.NoError(t, json.Unmarshal(evt.Content.VeryRaw, &have))
		assert.True(t, want.Equals(&have), "%s: %s", s.Name, evt.Content.VeryRaw)
	}
	assert.Equal(t, "ping", got[others.StateKey(e.Mod.UserID)].Content.Raw["command"], "another bot's description stays")
	assert.Len(t, got, len(commands.All())+2)

	// The next start sends nothing: the room already has it all.
	require.NoError(t, gavel.Stop())
	e.Start()
	require.Eventually(t, func() bool {
		return strings.Contains(logs.String(), "The command descriptions for clients are up to date")
	}, 10*time.Second, 50*time.Millisecond)
	for key, evt := range e.descriptions() {
		assert.Equal(t, got[key].ID, evt.ID, "%s is not sent again", evt.Content.Raw["command"])
	}

	// A structured command, built from the published description as a
	// client does, gets the same reply as the typed one.
	for _, c := range []struct{ name, input, typed string }{
		{"room show", "/room show " + string(e.Public), "!room show " + string(e.Public)},
		// cmdschema reads options as --key=value, and a tail argument (user)
		// greedily: options first.
		{"audit", "/audit --by=@mod:example.org --limit=3 @spam:example.org", "!audit @spam:example.org --by @mod:example.org --limit 3"},
	} {
		var desc cmdschema.EventContent
		require.NoError(t, json.Unmarshal(got[specNamed(t, c.name).Description().StateKey(e.BotCli.UserID)].Content.VeryRaw, &desc))
		content, err := desc.ParseInput(e.BotCli.UserID, []string{"/"}, c.input)
		require.NoError(t, err, c.input)
		require.NotNil(t, content, c.input)
		t.Logf("%s: %s", c.input, content.MSC4391BotCommand.Arguments)
		resp, err := e.Mod.SendMessageEvent(bg, e.Room, event.EventMessage, content)
		require.NoError(t, err)
		structured := e.WaitReply(resp.EventID).Content.AsMessage()
		typed := e.Command(e.Mod, c.typed)
		assert.Equal(t, typed.Body, structured.Body, c.input)
		assert.Equal(t, typed.FormattedBody, structured.FormattedBody, c.input)
		assert.NotContains(t, structured.Body, "usage:", c.input)
	}
}

// specNamed returns the declaration of the command name.
func specNamed(t *testing.T, name string) *commands.Spec {
	for _, s := range commands.All() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no command %s", name)
	return nil
}
