// Package bot is the Matrix session that ties Gavel together: start-up
// checks, the sync loop over the management room, its power levels and
// encryption, and handing each moderator's message or reaction to package
// intake, which runs it and records its reply.
//
// Four loops run side by side: the sync loop here, the report feed
// (package feed), the sender (package outbox) and the follower of the
// tasks that actions start in Synapse (package moderation). Everything
// Gavel posts goes through the outbox in the database, keyed by a
// transaction id, which is what makes "exactly once" hold across crashes
// and restarts.
//
// Nothing imports bot but main and its tests' kit, internal/testkit/bottest.
//
// Of Gavel's packages it may import: adminapi, commands, config, desk, doorbell,
// dossier, feed, intake, internal/e2ee, internal/mxid, internal/retry,
// internal/textcut, metrics, moderation, notice, outbox, policy,
// preflight, roomreports, stats, store.
package bot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/desk"
	"github.com/gavel-bot/gavel/doorbell"
	"github.com/gavel-bot/gavel/dossier"
	"github.com/gavel-bot/gavel/feed"
	"github.com/gavel-bot/gavel/intake"
	"github.com/gavel-bot/gavel/internal/e2ee"
	"github.com/gavel-bot/gavel/internal/retry"
	"github.com/gavel-bot/gavel/metrics"
	"github.com/gavel-bot/gavel/moderation"
	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/outbox"
	"github.com/gavel-bot/gavel/policy"
	"github.com/gavel-bot/gavel/preflight"
	"github.com/gavel-bot/gavel/roomreports"
	"github.com/gavel-bot/gavel/stats"
	"github.com/gavel-bot/gavel/store"
)

// Bot is a running Gavel.
type Bot struct {
	cfg     *config.Config
	version string
	client  *mautrix.Client  // the bot's own account
	admin   *adminapi.Client // the admin token
	store   *store.Store
	log     zerolog.Logger

	feed   *feed.Feed
	sender *outbox.Sender
	mod    *moderation.Moderator
	// intake handles the moderators' commands, buttons and confirmations.
	intake *intake.Intake
	// roomReports reads room reports (from synapse.database once Start
	// connected it), for the feed and moderation.
	roomReports *roomreports.Source
	// doorbell, with reports.doorbell_listen, rings the feed; set by Start.
	doorbell *doorbell.Doorbell
	// metrics are Options.Metrics, or the bot's own; main serves them.
	metrics *metrics.Metrics
	// desks are the server desk and the community desks; rooms what the
	// session knows of each desk's room.
	desks *desk.Desks
	rooms map[id.RoomID]*deskRoom
	// policy is the followed policy lists' rules (policy.go).
	policy *policy.Index

	// active is Options.Active, or nil.
	active func() error

	// syncFailed is set while handling a sync response when something
	// could not be recorded; the sync loop then handles it again.
	syncFailed atomic.Bool

	startedAt time.Time // when Start began: older messages are history

	mu             sync.Mutex
	adminUser      id.UserID // whose token the admin API uses, once Start checked it
	synapseVersion string

	// crypto is nil without encryption.pickle_key.
	crypto   *e2ee.Machine
	minTrust id.TrustState // encryption.min_command_trust
	// undecrypted is set while encrypted messages wait for their keys in
	// the database, and keysRequested holds the sessions whose keys Gavel
	// asked for; only the sync loop uses them.
	undecrypted   bool
	keysRequested map[id.SessionID]bool
	// keyWait is how long a message may wait for its keys.
	keyWait time.Duration
}

// maxSyncResponse is the largest sync answer Gavel reads; its filter keeps
// syncs to the management room and a few dozen events.
const maxSyncResponse = 32 << 20

// Options are the parts of a Bot that are not in the configuration.
type Options struct {
	// Version is Gavel's version, for !status.
	Version string
	// AdminTimeout bounds one admin API request (default: a minute).
	AdminTimeout time.Duration
	// Feed tunes the report feed; tests make its pages small.
	Feed feed.Options
	// StatsClock is the weekly picture's clock; nil for the system's.
	StatsClock stats.Clock
	// KeyWait is how long an encrypted message may wait for its keys
	// (default: as long as a command stays fresh enough to run).
	KeyWait time.Duration
	// AfterSend, when set, runs after a message was sent and before that
	// is recorded; tests use it to crash at the worst moment.
	AfterSend func(key string) error
	// Metrics, when set, are the process's metrics, which main serves
	// (while standing by too); otherwise the bot keeps its own.
	Metrics *metrics.Metrics
	// Active, when set, returns an error once this instance may no longer
	// act (package standby's Term.Check): every request to the homeserver
	// and every sync response handled checks it first.
	Active func() error
}

