// Package bottest is the kit of bot's integration tests, which live in
// the packages under bot/ (grouped by theme so that they run in parallel,
// each against a Synapse of its own): a real Synapse, a management room
// with a moderator and a low-power member, a public room with a spammer and
// a reporter, and Gavel running in-process against them. Only tests import
// it.
//
// Of Gavel's packages it may import: adminapi, bot, config,
// internal/testkit/faultproxy, internal/testkit/pgtest, internal/testkit/synapsetest, notice,
// outbox, store.
package bottest

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
	"github.com/gavel-bot/gavel/bot"
	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/internal/testkit/faultproxy"
	"github.com/gavel-bot/gavel/internal/testkit/pgtest"
	"github.com/gavel-bot/gavel/internal/testkit/synapsetest"
	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/store"
)

// Main is the TestMain of a package that uses the kit: it runs the tests,
// then stops the package's Synapse and PostgreSQL and removes the gavel
// binary it built.
func Main(m *testing.M) {
	code := m.Run()
	synapsetest.StopShared() // before PostgreSQL, which it may keep its data in
	pgtest.Stop()
	synapsetest.RemoveBinary()
	os.Exit(code)
}

// MainProduction is Main for a package whose tests share one
// production-shaped Synapse (synapsetest.Options.Production): on
// PostgreSQL, with nginx and its doorbell mirror in front. Everyone, Gavel
// too, talks to it through nginx.
func MainProduction(m *testing.M) {
	synapsetest.ShareWith(synapsetest.Options{Production: true})
	Main(m)
}

var bg = context.Background()

// Env is one test's users, rooms and configuration on a Synapse.
type Env struct {
	T           *testing.T
	Srv         *synapsetest.Server
	BotCli      *mautrix.Client // Gavel's account, a server admin
	BotPassword string
	Admin       *adminapi.Client
	Mod         *mautrix.Client // power 100 in the management room
	ModPassword string
	Member      *mautrix.Client // power 0 in the management room
	Spammer     *mautrix.Client
	Reporter    *mautrix.Client
	Room        id.RoomID // management room
	Public      id.RoomID // where the spam is
	Cfg         *config.Config
	Opts        bot.Options
	// logger, when set, replaces the test log that shows on failure.
	Logger *zerolog.Logger
	// proxy, after viaProxy, stands between Gavel and Synapse.
	proxy *faultproxy.Proxy
	World *synapsetest.World
}

// NewEnv sets up users and rooms on srv (the package's shared Synapse when
// nil) and a configuration whose database is a fresh SQLite file.
func NewEnv(t *testing.T, srv *synapsetest.Server) *Env {
	t.Helper()
	if srv == nil {
		srv = synapsetest.Shared(t)
	}
	w, err := srv.NewWorld(bg, synapsetest.WorldOptions{Unique: true, ModeratorName: "mod", Members: []string{"member"},
		PublicRoomName: "Free <b>stuff</b>", PublicAlias: "spam"})
	require.NoError(t, err)
	e := &Env{T: t, Srv: srv,
		BotCli: w.Bot, BotPassword: w.BotPassword, Admin: w.Admin,
		Mod: w.Moderator, ModPassword: w.ModeratorPassword, Member: w.Members[0],
		Spammer: w.Spammer, Reporter: w.Reporter, Room: w.ManagementRoom, Public: w.PublicRoom, World: w}

	cfg := w.Config()
	cfg.Database.URI = filepath.Join(t.TempDir(), "gavel.db")
	cfg.Reports.PollInterval = 200 * time.Millisecond
	cfg.Reports.OnFirstStart = config.FirstStartPost
	// One notice per report, however many other tests left open on the
	// shared server; the digest tests set their own.
	cfg.Reports.MaxIndividual = 1000
	cfg.Logging.Level = "debug"
	require.NoError(t, cfg.Validate())
	e.Cfg = &cfg
	// Other tests on the shared server delete their reports, which leaves
	// long gaps in the ids that only a listing crosses (see feed/probe.go):
	// list every second rather than every ten, however slow a listing of
	// the busy shared server is.
	e.Opts.Feed.ListEvery, e.Opts.Feed.ListShare = time.Second, 1
	return e
}

