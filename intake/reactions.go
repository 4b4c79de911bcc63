package intake

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/internal/retry"
	"github.com/gavel-bot/gavel/internal/textcut"
	"github.com/gavel-bot/gavel/moderation"
	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/store"
)

// Reaction handles a moderator's reaction in the management room: ✅ or ❌
// on the preview of an action that waits for confirmation, or a button on
// a report's card. Every other reaction is ignored.
func (in *Intake) Reaction(ctx context.Context, evt *event.Event) {
	content, ok := evt.Content.Parsed.(*event.ReactionEventContent)
	if !ok || content.RelatesTo.Type != event.RelAnnotation {
		return
	}
	target, key := content.RelatesTo.EventID, content.RelatesTo.Key
	p, err := in.cfg.Store.Pending.ByEvent(ctx, target)
	if err != nil {
		in.cfg.Log.Error().Err(err).Msg("Database error; the reaction will be handled again")
		in.cfg.Failed()
		return
	}
	if p != nil {
		// A preview is decided in the room it was posted in.
		if m, err := in.cfg.Store.Outbox.ByEvent(ctx, target); err == nil && m != nil && m.RoomID == evt.RoomID {
			in.confirmation(ctx, evt, p, target, key)
		}
		return
	}
	in.button(ctx, evt, target, key)
}

// confirmation handles a reaction to preview: ✅ confirms, ❌ cancels.
func (in *Intake) confirmation(ctx context.Context, evt *event.Event, p *store.Pending, preview id.EventID, key string) {
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
	in.record(ctx, evt, preview, p.Thread, "confirm", &input, func(ctx context.Context) moderation.Outcome {
		return in.decidePending(ctx, evt, p, preview, decision)
	})
}

// button runs the command of a button on a report's card, replying to the
// card. The card's report is its outbox row's; the button's command is
// built for that report as it is now (moderation.Moderator.Buttons).
func (in *Intake) button(ctx context.Context, evt *event.Event, card id.EventID, key string) {
	if !notice.IsButton(key) {
		return // a reaction, not a button
	}
	m, err := in.cfg.Store.Outbox.ByEvent(ctx, card)
	if err != nil {
		in.cfg.Log.Error().Err(err).Msg("Database error; the reaction will be handled again")
		in.cfg.Failed()
		return
	}
	if m == nil || m.Report == (store.ReportKey{}) || m.RoomID != evt.RoomID {
		return // not a card, or not one in this room
	}
	d := in.desk(evt.RoomID)
	report := m.Report
	input := key + " on " + report.Ref().String() // until the button is found
	in.record(ctx, evt, card, card, "button", &input, func(ctx context.Context) moderation.Outcome {
		level, refusal, refused := in.gate(ctx, d, evt, "reaction")
		if refused {
			return refusal
		}
		c, err := in.cfg.Store.Cases.Get(ctx, report)
		if err != nil {
			return moderation.Refused("Not done: Gavel could not read its database. React again in a moment.")
		}
		if store.Closed(c.State) {
			t := notice.New().Raw(fmt.Sprintf("Report %s is %s: its buttons do nothing now. ", report.Ref(), c.State)).
				Code(fmt.Sprintf("%sreport reopen %s", in.cfg.Commands.Prefix, report.Ref())).Raw(" opens it again.")
			return moderation.NotDone(t)
		}
		buttons, err := in.cfg.Mod.Buttons(ctx, report)
		if err != nil {
			// Synapse's words are not Gavel's: shown inert.
			t := notice.New().Raw("Not done: Gavel could not read report " + report.Ref().String() + " to press its button (").
				User(retry.ErrCode(err)).Raw("). React again in a moment.")
			out := moderation.NotDone(t)
			out.Action = true // refused, as Refused logs it
			return out
		}
		b := notice.FindButton(d.Buttons(buttons, report.Ref(), in.cfg.Commands.Prefix), key)
		if b == nil {
			return moderation.Refused("Not done: report %s's card has no %s button any more (what it did no longer applies).", report.Ref(), key)
		}
		input = textcut.Runes(key+" "+b.Text, 200)
		if refusal, refused := in.beyond(d, b.Command, level); refused {
			return moderation.Subject(refusal, b.Command)
		}
		out := in.cfg.Mod.Run(ctx, moderation.Actor{User: evt.Sender, Desk: d}, b.Command)
		if out.Pending != nil {
			in.pend(out.Pending, evt.Sender, b.Text, b.Command)
		}
		return out
	})
}

