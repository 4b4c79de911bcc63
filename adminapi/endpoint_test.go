package adminapi

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"
)

// TestEveryRequestHasAnEndpoint: every call of the client, failing, tells
// OnError once, and Endpoint names its route with a template, never
// "other" and never with an id, a server name or the token in it.
func TestEveryRequestHasAnEndpoint(t *testing.T) {
	var accountExists atomic.Bool
	c, _ := newFake(t, func(r request) (int, string) {
		switch {
		case strings.HasSuffix(r.Path, "/account/whoami"):
			return http.StatusOK, `{"user_id": "@admin:example.org"}`
		case r.Method == http.MethodGet && strings.HasPrefix(r.Path, "/_synapse/admin/v1/media/"):
			return http.StatusOK, `{"media_info": {}}` // the check before a media action
		case accountExists.Load() && r.Method == http.MethodGet && strings.HasPrefix(r.Path, "/_synapse/admin/v2/users/"):
			return http.StatusOK, `{"name": "@spam:example.org"}` // the check before a lock
		}
		return http.StatusInternalServerError, `{"errcode": "M_UNKNOWN", "error": "broken"}`
	})
	var failed []*Error
	c.OnError = func(e *Error) { failed = append(failed, e) }
	ctx := context.Background()
	user, room, evt := id.UserID("@spam:example.org"), id.RoomID("!room:example.org"), id.EventID("$evt:example.org")
	media := id.ContentURI{Homeserver: "example.org", FileID: "abcdef"}
	calls := map[string]func() error{
		"GET /_synapse/admin/v2/users/{user_id}":              func() error { _, err := c.Account(ctx, user); return err },
		"GET /_synapse/admin/v1/users/{user_id}/joined_rooms": func() error { _, err := c.JoinedRoomCount(ctx, user); return err },
		"PUT /_synapse/admin/v2/users/{user_id}": func() error {
			accountExists.Store(true)
			defer accountExists.Store(false)
			return c.LockAccount(ctx, user, true)
		},
		"POST /_synapse/admin/v1/users/{user_id}/shadow_ban":   func() error { return c.ShadowBan(ctx, user, true) },
		"DELETE /_synapse/admin/v1/users/{user_id}/shadow_ban": func() error { return c.ShadowBan(ctx, user, false) },
		"GET /_synapse/admin/v1/rooms/{room_id}/context/{event_id}": func() error {
			_, err := c.RoomEvent(ctx, room, evt)
			return err
		},
		"POST /_synapse/admin/v1/media/quarantine/{server}/{media_id}": func() error {
			_, err := c.QuarantineMedia(ctx, media)
			return err
		},
		"POST /_synapse/admin/v1/media/unquarantine/{server}/{media_id}": func() error {
			_, err := c.UnquarantineMedia(ctx, media)
			return err
		},
		"POST /_synapse/admin/v1/media/protect/{media_id}":        func() error { _, err := c.ProtectMedia(ctx, media); return err },
		"POST /_synapse/admin/v1/media/unprotect/{media_id}":      func() error { _, err := c.UnprotectMedia(ctx, media); return err },
		"POST /_synapse/admin/v1/room/{room_id}/media/quarantine": func() error { _, err := c.QuarantineRoomMedia(ctx, room); return err },
		"POST /_synapse/admin/v1/user/{user_id}/media/quarantine": func() error { _, err := c.QuarantineUserMedia(ctx, user); return err },
		"GET /_synapse/admin/v1/room/{room_id}/media":             func() error { _, err := c.RoomMedia(ctx, room); return err },
		"GET /_synapse/admin/v1/users/{user_id}/media": func() error {
			_, err := c.ListUserMedia(ctx, user, UserMediaQuery{})
			return err
		},
		"GET /_synapse/admin/v1/event_reports": func() error {
			_, err := c.ListEventReports(ctx, EventReportsQuery{})
			return err
		},
		"GET /_synapse/admin/v1/event_reports/{report_id}":    func() error { _, err := c.EventReport(ctx, 12); return err },
		"DELETE /_synapse/admin/v1/event_reports/{report_id}": func() error { return c.DeleteEventReport(ctx, 12) },
		"PUT /_synapse/admin/v1/send_server_notice/{txn_id}": func() error {
			_, err := c.SendServerNotice(ctx, user, "hello", "txn1")
			return err
		},
		"POST /_synapse/admin/v1/send_server_notice":      func() error { _, err := c.ServerNoticesEnabled(ctx, "example.org"); return err },
		"GET /_synapse/admin/v1/room_reports":             func() error { _, err := c.ListRoomReports(ctx, PageQuery{}); return err },
		"GET /_synapse/admin/v1/room_reports/{report_id}": func() error { _, err := c.RoomReport(ctx, 12); return err },
		"GET /_synapse/admin/v1/rooms/{room_id}":          func() error { _, err := c.RoomInfo(ctx, room); return err },
		"GET /_synapse/admin/v1/rooms/{room_id}/hierarchy": func() error {
			_, err := c.SpaceRooms(ctx, room, nil)
			return err
		},
		"DELETE /_synapse/admin/v2/rooms/{room_id}": func() error {
			_, err := c.DeleteRoom(ctx, room, DeleteRoomRequest{})
			return err
		},
		"GET /_synapse/admin/v2/rooms/delete_status/{delete_id}": func() error { _, err := c.DeleteRoomStatus(ctx, "abcdef"); return err },
		"PUT /_synapse/admin/v1/rooms/{room_id}/block":           func() error { return c.BlockRoom(ctx, room, true) },
		"GET /_synapse/admin/v1/rooms/{room_id}/block":           func() error { _, err := c.RoomBlockStatus(ctx, room); return err },
		"POST /_synapse/admin/v1/deactivate/{user_id}":           func() error { return c.DeactivateAccount(ctx, user, false) },
		"PUT /_synapse/admin/v1/suspend/{user_id}":               func() error { return c.SuspendAccount(ctx, user, true) },
		"POST /_synapse/admin/v1/user/{user_id}/redact": func() error {
			_, err := c.RedactUser(ctx, user, RedactRequest{})
			return err
		},
		"GET /_synapse/admin/v1/user/redact_status/{redact_id}": func() error { _, err := c.RedactUserStatus(ctx, "abcdef"); return err },
		"GET /_synapse/admin/v1/server_version":                 func() error { _, err := c.ServerVersion(ctx); return err },
		"GET /_synapse/admin/v1/users/{user_id}/admin":          func() error { _, _, err := c.IsServerAdmin(ctx); return err },
		"GET /_synapse/admin/v1/user_reports": func() error {
			_, err := c.ListUserReports(ctx, UserReportsQuery{})
			return err
		},
		"GET /_synapse/admin/v1/user_reports/{report_id}":    func() error { _, err := c.UserReport(ctx, 12); return err },
		"DELETE /_synapse/admin/v1/user_reports/{report_id}": func() error { return c.DeleteUserReport(ctx, 12) },
	}
	for want, call := range calls {
		failed = nil
		require.Error(t, call(), want)
		require.Len(t, failed, 1, "%s: OnError once for the failed request", want)
		e := failed[0]
		assert.Equal(t, "M_UNKNOWN", e.ErrCode, want)
		got := e.Endpoint()
		assert.Equal(t, want, got, "the endpoint of %s %s", e.Method, e.Path)
		for _, leak := range []string{"example.org", "spam", "room", "evt", "abcdef", "12", "txn1", "secret-token"} {
			if strings.Contains(got, leak) && !strings.Contains(want, leak) {
				t.Errorf("endpoint %q holds %q", got, leak)
			}
		}
	}
}

