// Command gavel-bench measures the real gavel binary against a real Synapse
// (make bench): how soon a report becomes a notice, how fast commands and
// buttons are answered, how a backlog of 10,000 reports is worked off, and
// what Gavel costs while idle. It prints one table, with the machine it ran on.
//
// It measures on Synapse as the test harness starts it by default (SQLite,
// clients straight to it), and then on a production-shaped one (PostgreSQL
// with nginx and the doorbell mirror in front, everyone through nginx):
// the rows that depend on Synapse's database again, next to the first.
package main

import (
	"bufio"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"maunium.net/go/mautrix"
	mcmd "maunium.net/go/mautrix/commands"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/internal/testkit/faultproxy"
	"github.com/gavel-bot/gavel/internal/testkit/netutil"
	"github.com/gavel-bot/gavel/internal/testkit/nginxtest"
	"github.com/gavel-bot/gavel/internal/testkit/pgtest"
	"github.com/gavel-bot/gavel/internal/testkit/synapsetest"

	_ "modernc.org/sqlite" // to read Gavel's database during the backlog
)

// defaultPoll is the poll_interval Gavel runs with unless told otherwise:
// the rows "at default settings" use it.
var defaultPoll = config.Defaults().Reports.PollInterval

type options struct {
	gavel        string
	backlog      int
	samples      int
	idle         time.Duration
	skipSlow30   bool
	skipDoorbell bool
	skipLatency  bool
	// scale is the large number of open reports for the cost and
	// latency rows at scale (0 skips them), small the number it is
	// compared with; costWindow how long idle cost is measured.
	scale, small int
	costWindow   time.Duration
	// logLevel is the level of the Gavels' logs; keep keeps the working
	// directory (every Gavel's config and log) for a look afterwards.
	logLevel string
	keep     bool
	// deskRooms is the size of the desk's space in the desk rows.
	deskRooms int
	// backends are the Synapses measured: sqlite, postgres or both.
	backends []string
}

// The Synapses -backends chooses from.
const (
	backendSQLite   = "sqlite"
	backendPostgres = "postgres"
)

func main() {
	var o options
	flag.StringVar(&o.gavel, "gavel", "bin/gavel", "the gavel binary to measure")
	flag.IntVar(&o.backlog, "backlog", 100000, "open reports for the backlog measurement")
	flag.IntVar(&o.samples, "samples", 50, "reports and commands per latency measurement")
	flag.DurationVar(&o.idle, "idle", 10*time.Minute, "how long to measure idle polling")
	flag.BoolVar(&o.skipSlow30, "skip-30s", false, "skip the measurement at poll_interval: 30s")
	flag.BoolVar(&o.skipDoorbell, "skip-doorbell", false, "skip the measurement through nginx with the doorbell")
	flag.BoolVar(&o.skipLatency, "skip-latency", false, "skip the report and command latency measurements at the default poll_interval")
	flag.IntVar(&o.scale, "scale", 100000, "open reports for the measurements at scale (0 skips them)")
	flag.IntVar(&o.small, "scale-small", 1000, "open reports the scale measurements are compared with")
	flag.DurationVar(&o.costWindow, "cost-window", time.Minute, "how long Synapse's time answering an idle Gavel is measured")
	flag.StringVar(&o.logLevel, "log-level", "warn", "log level of the measured Gavels (debug shows every request and how long it took)")
	flag.BoolVar(&o.keep, "keep", false, "keep the working directory with every Gavel's config and log")
	flag.IntVar(&o.deskRooms, "desk-rooms", 100, "rooms in the space of the community desk measured (0 skips the desk rows; the Go benchmark RefreshSpace1000 reads a space of 1,000)")
	backends := flag.String("backends", backendSQLite+","+backendPostgres,
		"the Synapses to measure, comma-separated: sqlite (clients straight to Synapse), postgres (PostgreSQL behind nginx with the doorbell mirror; the rows that depend on Synapse's database)")
	flag.Parse()
	for b := range strings.SplitSeq(*backends, ",") {
		if b = strings.TrimSpace(b); b != backendSQLite && b != backendPostgres {
			fmt.Fprintf(os.Stderr, "gavel-bench: -backends: unknown %q: give sqlite, postgres or sqlite,postgres\n", b)
			os.Exit(2)
		}
		o.backends = append(o.backends, strings.TrimSpace(b))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "gavel-bench:", err)
		os.Exit(1)
	}
}

