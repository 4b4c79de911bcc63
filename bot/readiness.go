package bot

import (
	"time"

	"github.com/gavel-bot/gavel/metrics"
	"github.com/gavel-bot/gavel/store"
)

// Current returns the bot of the running term, or nil while there is none
// (standing by, or not started yet). The metrics and /readyz read the bot
// through it, so that a process serving them across terms (main) and a
// single bot (the tests) build them the same way.
type Current func() *Bot

// current is b as the bot of the running term.
func (b *Bot) current() Current { return func() *Bot { return b } }

// Sources are what the metrics read at scrape time: the outbox and the
// confirmations pending in st, and the current bot's last poll.
func (c Current) Sources(st *store.Store) metrics.Sources {
	return metrics.Sources{Outbox: st.Outbox.Depth, Pending: st.Pending.Count, LastPoll: c.LastPoll}
}

// Readiness is what /readyz checks: when standby is set, why this instance
// is not the active one while no bot runs; the current bot's last
// successful poll (against pollInterval), that st answers, and that the
// bot is in the management room.
func (c Current) Readiness(pollInterval time.Duration, st *store.Store, standby func() string) *metrics.Readiness {
	r := &metrics.Readiness{PollInterval: pollInterval, Ping: st.Ping, LastPoll: c.LastPoll, Started: c.StartedAt, Joined: c.Joined, DesksLeft: c.DesksLeft}
	if standby != nil {
		r.Standby = func() string {
			if c() == nil {
				return standby()
			}
			return ""
		}
	}
	return r
}

// LastPoll is when the current bot's feed last polled every kind of report
// successfully; zero without a bot.
func (c Current) LastPoll() time.Time {
	if b := c(); b != nil {
		return b.feed.LastSuccess()
	}
	return time.Time{}
}

// StartedAt is when the current bot's Start began; zero without a bot.
func (c Current) StartedAt() time.Time {
	if b := c(); b != nil {
		return b.startedAt
	}
	return time.Time{}
}

// DesksLeft names the community desks whose room the current bot is not
// in.
func (c Current) DesksLeft() []string {
	if b := c(); b != nil {
		return b.notJoined()
	}
	return nil
}

// Joined reports whether there is a current bot and it is in the
// management room.
func (c Current) Joined() bool {
	b := c()
	return b != nil && b.serverRoom().joined.Load()
}
