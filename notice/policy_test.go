package notice

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/event"

	"github.com/gavel-bot/gavel/policy"
)

// hostileIndex is a list whose rules hold HTML, pings and links.
func hostileIndex(t *testing.T) *policy.Index {
	ix := policy.NewIndex([]policy.ListConfig{{Room: "!l:example.org", Shortcode: "main"}})
	var state []*event.Event
	for i, c := range []map[string]string{
		{"entity": "@spam:example.org", "recommendation": "m.ban", "reason": "<a href='https://evil.example'>@room</a>\nsecond line"},
		{"entity": "@*:<b>bad</b>.example", "recommendation": "<i>m.ban</i>", "reason": strings.Repeat("x", 70000)},
	} {
		raw, err := json.Marshal(c)
		require.NoError(t, err)
		key := string(rune('a' + i))
		evt := &event.Event{Type: event.StatePolicyUser, StateKey: &key, RoomID: "!l:example.org", Sender: "@<b>mod</b>:example.org", Timestamp: 1_700_000_000_000}
		evt.Content.VeryRaw = raw
		state = append(state, evt)
	}
	ix.Load("!l:example.org", state)
	return ix
}

// TestPolicyRepliesAreInert: what a list holds never becomes markup, a
// link or a ping, in !policy check, !policy list and a card's line.
func TestPolicyRepliesAreInert(t *testing.T) {
	ix := hostileIndex(t)
	now := time.UnixMilli(1_700_000_000_000).Add(time.Hour)
	matches := ix.Match(policy.Entities{User: "@spam:example.org"})
	require.Len(t, matches, 1)
	check := PolicyCheck([]string{"@spam:example.org"}, ix.Match(policy.Entities{User: "@x:<b>bad</b>.example"}), ix.Stats(), now)
	rules, _ := ix.Rules("main", "", "")
	list := PolicyList(ix.Stats()[0], rules, false, 20, now)
	card := PolicyContext(New().Raw("Context"), matches, now)
	for _, tx := range []*Text{check, list, card} {
		html := tx.html.String()
		assert.NotContains(t, html, "<b>bad")
		assert.NotContains(t, html, "<i>")
		assert.NotContains(t, html, "<a href='https")
		assert.NotContains(t, html, "@room")
		assert.NotContains(t, tx.Plain(), "https://evil")
		assert.Less(t, tx.Size(), 10000, "a 70 KB reason is cut")
	}
	assert.Contains(t, card.Plain(), "Policy lists: main — `m.ban` `<a href='https[:]//evil.example'>@\u2060room</a> second line` (since 14 Nov, by @<b>mod</b>:example.org)")
	assert.Contains(t, check.Plain(), "a glob matching `@x:<b>bad</b>.example`")
	assert.Equal(t, "Context", PolicyContext(New().Raw("Context"), nil, now).Plain(), "no line without a match")
}
