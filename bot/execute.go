package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/internal/textcut"
	"github.com/gavel-bot/gavel/store"
)

// staleAfter is how old a command may be when Gavel first sees it and
// still run. Older ones were sent while Gavel was not running; running them
// hours later would surprise whoever sent them.
const staleAfter = 10 * time.Minute

// outcome is what a command did: the reply, and for actions that change
// something or were refused, the action log entry.
type outcome struct {
	reply  *text
	action bool   // log it as an action
	ok     bool   // the action succeeded
	result string // one line for the action log
}

func answer(t *text) outcome { return outcome{reply: t} }

func failed(format string, args ...any) outcome {
	msg := fmt.Sprintf(format, args...)
	return outcome{reply: (&text{}).raw(msg), action: true, result: msg}
}

func done(t *text) outcome {
	return outcome{reply: t, action: true, ok: true, result: t.plain.String()}
}

// handleCommand runs one message from the management room, if it is a
// command, and queues exactly one reply to it. When the database fails it
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
	var out outcome
	switch state {
	case store.CommandHandled:
		return // a replayed sync
	case store.CommandStarted:
		out = failed("Gavel stopped while running this command, so it may or may not have taken effect. Check, then send it again if needed.")
	default:
		if refusal := b.securityRefusal(evt); refusal != "" {
			out = failed("%s", refusal)
			break
		}
		execCtx, cancel := context.WithTimeout(ctx, commandTimeout)
		out = b.decide(execCtx, evt, cmd, parseErr)
		cancel()
	}
	name := "unknown"
	if cmd != nil {
		name = cmd.Name()
	}
	if out.action {
		level := log.Info()
		if !out.ok {
			level = log.Warn()
		}
		level.Str("command", name).Str("input", commandText(evt)).Bool("ok", out.ok).Str("result", out.result).Msg("Command")
	} else {
		log.Debug().Str("command", name).Msg("Command")
	}
	var action *store.Action
	if out.action {
		action = &store.Action{Time: time.Now(), Sender: evt.Sender, EventID: evt.ID, Command: commandText(evt), OK: out.ok, Result: out.result}
	}
	reply := store.Message{
		Key:      replyKey(evt.ID),
		Priority: store.PriorityReply,
		RoomID:   evt.RoomID,
		Content:  replyContent(out.reply, evt),
	}
	finishCtx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	if _, err := b.store.FinishCommand(finishCtx, evt.ID, action, reply); err != nil {
		log.Error().Err(err).Msg("Database error; the command will be answered when the sync is tried again")
		b.syncFailed.Store(true)
		return
	}
	b.notify()
}

// commandTimeout bounds one command's calls to Synapse; recording its
// reply has a deadline of its own.
const commandTimeout = 45 * time.Second

// decide checks age and permission, then runs the command.
func (b *Bot) decide(ctx context.Context, evt *event.Event, cmd commands.Command, parseErr error) outcome {
	sent := time.UnixMilli(evt.Timestamp)
	if age := time.Since(sent); age > staleAfter {
		return failed("Not run: this command is from %s, %s, while Gavel was not running. Send it again if it still applies.",
			sent.UTC().Format("15:04 UTC"), ago(sent, time.Now()))
	}
	level, err := b.powerLevel(ctx, evt.Sender)
	if err != nil {
		return failed("Not run: could not read the room's power levels (%s). Try again in a moment.", errcode(err))
	}
	if level < b.cfg.Commands.MinPowerLevel {
		return failed("Sorry, Gavel's commands need power level %d in this room; yours is %d.", b.cfg.Commands.MinPowerLevel, level)
	}
	if parseErr != nil {
		var usage *commands.UsageError
		if errors.As(parseErr, &usage) && usage.Command != "" {
			return answer((&text{}).user(capitalize(parseErr.Error()) + ". ").raw("See ").code(b.cfg.Commands.Prefix + "help " + usage.Command).raw("."))
		}
		return answer((&text{}).user(capitalize(parseErr.Error()) + "."))
	}
	return b.execute(ctx, cmd)
}

