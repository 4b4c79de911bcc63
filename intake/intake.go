// Package intake turns a moderator's event in the management room into
// exactly one recorded reply: a command message, a button pressed on a
// report's card (a reaction), or ✅/❌ on the preview of an action that
// waits for confirmation. It checks age, how the event was sent and the
// sender's power level against the one the command needs
// (commands.Levels: the same whether the command is typed, structured,
// a card's button or confirmed with ✅), runs the command through package
// moderation, and records the event, its reply, its action log entry and
// any pending confirmation in one transaction, so that a replayed sync
// never runs a command twice.
//
// Buttons and confirmations carry typed commands: a button is built in Go
// for the card's report (moderation.Moderator.Buttons), and a confirmation
// stores the command's name and parsed arguments (store.Pending); neither
// is ever parsed again from text.
//
// The Matrix session (package bot) calls it, and nothing else imports it.
//
// Of Gavel's packages it may import: commands, config, desk, internal/mxid,
// internal/retry, internal/textcut, metrics, moderation, notice, outbox,
// store.
package intake

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/desk"
	"github.com/gavel-bot/gavel/internal/retry"
	"github.com/gavel-bot/gavel/internal/textcut"
	"github.com/gavel-bot/gavel/metrics"
	"github.com/gavel-bot/gavel/moderation"
	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/outbox"
	"github.com/gavel-bot/gavel/store"
)

// StaleAfter is how old a command may be when Gavel first sees it and
// still run. Older ones were sent while Gavel was not running; running them
// hours later would surprise whoever sent them.
const StaleAfter = 10 * time.Minute

// commandTimeout bounds one command's calls to Synapse; recording its
// reply has a deadline of its own.
const commandTimeout = 45 * time.Second

// Config is what an Intake needs from the session that feeds it.
type Config struct {
	Store   *store.Store
	Mod     *moderation.Moderator
	Parser  *commands.Parser
	Metrics *metrics.Metrics
	// Commands is the configuration's commands section, read at every
	// event.
	Commands *config.Commands
	// Desks are the desks whose rooms events come from: each gates its
	// commands by its own roles, and a community desk runs only what
	// stays in its scope. Nil: the server desk alone.
	Desks *desk.Desks
	// PowerLevel returns a user's power level in a desk's room.
	PowerLevel func(context.Context, id.RoomID, id.UserID) (int, error)
	// Refusal says why an event may not run because of how it was sent
	// (unencrypted in an encrypted room, from an untrusted device), or "".
	Refusal func(*event.Event) string
	// Failed marks the sync response being handled as not handled: the
	// sync loop tries its events again.
	Failed func()
	// Notify wakes the sender once a reply is queued.
	Notify func()
	Log    zerolog.Logger
}

// Intake handles moderators' events; see the package comment.
type Intake struct{ cfg Config }

// New returns an Intake.
func New(cfg Config) *Intake { return &Intake{cfg: cfg} }

// Message runs one message from the management room, if it is a command,
// and queues exactly one reply to it (see record).
func (in *Intake) Message(ctx context.Context, evt *event.Event) {
	// In a card's thread, a command is about the card's report.
	var thread id.EventID
	var about commands.ReportRef
	if rel := evt.Content.AsMessage().RelatesTo; rel != nil && rel.Type == event.RelThread {
		thread = rel.EventID
		if card, ok := in.card(ctx, thread); ok {
			about = card.Ref()
		}
	}
	cmd, text, isCommand, parseErr := in.cfg.Parser.ParseText(ctx, evt, about)
	if !isCommand {
		return
	}
	input := textcut.Runes(text, 200)
	in.record(ctx, evt, evt.ID, thread, commands.NameOf(cmd), &input, func(ctx context.Context) moderation.Outcome {
		out := in.Decide(ctx, evt, cmd, parseErr)
		if out.Pending != nil {
			in.pend(out.Pending, evt.Sender, text, cmd)
		}
		return out
	})
}

// pend fills in what a confirmation of p runs: cmd, as sender sent it
// (text, for the action log).
func (in *Intake) pend(p *store.Pending, sender id.UserID, text string, cmd commands.Command) {
	p.Command, p.Sender = text, sender
	if s := commands.SpecOf(cmd); s != nil {
		p.Name = s.Name
	}
	// A command is a struct of plain values: it always marshals.
	p.Args, _ = json.Marshal(cmd)
}

