package preflight

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/desk"
	"github.com/gavel-bot/gavel/internal/e2ee"
	"github.com/gavel-bot/gavel/internal/retry"
	"github.com/gavel-bot/gavel/roomreports"
	"github.com/gavel-bot/gavel/store"
)

// checkTimeout bounds each check: -check is for deploy scripts, which
// should hear of a homeserver that does not answer, not wait for it as
// Gavel itself does.
const checkTimeout = 20 * time.Second

// ErrFailed is Run's error when a check failed; the line it printed says
// what failed and what to do.
var ErrFailed = errors.New("a check failed")

// Run checks the configuration at path (and prints the power level each
// command needs) and everything Gavel needs at start — the homeserver,
// both tokens, admin rights, Synapse's version, the management room,
// encryption settings, the policy lists, Synapse's database for room
// reports, Gavel's own database and each desk's room and spaces —
// printing one line per check to out,
// and stops at the first failure with ErrFailed. It changes nothing: it
// joins no room, sends nothing and neither creates nor upgrades the
// database, so it can run next to a running Gavel. No token is printed.
func Run(ctx context.Context, path string, out io.Writer) error {
	r := &run{out: out}
	cfg, err := config.Load(path)
	if err != nil {
		return r.fail("config", fmt.Errorf("%s: %w", path, err))
	}
	r.ok("config", "%s is valid", path)
	for _, w := range cfg.Warnings() {
		r.line("warn", "config", "%s", w)
	}
	r.cfg = cfg
	r.roles()
	if r.client, err = mautrix.NewClient(cfg.Matrix.Homeserver, cfg.Matrix.UserID, cfg.Matrix.AccessToken); err != nil {
		return r.fail("config", fmt.Errorf("matrix.homeserver: %w", err))
	}
	adminCli, err := mautrix.NewClient(cfg.Matrix.Homeserver, "", cfg.AdminToken())
	if err != nil {
		return r.fail("config", fmt.Errorf("matrix.homeserver: %w", err))
	}
	for _, c := range []*mautrix.Client{r.client, adminCli} {
		c.DefaultHTTPRetries = 0
		c.Client.Timeout = checkTimeout
	}
	r.admin = adminapi.Wrap(adminCli)
	for _, c := range []struct {
		name string
		fn   func(context.Context) (string, error)
	}{
		{"homeserver", r.homeserver},
		{"bot token", r.botToken},
		{"admin token", r.adminToken},
		{"synapse", r.synapseVersion},
		{"management room", r.managementRoom},
		{"encryption", r.encryption},
		{"policy lists", r.policyLists},
		{"synapse.database", r.synapseDatabase},
		{"database", r.database},
	} {
		checkCtx, cancel := context.WithTimeout(ctx, checkTimeout)
		msg, err := c.fn(checkCtx)
		cancel()
		if err != nil {
			return r.fail(c.name, err)
		}
		r.ok(c.name, "%s", msg)
	}
	if err := r.desks(ctx); err != nil {
		return err
	}
	if w := Unreachable(r.cfg.Commands, r.state, r.cfg.Matrix.UserID); w != "" {
		r.line("warn", "roles", "%s", w)
	}
	return nil
}

type run struct {
	out    io.Writer
	cfg    *config.Config
	client *mautrix.Client  // the bot's token
	admin  *adminapi.Client // the admin token
	state  []*event.Event   // the management room's state, read with the admin token
}

func (r *run) line(status, name, format string, args ...any) {
	fmt.Fprintf(r.out, "%-4s %s: %s\n", status, name, fmt.Sprintf(format, args...))
}

func (r *run) ok(name, format string, args ...any) { r.line("ok", name, format, args...) }

func (r *run) fail(name string, err error) error {
	r.line("FAIL", name, "%v", err)
	return ErrFailed
}

