package desk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/store"
)

var ctx = context.Background()

// fakeHomeserver answers the calls reading a scope makes: aliases, and
// the admin API's and the client API's room hierarchy, from spaces (a
// space's children; a child that is a key of spaces is a space too).
type fakeHomeserver struct {
	mu      sync.Mutex
	aliases map[id.RoomAlias]id.RoomID
	spaces  map[id.RoomID][]id.RoomID
	// noAdminHierarchy answers the admin API's hierarchy 404
	// M_UNRECOGNIZED, as a Synapse before 1.142 does.
	noAdminHierarchy bool
	// rateLimited answers the next n hierarchy requests 429.
	rateLimited int
	requests    []string
}

func (f *fakeHomeserver) handler(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	path := r.URL.Path
	f.requests = append(f.requests, r.Method+" "+path)
	answer := func(status int, body any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	}
	switch {
	case strings.HasPrefix(path, "/_matrix/client/v3/directory/room/"):
		if room, ok := f.aliases[id.RoomAlias(strings.TrimPrefix(path, "/_matrix/client/v3/directory/room/"))]; ok {
			answer(http.StatusOK, map[string]any{"room_id": room, "servers": []string{"example.org"}})
			return
		}
		answer(http.StatusNotFound, map[string]string{"errcode": "M_NOT_FOUND", "error": "Room alias not found"})
	case strings.HasSuffix(path, "/hierarchy"):
		if f.noAdminHierarchy && strings.HasPrefix(path, "/_synapse/") {
			answer(http.StatusNotFound, map[string]string{"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"})
			return
		}
		if f.rateLimited > 0 {
			f.rateLimited--
			answer(http.StatusTooManyRequests, map[string]any{"errcode": "M_LIMIT_EXCEEDED", "error": "Too Many Requests", "retry_after_ms": 10})
			return
		}
		root := id.RoomID(strings.TrimSuffix(path[strings.Index(path, "/rooms/")+len("/rooms/"):], "/hierarchy"))
		answer(http.StatusOK, map[string]any{"rooms": f.hierarchy(root)})
	default:
		answer(http.StatusNotFound, map[string]string{"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"})
	}
}

// hierarchy is every room under root, in one page; nothing for a room it
// does not know, as Synapse answers.
func (f *fakeHomeserver) hierarchy(root id.RoomID) []map[string]any {
	children, ok := f.spaces[root]
	if !ok {
		return []map[string]any{}
	}
	var state []map[string]any
	for _, c := range children {
		state = append(state, map[string]any{"type": "m.space.child", "state_key": c, "content": map[string]any{"via": []string{"example.org"}}})
	}
	out := []map[string]any{{"room_id": root, "room_type": "m.space", "children_state": state}}
	for _, c := range children {
		if _, isSpace := f.spaces[c]; isSpace {
			out = append(out, f.hierarchy(c)...)
		} else {
			out = append(out, map[string]any{"room_id": c})
		}
	}
	return out
}

func (f *fakeHomeserver) set(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
}

type fixture struct {
	hs    *fakeHomeserver
	desks *Desks
	st    *store.Store
	cfg   *config.Config
	admin *adminapi.Client
	cli   *mautrix.Client
}

func newFixture(t *testing.T, desks ...config.Desk) *fixture {
	t.Helper()
	hs := &fakeHomeserver{
		aliases: map[id.RoomAlias]id.RoomID{"#gaming:example.org": "!gaming:example.org", "#lobby:example.org": "!lobby:example.org"},
		spaces: map[id.RoomID][]id.RoomID{
			"!gaming:example.org": {"!chat:example.org", "!sub:example.org"},
			"!sub:example.org":    {"!deep:example.org"},
			"!art:example.org":    {"!gallery:example.org"},
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(hs.handler))
	t.Cleanup(srv.Close)
	admin, err := adminapi.New(srv.URL, "admin-token")
	require.NoError(t, err)
	cli, err := mautrix.NewClient(srv.URL, "@gavel:example.org", "bot-token")
	require.NoError(t, err)
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "gavel.db"), zerolog.Nop())
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	cfg := &config.Config{Matrix: config.Matrix{ManagementRoom: "!mods:example.org"}, Commands: config.Commands{MinPowerLevel: 50}, Desks: desks}
	f := &fixture{hs: hs, st: st, cfg: cfg, admin: admin, cli: cli}
	f.desks = f.open()
	return f
}