// bench is the homeserver, its accounts and rooms, and the results so far.
type bench struct {
	o    options
	srv  *synapsetest.Server
	dir  string
	w    *synapsetest.World // the bot, moderator, spammer, reporter and rooms
	rows [][3]string        // measurement, result, target
	// direct is Synapse's own listener, where the rows of Synapse's time
	// measure it (without nginx's time, on PostgreSQL).
	direct string
	// reporter files the reports; the world's reporter unless a
	// measurement goes through a proxy.
	reporter *mautrix.Client
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

func run(ctx context.Context, o options) error {
	if _, err := os.Stat(o.gavel); err != nil {
		return fmt.Errorf("%s: %w (make bench builds it)", o.gavel, err)
	}
	dir, err := os.MkdirTemp("", "gavel-bench-")
	if err != nil {
		return err
	}
	if o.keep {
		progress("keeping %s", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	defer pgtest.Stop()
	started := time.Now()
	var done []*bench
	for _, backend := range o.backends {
		b, err := measure(ctx, o, backend, filepath.Join(dir, backend))
		if err != nil {
			return err
		}
		done = append(done, b)
	}
	printTable(done, time.Since(started))
	return nil
}

// measure starts a Synapse of the backend's shape and takes its rows: all
// of them on SQLite; on PostgreSQL those that depend on Synapse's
// database and what is in front of it (reports, commands, Synapse's time
// at scale), not Gavel's own idle cost or the backlog.
func measure(ctx context.Context, o options, backend, dir string) (*bench, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	production := backend == backendPostgres
	progress("starting Synapse (%s)", backend)
	srv, err := synapsetest.Start(ctx, synapsetest.Options{Production: production})
	if err != nil && production {
		return nil, fmt.Errorf("starting Synapse on PostgreSQL behind nginx: %w (-backends sqlite measures on SQLite alone)", err)
	}
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	progress("Synapse %s, %s, at %s", srv.Version, srv.Shape(), srv.URL)
	b := &bench{o: o, srv: srv, dir: dir, direct: srv.DirectURL}
	if err := b.setup(ctx); err != nil {
		return nil, err
	}
	steps := []func(context.Context) error{b.latencyAndCommands, b.desks, b.latencyDoorbell, b.latencySlow, b.idle, b.scaleRows, b.backlog}
	if production {
		steps = []func(context.Context) error{b.latencyAndCommands, b.latencyDoorbell, b.scaleRows}
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return nil, fmt.Errorf("on Synapse %s: %w", srv.Shape(), err)
		}
	}
	return b, nil
}

// setup creates the accounts (gavel, a server admin; moderator; spammer;
// reporter; a victim for !suspend), the management room and the public
// room.
func (b *bench) setup(ctx context.Context) (err error) {
	b.w, err = b.srv.NewWorld(ctx, synapsetest.WorldOptions{Members: []string{"victim"}})
	return err
}

// gavelProcess is one run of the binary.
type gavelProcess struct{ *synapsetest.Process }

// startGavel runs the binary with a fresh database, logged in as a new
// device (the same device would have its first messages' transaction ids
// deduplicated against the previous run's).
func (b *bench) startGavel(name, homeserver string, pollInterval time.Duration, onFirstStart string, configure ...func(*config.Config)) (*gavelProcess, error) {
	login, err := b.srv.Login(context.Background(), b.w.Bot.UserID, b.w.BotPassword)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(b.dir, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	cfg := b.w.Config()
	cfg.Matrix.Homeserver, cfg.Matrix.AccessToken = homeserver, login.AccessToken
	cfg.Database.URI = filepath.Join(dir, "gavel.db")
	cfg.Reports.PollInterval, cfg.Reports.OnFirstStart = pollInterval, onFirstStart
	cfg.Logging.Level, cfg.Logging.Format = b.o.logLevel, "json"
	for _, f := range configure {
		f(&cfg)
	}
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := synapsetest.WriteConfig(cfgPath, &cfg); err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(dir, "gavel.log"))
	if err != nil {
		return nil, err
	}
	p, err := synapsetest.StartBinary(b.o.gavel, cfgPath, log)
	if err != nil {
		log.Close()
		return nil, err
	}
	go func() {
		<-p.Done()
		log.Close()
	}()
	return &gavelProcess{p}, nil
}

// stop stops the process as a service manager would (SIGTERM; SIGKILL
// after 30 s).
func (p *gavelProcess) stop() { _ = p.Stop() }

// memory returns the process's resident set now and at its peak, in MiB.
func (p *gavelProcess) memory() (rss, peak float64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(fields[1], 64)
		switch fields[0] {
		case "VmRSS:":
			rss = kb / 1024
		case "VmHWM:":
			peak = kb / 1024
		}
	}
	return rss, peak
}

// cpu returns the CPU time the process has used, user and system.
func (p *gavelProcess) cpu() time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Pid()))
	if err != nil {
		return 0
	}
	// The command name may contain spaces: count fields after its ")".
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticks
}

// since returns Gavel's messages in the management room after the event
// mark, oldest first.
func (b *bench) since(ctx context.Context, mark id.EventID) ([]*event.Event, error) {
	return b.sinceIn(ctx, b.w.ManagementRoom, mark)
}

// sinceIn is since in room.
func (b *bench) sinceIn(ctx context.Context, room id.RoomID, mark id.EventID) ([]*event.Event, error) {
	// Not filtered by sender: the mark is the moderator's.
	filter := &mautrix.FilterPart{Types: []event.Type{event.EventMessage}}
	var out []*event.Event
	from := ""
	for {
		resp, err := b.w.Moderator.Messages(ctx, room, from, "", mautrix.DirectionBackward, filter, 1000)
		if err != nil {
			return nil, err
		}
		for _, evt := range resp.Chunk {
			if evt.ID == mark {
				slices.Reverse(out)
				return out, nil
			}
			if evt.Sender == b.w.Bot.UserID {
				_ = evt.Content.ParseRaw(evt.Type)
				out = append(out, evt)
			}
		}
		if resp.End == "" || len(resp.Chunk) == 0 {
			slices.Reverse(out)
			return out, nil
		}
		from = resp.End
	}
}

