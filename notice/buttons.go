package notice

import (
	"encoding/json"
	"strings"
	"time"

	mcmd "maunium.net/go/mautrix/commands"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/dossier"
	"github.com/gavel-bot/gavel/internal/mxid"
)

// Button is a reaction Gavel puts on a card: a moderator who adds the same
// reaction runs Command, for the card's report.
type Button struct {
	Key string // the emoji
	// Command is what the button runs, built here in Go; Text is the same
	// command as typed, with the prefix, which the card shows clients
	// under mautrix's reaction-command key. A test checks that Text parses
	// to Command; Gavel itself never reads Text back.
	Command commands.Command
	Text    string
	Label   string // what it does, for the card's legend
}

// ButtonKey normalises a reaction key: clients add or drop the emoji
// variation selector.
func ButtonKey(key string) string { return strings.ReplaceAll(key, "\ufe0f", "") }

// buttonKeys are the keys of every button a card of any kind may carry.
var buttonKeys = map[string]bool{}

func init() {
	for _, k := range []string{"👀", "✅", "🚫", "🗑️", "⛔", "🧹", "🖼️", "🚧", "💥", "⏫", "📜"} {
		buttonKeys[ButtonKey(k)] = true
	}
}

// IsButton reports whether a reaction with key is one of the buttons a card
// may carry; any other reaction is just a reaction.
func IsButton(key string) bool { return buttonKeys[ButtonKey(key)] }

// FindButton returns the button of buttons whose key is key (with or
// without the variation selector), or nil.
func FindButton(buttons []Button, key string) *Button {
	for i := range buttons {
		if ButtonKey(buttons[i].Key) == ButtonKey(key) {
			return &buttons[i]
		}
	}
	return nil
}

// caseButtons are the buttons every card has: claim, resolve and dismiss
// report ref.
func caseButtons(ref mxid.ReportRef, prefix string) []Button {
	n := ref.String()
	return []Button{
		{"👀", commands.ClaimReport{ID: ref}, prefix + "report claim " + n, "claim"},
		{"✅", commands.ResolveReport{ID: ref}, prefix + "report resolve " + n, "resolve"},
		{"🚫", commands.DismissReport{ID: ref}, prefix + "report dismiss " + n, "dismiss"},
	}
}

// EscalateButton hands report ref to the server desk: the button a
// community desk's cards carry for what that desk may not do.
func EscalateButton(ref mxid.ReportRef, prefix string) Button {
	return Button{"⏫", commands.EscalateReport{ID: ref}, prefix + "report escalate " + ref.String(), "escalate to the server desk"}
}

// redactUserButton redacts user's last day of messages, for report ref.
func redactUserButton(user id.UserID, ref mxid.ReportRef, prefix, label string) Button {
	return Button{"🧹", commands.RedactUser{User: user, Since: commands.DefaultRedactSince, Limit: commands.DefaultRedactLimit, Report: ref},
		prefix + "redact user " + string(user) + " --report " + ref.String(), label}
}

// CardButtons are the buttons that fit report r: claim, resolve and
// dismiss; redacting the event while Synapse still has it; suspending the
// sender when they are local (server is this homeserver); redacting the
// sender's last day of messages; quarantining the event's media when it
// has some; deleting the room. The ones that cannot be undone ask for
// confirmation, as the commands do.
func CardButtons(r adminapi.EventReport, detail *adminapi.EventReportDetail, prefix, server string) []Button {
	ref := mxid.EventReport(r.ID)
	forReport := " --report " + ref.String()
	room := mxid.RoomRef{ID: r.RoomID}
	b := caseButtons(ref, prefix)
	hasEvent := detail != nil && detail != TooLargeToShow && detail.Event != nil
	if hasEvent && detail.Event.Unsigned.RedactedBecause == nil {
		b = append(b, Button{"🗑️", commands.RedactEvent{Room: room, Event: r.EventID, Report: ref},
			prefix + "redact " + string(r.RoomID) + " " + string(r.EventID) + forReport, "redact the message"})
	}
	if r.Sender != "" && r.Sender.Homeserver() == server {
		b = append(b, Button{"⛔", commands.Suspend{User: r.Sender, Report: ref}, prefix + "suspend " + string(r.Sender) + forReport, "suspend the sender"})
	}
	if r.Sender != "" {
		b = append(b, redactUserButton(r.Sender, ref, prefix, "redact the sender's last 24 h (asks first)"))
	}
	if hasEvent {
		if url, ok := detail.Event.Content.Raw["url"].(string); ok {
			uri, err := id.ParseContentURI(url)
			if err == nil && uri.IsValid() && mxid.ValidateServerName(uri.Homeserver) == nil && mxid.ValidateMediaID(uri.FileID) == nil {
				b = append(b, Button{"🖼️", commands.QuarantineMedia{Media: mxid.MediaRef{Server: uri.Homeserver, MediaID: uri.FileID}, Report: ref},
					prefix + "quarantine media " + uri.String() + forReport, "quarantine its media"})
			}
		}
	}
	return append(b, Button{"💥", commands.DeleteRoom{Room: room, Report: ref}, prefix + "room delete " + string(r.RoomID) + forReport, "delete the room (asks first)"})
}

// Card is a report's notice (ReportNotice) with its context (d, nil for
// none) and its buttons: a legend line, and the commands under
// mautrix's reaction-command key (mcmd.ReactionCommandsKey).
func Card(r adminapi.EventReport, detail *adminapi.EventReportDetail, d *dossier.Dossier, buttons []Button) json.RawMessage {
	t := Dossier(Report(r, detail), d, time.Now())
	return withButtons(t, ReportFields{
		Kind: "event", ReportID: r.ID, ReceivedTS: r.ReceivedTS, EventID: r.EventID,
		RoomID: r.RoomID, Sender: r.Sender, Reporter: r.UserID,
	}, buttons)
}

// withButtons is card text t as a message, with fields under
// "gavel.report", and buttons: a legend line, and their commands under
// mcmd.ReactionCommandsKey.
func withButtons(t *Text, fields ReportFields, buttons []Button) json.RawMessage {
	extra := map[string]any{"gavel.report": fields}
	if len(buttons) > 0 {
		texts := map[string]any{}
		t.Newline().Raw("Buttons:")
		for i, b := range buttons {
			if i > 0 {
				t.Raw(" ·")
			}
			t.Raw(" " + b.Key + " " + b.Label)
			texts[b.Key] = b.Text
		}
		extra[mcmd.ReactionCommandsKey] = texts
		extra[mcmd.ReactionMultiUseKey] = true
	}
	return t.Content(event.MsgText, extra)
}

// Reactions returns the content of the reaction Gavel puts on a card for
// each of the buttons, in order: its key alone, which the outbox sends as
// an annotation of the card (store.CardMessages queues them).
func Reactions(buttons []Button) []json.RawMessage {
	reactions := make([]json.RawMessage, len(buttons))
	for i, b := range buttons {
		reactions[i], _ = json.Marshal(map[string]string{"key": b.Key})
	}
	return reactions
}

// InThread puts a message's content into the thread rooted at root.
func InThread(content json.RawMessage, root id.EventID) json.RawMessage {
	var c map[string]any
	if json.Unmarshal(content, &c) != nil {
		return content
	}
	c["m.relates_to"] = (&event.RelatesTo{}).SetThread(root, root)
	data, err := json.Marshal(c)
	if err != nil {
		return content
	}
	return data
}
