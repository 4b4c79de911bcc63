// Package moderation turns a parsed command into an outcome: the reply,
// and for commands that change something, the entry for the action log.
// Each command has one handler here, registered in register(); the
// command itself is declared once, in package commands. FollowTasks
// follows the tasks that long actions start in Synapse (tasks.go).
//
// It does not import bot, feed or outbox: what it needs of them (the last
// poll, the encryption state, waking the sender) comes in through Config.
//
// Of Gavel's packages it may import: adminapi, commands, desk, dossier,
// internal/mxid, internal/retry, internal/textcut, metrics, notice,
// policy, roomreports, stats, store.
package moderation

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/desk"
	"github.com/gavel-bot/gavel/dossier"
	"github.com/gavel-bot/gavel/metrics"
	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/policy"
	"github.com/gavel-bot/gavel/roomreports"
	"github.com/gavel-bot/gavel/stats"
	"github.com/gavel-bot/gavel/store"
)

// Outcome is what a command did: the reply, and whether it is an action
// for the log (a command that changes something), and whether that
// succeeded.
type Outcome struct {
	Reply  *notice.Text
	Action bool
	OK     bool
	// Result is one line for the action log.
	Result string
	// Pending, when set, makes Reply a preview: the action waits for a
	// moderator's confirmation, until Pending.ExpiresAt. The caller fills
	// in the command as typed and who sent it.
	Pending *store.Pending
	// Task, when set, is the Synapse task the action started; Reply shows
	// it and is edited as it goes (FollowTasks).
	Task *store.Task
	// Target and Reason are what the action was on and why, and Report
	// the report it was for (zero for none), for the log; Run fills them
	// in from the command.
	Target, Reason string
	Report         commands.ReportRef
	// Name is the command that ran (its spec's name), set by Run: a
	// button or a confirmation runs one.
	Name string
	// Image, when set, is the reply instead of Reply (which says it in
	// words for the log): an image already uploaded (!stats --chart).
	Image *notice.Image
}

// Done is a successful outcome whose reply is t.
func Done(t *notice.Text) Outcome { return Outcome{Reply: t, OK: true, Result: t.Plain()} }

// Failed is an outcome that did not do what was asked, with a reply in
// Gavel's own words.
func Failed(format string, args ...any) Outcome {
	msg := fmt.Sprintf(format, args...)
	return Outcome{Reply: notice.New().Raw(msg), Result: msg}
}

// NotDone is an outcome that did not do what was asked, with a reply
// already built (for words that hold text Gavel did not choose).
func NotDone(t *notice.Text) Outcome { return Outcome{Reply: t, Result: t.Plain()} }

// Refused is a command that was not run at all (too old, not permitted,
// sent the wrong way): logged as a failed action.
func Refused(format string, args ...any) Outcome {
	out := Failed(format, args...)
	out.Action = true
	return out
}

// Config is what the handlers work with.
type Config struct {
	Admin *adminapi.Client
	// Matrix is the bot's own client; it resolves room aliases.
	Matrix *mautrix.Client
	Store  *store.Store
	// Prefix is what commands start with, for replies that name one.
	Prefix string
	// Health returns the session's and the feed's part of !status.
	Health func() notice.Status
	// ManagementRoom is the moderators' room, which Gavel never blocks.
	ManagementRoom id.RoomID
	// Desks are the desks; nil for the server desk alone. A command from a
	// community desk acts only inside its scope (desks.go).
	Desks *desk.Desks
	// RefreshDesk reads a community desk's spaces again (!desk refresh),
	// and DeskJoined says whether Gavel is in a desk's room (!status).
	RefreshDesk func(context.Context, *desk.Desk) error
	DeskJoined  func(id.RoomID) bool
	// Encrypted says whether a desk's room is encrypted; nil for none is.
	Encrypted func(id.RoomID) bool
	// DryRun: commands that change something say what they would do and
	// call nothing (commands.dry_run).
	DryRun bool
	// ConfirmTimeout is how long a preview waits for its confirmation.
	ConfirmTimeout time.Duration
	// Protected reports whether an account is one Gavel never acts on:
	// its own, and the one whose token it uses for the admin API.
	Protected func(id.UserID) bool
	// DeleteOnResolve: closing a case deletes its reports in Synapse, once
	// archived (reports.delete_on_resolve).
	DeleteOnResolve bool
	// NotifyReporter: closing a case tells its local reporters, by server
	// notice, with NotifyTemplate (reports.notify_reporter).
	NotifyReporter bool
	NotifyTemplate string
	// RoomReports reads room reports; nil when they cannot be read.
	RoomReports *roomreports.Source
	// Dossier gathers the context cards and !report show; nil for none.
	Dossier *dossier.Gatherer
	// Notify wakes the outbox's sender: FollowTasks queued an edit.
	Notify func()
	// Levels returns the power level each command needs in the
	// management room (read at every !help), and PowerLevel a member's
	// level there: !help says what each command needs and marks what
	// the asking member cannot run. Without them it does neither.
	Levels     func() commands.Levels
	PowerLevel func(context.Context, id.RoomID, id.UserID) (int, error)
	// Policy is the followed policy lists; nil for none. PolicyReason is
	// the template of a rule's reason (policy_reason_template).
	Policy       *policy.Index
	PolicyReason string
	// Metrics records how long cases wait; nil for none.
	Metrics *metrics.Metrics
	// StatsZone is the time zone !stats cuts days in (stats.timezone);
	// nil for UTC.
	StatsZone *time.Location
	// WeeklyStats: Weekly posts the weekly picture (stats.weekly), on
	// Clock (the system's when nil).
	WeeklyStats bool
	Clock       stats.Clock
	Log         zerolog.Logger
}

