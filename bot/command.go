package bot

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/internal/retry"
	"github.com/gavel-bot/gavel/internal/textcut"
	"github.com/gavel-bot/gavel/metrics"
	"github.com/gavel-bot/gavel/moderation"
	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/outbox"
	"github.com/gavel-bot/gavel/store"
)

// staleAfter is how old a command may be when Gavel first sees it and
// still run. Older ones were sent while Gavel was not running; running them
// hours later would surprise whoever sent them.
const staleAfter = 10 * time.Minute

// commandTimeout bounds one command's calls to Synapse; recording its
// reply has a deadline of its own.
const commandTimeout = 45 * time.Second

// handleCommand runs one message from the management room, if it is a
// command, and queues exactly one reply to it (see record).
func (b *Bot) handleCommand(ctx context.Context, evt *event.Event) {
	// In a card's thread, a command is about the card's report.
	var thread id.EventID
	var about commands.ReportRef
	if rel := evt.Content.AsMessage().RelatesTo; rel != nil && rel.Type == event.RelThread {
		thread = rel.EventID
		if card, ok := b.card(ctx, thread); ok {
			about = card.Ref()
		}
	}
	cmd, isCommand, parseErr := b.parser.ParseAbout(ctx, evt, about)
	if !isCommand {
		return
	}
	text := b.parser.Text(ctx, evt)
	input := textcut.Runes(text, 200)
	b.record(ctx, evt, evt.ID, thread, commands.NameOf(cmd), input, func(ctx context.Context) moderation.Outcome {
		out := b.decide(ctx, evt, cmd, parseErr)
		if out.Pending != nil {
			// Confirmed later by parsing the command again, with --yes.
			out.Pending.Command = text
			out.Pending.Sender = evt.Sender
		}
		return out
	})
}

// record runs one moderator's event (a command, a button, or a reaction
// confirming a preview) and queues exactly one reply, to replyTo, in the
// thread rooted at thread (when empty: the thread of the card of the
// report the command was about, if any). The event is recorded as started
// before it runs and as handled, with its reply, its entry in the action
// log, any action it leaves waiting for confirmation and any Synapse task
// it started, in one transaction after; a replayed sync skips it, and a
// crash in between is answered, not run again. When the database fails it marks the sync
// response as not handled, so that the sync loop tries the same events
// again instead of losing the command.
func (b *Bot) record(ctx context.Context, evt *event.Event, replyTo, thread id.EventID, name, input string, run func(context.Context) moderation.Outcome) {
	log := b.log.With().Stringer("sender", evt.Sender).Stringer("event_id", evt.ID).Logger()
	// Once begun, a command runs to its recorded reply even if shutdown
	// starts meanwhile.
	ctx = context.WithoutCancel(ctx)
	state, err := b.store.Commands.Start(ctx, evt.ID)
	if err != nil {
		log.Error().Err(err).Msg("Database error; the command will be tried again")
		b.syncFailed.Store(true)
		return
	}
	var out moderation.Outcome
	switch state {
	case store.CommandHandled:
		return // a replayed sync
	case store.CommandStarted:
		out = moderation.Refused("Gavel stopped while running this command, so it may or may not have taken effect. Check, then send it again if needed.")
	default:
		if refusal := b.securityRefusal(evt); refusal != "" {
			out = moderation.Refused("%s", refusal)
			break
		}
		execCtx, cancel := context.WithTimeout(ctx, commandTimeout)
		out = run(execCtx)
		cancel()
	}
	b.countCommand(name, out)
	if out.Action {
		level := log.Info()
		if !out.OK {
			level = log.Warn()
		}
		level.Str("command", name).Str("input", input).Bool("ok", out.OK).Str("result", out.Result).Msg("Command")
	} else {
		log.Debug().Str("command", name).Msg("Command")
	}
	f := store.Finished{Reply: store.Message{Key: store.ReplyKey(evt.ID), Priority: store.PriorityReply, RoomID: evt.RoomID}, Task: out.Task}
	if out.Action {
		f.Action = &store.Action{Time: time.Now(), Sender: evt.Sender, EventID: evt.ID, Command: input, OK: out.OK, Result: out.Result,
			Target: out.Target, Reason: out.Reason, Report: out.Report}
	}
	if thread == "" && !out.Report.IsZero() {
		// Replies about a report go into its card's thread.
		thread = b.cardOf(ctx, out.Report)
	}
	var extra map[string]any
	if out.Pending != nil {
		extra = map[string]any{"gavel.confirm": map[string]any{
			"id": string(f.Reply.Key), "expires_ts": out.Pending.ExpiresAt.UnixMilli(),
		}}
		f.Pending = out.Pending
	}
	f.Reply.Content = out.Reply.ReplyIn(replyTo, thread, extra)
	finishCtx, cancel := context.WithTimeout(ctx, outbox.StepTimeout)
	defer cancel()
	if _, err := b.store.Commands.Finish(finishCtx, evt.ID, f); err != nil {
		log.Error().Err(err).Msg("Database error; the command will be answered when the sync is tried again")
		b.syncFailed.Store(true)
		return
	}
	if f.Task != nil {
		b.mod.WakeTasks()
	}
	b.sender.Notify()
}

