package bot

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/store"
)

// keyField is the content field that carries a message's outbox key, so
// that a message can be found in the room after a crash.
const keyField = "gavel.key"

// stepTimeout bounds one step (a send and its record, one command) once
// shutdown has begun: the step finishes instead of being cut off.
const stepTimeout = 30 * time.Second

// sendLoop posts the outbox in order, for ever. Every message is sent with
// its key as transaction id; a resend of a message whose first send may
// have gone through is deduplicated by the homeserver, and, for outages
// longer than the homeserver remembers transaction ids, by looking for the
// message in the room first (recoverSent).
func (b *Bot) sendLoop(ctx context.Context) error {
	if err := b.recoverSent(ctx); err != nil {
		return err
	}
	moved, dropped, err := b.store.Readdress(ctx, b.cfg.Matrix.ManagementRoom)
	if err != nil {
		return err
	}
	if moved+dropped > 0 {
		b.log.Warn().Int64("moved", moved).Int64("dropped_replies", dropped).
			Msg("The management room changed: unsent notices go to the new room, replies to commands in the old one are dropped")
	}
	for {
		// One at a time: a reply queued during a flood of notices goes
		// next, not after the batch.
		msgs, err := b.store.Unsent(ctx, 1)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		if len(msgs) == 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-b.wake:
			case <-time.After(30 * time.Second):
			}
			continue
		}
		if err := b.sendOne(ctx, msgs[0]); err != nil {
			return err
		}
	}
}

// sendOne sends one message, retrying until the homeserver accepts it or
// ctx ends. Rate limits are honoured; other failures back off, except those
// that no retry can fix (see giveUp).
func (b *Bot) sendOne(ctx context.Context, m store.Message) error {
	log := b.log.With().Str("key", m.Key).Logger()
	var bo backoff
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// Once started, a step finishes even if shutdown begins.
		sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stepTimeout)
		eventID, err := b.send(sendCtx, m)
		cancel()
		if err == nil && b.afterSend != nil {
			if err := b.afterSend(m.Key); err != nil {
				return err
			}
		}
		if err == nil {
			recordCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stepTimeout)
			defer cancel()
			if err := b.store.MarkSent(recordCtx, m.Key, eventID); err != nil {
				return err
			}
			log.Debug().Stringer("event_id", eventID).Msg("Posted")
			return nil
		}
		if reason, permanent := permanentFailure(err); permanent {
			return b.giveUp(ctx, m, reason)
		}
		if wait, limited := rateLimitWait(err, 5*time.Second); limited {
			log.Info().Dur("retry_in", wait).Msg("Rate limited by the homeserver; waiting")
			if err := sleep(ctx, wait); err != nil {
				return err
			}
			continue
		}
		wait := bo.next()
		log.Warn().Err(err).Dur("retry_in", wait).Msg("Could not post to the management room; retrying")
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// permanentFailure reports whether the homeserver refused a message in a way
// that sending it again cannot change: 400 (malformed) or 413 (too large).
// A 403 is not: the bot may be invited back into the room.
func permanentFailure(err error) (string, bool) {
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		return "its stored content is not valid JSON", true
	}
	if isStatus(err, http.StatusBadRequest) || isStatus(err, http.StatusRequestEntityTooLarge) {
		return errcode(err), true
	}
	return "", false
}

// giveUp records a message the homeserver will never accept and queues a
// short note in its place, so that the outbox moves on and moderators hear
// about it.
func (b *Bot) giveUp(ctx context.Context, m store.Message, reason string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stepTimeout)
	defer cancel()
	b.log.Error().Str("key", m.Key).Str("reason", reason).Msg("The homeserver refused a message for good; posting a short note instead")
	if err := b.store.MarkFailed(ctx, m.Key, reason); err != nil {
		return err
	}
	if strings.HasSuffix(m.Key, failedSuffix) {
		return nil // the note itself failed; nothing smaller to send
	}
	t := (&text{}).raw("Gavel could not post one of its messages: the homeserver refused it (" + reason + ").")
	if reportID, ok := strings.CutPrefix(m.Key, "gavel-report-"); ok {
		reportID, _, _ = strings.Cut(reportID, "-")
		t.raw(" It was the notice of report " + reportID + "; ").raw(b.cfg.Commands.Prefix + "report " + reportID).raw(" shows the report.")
	}
	return b.store.Enqueue(ctx, store.Message{Key: m.Key + failedSuffix, Priority: m.Priority, RoomID: m.RoomID,
		Content: t.content(event.MsgText, nil)})
}

// failedSuffix marks the note that replaces a refused message.
const failedSuffix = "-failed"

// errNoPickleKey stops the sender from posting in the clear into a room that
// turned encrypted while Gavel had no encryption.pickle_key.
var errNoPickleKey = errors.New("the management room is end-to-end encrypted and encryption.pickle_key is empty: set it and restart Gavel")

