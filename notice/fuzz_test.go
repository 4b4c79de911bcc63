package notice

import (
	"bytes"
	"encoding/json"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/synapseadmin"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/dossier"
	"github.com/gavel-bot/gavel/policy"
	"github.com/gavel-bot/gavel/store"
)

// Truncation limits of Report besides excerptLimit, ReasonShown and
// RoomNameShown: the event's type and msgtype (a literal 100 in
// report.go), and the alias. Each truncated field gets one rune more for
// the "…" that marks the cut.
const (
	kindLimit = 100
	// aliasBudget is what a truncated canonical alias may take; Synapse
	// itself refuses local aliases over 255 bytes.
	aliasBudget = 255
)

// FuzzReportNotice renders a report whose free-text fields (reason, room
// name and alias) and reported event (type, msgtype, body, formatted_body
// and a raw content object that the other fields are laid over) are fuzzed,
// and checks that:
//
//   - rendering never panics; the content is valid JSON and valid UTF-8,
//     an m.text message in org.matrix.custom.html with "gavel.report";
//   - "m.mentions" is present and empty, so that clients with intentional
//     mentions ping nobody (for older clients, see "@room" below);
//   - formatted_body consists of the tags Gavel emits (b, code, pre,
//     blockquote, br and a) and escaped text: every other "<", ">", quote
//     and "&" from the input is escaped, so no "<script" survives, and every
//     href is a https://matrix.to/#/ link;
//   - what inert() promises holds in both forms: no control character but
//     newline and tab, no bidirectional control, no U+2028/U+2029, none of
//     the zero-width characters it drops (U+200B, U+FEFF, U+180E,
//     U+2061-U+2064, and U+2060 but for its own), no "://" outside Gavel's
//     own hrefs, and no "@room" in any case without the word joiner that
//     keeps clients' legacy @room push rule from firing;
//   - user text cannot add lines: the plain body is "Report ...",
//     "Reason: ...", "Reported ..." (or "The reported event is no longer
//     available ...") and then only "> " quote lines, and formatted_body
//     has exactly two <br>;
//   - both forms stay within a generous multiple of the truncation limits.
func FuzzReportNotice(f *testing.F) {
	f.Add("spam", "Free stuff", "#free:example.org", "m.room.message", "m.text", "hello\nworld", "", []byte(`{}`))
	f.Add(`</code><a href="https://evil.example">x</a>`, `<img src=x onerror=alert(1)> @room`, "", "m.room.message", "m.text",
		"<script>alert(1)</script> @room https://evil.example", `<a href="https://matrix.to/#/@admin:example.org">Admin</a>`, []byte(`{}`))
	f.Add("spam\nReport 14: fake", "Room\u2028with lines", "#a\u202e:example.org", "m.room.message", "m.image", "cat.png", "",
		[]byte(`{"url":"mxc://example.org/AbC"}`))
	f.Add("", "", "", "org.example.custom", "", "", "", []byte(`{"topic":"<b>buy</b>","x":1,"nested":{"a":["://"]}}`))
	f.Add("", "", "", "m.room.encrypted", "", "", "", []byte(`{"algorithm":"m.megolm.v1.aes-sha2","ciphertext":"abc"}`))
	f.Add("r", "n", "#x:example.org", "", "m.text", "gone", "", []byte(`not json`))
	f.Fuzz(func(t *testing.T, reason, roomName, alias, evtType, msgtype, body, formattedBody string, rawContent []byte) {
		r := sampleReport()
		r.Reason, r.Name, r.CanonicalAlias = reason, roomName, id.RoomAlias(alias)

		content := map[string]any{}
		_ = json.Unmarshal(rawContent, &content) // not an object: start empty
		if msgtype != "" {
			content["msgtype"] = msgtype
		}
		if body != "" {
			content["body"] = body
		}
		if formattedBody != "" {
			content["format"], content["formatted_body"] = "org.matrix.custom.html", formattedBody
		}

		raw := ReportNotice(r, parsedDetail(t, evtType, content))

		if !json.Valid(raw) || !utf8.Valid(raw) {
			t.Fatalf("content is not valid JSON in UTF-8: %q", raw)
		}
		m, msg := decodeNotice(t, raw)
		if mentions, ok := m["m.mentions"].(map[string]any); !ok || len(mentions) != 0 {
			t.Fatalf("m.mentions is %#v, not present and empty", m["m.mentions"])
		}
		if msg.MsgType != event.MsgText || msg.Format != event.FormatHTML {
			t.Fatalf("msgtype %q, format %q", msg.MsgType, msg.Format)
		}
		if fields, ok := m["gavel.report"].(map[string]any); !ok || fields["report_id"] != float64(r.ID) {
			t.Fatalf("gavel.report is %#v", m["gavel.report"])
		}

		text := checkGavelHTML(t, msg.FormattedBody)
		for what, s := range map[string]string{"body": msg.Body, "formatted_body text": text} {
			checkInert(t, what, s)
		}
		checkLines(t, msg.Body, msg.FormattedBody)

		userRunes := (ReasonShown + 1) + (kindLimit + 1) + (excerptLimit + 1) + (RoomNameShown + 1) + aliasBudget
		// Per rune of user text: at most 4 bytes of UTF-8, 5 once
		// HTML-escaped (`"` is "&#34;"), plus "\n> " per quoted line in the
		// plain body; 8 is generous. Gavel's own words, ids and links are
		// well under 2 KiB.
		limit := 2048 + 8*userRunes
		if len(msg.Body) > limit || len(msg.FormattedBody) > limit {
			t.Fatalf("body of %d bytes, formatted_body of %d bytes: over %d", len(msg.Body), len(msg.FormattedBody), limit)
		}
	})
}

