package bot

// The integration test environment: a real Synapse, a management room with
// a moderator and a low-power member, a public room with a spammer and a
// reporter, and Gavel running in-process against them.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/internal/faultproxy"
	"github.com/gavel-bot/gavel/internal/pgtest"
	"github.com/gavel-bot/gavel/internal/synapsetest"
	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/store"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	synapsetest.StopShared()
	synapsetest.RemoveBinary()
	os.Exit(code)
}

var bg = context.Background()

type env struct {
	t           *testing.T
	srv         *synapsetest.Server
	botCli      *mautrix.Client // Gavel's account, a server admin
	botPassword string
	admin       *adminapi.Client
	mod         *mautrix.Client // power 100 in the management room
	modPassword string
	member      *mautrix.Client // power 0 in the management room
	spammer     *mautrix.Client
	reporter    *mautrix.Client
	room        id.RoomID // management room
	public      id.RoomID // where the spam is
	cfg         *config.Config
	opts        Options
	// logger, when set, replaces the test log that shows on failure.
	logger *zerolog.Logger
	// proxy, after viaProxy, stands between Gavel and Synapse.
	proxy *faultproxy.Proxy
	world *synapsetest.World
}

// newEnv sets up users and rooms on srv (the package's shared Synapse when
// nil) and a configuration whose database is a fresh SQLite file.
func newEnv(t *testing.T, srv *synapsetest.Server) *env {
	t.Helper()
	if srv == nil {
		srv = synapsetest.Shared(t)
	}
	w, err := srv.NewWorld(bg, synapsetest.WorldOptions{Unique: true, ModeratorName: "mod", Members: []string{"member"},
		PublicRoomName: "Free <b>stuff</b>", PublicAlias: "spam"})
	require.NoError(t, err)
	e := &env{t: t, srv: srv,
		botCli: w.Bot, botPassword: w.BotPassword, admin: w.Admin,
		mod: w.Moderator, modPassword: w.ModeratorPassword, member: w.Members[0],
		spammer: w.Spammer, reporter: w.Reporter, room: w.ManagementRoom, public: w.PublicRoom, world: w}

	cfg := w.Config()
	cfg.Database.URI = filepath.Join(t.TempDir(), "gavel.db")
	cfg.Reports.PollInterval = 200 * time.Millisecond
	cfg.Reports.OnFirstStart = config.FirstStartPost
	// One notice per report, however many other tests left open on the
	// shared server; the digest tests set their own.
	cfg.Reports.MaxIndividual = 1000
	cfg.Logging.Level = "debug"
	require.NoError(t, cfg.Validate())
	e.cfg = &cfg
	// Other tests on the shared server delete their reports, which leaves
	// long gaps in the ids that only a listing crosses (see feed/probe.go):
	// list every second rather than every ten, however slow a listing of
	// the busy shared server is.
	e.opts.Feed.ListEvery, e.opts.Feed.ListShare = time.Second, 1
	return e
}

// viaProxy puts a fault-injecting, recording proxy between Gavel and
// Synapse. The test's own clients still talk to Synapse directly.
func (e *env) viaProxy() *faultproxy.Proxy {
	e.t.Helper()
	p, err := faultproxy.New(e.srv.URL)
	require.NoError(e.t, err)
	e.t.Cleanup(p.Close)
	e.proxy = p
	e.cfg.Matrix.Homeserver = p.URL
	return p
}

// usePostgres switches the environment's database to a fresh PostgreSQL one.
func (e *env) usePostgres() { e.cfg.Database.URI = pgtest.URI(e.t) }