// mustEncrypt makes sure that nothing goes out in the clear into an
// encrypted room: mautrix encrypts what its state store says is encrypted,
// so a room Gavel knows to be encrypted must be there too.
func (b *Bot) mustEncrypt(ctx context.Context, room id.RoomID) error {
	if !b.encrypted.Load() || room != b.cfg.Matrix.ManagementRoom {
		return nil
	}
	if b.crypto == nil {
		return errNoPickleKey
	}
	if encrypted, err := b.client.StateStore.IsEncrypted(ctx, room); err != nil || encrypted {
		return err
	}
	return b.client.StateStore.SetEncryptionEvent(ctx, room, &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1})
}

func (b *Bot) send(ctx context.Context, m store.Message) (id.EventID, error) {
	if err := b.mustEncrypt(ctx, m.RoomID); err != nil {
		return "", err
	}
	if err := b.store.MarkAttempted(ctx, m.Key); err != nil {
		return "", err
	}
	var content map[string]any
	if err := json.Unmarshal(m.Content, &content); err != nil {
		return "", err
	}
	content[keyField] = m.Key
	resp, err := b.client.SendMessageEvent(ctx, m.RoomID, event.EventMessage, content, mautrix.ReqSendEvent{TransactionID: m.Key})
	if err != nil {
		return "", err
	}
	return resp.EventID, nil
}

// recoverSent looks, at start-up, for messages whose send was attempted but
// not recorded (a crash in between) among the bot's own recent messages in
// their room, and records those it finds as sent.
func (b *Bot) recoverSent(ctx context.Context) error {
	pending, err := b.store.Unsent(ctx, 1000)
	if err != nil {
		return err
	}
	byRoom := map[id.RoomID]map[string]time.Time{}
	for _, m := range pending {
		if m.AttemptedAt.IsZero() {
			continue
		}
		if byRoom[m.RoomID] == nil {
			byRoom[m.RoomID] = map[string]time.Time{}
		}
		byRoom[m.RoomID][m.Key] = m.AttemptedAt
	}
	for roomID, keys := range byRoom {
		var found map[string]id.EventID
		err := b.untilReachable(ctx, "looking for messages sent before a crash", func() (err error) {
			found, err = b.findSent(ctx, roomID, keys)
			return err
		})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			// The room may be gone or closed to the bot (the management
			// room changed): resending is all that is left.
			b.log.Warn().Err(err).Stringer("room_id", roomID).Msg("Could not look for messages sent before a crash; they may be posted twice")
			continue
		}
		for key, eventID := range found {
			if err := b.store.MarkSent(ctx, key, eventID); err != nil {
				return err
			}
			b.log.Info().Str("key", key).Stringer("event_id", eventID).Msg("Found a message sent before a crash; not sending it again")
		}
	}
	return nil
}

// findSent pages back through the bot's own messages in a room, down to a
// minute before the earliest attempt, and returns the event ids of those
// carrying one of keys.
func (b *Bot) findSent(ctx context.Context, roomID id.RoomID, keys map[string]time.Time) (map[string]id.EventID, error) {
	var oldest time.Time
	for _, at := range keys {
		if oldest.IsZero() || at.Before(oldest) {
			oldest = at
		}
	}
	oldest = oldest.Add(-time.Minute)
	filter := &mautrix.FilterPart{Senders: []id.UserID{b.client.UserID}, Types: []event.Type{event.EventMessage, event.EventEncrypted}}
	found := map[string]id.EventID{}
	from := ""
	for page := 0; page < 100; page++ {
		resp, err := b.client.Messages(ctx, roomID, from, "", mautrix.DirectionBackward, filter, 100)
		if err != nil {
			return nil, err
		}
		for _, evt := range resp.Chunk {
			content := evt.Content.Raw
			if evt.Type == event.EventEncrypted && b.crypto != nil {
				// Gavel keeps the keys of its own messages.
				evt.RoomID = roomID
				if evt.Content.ParseRaw(evt.Type) == nil {
					if decrypted, err := b.crypto.Decrypt(ctx, evt); err == nil {
						content = decrypted.Content.Raw
					}
				}
			}
			if key, ok := content[keyField].(string); ok {
				if _, wanted := keys[key]; wanted {
					found[key] = evt.ID
				}
			}
			if time.UnixMilli(evt.Timestamp).Before(oldest) {
				return found, nil
			}
		}
		if resp.End == "" || len(resp.Chunk) == 0 {
			return found, nil
		}
		from = resp.End
	}
	b.log.Warn().Stringer("room_id", roomID).Msg("Stopped looking for messages sent before a crash after 10000 messages; the rest is resent")
	return found, nil
}