// parsedDetail builds the report detail as adminapi's parseEvent does for
// Synapse's event_json: no event when the type is empty, and content that
// does not fit the type's struct is left unparsed (detailWith keeps the
// half-parsed struct instead).
func parsedDetail(t *testing.T, evtType string, content map[string]any) *adminapi.EventReportDetail {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"type": evtType, "sender": "@bob:example.org", "event_id": "$ev", "content": content})
	if err != nil {
		t.Fatalf("marshalling the event: %v", err)
	}
	d := &adminapi.EventReportDetail{EventReport: sampleReport(), EventJSON: raw}
	var evt event.Event
	if err := json.Unmarshal(raw, &evt); err != nil || evt.Type.Type == "" {
		return d
	}
	evt.Type.Class = event.MessageEventType
	if err := evt.Content.ParseRaw(evt.Type); err != nil {
		evt.Content.Parsed = nil
	}
	d.Event = &evt
	return d
}

// gavelTags are the tags report.go writes, besides <a href="...">.
var gavelTags = []string{"<b>", "</b>", "<code>", "</code>", "<pre>", "</pre>", "<blockquote>", "</blockquote>", "<br>", "</a>"}

// checkGavelHTML checks that formatted_body is Gavel's tags around escaped
// text, and returns that text, unescaped.
func checkGavelHTML(t *testing.T, h string) string {
	t.Helper()
	if strings.Contains(strings.ToLower(h), "<script") {
		t.Fatalf("formatted_body contains <script: %q", h)
	}
	var text strings.Builder
	links := 0
	for i := 0; i < len(h); {
		rest := h[i:]
		switch {
		case rest[0] == '&':
			entity := ""
			for _, e := range []string{"&lt;", "&gt;", "&amp;", "&#39;", "&#34;"} {
				if strings.HasPrefix(rest, e) {
					entity = e
				}
			}
			if entity == "" {
				t.Fatalf("unescaped & at %d of formatted_body: %.80q", i, rest)
			}
			text.WriteString(html.UnescapeString(entity))
			i += len(entity)
			continue
		case strings.ContainsRune(`>"'`, rune(rest[0])):
			t.Fatalf("unescaped %q at %d of formatted_body: %.80q", rest[0], i, rest)
		case rest[0] != '<':
			text.WriteByte(rest[0])
			i++
			continue
		}
		tag := ""
		for _, g := range gavelTags {
			if strings.HasPrefix(rest, g) {
				tag = g
			}
		}
		if tag == "" && strings.HasPrefix(rest, `<a href="`) {
			end := strings.Index(rest, `">`)
			if end < 0 {
				t.Fatalf("unclosed <a at %d of formatted_body: %.80q", i, rest)
			}
			tag = rest[:end+2]
			href := html.UnescapeString(rest[len(`<a href="`):end])
			if !strings.HasPrefix(href, "https://matrix.to/#/") || strings.ContainsAny(href, "\"<> \t\n") {
				t.Fatalf("link to %q, not a matrix.to link Gavel built", href)
			}
			links++
		}
		if tag == "" {
			t.Fatalf("a tag Gavel does not emit (or an unescaped <) at %d of formatted_body: %.80q", i, rest)
		}
		i += len(tag)
	}
	if links > 4 {
		t.Fatalf("%d links: Gavel only links the reporter, the sender, the event and the room", links)
	}
	return text.String()
}

