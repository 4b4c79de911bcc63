package moderation

import (
	"context"
	"time"

	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/stats"
)

// The team's picture (!stats): figures from Gavel's own database over a
// window, in the time zone of stats.timezone.

func (m *Moderator) stats(ctx context.Context, c commands.Stats) Outcome {
	until := time.Now()
	s, err := stats.Gather(ctx, m.Store, until.Add(-c.Window()), until, m.statsZone())
	if err != nil {
		m.Log.Warn().Err(err).Msg("Could not read the figures for !stats")
		return Failed("Gavel could not read its database. Try again in a moment.")
	}
	return Done(notice.Figures(s, until))
}

// statsZone is the time zone the figures' days are cut in.
func (m *Moderator) statsZone() *time.Location {
	if m.StatsZone != nil {
		return m.StatsZone
	}
	return time.UTC
}
