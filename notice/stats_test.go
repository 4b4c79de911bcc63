package notice

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/event"

	"github.com/gavel-bot/gavel/internal/mxid"
)

// TestFigures: every figure is said, a moderator's id (text anyone can
// choose) is inert in both forms, and an empty window says so.
func TestFigures(t *testing.T) {
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	s := Stats{
		Since: now.Add(-7 * 24 * time.Hour), Until: now,
		Received:   map[mxid.ReportKind]int{mxid.KindEvent: 12, mxid.KindUser: 3},
		Cases:      map[string]int{"open": 2, "resolved": 9, "dismissed": 1},
		Claim:      Spread{N: 10, Median: 12 * time.Minute, P90: 3 * time.Hour},
		Resolve:    Spread{N: 10, Median: 90 * time.Minute, P90: 50 * time.Hour},
		OldestOpen: &OpenCase{Report: mxid.ReportRef{Kind: mxid.KindUser, ID: 4}, Received: now.Add(-26 * time.Hour)},
		Actions:    []Tally{{Name: "report resolve", N: 9}, {Name: "suspend", N: 2}},
		Moderators: []Tally{{Name: "@<b>evil</b>:x", N: 11}, {Name: "@room\n• Time to resolve: 0s https://x:x", N: 1}},
	}
	text := Figures(s, now)
	plain := text.Plain()
	for _, want := range []string{
		"Reports received: 15 (12 event, 3 user)",
		"Cases: 12 (2 open, 9 resolved, 1 dismissed)",
		"Time to claim: median 12 min, 90% within 3h 00min (10 cases)",
		"Time to resolve: median 1h 30min, 90% within 2 days 2h (10 cases)",
		"Oldest open case: report u4, received",
		"Actions: `report resolve` 9, `suspend` 2",
		"By moderator: @<b>evil</b>:x 11, @\u2060room • Time to resolve: 0s https[:]//x:x 1",
	} {
		assert.Contains(t, plain, want)
	}
	var c event.MessageEventContent
	require.NoError(t, json.Unmarshal(text.Content(event.MsgNotice, nil), &c))
	assert.Contains(t, c.FormattedBody, "@&lt;b&gt;evil&lt;/b&gt;:x 11")
	assert.NotContains(t, c.FormattedBody, "<b>evil")

	empty := Figures(Stats{Since: s.Since, Until: now}, now).Plain()
	assert.Contains(t, empty, "Reports received: 0")
	assert.Contains(t, empty, "Time to claim: no case yet")
	assert.Contains(t, empty, "No open case.")
	assert.Contains(t, empty, "Actions: none")
}