func (r *run) homeserver(ctx context.Context) (string, error) {
	versions, err := r.client.Versions(ctx)
	if err != nil {
		return "", fmt.Errorf("cannot reach matrix.homeserver %s (%s): check the URL, and that Synapse is running and reachable from here", r.cfg.Matrix.Homeserver, retry.ErrCode(err))
	}
	return fmt.Sprintf("%s answers (Matrix %s)", r.cfg.Matrix.Homeserver, versions.GetLatest()), nil
}

func (r *run) botToken(ctx context.Context) (string, error) {
	who, err := r.client.Whoami(ctx)
	if err := BotToken(r.cfg, who, err); err != nil {
		return "", err
	}
	return fmt.Sprintf("matrix.access_token is %s's (device %s)", who.UserID, who.DeviceID), nil
}

func (r *run) adminToken(ctx context.Context) (string, error) {
	user, isAdmin, err := r.admin.IsServerAdmin(ctx)
	if err := AdminToken(r.cfg, user, isAdmin, err); err != nil {
		return "", err
	}
	which := "synapse.admin_access_token"
	if r.cfg.Synapse.AdminAccessToken == "" {
		which = "matrix.access_token (synapse.admin_access_token is empty)"
	}
	return fmt.Sprintf("%s is %s's, a server admin", which, user), nil
}

func (r *run) synapseVersion(ctx context.Context) (string, error) {
	version, err := r.admin.ServerVersion(ctx)
	if err != nil {
		return "", fmt.Errorf("reading Synapse's version: %v", err)
	}
	return "Synapse " + version, nil
}

// managementRoom checks the bot is in the room, or invited (Gavel joins
// when it starts).
func (r *run) managementRoom(ctx context.Context) (string, error) {
	msg, state, err := r.inRoom(ctx, r.cfg.Matrix.ManagementRoom, "matrix.management_room")
	r.state = state
	return msg, err
}

// inRoom checks the bot is in room (configured at key), or invited, and
// returns the room's state. The membership comes from the room's state
// through the admin API, which answers for a room the bot has not joined
// yet.
func (r *run) inRoom(ctx context.Context, room id.RoomID, key string) (string, []*event.Event, error) {
	bot := r.cfg.Matrix.UserID
	joined, err := r.client.JoinedRooms(ctx)
	if err != nil {
		return "", nil, fmt.Errorf("listing the bot's rooms: %v", err)
	}
	var resp struct {
		State []*event.Event `json:"state"`
	}
	_, err = r.admin.Matrix().MakeRequest(ctx, http.MethodGet, r.admin.Matrix().BuildURL(mautrix.SynapseAdminURLPath{"v1", "rooms", room, "state"}), nil, &resp)
	if retry.Status(err) == http.StatusNotFound {
		return "", nil, fmt.Errorf("%s %s does not exist on this homeserver: check the room id", key, room)
	} else if err != nil {
		return "", nil, fmt.Errorf("reading the state of %s %s: %v", key, room, err)
	}
	for _, j := range joined.JoinedRooms {
		if j == room {
			return fmt.Sprintf("%s is in %s %s", bot, key, room), resp.State, nil
		}
	}
	if membership(resp.State, bot) == event.MembershipInvite {
		return fmt.Sprintf("%s is invited to %s %s and joins it when Gavel starts", bot, key, room), resp.State, nil
	}
	return "", nil, fmt.Errorf("%s is not in %s %s (membership: %s): invite it to the room, or check the room id", bot, key, room, orNone(membership(resp.State, bot)))
}

