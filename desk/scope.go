package desk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/internal/mxid"
	"github.com/gavel-bot/gavel/internal/retry"
	"github.com/gavel-bot/gavel/store"
)

// maxRateLimitWaits bounds how often one reading of a space waits out a
// rate limit: Synapse lets an account read 5 pages of a hierarchy a
// second, after 10, unless its rate limit is lifted.
const maxRateLimitWaits = 100

// maxRateLimitWait is the longest rate limit a reading waits out; a longer
// one fails the refresh, and the next one tries again.
const maxRateLimitWait = 30 * time.Second

// Connect gives ds what reading scopes needs: the admin API (a space's
// rooms), Gavel's own account (aliases, and a space's rooms on a Synapse
// without the admin API's room hierarchy, before 1.142), the database
// (the scope kept across restarts; nil keeps it in memory only) and a
// logger. Refresh, RefreshAll and Run need it.
func (ds *Desks) Connect(admin *adminapi.Client, matrix *mautrix.Client, st *store.Store, log zerolog.Logger) {
	ds.admin, ds.matrix, ds.st, ds.log = admin, matrix, st, log
}

// Load sets each community desk's scope to the one stored in st, when it
// was read from the desk's spaces and rooms as configured now: a restart
// routes as before until the next refresh. A desk configured otherwise
// since, or never read, keeps an empty scope until Refresh.
func (ds *Desks) Load(ctx context.Context, st *store.Store) error {
	stored, err := st.DeskRooms.All(ctx)
	if err != nil {
		return fmt.Errorf("reading the desks' scopes from the database: %w", err)
	}
	for _, d := range ds.all[1:] {
		sc := stored[d.Name]
		if sc == nil || sc.Source != source(d) {
			continue
		}
		rooms := make(map[id.RoomID]struct{}, len(sc.Rooms))
		for _, r := range sc.Rooms {
			rooms[r.RoomID] = struct{}{}
		}
		ds.set(d, rooms, sc.RefreshedAt, nil)
	}
	return nil
}

// source says what d's scope is read from, as stored with it: its spaces
// and rooms as configured, in any order.
func source(d *Desk) string {
	return "spaces=" + strings.Join(slices.Sorted(slices.Values(d.Spaces)), ",") +
		" rooms=" + strings.Join(slices.Sorted(slices.Values(d.Rooms)), ",")
}

