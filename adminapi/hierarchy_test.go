package adminapi

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

// TestSpaceRooms: the hierarchy is read page after page, following
// next_batch with the same limit; every room listed and every child
// named is in, a removed child (no via) is not, each room once.
func TestSpaceRooms(t *testing.T) {
	pages := map[string]string{
		"": `{"rooms": [
			{"room_id": "!space:example.org", "room_type": "m.space", "children_state": [
				{"type": "m.space.child", "state_key": "!a:example.org", "content": {"via": ["example.org"]}},
				{"type": "m.space.child", "state_key": "!sub:example.org", "content": {"via": ["example.org"]}},
				{"type": "m.space.child", "state_key": "!remote:other.org", "content": {"via": ["other.org"]}},
				{"type": "m.space.child", "state_key": "!gone:example.org", "content": {}},
				{"type": "m.space.parent", "state_key": "!parent:example.org", "content": {"via": ["example.org"]}}]},
			{"room_id": "!a:example.org"}], "next_batch": "t1"}`,
		"t1": `{"rooms": [
			{"room_id": "!sub:example.org", "room_type": "m.space", "children_state": [
				{"type": "m.space.child", "state_key": "!b:example.org", "content": {"via": ["example.org"]}},
				{"type": "m.space.child", "state_key": "!a:example.org", "content": {"via": ["example.org"]}}]},
			{"room_id": "!b:example.org"}]}`,
	}
	c, fake := newFake(t, func(r request) (int, string) { return http.StatusOK, pages[r.Query.Get("from")] })
	rooms, err := c.SpaceRooms(ctx, "!space:example.org", nil)
	require.NoError(t, err)
	assert.Equal(t, []id.RoomID{"!a:example.org", "!b:example.org", "!remote:other.org", "!space:example.org", "!sub:example.org"}, rooms)
	got := fake.requests()
	require.Len(t, got, 2)
	assert.Equal(t, "GET /_synapse/admin/v1/rooms/%21space:example.org/hierarchy", got[0].String())
	assert.Equal(t, url.Values{"limit": {"50"}}, got[0].Query)
	assert.Equal(t, url.Values{"limit": {"50"}, "from": {"t1"}}, got[1].Query)
	assert.Equal(t, "Bearer secret-token", got[1].Auth)
}

// TestSpaceRoomsFailures: a malformed id sends nothing; a failed page
// ends the walk with its error unless again says to ask again; a
// next_batch that does not move ends it too.
func TestSpaceRoomsFailures(t *testing.T) {
	c, fake := newFake(t, answerOK(`{"rooms": []}`))
	_, err := c.SpaceRooms(ctx, "#space:example.org", nil)
	assert.True(t, IsInvalidInput(err), "%v", err)
	assert.Empty(t, fake.requests())

	calls := 0
	c, _ = newFake(t, func(r request) (int, string) {
		calls++
		if calls <= 2 {
			return http.StatusTooManyRequests, `{"errcode": "M_LIMIT_EXCEEDED", "error": "Too Many Requests", "retry_after_ms": 5}`
		}
		return http.StatusOK, `{"rooms": [{"room_id": "!space:example.org"}]}`
	})
	_, err = c.SpaceRooms(ctx, "!space:example.org", nil)
	assert.Equal(t, http.StatusTooManyRequests, StatusCode(err), "without again, the first failure ends the walk: %v", err)
	var asked []error
	rooms, err := c.SpaceRooms(ctx, "!space:example.org", func(_ context.Context, err error) bool {
		asked = append(asked, err)
		return true
	})
	require.NoError(t, err)
	assert.Equal(t, []id.RoomID{"!space:example.org"}, rooms)
	assert.Len(t, asked, 1, "asked again once, after the one more 429")

	c, _ = newFake(t, answerOK(`{"rooms": [{"room_id": "!space:example.org"}], "next_batch": "same"}`))
	_, err = c.SpaceRooms(ctx, "!space:example.org", nil)
	assert.True(t, errors.Is(err, ErrHierarchyStuck), "%v", err)

	c, _ = newFake(t, func(request) (int, string) {
		return http.StatusNotFound, `{"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"}`
	})
	_, err = c.SpaceRooms(ctx, "!space:example.org", func(context.Context, error) bool { return false })
	assert.True(t, IsUnsupported(err), "an older Synapse: %v", err)
}

// TestWalkHierarchyClientAPI: the client-server API's answer, read by
// mautrix, is walked the same way.
func TestWalkHierarchyClientAPI(t *testing.T) {
	_, fake := newFake(t, answerOK(`{"rooms": [{"room_id": "!space:example.org", "room_type": "m.space", "children_state": [
		{"type": "m.space.child", "state_key": "!a:example.org", "content": {"via": ["example.org"]}, "sender": "@mod:example.org", "origin_server_ts": 1}]}]}`))
	cli, err := mautrix.NewClient(fake.srv.URL, "@gavel:example.org", "bot-token")
	require.NoError(t, err)
	rooms, err := WalkHierarchy(ctx, func(ctx context.Context, from string) (*mautrix.RespHierarchy, error) {
		return cli.Hierarchy(ctx, "!space:example.org", &mautrix.ReqHierarchy{From: from, Limit: HierarchyPageSize})
	}, nil)
	require.NoError(t, err)
	assert.Equal(t, []id.RoomID{"!a:example.org", "!space:example.org"}, rooms)
	assert.Equal(t, "GET /_matrix/client/v1/rooms/%21space:example.org/hierarchy", fake.requests()[0].String())
}
