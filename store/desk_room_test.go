package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"
)

// TestDeskRooms: a desk's scope is replaced whole, the other desks' stay,
// and what was stored is read back after reopening, with when and from
// what it was read.
func TestDeskRooms(t *testing.T) {
	backends(t, func(t *testing.T, open func() *Store) {
		s := open()
		all, err := s.DeskRooms.All(ctx)
		require.NoError(t, err)
		assert.Empty(t, all, "no desk was ever read")

		at := time.UnixMilli(1_700_000_000_123)
		space := id.RoomID("!space:example.org")
		gaming := DeskScope{Source: "spaces=#gaming:example.org", RefreshedAt: at, Rooms: []DeskRoom{
			{RoomID: "!b:example.org", Via: space}, {RoomID: "!a:example.org"}, {RoomID: space, Via: space}, {RoomID: "!b:example.org"},
		}}
		require.NoError(t, s.DeskRooms.Replace(ctx, "gaming", gaming))
		art := DeskScope{Source: "rooms=!gallery:example.org", RefreshedAt: at.Add(time.Second), Rooms: []DeskRoom{{RoomID: "!gallery:example.org"}}}
		require.NoError(t, s.DeskRooms.Replace(ctx, "art", art))

		all, err = s.DeskRooms.All(ctx)
		require.NoError(t, err)
		require.Len(t, all, 2)
		assert.Equal(t, []DeskRoom{{RoomID: "!a:example.org"}, {RoomID: "!b:example.org", Via: space}, {RoomID: space, Via: space}},
			all["gaming"].Rooms, "sorted, a room listed twice kept once (its first entry)")
		assert.Equal(t, gaming.Source, all["gaming"].Source)
		assert.True(t, at.Equal(all["gaming"].RefreshedAt), "%v", all["gaming"].RefreshedAt)
		assert.Equal(t, art.Rooms, all["art"].Rooms)

		// A refresh replaces the desk's rooms: a room that left is gone.
		later := at.Add(10 * time.Minute)
		require.NoError(t, s.DeskRooms.Replace(ctx, "gaming", DeskScope{Source: gaming.Source, RefreshedAt: later,
			Rooms: []DeskRoom{{RoomID: "!c:example.org", Via: space}}}))
		// An empty scope is a scope too.
		require.NoError(t, s.DeskRooms.Replace(ctx, "empty", DeskScope{Source: "spaces=!gone:example.org", RefreshedAt: later}))

		// State survives reopening: that is how a restart routes.
		s.Close()
		s = open()
		all, err = s.DeskRooms.All(ctx)
		require.NoError(t, err)
		assert.Equal(t, []DeskRoom{{RoomID: "!c:example.org", Via: space}}, all["gaming"].Rooms)
		assert.True(t, later.Equal(all["gaming"].RefreshedAt))
		assert.Equal(t, art.Rooms, all["art"].Rooms, "another desk's refresh leaves this one's scope alone")
		require.Contains(t, all, "empty")
		assert.Empty(t, all["empty"].Rooms)
		assert.Equal(t, "spaces=!gone:example.org", all["empty"].Source)
	})
}

// TestDeskRoomsMany: a scope larger than one mass insert is stored whole.
func TestDeskRoomsMany(t *testing.T) {
	backends(t, func(t *testing.T, open func() *Store) {
		s := open()
		var rooms []DeskRoom
		for i := range 2*deskRoomChunk + 7 {
			rooms = append(rooms, DeskRoom{RoomID: id.RoomID(fmt.Sprintf("!r%05d:example.org", i)), Via: "!space:example.org"})
		}
		require.NoError(t, s.DeskRooms.Replace(ctx, "big", DeskScope{Rooms: rooms, RefreshedAt: time.Now()}))
		all, err := s.DeskRooms.All(ctx)
		require.NoError(t, err)
		assert.Equal(t, rooms, all["big"].Rooms)
	})
}