// execute runs a parsed command against Synapse.
func (b *Bot) execute(ctx context.Context, cmd commands.Command) outcome {
	switch c := cmd.(type) {
	case commands.Help:
		return b.help(c.Topic)
	case commands.Status:
		return b.status(ctx)
	case commands.ListReports:
		return b.listOpenReports(ctx, c)
	case commands.ShowReport:
		return b.showReport(ctx, c.ID)
	case commands.DeleteReport:
		if err := b.admin.DeleteEventReport(ctx, c.ID); err != nil {
			return failed("%s", b.explain(err, fmt.Sprintf("report %d", c.ID)))
		}
		return done((&text{}).raw(fmt.Sprintf("Deleted report %d.", c.ID)))
	case commands.QuarantineMedia:
		return b.mediaAction(ctx, c.Media, "quarantine")
	case commands.UnquarantineMedia:
		return b.mediaAction(ctx, c.Media, "unquarantine")
	case commands.ProtectMedia:
		return b.mediaAction(ctx, c.Media, "protect")
	case commands.UnprotectMedia:
		return b.mediaAction(ctx, c.Media, "unprotect")
	case commands.QuarantineRoom:
		roomID, err := b.resolveRoom(ctx, c.Room)
		if err != nil {
			return failed("%s", err)
		}
		n, err := b.admin.QuarantineRoomMedia(ctx, roomID)
		if err != nil {
			return failed("%s", b.explain(err, "room "+string(roomID)))
		}
		return done((&text{}).raw(fmt.Sprintf("Quarantined %s in ", items(n))).raw(c.Room.String()).raw(roomSuffix(c.Room, roomID) + "."))
	case commands.QuarantineUser:
		n, err := b.admin.QuarantineUserMedia(ctx, c.User)
		if err != nil {
			return failed("%s", b.explain(err, "user "+string(c.User)))
		}
		t := (&text{}).raw(fmt.Sprintf("Quarantined %s uploaded by %s.", items(n), c.User))
		if n == 0 && c.User.Homeserver() != b.serverName() {
			t.raw(" Only media uploaded to this server (" + b.serverName() + ") can be quarantined by user.")
		}
		return done(t)
	}
	return failed("Gavel does not know how to run %q yet.", cmd.Name())
}

func items(n int) string {
	if n == 1 {
		return "1 media item"
	}
	return fmt.Sprintf("%d media items", n)
}

func roomSuffix(ref commands.RoomRef, roomID id.RoomID) string {
	if ref.Alias != "" {
		return " (" + string(roomID) + ")"
	}
	return ""
}

// serverName is the homeserver's name: the part after the colon in the
// bot's own user id.
func (b *Bot) serverName() string { return b.client.UserID.Homeserver() }

// resolveRoom turns an alias into a room id.
func (b *Bot) resolveRoom(ctx context.Context, ref commands.RoomRef) (id.RoomID, error) {
	if ref.ID != "" {
		return ref.ID, nil
	}
	resp, err := b.client.ResolveAlias(ctx, ref.Alias)
	if err != nil {
		if isStatus(err, 404) {
			return "", fmt.Errorf("room alias %s does not exist (%s)", ref.Alias, errcode(err))
		}
		return "", fmt.Errorf("could not resolve room alias %s (%s)", ref.Alias, errcode(err))
	}
	return resp.RoomID, nil
}

func (b *Bot) mediaAction(ctx context.Context, ref commands.MediaRef, action string) outcome {
	uri := id.ContentURI{Homeserver: ref.Server, FileID: ref.MediaID}
	if uri.Homeserver == "" {
		uri.Homeserver = b.serverName()
	}
	var before *adminapi.MediaInfo
	var err error
	switch action {
	case "quarantine":
		before, err = b.admin.QuarantineMedia(ctx, uri)
	case "unquarantine":
		before, err = b.admin.UnquarantineMedia(ctx, uri)
	case "protect":
		before, err = b.admin.ProtectMedia(ctx, uri)
	case "unprotect":
		before, err = b.admin.UnprotectMedia(ctx, uri)
	}
	if err != nil {
		return failed("%s", b.explain(err, "media "+uri.String()))
	}
	t := &text{}
	switch {
	case action == "quarantine" && before.Quarantined():
		t.raw("Already quarantined: " + uri.String() + " (by " + string(before.QuarantinedBy) + ").")
	case action == "quarantine" && bool(before.SafeFromQuarantine):
		t.raw("Not quarantined: " + uri.String() + " is protected. Run " + b.cfg.Commands.Prefix + "unprotect media " + uri.String() + " first if it should be.")
		return failed("%s", t.plain.String())
	case action == "unquarantine" && !before.Quarantined():
		t.raw("Not quarantined, nothing to lift: " + uri.String() + ".")
	default:
		past := map[string]string{"quarantine": "Quarantined", "unquarantine": "Lifted the quarantine of", "protect": "Protected", "unprotect": "Removed the protection of"}[action]
		t.raw(past + " " + uri.String())
		describeMedia(t, before)
		t.raw(".")
	}
	return done(t)
}

