package notice

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	mcmd "maunium.net/go/mautrix/commands"

	"github.com/gavel-bot/gavel/adminapi"
)

// TestNewCardShowsTheOpenCase: a new card of every kind carries the
// "gavel.case" and the status line an edit shows for an open case, over
// the card as rendered; an edit replaces that line instead of adding one.
func TestNewCardShowsTheOpenCase(t *testing.T) {
	received := time.Date(2026, 11, 22, 18, 40, 12, 0, time.UTC).UnixMilli()
	user := adminapi.UserReport{ID: 3, ReceivedTS: received, TargetUserID: "@bob:example.org", UserID: "@alice:example.org", Reason: "Open"}
	room := adminapi.RoomReport{ID: 4, ReceivedTS: received, RoomID: "!room:example.org", UserID: "@alice:example.org", Reason: "spam"}
	r := sampleReport()
	cards := map[string]json.RawMessage{
		"event": Card(r, nil, nil, CardButtons(r, nil, "!", "example.org")),
		"user":  UserCard(user, nil, UserCardButtons(user, "!", "example.org")),
		"room":  RoomCard(room, nil, RoomCardButtons(room, "!")),
	}
	for kind, card := range cards {
		t.Run(kind, func(t *testing.T) {
			_, rendered := decodeNotice(t, card)
			fields, msg := decodeNotice(t, NewCard(card))
			assert.Equal(t, map[string]any{"state": "open", "actions": []any{}, "reports": float64(1)}, fields["gavel.case"])
			assert.Equal(t, "Open\n"+rendered.Body, msg.Body)
			assert.Equal(t, "<p><b>Open</b></p>"+rendered.FormattedBody, msg.FormattedBody)
			assert.Equal(t, kind, fields["gavel.report"].(map[string]any)["kind"], "the card's own fields stay")
			assert.NotNil(t, fields[mcmd.ReactionCommandsKey], "the card's buttons stay")

			// The open case, as an edit shows it, is what the card shows.
			edit, err := CardWithCase(card, Case{State: "open"})
			require.NoError(t, err)
			assert.JSONEq(t, string(NewCard(card)), string(edit))

			claimed := Case{State: "claimed", By: "@mod:example.org", At: time.Unix(1796040000, 0),
				Also: []Also{{ReportID: 13, Reporter: "@carol:example.org"}}}
			fromNew, err := CardWithCase(NewCard(card), claimed)
			require.NoError(t, err)
			fromRendered, err := CardWithCase(card, claimed)
			require.NoError(t, err)
			assert.JSONEq(t, string(fromRendered), string(fromNew), "the edit replaces the open line")
			_, edited := decodeNotice(t, fromNew)
			assert.True(t, strings.HasPrefix(edited.Body, "Claimed by @mod:example.org "), edited.Body)
			assert.NotContains(t, edited.Body, "Open\n")
		})
	}
}