// Moderator runs commands.
type Moderator struct {
	Config
	handlers map[reflect.Type]handler
	// previews are the handlers that preview commands needing
	// confirmation.
	previews map[reflect.Type]handler
	// tasksWake wakes FollowTasks: a task was added.
	tasksWake chan struct{}
}

// Actor is who runs a command, and from which desk.
type Actor struct {
	// User sent the command (or confirmed it, or pressed its button).
	User id.UserID
	// Desk is the desk the command came from; nil is the server desk.
	Desk *desk.Desk
}

// handler runs a command for the actor a.
type handler func(ctx context.Context, a Actor, cmd commands.Command) Outcome

// New returns a Moderator. It fails when a declared command has no
// handler: that is a programming error, caught by the tests and at
// start-up rather than when a moderator first types the command.
func New(cfg Config) (*Moderator, error) {
	m := &Moderator{Config: cfg, previews: map[reflect.Type]handler{}, tasksWake: make(chan struct{}, 1)}
	m.handlers = m.register()
	if err := everyCommandHandled(m.handlers); err != nil {
		return nil, err
	}
	for _, s := range commands.All() {
		if s.Confirm && m.previews[s.Type()] == nil {
			return nil, fmt.Errorf("moderation: command %q needs confirmation and has no preview", s.Name)
		}
	}
	return m, nil
}

func everyCommandHandled(h map[reflect.Type]handler) error {
	for _, s := range commands.All() {
		if h[s.Type()] == nil {
			return fmt.Errorf("moderation: command %q has no handler", s.Name)
		}
	}
	return nil
}

// preview registers fn as the preview of the command type C, which needs
// confirmation.
func preview[C any](m *Moderator, fn func(context.Context, C) Outcome) {
	m.previews[reflect.TypeFor[C]()] = func(ctx context.Context, _ Actor, cmd commands.Command) Outcome { return fn(ctx, cmd.(C)) }
}

// previewAt registers fn as the preview of the command type C, which
// depends on the desk it comes from.
func previewAt[C any](m *Moderator, fn func(context.Context, Actor, C) Outcome) {
	m.previews[reflect.TypeFor[C]()] = func(ctx context.Context, a Actor, cmd commands.Command) Outcome { return fn(ctx, a, cmd.(C)) }
}

// on registers fn as the handler of the command type C, which does not
// depend on who runs it.
func on[C any](h map[reflect.Type]handler, fn func(context.Context, C) Outcome) {
	h[reflect.TypeFor[C]()] = func(ctx context.Context, _ Actor, cmd commands.Command) Outcome { return fn(ctx, cmd.(C)) }
}

// onAt registers fn as the handler of the command type C, which depends
// on the desk it comes from (its scope) as well as on who runs it.
func onAt[C any](h map[reflect.Type]handler, fn func(context.Context, Actor, C) Outcome) {
	h[reflect.TypeFor[C]()] = func(ctx context.Context, a Actor, cmd commands.Command) Outcome { return fn(ctx, a, cmd.(C)) }
}

