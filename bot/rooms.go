package bot

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/desk"
	"github.com/gavel-bot/gavel/internal/retry"
)

// deskRoom is what the session knows of one desk's room: whether Gavel is
// in it, whether it is encrypted, and its power levels.
type deskRoom struct {
	desk      *desk.Desk
	joined    atomic.Bool
	encrypted atomic.Bool
	// joinedAt is when Gavel joined the room in this run, zero when it
	// was in it already: messages older than that are the room's history,
	// not commands (see dropBeforeJoin).
	joinedAt atomic.Int64

	mu          sync.Mutex
	powerLevels *event.PowerLevelsEventContent
	createEvent *event.Event // for room v12 creators
}

// deskRooms makes the rooms of every desk, the server desk's first.
func deskRooms(ds *desk.Desks) map[id.RoomID]*deskRoom {
	rooms := make(map[id.RoomID]*deskRoom, len(ds.All()))
	for _, d := range ds.All() {
		rooms[d.Room] = &deskRoom{desk: d}
	}
	return rooms
}

// room returns the desk room roomID, or nil when it is no desk's.
func (b *Bot) room(roomID id.RoomID) *deskRoom { return b.rooms[roomID] }

// serverRoom is the server desk's room (matrix.management_room).
func (b *Bot) serverRoom() *deskRoom { return b.rooms[b.desks.Server().Room] }

// joinDesks joins each community desk's room and reads whether it is
// encrypted. A desk Gavel cannot join does not stop Gavel: its cards wait
// in the outbox, and the log and !status say why.
func (b *Bot) joinDesks(ctx context.Context) {
	if len(b.desks.All()) == 1 {
		return
	}
	in := map[id.RoomID]bool{}
	if joined, err := b.client.JoinedRooms(ctx); err == nil {
		for _, room := range joined.JoinedRooms {
			in[room] = true
		}
	}
	for _, d := range b.desks.All()[1:] {
		r := b.room(d.Room)
		if !in[d.Room] {
			r.joinedAt.Store(time.Now().UnixMilli())
		}
		if _, err := b.client.JoinRoomByID(ctx, d.Room); err != nil {
			b.log.Error().Err(err).Str("desk", d.Name).Stringer("room_id", d.Room).
				Msgf("Cannot join desk %s's room: invite %s to it; its cards wait in the outbox meanwhile", d.Name, b.cfg.Matrix.UserID)
			continue
		}
		r.joined.Store(true)
		var encryption event.EncryptionEventContent
		err := b.client.StateEvent(ctx, d.Room, event.StateEncryption, "", &encryption)
		switch {
		case err == nil:
			if b.crypto == nil {
				b.log.Error().Str("desk", d.Name).Msg("Desk room is end-to-end encrypted, and encryption.pickle_key is empty: Gavel posts nothing there and runs no command until the key is set")
			}
			b.markEncrypted(ctx, r, &encryption)
		case retry.Status(err) != http.StatusNotFound:
			b.log.Warn().Err(err).Str("desk", d.Name).Msg("Could not read whether the desk's room is encrypted")
		}
	}
}

// onPowerLevels keeps a desk room's power levels.
func (b *Bot) onPowerLevels(ctx context.Context, evt *event.Event) {
	r := b.room(evt.RoomID)
	// Invites carry stripped state that the inviting server vouches for,
	// not the room: only the joined room's own state counts.
	if r == nil || evt.Mautrix.EventSource&event.SourceInvite != 0 {
		return
	}
	if pl, ok := evt.Content.Parsed.(*event.PowerLevelsEventContent); ok {
		r.mu.Lock()
		r.powerLevels = pl
		r.mu.Unlock()
	}
}

// forgetPowerLevels drops a room's power levels, to read them again.
func (b *Bot) forgetPowerLevels(roomID id.RoomID) {
	if r := b.room(roomID); r != nil {
		r.mu.Lock()
		r.powerLevels = nil
		r.mu.Unlock()
	}
}