// New builds a Bot from a validated configuration and an open store.
func New(cfg *config.Config, st *store.Store, log zerolog.Logger, opts Options) (*Bot, error) {
	cli, err := mautrix.NewClient(cfg.Matrix.Homeserver, cfg.Matrix.UserID, cfg.Matrix.AccessToken)
	if err != nil {
		return nil, fmt.Errorf("matrix.homeserver: %w", err)
	}
	// mautrix logs every failed or cancelled request as a warning; Gavel
	// logs the failures that matter itself, so below debug only errors pass.
	matrixLog := log
	if log.GetLevel() > zerolog.DebugLevel {
		matrixLog = log.Level(zerolog.ErrorLevel)
	}
	cli.Log = matrixLog.With().Str("component", "matrix").Logger()
	adminCli, err := mautrix.NewClient(cfg.Matrix.Homeserver, "", cfg.AdminToken())
	if err != nil {
		return nil, fmt.Errorf("matrix.homeserver: %w", err)
	}
	adminCli.Log = matrixLog.With().Str("component", "adminapi").Logger()
	for _, c := range []*mautrix.Client{cli, adminCli} {
		// Gavel retries on its own terms (backoff, logging, never giving
		// up on a report), so mautrix should not retry underneath.
		c.DefaultHTTPRetries = 0
		c.IgnoreRateLimit = true
		c.Client.Timeout = 60 * time.Second
		if opts.Active != nil {
			c.Client.Transport = activeOnly{next: c.Client.Transport, active: opts.Active}
		}
	}
	// Bounds on what one answer may make Gavel hold in memory.
	cli.ResponseSizeLimit = maxSyncResponse
	adminCli.ResponseSizeLimit = adminapi.MaxAnswerSize
	if opts.AdminTimeout > 0 {
		adminCli.Client.Timeout = opts.AdminTimeout
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	if opts.KeyWait <= 0 {
		opts.KeyWait = keyWait
	}
	b := &Bot{
		cfg:     cfg,
		version: opts.Version,
		active:  opts.Active,
		client:  cli,
		store:   st,
		log:     log,
		metrics: opts.Metrics,

		keysRequested: map[id.SessionID]bool{},
		// Until the database says otherwise; never without encryption.
		undecrypted: cfg.Encryption.PickleKey != "",
		keyWait:     opts.KeyWait,
	}
	b.desks = desk.FromConfig(cfg)
	b.rooms = deskRooms(b.desks)
	b.policy = policyIndex(cfg.PolicyLists)
	if b.metrics == nil {
		b.metrics = metrics.New(opts.Version, b.current().Sources(st))
	}
	b.admin = adminapi.Wrap(adminCli, adminapi.WithOnError(b.countAdminError))
	room, prefix := cfg.Matrix.ManagementRoom, cfg.Commands.Prefix
	b.sender = outbox.New(outbox.Config{
		Client: cli, Store: st, Room: room, Desks: b.desks.Rooms()[1:], Prefix: prefix, Metrics: b.metrics,
		Log: log.With().Str("component", "outbox").Logger(), Guard: b.mustEncrypt, Decrypt: b.decryptOwn, AfterSend: opts.AfterSend,
	})
	gatherer := &dossier.Gatherer{Admin: b.admin, Store: st, Server: cfg.Matrix.UserID.Homeserver(), Policy: b.policy}
	b.roomReports = roomreports.New(b.admin, cfg.Synapse.Database)
	zone, err := cfg.Stats.Location() // checked by Validate
	if err != nil {
		return nil, err
	}
	b.mod, err = moderation.New(moderation.Config{Admin: b.admin, Matrix: cli, Store: st, Prefix: prefix, Health: b.health,
		ManagementRoom: room, Desks: b.desks, RefreshDesk: b.desks.Refresh, DeskJoined: b.deskJoined, Encrypted: b.deskEncrypted, Protected: b.protected, DryRun: cfg.Commands.DryRun, ConfirmTimeout: cfg.Commands.ConfirmTimeout,
		DeleteOnResolve: cfg.Reports.DeleteOnResolve, NotifyReporter: cfg.Reports.NotifyReporter, NotifyTemplate: cfg.Reports.NotifyTemplate,
		Dossier: gatherer, RoomReports: b.roomReports, Notify: b.sender.Notify, Metrics: b.metrics, Log: log.With().Str("component", "tasks").Logger(),
		Levels: func() commands.Levels { return cfg.Commands.Levels() }, PowerLevel: b.powerLevel, Policy: b.policy, PolicyReason: cfg.ReasonTemplate(),
		StatsZone: zone, WeeklyStats: cfg.Stats.Weekly, Clock: opts.StatsClock})
	if err != nil {
		return nil, err
	}
	// The feed hands moderation what belongs to a case: a duplicate of an
	// open card, a card's late context, reports deleted outside Gavel.
	b.feed = feed.New(feed.Config{
		Admin: b.admin, Store: st, Room: room, Desks: b.desks, Prefix: prefix, Reports: cfg.Reports, Server: cfg.Matrix.UserID.Homeserver(),
		Log: log.With().Str("component", "feed").Logger(), Notify: b.sender.Notify, Options: opts.Feed, Dossier: gatherer,
		RoomReports: b.roomReports, Metrics: b.metrics, Policy: b.policy, Duplicate: b.mod.AddDuplicate, LateCard: b.mod.LateCard, Deleted: b.mod.MarkDeleted,
	})
	b.intake = intake.New(intake.Config{Store: st, Mod: b.mod, Parser: commands.NewParser(cli, cfg.Commands.Prefix), Metrics: b.metrics, Commands: &cfg.Commands,
		Desks: b.desks, PowerLevel: b.powerLevel, Refusal: b.securityRefusal, Failed: func() { b.syncFailed.Store(true) }, Notify: b.sender.Notify,
		Log: log})
	return b, nil
}

// StartupError is a problem Gavel cannot work around by waiting: a bad
// token, a token that is not an admin's, a room it cannot join.
type StartupError struct{ msg string }

func (e *StartupError) Error() string { return e.msg }

func startupErr(format string, args ...any) error {
	return &StartupError{msg: fmt.Sprintf(format, args...)}
}

// Start checks the tokens, joins the management room and reads Synapse's
// version. While the homeserver cannot be reached or answers 5xx it keeps
// trying, saying so in the log; problems that waiting cannot fix return a
// *StartupError that says what to change.
func (b *Bot) Start(ctx context.Context) error {
	b.startedAt = time.Now()
	var who *mautrix.RespWhoami
	err := b.untilReachable(ctx, "checking matrix.access_token", func() (err error) {
		who, err = b.client.Whoami(ctx)
		return err
	})
	if err := preflight.BotToken(b.cfg, who, err); err != nil {
		return startupErr("%v", err)
	}
	b.client.DeviceID = who.DeviceID

	var adminUser id.UserID
	var isAdmin bool
	err = b.untilReachable(ctx, "checking the admin token", func() (err error) {
		adminUser, isAdmin, err = b.admin.IsServerAdmin(ctx)
		return err
	})
	if err := preflight.AdminToken(b.cfg, adminUser, isAdmin, err); err != nil {
		return startupErr("%v", err)
	}

	b.mu.Lock()
	b.adminUser = adminUser
	b.mu.Unlock()

	err = b.untilReachable(ctx, "reading Synapse's version", func() (err error) {
		version, err := b.admin.ServerVersion(ctx)
		b.mu.Lock()
		b.synapseVersion = version
		b.mu.Unlock()
		return err
	})
	if err != nil {
		return startupErr("reading Synapse's version: %v", err)
	}

	room := b.cfg.Matrix.ManagementRoom
	err = b.untilReachable(ctx, "joining the management room", func() error {
		_, err := b.client.JoinRoomByID(ctx, room)
		return err
	})
	if err != nil {
		return startupErr("cannot join matrix.management_room %s (%s): invite %s to the room, or check the room id", room, retry.ErrCode(err), b.cfg.Matrix.UserID)
	}
	b.serverRoom().joined.Store(true)
	var encryption event.EncryptionEventContent
	err = b.untilReachable(ctx, "reading the management room's state", func() error {
		return b.client.StateEvent(ctx, room, event.StateEncryption, "", &encryption)
	})
	encrypted := err == nil
	if err != nil && retry.Status(err) != http.StatusNotFound {
		return startupErr("reading the state of matrix.management_room %s: %v", room, err)
	}
	if err := preflight.Encryption(b.cfg, encrypted); err != nil {
		return startupErr("%v", err)
	}
	if b.cfg.Encryption.PickleKey != "" {
		if err := b.startCrypto(ctx); err != nil {
			return err
		}
	}
	if encrypted {
		b.markEncrypted(ctx, b.serverRoom(), &encryption)
	}
	b.joinDesks(ctx)
	b.followPolicyLists(ctx)
	b.desks.Connect(b.admin, b.client, b.store, b.log.With().Str("component", "desks").Logger())
	if err := b.desks.Load(ctx, b.store); err != nil {
		return err
	}
	// Run closes it when Gavel stops.
	if err := b.roomReports.Connect(ctx); err != nil {
		return startupErr("%v", err)
	}
	if addr := b.cfg.Reports.DoorbellListen; addr != "" && b.doorbell == nil {
		if b.doorbell, err = doorbell.Listen(addr, b.feed.Ring); err != nil {
			return startupErr("%v: free that address or choose another", err)
		}
		b.log.Info().Stringer("address", b.doorbell.Addr()).Msg("Doorbell listening: a POST to /doorbell makes Gavel poll at once")
	}
	if b.cfg.Reports.NotifyReporter {
		if on, err := b.admin.ServerNoticesEnabled(ctx, b.cfg.Matrix.UserID.Homeserver()); err == nil && !on {
			b.log.Warn().Msg("reports.notify_reporter is on, but Synapse does not send server notices: set server_notices in its homeserver.yaml, or turn reports.notify_reporter off")
		}
	}
	b.log.Info().Stringer("user_id", who.UserID).Stringer("admin", adminUser).Str("synapse", b.synapseVersion).
		Stringer("management_room", room).Bool("encrypted", encrypted).Str("database", b.store.Dialect()).Msg("Gavel started")
	return nil
}

// untilReachable runs fn until the homeserver answers (see
// retry.UntilReachable).
func (b *Bot) untilReachable(ctx context.Context, what string, fn func() error) error {
	return retry.UntilReachable(ctx, b.log, what, fn)
}

// Run runs the sync loop, the report feed, the sender and the follower of
// Synapse tasks until ctx ends, then lets each finish its current step. It returns nil after a clean
// shutdown, or the error that stopped Gavel.
func (b *Bot) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	defer b.roomReports.Close()
	b.metrics.SetActive(true)
	defer b.metrics.SetActive(false)
	var wg sync.WaitGroup
	run := func(name string, loop func(context.Context) error) {
		wg.Go(func() {
			if err := loop(ctx); err != nil && !errors.Is(err, context.Canceled) {
				b.log.Error().Err(err).Str("loop", name).Msg("Stopping Gavel")
				cancel(fmt.Errorf("%s: %w", name, err))
			}
		})
	}
	run("sender", b.sender.Run)
	run("sync", b.syncLoop)
	run("feed", b.feed.Run)
	run("tasks", b.mod.FollowTasks)
	wg.Go(func() { b.desks.Run(ctx) })
	wg.Go(func() { b.mod.Weekly(ctx) })
	if b.doorbell != nil {
		run("doorbell", b.doorbell.Serve)
	}
	wg.Go(func() { b.publishCommands(ctx) })
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// protected reports whether userID is an account Gavel never acts on: its
// own, and the admin token's.
func (b *Bot) protected(userID id.UserID) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return userID == b.client.UserID || userID == b.adminUser
}