// countCommand counts a handled command (name is its name, "button" or
// "confirm") and, for an action, the command that ran.
func (b *Bot) countCommand(name string, out moderation.Outcome) {
	outcome := metrics.Failed
	switch {
	case out.Pending != nil:
		outcome = metrics.Preview
	case out.OK:
		outcome = metrics.OK
	}
	b.metrics.Command(name, outcome)
	if out.Action {
		b.metrics.Action(cmp.Or(out.Name, name), out.OK)
	}
}

// decide checks age and permission, then runs the command.
func (b *Bot) decide(ctx context.Context, evt *event.Event, cmd commands.Command, parseErr error) moderation.Outcome {
	if refusal, refused := b.gate(ctx, evt, "command"); refused {
		return moderation.Subject(refusal, cmd)
	}
	if parseErr != nil {
		t := notice.New().User(notice.Capitalize(parseErr.Error()) + ".")
		var usage *commands.UsageError
		if errors.As(parseErr, &usage) && usage.Command != "" {
			t = notice.New().User(notice.Capitalize(parseErr.Error()) + ". ").Raw("See ").Syntax(b.cfg.Commands.Prefix + "help " + usage.Command).Raw(".")
		}
		return moderation.Outcome{Reply: t}
	}
	return b.mod.Run(ctx, evt.Sender, cmd)
}

// gate refuses a moderator's event that is too old to act on (sent while
// Gavel was not running), or whose sender's power level is too low.
func (b *Bot) gate(ctx context.Context, evt *event.Event, what string) (moderation.Outcome, bool) {
	sent := time.UnixMilli(evt.Timestamp)
	if age := time.Since(sent); age > staleAfter {
		return moderation.Refused("Not run: this %s is from %s, %s, while Gavel was not running. Send it again if it still applies.",
			what, sent.UTC().Format("15:04 UTC"), notice.Ago(sent, time.Now())), true
	}
	level, err := b.powerLevel(ctx, evt.Sender)
	if err != nil {
		return moderation.Refused("Not run: could not read the room's power levels (%s). Try again in a moment.", retry.ErrCode(err)), true
	}
	if level < b.cfg.Commands.MinPowerLevel {
		return moderation.Refused("Sorry, Gavel's commands need power level %d in this room; yours is %d.", b.cfg.Commands.MinPowerLevel, level), true
	}
	return moderation.Outcome{}, false
}

