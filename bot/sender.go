package bot

import (
	"context"
	"encoding/json"
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
	if err := b.recoverSent(ctx); err != nil && ctx.Err() == nil {
		return err
	}
	for {
		msgs, err := b.store.Unsent(ctx, 20)
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
		for _, m := range msgs {
			if err := b.sendOne(ctx, m); err != nil {
				return err
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
}

// sendOne sends one message, retrying until the homeserver accepts it or
// ctx ends. Rate limits are honoured; other failures back off.
func (b *Bot) sendOne(ctx context.Context, m store.Message) error {
	log := b.log.With().Str("key", m.Key).Logger()
	var bo backoff
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// Once started, a step finishes even if shutdown begins.
		stepCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stepTimeout)
		eventID, err := b.send(stepCtx, m)
		if err == nil && b.afterSend != nil {
			err = b.afterSend(m.Key)
			if err != nil {
				cancel()
				return err
			}
		}
		if err == nil {
			err = b.store.MarkSent(stepCtx, m.Key, eventID)
			cancel()
			if err != nil {
				return err
			}
			log.Debug().Stringer("event_id", eventID).Msg("Posted")
			return nil
		}
		cancel()
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

func (b *Bot) send(ctx context.Context, m store.Message) (id.EventID, error) {
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
		if err != nil {
			return err
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
	filter := &mautrix.FilterPart{Senders: []id.UserID{b.client.UserID}, Types: []event.Type{event.EventMessage}}
	found := map[string]id.EventID{}
	from := ""
	for page := 0; page < 100; page++ {
		resp, err := b.client.Messages(ctx, roomID, from, "", mautrix.DirectionBackward, filter, 100)
		if err != nil {
			return nil, err
		}
		for _, evt := range resp.Chunk {
			if key, ok := evt.Content.Raw[keyField].(string); ok {
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
