package stats

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"
)

// The weekly picture: every Monday at 09:00 in the configured time zone,
// the past week's figures and chart (stats.weekly). This file decides
// when; what is posted, and that a week is posted once across restarts
// (a kv key), is the post function's (moderation.PostWeekly).

// Clock is what the weekly loop reads and waits with: the real one in
// Gavel, a fake that a test advances.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// RealClock is the system's clock.
type RealClock struct{}

// Now is time.Now.
func (RealClock) Now() time.Time { return time.Now() }

// After is time.After.
func (RealClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// weeklyHour is the hour of Monday the picture is posted at.
const weeklyHour = 9

// lateness is how late a week's post may still go out, when Gavel was
// not running at 09:00 on Monday: the same day, not on Thursday.
const lateness = 12 * time.Hour

// retryAfter is how long the loop waits after a post failed.
const retryAfter = 5 * time.Minute

// LastDue returns the latest Monday 09:00 in loc at or before t.
func LastDue(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	back := (int(t.Weekday()) - int(time.Monday) + 7) % 7
	due := time.Date(t.Year(), t.Month(), t.Day()-back, weeklyHour, 0, 0, 0, loc)
	if due.After(t) {
		due = due.AddDate(0, 0, -7)
	}
	return due
}

// NextDue returns the first Monday 09:00 in loc after t.
func NextDue(t time.Time, loc *time.Location) time.Time {
	last := LastDue(t, loc)
	return time.Date(last.Year(), last.Month(), last.Day()+7, weeklyHour, 0, 0, 0, loc)
}

// Week names the ISO week of due, like "2026-W50".
func Week(due time.Time) string {
	year, week := due.ISOWeek()
	return fmt.Sprintf("%d-W%02d", year, week)
}

// RunWeekly calls post with each Monday 09:00 in loc as it comes, and
// once at the start when Gavel starts within lateness of one, until ctx
// ends. A post that fails is tried again after retryAfter, as long as
// it is not too late.
func RunWeekly(ctx context.Context, clock Clock, loc *time.Location, post func(ctx context.Context, due time.Time) error, log zerolog.Logger) {
	var posted time.Time
	for {
		now := clock.Now()
		due := LastDue(now, loc)
		wait := NextDue(now, loc).Sub(now)
		if !due.Equal(posted) && now.Sub(due) < lateness {
			if err := post(ctx, due); err != nil {
				log.Warn().Err(err).Str("week", Week(due)).Msg("Could not post the weekly picture; trying again in 5 minutes")
				wait = min(wait, retryAfter)
			} else {
				posted = due
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-clock.After(wait):
		}
	}
}