// TestEndpointWithoutIDs: an error names its request by the route it was
// built from, never by its path: a request without a route is "other",
// odd methods are "OTHER", and a homeserver URL's own path prefix and the
// escaped ids stay in the path only.
func TestEndpointWithoutIDs(t *testing.T) {
	assert.Equal(t, "GET other", (&Error{Method: http.MethodGet, Path: "/_synapse/admin/v1/users/%40spam%3Aexample.org/secret/path"}).Endpoint())
	assert.Equal(t, "OTHER /_synapse/admin/v1/server_version", (&Error{Method: "PATCH", Route: "/_synapse/admin/v1/server_version"}).Endpoint())

	c, err := New("https://example.org/matrix", "secret-token")
	require.NoError(t, err)
	req := c.admin("v1/users/{user_id}/media", nil, id.UserID("@spam:example.org"))
	assert.Equal(t, "/_synapse/admin/v1/users/{user_id}/media", req.route)
	assert.Equal(t, "https://example.org/matrix/_synapse/admin/v1/users/@spam:example.org/media", req.url)
	assert.Panics(t, func() { c.admin("v1/event_reports/{report_id}", nil) }, "a placeholder without its value is a bug")
	assert.Panics(t, func() { c.admin("v1/event_reports", nil, 12) }, "a value without its placeholder is a bug")
}