// RefreshAll refreshes every community desk, one after the other; a desk
// that fails does not stop the others. It returns their errors joined.
func (ds *Desks) RefreshAll(ctx context.Context) error {
	var errs []error
	for _, d := range ds.all[1:] {
		if err := ds.Refresh(ctx, d); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Run refreshes every community desk at once and then every RefreshEvery,
// until ctx ends. Failures are logged and kept in each desk's Scope.
func (ds *Desks) Run(ctx context.Context) {
	if len(ds.all) == 1 {
		return
	}
	_ = ds.RefreshAll(ctx)
	tick := time.NewTicker(RefreshEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			_ = ds.RefreshAll(ctx)
		}
	}
}

// Refresh reads d's scope again — its rooms, each alias resolved, and the
// rooms in its spaces, children of children included — and makes it d's
// scope, in memory and in the database. When any of it cannot be read, d
// keeps the scope it had (none, if it was never read) and Scope.Err says
// why; the error names the desk and the space or room. The server desk
// has nothing to refresh.
func (ds *Desks) Refresh(ctx context.Context, d *Desk) error {
	if d == nil || d.IsServer() {
		return nil
	}
	if ds.admin == nil {
		return fmt.Errorf("desk %s: cannot read its scope: Connect was not called", d.Name)
	}
	ds.refreshing.Lock()
	defer ds.refreshing.Unlock()
	start := time.Now()
	rooms, err := ds.read(ctx, d)
	if err != nil {
		err = fmt.Errorf("desk %s: %w; it keeps the scope it had", d.Name, err)
		ds.set(d, nil, start, err)
		ds.log.Warn().Err(err).Str("desk", d.Name).Msg("Could not read a desk's scope")
		return err
	}
	scope := make(map[id.RoomID]struct{}, len(rooms))
	for _, r := range rooms {
		scope[r.RoomID] = struct{}{}
	}
	ds.set(d, scope, start, nil)
	ds.log.Debug().Str("desk", d.Name).Int("rooms", len(scope)).Dur("took", time.Since(start)).Msg("Read a desk's scope")
	if ds.st == nil {
		return nil
	}
	if err := ds.st.DeskRooms.Replace(ctx, d.Name, store.DeskScope{Rooms: rooms, Source: source(d), RefreshedAt: start}); err != nil {
		err = fmt.Errorf("desk %s: storing its scope: %w (it is in use until Gavel restarts)", d.Name, err)
		ds.log.Warn().Err(err).Str("desk", d.Name).Msg("Could not store a desk's scope")
		return err
	}
	return nil
}

// read returns the rooms in d's scope: the rooms it lists, then the rooms
// of each of its spaces, each room once.
func (ds *Desks) read(ctx context.Context, d *Desk) ([]store.DeskRoom, error) {
	var rooms []store.DeskRoom
	seen := map[id.RoomID]bool{}
	for _, r := range d.Rooms {
		roomID, err := ds.resolve(ctx, r)
		if err != nil {
			return nil, fmt.Errorf("room %s: %w", r, err)
		}
		if !seen[roomID] {
			seen[roomID] = true
			rooms = append(rooms, store.DeskRoom{RoomID: roomID})
		}
	}
	for _, s := range d.Spaces {
		spaceID, err := ds.resolve(ctx, s)
		if err != nil {
			return nil, fmt.Errorf("space %s: %w", s, err)
		}
		in, err := SpaceRooms(ctx, ds.admin, ds.matrix, spaceID)
		if err != nil {
			name := string(spaceID)
			if s != name {
				name = s + " (" + name + ")"
			}
			return nil, fmt.Errorf("space %s: %w", name, err)
		}
		for _, roomID := range in {
			if !seen[roomID] {
				seen[roomID] = true
				rooms = append(rooms, store.DeskRoom{RoomID: roomID, Via: spaceID})
			}
		}
	}
	return rooms, nil
}

// resolve is Resolve through Gavel's own account (the admin token's
// account without one).
func (ds *Desks) resolve(ctx context.Context, s string) (id.RoomID, error) {
	cli := ds.matrix
	if cli == nil {
		cli = ds.admin.Matrix()
	}
	return Resolve(ctx, cli, s)
}

// Resolve returns the room id of a room as configured: a room id, an
// alias (resolved through cli) or a link to either.
func Resolve(ctx context.Context, cli *mautrix.Client, s string) (id.RoomID, error) {
	ref, err := mxid.ParseRoom(s)
	if err != nil {
		return "", err
	}
	if ref.Alias == "" {
		return ref.ID, nil
	}
	resp, err := cli.ResolveAlias(ctx, ref.Alias)
	switch {
	case retry.Status(err) == http.StatusNotFound:
		return "", fmt.Errorf("the alias %s does not exist: check the desk's configuration, or the room's aliases", ref.Alias)
	case err != nil:
		return "", fmt.Errorf("resolving the alias %s: %w", ref.Alias, err)
	case mxid.ValidateRoomID(resp.RoomID) != nil:
		return "", fmt.Errorf("the alias %s resolves to %s, which is not a valid room id", ref.Alias, mxid.Shown(string(resp.RoomID)))
	}
	return resp.RoomID, nil
}

// SpaceRooms returns the rooms in space, the space itself included,
// children of children too: from the admin API's room hierarchy, or on a
// Synapse without it (before 1.142), from the client API's through
// matrix, Gavel's own account, which then sees only what that account may
// see (it must be in the space, or the space public). A rate limit is
// waited out. A space this server knows nothing of is an error.
func SpaceRooms(ctx context.Context, admin *adminapi.Client, matrix *mautrix.Client, space id.RoomID) ([]id.RoomID, error) {
	waits := 0
	again := func(ctx context.Context, err error) bool {
		wait, limited := retry.RateLimitWait(err, time.Second)
		if !limited || wait > maxRateLimitWait || waits >= maxRateLimitWaits {
			return false
		}
		waits++
		return retry.Sleep(ctx, wait) == nil
	}
	rooms, err := admin.SpaceRooms(ctx, space, again)
	if adminapi.IsUnsupported(err) && matrix != nil {
		rooms, err = adminapi.WalkHierarchy(ctx, func(ctx context.Context, from string) (*mautrix.RespHierarchy, error) {
			return matrix.Hierarchy(ctx, space, &mautrix.ReqHierarchy{From: from, Limit: adminapi.HierarchyPageSize})
		}, again)
		if retry.Status(err) == http.StatusForbidden || retry.Status(err) == http.StatusNotFound {
			return nil, fmt.Errorf("%s cannot see it (this Synapse has no admin API for a space's rooms, so Gavel reads them as itself): invite Gavel's account to the space, or check the room id: %w", matrix.UserID, err)
		}
	}
	if err != nil {
		// Synapse 1.160 answers 500 for a room it is not in: say so
		// when that is why.
		if _, infoErr := admin.RoomInfo(ctx, space); adminapi.IsNotFound(infoErr) {
			return nil, errUnknownSpace
		}
		return nil, fmt.Errorf("reading its rooms: %w", err)
	}
	if !slices.Contains(rooms, space) {
		return nil, errUnknownSpace
	}
	return rooms, nil
}

var errUnknownSpace = errors.New("this homeserver knows no such room: check the room id or alias, and that an account of this server is in the space")