// decidePending confirms (and runs) or cancels a pending action: the
// first moderator to decide in time wins, and the action runs once. What
// runs is the stored command, decoded by its name and marked confirmed.
// A ✅ from a member below the command's level (commands.power_levels)
// decides nothing: another moderator's can still confirm. ❌ needs
// commands.min_power_level, or the command's level when that is lower.
func (in *Intake) decidePending(ctx context.Context, evt *event.Event, p *store.Pending, preview id.EventID, decision string) moderation.Outcome {
	d := in.desk(evt.RoomID)
	level, refusal, refused := in.gate(ctx, d, evt, "reaction")
	if refused {
		return refusal
	}
	var cmd commands.Command
	if decision == store.PendingConfirmed {
		var refusal *moderation.Outcome
		if cmd, refusal = stored(p); refusal != nil {
			return *refusal
		}
		if refusal, refused := in.beyond(d, cmd, level); refused {
			if out, decided := in.decided(ctx, preview); decided {
				return out // nothing to confirm any more: say so, as to anyone
			}
			return moderation.Subject(refusal, cmd)
		}
	} else if need := in.levels(d).Cancel(commands.ByName(p.Name)); level < need {
		return moderation.Refused("Not done: cancelling %s needs power %d here; yours is %d.", cmp.Or(p.Name, "this command"), need, level)
	}
	won, err := in.cfg.Store.Pending.Decide(ctx, p.PreviewKey, decision, evt.Sender, time.Now())
	if err != nil {
		return moderation.Refused("Not done: Gavel could not record the decision (database error). React again in a moment.")
	}
	if !won {
		if out, decided := in.decided(ctx, preview); decided {
			return out
		}
		return moderation.Refused("Not done: this preview can no longer be decided.")
	}
	if decision == store.PendingCancelled {
		t := notice.New().Raw("Cancelled by ").User(string(evt.Sender)).Raw(": nothing was done.")
		return moderation.Outcome{Reply: t, Action: true, OK: true, Result: t.Plain()}
	}
	return in.cfg.Mod.Run(ctx, moderation.Actor{User: evt.Sender, Desk: d}, cmd)
}

// decided answers a reaction to preview when its action can no longer be
// decided (confirmed, cancelled or expired), and reports whether it can
// not.
func (in *Intake) decided(ctx context.Context, preview id.EventID) (moderation.Outcome, bool) {
	now, err := in.cfg.Store.Pending.ByEvent(ctx, preview)
	if err != nil || now == nil {
		return moderation.Refused("Not done: this preview can no longer be decided."), true
	}
	t := notice.New()
	switch {
	case now.State == store.PendingConfirmed:
		t.Raw("Already confirmed by ").User(string(now.DecidedBy)).Raw(" at " + now.DecidedAt.UTC().Format("15:04 UTC") + ".")
	case now.State == store.PendingCancelled:
		t.Raw("Already cancelled by ").User(string(now.DecidedBy)).Raw(" at " + now.DecidedAt.UTC().Format("15:04 UTC") + ".")
	case !time.Now().Before(now.ExpiresAt):
		t.Raw("This preview expired at " + now.ExpiresAt.UTC().Format("15:04 UTC") + "; nothing was done. Send the command again.")
	default:
		return moderation.Outcome{}, false
	}
	return moderation.NotDone(t), true
}

// stored returns the command pending action p runs once confirmed, or the
// refusal to run it: an action left pending by a Gavel older than schema
// v9 has only its text, which Gavel does not parse again.
func stored(p *store.Pending) (commands.Command, *moderation.Outcome) {
	if p.Name == "" {
		out := moderation.Refused("Not done: this preview was made by an older Gavel, before an upgrade, and cannot be confirmed. Send the command again.")
		return nil, &out
	}
	s := commands.ByName(p.Name)
	if s == nil {
		out := moderation.Refused("Not done: this Gavel has no command %q any more. Send the command again.", p.Name)
		return nil, &out
	}
	cmd, err := s.Decode(p.Args)
	if err != nil {
		out := moderation.Refused("Not done: Gavel could not read the stored command (%v). Send the command again.", err)
		return nil, &out
	}
	return commands.SetConfirmed(cmd), nil
}