// powerLevel returns a user's power level in a desk's room, from the
// cached power levels or, the first time, from the homeserver. The room's
// create event comes along: in room version 12 and later its creators
// outrank every level.
func (b *Bot) powerLevel(ctx context.Context, roomID id.RoomID, userID id.UserID) (int, error) {
	r := b.room(roomID)
	if r == nil {
		return 0, errNotDesk
	}
	r.mu.Lock()
	create, pl := r.createEvent, r.powerLevels
	r.mu.Unlock()
	if create == nil {
		var err error
		if create, err = b.client.FullStateEvent(ctx, roomID, event.StateCreate, ""); err != nil {
			return 0, err
		}
	}
	if pl == nil {
		pl = &event.PowerLevelsEventContent{}
		if err := b.client.StateEvent(ctx, roomID, event.StatePowerLevels, "", pl); err != nil {
			return 0, err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.createEvent = create
	if r.powerLevels == nil {
		r.powerLevels = pl
	}
	r.powerLevels.CreateEvent = create
	return r.powerLevels.GetUserLevel(userID), nil
}

// errNotDesk is a power level asked of a room that is no desk's: a
// programming error, never a moderator's.
var errNotDesk = errors.New("not a desk's room")

// onMember joins a desk's room when invited back into it, and says so
// when the bot is removed. Invites to other rooms never reach here: the
// sync filter covers only the desks' rooms.
func (b *Bot) onMember(ctx context.Context, evt *event.Event) {
	r := b.room(evt.RoomID)
	if r == nil || evt.GetStateKey() != string(b.client.UserID) {
		return
	}
	where := "the management room"
	if !r.desk.IsServer() {
		where = "desk " + r.desk.Name + "'s room"
	}
	switch membership := evt.Content.AsMember().Membership; {
	case membership == event.MembershipInvite && evt.Mautrix.EventSource&event.SourceInvite != 0:
		// A pending invite (not an old invite event in the joined room's
		// timeline).
		r.joinedAt.Store(time.Now().UnixMilli())
		if _, err := b.client.JoinRoomByID(ctx, evt.RoomID); err != nil {
			b.log.Error().Err(err).Msg("Invited back into " + where + ", but joining failed")
		} else {
			r.joined.Store(true)
			b.log.Info().Stringer("by", evt.Sender).Msg("Invited back into " + where + "; joined")
		}
	case membership == event.MembershipJoin && evt.Mautrix.EventSource&event.SourceJoin != 0:
		r.joined.Store(true)
	case membership == event.MembershipLeave || membership == event.MembershipBan:
		r.joined.Store(false)
		b.log.Error().Stringer("by", evt.Sender).Msg("Removed from " + where + ": its messages wait in the outbox until the bot is invited back")
	}
}

// deskJoined reports whether Gavel is in desk room roomID.
func (b *Bot) deskJoined(roomID id.RoomID) bool {
	r := b.room(roomID)
	return r != nil && r.joined.Load()
}

// deskEncrypted says whether a desk's room is encrypted (an image posted
// there must be an encrypted attachment); true for a room that is not a
// desk's.
func (b *Bot) deskEncrypted(roomID id.RoomID) bool {
	r := b.room(roomID)
	return r == nil || r.encrypted.Load()
}

// dropBeforeJoin removes, from a sync, the messages of desk rooms that
// Gavel joined in this run sent before it joined: the room's history,
// which the first sync after a join brings, is not commands to run.
func (b *Bot) dropBeforeJoin(resp *mautrix.RespSync) {
	for roomID, room := range resp.Rooms.Join {
		r := b.room(roomID)
		if r == nil || r.joinedAt.Load() == 0 {
			continue
		}
		joined := r.joinedAt.Load()
		kept := room.Timeline.Events[:0]
		for _, evt := range room.Timeline.Events {
			isMessage := evt.Type == event.EventMessage || evt.Type == event.EventReaction || evt.Type == event.EventEncrypted
			if isMessage && evt.Timestamp < joined {
				continue
			}
			kept = append(kept, evt)
		}
		room.Timeline.Events = kept
	}
}

// notJoined names the community desks whose room Gavel is not in, for
// /readyz.
func (b *Bot) notJoined() []string {
	var out []string
	for _, d := range b.desks.All()[1:] {
		if !b.room(d.Room).joined.Load() {
			out = append(out, d.Label())
		}
	}
	return out
}
