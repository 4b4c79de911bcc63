package notice

import (
	"fmt"
	"strings"
	"time"

	"maunium.net/go/mautrix/event"

	"github.com/gavel-bot/gavel/dossier"
	"github.com/gavel-bot/gavel/internal/textcut"
)

// How much of the context a card shows: display names and the messages
// around a reported event are cut short.
const (
	displayNameShown = 60
	aroundShown      = 120
)

// Dossier adds a report's context to t, a card or !report, one line per
// part: the reported user, their history, the reporter's record, the room,
// the messages around the event; and which parts are missing. now is for
// the account's age. Everything that comes from users is inert.
func Dossier(t *Text, d *dossier.Dossier, now time.Time) *Text {
	if d == nil {
		return t
	}
	if u := d.User; u != nil {
		t.Newline().Bold("User: ")
		userFacts(t, u, now)
	}
	if h := d.History; h != nil {
		t.Newline().Bold("History: ")
		if h.Reports == 0 {
			t.Raw("no earlier reports")
		} else {
			t.Raw(capped(h.Reports, "earlier report", "earlier reports"))
			if c := h.Last; c != nil {
				t.Raw(" (last closed: ").Append(CaseLine(Case{State: string(c.State), By: c.By, At: c.At, Note: textcut.Runes(c.Note, 80)})).Raw(")")
			}
		}
		t.Raw(" · ")
		if h.Actions == 0 {
			t.Raw("no actions taken on them")
		} else {
			t.Raw(Count(h.Actions, "action", "actions") + " taken on them before")
		}
	}
	if r := d.Reporter; r != nil {
		t.Newline().Bold("Reporter: ")
		switch {
		case r.Filed == 0:
			t.Raw("no earlier reports")
		case r.Dismissed == 0:
			t.Raw(capped(r.Filed, "earlier report", "earlier reports") + ", none dismissed")
		default:
			t.Raw(capped(r.Filed, "earlier report", "earlier reports") + fmt.Sprintf(", %d dismissed", r.Dismissed))
		}
	}
	if room := d.Room; room != nil {
		t.Newline().Bold("Room: ").Raw(Count(room.JoinedMembers, "member", "members"))
		if room.JoinRules == event.JoinRulePublic {
			t.Raw(" · anyone can join")
		} else if room.JoinRules != "" {
			// From room state, which a remote server may fill.
			t.Raw(" · join rule ").User(textcut.Runes(string(room.JoinRules), 20))
		}
		if room.Public {
			t.Raw(" · in the room directory")
		}
		if room.Encryption != "" {
			t.Raw(" · encrypted")
		} else {
			t.Raw(" · not encrypted")
		}
	}
	PolicyContext(t, d.Policy, now)
	switch {
	case d.AroundGone:
		t.Newline().Bold("Around it: ").Raw("Synapse no longer has the event (purged).")
	case len(d.Before) > 0 || len(d.After) > 0:
		var lines []string
		for i := len(d.Before) - 1; i >= 0; i-- {
			lines = append(lines, aroundLine(d.Before[i]))
		}
		lines = append(lines, "→ (the reported event)")
		for _, evt := range d.After {
			lines = append(lines, aroundLine(evt))
		}
		t.Newline().Bold("Around it:").Quote(strings.Join(lines, "\n"))
	}
	if len(d.Missing) > 0 {
		t.Newline().Raw("Not gathered in time: " + strings.Join(d.Missing, ", ") + ".")
	}
	return t
}

// capped is Count for the counts of a record, which stop past
// dossier.RecordCap.
func capped(n int, one, many string) string {
	if n > dossier.RecordCap {
		return fmt.Sprintf("more than %d %s", dossier.RecordCap, many)
	}
	return Count(n, one, many)
}

// userFacts describes the reported user: local or remote, the account's
// age and state, the display name.
func userFacts(t *Text, u *dossier.User, now time.Time) {
	t.User(string(u.ID))
	if !u.Local {
		t.Raw(" · remote (").User(u.ID.Homeserver()).Raw(")")
		return
	}
	acc := u.Account
	if acc == nil {
		t.Raw(" · local, no such account")
		return
	}
	t.Raw(" · local, account " + age(acc.Created(), now) + " old")
	var states []string
	for _, s := range []struct {
		on   bool
		name string
	}{{bool(acc.Admin), "server admin"}, {bool(acc.Deactivated), "deactivated"}, {bool(acc.Suspended), "suspended"},
		{bool(acc.Locked), "locked"}, {bool(acc.ShadowBanned), "shadow-banned"}} {
		if s.on {
			states = append(states, s.name)
		}
	}
	if len(states) > 0 {
		t.Raw(" · " + strings.Join(states, ", "))
	}
	if acc.DisplayName != "" {
		t.Raw(" · display name ").Code(textcut.Runes(acc.DisplayName, displayNameShown))
	}
}

// age is how long ago created was, roughly: "5 min", "3 h", "12 days".
func age(created, now time.Time) string {
	d := now.Sub(created)
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%d min", max(int(d/time.Minute), 0))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d/time.Hour))
	default:
		return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	}
}

// aroundLine is one message around a reported event, as "sender: text",
// cut short.
func aroundLine(evt *event.Event) string {
	_, excerpt := describeEvent(evt)
	// One line, whatever the sender's id or the message holds.
	return textcut.Runes(strings.Join(strings.Fields(string(evt.Sender)+": "+excerpt), " "), aroundShown)
}
