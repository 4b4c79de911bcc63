package adminapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/mxid"
)

// Account is the admin API's view of a local account, with the
// moderation states mautrix's RespUserInfo leaves out (locked,
// suspended).
type Account struct {
	UserID       id.UserID `json:"name"`
	DisplayName  string    `json:"displayname"`
	Admin        Bool      `json:"admin"`
	Deactivated  Bool      `json:"deactivated"`
	Erased       Bool      `json:"erased"`
	Locked       Bool      `json:"locked"`
	Suspended    Bool      `json:"suspended"`
	ShadowBanned Bool      `json:"shadow_banned"`
	// CreationTS is when the account was created, in seconds (not
	// milliseconds, unlike report times).
	CreationTS int64 `json:"creation_ts"`
}

// Created returns CreationTS as a time.
func (a *Account) Created() time.Time { return time.Unix(a.CreationTS, 0) }

// Account returns a local account. An unknown user is a not-found error
// (IsNotFound).
func (c *Client) Account(ctx context.Context, userID id.UserID) (*Account, error) {
	if err := mxid.ValidateUserID(userID); err != nil {
		return nil, err
	}
	var acc Account
	if err := c.get(ctx, c.admin("v2/users/{user_id}", nil, userID), &acc); err != nil {
		return nil, err
	}
	return &acc, nil
}

// JoinedRoomCount returns how many rooms a local user is in.
func (c *Client) JoinedRoomCount(ctx context.Context, userID id.UserID) (int, error) {
	if err := mxid.ValidateUserID(userID); err != nil {
		return 0, err
	}
	var resp struct {
		Total int `json:"total"`
	}
	err := c.get(ctx, c.admin("v1/users/{user_id}/joined_rooms", nil, userID), &resp)
	return resp.Total, err
}

// LockAccount locks (or with locked false, unlocks) a local account: a
// locked user is logged out of every client and cannot log in. The
// endpoint behind it also creates accounts, so this first checks that the
// account exists: an unknown user is a not-found error and nothing is
// created.
func (c *Client) LockAccount(ctx context.Context, userID id.UserID, locked bool) error {
	if _, err := c.Account(ctx, userID); err != nil {
		return err
	}
	return c.call(ctx, http.MethodPut, c.admin("v2/users/{user_id}", nil, userID), map[string]bool{"locked": locked}, nil)
}

// ShadowBan shadow-bans (or with banned false, lifts the shadow-ban of) a
// local user: their messages seem to go through but reach nobody.
func (c *Client) ShadowBan(ctx context.Context, userID id.UserID, banned bool) error {
	if err := mxid.ValidateUserID(userID); err != nil {
		return err
	}
	method := http.MethodPost
	if !banned {
		method = http.MethodDelete
	}
	return c.call(ctx, method, c.admin("v1/users/{user_id}/shadow_ban", nil, userID), struct{}{}, nil)
}

// RoomEvent returns an event of a room as clients see it (redacted when
// it was), whoever may see it, from the room context API. An event that
// is unknown, or not in that room, is a not-found error.
func (c *Client) RoomEvent(ctx context.Context, roomID id.RoomID, eventID id.EventID) (*event.Event, error) {
	if err := mxid.ValidateRoomID(roomID); err != nil {
		return nil, err
	}
	if err := mxid.ValidateEventID(eventID); err != nil {
		return nil, err
	}
	// No events around it, and only the members it needs of the state
	// that comes along.
	q := url.Values{"limit": {"0"}, "filter": {`{"lazy_load_members":true}`}}
	var resp struct {
		Event json.RawMessage `json:"event"`
	}
	if err := c.get(ctx, c.admin("v1/rooms/{room_id}/context/{event_id}", q, roomID, eventID), &resp); err != nil {
		return nil, err
	}
	evt := parseEvent(resp.Event, eventID)
	if evt == nil {
		return nil, fmt.Errorf("adminapi: Synapse's answer for event %s holds no event", eventID)
	}
	return evt, nil
}

// EventContext returns the messages around an event of a room, as the
// room context API gives them: up to n before it (newest first) and n
// after it (oldest first). Only messages (m.room.message, m.sticker,
// m.room.encrypted) are counted and returned.
func (c *Client) EventContext(ctx context.Context, roomID id.RoomID, eventID id.EventID, n int) (before, after []*event.Event, err error) {
	if err := mxid.ValidateRoomID(roomID); err != nil {
		return nil, nil, err
	}
	if err := mxid.ValidateEventID(eventID); err != nil {
		return nil, nil, err
	}
	// Synapse splits limit in two halves, before and after.
	q := url.Values{"limit": {fmt.Sprint(2 * n)},
		"filter": {`{"lazy_load_members":true,"types":["m.room.message","m.sticker","m.room.encrypted"]}`}}
	var resp struct {
		Before []json.RawMessage `json:"events_before"`
		After  []json.RawMessage `json:"events_after"`
	}
	if err := c.get(ctx, c.admin("v1/rooms/{room_id}/context/{event_id}", q, roomID, eventID), &resp); err != nil {
		return nil, nil, err
	}
	parse := func(raw []json.RawMessage) []*event.Event {
		var out []*event.Event
		for _, r := range raw {
			if evt := parseEvent(r, ""); evt != nil && len(out) < n {
				out = append(out, evt)
			}
		}
		return out
	}
	return parse(resp.Before), parse(resp.After), nil
}
