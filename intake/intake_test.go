package intake

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/internal/mxid"
	"github.com/gavel-bot/gavel/store"
)

// TestPendingRunsItsStoredCommand: what a confirmation runs is the
// command stored with its preview, decoded by name and marked confirmed,
// for every command that asks first; text is never read.
func TestPendingRunsItsStoredCommand(t *testing.T) {
	var in Intake
	cmds := map[string]commands.Command{
		"deactivate":  commands.Deactivate{User: "@spam:example.org", Erase: true},
		"room delete": commands.DeleteRoom{Room: mxid.RoomRef{ID: "!r:example.org"}, Block: true, Message: "gone", Report: mxid.EventReport(12)},
		"redact user": commands.RedactUser{User: "@spam:example.org", Since: commands.DefaultRedactSince, Limit: 7, Report: mxid.ReportRef{Kind: mxid.KindUser, ID: 3}},
		"policy ban":  commands.PolicyBan{Entity: "@*:spam.example", List: "main", Reason: "spam", Report: mxid.EventReport(12)},
	}
	confirmable := 0
	for _, s := range commands.All() {
		if s.Confirm {
			confirmable++
			require.Contains(t, cmds, s.Name, "a sample of every command that asks first")
		}
	}
	assert.Len(t, cmds, confirmable)
	for name, cmd := range cmds {
		require.False(t, commands.Confirmed(cmd), name)
		var p store.Pending
		in.pend(&p, "@mod:example.org", "typed text that is never parsed", cmd)
		assert.Equal(t, name, p.Name)
		// As the database gives it back.
		p = store.Pending{Name: p.Name, Args: json.RawMessage(string(p.Args)), Command: "deactivate @someone:else.org"}
		got, refusal := stored(&p)
		require.Nil(t, refusal, name)
		assert.True(t, commands.Confirmed(got), name)
		want := reflect.New(reflect.TypeOf(cmd)).Elem()
		want.Set(reflect.ValueOf(cmd))
		want.FieldByName("Yes").SetBool(true)
		assert.Equal(t, want.Interface(), got, name)
	}
}

// TestOldPendingIsRefused: an action left pending by a Gavel before schema
// v9 (its text only), or whose stored command this Gavel cannot read, is
// not run; the moderator is told to send the command again.
func TestOldPendingIsRefused(t *testing.T) {
	for what, p := range map[string]store.Pending{
		"text only":       {Command: "deactivate @spam:example.org"},
		"unknown command": {Name: "obliterate", Args: json.RawMessage(`{}`)},
		"unreadable":      {Name: "deactivate", Args: json.RawMessage(`{"User": 12}`)},
	} {
		cmd, refusal := stored(&p)
		assert.Nil(t, cmd, what)
		require.NotNil(t, refusal, what)
		assert.False(t, refusal.OK, what)
		assert.Contains(t, refusal.Reply.Plain(), "Not done: ", what)
		assert.Contains(t, refusal.Reply.Plain(), "Send the command again.", what)
	}
	p := store.Pending{Command: "deactivate @spam:example.org"}
	_, refusal := stored(&p)
	assert.Equal(t, "Not done: this preview was made by an older Gavel, before an upgrade, and cannot be confirmed. Send the command again.", refusal.Reply.Plain())
}