// checkInert checks what inert() promises for user text, on a whole form
// of the message (Gavel's own words keep it too).
func checkInert(t *testing.T, what, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("%s is not valid UTF-8: %q", what, s)
	}
	for i, r := range s {
		switch {
		case r != '\n' && r != '\t' && unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r), r == '\u2028', r == '\u2029',
			r == '\u200B', r == '\uFEFF', r == '\u180E', r >= '\u2061' && r <= '\u2064':
			t.Fatalf("%s contains %U: %q", what, r, s)
		case r == '\u2060' && !(strings.HasSuffix(s[:i], "@") && atRoomDefanged.MatchString(s[i-1:])):
			t.Fatalf("%s contains a word joiner that is not inert's, after an @ and before room: %q", what, s)
		}
	}
	if strings.Contains(s, "://") {
		t.Fatalf("%s contains a live ://: %q", what, s)
	}
	if m := atRoomLive.FindString(s); m != "" {
		t.Fatalf("%s contains a live %q: %q", what, m, s)
	}
}

// atRoomLive is what the legacy @room push rule matches, case-insensitively;
// atRoomDefanged is how inert() leaves it.
var (
	atRoomLive     = regexp.MustCompile(`(?i)@room`)
	atRoomDefanged = regexp.MustCompile("^(?i)@\u2060room")
)

// checkLines checks that user text added no line: the plain body has
// Gavel's three lines and then quote lines, the HTML two <br>.
func checkLines(t *testing.T, body, formattedBody string) {
	t.Helper()
	lines := strings.Split(body, "\n")
	for i, prefix := range []string{"Report 12: ", "Reason: ", ""} {
		if i >= len(lines) || !strings.HasPrefix(lines[i], prefix) {
			t.Fatalf("line %d of the body does not start with %q: %q", i, prefix, lines)
		}
	}
	if !strings.HasPrefix(lines[2], "Reported ") && lines[2] != "The reported event is no longer available in Synapse." {
		t.Fatalf("line 2 of the body is not Gavel's: %q", lines)
	}
	for i, l := range lines[3:] {
		if !strings.HasPrefix(l, "> ") {
			t.Fatalf("line %d of the body is not a quote line: %q", i+3, lines)
		}
	}
	if n := strings.Count(formattedBody, "<br>"); n != 2 {
		t.Fatalf("%d <br> in formatted_body, not 2: %q", n, formattedBody)
	}
}

