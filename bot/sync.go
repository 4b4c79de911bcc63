package bot

import (
	"context"
	"net/http"
	"slices"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/retry"
	"github.com/gavel-bot/gavel/policy"
	"github.com/gavel-bot/gavel/store"
)

// syncLoop follows the management room. It keeps its own loop instead of
// mautrix's Client.Sync, which saves the sync token before handling the
// events: here the token is saved after, and handled commands are recorded,
// so a crash replays a command at most into its recorded reply.
//
// In the very first sync (no token in the database) only messages sent
// after Gavel started count: the others are history (dropHistory).
func (b *Bot) syncLoop(ctx context.Context) error {
	syncer := mautrix.NewDefaultSyncer()
	parseErrors := syncer.ParseErrorHandler
	syncer.ParseErrorHandler = func(evt *event.Event, err error) bool {
		if evt.Type == event.StatePowerLevels {
			// A power level change Gavel cannot read must not leave the
			// old, perhaps more generous, levels in force.
			b.forgetPowerLevels(evt.RoomID)
		}
		return parseErrors(evt, err)
	}
	syncer.OnEventType(event.EventMessage, b.onMessage)
	syncer.OnEventType(event.EventReaction, b.onReaction)
	syncer.OnEventType(event.StatePowerLevels, b.onPowerLevels)
	syncer.OnEventType(event.StateMember, b.onMember)
	syncer.OnEventType(event.StateEncryption, b.onEncryption)
	syncer.OnEventType(event.EventEncrypted, b.onEncrypted)
	for _, t := range policy.Types() {
		syncer.OnEventType(t, b.onPolicyRule)
	}
	if b.crypto != nil {
		b.crypto.Hook(syncer)
	}

	since, err := b.store.KV.Get(ctx, store.KVNextBatch)
	if err != nil {
		return err
	}
	filterID, err := b.filterID(ctx)
	if err != nil {
		return err
	}
	var bo retry.Backoff
	for {
		timeout := 30000
		if since == "" {
			timeout = 0
		} else if b.undecrypted {
			// Messages wait for their keys: look again soon even if
			// nothing arrives, to ask for the keys or give up in time.
			timeout = 5000
		}
		resp, err := b.client.FullSyncRequest(ctx, mautrix.ReqSync{Timeout: timeout, Since: since, FilterID: filterID})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if retry.Status(err) == http.StatusUnauthorized {
				return startupErr("the homeserver no longer accepts matrix.access_token (%s): log the bot in again", retry.ErrCode(err))
			}
			wait := bo.Next()
			b.log.Warn().Err(err).Dur("retry_in", wait).Msg("Sync failed; retrying")
			if err := retry.Sleep(ctx, wait); err != nil {
				return err
			}
			continue
		}
		bo.Reset()
		if b.active != nil {
			// A process stopped while its sync was on the way may find,
			// once it resumes, that another instance took over.
			if err := b.active(); err != nil {
				return err
			}
		}
		b.policyGaps(ctx, resp)
		if since == "" {
			b.dropHistory(resp)
		} else {
			b.fillGap(ctx, resp)
			// After fillGap: a join's sync is limited, and what it reads
			// back is the room's history too.
			b.dropBeforeJoin(resp)
		}
		b.syncFailed.Store(false)
		if err := syncer.ProcessResponse(ctx, resp, since); err != nil {
			// A panic while handling one event must not stop the bot, nor
			// make it handle the same event for ever.
			b.log.Error().Err(err).Msg("Handling a sync response failed")
		}
		b.retryUndecrypted(ctx)
		if b.syncFailed.Load() {
			// Keep the token: the same events come again, and those
			// already handled are skipped.
			if err := retry.Sleep(ctx, bo.Next()); err != nil {
				return err
			}
			continue
		}
		if err := b.store.KV.Set(context.WithoutCancel(ctx), store.KVNextBatch, resp.NextBatch); err != nil {
			return err
		}
		since = resp.NextBatch
	}
}

