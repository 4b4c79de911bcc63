package adminapi

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/mxid"
)

// Bool is a boolean that Synapse may send as true/false, 0/1 (SQLite stores
// booleans as integers) or null (false).
type Bool bool

// UnmarshalJSON accepts true, false, 0, 1 and null.
func (b *Bool) UnmarshalJSON(data []byte) error {
	switch string(bytes.TrimSpace(data)) {
	case "true", "1":
		*b = true
	case "false", "0", "null":
		*b = false
	default:
		return fmt.Errorf("adminapi: cannot read %s as a boolean", data)
	}
	return nil
}

// MediaInfo describes one media item as Synapse stores it.
type MediaInfo struct {
	// MediaOrigin is the server a remote item came from; empty for local media.
	MediaOrigin string `json:"media_origin"`
	// UserID is the local uploader; empty for remote media.
	UserID       id.UserID `json:"user_id"`
	MediaID      string    `json:"media_id"`
	MediaType    string    `json:"media_type"`
	MediaLength  int64     `json:"media_length"`
	UploadName   string    `json:"upload_name"`
	CreatedTS    int64     `json:"created_ts"`
	LastAccessTS int64     `json:"last_access_ts"`
	// QuarantinedBy is the admin who quarantined the item, or empty.
	QuarantinedBy id.UserID `json:"quarantined_by"`
	// SafeFromQuarantine is true for protected local media.
	SafeFromQuarantine Bool   `json:"safe_from_quarantine"`
	Authenticated      Bool   `json:"authenticated"`
	SHA256             string `json:"sha256"`
}

// Quarantined reports whether the item is quarantined.
func (m *MediaInfo) Quarantined() bool { return m.QuarantinedBy != "" }

// Created returns CreatedTS as a time.
func (m *MediaInfo) Created() time.Time { return time.UnixMilli(m.CreatedTS) }

// MediaInfo returns what Synapse knows about a local or cached remote media
// item; an unknown item is a not-found error (IsNotFound).
func (c *Client) MediaInfo(ctx context.Context, uri id.ContentURI) (*MediaInfo, error) {
	if err := mxid.ValidateContentURI(uri); err != nil {
		return nil, err
	}
	var resp struct {
		MediaInfo MediaInfo `json:"media_info"`
	}
	if err := c.get(ctx, c.admin("v1/media/{server}/{media_id}", nil, uri.Homeserver, uri.FileID), &resp); err != nil {
		return nil, err
	}
	return &resp.MediaInfo, nil
}

// QuarantineMedia quarantines one media item so that nobody can download it
// from this server; Synapse also quarantines other items with the same
// content, and leaves protected items alone. Synapse reports success even
// for ids it does not know, so this first asks for the item's info: an
// unknown item returns that not-found error and quarantines nothing. It
// returns the item's info as it was before the change.
func (c *Client) QuarantineMedia(ctx context.Context, uri id.ContentURI) (*MediaInfo, error) {
	return c.changeMedia(ctx, uri, "v1/media/quarantine/{server}/{media_id}", uri.Homeserver, uri.FileID)
}

// UnquarantineMedia lifts the quarantine of one media item, checking first,
// like QuarantineMedia, that Synapse knows it. It returns the item's info as
// it was before the change.
func (c *Client) UnquarantineMedia(ctx context.Context, uri id.ContentURI) (*MediaInfo, error) {
	return c.changeMedia(ctx, uri, "v1/media/unquarantine/{server}/{media_id}", uri.Homeserver, uri.FileID)
}

// ProtectMedia marks a local media item as safe from quarantine; the
// quarantine calls for a room or a user then skip it. Remote media cannot be
// protected. It returns the item's info as it was before the change.
func (c *Client) ProtectMedia(ctx context.Context, uri id.ContentURI) (*MediaInfo, error) {
	return c.changeMedia(ctx, uri, "v1/media/protect/{media_id}", uri.FileID)
}

// UnprotectMedia removes the protection that ProtectMedia gave.
func (c *Client) UnprotectMedia(ctx context.Context, uri id.ContentURI) (*MediaInfo, error) {
	return c.changeMedia(ctx, uri, "v1/media/unprotect/{media_id}", uri.FileID)
}

