package bot

import (
	"context"
	"net/http"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/policy"
	"github.com/gavel-bot/gavel/preflight"
)

// The followed policy lists (policy_lists): Gavel joins each list's room at
// start, reads its whole state into the index, and keeps it from there
// with the rule events that sync brings (the sync filter covers the
// lists' rooms and the rule types).

// policyIndex is an empty index of the configured lists; a list given by
// alias gets its room once Start resolved it.
func policyIndex(lists []config.PolicyList) *policy.Index {
	out := make([]policy.ListConfig, len(lists))
	for i, l := range lists {
		out[i] = policy.ListConfig{Shortcode: l.Shortcode, Write: l.Write}
		if roomID := id.RoomID(l.Room); len(l.Room) > 0 && l.Room[0] == '!' {
			out[i].Room = roomID
		}
	}
	return policy.NewIndex(out)
}

// followPolicyLists joins each list's room and reads its rules, each
// within policyListWait. A list Gavel cannot join or read in time does
// not stop Gavel: cards go without it, and the log and !status say so.
func (b *Bot) followPolicyLists(ctx context.Context) {
	for _, l := range b.cfg.PolicyLists {
		b.followPolicyList(ctx, l)
	}
}

// policyListWait bounds joining a list's room (over federation, for a
// room of another server) and reading its state, while Gavel starts.
const policyListWait = time.Minute

func (b *Bot) followPolicyList(ctx context.Context, l config.PolicyList) {
	ctx, cancel := context.WithTimeout(ctx, policyListWait)
	defer cancel()
	log := b.log.With().Str("policy_list", l.Shortcode).Str("room", l.Room).Logger()
	var roomID id.RoomID
	err := b.untilReachable(ctx, "joining policy list "+l.Shortcode, func() error {
		resp, err := b.client.JoinRoom(ctx, l.Room, nil)
		if err == nil {
			roomID = resp.RoomID
		}
		return err
	})
	if err != nil {
		log.Error().Err(err).Msgf("Cannot join policy list %s's room: invite %s to it, or make it public, and restart Gavel; cards and !policy go without it meanwhile", l.Shortcode, b.cfg.Matrix.UserID)
		return
	}
	b.policy.SetRoom(l.Shortcode, roomID)
	start := time.Now()
	state, err := b.roomState(ctx, roomID)
	if err != nil {
		log.Error().Err(err).Msg("Cannot read the policy list's state; cards and !policy go without it until Gavel restarts")
		return
	}
	b.policy.Load(roomID, state)
	for _, s := range b.policy.Stats() {
		if s.Shortcode == l.Shortcode {
			log.Info().Int("rules", s.Rules).Int("invalid", s.Invalid).Dur("took", time.Since(start)).Msg("Policy list read")
		}
	}
	if l.Write {
		if problem := preflight.PolicyWritePower(state, b.cfg.Matrix.UserID); problem != "" {
			log.Error().Msgf("Policy list %s has write: true, but %s: give Gavel's account that power level there, or set write: false", l.Shortcode, problem)
		}
	}
}

// roomState reads a room's whole state through the client API.
func (b *Bot) roomState(ctx context.Context, roomID id.RoomID) ([]*event.Event, error) {
	var data []byte
	err := b.untilReachable(ctx, "reading a policy list's state", func() (err error) {
		data, err = b.client.MakeRequest(ctx, http.MethodGet, b.client.BuildClientURL("v3", "rooms", roomID, "state"), nil, nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	return policy.DecodeState(roomID, data)
}

// policyGaps reads again the whole state of each list whose timeline in
// resp is limited (a first sync, or more changes than a sync returns), and
// takes the list's rules out of resp: the state read after resp holds
// them. When the state cannot be read, resp's rules are applied as they
// come, and the gap stays until the next one or a restart.
func (b *Bot) policyGaps(ctx context.Context, resp *mautrix.RespSync) {
	for roomID, room := range resp.Rooms.Join {
		if !room.Timeline.Limited || !b.policy.Follows(roomID) {
			continue
		}
		state, err := b.roomState(ctx, roomID)
		if err != nil {
			b.log.Warn().Err(err).Stringer("room_id", roomID).Msg("Could not read a policy list's state after a gap in sync; some of its changes may be missing until Gavel restarts")
			continue
		}
		b.policy.Load(roomID, state)
		b.log.Info().Stringer("room_id", roomID).Int("events", len(state)).Msg("Read a policy list's state again after a gap in sync")
		kept := room.Timeline.Events[:0]
		for _, evt := range room.Timeline.Events {
			if _, rule := policy.KindOf(evt.Type); !rule {
				kept = append(kept, evt)
			}
		}
		room.Timeline.Events = kept
	}
}

// onPolicyRule keeps a followed list's rule from sync.
func (b *Bot) onPolicyRule(_ context.Context, evt *event.Event) {
	// Invites carry stripped state that the inviting server vouches for.
	if evt.Mautrix.EventSource&event.SourceInvite != 0 {
		return
	}
	b.policy.Apply(evt)
}