// onReaction handles a moderator's reaction: ✅ or ❌ on the preview of an
// action that waits for confirmation, or a button on a report's card.
// Every other reaction is ignored.
func (b *Bot) onReaction(ctx context.Context, evt *event.Event) {
	if evt.RoomID != b.cfg.Matrix.ManagementRoom || evt.Sender == b.client.UserID {
		return
	}
	content, ok := evt.Content.Parsed.(*event.ReactionEventContent)
	if !ok || content.RelatesTo.Type != event.RelAnnotation {
		return
	}
	target, key := content.RelatesTo.EventID, content.RelatesTo.Key
	p, err := b.store.Pending.ByEvent(ctx, target)
	if err != nil {
		b.log.Error().Err(err).Msg("Database error; the reaction will be handled again")
		b.syncFailed.Store(true)
		return
	}
	if p != nil {
		b.onConfirmation(ctx, evt, p, key)
		return
	}
	b.onButton(ctx, evt, target, key)
}

// onConfirmation handles a reaction to a preview: ✅ confirms, ❌ cancels.
func (b *Bot) onConfirmation(ctx context.Context, evt *event.Event, p *store.Pending, key string) {
	var decision string
	switch notice.ButtonKey(key) {
	case "✅", "✔":
		decision = store.PendingConfirmed
	case "❌":
		decision = store.PendingCancelled
	default:
		return
	}
	input := textcut.Runes(key+" "+p.Command, 200)
	preview := evt.Content.AsReaction().RelatesTo.EventID
	b.record(ctx, evt, preview, b.threadOf(ctx, p.PreviewKey), "confirm", input, func(ctx context.Context) moderation.Outcome {
		return b.decidePending(ctx, evt, p, decision)
	})
}

// onButton runs the command of a button on a report's card (see
// notice.CardButtons), replying to the card.
func (b *Bot) onButton(ctx context.Context, evt *event.Event, card id.EventID, key string) {
	m, err := b.store.Outbox.ByEvent(ctx, card)
	if err != nil {
		b.log.Error().Err(err).Msg("Database error; the reaction will be handled again")
		b.syncFailed.Store(true)
		return
	}
	if m == nil {
		return
	}
	report, isCard := m.Key.Report()
	var content map[string]any
	if !isCard || json.Unmarshal(m.Content, &content) != nil {
		return
	}
	command := notice.ButtonCommand(content, key)
	if command == "" {
		return // a reaction, not a button
	}
	input := textcut.Runes(key+" "+command, 200)
	b.record(ctx, evt, card, card, "button", input, func(ctx context.Context) moderation.Outcome {
		if refusal, refused := b.gate(ctx, evt, "reaction"); refused {
			return refusal
		}
		c, err := b.store.Cases.Get(ctx, report)
		if err != nil {
			return moderation.Refused("Not done: Gavel could not read its database. React again in a moment.")
		}
		if store.Closed(c.State) {
			t := notice.New().Raw(fmt.Sprintf("Report %d is %s: its buttons do nothing now. ", report.ID, c.State)).
				Code(fmt.Sprintf("%sreport reopen %d", b.cfg.Commands.Prefix, report.ID)).Raw(" opens it again.")
			return moderation.NotDone(t)
		}
		cmd, err := b.parseAs(ctx, evt, evt.Sender, command, commands.ReportRef{})
		if err != nil {
			return moderation.Refused("Not done: Gavel could not read the button's command (%v).", err)
		}
		out := b.mod.Run(ctx, evt.Sender, cmd)
		if out.Pending != nil {
			out.Pending.Command, out.Pending.Sender = command, evt.Sender
		}
		return out
	})
}

// card returns the report whose card was posted as eventID, if it is one.
func (b *Bot) card(ctx context.Context, eventID id.EventID) (store.ReportKey, bool) {
	m, err := b.store.Outbox.ByEvent(ctx, eventID)
	if err != nil || m == nil {
		return store.ReportKey{}, false
	}
	return m.Key.Report()
}