// filterID returns the sync filter for the desks' rooms and the policy
// lists', creating and storing it the first time.
func (b *Bot) filterID(ctx context.Context) (string, error) {
	rooms := slices.Concat(b.desks.Rooms(), b.policy.Rooms())
	key := store.KVFilterID(rooms...)
	filterID, err := b.store.KV.Get(ctx, key)
	if err != nil || filterID != "" {
		return filterID, err
	}
	none := &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}}
	filter := &mautrix.Filter{
		Presence:    none,
		AccountData: none,
		Room: &mautrix.RoomFilter{
			Rooms: rooms,
			// Gavel's own messages would only crowd commands out of the
			// timeline.
			Timeline: &mautrix.FilterPart{Limit: TimelineLimit, NotSenders: []id.UserID{b.cfg.Matrix.UserID},
				Types: append([]event.Type{event.EventMessage, event.EventReaction, event.EventEncrypted, event.StatePowerLevels, event.StateMember, event.StateEncryption}, policy.Types()...)},
			// Not the rules: a list's whole state would come in a first
			// sync or after a gap; policyGaps reads it with /state then.
			State: &mautrix.FilterPart{Types: []event.Type{event.StatePowerLevels, event.StateMember, event.StateEncryption},
				LazyLoadMembers: true},
			Ephemeral:   none,
			AccountData: none,
		},
	}
	err = b.untilReachable(ctx, "creating the sync filter", func() error {
		resp, err := b.client.CreateFilter(ctx, filter)
		if err == nil {
			filterID = resp.FilterID
		}
		return err
	})
	if err != nil {
		return "", err
	}
	return filterID, b.store.KV.Set(ctx, key, filterID)
}

// dropHistory removes, from the very first sync, the messages sent before
// Gavel started: they are history, not commands to run now. Messages sent
// since (while the first sync was on its way) stay.
func (b *Bot) dropHistory(resp *mautrix.RespSync) {
	dropped := 0
	for _, room := range resp.Rooms.Join {
		kept := room.Timeline.Events[:0]
		for _, evt := range room.Timeline.Events {
			isMessage := evt.Type == event.EventMessage || evt.Type == event.EventReaction || evt.Type == event.EventEncrypted
			if isMessage && time.UnixMilli(evt.Timestamp).Before(b.startedAt) {
				dropped++
				continue
			}
			kept = append(kept, evt)
		}
		room.Timeline.Events = kept
	}
	b.log.Info().Int("messages", dropped).Msg("First sync: messages sent before Gavel started are not run as commands")
}

// TimelineLimit is how many events a sync returns per room; more between
// two syncs leave a gap that fillGap reads.
const TimelineLimit = 100

// fillGap reads the messages a limited sync left out of each desk room's
// timeline, so that commands in the gap are answered too.
func (b *Bot) fillGap(ctx context.Context, resp *mautrix.RespSync) {
	for roomID, room := range resp.Rooms.Join {
		if r := b.room(roomID); r != nil {
			b.fillRoomGap(ctx, r, room)
		}
	}
}

// fillRoomGap reads the messages a limited sync left out of r's timeline.
// It reads at most gapPages pages back; commands further back are left
// unanswered.
func (b *Bot) fillRoomGap(ctx context.Context, r *deskRoom, room *mautrix.SyncJoinedRoom) {
	if !room.Timeline.Limited || room.Timeline.PrevBatch == "" {
		return
	}
	if r.encrypted.Load() && b.crypto != nil {
		// Members who joined in the gap need the room's keys too.
		b.loadMembers(ctx, r.desk.Room)
	}
	filter := &mautrix.FilterPart{Types: []event.Type{event.EventMessage, event.EventReaction, event.EventEncrypted}, NotSenders: []id.UserID{b.cfg.Matrix.UserID}}
	var older []*event.Event
	from := room.Timeline.PrevBatch
	for page := 0; page < gapPages && from != ""; page++ {
		msgs, err := b.client.Messages(ctx, r.desk.Room, from, "", mautrix.DirectionBackward, filter, 100)
		if err != nil {
			b.log.Warn().Err(err).Msg("Could not read the messages a sync skipped; commands among them go unanswered")
			break
		}
		older = append(older, msgs.Chunk...)
		if len(msgs.Chunk) == 0 {
			break
		}
		from = msgs.End
	}
	if len(older) == 0 {
		return
	}
	b.log.Info().Int("messages", len(older)).Msg("Read the messages a sync skipped")
	slices.Reverse(older) // oldest first, before the timeline's own events
	room.Timeline.Events = append(older, room.Timeline.Events...)
}

const gapPages = 5

func (b *Bot) onMessage(ctx context.Context, evt *event.Event) {
	if r := b.room(evt.RoomID); r != nil && evt.Sender != b.client.UserID {
		b.intake.Message(ctx, evt)
	}
}

// onReaction passes a moderator's reaction in a desk's room to the
// intake: a button, or a decision on a preview.
func (b *Bot) onReaction(ctx context.Context, evt *event.Event) {
	if r := b.room(evt.RoomID); r != nil && evt.Sender != b.client.UserID {
		b.intake.Reaction(ctx, evt)
	}
}
