package adminapi

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/synapseadmin"
)

var (
	ctx      = context.Background()
	mxc      = id.ContentURI{Homeserver: "example.org", FileID: "AbC_12-x"}
	roomID   = id.RoomID("!room:example.org")
	userID   = id.UserID("@bob:example.org")
	localMxc = `{"media_info": {"media_id": "AbC_12-x", "user_id": "@bob:example.org", "media_type": "image/png",
		"media_length": 67, "upload_name": "cat.png", "created_ts": 1700000000000, "quarantined_by": null,
		"safe_from_quarantine": 0, "sha256": "abc"}}`
)

// TestRequests checks the method, path, query and body of every call, and
// that the answer is read into the result.
func TestRequests(t *testing.T) {
	type want struct {
		method, path string
		query        url.Values
		body         string // JSON; "" for no body
	}
	tests := []struct {
		name   string
		answer string
		call   func(c *Client) (any, error)
		want   []want
		result any
	}{
		{
			name:   "list event reports with every parameter",
			answer: `{"event_reports": [{"id": 2, "received_ts": 1700000000000, "room_id": "!room:example.org", "event_id": "$ev", "user_id": "@alice:example.org", "sender": "@bob:example.org", "reason": null, "score": -100, "canonical_alias": null, "name": "Room"}], "total": 7, "next_token": 1}`,
			call: func(c *Client) (any, error) {
				return c.ListEventReports(ctx, EventReportsQuery{
					PageQuery: PageQuery{From: 0, Limit: 1, Dir: mautrix.DirectionForward},
					UserID:    "@alice:example.org", RoomID: roomID, EventSenderUserID: userID,
				})
			},
			want: []want{{"GET", "/_synapse/admin/v1/event_reports", url.Values{
				"limit": {"1"}, "dir": {"f"}, "user_id": {"@alice:example.org"},
				"room_id": {"!room:example.org"}, "event_sender_user_id": {"@bob:example.org"},
			}, ""}},
			result: &Page[EventReport]{Items: []EventReport{{
				ID: 2, ReceivedTS: 1700000000000, RoomID: roomID, EventID: "$ev", UserID: "@alice:example.org",
				Sender: userID, Score: ptr[Score](-100), Name: "Room",
			}}, NextToken: ptr[int64](1), Total: 7},
		},
		{
			name:   "list event reports, defaults, last page",
			answer: `{"event_reports": [], "total": 0}`,
			call: func(c *Client) (any, error) {
				return c.ListEventReports(ctx, EventReportsQuery{PageQuery: PageQuery{From: 40}})
			},
			want:   []want{{"GET", "/_synapse/admin/v1/event_reports", url.Values{"from": {"40"}}, ""}},
			result: &Page[EventReport]{Items: []EventReport{}, Total: 0},
		},
		{
			name: "get event report",
			answer: `{"id": 12, "received_ts": 5, "room_id": "!room:example.org", "event_id": "$ev", "user_id": "@alice:example.org",
				"sender": "@bob:example.org", "reason": "spam", "score": null, "canonical_alias": "#r:example.org", "name": null,
				"event_json": {"type": "m.room.message", "sender": "@bob:example.org", "room_id": "!room:example.org",
				"origin_server_ts": 4, "content": {"msgtype": "m.text", "body": "<b>buy</b>"}, "depth": 9}}`,
			call: func(c *Client) (any, error) { return c.EventReport(ctx, 12) },
			want: []want{{"GET", "/_synapse/admin/v1/event_reports/12", url.Values{}, ""}},
		},
		{
			name:   "delete event report",
			answer: `{}`,
			call:   func(c *Client) (any, error) { return nil, c.DeleteEventReport(ctx, 12) },
			want:   []want{{"DELETE", "/_synapse/admin/v1/event_reports/12", url.Values{}, "{}"}},
		},
		{
			name:   "list user reports",
			answer: `{"user_reports": [{"id": 3, "received_ts": 9, "target_user_id": "@bob:example.org", "user_id": "@alice:example.org", "reason": "rude"}], "total": 1}`,
			call: func(c *Client) (any, error) {
				return c.ListUserReports(ctx, UserReportsQuery{
					PageQuery: PageQuery{From: 5, Limit: 10, Dir: mautrix.DirectionBackward},
					UserID:    "@alice:example.org", TargetUserID: userID,
				})
			},
			want: []want{{"GET", "/_synapse/admin/v1/user_reports", url.Values{
				"from": {"5"}, "limit": {"10"}, "dir": {"b"}, "user_id": {"@alice:example.org"}, "target_user_id": {"@bob:example.org"},
			}, ""}},
			result: &Page[UserReport]{Items: []UserReport{{ID: 3, ReceivedTS: 9, TargetUserID: userID, UserID: "@alice:example.org", Reason: "rude"}}, Total: 1},
		},
		{
			name:   "get user report",
			answer: `{"id": 3, "received_ts": 9, "target_user_id": "@bob:example.org", "user_id": "@alice:example.org", "reason": "rude"}`,
			call:   func(c *Client) (any, error) { return c.UserReport(ctx, 3) },
			want:   []want{{"GET", "/_synapse/admin/v1/user_reports/3", url.Values{}, ""}},
			result: &UserReport{ID: 3, ReceivedTS: 9, TargetUserID: userID, UserID: "@alice:example.org", Reason: "rude"},
		},
		{
			name:   "delete user report",
			answer: `{}`,
			call:   func(c *Client) (any, error) { return nil, c.DeleteUserReport(ctx, 3) },
			want:   []want{{"DELETE", "/_synapse/admin/v1/user_reports/3", url.Values{}, "{}"}},
		},
		{
			name:   "media info",
			answer: localMxc,
			call:   func(c *Client) (any, error) { return c.MediaInfo(ctx, mxc) },
			want:   []want{{"GET", "/_synapse/admin/v1/media/example.org/AbC_12-x", url.Values{}, ""}},
			result: &MediaInfo{UserID: userID, MediaID: "AbC_12-x", MediaType: "image/png", MediaLength: 67,
				UploadName: "cat.png", CreatedTS: 1700000000000, SHA256: "abc"},
		},
		{
			name:   "quarantine media checks that it exists first",
			answer: localMxc,
			call:   func(c *Client) (any, error) { return c.QuarantineMedia(ctx, mxc) },
			want: []want{
				{"GET", "/_synapse/admin/v1/media/example.org/AbC_12-x", url.Values{}, ""},
				{"POST", "/_synapse/admin/v1/media/quarantine/example.org/AbC_12-x", url.Values{}, "{}"},
			},
		},
		{
			name:   "unquarantine media",
			answer: localMxc,
			call:   func(c *Client) (any, error) { return c.UnquarantineMedia(ctx, mxc) },
			want: []want{
				{"GET", "/_synapse/admin/v1/media/example.org/AbC_12-x", url.Values{}, ""},
				{"POST", "/_synapse/admin/v1/media/unquarantine/example.org/AbC_12-x", url.Values{}, "{}"},
			},
		},
		{
			name:   "protect media",
			answer: localMxc,
			call:   func(c *Client) (any, error) { return c.ProtectMedia(ctx, mxc) },
			want: []want{
				{"GET", "/_synapse/admin/v1/media/example.org/AbC_12-x", url.Values{}, ""},
				{"POST", "/_synapse/admin/v1/media/protect/AbC_12-x", url.Values{}, "{}"},
			},
		},
		{
			name:   "unprotect media",
			answer: localMxc,
			call:   func(c *Client) (any, error) { return c.UnprotectMedia(ctx, mxc) },
			want: []want{
				{"GET", "/_synapse/admin/v1/media/example.org/AbC_12-x", url.Values{}, ""},
				{"POST", "/_synapse/admin/v1/media/unprotect/AbC_12-x", url.Values{}, "{}"},
			},
		},
		{
			name:   "quarantine a room's media escapes the room id",
			answer: `{"num_quarantined": 3}`,
			call:   func(c *Client) (any, error) { return c.QuarantineRoomMedia(ctx, roomID) },
			want:   []want{{"POST", "/_synapse/admin/v1/room/%21room:example.org/media/quarantine", url.Values{}, "{}"}},
			result: 3,
		},
		{
			name:   "quarantine a user's media",
			answer: `{"num_quarantined": 2}`,
			call:   func(c *Client) (any, error) { return c.QuarantineUserMedia(ctx, "@bob$x:example.org") },
			want:   []want{{"POST", "/_synapse/admin/v1/user/@bob$x:example.org/media/quarantine", url.Values{}, "{}"}},
			result: 2,
		},
		{
			name:   "room media",
			answer: `{"local": ["mxc://example.org/a"], "remote": ["mxc://other.org/b"]}`,
			call:   func(c *Client) (any, error) { return c.RoomMedia(ctx, roomID) },
			want:   []want{{"GET", "/_synapse/admin/v1/room/%21room:example.org/media", url.Values{}, ""}},
			result: &RoomMedia{
				Local:  []id.ContentURI{{Homeserver: "example.org", FileID: "a"}},
				Remote: []id.ContentURI{{Homeserver: "other.org", FileID: "b"}},
			},
		},
		{
			name:   "list user media",
			answer: `{"media": [{"media_id": "a", "safe_from_quarantine": true, "quarantined_by": "@admin:example.org"}], "total": 3, "next_token": 1}`,
			call: func(c *Client) (any, error) {
				return c.ListUserMedia(ctx, userID, UserMediaQuery{PageQuery: PageQuery{Limit: 1, Dir: mautrix.DirectionBackward}, OrderBy: "media_length"})
			},
			want: []want{{"GET", "/_synapse/admin/v1/users/@bob:example.org/media", url.Values{
				"limit": {"1"}, "dir": {"b"}, "order_by": {"media_length"},
			}, ""}},
			result: &Page[MediaInfo]{Items: []MediaInfo{{MediaID: "a", SafeFromQuarantine: true, QuarantinedBy: "@admin:example.org"}}, NextToken: ptr[int64](1), Total: 3},
		},
		{
			name:   "server version",
			answer: `{"server_version": "1.160.0"}`,
			call:   func(c *Client) (any, error) { return c.ServerVersion(ctx) },
			want:   []want{{"GET", "/_synapse/admin/v1/server_version", url.Values{}, ""}},
			result: "1.160.0",
		},
		{
			name:   "room info",
			answer: `{"room_id": "!room:example.org", "name": "Room", "joined_members": 4}`,
			call:   func(c *Client) (any, error) { return c.RoomInfo(ctx, roomID) },
			want:   []want{{"GET", "/_synapse/admin/v1/rooms/%21room:example.org", url.Values{}, ""}},
			result: &synapseadmin.RoomInfo{RoomID: roomID, Name: "Room", JoinedMembers: 4},
		},
		{
			name:   "delete room",
			answer: `{"delete_id": "abcDEF"}`,
			call: func(c *Client) (any, error) {
				return c.DeleteRoom(ctx, roomID, DeleteRoomRequest{Block: true, Purge: true})
			},
			want:   []want{{"DELETE", "/_synapse/admin/v2/rooms/%21room:example.org", url.Values{}, `{"purge": true, "block": true}`}},
			result: "abcDEF",
		},
		{
			// Synapse purges unless told not to: a false purge is sent.
			name:   "delete room without purging",
			answer: `{"delete_id": "abcDEF"}`,
			call: func(c *Client) (any, error) {
				return c.DeleteRoom(ctx, roomID, DeleteRoomRequest{})
			},
			want:   []want{{"DELETE", "/_synapse/admin/v2/rooms/%21room:example.org", url.Values{}, `{"purge": false, "block": false}`}},
			result: "abcDEF",
		},
		{
			name:   "delete room status",
			answer: `{"status": "complete"}`,
			call:   func(c *Client) (any, error) { return c.DeleteRoomStatus(ctx, "abcDEF") },
			want:   []want{{"GET", "/_synapse/admin/v2/rooms/delete_status/abcDEF", url.Values{}, ""}},
			result: synapseadmin.RespDeleteRoomStatus{Status: "complete"},
		},
		{
			name:   "block room",
			answer: `{"block": true}`,
			call:   func(c *Client) (any, error) { return nil, c.BlockRoom(ctx, roomID, true) },
			want:   []want{{"PUT", "/_synapse/admin/v1/rooms/%21room:example.org/block", url.Values{}, `{"block": true}`}},
		},
		{
			name:   "room block status",
			answer: `{"block": true, "user_id": "@admin:example.org"}`,
			call:   func(c *Client) (any, error) { return c.RoomBlockStatus(ctx, roomID) },
			want:   []want{{"GET", "/_synapse/admin/v1/rooms/%21room:example.org/block", url.Values{}, ""}},
			result: synapseadmin.RoomsBlockResponse{Block: true, UserID: "@admin:example.org"},
		},
		{
			name:   "user info",
			answer: `{"name": "@bob:example.org", "admin": false, "deactivated": true}`,
			call:   func(c *Client) (any, error) { return c.UserInfo(ctx, userID) },
			want:   []want{{"GET", "/_synapse/admin/v2/users/@bob:example.org", url.Values{}, ""}},
			result: &synapseadmin.RespUserInfo{UserID: userID, Deactivated: true},
		},
		{
			name:   "deactivate account",
			answer: `{"id_server_unbind_result": "success"}`,
			call:   func(c *Client) (any, error) { return nil, c.DeactivateAccount(ctx, userID, true) },
			want:   []want{{"POST", "/_synapse/admin/v1/deactivate/@bob:example.org", url.Values{}, `{"erase": true}`}},
		},
		{
			name:   "suspend account",
			answer: `{}`,
			call:   func(c *Client) (any, error) { return nil, c.SuspendAccount(ctx, userID, false) },
			want:   []want{{"PUT", "/_synapse/admin/v1/suspend/@bob:example.org", url.Values{}, `{"suspend": false}`}},
		},
		{
			name:   "redact user",
			answer: `{"redact_id": "r1"}`,
			call: func(c *Client) (any, error) {
				return c.RedactUser(ctx, userID, RedactRequest{Rooms: []id.RoomID{roomID}, Reason: "spam"})
			},
			want:   []want{{"POST", "/_synapse/admin/v1/user/@bob:example.org/redact", url.Values{}, `{"rooms": ["!room:example.org"], "reason": "spam"}`}},
			result: "r1",
		},
		{
			name:   "redact user status",
			answer: `{"status": "active", "failed_redactions": {}}`,
			call:   func(c *Client) (any, error) { return c.RedactUserStatus(ctx, "r1") },
			want:   []want{{"GET", "/_synapse/admin/v1/user/redact_status/r1", url.Values{}, ""}},
			result: synapseadmin.RespRedactUserStatus{Status: "active", FailedRedactions: map[id.EventID]string{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := newFake(t, answerOK(tt.answer))
			result, err := tt.call(c)
			require.NoError(t, err)
			got := f.requests()
			require.Len(t, got, len(tt.want), "requests: %v", got)
			for i, w := range tt.want {
				assert.Equal(t, w.method, got[i].Method, "method of request %d", i)
				assert.Equal(t, w.path, got[i].Path, "path of request %d", i)
				assert.Equal(t, w.query, got[i].Query, "query of request %d", i)
				if w.body == "" {
					assert.Empty(t, got[i].Body, "body of request %d", i)
				} else {
					assert.JSONEq(t, w.body, got[i].Body, "body of request %d", i)
				}
				assert.Equal(t, "Bearer secret-token", got[i].Auth)
			}
			if tt.result != nil {
				assert.Equal(t, tt.result, result)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestEventReportParsesTheReportedEvent(t *testing.T) {
	c, _ := newFake(t, answerOK(`{"id": 12, "received_ts": 5, "room_id": "!room:example.org", "event_id": "$ev",
		"user_id": "@alice:example.org", "sender": "@bob:example.org", "reason": "spam", "score": null,
		"canonical_alias": "#r:example.org", "name": null,
		"event_json": {"type": "m.room.message", "sender": "@bob:example.org", "room_id": "!room:example.org",
		"origin_server_ts": 4, "content": {"msgtype": "m.text", "body": "<b>buy</b>"}, "depth": 9, "hashes": {"sha256": "x"}}}`))
	r, err := c.EventReport(ctx, 12)
	require.NoError(t, err)
	assert.Equal(t, int64(12), r.ID)
	assert.Nil(t, r.Score, "a null score stays nil")
	assert.Equal(t, "spam", r.Reason)
	assert.Equal(t, id.RoomAlias("#r:example.org"), r.CanonicalAlias)
	// The raw JSON is kept exactly, fields mautrix does not know included.
	var raw map[string]any
	require.NoError(t, json.Unmarshal(r.EventJSON, &raw))
	assert.Equal(t, float64(9), raw["depth"])
	assert.Contains(t, raw, "hashes")
	// The parsed event carries the report's event id, which stored events
	// of newer room versions lack.
	require.NotNil(t, r.Event)
	assert.Equal(t, id.EventID("$ev"), r.Event.ID)
	assert.Equal(t, event.EventMessage, r.Event.Type)
	msg := r.Event.Content.AsMessage()
	assert.Equal(t, event.MsgText, msg.MsgType)
	assert.Equal(t, "<b>buy</b>", msg.Body)
}

func TestEventReportKeepsUnparseableEvents(t *testing.T) {
	for name, eventJSON := range map[string]string{
		"missing":           `null`,
		"not an object":     `"oops"`,
		"unknown type":      `{"type": "org.example.custom", "content": {"x": [1, 2]}}`,
		"malformed content": `{"type": "m.room.message", "content": {"body": 5}}`,
	} {
		t.Run(name, func(t *testing.T) {
			c, _ := newFake(t, answerOK(`{"id": 2, "event_id": "$e", "event_json": `+eventJSON+`}`))
			r, err := c.EventReport(ctx, 2)
			require.NoError(t, err)
			switch name {
			case "missing", "not an object":
				assert.Nil(t, r.Event)
			default:
				require.NotNil(t, r.Event)
				assert.Nil(t, r.Event.Content.Parsed)
				assert.NotNil(t, r.Event.Content.Raw)
				assert.Equal(t, id.EventID("$e"), r.Event.ID)
			}
		})
	}
}

func TestIsServerAdmin(t *testing.T) {
	for _, tt := range []struct {
		name        string
		adminStatus int
		adminBody   string
		wantAdmin   bool
		wantErr     bool
	}{
		{"admin", 200, `{"admin": true}`, true, false},
		{"not an admin", 403, `{"errcode": "M_FORBIDDEN", "error": "You are not a server admin"}`, false, false},
		{"server error", 500, `{"errcode": "M_UNKNOWN", "error": "boom"}`, false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, f := newFake(t, func(r request) (int, string) {
				if r.Path == "/_matrix/client/v3/account/whoami" {
					return 200, `{"user_id": "@gavel:example.org"}`
				}
				return tt.adminStatus, tt.adminBody
			})
			user, admin, err := c.IsServerAdmin(ctx)
			assert.Equal(t, id.UserID("@gavel:example.org"), user)
			assert.Equal(t, tt.wantAdmin, admin)
			assert.Equal(t, tt.wantErr, err != nil, "error: %v", err)
			got := f.requests()
			require.Len(t, got, 2)
			assert.Equal(t, "GET /_synapse/admin/v1/users/@gavel:example.org/admin", got[1].String())
		})
	}
	t.Run("rejected token", func(t *testing.T) {
		c, _ := newFake(t, func(r request) (int, string) {
			return 401, `{"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token passed."}`
		})
		_, admin, err := c.IsServerAdmin(ctx)
		assert.False(t, admin)
		assert.True(t, IsUnauthorized(err), "error: %v", err)
	})
}

func TestProtectRefusesRemoteMedia(t *testing.T) {
	c, f := newFake(t, answerOK(`{"media_info": {"media_origin": "other.org", "media_id": "AbC_12-x", "safe_from_quarantine": null}}`))
	_, err := c.ProtectMedia(ctx, mxc)
	require.Error(t, err)
	assert.True(t, IsInvalidInput(err))
	assert.Contains(t, err.Error(), "remote media")
	require.Len(t, f.requests(), 1, "only the media info was asked for")
}

func TestMediaChangesStopAtUnknownMedia(t *testing.T) {
	calls := map[string]func(*Client) (*MediaInfo, error){
		"quarantine":   func(c *Client) (*MediaInfo, error) { return c.QuarantineMedia(ctx, mxc) },
		"unquarantine": func(c *Client) (*MediaInfo, error) { return c.UnquarantineMedia(ctx, mxc) },
		"protect":      func(c *Client) (*MediaInfo, error) { return c.ProtectMedia(ctx, mxc) },
		"unprotect":    func(c *Client) (*MediaInfo, error) { return c.UnprotectMedia(ctx, mxc) },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			c, f := newFake(t, func(request) (int, string) {
				return http.StatusNotFound, `{"errcode": "M_NOT_FOUND", "error": "Unknown media"}`
			})
			_, err := call(c)
			assert.True(t, IsNotFound(err), "error: %v", err)
			got := f.requests()
			require.Len(t, got, 1, "nothing is changed after the lookup fails: %v", got)
			assert.Equal(t, http.MethodGet, got[0].Method)
		})
	}
}

func TestHugeScoresDoNotBreakTheListing(t *testing.T) {
	c, _ := newFake(t, answerOK(`{"event_reports": [
		{"id": 2, "score": 99999999999999999999}, {"id": 3, "score": -99999999999999999999},
		{"id": 4, "score": 1e999}, {"id": 5, "score": -50}, {"id": 6, "score": null}], "total": 5}`))
	page, err := c.ListEventReports(ctx, EventReportsQuery{})
	require.NoError(t, err)
	require.Len(t, page.Items, 5)
	assert.Equal(t, Score(math.MaxInt32), *page.Items[0].Score)
	assert.Equal(t, Score(math.MinInt32), *page.Items[1].Score)
	assert.Equal(t, Score(math.MaxInt32), *page.Items[2].Score)
	assert.Equal(t, Score(-50), *page.Items[3].Score)
	assert.Nil(t, page.Items[4].Score)
	var s Score
	assert.Error(t, json.Unmarshal([]byte(`"high"`), &s))
}

func TestBoolAcceptsSynapsesEncodings(t *testing.T) {
	for in, want := range map[string]bool{"true": true, "1": true, "false": false, "0": false, "null": false} {
		var b Bool
		require.NoError(t, json.Unmarshal([]byte(in), &b), in)
		assert.Equal(t, want, bool(b), in)
	}
	var b Bool
	assert.Error(t, json.Unmarshal([]byte(`"yes"`), &b))
	assert.Error(t, json.Unmarshal([]byte(`2`), &b))
}

// Synapse without server_notices answers 400 before looking at the user.
func TestServerNoticesDisabled(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"errcode": "M_UNKNOWN", "error": "Server notices are not enabled on this server"}`))
	}))
	defer srv.Close()
	c, err := New(srv.URL, "token")
	require.NoError(t, err)
	on, err := c.ServerNoticesEnabled(context.Background(), "example.org")
	require.NoError(t, err)
	assert.False(t, on)
}
