// Package outbox posts what Gavel has queued in the database, in order and
// exactly once: every message is sent with its key as transaction id, and
// after a crash between a send and its record, the message is looked for
// in the room before it is sent again.
//
// It does not import bot, feed or moderation, which queue messages
// through the store and wake the sender with Notify.
//
// Of Gavel's packages it may import: internal/mxid, internal/retry,
// internal/textcut, metrics, notice, store.
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/mxid"
	"github.com/gavel-bot/gavel/internal/retry"
	"github.com/gavel-bot/gavel/metrics"
	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/store"
)

// KeyField is the content field that carries a message's outbox key, so
// that a message can be found in the room after a crash.
const KeyField = "gavel.key"

// StepTimeout bounds one step that must finish once begun, even when
// shutdown starts meanwhile: a send and its record, or (in bot) recording
// a command's reply.
const StepTimeout = 30 * time.Second

// Config is what the sender needs.
type Config struct {
	Client *mautrix.Client
	Store  *store.Store
	// Room is the management room: unsent messages for other rooms are
	// readdressed to it at start-up.
	Room id.RoomID
	// Desks are the community desks' rooms: their messages stay theirs.
	// Each room has a sender loop of its own, so that a desk room Gavel
	// cannot post to holds up no other, and a report's cards in two desks
	// go out side by side.
	Desks  []id.RoomID
	Prefix string
	Log    zerolog.Logger
	// Guard, when set, is asked before each send; an error holds the
	// message back (retried with backoff). Gavel uses it to never post in
	// the clear into an encrypted room.
	Guard func(ctx context.Context, room id.RoomID) error
	// Decrypt, when set, decrypts Gavel's own encrypted messages while
	// looking for ones sent before a crash.
	Decrypt func(ctx context.Context, evt *event.Event) (*event.Event, error)
	// AfterSend, when set, runs after a message was sent and before that
	// is recorded; tests use it to crash at the worst moment.
	AfterSend func(key string) error
	// Metrics counts the messages posted, by type; nil for none.
	Metrics *metrics.Metrics
}

// Sender posts the outbox.
type Sender struct {
	Config
	// wakes wake each room's loop (Run): one per room, buffered.
	wakes map[id.RoomID]chan struct{}
}

// New returns a Sender; Run starts it.
func New(cfg Config) *Sender {
	s := &Sender{Config: cfg, wakes: map[id.RoomID]chan struct{}{}}
	for _, room := range append([]id.RoomID{cfg.Room}, cfg.Desks...) {
		s.wakes[room] = make(chan struct{}, 1)
	}
	return s
}

