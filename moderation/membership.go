package moderation

import (
	"context"
	"errors"
	"net/http"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/internal/retry"
	"github.com/gavel-bot/gavel/notice"
)

// Kicks and bans are a room member's actions, not an admin's: they go
// through Gavel's own account, which needs the power level in that room.

// membershipChange is kick, ban or unban through Gavel's own account.
type membershipChange func(ctx context.Context, roomID id.RoomID, userID id.UserID, reason string) error

func (m *Moderator) changeMembership(ctx context.Context, a Actor, user id.UserID, ref commands.RoomRef, verb, done string, change membershipChange, reason string) Outcome {
	if refused := m.protected(user); refused != nil {
		return *refused
	}
	roomID, name, err := m.resolveNamed(ctx, ref)
	if err != nil {
		return Failed("%s", err)
	}
	if refused := m.managementRoom(roomID, name, verb+" there"); refused != nil {
		return *refused
	}
	if refused := m.outside(a, roomID, name); refused != nil {
		return *refused
	}
	err = change(ctx, roomID, user, reason)
	room := notice.RoomName(m.roomNamed(ctx, roomID))
	if err != nil {
		return m.membershipFailed(err, verb, user, room)
	}
	t := notice.New().Raw(done + " ").User(string(user)).Raw(" in ").Append(room)
	if reason != "" {
		t.Raw(" (reason: ").Code(reason).Raw(")")
	}
	return Done(t.Raw("."))
}

// membershipFailed words a refused kick, ban or unban: most often Gavel's
// account is not in the room or lacks the power level there.
func (m *Moderator) membershipFailed(err error, verb string, user id.UserID, room *notice.Text) Outcome {
	var httpErr mautrix.HTTPError
	message := "no details"
	if errors.As(err, &httpErr) && httpErr.RespError != nil && httpErr.RespError.Err != "" {
		message = httpErr.RespError.Err
	}
	t := notice.New()
	switch retry.Status(err) {
	case http.StatusForbidden:
		t.Raw("Gavel's account (" + string(m.Matrix.UserID) + ") could not " + verb + " ").User(string(user)).Raw(" in ").Append(room).
			Raw(": it must be in that room with a power level that allows it (Synapse: " + retry.ErrCode(err) + ": ").User(message).
			Raw("). Give it that power level there, or act through the admin API instead: ").Code(m.Prefix + "suspend").Raw(", ").Code(m.Prefix + "room block").Raw(".")
	case 0:
		t.Raw("Synapse did not answer; try again in a moment.")
	default:
		t.Raw("Synapse could not " + verb + " ").User(string(user)).Raw(" in ").Append(room).Raw(" (" + retry.ErrCode(err) + "): ").User(message).Raw(".")
	}
	return NotDone(t)
}

func (m *Moderator) kick(ctx context.Context, a Actor, c commands.Kick) Outcome {
	return m.changeMembership(ctx, a, c.User, c.Room, "kick", "Kicked", func(ctx context.Context, roomID id.RoomID, userID id.UserID, reason string) error {
		_, err := m.Matrix.KickUser(ctx, roomID, &mautrix.ReqKickUser{UserID: userID, Reason: reason})
		return err
	}, c.Reason)
}

func (m *Moderator) ban(ctx context.Context, a Actor, c commands.Ban) Outcome {
	return m.changeMembership(ctx, a, c.User, c.Room, "ban", "Banned", func(ctx context.Context, roomID id.RoomID, userID id.UserID, reason string) error {
		_, err := m.Matrix.BanUser(ctx, roomID, &mautrix.ReqBanUser{UserID: userID, Reason: reason})
		return err
	}, c.Reason)
}

func (m *Moderator) unban(ctx context.Context, a Actor, c commands.Unban) Outcome {
	return m.changeMembership(ctx, a, c.User, c.Room, "unban", "Lifted the ban of", func(ctx context.Context, roomID id.RoomID, userID id.UserID, _ string) error {
		_, err := m.Matrix.UnbanUser(ctx, roomID, &mautrix.ReqUnbanUser{UserID: userID})
		return err
	}, "")
}