// countAdminError counts a failed admin API request in the metrics.
// Not counted: cancellations (shutting down) and "not found", which is how
// the feed learns, at every poll, that the next report id is not taken
// yet; neither says Synapse is unwell.
func (b *Bot) countAdminError(e *adminapi.Error) {
	if !errors.Is(e, context.Canceled) && !adminapi.IsNotFound(e) {
		b.metrics.AdminAPIError(e.Endpoint(), e.StatusCode, e.ErrCode)
	}
}

// Metrics are this Gavel's metrics: SetActive says whether it is the
// active one.
func (b *Bot) Metrics() *metrics.Metrics { return b.metrics }

// health is the session's and the feed's part of !status.
func (b *Bot) health() notice.Status {
	b.mu.Lock()
	s := notice.Status{Version: b.version, SynapseVersion: b.synapseVersion, DryRun: b.cfg.Commands.DryRun}
	b.mu.Unlock()
	s.LastPoll, s.LastPollErr = b.feed.LastPoll()
	switch {
	case b.crypto != nil:
		s.Device, s.MinTrust = b.client.DeviceID, b.cfg.Encryption.MinCommandTrust
	case b.serverRoom().encrypted.Load():
		s.EncryptedNoKey = true
	}
	return s
}

// activeOnly is an HTTP transport that sends a request only while this
// instance may act (Options.Active).
type activeOnly struct {
	next   http.RoundTripper
	active func() error
}

func (t activeOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := t.active(); err != nil {
		return nil, err
	}
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(r)
}
