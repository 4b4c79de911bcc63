package moderation

import (
	"context"
	"errors"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/desk"
	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/store"
)

// A community desk acts only inside its scope. Each check is made at the
// resolved target — the room an alias or link resolves to, the room of a
// report — right before the admin API call, never at the words typed.

// deskName is the name of the desk a's command came from, "" for the
// server desk, as a case records it.
func (a Actor) deskName() string {
	if a.Desk == nil {
		return ""
	}
	return a.Desk.Name
}

// community reports whether a's command came from a community desk.
func (a Actor) community() bool { return a.Desk != nil && !a.Desk.IsServer() }

// deskOf returns the desk whose room is roomID, or nil.
func (m *Moderator) deskOf(roomID id.RoomID) *desk.Desk {
	if m.Desks == nil {
		return nil
	}
	return m.Desks.ByRoom(roomID)
}

// outside refuses to act on roomID (named name in the reply) from a
// community desk whose scope does not hold it, or returns nil.
func (m *Moderator) outside(a Actor, roomID id.RoomID, name string) *Outcome {
	if !a.community() || m.Desks.Covers(a.Desk, roomID) {
		return nil
	}
	t := notice.New().Raw("Not done: ").User(name).Raw(" is not in the scope of desk " + a.Desk.Label() +
		", which acts only in its own rooms (its spaces and rooms, as last read: ").
		Code(m.Prefix + "desk refresh").Raw(" reads them again). The server desk can act there; ").
		Code(m.Prefix + "report escalate <id>").Raw(" hands it a report.")
	out := NotDone(t)
	return &out
}

// notDesks refuses a report that a's community desk does not show (its
// room is outside the desk's scope), or returns nil.
func (m *Moderator) notDesks(ctx context.Context, a Actor, seen *store.SeenReport) *Outcome {
	if !a.community() {
		return nil
	}
	if ok, err := m.deskShows(ctx, a.Desk, seen.CaseKey); err != nil {
		out := Failed("Not done: Gavel could not read its database. Try again in a moment.")
		return &out
	} else if ok {
		return nil
	}
	out := Failed("Not done: %s is not one of desk %s's reports: it is about a room outside this desk's scope. The server desk has it.",
		reportName(seen.Ref()), a.Desk.Label())
	return &out
}

// deskShows reports whether desk d has a card of report r's case.
func (m *Moderator) deskShows(ctx context.Context, d *desk.Desk, r store.ReportKey) (bool, error) {
	cards, err := m.Store.Outbox.Cards(ctx, r)
	if err != nil {
		return false, err
	}
	for _, c := range cards {
		if c.RoomID == d.Room {
			return true, nil
		}
	}
	return false, nil
}

// escalateReport hands a report from a community desk to the server desk:
// the server desk gets the report's card if it had none, and a note in
// the card's thread naming the desk, the moderator and the note. The
// action log keeps it in the case's history.
func (m *Moderator) escalateReport(ctx context.Context, a Actor, c commands.EscalateReport) Outcome {
	if !a.community() {
		return NotDone(notice.New().Raw("This is the server desk: " + reportName(c.ID) + " is here already."))
	}
	seen, refused := m.seenReport(ctx, c.ID)
	if refused != nil {
		return *refused
	}
	if refused := m.notDesks(ctx, a, seen); refused != nil {
		return *refused
	}
	cards, err := m.Store.Outbox.Cards(ctx, seen.CaseKey)
	if err != nil {
		return Failed("Not done: Gavel could not read its database. Try again in a moment.")
	}
	var messages []store.Message
	root := store.OutboxKey("")
	for _, card := range cards {
		if card.RoomID == m.ManagementRoom {
			root = card.Key
		}
	}
	if root == "" {
		card, more, refused := m.serverCard(ctx, seen)
		if refused != nil {
			return *refused
		}
		root = card.Key
		messages = append(append(messages, card), more...)
	}
	t := notice.New().Raw("⏫ Escalated from desk " + a.Desk.Label() + " by ").User(string(a.User))
	if c.Note != "" {
		t.Raw(": ").User(c.Note)
	}
	messages = append(messages, store.Message{Key: store.EscalationKey(seen.CaseKey, a.Desk.Name, time.Now()), Priority: store.PriorityReply,
		RoomID: m.ManagementRoom, Content: t.Raw(".").Content("m.notice", nil), RelatesTo: root, InThread: true})
	if err := m.Store.Outbox.EnqueueAll(ctx, messages...); err != nil {
		return Failed("Not done: Gavel could not record the escalation (database error). Try again in a moment.")
	}
	if m.Notify != nil {
		m.Notify()
	}
	return Done(notice.New().Raw("Escalated " + reportName(seen.Ref()) + " to the server desk: its card there has a note in its thread."))
}