// record runs one moderator's event (a command, a button, or a reaction
// confirming a preview) and queues exactly one reply, to replyTo, in the
// thread rooted at thread (when empty: the thread of the card of the
// report the command was about, if any). input is the event as the action
// log shows it; run may change it. The event is recorded as started
// before it runs and as handled, with its reply, its entry in the action
// log, any action it leaves waiting for confirmation and any Synapse task
// it started, in one transaction after; a replayed sync skips it, and a
// crash in between is answered, not run again. When the database fails it
// calls Config.Failed, so that the sync loop tries the same events again
// instead of losing the command.
func (in *Intake) record(ctx context.Context, evt *event.Event, replyTo, thread id.EventID, name string, input *string, run func(context.Context) moderation.Outcome) {
	log := in.cfg.Log.With().Stringer("sender", evt.Sender).Stringer("event_id", evt.ID).Logger()
	// Once begun, a command runs to its recorded reply even if shutdown
	// starts meanwhile.
	ctx = context.WithoutCancel(ctx)
	state, err := in.cfg.Store.Commands.Start(ctx, evt.ID)
	if err != nil {
		log.Error().Err(err).Msg("Database error; the command will be tried again")
		in.cfg.Failed()
		return
	}
	var out moderation.Outcome
	switch state {
	case store.CommandHandled:
		return // a replayed sync
	case store.CommandStarted:
		out = moderation.Refused("Gavel stopped while running this command, so it may or may not have taken effect. Check, then send it again if needed.")
	default:
		if refusal := in.cfg.Refusal(evt); refusal != "" {
			out = moderation.Refused("%s", refusal)
			break
		}
		execCtx, cancel := context.WithTimeout(ctx, commandTimeout)
		out = run(execCtx)
		cancel()
	}
	in.count(name, out)
	if out.Action {
		level := log.Info()
		if !out.OK {
			level = log.Warn()
		}
		level.Str("command", name).Str("input", *input).Bool("ok", out.OK).Str("result", out.Result).Msg("Command")
	} else {
		log.Debug().Str("command", name).Msg("Command")
	}
	f := store.Finished{Reply: store.Message{Key: store.ReplyKey(evt.ID), Priority: store.PriorityReply, RoomID: evt.RoomID}, Task: out.Task}
	if out.Action {
		f.Action = &store.Action{Time: time.Now(), Sender: evt.Sender, EventID: evt.ID, Command: *input, OK: out.OK, Result: out.Result,
			Target: out.Target, Reason: out.Reason, Report: out.Report, Name: cmp.Or(out.Name, name)}
	}
	if thread == "" && !out.Report.IsZero() {
		// Replies about a report go into the thread of its card in this
		// desk.
		thread = in.cardOf(ctx, out.Report, evt.RoomID)
	}
	var extra map[string]any
	if out.Pending != nil {
		extra = map[string]any{"gavel.confirm": map[string]any{
			"id": string(f.Reply.Key), "expires_ts": out.Pending.ExpiresAt.UnixMilli(),
		}}
		out.Pending.Report, out.Pending.Thread = out.Report, thread
		f.Pending = out.Pending
	}
	f.Reply.Content = out.Reply.ReplyIn(replyTo, thread, extra)
	if out.Image != nil {
		f.Reply.Content = notice.ImageReplyIn(*out.Image, replyTo, thread)
	}
	finishCtx, cancel := context.WithTimeout(ctx, outbox.StepTimeout)
	defer cancel()
	if _, err := in.cfg.Store.Commands.Finish(finishCtx, evt.ID, f); err != nil {
		log.Error().Err(err).Msg("Database error; the command will be answered when the sync is tried again")
		in.cfg.Failed()
		return
	}
	if f.Task != nil {
		in.cfg.Mod.WakeTasks()
	}
	in.cfg.Notify()
}

// count counts a handled command (name is its name, "button" or
// "confirm") and, for an action, the command that ran.
func (in *Intake) count(name string, out moderation.Outcome) {
	outcome := metrics.Failed
	switch {
	case out.Pending != nil:
		outcome = metrics.Preview
	case out.OK:
		outcome = metrics.OK
	}
	in.cfg.Metrics.Command(name, outcome)
	if out.Action {
		in.cfg.Metrics.Action(cmp.Or(out.Name, name), out.OK)
	}
}

// Decide checks age and permission, then runs the command (or answers
// parseErr, the command's usage error).
func (in *Intake) Decide(ctx context.Context, evt *event.Event, cmd commands.Command, parseErr error) moderation.Outcome {
	d := in.desk(evt.RoomID)
	level, refusal, refused := in.gate(ctx, d, evt, "command")
	if refused {
		return moderation.Subject(refusal, cmd)
	}
	if parseErr != nil {
		t := notice.New().User(notice.Capitalize(parseErr.Error()) + ".")
		var usage *commands.UsageError
		if errors.As(parseErr, &usage) && usage.Command != "" {
			t = notice.New().User(notice.Capitalize(parseErr.Error()) + ". ").Raw("See ").Syntax(in.cfg.Commands.Prefix + "help " + usage.Command).Raw(".")
		}
		return moderation.Outcome{Reply: t}
	}
	if refusal, refused := in.beyond(d, cmd, level); refused {
		return moderation.Subject(refusal, cmd)
	}
	return in.cfg.Mod.Run(ctx, moderation.Actor{User: evt.Sender, Desk: d}, cmd)
}

