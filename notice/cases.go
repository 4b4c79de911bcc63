package notice

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/mxid"
	"github.com/gavel-bot/gavel/internal/textcut"
)

// Case is where a report stands, as a card and !report show it.
type Case struct {
	State string // "open", "claimed", "resolved" or "dismissed"
	By    id.UserID
	At    time.Time
	Note  string
	// Desk is the community desk the last change was made in ("gaming"),
	// "" for the server desk: cards in every desk say where it was.
	Desk string
	// Actions are the commands taken for the report, oldest first
	// ("suspend", "redact").
	Actions []string
	// Also are the later reports of the same event the card shows.
	Also []Also
}

// Also is a later report of the event a card is about.
type Also struct {
	ReportID int64
	Reporter id.UserID
	Reason   string
}

// alsoShown is how many later reporters a card names.
const alsoShown = 10

// AlsoLine says who else reported a card's event: "Also reported by
// @b (report 15: `spam`), @c (report 16) — 3 reports in all."
func AlsoLine(also []Also) *Text {
	t := New().Raw("Also reported by ")
	for i, a := range also {
		if i == alsoShown {
			t.Raw(fmt.Sprintf(" and %d more", len(also)-i))
			break
		}
		if i > 0 {
			t.Raw(", ")
		}
		t.User(string(a.Reporter)).Raw(fmt.Sprintf(" (report %d", a.ReportID))
		if a.Reason != "" {
			t.Raw(": ").Code(textcut.Runes(a.Reason, 80))
		}
		t.Raw(")")
	}
	return t.Raw(fmt.Sprintf(" — %d reports in all.", len(also)+1))
}

// Fields is the card's machine-readable "gavel.case".
func (c Case) Fields() map[string]any {
	f := map[string]any{"state": c.State, "actions": append([]string{}, c.Actions...), "reports": len(c.Also) + 1}
	if c.By != "" {
		f["by"] = string(c.By)
	}
	if !c.At.IsZero() {
		f["ts"] = c.At.UnixMilli()
	}
	if c.Desk != "" {
		f["desk"] = c.Desk
	}
	return f
}

// CaseLine says where a case stands, in one line: "Open", "Claimed by
// @mod 14:02", "Resolved by @mod 14:02: suspend, redact — spam",
// "Dismissed by @mod 14:02: not spam".
func CaseLine(c Case) *Text {
	t := New()
	switch c.State {
	case "claimed":
		t.Bold("Claimed").Raw(inDesk(c.Desk) + " by ").User(string(c.By)).Raw(" " + c.At.UTC().Format("15:04 UTC"))
	case "resolved", "dismissed":
		t.Bold(Capitalize(c.State)).Raw(inDesk(c.Desk) + " by ").User(string(c.By)).Raw(" " + c.At.UTC().Format("15:04 UTC"))
	case "deleted":
		if c.By != "" {
			t.Bold("Deleted").Raw(" in Synapse by ").User(string(c.By)).Raw(" " + c.At.UTC().Format("15:04 UTC"))
			break
		}
		t.Bold("Closed outside Gavel").Raw(": deleted in Synapse (seen " + c.At.UTC().Format("15:04 UTC") + ")")
	default:
		t.Bold("Open")
		if c.By != "" {
			t.Raw(" (reopened by ").User(string(c.By)).Raw(" " + c.At.UTC().Format("15:04 UTC") + ")")
		}
	}
	if len(c.Actions) > 0 {
		t.Raw(": " + strings.Join(c.Actions, ", "))
	}
	if c.Note != "" {
		if len(c.Actions) > 0 {
			t.Raw(" — ")
		} else {
			t.Raw(": ")
		}
		t.User(c.Note)
	}
	return t
}

// inDesk is " in #gaming" for a change made in the community desk gaming,
// "" for one made in the server desk. A desk's name is [a-z0-9-]+
// (config checks it): nothing in it needs escaping.
func inDesk(desk string) string {
	if desk == "" {
		return ""
	}
	return " in #" + desk
}

