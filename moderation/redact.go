package moderation

import (
	"context"
	"fmt"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/synapseadmin"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/internal/retry"
	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/store"
)

// redactWait bounds how long !redact waits for Synapse's redaction task,
// inside the command's own deadline.
const redactWait = 30 * time.Second

// redactEvent redacts one event through the admin API. Synapse has no
// admin call for one event: its user redaction, limited to the event's
// room and to the millisecond it was sent, selects it (and any other
// message the sender sent in that room in the same millisecond).
func (m *Moderator) redactEvent(ctx context.Context, a Actor, c commands.RedactEvent) Outcome {
	roomID, refused := m.redactionRoom(ctx, a, c.Room)
	if refused != nil {
		return *refused
	}
	evt, err := m.Admin.RoomEvent(ctx, roomID, c.Event)
	if err != nil {
		return Failed("%s", m.explain(err, "event "+string(c.Event)+" in "+string(roomID)))
	}
	if refused := m.protected(evt.Sender); refused != nil {
		return *refused
	}
	switch {
	case evt.Unsigned.RedactedBecause != nil:
		return Done(notice.New().Raw("Event ").Append(notice.EventLink(roomID, c.Event)).Raw(" is already redacted."))
	case evt.Type != event.EventMessage && evt.Type != event.EventEncrypted:
		// Synapse's user redaction covers messages (and joins) only.
		t := notice.New().Raw("Not done: event ").Append(notice.EventLink(roomID, c.Event)).Raw(" is a ").User(evt.Type.Type).
			Raw(", and Synapse's admin API redacts only messages. Redact it from a client with the power to.")
		return NotDone(t)
	}
	redactID, err := m.Admin.RedactUser(ctx, evt.Sender, adminapi.RedactRequest{
		Rooms: []id.RoomID{roomID}, Reason: c.Reason, Limit: 10, After: evt.Timestamp, Before: evt.Timestamp,
	})
	if err != nil {
		return Failed("%s", m.explain(err, "user "+string(evt.Sender)))
	}
	status, unfinished := m.followRedaction(ctx, redactID)
	if unfinished != nil {
		return *unfinished
	}
	if status.Status == "failed" || status.FailedRedactions[c.Event] != "" {
		t := notice.New().Raw("Synapse could not redact ").Append(notice.EventLink(roomID, c.Event))
		if why := status.FailedRedactions[c.Event]; why != "" {
			t.Raw(": ").User(why)
		}
		return NotDone(t.Raw("."))
	}
	t := notice.New().Raw("Redacted ").Append(notice.EventLink(roomID, c.Event)).Raw(" (sent by ").User(string(evt.Sender)).
		Raw(" in ").Append(notice.RoomName(m.roomNamed(ctx, roomID))).Raw(")")
	if c.Reason != "" {
		t.Raw(", reason: ").Code(c.Reason)
	}
	return Done(t.Raw("."))
}

// followRedaction follows the redaction task of !redact until it ends
// ("complete" or "failed") or redactWait runs out. It returns the final
// status, or the reply for a task still running or one that could not be
// followed.
func (m *Moderator) followRedaction(ctx context.Context, redactID string) (synapseadmin.RespRedactUserStatus, *Outcome) {
	wait, cancel := context.WithTimeout(ctx, redactWait)
	defer cancel()
	// One event takes Synapse tens of milliseconds: look every 10 ms at
	// first (a status is a cheap read, and the reply waits for it), then
	// less often.
	start := time.Now()
	pause := 10 * time.Millisecond
	for {
		status, err := m.Admin.RedactUserStatus(wait, redactID)
		switch {
		case err == nil && (status.Status == "complete" || status.Status == "failed"):
			return status, nil
		case err != nil && retry.Classify(err) != retry.UnknownOutcome:
			out := Failed("%s", m.explain(err, "the redaction"))
			return status, &out
		}
		if err != nil || retry.Sleep(wait, pause) != nil {
			out := Failed("Synapse is still redacting (task %s); check the event in a moment.", redactID)
			return status, &out
		}
		if time.Since(start) > 300*time.Millisecond {
			pause = min(2*pause, 500*time.Millisecond)
		}
	}
}

// redactionRoom resolves the room a redaction is for, refusing a desk's
// room and, from a community desk, a room outside its scope.
func (m *Moderator) redactionRoom(ctx context.Context, a Actor, ref commands.RoomRef) (id.RoomID, *Outcome) {
	roomID, err := m.resolveRoom(ctx, ref)
	if err != nil {
		out := Failed("%s", err)
		return "", &out
	}
	if refused := m.managementRoom(roomID, string(roomID), "redact there"); refused != nil {
		return "", refused
	}
	return roomID, m.outside(a, roomID, ref.String())
}

// redactUserRooms resolves !redact user's --room, refusing the management
// room, and says in words where the redaction applies.
func (m *Moderator) redactUserRooms(ctx context.Context, a Actor, c commands.RedactUser) ([]id.RoomID, string, *Outcome) {
	if refused := m.protected(c.User); refused != nil {
		return nil, "", refused
	}
	if c.Room.IsZero() && a.community() {
		// In a community desk, "every room" is every room of its scope.
		rooms := m.Desks.ScopeRooms(a.Desk)
		if len(rooms) == 0 {
			out := Failed("Not done: desk %s has no rooms in scope yet. %sdesk refresh reads its spaces.", a.Desk.Label(), m.Prefix)
			return nil, "", &out
		}
		return rooms, "the " + notice.Count(len(rooms), "room", "rooms") + " of desk " + a.Desk.Label(), nil
	}
	if c.Room.IsZero() {
		return []id.RoomID{}, "every room they are in", nil
	}
	roomID, refused := m.redactionRoom(ctx, a, c.Room)
	if refused != nil {
		return nil, "", refused
	}
	// where is kept as text with the task (the reply is edited as it goes).
	return []id.RoomID{roomID}, notice.RoomName(m.roomNamed(ctx, roomID)).Plain(), nil
}

func (m *Moderator) previewRedactUser(ctx context.Context, a Actor, c commands.RedactUser) Outcome {
	_, where, refused := m.redactUserRooms(ctx, a, c)
	if refused != nil {
		return *refused
	}
	rooms := notice.Known{Err: errRemote}
	if c.User.Homeserver() == m.serverName() {
		n, err := m.Admin.JoinedRoomCount(ctx, c.User)
		rooms = notice.Known{N: int64(n), Err: err}
	}
	t := notice.RedactUserPreview(c.User, where, rooms, time.Now().Add(-c.Since), c.Limit)
	return Outcome{Reply: t, OK: true, Result: t.Plain(), Pending: &store.Pending{}}
}

// errRemote stands for what this server cannot count for a remote user.
var errRemote = fmt.Errorf("a remote user's rooms are not counted")

func (m *Moderator) redactUser(ctx context.Context, a Actor, c commands.RedactUser) Outcome {
	rooms, where, refused := m.redactUserRooms(ctx, a, c)
	if refused != nil {
		return *refused
	}
	since := time.Now().Add(-c.Since)
	redactID, err := m.Admin.RedactUser(ctx, c.User, adminapi.RedactRequest{Rooms: rooms, Limit: c.Limit, After: since.UnixMilli()})
	if err != nil {
		return Failed("%s", m.explain(err, "user "+string(c.User)))
	}
	return started(notice.RedactingUser(c.User, where, since, redactID, 0, 0), store.TaskRedactUser, redactID,
		redactParams{User: c.User, Where: where, Since: since.UnixMilli()})
}