// open makes the desks anew, as a restart does.
func (f *fixture) open() *Desks {
	ds := FromConfig(f.cfg)
	ds.Connect(f.admin, f.cli, f.st, zerolog.Nop())
	return ds
}

var (
	gaming = config.Desk{Name: "gaming", Room: "!gaming-mods:example.org", Spaces: []string{"#gaming:example.org"}, Rooms: []string{"https://matrix.to/#/#lobby:example.org"}}
	art    = config.Desk{Name: "art", Room: "!art-mods:example.org", Spaces: []string{"!art:example.org"}, Rooms: []string{"!lobby:example.org"}}
)

// TestRefreshAndRoute: a refresh puts a desk's rooms, its spaces' rooms
// (children of children included) and the spaces themselves in its
// scope; a report about a room goes to every desk covering it, in the
// configuration's order; the server desk covers every room.
func TestRefreshAndRoute(t *testing.T) {
	f := newFixture(t, gaming, art)
	ds := f.desks
	g, a := ds.ByName("gaming"), ds.ByName("art")
	assert.Empty(t, ds.Route("!chat:example.org"), "nothing read yet: no desk routes anything")
	assert.False(t, ds.Covers(g, "!chat:example.org"))

	require.NoError(t, ds.RefreshAll(ctx))
	assert.ElementsMatch(t, []id.RoomID{"!lobby:example.org", "!gaming:example.org", "!chat:example.org", "!sub:example.org", "!deep:example.org"}, ds.ScopeRooms(g))
	assert.ElementsMatch(t, []id.RoomID{"!lobby:example.org", "!art:example.org", "!gallery:example.org"}, ds.ScopeRooms(a))
	assert.Equal(t, []*Desk{g}, ds.Route("!deep:example.org"), "a sub-space's room is in scope")
	assert.Equal(t, []*Desk{g, a}, ds.Route("!lobby:example.org"), "in the configuration's order")
	assert.Empty(t, ds.Route("!elsewhere:example.org"))
	assert.True(t, ds.Covers(ds.Server(), "!elsewhere:example.org"))
	assert.True(t, ds.Covers(nil, "!elsewhere:example.org"))
	assert.False(t, ds.Covers(a, "!chat:example.org"))
	assert.Nil(t, ds.ScopeRooms(ds.Server()))
	sc := ds.ScopeOf(g)
	assert.Equal(t, 5, sc.Rooms)
	assert.NoError(t, sc.Err)
	assert.WithinDuration(t, time.Now(), sc.RefreshedAt, time.Minute)

	// A child added is in scope after the next refresh; one removed is
	// not.
	f.hs.set(func() { f.hs.spaces["!sub:example.org"] = []id.RoomID{"!new:example.org"} })
	require.NoError(t, ds.Refresh(ctx, g))
	assert.True(t, ds.Covers(g, "!new:example.org"))
	assert.False(t, ds.Covers(g, "!deep:example.org"))
	assert.NoError(t, ds.Refresh(ctx, ds.Server()), "the server desk has nothing to refresh")
}

// TestRefreshFailureKeepsTheScope: a space that cannot be read leaves the
// desk's scope as it was and says why, naming the desk and the space; a
// desk never read routes nothing; the other desks are refreshed.
func TestRefreshFailureKeepsTheScope(t *testing.T) {
	f := newFixture(t, gaming, art)
	ds := f.desks
	g, a := ds.ByName("gaming"), ds.ByName("art")
	require.NoError(t, ds.Refresh(ctx, g))
	before := ds.ScopeOf(g)

	f.hs.set(func() { delete(f.hs.spaces, "!gaming:example.org"); delete(f.hs.spaces, "!art:example.org") })
	err := ds.RefreshAll(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "desk gaming: space #gaming:example.org (!gaming:example.org): this homeserver knows no such room")
	assert.Contains(t, err.Error(), "desk art: space !art:example.org: this homeserver knows no such room")
	assert.Contains(t, err.Error(), "it keeps the scope it had")
	assert.True(t, ds.Covers(g, "!deep:example.org"), "the scope it had")
	sc := ds.ScopeOf(g)
	assert.Equal(t, before.Rooms, sc.Rooms)
	assert.Equal(t, before.RefreshedAt, sc.RefreshedAt, "last refresh: the last that worked")
	assert.ErrorContains(t, sc.Err, "desk gaming: space #gaming:example.org")
	assert.Empty(t, ds.ScopeRooms(a), "never read: nothing")
	assert.Empty(t, ds.Route("!lobby:example.org")[1:], "art routes nothing")

	// An alias that does not exist.
	f.hs.set(func() { delete(f.hs.aliases, "#lobby:example.org") })
	err = ds.Refresh(ctx, g)
	assert.ErrorContains(t, err, "desk gaming: room https://matrix.to/#/#lobby:example.org: the alias #lobby:example.org does not exist")

	// A refresh that works again clears the error.
	f.hs.set(func() {
		f.hs.spaces["!gaming:example.org"] = []id.RoomID{"!chat:example.org"}
		f.hs.aliases["#lobby:example.org"] = "!lobby:example.org"
	})
	require.NoError(t, ds.Refresh(ctx, g))
	assert.NoError(t, ds.ScopeOf(g).Err)
	assert.False(t, ds.Covers(g, "!deep:example.org"))
}

