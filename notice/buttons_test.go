package notice

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/internal/mxid"
)

// TestButtonTextIsItsCommand: the text a card shows clients for each
// button (mautrix's reaction commands) is, parsed, the very command Gavel
// runs when the button is pressed, for every kind of card and button;
// every key is one IsButton knows.
func TestButtonTextIsItsCommand(t *testing.T) {
	cli, err := mautrix.NewClient("https://example.org", "@gavel:example.org", "")
	require.NoError(t, err)
	p := commands.NewParser(cli, "!")
	withMedia := detailWith(map[string]any{"msgtype": "m.image", "body": "x.png", "url": "mxc://example.org/abcDEF"}, "m.room.message")
	sets := map[string][]Button{
		"event":         CardButtons(sampleReport(), withMedia, "!", "example.org"),
		"event, remote": CardButtons(sampleReport(), nil, "!", "other.org"),
		"user":          UserCardButtons(adminapi.UserReport{ID: 7, UserID: "@alice:example.org", TargetUserID: "@bob:example.org"}, "!", "example.org"),
		"room":          RoomCardButtons(adminapi.RoomReport{ID: 3, UserID: "@alice:example.org", RoomID: "!room:example.org"}, "!"),
		"escalate":      {EscalateButton(mxid.EventReport(7), "!")},
		"policy":        {PolicyBanButton("@bob:example.org", mxid.ReportRef{Kind: mxid.KindUser, ID: 7}, "!", "main")},
	}
	seen := map[string]bool{}
	for name, buttons := range sets {
		for _, b := range buttons {
			msg := &event.Event{Type: event.EventMessage, ID: "$b", Sender: "@mod:example.org",
				Content: event.Content{Parsed: &event.MessageEventContent{MsgType: event.MsgText, Body: b.Text}}}
			cmd, isCommand, err := p.Parse(context.Background(), msg)
			require.NoError(t, err, "%s %s: %s", name, b.Key, b.Text)
			require.True(t, isCommand)
			assert.Equal(t, cmd, b.Command, "%s %s: %s", name, b.Key, b.Text)
			assert.True(t, IsButton(b.Key), b.Key)
			assert.Same(t, &buttons[len(buttons)-1], FindButton(buttons, buttons[len(buttons)-1].Key))
			seen[b.Key] = true
		}
	}
	assert.Len(t, seen, len(buttonKeys), "every key IsButton knows is on some card")
	assert.True(t, IsButton("🗑"), "with or without the variation selector")
	assert.False(t, IsButton("👍"))
	assert.Nil(t, FindButton(sets["room"], "⛔"))
}