// desk returns the desk whose room is room: the server desk without
// community desks.
func (in *Intake) desk(room id.RoomID) *desk.Desk {
	if in.cfg.Desks == nil {
		return nil
	}
	return in.cfg.Desks.ByRoom(room)
}

// levels returns the levels commands need in desk d (nil: the server
// desk, whose levels are the configuration's, read at every event).
func (in *Intake) levels(d *desk.Desk) commands.Levels {
	if d == nil || d.IsServer() {
		return in.cfg.Commands.Levels()
	}
	return d.Levels
}

// gate refuses a moderator's event that is too old to act on (sent while
// Gavel was not running), or whose sender's power level is too low for
// any command; else it returns that level, for beyond to check against
// the command's own.
func (in *Intake) gate(ctx context.Context, d *desk.Desk, evt *event.Event, what string) (int, moderation.Outcome, bool) {
	sent := time.UnixMilli(evt.Timestamp)
	if age := time.Since(sent); age > StaleAfter {
		return 0, moderation.Refused("Not run: this %s is from %s, %s, while Gavel was not running. Send it again if it still applies.",
			what, sent.UTC().Format("15:04 UTC"), notice.Ago(sent, time.Now())), true
	}
	level, err := in.cfg.PowerLevel(ctx, evt.RoomID, evt.Sender)
	if err != nil {
		return 0, moderation.Refused("Not run: could not read the room's power levels (%s). Try again in a moment.", retry.ErrCode(err)), true
	}
	if need := in.levels(d).Lowest(); level < need {
		return level, moderation.Refused("Sorry, Gavel's commands need power level %d in this room; yours is %d.", need, level), true
	}
	return level, moderation.Outcome{}, false
}

// beyond refuses cmd when desk d does not run it (a community desk runs
// only what stays in its scope) or when it needs a higher power level
// than level, the sender's (commands.power_levels, or the desk's):
// typed, structured, by a button or confirmed with ✅, a command needs
// the same.
func (in *Intake) beyond(d *desk.Desk, cmd commands.Command, level int) (moderation.Outcome, bool) {
	s := commands.SpecOf(cmd)
	if s == nil {
		return moderation.Outcome{}, false
	}
	if d != nil && !d.Offers(s) {
		t := notice.New().Raw("Not done: " + s.Name + " acts beyond the rooms of desk " + d.Label() + ", so only the server desk runs it. ").
			Syntax(in.cfg.Commands.Prefix + "report escalate <id> [--note \"…\"]").Raw(" (or ⏫ on the card) hands the report to the server desk.")
		out := moderation.NotDone(t)
		out.Action = true
		return out, true
	}
	if need := in.levels(d).Of(s); level < need {
		return moderation.Refused("Not done: %s needs power %d here; yours is %d.", s.Name, need, level), true
	}
	return moderation.Outcome{}, false
}

// card returns the report whose card was posted as eventID, if it is one.
func (in *Intake) card(ctx context.Context, eventID id.EventID) (store.ReportKey, bool) {
	m, err := in.cfg.Store.Outbox.ByEvent(ctx, eventID)
	if err != nil || m == nil || m.Report == (store.ReportKey{}) {
		return store.ReportKey{}, false
	}
	return m.Report, true
}

// cardOf returns the event id of the card of report r in room, or ""
// when it has none posted there (a digest, skipped, another desk's, or
// not sent yet).
func (in *Intake) cardOf(ctx context.Context, r commands.ReportRef, room id.RoomID) id.EventID {
	seen, err := in.cfg.Store.Reports.Seen(ctx, r.Normal().Kind, r.ID)
	if err != nil || seen == nil || seen.CardKey == "" {
		return ""
	}
	cards, err := in.cfg.Store.Outbox.Cards(ctx, seen.CaseKey)
	if err != nil {
		return ""
	}
	if card, err := in.cfg.Store.Outbox.Get(ctx, seen.CardKey); err == nil && card != nil {
		cards = append(cards, *card) // a card queued before schema v9
	}
	for _, c := range cards {
		if c.RoomID == room && c.EventID != "" {
			return threadOf(c)
		}
	}
	return ""
}

// threadOf is the thread that replies about card c go in: c's own, or,
// for a card posted in a digest's thread (a report taken out of a
// digest), the digest's, since an event in a thread cannot root another.
func threadOf(c store.Message) id.EventID {
	var content event.MessageEventContent
	if json.Unmarshal(c.Content, &content) == nil && content.RelatesTo != nil && content.RelatesTo.Type == event.RelThread {
		return content.RelatesTo.EventID
	}
	return c.EventID
}