// register lists every command's handler.
func (m *Moderator) register() map[reflect.Type]handler {
	h := map[reflect.Type]handler{}
	onAt(h, m.help)
	onAt(h, m.status)
	onAt(h, m.listReports)
	onAt(h, m.showReport)
	onAt(h, m.deleteReport)
	onAt(h, m.claimReport)
	onAt(h, m.unclaimReport)
	onAt(h, m.resolveReport)
	onAt(h, m.dismissReport)
	onAt(h, m.reopenReport)
	onAt(h, m.escalateReport)
	onAt(h, m.refreshDesks)
	on(h, m.policyCheck)
	on(h, m.policyList)
	on(h, m.policyBan)
	preview(m, m.previewPolicyBan)
	on(h, m.policyUnban)
	on(h, m.audit)
	onAt(h, m.stats)
	on(h, m.quarantineMedia)
	on(h, m.unquarantineMedia)
	on(h, m.protectMedia)
	on(h, m.unprotectMedia)
	on(h, m.quarantineRoom)
	on(h, m.quarantineUser)
	on(h, m.showUser)
	on(h, m.suspend)
	on(h, m.unsuspend)
	on(h, m.lockAccount)
	on(h, m.unlockAccount)
	on(h, m.shadowBanAccount)
	on(h, m.unshadowBanAccount)
	onAt(h, m.showRoom)
	on(h, m.blockRoom)
	on(h, m.unblockRoom)
	onAt(h, m.kick)
	onAt(h, m.ban)
	onAt(h, m.unban)
	onAt(h, m.redactEvent)
	on(h, m.deactivate)
	preview(m, m.previewDeactivate)
	on(h, m.deleteRoom)
	preview(m, m.previewDeleteRoom)
	onAt(h, m.redactUser)
	previewAt(m, m.previewRedactUser)
	return h
}

// Run runs a parsed command for the actor a. Commands that change
// something are actions for the log, whatever their result; read-only
// ones are not.
func (m *Moderator) Run(ctx context.Context, a Actor, cmd commands.Command) Outcome {
	if a.Desk == nil && m.Desks != nil {
		a.Desk = m.Desks.Server()
	}
	out := m.runCommand(ctx, a, cmd)
	if spec := commands.SpecOf(cmd); spec != nil {
		out.Name = spec.Name
	}
	return out
}

func (m *Moderator) runCommand(ctx context.Context, a Actor, cmd commands.Command) Outcome {
	spec := commands.SpecOf(cmd)
	h := m.handlers[reflect.TypeOf(cmd)]
	if spec == nil || h == nil {
		return Refused("Gavel does not know how to run %s.", commands.NameOf(cmd))
	}
	var forReport *store.SeenReport
	if r, ok := reportField(cmd); ok && !r.IsZero() && !spec.ReadOnly {
		// An action for a report (--report): the report must exist.
		seen, refused := m.seenReport(ctx, r)
		if refused != nil {
			return *refused
		}
		if refused := m.notDesks(ctx, a, seen); refused != nil {
			return *refused
		}
		forReport = seen
	}
	if !commands.Confirmed(cmd) && !m.DryRun {
		out := m.previews[reflect.TypeOf(cmd)](ctx, a, cmd) // New checked that there is one
		if out.Pending != nil {
			// What the action will be about, so that its preview is in its
			// report's thread and the pending row keeps the report.
			out = Subject(out, cmd)
			now := time.Now()
			out.Pending.CreatedAt, out.Pending.ExpiresAt = now, now.Add(m.ConfirmTimeout)
			out.Reply.Raw(" React ✅ to this message within " + notice.Duration(m.ConfirmTimeout) + " to confirm, ❌ to cancel, or send the command again with ").
				Code("--yes").Raw(".")
		}
		return out // a preview or a refusal: not an action yet
	}
	if m.DryRun && !spec.ReadOnly {
		t := notice.New().Raw("Dry run (commands.dry_run is on): Gavel would run ").Code(m.Prefix + describe(spec, cmd)).Raw("; nothing was changed.")
		return Outcome{Reply: t, Action: true, OK: true, Result: t.Plain()}
	}
	target, reason, report := targetAndReason(cmd)
	out := h(ctx, a, cmd)
	out.Action = !spec.ReadOnly
	out.Target, out.Reason, out.Report = target, reason, report
	if forReport != nil && out.OK {
		if note := m.actedFor(ctx, a, forReport, spec.Name); note != nil {
			out.Reply.Raw(" ").Append(note)
		}
	}
	return out
}

