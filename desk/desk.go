// Package desk holds Gavel's desks: the server desk
// (matrix.management_room), which gets every report and runs every
// command, and the community desks (desks in the configuration), each a
// management room with a scope — the rooms it lists and the rooms in its
// spaces, children of children included. It answers where a report's
// cards go (Route), whether a room is in a desk's scope (Covers) and
// which commands a desk offers at all (Offers); package moderation checks
// the scope at the resolved target before any admin API call.
//
// Scope is kept in memory and in the database (store.DeskRooms), so that
// routing costs no admin API call per report and a restart does not lose
// it; spaces are read again every RefreshEvery and on !desk refresh.
// FromConfig makes the desks; Connect gives them the admin API, Gavel's
// account and the database, Load the stored scopes, Run reads them again
// at once and every RefreshEvery, Refresh one desk's now (scope.go).
//
// Of Gavel's packages it may import: adminapi, commands, config,
// internal/mxid, internal/retry, notice, store.
package desk

import (
	"sync"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/store"
)

// RefreshEvery is how often a desk's spaces are read again.
const RefreshEvery = 10 * time.Minute

// Desk is a management room and what it covers.
type Desk struct {
	// Name is the desk's name from the configuration; "" for the server
	// desk.
	Name string
	Room id.RoomID
	// Levels are the power levels each command needs in the desk's room.
	Levels commands.Levels
	// ServerCopy: the server desk gets a card of this desk's reports too.
	ServerCopy bool
	// Spaces and Rooms are the desk's scope as configured (ids or
	// aliases).
	Spaces, Rooms []string
}

// IsServer reports whether d is the server desk.
func (d *Desk) IsServer() bool { return d.Name == "" }

// Label is how cards and replies name the desk: "#gaming", or "the
// server desk".
func (d *Desk) Label() string {
	if d.IsServer() {
		return "the server desk"
	}
	return "#" + d.Name
}

// Offers reports whether the desk runs command s at all: the server desk
// runs every command; a community desk only those that stay inside its
// scope (what can be read, its cases, and acting in its rooms), not the
// account-wide and server-wide ones.
func (d *Desk) Offers(s *commands.Spec) bool {
	if d.IsServer() || s == nil {
		return true
	}
	if serverWideReads[s.Name] {
		return false
	}
	switch s.Group {
	case commands.GroupRead, commands.GroupCases, commands.GroupRoom:
		return true
	}
	return s.InScope
}

// serverWideReads are the read commands that show the whole server (an
// account's details, every moderator's actions, the team's figures),
// which a community desk does not see.
var serverWideReads = map[string]bool{"user": true, "audit": true, "stats": true}

// Scope is where a desk's scope stands, for !status.
type Scope struct {
	// Rooms is how many rooms are in scope.
	Rooms int
	// RefreshedAt is when the spaces were last read; zero before that.
	RefreshedAt time.Time
	// Err is why the last refresh failed, nil when it did not.
	Err error
}

// Desks is every desk, the server desk first, with their scopes.
type Desks struct {
	server *Desk
	all    []*Desk
	byRoom map[id.RoomID]*Desk

	mu sync.RWMutex
	// rooms is each community desk's scope, by desk name.
	rooms map[string]map[id.RoomID]struct{}
	scope map[string]Scope

	// What reading scopes needs (Connect).
	admin  *adminapi.Client
	matrix *mautrix.Client
	st     *store.Store
	log    zerolog.Logger
	// refreshing makes one refresh at a time: Run's and !desk refresh's.
	refreshing sync.Mutex
}

// FromConfig returns the desks cfg configures, the server desk first,
// with empty scopes: Load and Refresh fill them.
func FromConfig(cfg *config.Config) *Desks {
	server := &Desk{Room: cfg.Matrix.ManagementRoom, Levels: cfg.Commands.Levels(), ServerCopy: true}
	ds := &Desks{server: server, all: []*Desk{server}, byRoom: map[id.RoomID]*Desk{server.Room: server},
		rooms: map[string]map[id.RoomID]struct{}{}, scope: map[string]Scope{}, log: zerolog.Nop()}
	for _, c := range cfg.Desks {
		d := &Desk{Name: c.Name, Room: c.Room, ServerCopy: c.CopiesToServerDesk(), Spaces: c.Spaces, Rooms: c.Rooms,
			Levels: commands.Levels{Min: cfg.Commands.MinPowerLevel, Set: c.PowerLevels}}
		ds.all = append(ds.all, d)
		ds.byRoom[d.Room] = d
	}
	return ds
}

// Server returns the server desk.
func (ds *Desks) Server() *Desk { return ds.server }

// All returns every desk, the server desk first.
func (ds *Desks) All() []*Desk { return ds.all }

// Rooms returns every desk's room, the server desk's first.
func (ds *Desks) Rooms() []id.RoomID {
	rooms := make([]id.RoomID, len(ds.all))
	for i, d := range ds.all {
		rooms[i] = d.Room
	}
	return rooms
}

// ByRoom returns the desk whose room is room, or nil.
func (ds *Desks) ByRoom(room id.RoomID) *Desk { return ds.byRoom[room] }

// ByName returns the community desk called name, or nil.
func (ds *Desks) ByName(name string) *Desk {
	for _, d := range ds.all[1:] {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// Route returns the community desks whose scope holds room, in the
// configuration's order: a report about room gets a card in each.
func (ds *Desks) Route(room id.RoomID) []*Desk {
	ds.mu.RLock()
	defer ds.mu.RUnlock()
	var to []*Desk
	for _, d := range ds.all[1:] {
		if _, ok := ds.rooms[d.Name][room]; ok {
			to = append(to, d)
		}
	}
	return to
}

// Covers reports whether room is in d's scope; the server desk covers
// every room.
func (ds *Desks) Covers(d *Desk, room id.RoomID) bool {
	if d == nil || d.IsServer() {
		return true
	}
	ds.mu.RLock()
	defer ds.mu.RUnlock()
	_, ok := ds.rooms[d.Name][room]
	return ok
}

// ScopeRooms returns the rooms in d's scope (nil for the server desk,
// which covers every room).
func (ds *Desks) ScopeRooms(d *Desk) []id.RoomID {
	if d == nil || d.IsServer() {
		return nil
	}
	ds.mu.RLock()
	defer ds.mu.RUnlock()
	rooms := make([]id.RoomID, 0, len(ds.rooms[d.Name]))
	for r := range ds.rooms[d.Name] {
		rooms = append(rooms, r)
	}
	return rooms
}

// ScopeOf returns where d's scope stands.
func (ds *Desks) ScopeOf(d *Desk) Scope {
	ds.mu.RLock()
	defer ds.mu.RUnlock()
	s := ds.scope[d.Name]
	s.Rooms = len(ds.rooms[d.Name])
	return s
}

// set makes rooms d's scope, as read at at (err: why reading failed; the
// scope then stays what it was when rooms is nil).
func (ds *Desks) set(d *Desk, rooms map[id.RoomID]struct{}, at time.Time, err error) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if rooms != nil {
		ds.rooms[d.Name] = rooms
	}
	s := ds.scope[d.Name]
	if err == nil {
		s.RefreshedAt = at
	}
	s.Err = err
	ds.scope[d.Name] = s
}