// TestLoad: the scope read before a restart routes after it, until the
// next refresh, unless the desk's spaces or rooms were configured
// otherwise since.
func TestLoad(t *testing.T) {
	f := newFixture(t, gaming, art)
	require.NoError(t, f.desks.RefreshAll(ctx))
	at := f.desks.ScopeOf(f.desks.ByName("gaming")).RefreshedAt

	// The homeserver is down at the restart: the stored scope routes.
	f.hs.set(func() { f.hs.spaces = nil })
	ds := f.open()
	require.NoError(t, ds.Load(ctx, f.st))
	g := ds.ByName("gaming")
	assert.Equal(t, []*Desk{g, ds.ByName("art")}, ds.Route("!lobby:example.org"))
	assert.True(t, ds.Covers(g, "!deep:example.org"))
	assert.Equal(t, at.UnixMilli(), ds.ScopeOf(g).RefreshedAt.UnixMilli())
	require.Error(t, ds.Refresh(ctx, g))
	assert.True(t, ds.Covers(g, "!deep:example.org"), "a failed refresh keeps the loaded scope")

	// gaming lists its spaces in another order (same scope), art another
	// space: art's stored scope is not the one configured.
	f.cfg.Desks[0].Spaces = []string{"#gaming:example.org"}
	f.cfg.Desks[1].Spaces = []string{"!other:example.org"}
	ds = f.open()
	require.NoError(t, ds.Load(ctx, f.st))
	assert.True(t, ds.Covers(ds.ByName("gaming"), "!deep:example.org"))
	assert.False(t, ds.Covers(ds.ByName("art"), "!gallery:example.org"), "read from another configuration: not used")
	assert.Zero(t, ds.ScopeOf(ds.ByName("art")).Rooms)
}

// TestRefreshWaitsOutARateLimit: a 429 on a page of the hierarchy is
// waited out and the page asked for again.
func TestRefreshWaitsOutARateLimit(t *testing.T) {
	f := newFixture(t, gaming)
	f.hs.set(func() { f.hs.rateLimited = 3 })
	require.NoError(t, f.desks.RefreshAll(ctx))
	assert.True(t, f.desks.Covers(f.desks.ByName("gaming"), "!deep:example.org"))
}

// TestRefreshWithoutAdminHierarchy: on a Synapse without the admin API's
// room hierarchy, the client API's is read as Gavel's account.
func TestRefreshWithoutAdminHierarchy(t *testing.T) {
	f := newFixture(t, gaming)
	f.hs.set(func() { f.hs.noAdminHierarchy = true })
	require.NoError(t, f.desks.RefreshAll(ctx))
	assert.True(t, f.desks.Covers(f.desks.ByName("gaming"), "!deep:example.org"))
	assert.Contains(t, f.hs.requests, "GET /_matrix/client/v1/rooms/!gaming:example.org/hierarchy")
}

// TestRefreshBeforeConnect says what is missing instead of panicking.
func TestRefreshBeforeConnect(t *testing.T) {
	ds := FromConfig(&config.Config{Desks: []config.Desk{gaming}})
	assert.EqualError(t, ds.Refresh(ctx, ds.ByName("gaming")), "desk gaming: cannot read its scope: Connect was not called")
}

func ExampleDesks_Route() {
	ds := FromConfig(&config.Config{Matrix: config.Matrix{ManagementRoom: "!mods:example.org"}, Desks: []config.Desk{gaming}})
	g := ds.ByName("gaming")
	ds.set(g, map[id.RoomID]struct{}{"!chat:example.org": {}}, time.Now(), nil)
	for _, d := range ds.Route("!chat:example.org") {
		fmt.Println(d.Label())
	}
	fmt.Println(len(ds.Route("!elsewhere:example.org")))
	// Output:
	// #gaming
	// 0
}