// describeMedia adds " (image/png, 12 KB, uploaded by @bob:example.org)".
func describeMedia(t *text, m *adminapi.MediaInfo) {
	var parts []string
	if m.MediaType != "" {
		parts = append(parts, m.MediaType)
	}
	if m.MediaLength > 0 {
		parts = append(parts, size(m.MediaLength))
	}
	if m.UserID != "" {
		parts = append(parts, "uploaded by "+string(m.UserID))
	}
	if len(parts) > 0 {
		t.raw(" (").user(strings.Join(parts, ", ")).raw(")")
	}
}

func size(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d bytes", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.0f KB", float64(n)/1024)
	default:
		return fmt.Sprintf("%.1f MB", float64(n)/1024/1024)
	}
}

// explain turns an admin API error into a sentence for moderators: what is
// wrong with what, and Synapse's errcode.
func (b *Bot) explain(err error, what string) string {
	var invalid *adminapi.InvalidInputError
	switch {
	case errors.As(err, &invalid):
		return capitalize(invalid.Error()) + "."
	case adminapi.IsNotFound(err):
		return fmt.Sprintf("%s does not exist (Synapse: %s).", capitalize(what), adminapi.ErrCode(err))
	case adminapi.IsForbidden(err):
		return fmt.Sprintf("Synapse refused (%s): %s. Gavel's admin token must belong to a server admin.", adminapi.ErrCode(err), synapseMessage(err))
	case adminapi.IsUnauthorized(err):
		return fmt.Sprintf("Synapse rejected Gavel's admin token (%s). Check synapse.admin_access_token.", adminapi.ErrCode(err))
	case adminapi.IsUnsupported(err):
		return "This Synapse does not support that (" + errcode(err) + ")."
	case adminapi.StatusCode(err) == 0 && !errors.Is(err, context.DeadlineExceeded):
		var apiErr *adminapi.Error
		if errors.As(err, &apiErr) {
			return "Synapse did not answer; try again in a moment."
		}
		return "Failed: " + err.Error()
	case errors.Is(err, context.DeadlineExceeded):
		return "Synapse took too long to answer; the action may still complete. Check before trying again."
	default:
		code := adminapi.ErrCode(err)
		if code == "" {
			code = fmt.Sprintf("HTTP %d", adminapi.StatusCode(err))
		}
		return fmt.Sprintf("Synapse could not do that for %s (%s): %s.", what, code, synapseMessage(err))
	}
}

func synapseMessage(err error) string {
	var apiErr *adminapi.Error
	if errors.As(err, &apiErr) && apiErr.Message != "" {
		return strings.TrimSuffix(apiErr.Message, ".")
	}
	return "no details"
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// commandText is the command as typed, for the log.
func commandText(evt *event.Event) string {
	return textcut.Runes(strings.TrimSpace(evt.Content.AsMessage().Body), 200)
}

// replyKey derives the reply's outbox key (and transaction id) from the
// command's event id.
func replyKey(eventID id.EventID) string {
	sum := sha256.Sum256([]byte(eventID))
	return "gavel-reply-" + hex.EncodeToString(sum[:12])
}

// replyContent makes t a notice that replies to evt.
func replyContent(t *text, evt *event.Event) []byte {
	c := &event.MessageEventContent{
		MsgType:       event.MsgNotice,
		Body:          t.plain.String(),
		Format:        event.FormatHTML,
		FormattedBody: t.html.String(),
		Mentions:      &event.Mentions{},
		RelatesTo:     (&event.RelatesTo{}).SetReplyTo(evt.ID),
	}
	return marshalContent(c, nil)
}