// TestLongCanonicalAliasIsCut: the room's canonical alias comes from room
// state, which a remote server controls in a federated room; a 20 KB one
// (found by FuzzReportNotice) must not make the notice long.
func TestLongCanonicalAliasIsCut(t *testing.T) {
	r := sampleReport()
	r.Name = ""
	r.CanonicalAlias = id.RoomAlias("#" + strings.Repeat("a", 20000) + ":example.org")
	_, msg := decodeNotice(t, ReportNotice(r, nil))
	if len(msg.Body) > 2000 {
		t.Fatalf("a 20 KB alias gave a body of %d bytes", len(msg.Body))
	}
}

// FuzzCardWithCase renders a card with its buttons and then its case, with
// the moderator, the note, a duplicate's reporter and reason fuzzed, and
// checks what FuzzReportNotice checks of HTML and inert text, plus that
// "gavel.case" and "gavel.report" are there and nobody is mentioned.
func FuzzCardWithCase(f *testing.F) {
	f.Add(uint8(1), "@mod:example.org", "spam, gone", "@b:example.org", "again")
	f.Add(uint8(2), "@mod:example.org", `<b>not</b> spam @room https://evil.example`, "@<i>x</i>:example.org", "</code><a href=\"https://evil.example\">x</a>")
	f.Add(uint8(4), "", "\u202e\u2028line", "", "\n\nReport 13: fake")
	f.Fuzz(func(t *testing.T, state uint8, by, note, reporter, reason string) {
		states := []string{"open", "claimed", "resolved", "dismissed", "deleted"}
		c := Case{State: states[int(state)%len(states)], By: id.UserID(by), At: time.Unix(1796040000, 0), Note: note,
			Actions: []string{"suspend", "redact event"}, Also: []Also{{ReportID: 13, Reporter: id.UserID(reporter), Reason: reason}}}
		r := sampleReport()
		card := Card(r, nil, nil, CardButtons(r, nil, "!", "example.org"))
		raw, err := CardWithCase(card, c)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(raw) || !utf8.Valid(raw) {
			t.Fatalf("content is not valid JSON in UTF-8: %q", raw)
		}
		m, msg := decodeNotice(t, raw)
		if mentions, ok := m["m.mentions"].(map[string]any); !ok || len(mentions) != 0 {
			t.Fatalf("m.mentions is %#v, not present and empty", m["m.mentions"])
		}
		if fields, ok := m["gavel.case"].(map[string]any); !ok || fields["state"] != c.State || fields["reports"] != float64(2) {
			t.Fatalf("gavel.case is %#v", m["gavel.case"])
		}
		if _, ok := m["gavel.report"].(map[string]any); !ok {
			t.Fatalf("gavel.report is gone: %#v", m)
		}
		text := checkGavelHTML(t, strings.NewReplacer("<p>", "", "</p>", "").Replace(msg.FormattedBody))
		for what, s := range map[string]string{"body": msg.Body, "formatted_body text": text} {
			checkInert(t, what, s)
		}
		_, original := decodeNotice(t, card)
		// The status line and the line of later reports, nothing more.
		if n, want := strings.Count(msg.Body, "\n"), strings.Count(original.Body, "\n")+2; n != want {
			t.Fatalf("%d lines breaks, want %d: user text added lines: %q", n, want, msg.Body)
		}
		// A card as posted (NewCard, with the open case's line) is edited
		// to the same content: the line is replaced, not stacked.
		fromNew, err := CardWithCase(NewCard(card), c)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fromNew, raw) {
			t.Fatalf("the edit of a new card differs from the edit of the card:\n%s\n%s", fromNew, raw)
		}
	})
}