// receivedTimes returns the received_ts of each report a notice or digest
// of Gavel's covers.
func receivedTimes(m *event.Event) []int64 {
	if f, ok := m.Content.Raw["gavel.report"].(map[string]any); ok {
		return []int64{int64(f["received_ts"].(float64))}
	}
	keys, _ := m.Content.Raw["gavel.report_keys"].([]any)
	out := make([]int64, len(keys))
	for i, k := range keys {
		out[i] = int64(k.([]any)[1].(float64))
	}
	return out
}

// mark sends a message that later reads of the room stop at.
func (b *bench) mark(ctx context.Context, what string) (id.EventID, error) {
	resp, err := b.w.Moderator.SendNotice(ctx, b.w.ManagementRoom, "bench: "+what)
	if err != nil {
		return "", err
	}
	return resp.EventID, nil
}

// waitFor reads Gavel's messages after mark until done says enough.
func (b *bench) waitFor(ctx context.Context, mark id.EventID, limit time.Duration, done func([]*event.Event) bool) ([]*event.Event, error) {
	deadline := time.Now().Add(limit)
	for {
		msgs, err := b.since(ctx, mark)
		if err != nil {
			return nil, err
		}
		if done(msgs) {
			return msgs, nil
		}
		if time.Now().After(deadline) {
			return msgs, fmt.Errorf("gave up after %s", limit)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// startReady marks the room, starts Gavel (on_first_start: skip) and waits
// for its first-start line.
func (b *bench) startReady(ctx context.Context, name string, pollInterval time.Duration, configure ...func(*config.Config)) (*gavelProcess, id.EventID, error) {
	mark, err := b.mark(ctx, name)
	if err != nil {
		return nil, "", err
	}
	p, err := b.startGavel(name, b.srv.URL, pollInterval, "skip", configure...)
	if err != nil {
		return nil, "", err
	}
	if err := b.ready(ctx, mark); err != nil {
		p.stop()
		return nil, "", fmt.Errorf("gavel did not start: %w", err)
	}
	return p, mark, nil
}

// ready waits for Gavel's first message (the first-start line).
func (b *bench) ready(ctx context.Context, mark id.EventID) error {
	_, err := b.waitFor(ctx, mark, time.Minute, func(m []*event.Event) bool { return len(m) > 0 })
	return err
}

// fileReport reports a new spam message.
func (b *bench) fileReport(ctx context.Context, eventID id.EventID) error {
	if b.reporter != nil {
		return b.srv.FileReport(ctx, b.reporter, b.w.PublicRoom, eventID, "spam", -100)
	}
	return b.w.Report(ctx, eventID, "spam")
}

func (b *bench) spam(ctx context.Context, body string) (id.EventID, error) {
	return b.w.Spam(ctx, body)
}

// reportLatency files samples reports at random moments, gaps of up to
// maxGap, and returns the delay from each report's received_ts to its
// notice's origin_server_ts.
func (b *bench) reportLatency(ctx context.Context, mark id.EventID, maxGap time.Duration) ([]time.Duration, error) {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for i := range b.o.samples {
		time.Sleep(time.Duration(rng.Int64N(int64(maxGap))))
		evt, err := b.spam(ctx, "latency "+strconv.Itoa(i))
		if err != nil {
			return nil, err
		}
		if err := b.fileReport(ctx, evt); err != nil {
			return nil, err
		}
	}
	// A report's delay is its notice's, or its digest's when many came at
	// once.
	notices := func(msgs []*event.Event) (out []time.Duration) {
		for _, m := range msgs {
			for _, received := range receivedTimes(m) {
				out = append(out, time.Duration(m.Timestamp-received)*time.Millisecond)
			}
		}
		return out
	}
	msgs, err := b.waitFor(ctx, mark, 2*time.Minute, func(m []*event.Event) bool { return len(notices(m)) >= b.o.samples })
	if err != nil {
		return nil, err
	}
	return notices(msgs), nil
}

func (b *bench) latencyAndCommands(ctx context.Context) error {
	if b.o.skipLatency {
		return nil
	}
	p, mark, err := b.startReady(ctx, "latency", defaultPoll)
	if err != nil {
		return err
	}
	defer p.stop()
	progress("report -> notice latency, %d reports at random moments (poll_interval %s)", b.o.samples, defaultPoll)
	lat, err := b.reportLatency(ctx, mark, 3*time.Second)
	if err != nil {
		return err
	}
	b.add(fmt.Sprintf("report → notice, poll_interval %s (default)", defaultPoll), percentiles(lat, true), "p50 ≤ 1.2 s, p95 ≤ 2.5 s")

	progress("command -> reply latency, %d each of a bare client's answer, !help, !reports and !quarantine media", b.o.samples)
	var media []id.ContentURI
	for i := range b.o.samples {
		up, err := b.w.Spammer.UploadBytes(ctx, []byte("spam image "+strconv.Itoa(i)), "image/png")
		if err != nil {
			return err
		}
		media = append(media, up.ContentURI)
	}
	bare, err := b.bareResponder(ctx)
	if err != nil {
		return err
	}
	defer bare.stop()
	f, err := b.follow(ctx, b.w.Moderator, b.w.Bot.UserID, b.w.Members[0].UserID)
	if err != nil {
		return err
	}
	defer f.stop()
	var floors, helps, reports, quarantines []time.Duration
	for i := range b.o.samples {
		// What any bot would take here: Synapse storing a message,
		// waking a sync and creating the answer.
		d, err := b.commandLatency(ctx, f, "floor "+strconv.Itoa(i))
		if err != nil {
			return err
		}
		floors = append(floors, d)
		// !help asks Synapse for nothing: Gavel's floor.
		d, err = b.commandLatency(ctx, f, "!help")
		if err != nil {
			return err
		}
		helps = append(helps, d)
		d, err = b.commandLatency(ctx, f, "!reports")
		if err != nil {
			return err
		}
		reports = append(reports, d)
		d, err = b.commandLatency(ctx, f, "!quarantine media "+media[i].String())
		if err != nil {
			return err
		}
		quarantines = append(quarantines, d)
	}
	b.add("message → answer, a bare client that answers at once (no Gavel)", percentiles(floors, false), "")
	b.add("command → reply, !help (asks Synapse nothing)", percentiles(helps, false), "")
	b.add("command → reply, !reports", percentiles(reports, false), "p50 ≤ 100 ms")
	b.add("command → reply, !quarantine media", percentiles(quarantines, false), "p50 ≤ 100 ms")

	progress("command -> reply latency, %d !suspend or !unsuspend and %d !redact", b.o.samples, b.o.samples)
	victim := string(b.w.Members[0].UserID)
	var suspends, redacts []time.Duration
	for i := range b.o.samples {
		verb := "!suspend "
		if i%2 == 1 {
			verb = "!unsuspend "
		}
		d, err := b.commandLatency(ctx, f, verb+victim)
		if err != nil {
			return err
		}
		suspends = append(suspends, d)
		spam, err := b.w.Spam(ctx, "spam to redact "+strconv.Itoa(i))
		if err != nil {
			return err
		}
		d, err = b.commandLatency(ctx, f, "!redact "+string(b.w.PublicRoom)+" "+string(spam))
		if err != nil {
			return err
		}
		redacts = append(redacts, d)
	}
	b.add("command → reply, !suspend / !unsuspend", percentiles(suspends, false), "p50 ≤ 100 ms")
	b.add("command → reply, !redact (one event)", percentiles(redacts, false), "p50 ≤ 100 ms")

	lat, err = b.buttonLatency(ctx, mark, f)
	if err != nil {
		return err
	}
	b.add("button → card edited, 👀 claim", percentiles(lat, false), "p50 ≤ 300 ms")
	return nil
}

// buttonLatency reacts 👀 (claim) on each card posted since mark and
// returns the time from each reaction's origin_server_ts to that of the
// card's edit.
func (b *bench) buttonLatency(ctx context.Context, mark id.EventID, f *follower) ([]time.Duration, error) {
	msgs, err := b.since(ctx, mark)
	if err != nil {
		return nil, err
	}
	var cards []*event.Event
	for _, m := range msgs {
		if _, ok := m.Content.Raw[mcmd.ReactionCommandsKey]; ok {
			cards = append(cards, m)
		}
	}
	progress("button -> card edited latency, 👀 on %d cards", len(cards))
	var lat []time.Duration
	for _, card := range cards {
		resp, err := b.w.Moderator.SendReaction(ctx, b.w.ManagementRoom, card.ID, "👀")
		if err != nil {
			return nil, err
		}
		edit, err := f.next(30*time.Second, func(evt *event.Event) bool {
			rel := evt.Content.AsMessage().RelatesTo
			newContent, ok := evt.Content.Raw["m.new_content"].(map[string]any)
			return ok && rel != nil && rel.EventID == card.ID && newContent["gavel.case"] != nil
		})
		if err != nil {
			return nil, fmt.Errorf("no edit of card %s: %w", card.ID, err)
		}
		reaction, err := b.w.Moderator.GetEvent(ctx, b.w.ManagementRoom, resp.EventID)
		if err != nil {
			return nil, err
		}
		lat = append(lat, time.Duration(edit.Timestamp-reaction.Timestamp)*time.Millisecond)
	}
	return lat, nil
}

// commandLatency sends a command (or a message for the bare client) and
// returns the time from its origin_server_ts to that of the reply, which f
// brings.
func (b *bench) commandLatency(ctx context.Context, f *follower, body string) (time.Duration, error) {
	resp, err := b.w.Moderator.SendText(ctx, b.w.ManagementRoom, body)
	if err != nil {
		return 0, err
	}
	reply, err := f.next(30*time.Second, func(evt *event.Event) bool {
		msg := evt.Content.AsMessage()
		return msg.RelatesTo != nil && msg.RelatesTo.GetReplyTo() == resp.EventID
	})
	if err != nil {
		return 0, fmt.Errorf("no reply to %s: %w", body, err)
	}
	cmd, err := b.w.Moderator.GetEvent(ctx, b.w.ManagementRoom, resp.EventID)
	if err != nil {
		return 0, err
	}
	return time.Duration(reply.Timestamp-cmd.Timestamp) * time.Millisecond, nil
}

// follower follows messages in the management room as a moderator's chat
// client does: one long-polling sync that Synapse answers when something
// arrives. Command and button latencies are read through it, and whatever
// else a measurement needs is asked for afterwards:
// reading the room right after sending a command lands on Synapse while it
// hands the command to Gavel, and was counted as Gavel's time.
type follower struct {
	events chan *event.Event
	err    chan error
	ctx    context.Context // ends when the follower stops or the bench does
	cancel context.CancelFunc
}

// follow follows, as cli, the messages of senders in the management room.
func (b *bench) follow(ctx context.Context, cli *mautrix.Client, senders ...id.UserID) (*follower, error) {
	return b.followRoom(ctx, cli, b.w.ManagementRoom, senders...)
}

// followIn follows Gavel's messages in room (a desk's), as the moderator.
func (b *bench) followIn(ctx context.Context, room id.RoomID) (*follower, error) {
	return b.followRoom(ctx, b.w.Moderator, room, b.w.Bot.UserID)
}

// followRoom is follow in room.
func (b *bench) followRoom(ctx context.Context, cli *mautrix.Client, inRoom id.RoomID, senders ...id.UserID) (*follower, error) {
	none := &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}}
	filter, err := cli.CreateFilter(ctx, &mautrix.Filter{
		Presence: none, AccountData: none,
		Room: &mautrix.RoomFilter{
			Rooms:    []id.RoomID{inRoom},
			Timeline: &mautrix.FilterPart{Limit: 100, Senders: senders, Types: []event.Type{event.EventMessage}},
			State:    none, Ephemeral: none, AccountData: none,
		},
	})
	if err != nil {
		return nil, err
	}
	// Only what comes from now on: the first answer gives the position.
	first, err := cli.FullSyncRequest(ctx, mautrix.ReqSync{FilterID: filter.FilterID})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	f := &follower{events: make(chan *event.Event, 1000), err: make(chan error, 1), ctx: ctx, cancel: cancel}
	go func() {
		since := first.NextBatch
		for ctx.Err() == nil {
			resp, err := cli.FullSyncRequest(ctx, mautrix.ReqSync{FilterID: filter.FilterID, Since: since, Timeout: 30000})
			if err != nil {
				if ctx.Err() == nil {
					f.err <- err
				}
				return
			}
			since = resp.NextBatch
			room := resp.Rooms.Join[inRoom]
			if room == nil {
				continue
			}
			if room.Timeline.Limited {
				f.err <- fmt.Errorf("the follower's sync skipped messages (more than 100 at once)")
				return
			}
			for _, evt := range room.Timeline.Events {
				_ = evt.Content.ParseRaw(evt.Type)
				select {
				case f.events <- evt:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return f, nil
}

// next returns the first message that match accepts, dropping those before
// it.
func (f *follower) next(limit time.Duration, match func(*event.Event) bool) (*event.Event, error) {
	deadline := time.After(limit)
	for {
		select {
		case <-f.ctx.Done():
			return nil, f.ctx.Err()
		case evt := <-f.events:
			if match(evt) {
				return evt, nil
			}
		case err := <-f.err:
			return nil, err
		case <-deadline:
			return nil, fmt.Errorf("gave up after %s", limit)
		}
	}
}

func (f *follower) stop() { f.cancel() }

// bareResponder answers, as the management room's other member, each of
// the moderator's messages that starts with "floor " the moment its sync
// brings it: the floor under every command on this homeserver.
func (b *bench) bareResponder(ctx context.Context) (*follower, error) {
	cli := b.w.Members[0]
	f, err := b.follow(ctx, cli, b.w.Moderator.UserID)
	if err != nil {
		return nil, err
	}
	go func() {
		for {
			evt, err := f.next(time.Hour, func(evt *event.Event) bool {
				return strings.HasPrefix(evt.Content.AsMessage().Body, "floor ")
			})
			if err != nil {
				return
			}
			answer := &event.MessageEventContent{MsgType: event.MsgNotice, Body: "answer",
				RelatesTo: (&event.RelatesTo{}).SetReplyTo(evt.ID)}
			if _, err := cli.SendMessageEvent(ctx, b.w.ManagementRoom, event.EventMessage, answer); err != nil {
				progress("the bare client could not answer: %v", err)
			}
		}
	}()
	return f, nil
}

// scaleRows measures what an idle Gavel costs Synapse at o.small and at
// o.scale open reports (the sum of the admin API's answer times, at the
// recording proxy), next to what one listing poll every 2 s would cost
// there, and report → notice latency at o.scale.
func (b *bench) scaleRows(ctx context.Context) error {
	if b.o.scale <= 0 {
		return nil
	}
	small, err := b.idleCost(ctx, b.o.small, "< 600 ms per minute")
	if err != nil {
		return err
	}
	if _, err := b.idleCost(ctx, b.o.scale, fmt.Sprintf("≤ 1.5 × %.0f ms = %.0f ms per minute, < 600 ms", small, 1.5*small)); err != nil {
		return err
	}
	p, mark, err := b.startReady(ctx, "latency-scale", defaultPoll)
	if err != nil {
		return err
	}
	defer p.stop()
	progress("report -> notice latency at %d open reports, %d reports", b.o.scale, b.o.samples)
	lat, err := b.reportLatency(ctx, mark, 3*time.Second)
	if err != nil {
		return err
	}
	b.add(fmt.Sprintf("report → notice at %d open reports, poll_interval %s (default)", b.o.scale, defaultPoll), percentiles(lat, true), "p50 ≤ 1.2 s, p95 ≤ 2.5 s")
	return nil
}

// idleCost fills Synapse to n open reports, runs Gavel behind a recording
// proxy past its start-up, and adds the rows of what its polls cost
// Synapse per minute over o.costWindow, and what one listing every 2 s
// costs at the same size. It returns Gavel's figure in ms per minute.
func (b *bench) idleCost(ctx context.Context, n int, target string) (float64, error) {
	open, err := b.openReports(ctx)
	if err != nil {
		return 0, err
	}
	if open < n {
		progress("filing %d reports (%d are open already)", n-open, open)
		if err := b.fileMany(ctx, n-open); err != nil {
			return 0, err
		}
		open = n
	}
	proxy, err := faultproxy.New(b.direct)
	if err != nil {
		return 0, err
	}
	defer proxy.Close()
	var measuring atomic.Bool
	var took atomic.Int64
	var requests atomic.Int32
	proxy.AfterResponse(func(r faultproxy.Request, status int) {
		if measuring.Load() && r.IsAdmin() {
			took.Add(int64(r.Took))
			requests.Add(1)
		}
	})
	mark, err := b.mark(ctx, fmt.Sprintf("idle cost at %d", open))
	if err != nil {
		return 0, err
	}
	p, err := b.startGavel(fmt.Sprintf("cost-%d", open), proxy.URL, defaultPoll, "skip")
	if err != nil {
		return 0, err
	}
	defer p.stop()
	if err := b.ready(ctx, mark); err != nil {
		return 0, fmt.Errorf("gavel did not start: %w", err)
	}
	time.Sleep(5 * time.Second) // past the start-up scan
	progress("Synapse's time answering an idle Gavel at %d open reports, over %s", open, b.o.costWindow)
	measuring.Store(true)
	time.Sleep(b.o.costWindow)
	measuring.Store(false)
	perMinute := float64(took.Load()) / float64(time.Millisecond) * float64(time.Minute) / float64(b.o.costWindow)
	b.add(fmt.Sprintf("Synapse time answering idle Gavel, %d open reports", open),
		fmt.Sprintf("%.0f ms per minute (%d requests)", perMinute, requests.Load()), target)

	// Today's way for comparison: one listing of the newest 100 every 2 s.
	admin, err := adminapi.New(b.direct, b.w.Bot.AccessToken)
	if err != nil {
		return 0, err
	}
	var listing time.Duration
	const tries = 10
	for range tries {
		start := time.Now()
		if _, err := admin.ListEventReports(ctx, adminapi.EventReportsQuery{PageQuery: adminapi.PageQuery{Limit: 100, Dir: mautrix.DirectionBackward}}); err != nil {
			return 0, err
		}
		listing += time.Since(start)
	}
	each := listing / tries
	b.add(fmt.Sprintf("  for comparison: a listing poll every 2 s, %d open reports", open),
		fmt.Sprintf("%.0f ms per minute (%.1f ms a listing)", float64(each)/float64(time.Millisecond)*30, float64(each)/float64(time.Millisecond)), "")
	return perMinute, nil
}

// latencyDoorbell measures reports filed through a real nginx that rings
// Gavel's doorbell (contrib/nginx/gavel-doorbell.conf), at poll_interval
// 30s: the doorbell, not the poll, brings them.
func (b *bench) latencyDoorbell(ctx context.Context) error {
	const what = "report → notice through nginx with the doorbell, poll_interval 30s"
	if b.o.skipDoorbell {
		return nil
	}
	// A production-shaped Synapse has nginx in front already, and
	// everyone goes through it; otherwise the reporter alone does.
	doorbell := b.srv.DoorbellAddr
	if doorbell == "" {
		port, err := netutil.FreePort()
		if err != nil {
			return err
		}
		doorbell = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		dir := filepath.Join(b.dir, "nginx")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		proxy, err := nginxtest.Run(b.srv.URL, doorbell, dir)
		if err != nil {
			b.add(what, "not run: "+err.Error(), "p50 ≤ 150 ms")
			return nil
		}
		defer proxy.Stop()
		if b.reporter, err = mautrix.NewClient(proxy.URL, b.w.Reporter.UserID, b.w.Reporter.AccessToken); err != nil {
			return err
		}
		defer func() { b.reporter = nil }()
	}
	p, mark, err := b.startReady(ctx, "latency-doorbell", 30*time.Second, func(c *config.Config) { c.Reports.DoorbellListen = doorbell })
	if err != nil {
		return err
	}
	defer p.stop()
	progress("report -> notice latency through nginx with the doorbell (poll_interval 30s), %d reports", b.o.samples)
	lat, err := b.reportLatency(ctx, mark, 3*time.Second)
	if err != nil {
		return err
	}
	b.add(what, percentiles(lat, true), "p50 ≤ 150 ms")
	return nil
}

func (b *bench) latencySlow(ctx context.Context) error {
	if b.o.skipSlow30 {
		return nil
	}
	p, mark, err := b.startReady(ctx, "latency-30s", 30*time.Second)
	if err != nil {
		return err
	}
	defer p.stop()
	progress("report -> notice latency at poll_interval 30s (what Draupnir and Mjolnir use), %d reports", b.o.samples)
	lat, err := b.reportLatency(ctx, mark, 3*time.Second)
	if err != nil {
		return err
	}
	b.add("report → notice, poll_interval 30s (for comparison)", percentiles(lat, true), "")
	return nil
}

func (b *bench) idle(ctx context.Context) error {
	if b.o.idle <= 0 {
		return nil
	}
	p, _, err := b.startReady(ctx, "idle", defaultPoll)
	if err != nil {
		return err
	}
	defer p.stop()
	progress("idle polling for %s at poll_interval %s", b.o.idle, defaultPoll)
	time.Sleep(5 * time.Second) // past start-up
	cpu0 := p.cpu()
	var peak float64
	deadline := time.Now().Add(b.o.idle)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Second):
		}
		rss, _ := p.memory()
		peak = max(peak, rss)
	}
	used := p.cpu() - cpu0
	rss, _ := p.memory()
	perHour := used.Seconds() * float64(time.Hour) / float64(b.o.idle)
	b.add("idle RSS (at the end / highest seen)", fmt.Sprintf("%.1f MiB / %.1f MiB", rss, peak), "≤ 30 MB")
	b.add(fmt.Sprintf("idle CPU over %s", b.o.idle), fmt.Sprintf("%.2f s, = %.1f CPU-s per hour", used.Seconds(), perHour), "≤ 36 CPU-s per hour")
	return nil
}

func (b *bench) backlog(ctx context.Context) error {
	if b.o.backlog <= 0 {
		return nil
	}
	open, err := b.openReports(ctx)
	if err != nil {
		return err
	}
	if open < b.o.backlog {
		progress("filing %d reports (%d are open already)", b.o.backlog-open, open)
		if err := b.fileMany(ctx, b.o.backlog-open); err != nil {
			return err
		}
	}
	proxy, err := faultproxy.New(b.direct)
	if err != nil {
		return err
	}
	defer proxy.Close()
	var sends atomic.Int64
	proxy.AfterResponse(func(r faultproxy.Request, status int) {
		if r.Method == http.MethodPut && strings.Contains(r.Path, "/send/") && status == http.StatusOK {
			sends.Add(1)
		}
	})
	if _, err := b.mark(ctx, "backlog"); err != nil {
		return err
	}
	progress("backlog: first start with on_first_start: post and %d open reports", b.o.backlog)
	start := time.Now()
	p, err := b.startGavel("backlog", proxy.URL, defaultPoll, "post")
	if err != nil {
		return err
	}
	defer p.stop()
	// Progress is read from Gavel's own database, read-only: reading
	// thousands of digests back from Synapse every moment would load it
	// more than Gavel does. A report is covered once its digest (or card)
	// is sent; the time is the last send's, as Gavel recorded it.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(b.dir, "backlog", "gavel.db")+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	defer db.Close()
	var peak float64
	var done time.Duration
	var digests int
	for {
		var covered, unsent int
		var lastSent sql.NullInt64
		err := db.QueryRowContext(ctx, `SELECT
			(SELECT COUNT(*) FROM report r JOIN outbox o ON o.key=r.outbox_key WHERE o.sent_at IS NOT NULL),
			(SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL),
			(SELECT MAX(sent_at) FROM outbox),
			(SELECT COUNT(*) FROM outbox WHERE key LIKE 'gavel-digest-%')`).Scan(&covered, &unsent, &lastSent, &digests)
		if err != nil && !strings.Contains(err.Error(), "no such table") && !strings.Contains(err.Error(), "unable to open") {
			return err // not "Gavel has not created its database yet"
		}
		_, hwm := p.memory()
		peak = max(peak, hwm)
		if err == nil && covered >= b.o.backlog && unsent == 0 && lastSent.Valid {
			done = time.UnixMilli(lastSent.Int64).Sub(start)
			break
		}
		if time.Since(start) > 10*time.Minute {
			return fmt.Errorf("backlog: only %d of %d reports covered after 10 minutes", covered, b.o.backlog)
		}
		time.Sleep(time.Second)
	}
	lists := 0
	for _, r := range proxy.Requests() {
		if r.Path == "/_synapse/admin/v1/event_reports" {
			lists++
		}
	}
	b.add(fmt.Sprintf("backlog of %d reports: all covered after", b.o.backlog), fmt.Sprintf("%.1f s", done.Seconds()), "≤ 120 s")
	b.add("backlog: report listing requests", strconv.Itoa(lists), fmt.Sprintf("≤ %d", b.o.backlog/1000+10))
	b.add("backlog: messages sent", fmt.Sprintf("%d (%d digests)", sends.Load(), digests), fmt.Sprintf("≤ %d", b.o.backlog/50+50))
	b.add("backlog: peak RSS", fmt.Sprintf("%.1f MiB", peak), "≤ 60 MB")
	return nil
}

func (b *bench) openReports(ctx context.Context) (int, error) {
	var page struct {
		Total int `json:"total"`
	}
	admin := b.srv.Client(b.w.Bot.AccessToken)
	_, err := admin.MakeRequest(ctx, http.MethodGet, admin.BuildURLWithQuery(mautrix.SynapseAdminURLPath{"v1", "event_reports"}, map[string]string{"limit": "1"}), nil, &page)
	return page.Total, err
}

// fileMany files n reports, eight at a time, about a hundred messages.
func (b *bench) fileMany(ctx context.Context, n int) error {
	var events []id.EventID
	for i := range 100 {
		evt, err := b.spam(ctx, "backlog "+strconv.Itoa(i))
		if err != nil {
			return err
		}
		events = append(events, evt)
	}
	work := make(chan int)
	var wg sync.WaitGroup
	var firstErr error
	var mu sync.Mutex
	for range 16 {
		wg.Go(func() {
			for i := range work {
				if err := b.fileReport(ctx, events[i%len(events)]); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		if i > 0 && i%10000 == 0 {
			progress("  %d filed", i)
		}
		work <- i
	}
	close(work)
	wg.Wait()
	return firstErr
}

func (b *bench) add(what, result, target string) {
	b.rows = append(b.rows, [3]string{what, result, target})
	progress("%s: %s", what, result)
}

// percentiles formats p50, p95 and, for reports, the maximum.
func percentiles(d []time.Duration, withMax bool) string {
	slices.Sort(d)
	at := func(p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))] }
	s := fmt.Sprintf("p50 %s, p95 %s", round(at(0.50)), round(at(0.95)))
	if withMax {
		s += ", max " + round(d[len(d)-1])
	}
	return s + fmt.Sprintf(" (n=%d)", len(d))
}

func round(d time.Duration) string {
	if d < time.Second {
		return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// printTable prints the machine and the table: the first Synapse's rows, each
// followed by the same measurement on the others, marked with their shape;
// then what only the others measured.
func printTable(benches []*bench, took time.Duration) {
	cpu := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(data), "\n") {
			if name, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
				break
			}
		}
	}
	mem := ""
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		if f := strings.Fields(strings.SplitN(string(data), "\n", 2)[0]); len(f) >= 2 {
			kb, _ := strconv.ParseFloat(f[1], 64)
			mem = fmt.Sprintf(", %.0f GiB", kb/1024/1024)
		}
	}
	first := benches[0]
	var shapes []string
	for _, b := range benches {
		shapes = append(shapes, b.srv.Shape())
	}
	fmt.Printf("Gavel benchmark, %s\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Printf("machine: %s, %d cores%s; %s %s/%s; Synapse %s (%s) on loopback; took %s\n\n",
		cpu, runtime.NumCPU(), mem, runtime.Version(), runtime.GOOS, runtime.GOARCH, first.srv.Version, strings.Join(shapes, "; "), took.Round(time.Second))
	rows := slices.Clone(first.rows)
	for _, b := range benches[1:] {
		label := func(r [3]string) [3]string {
			r[0] = "  same, Synapse on " + b.srv.Shape()
			return r
		}
		for _, r := range b.rows {
			at := slices.IndexFunc(rows, func(f [3]string) bool { return f[0] == r[0] })
			if at < 0 {
				r[0] += " (Synapse on " + b.srv.Shape() + ")"
				rows = append(rows, r)
				continue
			}
			// After the first's row and the others' rows already there.
			at++
			for at < len(rows) && strings.HasPrefix(rows[at][0], "  same, ") {
				at++
			}
			rows = slices.Insert(rows, at, label(r))
		}
	}
	width := [3]int{len("measurement"), len("result"), len("target")}
	for _, r := range rows {
		for i := range r {
			width[i] = max(width[i], len([]rune(r[i])))
		}
	}
	line := func(r [3]string) {
		fmt.Print("|")
		for i, c := range r {
			fmt.Printf(" %s%s |", c, strings.Repeat(" ", width[i]-len([]rune(c))))
		}
		fmt.Println()
	}
	line([3]string{"measurement", "result", "target"})
	line([3]string{strings.Repeat("-", width[0]), strings.Repeat("-", width[1]), strings.Repeat("-", width[2])})
	for _, r := range rows {
		line(r)
	}
}
