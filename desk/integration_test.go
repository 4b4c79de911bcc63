package desk_test

// Integration tests: reading scopes from a real Synapse started by
// internal/testkit/synapsetest.

import (
	"context"
	"fmt"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/desk"
	"github.com/gavel-bot/gavel/internal/testkit/synapsetest"
)

func TestMain(m *testing.M) { synapsetest.Main(m) }

var ctx = context.Background()

// community is a moderator's space on a real Synapse, with a sub-space.
type community struct {
	srv *synapsetest.Server
	// gavel is Gavel's account, a server admin in none of these rooms.
	gavel *mautrix.Client
	mod   *mautrix.Client
	space id.RoomID
	sub   id.RoomID
}

func newCommunity(t testing.TB) *community {
	t.Helper()
	srv := synapsetest.Shared(t)
	c := &community{srv: srv, gavel: srv.User(t, "gavel", true), mod: srv.User(t, "mod", false)}
	c.space = c.newSpace(t, "Gaming")
	c.sub = c.newSpace(t, "Gaming: tournaments")
	c.addChild(t, c.space, c.sub)
	return c
}

func (c *community) newSpace(t testing.TB, name string) id.RoomID {
	t.Helper()
	resp, err := c.mod.CreateRoom(ctx, &mautrix.ReqCreateRoom{Name: name, Preset: "private_chat",
		CreationContent: map[string]any{"type": event.RoomTypeSpace}})
	require.NoError(t, err)
	return resp.RoomID
}

// newRoom creates a room, with alias #alias:server unless alias is "".
func (c *community) newRoom(t testing.TB, name, alias string) id.RoomID {
	t.Helper()
	resp, err := c.mod.CreateRoom(ctx, &mautrix.ReqCreateRoom{Name: name, Preset: "private_chat", RoomAliasName: alias})
	require.NoError(t, err)
	return resp.RoomID
}

func (c *community) addChild(t testing.TB, space, child id.RoomID) {
	t.Helper()
	_, err := c.mod.SendStateEvent(ctx, space, event.StateSpaceChild, string(child), &event.SpaceChildEventContent{Via: []string{c.srv.ServerName}})
	require.NoError(t, err)
}

// removeChild sends the empty m.space.child that removes child.
func (c *community) removeChild(t testing.TB, space, child id.RoomID) {
	t.Helper()
	_, err := c.mod.SendStateEvent(ctx, space, event.StateSpaceChild, string(child), map[string]any{})
	require.NoError(t, err)
}

// desks returns desks for cfg, connected to Synapse as Gavel's account.
func (c *community) desks(desks ...config.Desk) *desk.Desks {
	ds := desk.FromConfig(&config.Config{Matrix: config.Matrix{ManagementRoom: id.RoomID("!mods:" + c.srv.ServerName)}, Desks: desks})
	ds.Connect(adminapi.Wrap(c.srv.Client(c.gavel.AccessToken)), c.gavel, nil, zerolog.Nop())
	return ds
}

// TestScopeFromSynapse: a desk's scope is its space's rooms, the
// sub-space's included, and the rooms it lists by alias, read without
// Gavel's account being in any of them; a child added is in scope after a
// refresh, a child removed out of it; a space that does not exist fails
// the refresh with the desk's and the space's names and keeps the scope.
func TestScopeFromSynapse(t *testing.T) {
	c := newCommunity(t)
	chat := c.newRoom(t, "chat", "")
	finals := c.newRoom(t, "finals", "")
	lobbyAlias := "lobby-" + string(c.space[1:7])
	lobby := c.newRoom(t, "lobby", lobbyAlias)
	outside := c.newRoom(t, "outside", "")
	c.addChild(t, c.space, chat)
	c.addChild(t, c.sub, finals)

	ds := c.desks(config.Desk{Name: "gaming", Room: "!gaming-mods:" + id.RoomID(c.srv.ServerName),
		Spaces: []string{string(c.space)}, Rooms: []string{"#" + lobbyAlias + ":" + c.srv.ServerName}})
	g := ds.ByName("gaming")
	require.NoError(t, ds.Refresh(ctx, g))
	assert.ElementsMatch(t, []id.RoomID{c.space, c.sub, chat, finals, lobby}, ds.ScopeRooms(g))
	assert.Equal(t, []*desk.Desk{g}, ds.Route(finals), "a sub-space's room")
	assert.Empty(t, ds.Route(outside))

	added := c.newRoom(t, "added", "")
	c.addChild(t, c.sub, added)
	c.removeChild(t, c.space, chat)
	require.NoError(t, ds.Refresh(ctx, g))
	assert.True(t, ds.Covers(g, added), "a child added is in scope after the refresh")
	assert.False(t, ds.Covers(g, chat), "a child removed is not")
	assert.True(t, ds.Covers(g, finals))

	missing := id.RoomID("!doesnotexist:" + c.srv.ServerName)
	g.Spaces = append(g.Spaces, string(missing))
	err := ds.Refresh(ctx, g)
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("desk gaming: space %s: this homeserver knows no such room", missing))
	assert.ErrorContains(t, ds.ScopeOf(g).Err, "desk gaming: space "+string(missing))
	assert.True(t, ds.Covers(g, added), "the scope it had")
	assert.Equal(t, 5, ds.ScopeOf(g).Rooms)

	g.Spaces = []string{"#nosuchspace:" + c.srv.ServerName}
	assert.ErrorContains(t, ds.Refresh(ctx, g), "desk gaming: space #nosuchspace:"+c.srv.ServerName+": the alias #nosuchspace:"+c.srv.ServerName+" does not exist")
}
