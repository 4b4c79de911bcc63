package notice

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/internal/textcut"
)

// How much of a reported event's content, a reason and a room name a
// notice shows.
const (
	excerptLimit  = 500
	ReasonShown   = 300
	RoomNameShown = 80
)

// ReportFields is the machine-readable "gavel.report" field of a report's
// notice.
type ReportFields struct {
	// Kind is "event", "user" or "room".
	Kind       string `json:"kind"`
	ReportID   int64  `json:"report_id"`
	ReceivedTS int64  `json:"received_ts"`
	// The reported event (event reports).
	EventID id.EventID `json:"event_id,omitempty"`
	RoomID  id.RoomID  `json:"room_id,omitempty"`
	Sender  id.UserID  `json:"sender,omitempty"`
	// The reported user (user reports).
	TargetUserID id.UserID `json:"target_user_id,omitempty"`
	Reporter     id.UserID `json:"reporter"`
}

// TooLargeToShow stands for a reported event whose details were too large
// to read.
var TooLargeToShow = &adminapi.EventReportDetail{}

// ReportNotice builds the notice for a new report: m.text, so that
// moderators' clients notify them. detail may be nil when Synapse no
// longer has the event, or TooLargeToShow.
func ReportNotice(r adminapi.EventReport, detail *adminapi.EventReportDetail) json.RawMessage {
	return Card(r, detail, nil, nil)
}

// Report writes a report: who reported whom, where, why, when, and an
// excerpt of the reported event.
func Report(r adminapi.EventReport, detail *adminapi.EventReportDetail) *Text {
	t := New()
	t.Bold(fmt.Sprintf("Report %d", r.ID)).Raw(": ")
	userLink(t, r.UserID).Raw(" reported ")
	if r.Sender != "" {
		userLink(t, r.Sender).Raw("'s ")
	}
	t.Link("event", r.RoomID.EventURI(r.EventID).MatrixToURL()).Raw(" in ")
	roomLink(t, r).Newline()
	reasonOf(t, r.Reason)
	if r.Score != nil {
		t.Raw(fmt.Sprintf(" · score %d", *r.Score))
	}
	t.Raw(" · " + r.Received().UTC().Format("2006-01-02 15:04:05 UTC"))
	t.Newline()
	if detail == TooLargeToShow {
		return t.Raw(fmt.Sprintf("The reported event is not shown: Synapse's answer was larger than %d MiB.", adminapi.MaxAnswerSize>>20))
	}
	if detail == nil || detail.Event == nil {
		return t.Raw("The reported event is no longer available in Synapse.")
	}
	kind, excerpt := describeEvent(detail.Event)
	// The type and msgtype come from the reported event too.
	t.Raw("Reported ").User(textcut.Runes(kind, 100)).Raw(":")
	return t.Quote(textcut.Runes(excerpt, excerptLimit))
}

// reasonOf appends "Reason: " and a reporter's reason, cut and inert, or
// "(none given)".
func reasonOf(t *Text, reason string) *Text {
	t.Raw("Reason: ")
	if reason == "" {
		return t.Raw("(none given)")
	}
	return t.Code(textcut.Runes(reason, ReasonShown))
}

// userLink appends a matrix.to link to a user, or "(unknown user)".
func userLink(t *Text, userID id.UserID) *Text {
	if userID == "" {
		return t.Raw("(unknown user)")
	}
	return t.Link(string(userID), userID.URI().MatrixToURL())
}

// roomLink appends a matrix.to link to a report's room, named as
// RoomName names it.
func roomLink(t *Text, r adminapi.EventReport) *Text {
	return t.Append(RoomName(Room{ID: r.RoomID, Name: r.Name, Alias: r.CanonicalAlias}))
}

// Room is a room as cards and replies name it. Its name and canonical
// alias come from room state, which a remote server may fill: hostile
// text.
type Room struct {
	ID    id.RoomID
	Name  string
	Alias id.RoomAlias
}

// RoomName names a room: a matrix.to link to it labelled with its name,
// or else its alias, or else its id; after a name, the alias: "Lobby
// (#lobby:example.org)". Name and alias are cut and inert.
func RoomName(r Room) *Text {
	t := New()
	alias := textcut.Runes(string(r.Alias), RoomNameShown)
	label := string(r.ID)
	if r.Name != "" {
		label = textcut.Runes(r.Name, RoomNameShown)
	} else if alias != "" {
		label = alias
	}
	t.Link(label, r.ID.URI().MatrixToURL())
	if alias != "" && label != alias {
		t.Raw(" (").User(alias).Raw(")")
	}
	return t
}

// EventLink is a matrix.to link to an event, labelled with its id.
func EventLink(roomID id.RoomID, eventID id.EventID) *Text {
	return New().Link(string(eventID), roomID.EventURI(eventID).MatrixToURL())
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
	slices.Sort(keys)
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
