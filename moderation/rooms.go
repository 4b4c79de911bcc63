package moderation

import (
	"context"

	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/synapseadmin"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/store"
)

func (m *Moderator) showRoom(ctx context.Context, a Actor, c commands.ShowRoom) Outcome {
	roomID, err := m.resolveRoom(ctx, c.Room)
	if err != nil {
		return Done(notice.New().User(notice.Capitalize(err.Error()) + "."))
	}
	if refused := m.outside(a, roomID, c.Room.String()); refused != nil {
		return *refused
	}
	info, err := m.Admin.RoomInfo(ctx, roomID)
	if err != nil {
		return Done(notice.New().User(m.explain(err, "room "+string(roomID))))
	}
	block, err := m.Admin.RoomBlockStatus(ctx, roomID)
	if err != nil {
		return Done(notice.New().User(m.explain(err, "room "+string(roomID))))
	}
	// Synapse matches room_id as a substring; a whole room id matches
	// only its own room.
	return Done(notice.RoomGlance(info, block, m.openReports(ctx, adminapi.EventReportsQuery{RoomID: roomID})))
}

// setBlock blocks or unblocks a room, saying so when it already was.
func (m *Moderator) setBlock(ctx context.Context, ref commands.RoomRef, block bool) Outcome {
	roomID, name, err := m.resolveNamed(ctx, ref)
	if err != nil {
		return Failed("%s", err)
	}
	if block {
		if refused := m.managementRoom(roomID, name, "block it"); refused != nil {
			return *refused
		}
	}
	status, err := m.Admin.RoomBlockStatus(ctx, roomID)
	if err != nil {
		return Failed("%s", m.explain(err, "room "+string(roomID)))
	}
	room := m.roomNamed(ctx, roomID)
	switch {
	case block && status.Block:
		return Done(roomSentence("%s is already blocked (by "+string(status.UserID)+").", room))
	case !block && !status.Block:
		return Done(roomSentence("%s is not blocked.", room))
	}
	if err := m.Admin.BlockRoom(ctx, roomID, block); err != nil {
		return Failed("%s", m.explain(err, "room "+string(roomID)))
	}
	if !block {
		return Done(roomSentence("Unblocked %s.", room))
	}
	return Done(roomSentence("Blocked %s: local users can no longer join it. ", room).
		Code(m.Prefix + "room unblock " + ref.String()).Raw(" undoes it."))
}

func (m *Moderator) blockRoom(ctx context.Context, c commands.BlockRoom) Outcome {
	return m.setBlock(ctx, c.Room, true)
}

func (m *Moderator) unblockRoom(ctx context.Context, c commands.UnblockRoom) Outcome {
	return m.setBlock(ctx, c.Room, false)
}

// checkDeleteRoom refuses the management room and unknown rooms, and
// returns the room's id and details.
func (m *Moderator) checkDeleteRoom(ctx context.Context, ref commands.RoomRef) (id.RoomID, *synapseadmin.RoomInfo, *Outcome) {
	roomID, err := m.resolveRoom(ctx, ref)
	if err != nil {
		out := Failed("%s", err)
		return "", nil, &out
	}
	if refused := m.managementRoom(roomID, ref.String(), "delete it"); refused != nil {
		return "", nil, refused
	}
	info, err := m.Admin.RoomInfo(ctx, roomID)
	if err != nil {
		out := Failed("%s", m.explain(err, "room "+string(roomID)))
		return "", nil, &out
	}
	return roomID, info, nil
}

func (m *Moderator) previewDeleteRoom(ctx context.Context, c commands.DeleteRoom) Outcome {
	roomID, info, refused := m.checkDeleteRoom(ctx, c.Room)
	if refused != nil {
		return *refused
	}
	open := m.openReports(ctx, adminapi.EventReportsQuery{RoomID: roomID})
	t := notice.DeleteRoomPreview(info, open, c.Block, c.Purge, c.Message != "")
	return Outcome{Reply: t, OK: true, Result: t.Plain(), Pending: &store.Pending{}}
}

func (m *Moderator) deleteRoom(ctx context.Context, c commands.DeleteRoom) Outcome {
	roomID, info, refused := m.checkDeleteRoom(ctx, c.Room)
	if refused != nil {
		return *refused
	}
	req := adminapi.DeleteRoomRequest{Block: c.Block, Purge: c.Purge, Message: c.Message}
	if c.Message != "" {
		// Synapse posts the message in a new room that this account
		// creates; without one it posts nothing.
		req.NewRoomUserID = m.Matrix.UserID
	}
	deleteID, err := m.Admin.DeleteRoom(ctx, roomID, req)
	if err != nil {
		return Failed("%s", m.explain(err, "room "+string(roomID)))
	}
	room := notice.RoomOf(info)
	return started(notice.DeletingRoom(room, deleteID, "", 0), store.TaskDeleteRoom, deleteID,
		deleteParams{Room: roomID, Name: room.Name, Alias: room.Alias, Block: c.Block, Purge: c.Purge})
}
