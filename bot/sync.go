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
			b.forgetPowerLevels()
		}
		return parseErrors(evt, err)
	}
	syncer.OnEventType(event.EventMessage, b.onMessage)
	syncer.OnEventType(event.EventReaction, b.onReaction)
	syncer.OnEventType(event.StatePowerLevels, b.onPowerLevels)
	syncer.OnEventType(event.StateMember, b.onMember)
	syncer.OnEventType(event.StateEncryption, b.onEncryption)
	syncer.OnEventType(event.EventEncrypted, b.onEncrypted)
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
		if since == "" {
			b.dropHistory(resp)
		} else {
			b.fillGap(ctx, resp)
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

// filterID returns the sync filter for the management room, creating and
// storing it the first time.
func (b *Bot) filterID(ctx context.Context) (string, error) {
	key := store.KVFilterID(b.cfg.Matrix.ManagementRoom)
	filterID, err := b.store.KV.Get(ctx, key)
	if err != nil || filterID != "" {
		return filterID, err
	}
	none := &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}}
	rooms := []id.RoomID{b.cfg.Matrix.ManagementRoom}
	filter := &mautrix.Filter{
		Presence:    none,
		AccountData: none,
		Room: &mautrix.RoomFilter{
			Rooms: rooms,
			// Gavel's own messages would only crowd commands out of the
			// timeline.
			Timeline: &mautrix.FilterPart{Limit: TimelineLimit, NotSenders: []id.UserID{b.cfg.Matrix.UserID},
				Types: []event.Type{event.EventMessage, event.EventReaction, event.EventEncrypted, event.StatePowerLevels, event.StateMember, event.StateEncryption}},
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

// fillGap reads the messages a limited sync left out of the management
// room's timeline, so that commands in the gap are answered too. It reads at
// most gapPages pages back; commands further back are left unanswered.
func (b *Bot) fillGap(ctx context.Context, resp *mautrix.RespSync) {
	room, ok := resp.Rooms.Join[b.cfg.Matrix.ManagementRoom]
	if !ok || !room.Timeline.Limited || room.Timeline.PrevBatch == "" {
		return
	}
	if b.encrypted.Load() && b.crypto != nil {
		// Members who joined in the gap need the room's keys too.
		b.loadMembers(ctx)
	}
	filter := &mautrix.FilterPart{Types: []event.Type{event.EventMessage, event.EventReaction, event.EventEncrypted}, NotSenders: []id.UserID{b.cfg.Matrix.UserID}}
	var older []*event.Event
	from := room.Timeline.PrevBatch
	for page := 0; page < gapPages && from != ""; page++ {
		msgs, err := b.client.Messages(ctx, b.cfg.Matrix.ManagementRoom, from, "", mautrix.DirectionBackward, filter, 100)
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
	if evt.RoomID != b.cfg.Matrix.ManagementRoom || evt.Sender == b.client.UserID {
		return
	}
	b.intake.Message(ctx, evt)
}

// onReaction passes a moderator's reaction in the management room to the
// intake: a button, or a decision on a preview.
func (b *Bot) onReaction(ctx context.Context, evt *event.Event) {
	if evt.RoomID != b.cfg.Matrix.ManagementRoom || evt.Sender == b.client.UserID {
		return
	}
	b.intake.Reaction(ctx, evt)
}

func (b *Bot) onPowerLevels(ctx context.Context, evt *event.Event) {
	// Invites carry stripped state that the inviting server vouches for,
	// not the room: only the joined room's own state counts.
	if evt.RoomID != b.cfg.Matrix.ManagementRoom || evt.Mautrix.EventSource&event.SourceInvite != 0 {
		return
	}
	if pl, ok := evt.Content.Parsed.(*event.PowerLevelsEventContent); ok {
		b.mu.Lock()
		b.powerLevels = pl
		b.mu.Unlock()
	}
}

func (b *Bot) forgetPowerLevels() {
	b.mu.Lock()
	b.powerLevels = nil
	b.mu.Unlock()
}

// onMember joins the management room when invited back into it, and says
// so when the bot is removed. Invites to other rooms never reach here: the
// sync filter covers only the management room.
func (b *Bot) onMember(ctx context.Context, evt *event.Event) {
	if evt.RoomID != b.cfg.Matrix.ManagementRoom || evt.GetStateKey() != string(b.client.UserID) {
		return
	}
	switch membership := evt.Content.AsMember().Membership; {
	case membership == event.MembershipInvite && evt.Mautrix.EventSource&event.SourceInvite != 0:
		// A pending invite (not an old invite event in the joined room's
		// timeline).
		if _, err := b.client.JoinRoomByID(ctx, evt.RoomID); err != nil {
			b.log.Error().Err(err).Msg("Invited back into the management room, but joining failed")
		} else {
			b.joined.Store(true)
			b.log.Info().Stringer("by", evt.Sender).Msg("Invited back into the management room; joined")
		}
	case membership == event.MembershipJoin && evt.Mautrix.EventSource&event.SourceJoin != 0:
		b.joined.Store(true)
	case membership == event.MembershipLeave || membership == event.MembershipBan:
		b.joined.Store(false)
		b.log.Error().Stringer("by", evt.Sender).Msg("Removed from the management room: reports wait in the outbox until the bot is invited back")
	}
}

// powerLevel returns a user's power level in the management room, from the
// cached power levels or, the first time, from the homeserver. The room's
// create event comes along: in room version 12 and later its creators
// outrank every level.
func (b *Bot) powerLevel(ctx context.Context, userID id.UserID) (int, error) {
	room := b.cfg.Matrix.ManagementRoom
	b.mu.Lock()
	create := b.createEvent
	b.mu.Unlock()
	if create == nil {
		var err error
		if create, err = b.client.FullStateEvent(ctx, room, event.StateCreate, ""); err != nil {
			return 0, err
		}
		b.mu.Lock()
		b.createEvent = create
		b.mu.Unlock()
	}
	b.mu.Lock()
	pl := b.powerLevels
	b.mu.Unlock()
	if pl == nil {
		pl = &event.PowerLevelsEventContent{}
		if err := b.client.StateEvent(ctx, room, event.StatePowerLevels, "", pl); err != nil {
			return 0, err
		}
		b.mu.Lock()
		b.powerLevels = pl
		b.mu.Unlock()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	pl.CreateEvent = create
	return pl.GetUserLevel(userID), nil
}
