// Package notice holds everything Gavel shows in Matrix: the inert text
// builder, report cards, digests, lists, help, status, replies and alerts,
// and the one mapping from errors to words. It is pure: no network, no
// database. It imports adminapi, commands and dossier for the types it
// renders (the help it shows is commands'), and internal/retry to sort
// errors before wording them; nothing imports it but the packages that
// post messages.
//
// Text is the only way to write a message's HTML: its buffers are
// unexported, so outside this package nothing can put markup in a message
// except through the methods below, which escape and defang.
//
// Of Gavel's packages it may import: adminapi, commands, dossier,
// internal/mxid, internal/retry, internal/textcut, policy.
package notice

import (
	"encoding/json"
	"html"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// Rules for everything built here:
//   - every string that came from users (message content, reasons, room
//     names) goes through inert() and html.EscapeString;
//   - the only links are ones Gavel builds itself, to matrix.to;
//   - content and reasons sit in <code>/<pre>, which clients do not
//     linkify, and "://" is defanged in case a client linkifies anyway;
//   - "m.mentions": {} is always set, so nothing can ping anyone.

// Text is a message in both forms: plain body and HTML.
type Text struct {
	plain  strings.Builder
	html   strings.Builder
	inItem bool // a list item is open
	// afterList is set when a list just ended: the next plain text starts
	// on a line of its own (the HTML list is a block already).
	afterList bool
}

// p appends to the plain form.
func (t *Text) p(s string) {
	if t.afterList {
		t.afterList = false
		if !strings.HasPrefix(s, "\n") {
			t.plain.WriteString("\n")
		}
	}
	t.plain.WriteString(s)
}

// New returns an empty Text.
func New() *Text { return &Text{} }

// Raw appends trusted text (Gavel's own words) to both forms.
func (t *Text) Raw(s string) *Text {
	t.p(s)
	t.html.WriteString(html.EscapeString(s))
	return t
}

// User appends untrusted single-line text, made inert, to both forms.
func (t *Text) User(s string) *Text {
	s = inertLine(s)
	t.p(s)
	t.html.WriteString(html.EscapeString(s))
	return t
}

// Code appends untrusted single-line text as inline code.
func (t *Text) Code(s string) *Text { return t.code(inertLine(s)) }

// Syntax appends Gavel's own command syntax as inline code: trusted, so
// not defanged ("mxc://" stays as typed), but still escaped.
func (t *Text) Syntax(s string) *Text { return t.code(s) }

func (t *Text) code(s string) *Text {
	t.p("`" + s + "`")
	t.html.WriteString("<code>" + html.EscapeString(s) + "</code>")
	return t
}

// Link appends a link Gavel built, with untrusted link text.
func (t *Text) Link(label, href string) *Text {
	label = inertLine(label)
	t.p(label)
	t.html.WriteString(`<a href="` + html.EscapeString(href) + `">` + html.EscapeString(label) + "</a>")
	return t
}

// Bold appends trusted text in bold.
func (t *Text) Bold(s string) *Text {
	t.p(s)
	t.html.WriteString("<b>" + html.EscapeString(s) + "</b>")
	return t
}

// Newline ends a line.
func (t *Text) Newline() *Text {
	t.p("\n")
	t.html.WriteString("<br>")
	return t
}

// Quote appends an untrusted multi-line excerpt as a quoted code block.
func (t *Text) Quote(s string) *Text {
	s = inert(s)
	for line := range strings.SplitSeq(s, "\n") {
		t.p("\n> " + line)
	}
	t.html.WriteString("<blockquote><pre><code>" + html.EscapeString(s) + "</code></pre></blockquote>")
	return t
}

// StartList opens a bulleted list; Item starts each entry and EndList
// closes it.
func (t *Text) StartList() *Text {
	t.html.WriteString("<ul>")
	return t
}

// Item starts a list entry, ending the one before.
func (t *Text) Item() *Text {
	t.endItem()
	t.p("\n• ")
	t.html.WriteString("<li>")
	t.inItem = true
	return t
}

// LastItem ends a list with a closing entry that has no bullet in the
// plain form ("… and 3 more").
func (t *Text) LastItem(s string) *Text {
	t.endItem()
	t.p("\n" + s)
	t.html.WriteString("<li>" + html.EscapeString(s) + "</li>")
	return t
}

// ItemLine starts an indented second line inside a list entry.
func (t *Text) ItemLine() *Text {
	t.p("\n  ")
	t.html.WriteString("<br>")
	return t
}

// EndList closes the list; what follows starts on a line of its own.
func (t *Text) EndList() *Text {
	t.endItem()
	t.html.WriteString("</ul>")
	t.afterList = true
	return t
}

func (t *Text) endItem() {
	if t.inItem {
		t.html.WriteString("</li>")
		t.inItem = false
	}
}

// Table appends a table whose header is Gavel's own words and whose cells
// are untrusted single-line text. The plain form has one line per row,
// cells separated by " · ".
func (t *Text) Table(header []string, rows [][]string) *Text {
	t.html.WriteString("<table><thead><tr>")
	for _, h := range header {
		t.html.WriteString("<th>" + html.EscapeString(h) + "</th>")
	}
	t.html.WriteString("</tr></thead><tbody>")
	for _, row := range rows {
		cells := make([]string, len(row))
		t.html.WriteString("<tr>")
		for i, c := range row {
			cells[i] = inertLine(c)
			t.html.WriteString("<td>" + html.EscapeString(cells[i]) + "</td>")
		}
		t.html.WriteString("</tr>")
		t.p("\n" + strings.Join(cells, " · "))
	}
	t.html.WriteString("</tbody></table>")
	return t
}

// Append adds what u says to t.
func (t *Text) Append(u *Text) *Text {
	t.plain.WriteString(u.plain.String())
	t.html.WriteString(u.html.String())
	return t
}

// Plain returns the plain form.
func (t *Text) Plain() string { return t.plain.String() }

// Size is the length of both forms together, in bytes.
func (t *Text) Size() int { return t.plain.Len() + t.html.Len() }

// Content builds the event content of a message Gavel sends, with extra
// fields (machine-readable ones such as "gavel.report") laid over it.
func (t *Text) Content(msgType event.MessageType, extra map[string]any) json.RawMessage {
	return t.marshal(msgType, nil, extra)
}

// Reply builds a notice that replies to the event to.
func (t *Text) Reply(to id.EventID) json.RawMessage {
	return t.ReplyWith(to, nil)
}

// ReplyWith builds a notice that replies to the event to, with extra
// fields laid over it.
func (t *Text) ReplyWith(to id.EventID, extra map[string]any) json.RawMessage {
	return t.ReplyIn(to, "", extra)
}

// ReplyIn builds a notice that replies to the event to in the thread
// rooted at root (no thread when root is empty), with extra fields laid
// over it.
func (t *Text) ReplyIn(to, root id.EventID, extra map[string]any) json.RawMessage {
	rel := (&event.RelatesTo{}).SetReplyTo(to)
	if root != "" {
		rel.Type, rel.EventID = event.RelThread, root
	}
	return t.marshal(event.MsgNotice, rel, extra)
}

func (t *Text) message(msgType event.MessageType, rel *event.RelatesTo) *event.MessageEventContent {
	return &event.MessageEventContent{
		MsgType:       msgType,
		Body:          t.plain.String(),
		Format:        event.FormatHTML,
		FormattedBody: t.html.String(),
		Mentions:      &event.Mentions{},
		RelatesTo:     rel,
	}
}

func (t *Text) marshal(msgType event.MessageType, rel *event.RelatesTo, extra map[string]any) json.RawMessage {
	return marshal(t.message(msgType, rel), extra)
}

func marshal(c *event.MessageEventContent, extra map[string]any) json.RawMessage {
	data, err := json.Marshal(&event.Content{Parsed: c, Raw: extra})
	if err != nil {
		panic(err) // only plain data goes in
	}
	return data
}

// inert makes untrusted text safe to show as text: control characters go
// (newlines and tabs stay), as do bidirectional overrides and zero-width
// characters that hide what text really says; "://" becomes "[:]//" so that
// no client turns a URL into a clickable link, and "@room" gets a word
// joiner so that clients from before intentional mentions (which match the
// body) do not ping the whole room.
func inert(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r), r == '\u2028', r == '\u2029',
			r == '\u200B', r == '\u2060', r == '\uFEFF', r == '\u180E', r >= '\u2061' && r <= '\u2064':
			return -1
		}
		return r
	}, s)
	s = atRoom.ReplaceAllString(s, "@\u2060$1")
	return strings.ReplaceAll(s, "://", "[:]//")
}

// atRoom matches "@room" as the legacy push rule does: case-insensitively.
var atRoom = regexp.MustCompile(`(?i)@(room)`)

// inertLine is inert for text shown on one line: line breaks and tabs
// become spaces, so a hostile reason or room name cannot add lines that
// look like Gavel's own.
func inertLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return ' '
		}
		return r
	}, inert(s))
}