// desks checks each desk: Gavel is in its room or invited, the room's
// encryption is one Gavel can follow, each of its rooms' aliases
// resolves and each of its spaces can be read; one line each. It returns
// the first failure.
func (r *run) desks(ctx context.Context) error {
	for i, d := range r.cfg.Desks {
		key := fmt.Sprintf("desks[%d]", i)
		name := "desk " + d.Name
		checkCtx, cancel := context.WithTimeout(ctx, checkTimeout)
		msg, state, err := r.inRoom(checkCtx, d.Room, key+".room")
		cancel()
		if err != nil {
			return r.fail(name, err)
		}
		if encrypted(state) {
			if r.cfg.Encryption.PickleKey == "" || !e2ee.Available {
				return r.fail(name, fmt.Errorf("%s.room %s is end-to-end encrypted, and this Gavel cannot read it: set encryption.pickle_key (or GAVEL_PICKLE_KEY), as for the management room", key, d.Room))
			}
			msg += " (end-to-end encrypted)"
		}
		r.ok(name, "%s", msg)
		for j, s := range d.Rooms {
			checkCtx, cancel := context.WithTimeout(ctx, checkTimeout)
			roomID, err := desk.Resolve(checkCtx, r.client, s)
			cancel()
			if err != nil {
				return r.fail(name, fmt.Errorf("%s.rooms[%d] %s: %w", key, j, s, err))
			}
			if s != string(roomID) {
				r.ok(name, "room %s is %s", s, roomID)
			}
		}
		for j, s := range d.Spaces {
			checkCtx, cancel := context.WithTimeout(ctx, checkTimeout)
			n, err := r.space(checkCtx, s)
			cancel()
			if err != nil {
				return r.fail(name, fmt.Errorf("%s.spaces[%d] %s: %w", key, j, s, err))
			}
			r.ok(name, "space %s holds %d rooms, itself and its sub-spaces included", s, n)
		}
	}
	return nil
}

// space returns how many rooms the space s (an id, alias or link) holds.
func (r *run) space(ctx context.Context, s string) (int, error) {
	spaceID, err := desk.Resolve(ctx, r.client, s)
	if err != nil {
		return 0, err
	}
	rooms, err := desk.SpaceRooms(ctx, r.admin, r.client, spaceID)
	return len(rooms), err
}

func encrypted(state []*event.Event) bool {
	for _, evt := range state {
		if evt.Type == event.StateEncryption && evt.StateKey != nil && *evt.StateKey == "" {
			return true
		}
	}
	return false
}

func membership(state []*event.Event, user id.UserID) event.Membership {
	for _, evt := range state {
		if evt.Type == event.StateMember && evt.StateKey != nil && *evt.StateKey == string(user) {
			if m, ok := evt.Content.Raw["membership"].(string); ok {
				return event.Membership(m)
			}
		}
	}
	return ""
}

func orNone(m event.Membership) string {
	if m == "" {
		return "none"
	}
	return string(m)
}

func (r *run) encryption(context.Context) (string, error) {
	encrypted := encrypted(r.state)
	if err := Encryption(r.cfg, encrypted); err != nil {
		return "", err
	}
	switch {
	case r.cfg.Encryption.PickleKey != "" && !e2ee.Available:
		return "", fmt.Errorf("encryption.pickle_key is set, but %v", e2ee.ErrNotBuilt)
	case encrypted:
		return "the room is end-to-end encrypted, encryption.pickle_key is set and this Gavel has encryption", nil
	case r.cfg.Encryption.PickleKey != "":
		return "the room is not encrypted; encryption.pickle_key is set, so Gavel follows if it turns encrypted", nil
	}
	return "the room is not encrypted, and encryption.pickle_key is empty: if the room turns encrypted, Gavel cannot read it", nil
}

func (r *run) synapseDatabase(ctx context.Context) (string, error) {
	if r.cfg.Synapse.Database == "" {
		return "not set: Gavel reads room reports once Synapse has an admin API for them", nil
	}
	src, err := roomreports.Open(ctx, r.admin, r.cfg.Synapse.Database)
	if err != nil {
		return "", err
	}
	_ = src.Close()
	return "Synapse's room_reports table is readable", nil
}

func (r *run) database(ctx context.Context) (string, error) {
	schema, err := store.Inspect(ctx, r.cfg.Database.URI)
	if err != nil {
		return "", fmt.Errorf("database.uri: %w", err)
	}
	return store.DatabaseName(r.cfg.Database.URI) + " " + schema.String(), nil
}
