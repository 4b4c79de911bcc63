package notice

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/internal/textcut"
	"github.com/gavel-bot/gavel/store"
)

func sampleReport() adminapi.EventReport {
	score := adminapi.Score(-100)
	return adminapi.EventReport{
		ID: 12, ReceivedTS: time.Date(2026, 11, 22, 18, 40, 12, 0, time.UTC).UnixMilli(),
		RoomID: "!room:example.org", EventID: "$ev", UserID: "@alice:example.org", Sender: "@bob:example.org",
		Reason: "spam", Score: &score, CanonicalAlias: "#free:example.org", Name: "Free stuff",
	}
}

func detailWith(content map[string]any, evtType string) *adminapi.EventReportDetail {
	raw, _ := json.Marshal(map[string]any{"type": evtType, "sender": "@bob:example.org", "content": content})
	d := &adminapi.EventReportDetail{EventReport: sampleReport(), EventJSON: raw}
	var evt event.Event
	_ = json.Unmarshal(raw, &evt)
	evt.Type.Class = event.MessageEventType
	_ = evt.Content.ParseRaw(evt.Type)
	d.Event = &evt
	return d
}

func decodeNotice(t *testing.T, raw json.RawMessage) (map[string]any, *event.MessageEventContent) {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	var msg event.MessageEventContent
	require.NoError(t, json.Unmarshal(raw, &msg))
	return m, &msg
}

func TestNoticeContent(t *testing.T) {
	raw := ReportNotice(sampleReport(), detailWith(map[string]any{"msgtype": "m.text", "body": "hello\nworld"}, "m.room.message"))
	m, msg := decodeNotice(t, raw)
	assert.Equal(t, event.MsgText, msg.MsgType)
	assert.Equal(t, event.FormatHTML, msg.Format)
	assert.Equal(t, map[string]any{}, m["m.mentions"])
	assert.Equal(t, map[string]any{"kind": "event", "report_id": float64(12), "received_ts": float64(sampleReport().ReceivedTS),
		"event_id": "$ev", "room_id": "!room:example.org", "sender": "@bob:example.org", "reporter": "@alice:example.org"}, m["gavel.report"])
	assert.Equal(t, "Report 12: @alice:example.org reported @bob:example.org's event in Free stuff (#free:example.org)\n"+
		"Reason: `spam` · score -100 · 2026-11-22 18:40:12 UTC\n"+
		"Reported m.room.message (m.text):\n> hello\n> world", msg.Body)
	assert.Equal(t, `<b>Report 12</b>: <a href="https://matrix.to/#/@alice:example.org">@alice:example.org</a> reported `+
		`<a href="https://matrix.to/#/@bob:example.org">@bob:example.org</a>&#39;s `+
		`<a href="https://matrix.to/#/%21room:example.org/$ev">event</a> in `+
		`<a href="https://matrix.to/#/%21room:example.org">Free stuff</a> (#free:example.org)<br>`+
		`Reason: <code>spam</code> · score -100 · 2026-11-22 18:40:12 UTC<br>`+
		"Reported m.room.message (m.text):<blockquote><pre><code>hello\nworld</code></pre></blockquote>", msg.FormattedBody)
}

func TestNoticeEscapesEverythingUserControlled(t *testing.T) {
	r := sampleReport()
	r.Reason = `</code><a href="https://evil.example">x</a>`
	r.Name = `<img src=x onerror=alert(1)> @room`
	r.CanonicalAlias = ""
	body := `<b>bold</b> <a href="https://evil.example/phish">login</a> <img src="mxc://evil/x"> @room ` +
		`<a href="https://matrix.to/#/@admin:example.org">Admin</a> javascript:alert(1) ` + "\u202Egnp.exe\u0007"
	raw := ReportNotice(r, detailWith(map[string]any{"msgtype": "m.text", "body": body,
		"format": "org.matrix.custom.html", "formatted_body": body}, "m.room.message"))
	m, msg := decodeNotice(t, raw)
	html := msg.FormattedBody
	for _, bad := range []string{"<img", "<a href=\"https://evil", "https://evil", "<b>bold", "</code><a", "onerror=alert(1)>", "\u202E", "\u0007", `href="https://matrix.to/#/@admin`} {
		assert.NotContains(t, html, bad)
	}
	assert.Contains(t, html, "&lt;b&gt;bold&lt;/b&gt; &lt;a href=&#34;https[:]//evil.example/phish&#34;&gt;login&lt;/a&gt;")
	assert.Contains(t, html, "&lt;img src=x onerror=alert(1)&gt; @\u2060room")
	for _, text := range []string{html, msg.Body} {
		assert.NotRegexp(t, `(?i)@room`, text, "no legacy client pings the room either")
	}
	assert.NotContains(t, msg.Body, "https://", "URLs are defanged in the plain body too")
	assert.Equal(t, map[string]any{}, m["m.mentions"], "@room and pills ping nobody")
	// Only Gavel's own links: reporter, sender, event, room.
	assert.Equal(t, 4, strings.Count(html, "<a href="))
	assert.Equal(t, 4, strings.Count(html, `<a href="https://matrix.to/#/`))
}