// Notify wakes the sender: something new is in the outbox.
func (s *Sender) Notify() {
	for _, wake := range s.wakes {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
}

// Run posts the outbox in order until ctx ends. A resend of a message
// whose first send may have gone through is deduplicated by the
// homeserver (same transaction id), and, for outages longer than the
// homeserver remembers transaction ids, by looking for the message in the
// room first (recoverSent).
func (s *Sender) Run(ctx context.Context) error {
	if err := s.recoverSent(ctx); err != nil {
		return err
	}
	moved, dropped, err := s.Store.Outbox.Readdress(ctx, s.Room, s.Desks...)
	if err != nil {
		return err
	}
	if moved+dropped > 0 {
		s.Log.Warn().Int64("moved", moved).Int64("dropped_replies", dropped).
			Msg("The management room changed: unsent notices go to the new room, replies to commands in the old one are dropped")
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(s.wakes))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for room, wake := range s.wakes {
		wg.Go(func() {
			if err := s.runRoom(ctx, room, wake); err != nil {
				errs <- err
				cancel()
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// runRoom posts room's messages in order until ctx ends. Rooms are
// independent: an edit or a reaction relates to a message in its own
// room.
func (s *Sender) runRoom(ctx context.Context, room id.RoomID, wake <-chan struct{}) error {
	for {
		// One at a time: a reply queued during a flood of notices goes
		// next, not after the batch.
		msgs, err := s.Store.Outbox.UnsentIn(ctx, room, 1)
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
			case <-wake:
			case <-time.After(30 * time.Second):
			}
			continue
		}
		if err := s.sendOne(ctx, msgs[0]); err != nil {
			return err
		}
	}
}

// sendOne sends one message, retrying until the homeserver accepts it or
// ctx ends. Rate limits are honoured; other failures back off, except those
// that no retry can fix (see giveUp).
func (s *Sender) sendOne(ctx context.Context, m store.Message) error {
	log := s.Log.With().Str("key", string(m.Key)).Logger()
	if m.RelatesTo != "" {
		if orig, err := s.Store.Outbox.Get(ctx, m.RelatesTo); err != nil {
			return err
		} else if orig == nil || orig.Error != "" {
			// What it relates to was never posted: nothing to edit or react to.
			return s.Store.Outbox.MarkFailed(ctx, m.Key, "the message it relates to was never posted")
		}
	}
	var bo retry.Backoff
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// Once started, a step finishes even if shutdown begins.
		sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), StepTimeout)
		eventID, err := s.send(sendCtx, m)
		cancel()
		if err == nil && s.AfterSend != nil {
			if err := s.AfterSend(string(m.Key)); err != nil {
				return err
			}
		}
		if err == nil {
			recordCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), StepTimeout)
			defer cancel()
			if err := s.Store.Outbox.MarkSent(recordCtx, m.Key, eventID); err != nil {
				return err
			}
			s.Metrics.Posted(m.Key.Type())
			log.Debug().Stringer("event_id", eventID).Msg("Posted")
			return nil
		}
		if reason, permanent := permanentFailure(err); permanent {
			return s.giveUp(ctx, m, reason)
		}
		if wait, limited := retry.RateLimitWait(err, 5*time.Second); limited {
			log.Info().Dur("retry_in", wait).Msg("Rate limited by the homeserver; waiting")
			if err := retry.Sleep(ctx, wait); err != nil {
				return err
			}
			continue
		}
		wait := bo.Next()
		log.Warn().Err(err).Stringer("room_id", m.RoomID).Dur("retry_in", wait).Msg("Could not post; retrying (the other rooms' messages go on)")
		if err := retry.Sleep(ctx, wait); err != nil {
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
	if status := retry.Status(err); status == http.StatusBadRequest || status == http.StatusRequestEntityTooLarge {
		return retry.ErrCode(err), true
	}
	return "", false
}

// giveUp records a message the homeserver will never accept and queues a
// short note in its place, so that the outbox moves on and moderators hear
// about it.
func (s *Sender) giveUp(ctx context.Context, m store.Message, reason string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), StepTimeout)
	defer cancel()
	s.Log.Error().Str("key", string(m.Key)).Str("reason", reason).Msg("The homeserver refused a message for good; posting a short note instead")
	if err := s.Store.Outbox.MarkFailed(ctx, m.Key, reason); err != nil {
		return err
	}
	if m.Key.IsFailedNote() {
		return nil // the note itself failed; nothing smaller to send
	}
	var report mxid.ReportRef
	if m.Report != (store.ReportKey{}) {
		report = m.Report.Ref()
	}
	return s.Store.Outbox.Enqueue(ctx, store.Message{Key: m.Key.FailedNote(), Priority: m.Priority, RoomID: m.RoomID,
		Content: notice.Refused(reason, report, s.Prefix)})
}

func (s *Sender) send(ctx context.Context, m store.Message) (id.EventID, error) {
	if s.Guard != nil {
		if err := s.Guard(ctx, m.RoomID); err != nil {
			return "", err
		}
	}
	if err := s.Store.Outbox.MarkAttempted(ctx, m.Key); err != nil {
		return "", err
	}
	var content map[string]any
	if err := json.Unmarshal(m.Content, &content); err != nil {
		return "", err
	}
	if m.RelatesTo != "" {
		orig, err := s.Store.Outbox.Get(ctx, m.RelatesTo)
		if err != nil {
			return "", err
		}
		if orig == nil || orig.EventID == "" {
			return "", fmt.Errorf("outbox: %s relates to %s, which is not posted yet", m.Key, m.RelatesTo)
		}
		switch {
		case m.Type == event.EventReaction.Type:
			content["m.relates_to"] = map[string]any{"rel_type": event.RelAnnotation, "event_id": orig.EventID, "key": content["key"]}
			delete(content, "key")
		case m.InThread:
			content["m.relates_to"] = (&event.RelatesTo{}).SetThread(orig.EventID, orig.EventID)
		default:
			content = asEdit(content, orig.EventID)
		}
	}
	content[KeyField] = m.Key
	evtType := event.EventMessage
	if m.Type != "" {
		evtType = event.Type{Type: m.Type, Class: event.MessageEventType}
	}
	resp, err := s.Client.SendMessageEvent(ctx, m.RoomID, evtType, content, mautrix.ReqSendEvent{TransactionID: string(m.Key)})
	if err != nil {
		if m.Type == event.EventReaction.Type && retry.ErrCode(err) == "M_DUPLICATE_ANNOTATION" {
			return "", nil // sent before a crash: the reaction is there
		}
		return "", err
	}
	return resp.EventID, nil
}