// ViaProxy puts a fault-injecting, recording proxy between Gavel and
// Synapse. The test's own clients still talk to Synapse directly.
func (e *Env) ViaProxy() *faultproxy.Proxy {
	e.T.Helper()
	p, err := faultproxy.New(e.Srv.URL)
	require.NoError(e.T, err)
	e.T.Cleanup(p.Close)
	e.proxy = p
	e.Cfg.Matrix.Homeserver = p.URL
	return p
}

// In returns the environment with room as its room: Say, BotMessages,
// Replies, Command and SetPowerLevel then work in room (a desk's), as the
// moderator (Mod, who must be in it) sees it.
func (e *Env) In(room id.RoomID) *Env {
	c := *e
	c.Room = room
	return &c
}

// UseDoorbell has Gavel listen where the nginx in front of Synapse rings
// for every report filed through it.
func (e *Env) UseDoorbell() {
	e.T.Helper()
	require.NotEmpty(e.T, e.Srv.DoorbellAddr, "the doorbell needs a Synapse with nginx in front (synapsetest.Options.Nginx)")
	e.Cfg.Reports.DoorbellListen = e.Srv.DoorbellAddr
}

// UsePostgres switches the environment's database to a fresh PostgreSQL one.
func (e *Env) UsePostgres() { e.Cfg.Database.URI = pgtest.URI(e.T) }

// Running is a Gavel running in the background.
type Running struct {
	Bot    *bot.Bot
	Store  *store.Store // the bot's
	cancel context.CancelFunc
	Done   chan error
	once   sync.Once
	err    error
}

// Start opens the store and runs Gavel until the test ends or stop is called.
func (e *Env) Start(configure ...func(*bot.Options)) *Running {
	e.T.Helper()
	log := Log(e.T)
	if e.Logger != nil {
		log = *e.Logger
	}
	st, err := store.Open(bg, e.Cfg.Database.URI, log)
	require.NoError(e.T, err)
	opts := e.Opts
	opts.Version = "test"
	for _, f := range configure {
		f(&opts)
	}
	b, err := bot.New(e.Cfg, st, log, opts)
	require.NoError(e.T, err)
	ctx, cancel := context.WithCancel(bg)
	r := &Running{Bot: b, Store: st, cancel: cancel, Done: make(chan error, 1)}
	require.NoError(e.T, b.Start(ctx))
	go func() {
		err := b.Run(ctx)
		st.Close()
		r.Done <- err
	}()
	e.T.Cleanup(func() { r.Stop() })
	return r
}

// Stop shuts Gavel down as SIGTERM would and returns Run's error.
func (r *Running) Stop() error {
	r.once.Do(func() {
		r.cancel()
		select {
		case r.err = <-r.Done:
		case <-time.After(time.Minute):
			r.err = errors.New("gavel did not stop within a minute")
		}
	})
	return r.err
}

// Say sends a message as cli into the management room.
func (e *Env) Say(cli *mautrix.Client, body string) id.EventID {
	e.T.Helper()
	resp, err := cli.SendText(bg, e.Room, body)
	require.NoError(e.T, err)
	return resp.EventID
}

// Spam sends a message as the spammer into the public room.
func (e *Env) Spam(body string) id.EventID {
	e.T.Helper()
	evt, err := e.World.Spam(bg, body)
	require.NoError(e.T, err)
	return evt
}

// Report files a report as the reporter.
func (e *Env) Report(eventID id.EventID, reason string) {
	e.T.Helper()
	require.NoError(e.T, e.World.Report(bg, eventID, reason))
}

// ReportID returns Synapse's id of the newest report about eventID.
func (e *Env) ReportID(eventID id.EventID) int64 {
	e.T.Helper()
	reportID, err := e.World.ReportID(bg, eventID)
	require.NoError(e.T, err)
	return reportID
}

// BotMessages returns Gavel's messages in the management room, oldest first.
func (e *Env) BotMessages() []*event.Event {
	e.T.Helper()
	filter := &mautrix.FilterPart{Senders: []id.UserID{e.BotCli.UserID}, Types: []event.Type{event.EventMessage}}
	resp, err := e.Mod.Messages(bg, e.Room, "", "", mautrix.DirectionBackward, filter, 500)
	require.NoError(e.T, err)
	var out []*event.Event
	for i := len(resp.Chunk) - 1; i >= 0; i-- {
		evt := resp.Chunk[i]
		_ = evt.Content.ParseRaw(evt.Type)
		out = append(out, evt)
	}
	return out
}