// changeMedia checks that Synapse knows uri, then POSTs route (under
// /_synapse/admin/, "v1/media/<action>/…") with values.
func (c *Client) changeMedia(ctx context.Context, uri id.ContentURI, route string, values ...any) (*MediaInfo, error) {
	info, err := c.MediaInfo(ctx, uri)
	if err != nil {
		return nil, err
	}
	local := strings.HasPrefix(route, "v1/media/protect/") || strings.HasPrefix(route, "v1/media/unprotect/")
	if local && info.MediaOrigin != "" {
		return nil, &InvalidInputError{What: "mxc URI", Value: uri.String(), Reason: "is remote media; only media uploaded to this server can be protected"}
	}
	if err := c.post(ctx, c.admin(route, nil, values...), nil); err != nil {
		return nil, err
	}
	return info, nil
}

type respNumQuarantined struct {
	NumQuarantined int `json:"num_quarantined"`
}

// QuarantineRoomMedia quarantines all media referenced by unencrypted
// events in a room, local and remote, except protected items. It returns
// Synapse's count of the items it marked, which includes items that were
// quarantined already.
func (c *Client) QuarantineRoomMedia(ctx context.Context, roomID id.RoomID) (int, error) {
	if err := mxid.ValidateRoomID(roomID); err != nil {
		return 0, err
	}
	var resp respNumQuarantined
	err := c.post(ctx, c.admin("v1/room/{room_id}/media/quarantine", nil, roomID), &resp)
	return resp.NumQuarantined, err
}

// QuarantineUserMedia quarantines all media a local user uploaded, except
// protected items. It returns the number of items newly quarantined: items
// quarantined already are not counted again.
func (c *Client) QuarantineUserMedia(ctx context.Context, userID id.UserID) (int, error) {
	if err := mxid.ValidateUserID(userID); err != nil {
		return 0, err
	}
	var resp respNumQuarantined
	err := c.post(ctx, c.admin("v1/user/{user_id}/media/quarantine", nil, userID), &resp)
	return resp.NumQuarantined, err
}

// RoomMedia lists the media referenced by a room's unencrypted events.
type RoomMedia struct {
	// Local is media uploaded to this server.
	Local []id.ContentURI `json:"local"`
	// Remote is media from other servers.
	Remote []id.ContentURI `json:"remote"`
}

// RoomMedia lists the media referenced by a room's unencrypted events.
func (c *Client) RoomMedia(ctx context.Context, roomID id.RoomID) (*RoomMedia, error) {
	if err := mxid.ValidateRoomID(roomID); err != nil {
		return nil, err
	}
	var resp RoomMedia
	if err := c.get(ctx, c.admin("v1/room/{room_id}/media", nil, roomID), &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// UserMediaQuery selects a local user's media to list.
type UserMediaQuery struct {
	PageQuery
	// OrderBy is one of Synapse's media sort orders ("created_ts",
	// "media_length", "upload_name", ...); empty leaves it to Synapse, which
	// lists newest first when Dir is also unset.
	OrderBy string
}

type respUserMedia struct {
	Media     []MediaInfo `json:"media"`
	NextToken *int64      `json:"next_token"`
	Total     int64       `json:"total"`
}

// ListUserMedia returns one page of the media a local user uploaded.
func (c *Client) ListUserMedia(ctx context.Context, userID id.UserID, q UserMediaQuery) (*Page[MediaInfo], error) {
	if err := mxid.ValidateUserID(userID); err != nil {
		return nil, err
	}
	if err := q.validate(); err != nil {
		return nil, err
	}
	if q.OrderBy != "" && !isSortKey(q.OrderBy) {
		return nil, &InvalidInputError{What: "sort order", Value: q.OrderBy, Reason: "may contain only lowercase letters and _"}
	}
	v := q.values()
	setIfNotEmpty(v, "order_by", q.OrderBy)
	var resp respUserMedia
	if err := c.get(ctx, c.admin("v1/users/{user_id}/media", v, userID), &resp); err != nil {
		return nil, err
	}
	return &Page[MediaInfo]{Items: resp.Media, NextToken: resp.NextToken, Total: resp.Total}, nil
}

// UserMedia iterates over all media a local user uploaded, like EventReports.
func (c *Client) UserMedia(ctx context.Context, userID id.UserID, q UserMediaQuery) iter.Seq2[MediaInfo, error] {
	return paginate(ctx, q.From, func(m MediaInfo) string { return m.MediaID },
		func(ctx context.Context, from int64) (*Page[MediaInfo], error) {
			q.From = from
			return c.ListUserMedia(ctx, userID, q)
		})
}

func isSortKey(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] < 'a' || s[i] > 'z') && s[i] != '_' {
			return false
		}
	}
	return true
}