// reportField returns the report cmd is for (its RoleReport argument:
// --report), and whether it takes one.
func reportField(cmd commands.Command) (commands.ReportRef, bool) {
	spec := commands.SpecOf(cmd)
	if spec == nil || !slices.ContainsFunc(spec.Args, func(a commands.Arg) bool { return a.Role == commands.RoleReport }) {
		return commands.ReportRef{}, false
	}
	for _, g := range spec.Given(cmd) {
		if g.Role == commands.RoleReport {
			return g.Value.(commands.ReportRef), true
		}
	}
	return commands.ReportRef{}, true
}

// Subject fills in what out's command cmd was about, for the log: the
// target, the reason or note, the report (see Outcome). The caller uses it
// for an outcome Run did not make (a refusal before running).
func Subject(out Outcome, cmd commands.Command) Outcome {
	if commands.SpecOf(cmd) != nil {
		out.Target, out.Reason, out.Report = targetAndReason(cmd)
	}
	return out
}

// targetAndReason returns what a command acts on (its users, rooms,
// events, media and report ids, as typed), the reason or note it gives
// (its RoleReason argument), and the report it is about.
func targetAndReason(cmd commands.Command) (target, reason string, report commands.ReportRef) {
	spec := commands.SpecOf(cmd)
	if spec == nil {
		return "", "", commands.ReportRef{}
	}
	var targets []string
	for _, g := range spec.Given(cmd) {
		switch {
		case g.Role == commands.RoleReason:
			reason = g.Text
		case g.Kind == commands.ArgReport:
			report = g.Value.(commands.ReportRef).Normal()
			targets = append(targets, reportName(report))
		case slices.Contains(targetKinds, g.Kind):
			targets = append(targets, g.Text)
		}
	}
	return strings.Join(targets, " "), reason, report
}

var targetKinds = []commands.ArgKind{commands.ArgUser, commands.ArgEvent, commands.ArgRoom, commands.ArgMedia}

// describe spells a parsed command out as typed: its name and its
// arguments (--yes, --report 12).
func describe(spec *commands.Spec, cmd commands.Command) string { return spec.Format(cmd) }

// protected refuses to act on Gavel's own account or the admin token's,
// or returns nil.
func (m *Moderator) protected(user id.UserID) *Outcome {
	if m.Protected == nil || !m.Protected(user) {
		return nil
	}
	t := sentence("Not done: %s is Gavel's own account, or the one whose token it uses for the admin API. Gavel does not act on them.", string(user))
	out := NotDone(t)
	return &out
}

// managementRoom refuses to act on a desk's room (the management room or
// a community desk's; verb says how: "block it", "redact there"), or
// returns nil.
func (m *Moderator) managementRoom(roomID id.RoomID, name, verb string) *Outcome {
	what := "the management room"
	switch d := m.deskOf(roomID); {
	case roomID == m.ManagementRoom:
	case d != nil:
		what = "desk " + d.Label() + "'s room"
	default:
		return nil
	}
	t := sentence("Not done: %s is "+what+". Gavel does not "+verb+".", name)
	out := NotDone(t)
	return &out
}

// resolveNamed resolves a room and names it for replies: as typed, with
// the room id after an alias.
func (m *Moderator) resolveNamed(ctx context.Context, ref commands.RoomRef) (id.RoomID, string, error) {
	roomID, err := m.resolveRoom(ctx, ref)
	if err != nil {
		return "", "", err
	}
	name := ref.String()
	if ref.Alias != "" {
		name += " (" + string(roomID) + ")"
	}
	return roomID, name, nil
}

// roomNamed is a room as replies name it (notice.RoomName), from its
// details in Synapse: one admin call. Without them, by its id.
func (m *Moderator) roomNamed(ctx context.Context, roomID id.RoomID) notice.Room {
	info, err := m.Admin.RoomInfo(ctx, roomID)
	if err != nil {
		return notice.Room{ID: roomID}
	}
	return notice.RoomOf(info)
}

// roomSentence is sentence for a room: the %s in format is room as
// notice.RoomName names it.
func roomSentence(format string, room notice.Room) *notice.Text {
	before, after, _ := strings.Cut(format, "%s")
	return notice.New().Raw(before).Append(notice.RoomName(room)).Raw(after)
}

// explain words an admin API error (notice.Explain), naming Synapse's
// version when it lacks the endpoint.
func (m *Moderator) explain(err error, what string) string {
	version := ""
	if m.Health != nil {
		version = m.Health().SynapseVersion
	}
	return notice.ExplainFor(err, what, version)
}
