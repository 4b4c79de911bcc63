package adminapi

import (
	"context"
	"net/http"

	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/synapseadmin"

	"github.com/gavel-bot/gavel/internal/mxid"
)

// The calls in this file are mautrix's synapseadmin calls with the input
// validated first and failures returned as *Error.

// RoomInfo returns the admin API's view of a room: name, alias, members,
// creator, encryption and more.
func (c *Client) RoomInfo(ctx context.Context, roomID id.RoomID) (*synapseadmin.RoomInfo, error) {
	if err := mxid.ValidateRoomID(roomID); err != nil {
		return nil, err
	}
	info, err := c.Synapse.RoomInfo(ctx, roomID)
	return info, c.wrap("v1/rooms/{room_id}", err)
}

// DeleteRoomRequest says how to delete a room. Every field is sent:
// mautrix's ReqDeleteRoom leaves out a false purge, which Synapse reads as
// purge: true.
type DeleteRoomRequest struct {
	// Block stops local users from joining the room again.
	Block bool `json:"block"`
	// Purge removes the room's events and state from the database.
	Purge bool `json:"purge"`
	// Message, when set, is posted in a new room that the room's local
	// members are moved to.
	Message string `json:"message,omitempty"`
	// NewRoomUserID creates that room (needed with Message).
	NewRoomUserID id.UserID `json:"new_room_user_id,omitempty"`
}

// DeleteRoom starts deleting a room in the background (delete room API v2):
// local users are removed, and depending on req the room is blocked and
// purged. DeleteRoomStatus follows its progress.
func (c *Client) DeleteRoom(ctx context.Context, roomID id.RoomID, req DeleteRoomRequest) (string, error) {
	if err := mxid.ValidateRoomID(roomID); err != nil {
		return "", err
	}
	if req.NewRoomUserID != "" {
		if err := mxid.ValidateUserID(req.NewRoomUserID); err != nil {
			return "", err
		}
	}
	var resp synapseadmin.RespDeleteRoom
	err := c.call(ctx, http.MethodDelete, c.admin("v2/rooms/{room_id}", nil, roomID), &req, &resp)
	return resp.DeleteID, err
}

// DeleteRoomStatus returns the progress of a deletion that DeleteRoom
// started.
func (c *Client) DeleteRoomStatus(ctx context.Context, deleteID string) (synapseadmin.RespDeleteRoomStatus, error) {
	if err := validateToken("delete id", deleteID); err != nil {
		return synapseadmin.RespDeleteRoomStatus{}, err
	}
	resp, err := c.Synapse.DeleteRoomStatus(ctx, deleteID)
	return resp, c.wrap("v2/rooms/delete_status/{delete_id}", err)
}

// BlockRoom blocks (or with block false, unblocks) a room: local users can
// no longer join it. The room does not need to be known to the server.
func (c *Client) BlockRoom(ctx context.Context, roomID id.RoomID, block bool) error {
	if err := mxid.ValidateRoomID(roomID); err != nil {
		return err
	}
	return c.wrap("v1/rooms/{room_id}/block", c.Synapse.BlockRoom(ctx, roomID, synapseadmin.ReqBlockRoom{Block: block}))
}

// RoomBlockStatus reports whether a room is blocked, and by whom.
func (c *Client) RoomBlockStatus(ctx context.Context, roomID id.RoomID) (synapseadmin.RoomsBlockResponse, error) {
	if err := mxid.ValidateRoomID(roomID); err != nil {
		return synapseadmin.RoomsBlockResponse{}, err
	}
	resp, err := c.Synapse.GetRoomBlockStatus(ctx, roomID)
	return resp, c.wrap("v1/rooms/{room_id}/block", err)
}

// UserInfo returns the admin API's view of a user account.
func (c *Client) UserInfo(ctx context.Context, userID id.UserID) (*synapseadmin.RespUserInfo, error) {
	if err := mxid.ValidateUserID(userID); err != nil {
		return nil, err
	}
	info, err := c.Synapse.GetUserInfo(ctx, userID)
	return info, c.wrap("v2/users/{user_id}", err)
}

// DeactivateAccount deactivates a local account; with erase, Synapse also
// marks it erased (its messages are hidden from new members).
func (c *Client) DeactivateAccount(ctx context.Context, userID id.UserID, erase bool) error {
	if err := mxid.ValidateUserID(userID); err != nil {
		return err
	}
	return c.wrap("v1/deactivate/{user_id}", c.Synapse.DeactivateAccount(ctx, userID, synapseadmin.ReqDeleteUser{Erase: erase}))
}

// SuspendAccount suspends (or with suspend false, unsuspends) a local
// account: a suspended user can read but not send.
func (c *Client) SuspendAccount(ctx context.Context, userID id.UserID, suspend bool) error {
	if err := mxid.ValidateUserID(userID); err != nil {
		return err
	}
	return c.wrap("v1/suspend/{user_id}", c.Synapse.SuspendAccount(ctx, userID, synapseadmin.ReqSuspendUser{Suspend: suspend}))
}

// RedactRequest is the admin API's request to redact a user's events,
// with the time window mautrix's ReqRedactUser leaves out.
type RedactRequest struct {
	// Rooms to redact in; none means every room the user is in.
	Rooms  []id.RoomID `json:"rooms"`
	Reason string      `json:"reason,omitempty"`
	// Limit is how many of the user's newest events Synapse looks at per
	// room (its default: 1000).
	Limit int `json:"limit,omitempty"`
	// UseAdmin redacts as the admin instead of as the (local) user.
	UseAdmin bool `json:"use_admin,omitempty"`
	// After and Before bound the events' origin_server_ts in milliseconds,
	// both inclusive; 0 is no bound.
	After  int64 `json:"after_ts,omitempty"`
	Before int64 `json:"before_ts,omitempty"`
}

// RedactUser starts redacting a user's events in the background: their
// messages, and their joins. RedactUserStatus follows its progress.
func (c *Client) RedactUser(ctx context.Context, userID id.UserID, req RedactRequest) (string, error) {
	if err := mxid.ValidateUserID(userID); err != nil {
		return "", err
	}
	if req.Rooms == nil {
		req.Rooms = []id.RoomID{}
	}
	for _, roomID := range req.Rooms {
		if err := mxid.ValidateRoomID(roomID); err != nil {
			return "", err
		}
	}
	var resp synapseadmin.RespRedactUser
	err := c.call(ctx, http.MethodPost, c.admin("v1/user/{user_id}/redact", nil, userID), &req, &resp)
	return resp.RedactID, err
}

// RedactUserStatus returns the progress of a redaction that RedactUser
// started.
func (c *Client) RedactUserStatus(ctx context.Context, redactID string) (synapseadmin.RespRedactUserStatus, error) {
	if err := validateToken("redaction id", redactID); err != nil {
		return synapseadmin.RespRedactUserStatus{}, err
	}
	resp, err := c.Synapse.RedactUserStatus(ctx, redactID)
	return resp, c.wrap("v1/user/redact_status/{redact_id}", err)
}

// validateToken checks an opaque id that Synapse handed out (a deletion or
// redaction id): letters, digits, "_" and "-" only.
func validateToken(what, token string) error {
	if !id.IsValidMediaID(token) {
		return &InvalidInputError{What: what, Value: token, Reason: "may contain only letters, digits, _ and -"}
	}
	return nil
}