// cardOf returns the event id of the card of report r, or "" when it has
// none posted (a digest, skipped, or not sent yet).
func (b *Bot) cardOf(ctx context.Context, r commands.ReportRef) id.EventID {
	seen, err := b.store.Reports.Seen(ctx, r.Normal().Kind, r.ID)
	if err != nil || seen == nil || seen.CardKey == "" {
		return ""
	}
	card, err := b.store.Outbox.Get(ctx, seen.CardKey)
	if err != nil || card == nil {
		return ""
	}
	return card.EventID
}

// threadOf returns the thread Gavel's message under key was posted in, or
// "".
func (b *Bot) threadOf(ctx context.Context, key store.OutboxKey) id.EventID {
	m, err := b.store.Outbox.Get(ctx, key)
	if err != nil || m == nil {
		return ""
	}
	var content event.MessageEventContent
	if json.Unmarshal(m.Content, &content) != nil || content.RelatesTo == nil || content.RelatesTo.Type != event.RelThread {
		return ""
	}
	return content.RelatesTo.EventID
}

// parseAs parses body as a command sent by sender about report about
// (zero for none; see commands.Parser.ParseAbout), for an event that
// stands for it (a reaction).
func (b *Bot) parseAs(ctx context.Context, evt *event.Event, sender id.UserID, body string, about commands.ReportRef) (commands.Command, error) {
	as := &event.Event{Type: event.EventMessage, ID: evt.ID, Sender: sender, RoomID: evt.RoomID,
		Content: event.Content{Parsed: &event.MessageEventContent{MsgType: event.MsgText, Body: body}}}
	cmd, isCommand, err := b.parser.ParseAbout(ctx, as, about)
	if err == nil && !isCommand {
		err = errors.New("not a command")
	}
	return cmd, err
}

// decidePending confirms (and runs) or cancels a pending action: the
// first moderator to decide in time wins, and the action runs once.
func (b *Bot) decidePending(ctx context.Context, evt *event.Event, p *store.Pending, decision string) moderation.Outcome {
	if refusal, refused := b.gate(ctx, evt, "reaction"); refused {
		return refusal
	}
	won, err := b.store.Pending.Decide(ctx, p.PreviewKey, decision, evt.Sender, time.Now())
	if err != nil {
		return moderation.Refused("Not done: Gavel could not record the decision (database error). React again in a moment.")
	}
	if !won {
		now, err := b.store.Pending.ByEvent(ctx, evt.Content.AsReaction().RelatesTo.EventID)
		if err != nil || now == nil {
			return moderation.Refused("Not done: this preview can no longer be decided.")
		}
		t := notice.New()
		switch now.State {
		case store.PendingConfirmed:
			t.Raw("Already confirmed by ").User(string(now.DecidedBy)).Raw(" at " + now.DecidedAt.UTC().Format("15:04 UTC") + ".")
		case store.PendingCancelled:
			t.Raw("Already cancelled by ").User(string(now.DecidedBy)).Raw(" at " + now.DecidedAt.UTC().Format("15:04 UTC") + ".")
		default:
			t.Raw("This preview expired at " + now.ExpiresAt.UTC().Format("15:04 UTC") + "; nothing was done. Send the command again.")
		}
		return moderation.NotDone(t)
	}
	if decision == store.PendingCancelled {
		t := notice.New().Raw("Cancelled by ").User(string(evt.Sender)).Raw(": nothing was done.")
		return moderation.Outcome{Reply: t, Action: true, OK: true, Result: t.Plain()}
	}
	// A command typed in a card's thread was about the card's report.
	var about commands.ReportRef
	if card, ok := b.card(ctx, b.threadOf(ctx, p.PreviewKey)); ok {
		about = card.Ref()
	}
	cmd, err := b.parseAs(ctx, evt, p.Sender, p.Command+" --yes", about)
	if err != nil {
		return moderation.Refused("Not done: Gavel could not read the confirmed command again (%v).", err)
	}
	return b.mod.Run(ctx, evt.Sender, cmd)
}
