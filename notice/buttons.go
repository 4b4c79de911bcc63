package notice

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/dossier"
)

// Button is a reaction Gavel puts on a card: a moderator who adds the same
// reaction runs Command.
type Button struct {
	Key     string // the emoji
	Command string // as typed, with the prefix
	Label   string // what it does, for the card's legend
}

// ReactionCommandsKey is where a card maps its buttons to their commands,
// in mautrix's reaction-command format.
const ReactionCommandsKey = "fi.mau.reaction_commands"

// ButtonKey normalises a reaction key: clients add or drop the emoji
// variation selector.
func ButtonKey(key string) string { return strings.ReplaceAll(key, "\ufe0f", "") }

// CardButtons are the buttons that fit report r: claim, resolve and
// dismiss; redacting the event while Synapse still has it; suspending the
// sender when they are local (server is this homeserver); redacting the
// sender's last day of messages; quarantining the event's media when it
// has some; deleting the room. The ones that cannot be undone ask for
// confirmation, as the commands do.
func CardButtons(r adminapi.EventReport, detail *adminapi.EventReportDetail, prefix, server string) []Button {
	n := fmt.Sprint(r.ID)
	forReport := " --report " + n
	b := []Button{
		{"👀", prefix + "report claim " + n, "claim"},
		{"✅", prefix + "report resolve " + n, "resolve"},
		{"🚫", prefix + "report dismiss " + n, "dismiss"},
	}
	hasEvent := detail != nil && detail != TooLargeToShow && detail.Event != nil
	if hasEvent && detail.Event.Unsigned.RedactedBecause == nil {
		b = append(b, Button{"🗑️", prefix + "redact " + string(r.RoomID) + " " + string(r.EventID) + forReport, "redact the message"})
	}
	if r.Sender != "" && r.Sender.Homeserver() == server {
		b = append(b, Button{"⛔", prefix + "suspend " + string(r.Sender) + forReport, "suspend the sender"})
	}
	if r.Sender != "" {
		b = append(b, Button{"🧹", prefix + "redact user " + string(r.Sender) + forReport, "redact the sender's last 24 h (asks first)"})
	}
	if hasEvent {
		if url, ok := detail.Event.Content.Raw["url"].(string); ok {
			if uri, err := id.ParseContentURI(url); err == nil && uri.IsValid() {
				b = append(b, Button{"🖼️", prefix + "quarantine media " + uri.String() + forReport, "quarantine its media"})
			}
		}
	}
	return append(b, Button{"💥", prefix + "room delete " + string(r.RoomID) + forReport, "delete the room (asks first)"})
}

// Card is a report's notice (ReportNotice) with its context (d, nil for
// none) and its buttons: a legend line, and the commands under
// ReactionCommandsKey.
func Card(r adminapi.EventReport, detail *adminapi.EventReportDetail, d *dossier.Dossier, buttons []Button) json.RawMessage {
	t := Dossier(Report(r, detail), d, time.Now())
	return withButtons(t, ReportFields{
		Kind: "event", ReportID: r.ID, ReceivedTS: r.ReceivedTS, EventID: r.EventID,
		RoomID: r.RoomID, Sender: r.Sender, Reporter: r.UserID,
	}, buttons)
}

// withButtons is card text t as a message, with fields under
// "gavel.report", and buttons: a legend line, and their commands under
// ReactionCommandsKey.
func withButtons(t *Text, fields ReportFields, buttons []Button) json.RawMessage {
	extra := map[string]any{"gavel.report": fields}
	if len(buttons) > 0 {
		commands := map[string]any{}
		t.Newline().Raw("Buttons:")
		for i, b := range buttons {
			if i > 0 {
				t.Raw(" ·")
			}
			t.Raw(" " + b.Key + " " + b.Label)
			commands[b.Key] = b.Command
		}
		extra[ReactionCommandsKey] = commands
		extra["fi.mau.reaction_multi_use"] = true
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

// ButtonCommand returns the command a reaction with key runs on a card
// whose content is content, or "".
func ButtonCommand(content map[string]any, key string) string {
	commands, _ := content[ReactionCommandsKey].(map[string]any)
	for k, cmd := range commands {
		if s, ok := cmd.(string); ok && ButtonKey(k) == ButtonKey(key) {
			return s
		}
	}
	return ""
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
