package bot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/internal/textcut"
)

// Everything Gavel posts is built here. Rules:
//   - every string that came from users (message content, reasons, room
//     names) goes through inert() and html.EscapeString;
//   - the only links are ones Gavel builds itself, to matrix.to;
//   - content and reasons sit in <code>/<pre>, which clients do not
//     linkify, and "://" is defanged in case a client linkifies anyway;
//   - "m.mentions": {} is always set, so nothing can ping anyone.

// How much of a reported event's content, a reason and a room name a
// notice shows.
const (
	excerptLimit  = 500
	reasonShown   = 300
	roomNameShown = 80
)

// text is a message in both forms: plain body and HTML.
type text struct {
	plain strings.Builder
	html  strings.Builder
}

// raw appends trusted text (Gavel's own words) to both forms.
func (t *text) raw(s string) *text {
	t.plain.WriteString(s)
	t.html.WriteString(html.EscapeString(s))
	return t
}

// user appends untrusted single-line text, made inert, to both forms.
func (t *text) user(s string) *text {
	s = inertLine(s)
	t.plain.WriteString(s)
	t.html.WriteString(html.EscapeString(s))
	return t
}

// code appends untrusted single-line text as inline code.
func (t *text) code(s string) *text {
	s = inertLine(s)
	t.plain.WriteString("`" + s + "`")
	t.html.WriteString("<code>" + html.EscapeString(s) + "</code>")
	return t
}

// link appends a link Gavel built, with untrusted link text.
func (t *text) link(label, href string) *text {
	label = inertLine(label)
	t.plain.WriteString(label)
	t.html.WriteString(`<a href="` + html.EscapeString(href) + `">` + html.EscapeString(label) + "</a>")
	return t
}

// bold appends trusted text in bold.
func (t *text) bold(s string) *text {
	t.plain.WriteString(s)
	t.html.WriteString("<b>" + html.EscapeString(s) + "</b>")
	return t
}

// newline ends a line.
func (t *text) newline() *text {
	t.plain.WriteString("\n")
	t.html.WriteString("<br>")
	return t
}