// NewCard is a new card: content (Card, UserCard or RoomCard) with the
// open case's line on top and "gavel.case", as CardWithCase shows every
// later state, so that a client can tell a card's state before any edit.
func NewCard(content json.RawMessage) json.RawMessage {
	card, err := CardWithCase(content, openCase)
	if err != nil {
		panic(err) // content is Gavel's own card
	}
	return card
}

// openCase is the case of a report whose card is new.
var openCase = Case{State: "open"}

// CardWithCase is the content of a report's card (its content as first
// posted, original) with the case's line on top and "gavel.case". The
// line replaces the open case's that NewCard put there (cards queued
// before NewCard existed have none).
func CardWithCase(original json.RawMessage, c Case) (json.RawMessage, error) {
	var content map[string]any
	if err := json.Unmarshal(original, &content); err != nil {
		return nil, fmt.Errorf("the card's content: %w", err)
	}
	body, _ := content["body"].(string)
	html, _ := content["formatted_body"].(string)
	if _, ok := content["gavel.case"]; ok {
		// Exactly what NewCard put there, rendered again: nothing is
		// read from the text.
		openPlain, openHTML := caseTop(openCase)
		body, html = strings.TrimPrefix(body, openPlain), strings.TrimPrefix(html, openHTML)
	}
	plain, top := caseTop(c)
	content["body"] = plain + body
	content["formatted_body"] = top + html
	content["format"] = "org.matrix.custom.html"
	content["gavel.case"] = c.Fields()
	return json.Marshal(content)
}

// caseTop is what a card's case puts on top of its body and
// formatted_body: its line, and the line of later reports.
func caseTop(c Case) (plain, html string) {
	line := CaseLine(c)
	if len(c.Also) > 0 {
		line.Newline().Append(AlsoLine(c.Also))
	}
	return line.Plain() + "\n", "<p>" + line.html.String() + "</p>"
}

// WithCase adds a report's case and its history (newest first) to t, the
// report as !report shows it.
func WithCase(t *Text, c Case, history []Entry) *Text {
	t.Newline().Bold("Case: ").Append(CaseLine(c))
	if len(history) == 0 {
		return t
	}
	t.Newline().Raw("History, newest first:").StartList()
	for _, s := range history {
		t.Item().Raw(s.At.UTC().Format("2006-01-02 15:04 UTC") + " ").User(string(s.By)).Raw(": ").Code(s.Command)
		if !s.OK {
			t.Raw(" (not done)")
		}
	}
	return t.EndList()
}

// Entry is one thing a moderator did: a line of the audit trail, or of a
// report's history.
type Entry struct {
	At      time.Time
	By      id.UserID
	Command string
	OK      bool
	Result  string
	Report  mxid.ReportRef
}

// auditResultShown is how much of an action's result the audit shows.
const auditResultShown = 120

// Audit lists entries of the audit trail, newest first; what says what
// was asked for ("for report 12", "by @mod").
func Audit(entries []Entry, what string, more bool) *Text {
	t := New()
	if len(entries) == 0 {
		return t.Raw("Nothing recorded" + what + ".")
	}
	t.Bold(Count(len(entries), "entry", "entries")).Raw(what)
	if more {
		t.Raw(", the newest (").Syntax("--limit").Raw(" shows more):")
	} else {
		t.Raw(", newest first:")
	}
	t.StartList()
	for i, e := range entries {
		if t.Size() > maxListSize {
			t.LastItem(fmt.Sprintf("… and %d more", len(entries)-i))
			break
		}
		t.Item().Raw(e.At.UTC().Format("2006-01-02 15:04 UTC") + " ").User(string(e.By)).Raw(": ").Code(e.Command)
		if !e.Report.IsZero() {
			t.Raw(" (report " + e.Report.String() + ")")
		}
		if e.OK {
			t.Raw(" → ")
		} else {
			t.Raw(" → not done: ")
		}
		t.User(textcut.Runes(e.Result, auditResultShown))
	}
	return t.EndList()
}
