package moderation

import (
	"context"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/notice"
)

func (m *Moderator) showRoom(ctx context.Context, c commands.ShowRoom) Outcome {
	roomID, err := m.resolveRoom(ctx, c.Room)
	if err != nil {
		return Done(notice.New().User(notice.Capitalize(err.Error()) + "."))
	}
	info, err := m.Admin.RoomInfo(ctx, roomID)
	if err != nil {
		return Done(notice.New().User(notice.Explain(err, "room "+string(roomID))))
	}
	block, err := m.Admin.RoomBlockStatus(ctx, roomID)
	if err != nil {
		return Done(notice.New().User(notice.Explain(err, "room "+string(roomID))))
	}
	// Synapse matches room_id as a substring; a whole room id matches
	// only its own room.
	return Done(notice.RoomGlance(info, block, m.openReports(ctx, adminapi.EventReportsQuery{RoomID: roomID})))
}

// setBlock blocks or unblocks a room, saying so when it already was.
func (m *Moderator) setBlock(ctx context.Context, ref commands.RoomRef, block bool) Outcome {
	roomID, err := m.resolveRoom(ctx, ref)
	if err != nil {
		return Failed("%s", err)
	}
	name := ref.String()
	if ref.Alias != "" {
		name += " (" + string(roomID) + ")"
	}
	// An alias can read "@room": it is shown inert.
	if block && roomID == m.ManagementRoom {
		t := sentence("Not done: %s is the management room. Gavel does not block it.", name)
		return Outcome{Reply: t, Result: t.Plain()}
	}
	status, err := m.Admin.RoomBlockStatus(ctx, roomID)
	if err != nil {
		return Failed("%s", notice.Explain(err, "room "+string(roomID)))
	}
	switch {
	case block && status.Block:
		return Done(sentence("%s is already blocked (by "+string(status.UserID)+").", name))
	case !block && !status.Block:
		return Done(sentence("%s is not blocked.", name))
	}
	if err := m.Admin.BlockRoom(ctx, roomID, block); err != nil {
		return Failed("%s", notice.Explain(err, "room "+string(roomID)))
	}
	if !block {
		return Done(sentence("Unblocked %s.", name))
	}
	return Done(sentence("Blocked %s: local users can no longer join it. ", name).
		Code(m.Prefix + "room unblock " + ref.String()).Raw(" undoes it."))
}

func (m *Moderator) blockRoom(ctx context.Context, c commands.BlockRoom) Outcome {
	return m.setBlock(ctx, c.Room, true)
}

func (m *Moderator) unblockRoom(ctx context.Context, c commands.UnblockRoom) Outcome {
	return m.setBlock(ctx, c.Room, false)
}