// quote appends an untrusted multi-line excerpt as a quoted code block.
func (t *text) quote(s string) *text {
	s = inert(s)
	for _, line := range strings.Split(s, "\n") {
		t.plain.WriteString("\n> " + line)
	}
	t.html.WriteString("<blockquote><pre><code>" + html.EscapeString(s) + "</code></pre></blockquote>")
	return t
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

// size is the length of both forms together, in bytes.
func (t *text) size() int { return t.plain.Len() + t.html.Len() }

func userLink(t *text, userID id.UserID) *text {
	if userID == "" {
		return t.raw("(unknown user)")
	}
	return t.link(string(userID), userID.URI().MatrixToURL())
}

func roomLink(t *text, r adminapi.EventReport) *text {
	// The alias comes from room state, which a remote server may fill.
	alias := textcut.Runes(string(r.CanonicalAlias), roomNameShown)
	label := string(r.RoomID)
	if r.Name != "" {
		label = textcut.Runes(r.Name, roomNameShown)
	} else if alias != "" {
		label = alias
	}
	t.link(label, r.RoomID.URI().MatrixToURL())
	if alias != "" && label != alias {
		t.raw(" (").user(alias).raw(")")
	}
	return t
}

// content builds the event content of a message Gavel sends.
func (t *text) content(msgType event.MessageType, extra map[string]any) json.RawMessage {
	c := &event.MessageEventContent{
		MsgType:       msgType,
		Body:          t.plain.String(),
		Format:        event.FormatHTML,
		FormattedBody: t.html.String(),
		Mentions:      &event.Mentions{},
	}
	return marshalContent(c, extra)
}

func marshalContent(c *event.MessageEventContent, extra map[string]any) json.RawMessage {
	data, err := json.Marshal(&event.Content{Parsed: c, Raw: extra})
	if err != nil {
		panic(err) // only plain data goes in
	}
	return data
}

// noticeFields is the machine-readable "gavel.report" field of a notice.
type noticeFields struct {
	ReportID   int64      `json:"report_id"`
	ReceivedTS int64      `json:"received_ts"`
	EventID    id.EventID `json:"event_id"`
	RoomID     id.RoomID  `json:"room_id"`
	Sender     id.UserID  `json:"sender"`
	Reporter   id.UserID  `json:"reporter"`
}

// tooLargeToShow stands for a reported event whose details were too large
// to read.
var tooLargeToShow = &adminapi.EventReportDetail{}

// renderReport writes a report: who reported whom, where, why, when, and
// an excerpt of the reported event. detail may be nil when Synapse no
// longer has the event.
func renderReport(t *text, r adminapi.EventReport, detail *adminapi.EventReportDetail) {
	t.bold(fmt.Sprintf("Report %d", r.ID)).raw(": ")
	userLink(t, r.UserID).raw(" reported ")
	if r.Sender != "" {
		userLink(t, r.Sender).raw("'s ")
	}
	t.link("event", r.RoomID.EventURI(r.EventID).MatrixToURL()).raw(" in ")
	roomLink(t, r).newline()
	t.raw("Reason: ")
	if r.Reason == "" {
		t.raw("(none given)")
	} else {
		t.code(textcut.Runes(r.Reason, reasonShown))
	}
	if r.Score != nil {
		t.raw(fmt.Sprintf(" · score %d", *r.Score))
	}
	t.raw(" · " + r.Received().UTC().Format("2006-01-02 15:04:05 UTC"))
	t.newline()
	if detail == tooLargeToShow {
		t.raw(fmt.Sprintf("The reported event is not shown: Synapse's answer was larger than %d MiB.", maxAdminResponse>>20))
		return
	}
	if detail == nil || detail.Event == nil {
		t.raw("The reported event is no longer available in Synapse.")
		return
	}
	kind, excerpt := describeEvent(detail.Event)
	// The type and msgtype come from the reported event too.
	t.raw("Reported ").user(textcut.Runes(kind, 100)).raw(":")
	t.quote(textcut.Runes(excerpt, excerptLimit))
}

// describeEvent names an event's type and gives the text to quote from it.
func describeEvent(evt *event.Event) (kind, excerpt string) {
	kind = evt.Type.Type
	if evt.Type == event.EventMessage || evt.Type == event.EventSticker {
		if msg, ok := evt.Content.Parsed.(*event.MessageEventContent); ok {
			if msg.MsgType != "" {
				kind += " (" + string(msg.MsgType) + ")"
			}
			excerpt = msg.Body
			if msg.URL != "" {
				excerpt += "\n[media: " + string(msg.URL) + "]"
			} else if msg.File != nil && msg.File.URL != "" {
				excerpt += "\n[encrypted media: " + string(msg.File.URL) + "]"
			}
			if strings.TrimSpace(excerpt) != "" {
				return kind, excerpt
			}
		}
	}
	if evt.Type == event.EventEncrypted {
		return kind, "(encrypted: Synapse cannot show the content)"
	}
	if len(evt.Content.Raw) == 0 {
		return kind, "(no content: the event may have been redacted)"
	}
	return kind, compactJSON(evt.Content.Raw)
}

// compactJSON renders a content object as key: value lines, keys sorted.
func compactJSON(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		// Without json's HTML escaping: the text is escaped once, when
		// rendered, and "<script>" reads better than "\u003cscript\u003e".
		var v bytes.Buffer
		enc := json.NewEncoder(&v)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(m[k])
		fmt.Fprintf(&b, "%s: %s\n", k, bytes.TrimSpace(v.Bytes()))
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// reportNotice builds the notice for a new report: m.text, so that
// moderators' clients notify them.
func reportNotice(r adminapi.EventReport, detail *adminapi.EventReportDetail) json.RawMessage {
	t := &text{}
	renderReport(t, r, detail)
	return t.content(event.MsgText, map[string]any{"gavel.report": noticeFields{
		ReportID: r.ID, ReceivedTS: r.ReceivedTS, EventID: r.EventID,
		RoomID: r.RoomID, Sender: r.Sender, Reporter: r.UserID,
	}})
}

// digestContent builds a digest: a table of reports, for when there are
// too many to post one by one. part counts from 1; parts and total are 0
// while not yet known (a scan still going). Cells are cut short, and
// shorter still if the digest would not fit maxDigestBytes.
func digestContent(reports []adminapi.EventReport, part, parts, total int, prefix string) json.RawMessage {
	var raw json.RawMessage
	for _, cut := range digestCuts {
		if raw = renderDigest(reports, part, parts, total, prefix, cut); len(raw) <= maxDigestBytes {
			break
		}
	}
	return raw
}

// maxDigestBytes keeps a digest well inside Synapse's 64 KiB event limit,
// which counts the whole event with its signatures and hashes.
const maxDigestBytes = 56 << 10

// digestCuts are the lengths, in characters, of a digest's reported user,
// room and reason cells: the first that fits is used. The last fits 50
// rows of the worst text (4-byte characters and quotes).
var digestCuts = []struct{ sender, room, reason int }{{60, 40, 80}, {40, 30, 40}, {30, 20, 20}}

func renderDigest(reports []adminapi.EventReport, part, parts, total int, prefix string, cut struct{ sender, room, reason int }) json.RawMessage {
	t := &text{}
	if parts > 0 {
		t.bold(fmt.Sprintf("%d new reports", total)).raw(fmt.Sprintf(", digest %d of %d. ", part, parts))
	} else {
		t.bold(fmt.Sprintf("New reports, digest %d", part)).raw(" (more follow). ")
	}
	t.raw("Too many to post one by one: ").code(prefix + "report <id>").raw(" shows one, ").code(prefix + "reports").raw(" lists the open ones.")
	ids := make([]int64, len(reports))
	keys := make([][2]int64, len(reports))
	t.html.WriteString("<table><thead><tr><th>id</th><th>reported user</th><th>room</th><th>reason</th></tr></thead><tbody>")
	for i, r := range reports {
		ids[i], keys[i] = r.ID, [2]int64{r.ID, r.ReceivedTS}
		sender := "(unknown)"
		if r.Sender != "" {
			sender = textcut.Runes(string(r.Sender), cut.sender)
		}
		room := textcut.Runes(string(r.RoomID), cut.room)
		if r.Name != "" {
			room = textcut.Runes(r.Name, cut.room)
		} else if r.CanonicalAlias != "" {
			room = textcut.Runes(string(r.CanonicalAlias), cut.room)
		}
		reason := "(none given)"
		if r.Reason != "" {
			reason = textcut.Runes(r.Reason, cut.reason)
		}
		cells := []string{strconv.FormatInt(r.ID, 10), inertLine(sender), inertLine(room), inertLine(reason)}
		t.plain.WriteString("\n" + strings.Join(cells, " · "))
		t.html.WriteString("<tr>")
		for _, c := range cells {
			t.html.WriteString("<td>" + html.EscapeString(c) + "</td>")
		}
		t.html.WriteString("</tr>")
	}
	t.html.WriteString("</tbody></table>")
	return t.content(event.MsgText, map[string]any{"gavel.reports": ids, "gavel.report_keys": keys})
}

// ago says how long ago t was, roughly.
func ago(t time.Time, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	default:
		return fmt.Sprintf("%d days ago", int(d.Hours()/24))
	}
}