// running is a Gavel running in the background.
type running struct {
	bot    *Bot
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// start opens the store and runs Gavel until the test ends or stop is called.
func (e *env) start(configure ...func(*Options)) *running {
	e.t.Helper()
	log := testLog(e.t)
	if e.logger != nil {
		log = *e.logger
	}
	st, err := store.Open(bg, e.cfg.Database.URI, log)
	require.NoError(e.t, err)
	opts := e.opts
	opts.Version = "test"
	for _, f := range configure {
		f(&opts)
	}
	b, err := New(e.cfg, st, log, opts)
	require.NoError(e.t, err)
	ctx, cancel := context.WithCancel(bg)
	r := &running{bot: b, cancel: cancel, done: make(chan error, 1)}
	require.NoError(e.t, b.Start(ctx))
	go func() {
		err := b.Run(ctx)
		st.Close()
		r.done <- err
	}()
	e.t.Cleanup(func() { r.stop() })
	return r
}

// stop shuts Gavel down as SIGTERM would and returns Run's error.
func (r *running) stop() error {
	r.once.Do(func() {
		r.cancel()
		select {
		case r.err = <-r.done:
		case <-time.After(time.Minute):
			r.err = errors.New("gavel did not stop within a minute")
		}
	})
	return r.err
}

// say sends a message as cli into the management room.
func (e *env) say(cli *mautrix.Client, body string) id.EventID {
	e.t.Helper()
	resp, err := cli.SendText(bg, e.room, body)
	require.NoError(e.t, err)
	return resp.EventID
}

// spam sends a message as the spammer into the public room.
func (e *env) spam(body string) id.EventID {
	e.t.Helper()
	evt, err := e.world.Spam(bg, body)
	require.NoError(e.t, err)
	return evt
}

// report files a report as the reporter.
func (e *env) report(eventID id.EventID, reason string) {
	e.t.Helper()
	require.NoError(e.t, e.world.Report(bg, eventID, reason))
}

// reportID returns Synapse's id of the newest report about eventID.
func (e *env) reportID(eventID id.EventID) int64 {
	e.t.Helper()
	reportID, err := e.world.ReportID(bg, eventID)
	require.NoError(e.t, err)
	return reportID
}

// botMessages returns Gavel's messages in the management room, oldest first.
func (e *env) botMessages() []*event.Event {
	e.t.Helper()
	filter := &mautrix.FilterPart{Senders: []id.UserID{e.botCli.UserID}, Types: []event.Type{event.EventMessage}}
	resp, err := e.mod.Messages(bg, e.room, "", "", mautrix.DirectionBackward, filter, 500)
	require.NoError(e.t, err)
	var out []*event.Event
	for i := len(resp.Chunk) - 1; i >= 0; i-- {
		evt := resp.Chunk[i]
		_ = evt.Content.ParseRaw(evt.Type)
		out = append(out, evt)
	}
	return out
}

// notices returns Gavel's notices about reports in this environment's
// public room, oldest first. (With on_first_start: post, Gavel also posts
// other tests' reports on a shared server.)
func (e *env) notices() []*event.Event {
	var out []*event.Event
	for _, evt := range e.botMessages() {
		if _, ok := evt.Content.Raw["gavel.report"]; ok && !isEdit(evt) && field(e.t, evt).RoomID == e.public {
			out = append(out, evt)
		}
	}
	return out
}

// isEdit reports whether evt is an edit (m.replace) of an earlier message.
func isEdit(evt *event.Event) bool {
	rel := evt.Content.AsMessage().RelatesTo
	return rel != nil && rel.Type == event.RelReplace
}

// waitNotices waits until Gavel has posted n report notices, and returns
// them.
func (e *env) waitNotices(n int) []*event.Event {
	e.t.Helper()
	var got []*event.Event
	require.Eventuallyf(e.t, func() bool {
		got = e.notices()
		return len(got) >= n
	}, 30*time.Second, 100*time.Millisecond, "waiting for %d notices", n)
	return got
}

// command sends a command as cli and returns Gavel's reply to it.
func (e *env) command(cli *mautrix.Client, body string) *event.MessageEventContent {
	e.t.Helper()
	cmd := e.say(cli, body)
	reply := e.waitReply(cmd)
	return reply.Content.AsMessage()
}

// waitReply waits for Gavel's reply to the event cmd.
func (e *env) waitReply(cmd id.EventID) *event.Event {
	e.t.Helper()
	var reply *event.Event
	require.Eventuallyf(e.t, func() bool {
		replies := e.replies(cmd)
		if len(replies) > 0 {
			reply = replies[0]
		}
		return reply != nil
	}, 30*time.Second, 100*time.Millisecond, "waiting for the reply to %s", cmd)
	return reply
}

// replies returns all of Gavel's replies to cmd.
func (e *env) replies(cmd id.EventID) []*event.Event {
	var out []*event.Event
	for _, evt := range e.botMessages() {
		if msg := evt.Content.AsMessage(); msg.RelatesTo != nil && msg.RelatesTo.GetReplyTo() == cmd {
			out = append(out, evt)
		}
	}
	return out
}

// setPowerLevel sets a user's power level in the management room.
func (e *env) setPowerLevel(userID id.UserID, level int) {
	e.t.Helper()
	var pl event.PowerLevelsEventContent
	require.NoError(e.t, e.mod.StateEvent(bg, e.room, event.StatePowerLevels, "", &pl))
	pl.SetUserLevel(userID, level)
	_, err := e.mod.SendStateEvent(bg, e.room, event.StatePowerLevels, "", &pl)
	require.NoError(e.t, err)
}

func field(t *testing.T, evt *event.Event) notice.ReportFields {
	t.Helper()
	data, err := json.Marshal(evt.Content.Raw["gavel.report"])
	require.NoError(t, err)
	var f notice.ReportFields
	require.NoError(t, json.Unmarshal(data, &f))
	return f
}

func describe(evts []*event.Event) string {
	var b strings.Builder
	for _, evt := range evts {
		fmt.Fprintf(&b, "%s: %q\n", evt.ID, evt.Content.AsMessage().Body)
	}
	return b.String()
}

// newServer starts a Synapse for one test, for tests that count every
// report on the server or restart it.
func newServer(t *testing.T) *synapsetest.Server {
	return synapsetest.New(t, synapsetest.Options{})
}

var allReports = adminapi.EventReportsQuery{PageQuery: adminapi.PageQuery{Limit: 1}}

func itoa(n int64) string { return fmt.Sprint(n) }

// openStore opens a second connection to Gavel's database, to look at what
// it recorded.
func (e *env) openStore() *store.Store {
	e.t.Helper()
	st, err := store.Open(bg, e.cfg.Database.URI, zerolog.Nop())
	require.NoError(e.t, err)
	e.t.Cleanup(func() { st.Close() })
	return st
}

// testLog returns a logger whose output shows only when the test fails,
// so that passing runs stay readable.
func testLog(t *testing.T) zerolog.Logger {
	buf := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Gavel's log:\n%s", buf.String())
		}
	})
	return zerolog.New(zerolog.ConsoleWriter{Out: buf, NoColor: true, TimeFormat: "15:04:05.000"}).
		Level(zerolog.DebugLevel).With().Timestamp().Logger()
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