// serverCard makes the server desk's card of a report that only a
// community desk showed, as its case stands now.
func (m *Moderator) serverCard(ctx context.Context, seen *store.SeenReport) (store.Message, []store.Message, *Outcome) {
	r, err := m.fetchReport(ctx, seen.CaseKey.Ref())
	if err != nil {
		out := Failed("Not done: %s", m.explain(err, reportName(seen.CaseKey.Ref())))
		return store.Message{}, nil, &out
	}
	d, _ := m.gather(ctx, r.subject())
	content, buttons := r.card(d, m.Prefix, m.serverName(), m.Policy)
	if c, err := m.Store.Cases.Get(ctx, seen.CaseKey); err == nil && c.Version > 0 {
		if view, err := m.caseView(ctx, c, seen.CardKey); err == nil {
			if edited, err := notice.CardWithCase(content, view); err == nil {
				content = edited
			}
		}
	}
	card, reactions := store.CardMessages(store.NoticeKey(seen.CaseKey), seen.CaseKey, m.ManagementRoom, store.PriorityReply, content, notice.Reactions(buttons))
	return card, reactions, nil
}

// refreshDesks reads the desks' spaces again: the asking desk's, or in
// the server desk every desk's.
func (m *Moderator) refreshDesks(ctx context.Context, a Actor, _ commands.DeskRefresh) Outcome {
	if m.Desks == nil || len(m.Desks.All()) < 2 || m.RefreshDesk == nil {
		return NotDone(notice.New().Raw("There are no community desks (desks in the configuration): nothing to refresh."))
	}
	desks := m.Desks.All()[1:]
	if a.community() {
		desks = []*desk.Desk{a.Desk}
	}
	t := notice.New()
	var failed error
	for i, d := range desks {
		if i > 0 {
			t.Raw(" ")
		}
		err := m.RefreshDesk(ctx, d)
		s := m.Desks.ScopeOf(d)
		t.Raw("Desk " + d.Label() + ": " + notice.Count(s.Rooms, "room", "rooms") + " in scope")
		if err != nil {
			failed = errors.Join(failed, err)
			t.Raw(" (as last read; reading it again failed: ").User(err.Error()).Raw(")")
		}
		t.Raw(".")
	}
	if failed != nil {
		return NotDone(t)
	}
	return Done(t)
}

// deskStatus is the desks' part of !status: in the server desk every
// desk, in a community desk that desk.
func (m *Moderator) deskStatus(a Actor) []notice.DeskStatus {
	if m.Desks == nil || len(m.Desks.All()) < 2 {
		return nil
	}
	desks := m.Desks.All()
	if a.community() {
		desks = []*desk.Desk{a.Desk}
	}
	var out []notice.DeskStatus
	for _, d := range desks {
		s := notice.DeskStatus{Name: d.Name, Room: d.Room, Here: d == a.Desk || (d.IsServer() && !a.community())}
		if !d.IsServer() {
			scope := m.Desks.ScopeOf(d)
			s.Rooms, s.RefreshedAt, s.Err = scope.Rooms, scope.RefreshedAt, scope.Err
			s.Roles = d.Levels
		}
		if m.DeskJoined != nil {
			s.Joined = m.DeskJoined(d.Room)
		}
		out = append(out, s)
	}
	return out
}

// levelsOf returns the levels commands need in the desk of a.
func (m *Moderator) levelsOf(a Actor) commands.Levels {
	if a.community() {
		return a.Desk.Levels
	}
	if m.Levels != nil {
		return m.Levels()
	}
	return commands.Levels{}
}
