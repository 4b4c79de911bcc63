package adminapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/mxid"
)

// HierarchyPageSize is the page size asked of the room hierarchy: Synapse
// answers at most 50 rooms a page whatever the limit.
const HierarchyPageSize = 50

// maxHierarchyPages bounds one walk of a hierarchy (500,000 rooms): a
// server that never ends its pages does not keep Gavel busy for ever.
const maxHierarchyPages = 10_000

// RoomHierarchy returns one page of the admin API's room hierarchy of
// roomID (GET /_synapse/admin/v1/rooms/{room_id}/hierarchy, Synapse 1.142
// and later): the room, and when it is a space, its children, depth
// first, whether Gavel could see them or not. Rooms on other servers that
// this server is not in are left out (Synapse does not ask other
// servers). req's From, Limit and MaxDepth are sent; the answer is shaped
// like the client-server API's.
func (c *Client) RoomHierarchy(ctx context.Context, roomID id.RoomID, req *mautrix.ReqHierarchy) (*mautrix.RespHierarchy, error) {
	if err := mxid.ValidateRoomID(roomID); err != nil {
		return nil, err
	}
	q := url.Values{}
	if req != nil {
		for k, v := range req.Query() {
			if k != "suggested_only" { // the admin API reads no such parameter
				q.Set(k, v)
			}
		}
	}
	var resp mautrix.RespHierarchy
	if err := c.get(ctx, c.admin("v1/rooms/{room_id}/hierarchy", q, roomID), &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// SpaceRooms returns the id of every room in space, sorted: the space
// itself, its children, their children and so on (see WalkHierarchy),
// through the admin API's room hierarchy. again is WalkHierarchy's.
func (c *Client) SpaceRooms(ctx context.Context, space id.RoomID, again func(context.Context, error) bool) ([]id.RoomID, error) {
	return WalkHierarchy(ctx, func(ctx context.Context, from string) (*mautrix.RespHierarchy, error) {
		return c.RoomHierarchy(ctx, space, &mautrix.ReqHierarchy{From: from, Limit: HierarchyPageSize})
	}, again)
}

// ErrHierarchyStuck is returned when a room hierarchy's pages do not
// end: the same next_batch twice in a row, or more pages than any space
// has.
var ErrHierarchyStuck = errors.New("the room hierarchy's pages do not end")

// WalkHierarchy pages through a room hierarchy, the admin API's
// (RoomHierarchy) or the client-server API's (mautrix's Client.Hierarchy),
// which answer alike, asking page for each page after the first (from ""),
// and returns the ids of every room listed and of every child their
// m.space.child events name (a child Synapse does not describe, on a
// server it is not in, is in the space all the same), each once, sorted.
// A removed child (an m.space.child without via) is not.
//
// A page that fails is asked for again as long as again(ctx, err) says so
// (it may wait, as a rate limit asks: Synapse allows 5 hierarchy pages a
// second, after 10, to an account whose rate limit is not lifted); with
// again nil, or when it says no, the walk ends with that error.
func WalkHierarchy(ctx context.Context, page func(ctx context.Context, from string) (*mautrix.RespHierarchy, error),
	again func(context.Context, error) bool,
) ([]id.RoomID, error) {
	rooms := map[id.RoomID]struct{}{}
	from := ""
	for range maxHierarchyPages {
		resp, err := page(ctx, from)
		if err != nil {
			if again != nil && ctx.Err() == nil && again(ctx, err) {
				continue
			}
			return nil, err
		}
		for _, r := range resp.Rooms {
			if r == nil {
				continue
			}
			rooms[r.RoomID] = struct{}{}
			for _, child := range r.ChildrenState {
				if child != nil && child.Type == event.StateSpaceChild && child.StateKey != nil && hasVia(child) {
					rooms[id.RoomID(*child.StateKey)] = struct{}{}
				}
			}
		}
		switch {
		case resp.NextBatch == "":
			ids := make([]id.RoomID, 0, len(rooms))
			for r := range rooms {
				ids = append(ids, r)
			}
			slices.Sort(ids)
			return ids, nil
		case resp.NextBatch == from:
			return nil, fmt.Errorf("%w: next_batch %q came back unchanged", ErrHierarchyStuck, from)
		}
		from = resp.NextBatch
	}
	return nil, fmt.Errorf("%w: more than %d pages", ErrHierarchyStuck, maxHierarchyPages)
}

// hasVia reports whether an m.space.child event names its room (a
// non-empty via): one without is a removed child.
func hasVia(evt *event.Event) bool {
	var content struct {
		Via []string `json:"via"`
	}
	if evt.Content.Parsed != nil {
		if c, ok := evt.Content.Parsed.(*event.SpaceChildEventContent); ok {
			return len(c.Via) > 0
		}
	}
	if err := json.Unmarshal(evt.Content.VeryRaw, &content); err != nil {
		return false
	}
	return len(content.Via) > 0
}