// FuzzCardWithDossier renders a card with a full context whose user
// controlled parts are fuzzed: the reported user's display name, the
// messages around the event (their senders and bodies), the note of the
// last closed case. It checks what FuzzReportNotice checks of HTML and
// inert text, that nobody is mentioned, and that user text adds no line.
func FuzzCardWithDossier(f *testing.F) {
	f.Add("Bob", "hello", "@a:example.org", "not spam")
	f.Add(`<b>Mod</b> @room`, "</code></pre><a href=\"https://evil.example\">x</a>", "@<i>x</i>:example.org", "\u202e\u2028line\n\nReport 13: fake")
	f.Add("\x00\u200b", "```\n> fake quote\n```", "", "")
	f.Fuzz(func(t *testing.T, displayName, body, sender, note string) {
		d := fuzzDossier(displayName, body, sender, note)
		r := sampleReport()
		raw := Card(r, nil, d, CardButtons(r, nil, "!", "example.org"))
		if !json.Valid(raw) || !utf8.Valid(raw) {
			t.Fatalf("content is not valid JSON in UTF-8: %q", raw)
		}
		m, msg := decodeNotice(t, raw)
		if mentions, ok := m["m.mentions"].(map[string]any); !ok || len(mentions) != 0 {
			t.Fatalf("m.mentions is %#v, not present and empty", m["m.mentions"])
		}
		text := checkGavelHTML(t, msg.FormattedBody)
		for what, s := range map[string]string{"body": msg.Body, "formatted_body text": text} {
			checkInert(t, what, s)
		}
		_, plain := decodeNotice(t, Card(r, nil, fuzzDossier("Bob", "hello", "@a:example.org", "note"), CardButtons(r, nil, "!", "example.org")))
		if n, want := strings.Count(msg.Body, "\n"), strings.Count(plain.Body, "\n"); n != want {
			t.Fatalf("%d lines breaks, want %d: user text added lines: %q", n, want, msg.Body)
		}
		// A list's reason and recommendation are cut as policy reads them.
		if len(msg.Body) > len(plain.Body)+4*(displayNameShown+3*aroundShown+80+policy.MaxReason+100)+len(sender) {
			t.Fatalf("the context is not cut short: %d bytes", len(msg.Body))
		}
	})
}

// fuzzDossier is a full context with the user-controlled parts given.
func fuzzDossier(displayName, body, sender, note string) *dossier.Dossier {
	msg := func(b string) *event.Event {
		return &event.Event{Sender: id.UserID(sender), Type: event.EventMessage,
			Content: event.Content{Parsed: &event.MessageEventContent{MsgType: event.MsgText, Body: b}}}
	}
	return &dossier.Dossier{
		User: &dossier.User{ID: "@bob:example.org", Local: true, Account: &adminapi.Account{DisplayName: displayName, CreationTS: 1700000000, Suspended: true}},
		History: &store.UserRecord{Reports: 2, Actions: 1,
			Last: &store.Case{State: "dismissed", By: id.UserID(sender), At: time.Unix(1796040000, 0), Note: note}},
		Reporter: &store.ReporterRecord{Filed: 5, Dismissed: 3},
		Before:   []*event.Event{msg(body), msg(body)},
		After:    []*event.Event{msg(body)},
		Room:     &synapseadmin.RoomInfo{JoinedMembers: 12, Public: true, Encryption: "m.megolm.v1.aes-sha2"},
		Policy:   fuzzPolicy(sender, body, note),
	}
}

// fuzzPolicy is what a list says of @bob:example.org, the list's sender,
// reason and recommendation given, read as Gavel reads a list.
func fuzzPolicy(sender, reason, recommendation string) []policy.Match {
	ix := policy.NewIndex([]policy.ListConfig{{Room: "!list:example.org", Shortcode: "main"}})
	raw, _ := json.Marshal(map[string]string{"entity": "@bob:example.org", "reason": reason, "recommendation": "m.ban" + recommendation})
	key := "k"
	evt := &event.Event{Type: event.StatePolicyUser, StateKey: &key, RoomID: "!list:example.org", Sender: id.UserID(sender), Timestamp: 1_700_000_000_000}
	evt.Content.VeryRaw = raw
	ix.Load("!list:example.org", []*event.Event{evt})
	return ix.Match(policy.Entities{User: "@bob:example.org"})
}