// asEdit turns content into an edit (m.replace) of the event original:
// the new content in m.new_content, a fallback for clients without edits,
// and Gavel's machine-readable fields in both.
func asEdit(content map[string]any, original id.EventID) map[string]any {
	delete(content, "m.relates_to") // a reply's relation stays on the original
	edit := map[string]any{
		"msgtype":       content["msgtype"],
		"m.new_content": content,
		"m.relates_to":  map[string]any{"rel_type": event.RelReplace, "event_id": original},
		"m.mentions":    map[string]any{},
	}
	if body, ok := content["body"].(string); ok {
		edit["body"] = "* " + body
	}
	if html, ok := content["formatted_body"].(string); ok {
		edit["format"], edit["formatted_body"] = event.FormatHTML, "* "+html
	}
	for k, v := range content {
		if strings.HasPrefix(k, "gavel.") {
			edit[k] = v
		}
	}
	return edit
}

// recoverSent looks, at start-up, for messages whose send was attempted but
// not recorded (a crash in between) among the bot's own recent messages in
// their room, and records those it finds as sent.
func (s *Sender) recoverSent(ctx context.Context) error {
	pending, err := s.Store.Outbox.Unsent(ctx, 1000)
	if err != nil {
		return err
	}
	byRoom := map[id.RoomID]map[store.OutboxKey]time.Time{}
	for _, m := range pending {
		if m.AttemptedAt.IsZero() {
			continue
		}
		if byRoom[m.RoomID] == nil {
			byRoom[m.RoomID] = map[store.OutboxKey]time.Time{}
		}
		byRoom[m.RoomID][m.Key] = m.AttemptedAt
	}
	for roomID, keys := range byRoom {
		var found map[store.OutboxKey]id.EventID
		err := retry.UntilReachable(ctx, s.Log, "looking for messages sent before a crash", func() (err error) {
			found, err = s.FindSent(ctx, roomID, keys)
			return err
		})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			// The room may be gone or closed to the bot (the management
			// room changed): resending is all that is left.
			s.Log.Warn().Err(err).Stringer("room_id", roomID).Msg("Could not look for messages sent before a crash; they may be posted twice")
			continue
		}
		for key, eventID := range found {
			if err := s.Store.Outbox.MarkSent(ctx, key, eventID); err != nil {
				return err
			}
			s.Log.Info().Str("key", string(key)).Stringer("event_id", eventID).Msg("Found a message sent before a crash; not sending it again")
		}
	}
	return nil
}

// maxFindPages bounds how far back FindSent looks, in pages of 100.
const maxFindPages = 100

// FindSent pages back through the bot's own messages in a room, down to a
// minute before the earliest attempt, and returns the event ids of those
// carrying one of keys.
func (s *Sender) FindSent(ctx context.Context, roomID id.RoomID, keys map[store.OutboxKey]time.Time) (map[store.OutboxKey]id.EventID, error) {
	var oldest time.Time
	for _, at := range keys {
		if oldest.IsZero() || at.Before(oldest) {
			oldest = at
		}
	}
	oldest = oldest.Add(-time.Minute)
	filter := &mautrix.FilterPart{Senders: []id.UserID{s.Client.UserID}, Types: []event.Type{event.EventMessage, event.EventEncrypted}}
	found := map[store.OutboxKey]id.EventID{}
	from := ""
	for page := 0; page < maxFindPages; page++ {
		resp, err := s.Client.Messages(ctx, roomID, from, "", mautrix.DirectionBackward, filter, 100)
		if err != nil {
			return nil, err
		}
		for _, evt := range resp.Chunk {
			content := evt.Content.Raw
			if evt.Type == event.EventEncrypted && s.Decrypt != nil {
				// Gavel keeps the keys of its own messages.
				evt.RoomID = roomID
				if evt.Content.ParseRaw(evt.Type) == nil {
					if decrypted, err := s.Decrypt(ctx, evt); err == nil {
						content = decrypted.Content.Raw
					}
				}
			}
			if key, ok := content[KeyField].(string); ok {
				if _, wanted := keys[store.OutboxKey(key)]; wanted {
					found[store.OutboxKey(key)] = evt.ID
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
	s.Log.Warn().Stringer("room_id", roomID).Msg("Stopped looking for messages sent before a crash after " + strconv.Itoa(maxFindPages*100) + " messages; the rest is resent")
	return found, nil
}