// Notices returns Gavel's notices about reports in this environment's
// public room, oldest first. (With on_first_start: post, Gavel also posts
// other tests' reports on a shared server.)
func (e *Env) Notices() []*event.Event {
	var out []*event.Event
	for _, evt := range e.BotMessages() {
		if _, ok := evt.Content.Raw["gavel.report"]; ok && !isEdit(evt) && Field(e.T, evt).RoomID == e.Public {
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

// WaitNotices waits until Gavel has posted n report notices, and returns
// them.
func (e *Env) WaitNotices(n int) []*event.Event {
	e.T.Helper()
	var got []*event.Event
	require.Eventuallyf(e.T, func() bool {
		got = e.Notices()
		return len(got) >= n
	}, 30*time.Second, 100*time.Millisecond, "waiting for %d notices", n)
	return got
}

// Command sends a command as cli and returns Gavel's reply to it.
func (e *Env) Command(cli *mautrix.Client, body string) *event.MessageEventContent {
	e.T.Helper()
	cmd := e.Say(cli, body)
	reply := e.WaitReply(cmd)
	return reply.Content.AsMessage()
}

// WaitReply waits for Gavel's reply to the event cmd.
func (e *Env) WaitReply(cmd id.EventID) *event.Event {
	e.T.Helper()
	var reply *event.Event
	require.Eventuallyf(e.T, func() bool {
		replies := e.Replies(cmd)
		if len(replies) > 0 {
			reply = replies[0]
		}
		return reply != nil
	}, 30*time.Second, 100*time.Millisecond, "waiting for the reply to %s", cmd)
	return reply
}

// Replies returns all of Gavel's replies to cmd.
func (e *Env) Replies(cmd id.EventID) []*event.Event {
	var out []*event.Event
	for _, evt := range e.BotMessages() {
		if msg := evt.Content.AsMessage(); msg.RelatesTo != nil && msg.RelatesTo.GetReplyTo() == cmd {
			out = append(out, evt)
		}
	}
	return out
}

// SetPowerLevel sets a user's power level in the management room.
func (e *Env) SetPowerLevel(userID id.UserID, level int) {
	e.T.Helper()
	var pl event.PowerLevelsEventContent
	require.NoError(e.T, e.Mod.StateEvent(bg, e.Room, event.StatePowerLevels, "", &pl))
	pl.SetUserLevel(userID, level)
	_, err := e.Mod.SendStateEvent(bg, e.Room, event.StatePowerLevels, "", &pl)
	require.NoError(e.T, err)
}

// Field is the gavel.report field of a card or notice.
func Field(t *testing.T, evt *event.Event) notice.ReportFields {
	t.Helper()
	data, err := json.Marshal(evt.Content.Raw["gavel.report"])
	require.NoError(t, err)
	var f notice.ReportFields
	require.NoError(t, json.Unmarshal(data, &f))
	return f
}

// Describe lists events by id and body, for failure messages.
func Describe(evts []*event.Event) string {
	var b strings.Builder
	for _, evt := range evts {
		fmt.Fprintf(&b, "%s: %q\n", evt.ID, evt.Content.AsMessage().Body)
	}
	return b.String()
}

// NewServer starts a Synapse for one test, for tests that count every
// report on the server or restart it.
func NewServer(t *testing.T) *synapsetest.Server {
	return synapsetest.New(t, synapsetest.Options{})
}

// AllReports asks for one report: the answer's total counts them all.
var AllReports = adminapi.EventReportsQuery{PageQuery: adminapi.PageQuery{Limit: 1}}

// Itoa formats a report id.
func Itoa(n int64) string { return fmt.Sprint(n) }

// OpenStore opens a second connection to Gavel's database, to look at what
// it recorded.
func (e *Env) OpenStore() *store.Store {
	e.T.Helper()
	st, err := store.Open(bg, e.Cfg.Database.URI, zerolog.Nop())
	require.NoError(e.T, err)
	e.T.Cleanup(func() { st.Close() })
	return st
}

// Log returns a logger whose output shows only when the test fails,
// so that passing runs stay readable.
func Log(t *testing.T) zerolog.Logger {
	buf := &LockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Gavel's log:\n%s", buf.String())
		}
	})
	return zerolog.New(zerolog.ConsoleWriter{Out: buf, NoColor: true, TimeFormat: "15:04:05.000"}).
		Level(zerolog.DebugLevel).With().Timestamp().Logger()
}

// LockedBuffer is a bytes.Buffer that goroutines may share.
type LockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *LockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
