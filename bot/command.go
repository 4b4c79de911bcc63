package bot

import (
	"context"
	"errors"
	"strings"
	"time"

	"maunium.net/go/mautrix/event"

	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/internal/retry"
	"github.com/gavel-bot/gavel/internal/textcut"
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
// command, and queues exactly one reply to it. The command is recorded as
// started before it runs and as handled, with its reply and its entry in
// the action log, in one transaction after; a replayed sync skips it, and a
// crash in between is answered, not run again. When the database fails it
// marks the sync response as not handled, so that the sync loop tries the
// same events again instead of losing the command.
func (b *Bot) handleCommand(ctx context.Context, evt *event.Event) {
	cmd, isCommand, parseErr := b.parser.Parse(ctx, evt)
	if !isCommand {
		return
	}
	log := b.log.With().Stringer("sender", evt.Sender).Stringer("event_id", evt.ID).Logger()
	// Once begun, a command runs to its recorded reply even if shutdown
	// starts meanwhile.
	ctx = context.WithoutCancel(ctx)
	state, err := b.store.StartCommand(ctx, evt.ID)
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
		out = b.decide(execCtx, evt, cmd, parseErr)
		cancel()
	}
	name := commands.NameOf(cmd)
	input := textcut.Runes(strings.TrimSpace(evt.Content.AsMessage().Body), 200)
	if out.Action {
		level := log.Info()
		if !out.OK {
			level = log.Warn()
		}
		level.Str("command", name).Str("input", input).Bool("ok", out.OK).Str("result", out.Result).Msg("Command")
	} else {
		log.Debug().Str("command", name).Msg("Command")
	}
	var action *store.Action
	if out.Action {
		action = &store.Action{Time: time.Now(), Sender: evt.Sender, EventID: evt.ID, Command: input, OK: out.OK, Result: out.Result}
	}
	reply := store.Message{
		Key:      store.ReplyKey(evt.ID),
		Priority: store.PriorityReply,
		RoomID:   evt.RoomID,
		Content:  out.Reply.Reply(evt.ID),
	}
	finishCtx, cancel := context.WithTimeout(ctx, outbox.StepTimeout)
	defer cancel()
	if _, err := b.store.FinishCommand(finishCtx, evt.ID, action, reply); err != nil {
		log.Error().Err(err).Msg("Database error; the command will be answered when the sync is tried again")
		b.syncFailed.Store(true)
		return
	}
	b.sender.Notify()
}

// decide checks age and permission, then runs the command.
func (b *Bot) decide(ctx context.Context, evt *event.Event, cmd commands.Command, parseErr error) moderation.Outcome {
	sent := time.UnixMilli(evt.Timestamp)
	if age := time.Since(sent); age > staleAfter {
		return moderation.Refused("Not run: this command is from %s, %s, while Gavel was not running. Send it again if it still applies.",
			sent.UTC().Format("15:04 UTC"), notice.Ago(sent, time.Now()))
	}
	level, err := b.powerLevel(ctx, evt.Sender)
	if err != nil {
		return moderation.Refused("Not run: could not read the room's power levels (%s). Try again in a moment.", retry.ErrCode(err))
	}
	if level < b.cfg.Commands.MinPowerLevel {
		return moderation.Refused("Sorry, Gavel's commands need power level %d in this room; yours is %d.", b.cfg.Commands.MinPowerLevel, level)
	}
	if parseErr != nil {
		t := notice.New().User(notice.Capitalize(parseErr.Error()) + ".")
		var usage *commands.UsageError
		if errors.As(parseErr, &usage) && usage.Command != "" {
			t = notice.New().User(notice.Capitalize(parseErr.Error()) + ". ").Raw("See ").Syntax(b.cfg.Commands.Prefix + "help " + usage.Command).Raw(".")
		}
		return moderation.Outcome{Reply: t}
	}
	return b.mod.Run(ctx, cmd)
}
