package adminapi

import (
	"context"
	"net/http"
	"time"

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
	if err := c.get(ctx, c.adminURL(nil, "v2", "users", userID), &acc); err != nil {
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
	err := c.get(ctx, c.adminURL(nil, "v1", "users", userID, "joined_rooms"), &resp)
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
	return c.call(ctx, http.MethodPut, c.adminURL(nil, "v2", "users", userID), map[string]bool{"locked": locked}, nil)
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
	return c.call(ctx, method, c.adminURL(nil, "v1", "users", userID, "shadow_ban"), struct{}{}, nil)
}