func TestNoticeExcerpts(t *testing.T) {
	t.Run("truncated to about 500 characters", func(t *testing.T) {
		long := strings.Repeat("é", 600)
		_, msg := decodeNotice(t, ReportNotice(sampleReport(), detailWith(map[string]any{"msgtype": "m.text", "body": long}, "m.room.message")))
		assert.Contains(t, msg.Body, strings.Repeat("é", 500)+"…")
		assert.NotContains(t, msg.Body, strings.Repeat("é", 501))
	})
	t.Run("media shows its mxc as text", func(t *testing.T) {
		_, msg := decodeNotice(t, ReportNotice(sampleReport(), detailWith(map[string]any{"msgtype": "m.image", "body": "cat.png", "url": "mxc://example.org/AbC"}, "m.room.message")))
		assert.Contains(t, msg.Body, "Reported m.room.message (m.image):\n> cat.png\n> [media: mxc[:]//example.org/AbC]")
		assert.NotContains(t, msg.FormattedBody, "<img")
	})
	t.Run("other event types show their content", func(t *testing.T) {
		_, msg := decodeNotice(t, ReportNotice(sampleReport(), detailWith(map[string]any{"topic": "<b>buy</b>", "x": 1}, "org.example.custom")))
		assert.Contains(t, msg.Body, "Reported org.example.custom:\n> topic: \"<b>buy</b>\"\n> x: 1")
	})
	t.Run("encrypted", func(t *testing.T) {
		_, msg := decodeNotice(t, ReportNotice(sampleReport(), detailWith(map[string]any{"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "abc"}, "m.room.encrypted")))
		assert.Contains(t, msg.Body, "(encrypted: Synapse cannot show the content)")
	})
	t.Run("redacted", func(t *testing.T) {
		_, msg := decodeNotice(t, ReportNotice(sampleReport(), detailWith(map[string]any{}, "m.room.message")))
		assert.Contains(t, msg.Body, "(no content: the event may have been redacted)")
	})
	t.Run("gone", func(t *testing.T) {
		r := sampleReport()
		r.Sender, r.Reason, r.Score, r.Name, r.CanonicalAlias = "", "", nil, "", ""
		_, msg := decodeNotice(t, ReportNotice(r, nil))
		assert.Contains(t, msg.Body, "@alice:example.org reported event in !room:example.org")
		assert.Contains(t, msg.Body, "Reason: (none given) · 2026")
		assert.NotContains(t, msg.Body, "score")
		assert.Contains(t, msg.Body, "The reported event is no longer available in Synapse.")
	})
}

func TestInert(t *testing.T) {
	assert.Equal(t, "a[:]//b\tc\nd", inert("a://b\tc\nd\r\x00"))
	assert.Equal(t, "evil", inert("e\u202Ev\u2066i\u200Fl"))
	assert.Equal(t, "\uFFFDx", inert("\xffx"))
	assert.Equal(t, "abc…", textcut.Runes("abcdef", 3))
	assert.Equal(t, "abc", textcut.Runes("abc", 3))
}

func TestReplyContent(t *testing.T) {
	cmd := &event.Event{ID: "$cmd", Sender: "@mod:example.org"}
	raw := New().Raw("Deleted <report> 12.").Reply(cmd.ID)
	m, msg := decodeNotice(t, raw)
	assert.Equal(t, event.MsgNotice, msg.MsgType)
	assert.Equal(t, id.EventID("$cmd"), msg.RelatesTo.GetReplyTo())
	assert.Equal(t, map[string]any{}, m["m.mentions"], "a reply pings nobody, not even the moderator")
	assert.Equal(t, "Deleted <report> 12.", msg.Body)
	assert.Equal(t, "Deleted &lt;report&gt; 12.", msg.FormattedBody)
	assert.Equal(t, store.ReplyKey("$cmd"), store.ReplyKey("$cmd"))
	assert.NotEqual(t, store.ReplyKey("$cmd"), store.ReplyKey("$cmd2"))
	assert.Regexp(t, `^gavel-reply-[0-9a-f]{24}$`, store.ReplyKey("$a/b+c=:example.org"))
}

func TestExplain(t *testing.T) {
	apiErr := func(status int, code, msg string) error {
		return &adminapi.Error{Method: "GET", Path: "/x", StatusCode: status, ErrCode: code, Message: msg}
	}
	for want, err := range map[string]error{
		"Report 12 does not exist (Synapse: M_NOT_FOUND).":                                                              apiErr(404, "M_NOT_FOUND", "Event report not found"),
		"Synapse refused (M_FORBIDDEN): You are not a server admin. Gavel's admin token must belong to a server admin.": apiErr(403, "M_FORBIDDEN", "You are not a server admin"),
		"Synapse rejected Gavel's admin token (M_UNKNOWN_TOKEN). Check synapse.admin_access_token.":                     apiErr(401, "M_UNKNOWN_TOKEN", ""),
		"Synapse could not do that for report 12 (M_UNKNOWN): Internal server error.":                                   apiErr(500, "M_UNKNOWN", "Internal server error"),
		"Synapse could not do that for report 12 (HTTP 502): no details.":                                               apiErr(502, "", ""),
		"Synapse did not answer; try again in a moment.":                                                                apiErr(0, "", ""),
		"Invalid report id \"0\": must be a positive number.":                                                           &adminapi.InvalidInputError{What: "report id", Value: "0", Reason: "must be a positive number"},
	} {
		assert.Equal(t, want, Explain(err, "report 12"))
	}
}

func TestNoticeHostileTypesAndLines(t *testing.T) {
	r := sampleReport()
	r.Reason = "spam\nReport 14: @admin:example.org reported nothing\tok"
	r.Name = "Room\nwith lines"
	detail := detailWith(map[string]any{"msgtype": "https://evil.example/login\u202E" + strings.Repeat("<", 30000), "body": "x"}, "m.room.message")
	raw := ReportNotice(r, detail)
	_, msg := decodeNotice(t, raw)
	assert.Less(t, len(raw), 10000, "a hostile msgtype cannot blow up the notice")
	assert.NotContains(t, msg.Body, "https://evil")
	assert.NotContains(t, msg.Body, "\u202E")
	assert.NotContains(t, msg.FormattedBody, "<<")
	assert.Contains(t, msg.Body, "Reason: `spam Report 14: @admin:example.org reported nothing ok`", "one line")
	assert.Contains(t, msg.Body, "in Room with lines (#free:example.org)")
	lines := strings.Split(msg.Body, "\n")
	assert.True(t, strings.HasPrefix(lines[1], "Reason: "), "the reason stays on its own line: %q", lines)
}

func TestNoticeOfA64KiBInvalidUTF8Body(t *testing.T) {
	body := strings.Repeat("\xff<b>x</b> @room ", 64*1024/16)
	raw := ReportNotice(sampleReport(), detailWith(map[string]any{"msgtype": "m.text", "body": body}, "m.room.message"))
	assert.Less(t, len(raw), 8*1024, "truncated")
	assert.True(t, utf8.Valid(raw))
	_, msg := decodeNotice(t, raw)
	assert.Contains(t, msg.Body, "\uFFFD<b>x</b> @\u2060room")
	assert.Contains(t, msg.FormattedBody, "…")
}

func TestDigestStaysUnderTheEventSizeLimit(t *testing.T) {
	// The worst case: every free-text field at its cut length, in 4-byte
	// characters and quotes (which HTML escaping makes 5 bytes).
	worst := strings.Repeat("\U0001F4A9\"", 200)
	var reports []adminapi.EventReport
	for i := range 50 {
		r := sampleReport()
		r.ID = int64(1_000_000_000 + i)
		r.Reason, r.Name = worst, worst
		r.Sender = id.UserID("@" + strings.Repeat("x", 240) + ":example.org")
		// Cut as the feed cuts what it reads.
		r.Reason, r.Name = textcut.Runes(r.Reason, 2*ReasonShown), textcut.Runes(r.Name, 2*RoomNameShown)
		reports = append(reports, r)
	}
	raw := Digest(reports, 1, 1, 50, "!")
	assert.LessOrEqual(t, len(raw), maxDigestBytes, "a digest must fit Synapse's 64 KiB event limit with room for the envelope")
	_, msg := decodeNotice(t, raw)
	assert.Equal(t, 50, strings.Count(msg.FormattedBody, "<tr><td>"))
	assert.NotContains(t, msg.FormattedBody, `"`+"\U0001F4A9", "quotes are escaped")
}

// TestReactions: each button's reaction content is its key alone, in the
// buttons' order, and store.CardMessages queues them as reactions to the
// card, after it.
func TestReactions(t *testing.T) {
	buttons := []Button{{Key: "✅", Text: "!report resolve 1"}, {Key: "🙈", Text: "!report dismiss 1"}}
	reactions := Reactions(buttons)
	require.Len(t, reactions, 2)
	assert.JSONEq(t, `{"key":"✅"}`, string(reactions[0]))
	assert.JSONEq(t, `{"key":"🙈"}`, string(reactions[1]))

	report := store.ReportKey{Kind: store.KindEvent, ID: 1, ReceivedTS: 1}
	card, queued := store.CardMessages(store.NoticeKey(report), report, "!mods:x", store.PriorityNotice, json.RawMessage(`{}`), reactions)
	assert.Equal(t, store.NoticeKey(report), card.Key)
	assert.Equal(t, report, card.Report, "a card carries its report")
	require.Len(t, queued, 2)
	for i, m := range queued {
		assert.Equal(t, store.ButtonKey(card.Key, i+1), m.Key)
		assert.Equal(t, "m.reaction", m.Type)
		assert.Equal(t, card.Key, m.RelatesTo)
		assert.Equal(t, store.PriorityButton, m.Priority)
		assert.Equal(t, reactions[i], m.Content)
	}
}
