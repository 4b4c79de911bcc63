package feedtest

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gavel-bot/gavel/internal/testkit/bottest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

var (
	htmlTag  = regexp.MustCompile(`<\s*/?\s*([a-zA-Z0-9-]+)`)
	htmlHref = regexp.MustCompile(`href="([^"]*)"`)
)

// TestHostileReportedContent reports events built to attack moderators'
// clients: HTML and scripts, links and images, @room and pills, 56 KiB
// bodies (near the 64 KiB event limit), zero-width and right-to-left characters, a
// formatted_body that says something else than the body, and events that
// are not messages. Every notice stays readable, escaped, short, and
// pings nobody. (Invalid UTF-8 cannot get in through Synapse, which answers
// a lone surrogate with a 500; the renderer's own tests cover it.)
func TestHostileReportedContent(t *testing.T) {
	e := newEnv(t, nil)
	e.Start()
	mod := string(e.Mod.UserID)
	big := strings.Repeat("<b>A</b> @room https://evil.example/x ", 56*1024/38)

	sendContent := func(evtType event.Type, content map[string]any) id.EventID {
		t.Helper()
		resp, err := e.Spammer.SendMessageEvent(bg, e.Public, evtType, content)
		require.NoError(t, err)
		return resp.EventID
	}
	topic, err := e.Spammer.SendStateEvent(bg, e.Public, event.StateTopic, "", map[string]any{
		"topic": "<script>alert(1)</script> @room https://evil.example/topic \u202Egnp.exe"})
	require.NoError(t, err)

	cases := []struct {
		name   string
		event  id.EventID
		reason string
		// shows is text the notice must show, proving it stayed readable.
		shows string
	}{
		{"html and script", sendContent(event.EventMessage, map[string]any{"msgtype": "m.text",
			"body":           "<script>alert(1)</script><img src=x onerror=alert(2)> hello",
			"format":         "org.matrix.custom.html",
			"formatted_body": "<script>alert(1)</script><img src=x onerror=alert(2)> hello"}),
			"<img src=x onerror=alert(3)>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
		{"links images mentions", sendContent(event.EventMessage, map[string]any{"msgtype": "m.text",
			"body":           "@room @ROOM click https://evil.example/login [mod](https://matrix.to/#/" + mod + ")",
			"format":         "org.matrix.custom.html",
			"formatted_body": `<a href="https://evil.example/login">click</a> <img src="mxc://evil.example/x"> <a href="https://matrix.to/#/` + mod + `">mod</a>`,
			"m.mentions":     map[string]any{"room": true, "user_ids": []string{mod}}}),
			"@room https://evil.example", "click https[:]//evil.example/login"},
		{"formatted_body disagrees", sendContent(event.EventMessage, map[string]any{"msgtype": "m.text",
			"body": "a harmless message", "format": "org.matrix.custom.html", "formatted_body": "<h1>BUY NOW</h1>"}),
			"misleading", "a harmless message"},
		{"56 KiB body", sendContent(event.EventMessage, map[string]any{"msgtype": "m.text", "body": big}),
			strings.Repeat("R", 1000), "…"},
		{"zero-width and right-to-left", sendContent(event.EventMessage, map[string]any{"msgtype": "m.text",
			"body": "ad\u200bmin said: open \u202Egnp.exe\u202C now"}),
			"\u202Ereversed\u200b", "admin said: open gnp.exe now"},
		{"state event", topic.EventID, "topic", `topic: &#34;&lt;script&gt;alert(1)&lt;/script&gt;`},
		{"sticker", sendContent(event.EventSticker, map[string]any{"body": "<b>sticker</b> @room", "url": "mxc://evil.example/sticker", "info": map[string]any{}}),
			"sticker", "m.sticker"},
		{"poll", sendContent(event.Type{Type: "org.matrix.msc3381.poll.start", Class: event.MessageEventType}, map[string]any{
			"org.matrix.msc3381.poll.start": map[string]any{"question": map[string]any{"body": "<b>Vote</b> @room https://evil.example/vote"},
				"answers": []map[string]any{{"id": "a", "org.matrix.msc1767.text": "<i>yes</i>"}}},
			"org.matrix.msc1767.text": "<b>Vote</b> @room"}),
			"poll", "org.matrix.msc3381.poll.start"},
	}
	// The context on each card shows the sender's display name and the
	// messages around the event: hostile too.
	require.NoError(t, e.Spammer.SetDisplayName(bg, "<b>Mod</b> @room https://evil.example/name \u202Egnp.exe\u200b"))
	for _, c := range cases {
		e.Report(c.event, c.reason)
	}
	// And a user report, whose reason is the reporter's.
	require.NoError(t, e.World.ReportUser(bg, e.Spammer.UserID, "<img src=x onerror=alert(4)> @room https://evil.example/u \u202Egnp"))
	userReport, err := e.World.UserReportID(bg, e.Spammer.UserID)
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Admin.DeleteUserReport(bg, userReport) }) // the server is shared
	notices := e.WaitNotices(len(cases))
	byEvent := map[id.EventID]*event.Event{}
	for _, n := range notices {
		byEvent[bottest.Field(t, n).EventID] = n
	}
	check := func(t *testing.T, n *event.Event, shows string) {
		msg := n.Content.AsMessage()
		raw, err := json.Marshal(n.Content.Raw)
		require.NoError(t, err)
		assert.Equal(t, map[string]any{}, n.Content.Raw["m.mentions"], "m.mentions is empty")
		for _, s := range []string{msg.Body, msg.FormattedBody} {
			assert.True(t, utf8.ValidString(s))
			assert.NotRegexp(t, `(?i)@room`, s, "no @room a legacy client would ping for")
			assert.NotContains(t, s, "https://evil")
			assert.NotContains(t, s, "\u202E")
			assert.NotContains(t, s, "\u200B")
		}
		assert.Less(t, len(raw), 8*1024, "the notice stays short")
		// A new card starts with its case's status line (Gavel's own <p>);
		// below it, only the tags a card's lines use.
		const openLine = "<p><b>Open</b></p>"
		assert.True(t, strings.HasPrefix(msg.FormattedBody, openLine), "the card shows its open case first")
		for _, m := range htmlTag.FindAllStringSubmatch(strings.TrimPrefix(msg.FormattedBody, openLine), -1) {
			assert.Contains(t, []string{"b", "a", "br", "code", "pre", "blockquote"}, strings.ToLower(m[1]), "only Gavel's own tags")
		}
		for _, m := range htmlHref.FindAllStringSubmatch(msg.FormattedBody, -1) {
			assert.True(t, strings.HasPrefix(m[1], "https://matrix.to/#/"), "only Gavel's own links: %s", m[1])
		}
		assert.Contains(t, msg.FormattedBody, shows)
		assert.Contains(t, msg.Body, "display name `<b>Mod</b> @\u2060room https[:]//evil.example/name", "the display name, inert")
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := byEvent[c.event]
			require.NotNil(t, n, "no notice for %s", c.event)
			check(t, n, c.shows)
		})
	}
	t.Run("user report", func(t *testing.T) {
		cards := e.WaitUserCards(1)
		require.Len(t, cards[userReport], 1)
		check(t, cards[userReport][0], "&lt;img src=x onerror=alert(4)&gt;")
	})
}
