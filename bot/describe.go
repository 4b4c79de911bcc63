package bot

import (
	"context"
	"maps"
	"slices"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/desk"
	"github.com/gavel-bot/gavel/internal/retry"
)

// publishCommands publishes the commands' descriptions for clients
// (MSC4391) in each desk's room: in a community desk's, of the commands
// it runs (see publishIn).
func (b *Bot) publishCommands(ctx context.Context) {
	for _, d := range b.desks.All() {
		if b.room(d.Room).joined.Load() {
			b.publishIn(ctx, d)
		}
	}
}

// publishIn publishes the descriptions in desk d's room: it sends those
// that are missing or differ and empties the bot's own descriptions of
// commands that are gone. Typed commands work without them, so a failure
// is one warning, never a reason to stop. It runs beside the other loops:
// with the usual rate limits, a first publication takes a while.
func (b *Bot) publishIn(ctx context.Context, d *desk.Desk) {
	room := d.Room
	typ := commands.DescriptionType.Type
	var state mautrix.RoomStateMap
	err := b.untilReachable(ctx, "reading the management room's command descriptions", func() (err error) {
		state, err = b.client.State(ctx, room)
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			b.log.Warn().Err(err).Msg("Could not read the management room's state to publish the command descriptions for clients; typed commands work as before, and Gavel tries again when it restarts")
		}
		return
	}
	plan := commands.Plan(b.client.UserID, state[commands.DescriptionType], d.Offers)
	if len(plan.Set) == 0 && len(plan.Remove) == 0 {
		b.log.Debug().Msg("The command descriptions for clients are up to date")
		return
	}
	if pl := state[event.StatePowerLevels][""]; pl != nil {
		// State sets the levels' create event: in room v12 a creator's
		// power is above any level.
		levels := pl.Content.AsPowerLevels()
		have, need := levels.GetUserLevel(b.client.UserID), levels.GetEventLevel(commands.DescriptionType)
		if have < need {
			b.log.Warn().Int("power_level", have).Int("needed", need).Str("event_type", typ).
				Msgf("Gavel cannot publish its command descriptions for clients: in the management room its power level is %d, and state events of type %s need %d. "+
					"Give %s power level %d, or set the level of %s to %d in the room's power levels (events); typed commands work either way", have, typ, need, b.client.UserID, need, typ, have)
			return
		}
	}
	sent, removed := 0, 0
	for _, key := range slices.Sorted(maps.Keys(plan.Set)) {
		if err := b.sendDescription(ctx, room, key, plan.Set[key]); err != nil {
			b.warnPublish(ctx, err)
			return
		}
		sent++
	}
	for _, key := range plan.Remove {
		// Empty content is how MSC4391 removes a description.
		if err := b.sendDescription(ctx, room, key, struct{}{}); err != nil {
			b.warnPublish(ctx, err)
			return
		}
		removed++
	}
	b.log.Info().Int("published", sent).Int("removed", removed).Str("event_type", typ).Msg("Published the command descriptions for clients in the management room")
}

// sendDescription sets one description state event, waiting out rate
// limits and outages.
func (b *Bot) sendDescription(ctx context.Context, room id.RoomID, key string, content any) error {
	for {
		err := b.untilReachable(ctx, "publishing the command descriptions", func() error {
			_, err := b.client.SendStateEvent(ctx, room, commands.DescriptionType, key, content)
			return err
		})
		wait, limited := retry.RateLimitWait(err, 5*time.Second)
		if !limited {
			return err
		}
		if err := retry.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

func (b *Bot) warnPublish(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return
	}
	typ := commands.DescriptionType.Type
	b.log.Warn().Err(err).Str("event_type", typ).
		Msgf("Gavel could not publish its command descriptions for clients in the management room: give %s a power level that may send state events of type %s (the room's power levels, events, or state_default), or leave it: typed commands work either way", b.client.UserID, typ)
}
