// Package feed polls Synapse for new reports of every kind (event, user,
// room: kinds.go says how each is listed and posted) and queues each for
// the management room exactly once: a card per report with its context,
// digests in a flood, and at the very first start a summary (or every open
// report, with on_first_start: post). What is new is decided by the
// database, never by where the last poll stopped, so no report is skipped
// or repeated.
//
// It does not import moderation or outbox: it wakes the sender through
// Config.Notify and hands moderation what belongs to a case through
// Config.Duplicate, LateCard and Deleted.
//
// Of Gavel's packages it may import: adminapi, config, desk, dossier,
// internal/mxid, internal/retry, internal/textcut, metrics, notice,
// policy, roomreports, store.
package feed

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/desk"
	"github.com/gavel-bot/gavel/dossier"
	"github.com/gavel-bot/gavel/internal/retry"
	"github.com/gavel-bot/gavel/metrics"
	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/policy"
	"github.com/gavel-bot/gavel/roomreports"
	"github.com/gavel-bot/gavel/store"
)

// Options are the feed's settings that are not in the configuration;
// tests make them small. Zero means the default.
type Options struct {
	// PageSize is the page size of report listings (default 3000: each
	// listing costs Synapse a count of the whole table, whatever its page
	// size, so a full scan asks for few, large pages; 3000 is 20 digests
	// of 150).
	PageSize int
	// MaxNewPerPoll is how many new reports the usual poll collects
	// (default 1000); with more, a full scan takes them on a page at a
	// time.
	MaxNewPerPoll int
	// AlertAfter is how long polling may fail before the moderators are
	// told (default five minutes).
	AlertAfter time.Duration
	// ListOnly makes the usual poll list the newest reports instead of
	// looking them up by id (see probe.go), as it does anyway while a kind
	// has had no report: for the tests of that listing.
	ListOnly bool
	// ListEvery is how often at most a poll lists the newest reports
	// instead of looking them up by id (default 10 s; see probe.go).
	ListEvery time.Duration
	// ListShare is the share of Synapse's time those listings may take,
	// which spaces them further apart when a listing is slow (default
	// 0.0015; see probe.go). Tests on a shared, busy Synapse raise it so
	// that ListEvery alone decides.
	ListShare float64
}

func (o Options) withDefaults() Options {
	if o.PageSize <= 0 {
		o.PageSize = 3000
	}
	if o.MaxNewPerPoll <= 0 {
		o.MaxNewPerPoll = 1000
	}
	if o.AlertAfter <= 0 {
		o.AlertAfter = 5 * time.Minute
	}
	if o.ListEvery <= 0 {
		o.ListEvery = 10 * time.Second
	}
	if o.ListShare <= 0 {
		o.ListShare = listShare
	}
	return o
}

// Config is what the feed needs.
type Config struct {
	Admin *adminapi.Client
	Store *store.Store
	Room  id.RoomID // the management room
	// Desks, when set, routes the reports about a room to the community
	// desks whose scope holds it: each gets a card of its own, and the
	// server desk too unless none of them copies it there.
	Desks  *desk.Desks
	Prefix string // commands.prefix, for the messages that name a command
	// Server is this homeserver's name: cards offer to suspend local
	// senders only.
	Server  string
	Reports config.Reports
	Log     zerolog.Logger
	// Notify wakes the sender after something was queued.
	Notify func()
	// Duplicate, when set, takes a new report of an event whose card is
	// open (card) and shows it on that card instead of a card of its own.
	Duplicate func(ctx context.Context, r adminapi.EventReport, card *store.SeenReport) error
	// RoomReports reads room reports; nil when they cannot be read.
	RoomReports *roomreports.Source
	// Dossier, when set, gathers the context a card shows, within
	// dossier.Budget; LateCard is then given the card's key and its
	// content with the parts that came late, to edit the card.
	Dossier  *dossier.Gatherer
	LateCard func(ctx context.Context, card store.OutboxKey, content json.RawMessage) error
	// Deleted, when set, is given every report of kind a full scan
	// listed, after a scan that listed them all, started at started: open
	// cases of that kind whose report is missing were deleted in Synapse
	// outside Gavel.
	Deleted func(ctx context.Context, kind store.ReportKind, listed map[store.ReportKey]bool, started time.Time) error
	// Metrics counts reports and polls; nil for none.
	Metrics *metrics.Metrics
	// Policy is the followed policy lists, for the 📜 button; nil for none.
	Policy *policy.Index
	Options
}

// A full scan reads every open report, to see what the polls in between
// cannot (reports deleted outside Gavel, ids out of order; see probe.go).
// It runs at start-up, after Synapse could not be read, and then at most
// every fullScanEvery; when the reports tables are large, only as often as
// keeps the time Synapse spends answering it under fullScanShare of the
// time (a scan of 100,000 reports takes Synapse seconds).
const (
	fullScanEvery = 10 * time.Minute
	fullScanShare = 0.0015
)

// nextFullScan is when the full scan after one that cost Synapse cost
// should run.
func nextFullScan(done time.Time, cost time.Duration) time.Time {
	return done.Add(max(fullScanEvery, time.Duration(float64(cost)/fullScanShare)))
}

// Feed is the report feed.
type Feed struct {
	Config
	started time.Time

	// kinds are the feeds of each kind of report, polled in turn.
	kinds []poller
	// ring holds a doorbell ring not yet answered (Ring).
	ring chan struct{}
	// queued counts the cards and digests the feed queued, so that a poll
	// knows whether it found something.
	queued atomic.Int64

	mu          sync.Mutex
	lastPoll    time.Time
	lastPollErr error
	lastSuccess time.Time
	// unsupported holds, for each kind of report Synapse has no API for,
	// its answer. Such a kind is tried again at every full scan.
	unsupported map[store.ReportKind]error

	// unreadableAlerted is set once the moderators were told of a report
	// too large to read.
	unreadableAlerted bool

	// probedEvents keeps, for the rest of a poll, the details of the new
	// event reports its lookups found (at most maxProbedEvents), so that
	// their cards do not ask Synapse for them again. Only the poll loop
	// uses it.
	probedEvents map[int64]*adminapi.EventReportDetail
}

// maxProbedEvents bounds probedEvents: more new reports than this go into
// digests, which do not show the reported events.
const maxProbedEvents = 50

// New returns a Feed; Run starts it.
func New(cfg Config) *Feed {
	cfg.Options = cfg.Options.withDefaults()
	f := &Feed{Config: cfg, started: time.Now(), unsupported: map[store.ReportKind]error{}, ring: make(chan struct{}, 1)}
	f.kinds = []poller{f.eventReports(), f.userReports(), f.roomReports()}
	return f
}

// poll polls every kind of report in turn. A kind Synapse has no API for
// is noted (said once, in the log and to the moderators) and skipped until
// the next full scan; the other kinds go on.
func (f *Feed) poll(ctx context.Context, full bool) error {
	var errs []error
	for _, k := range f.kinds {
		kind := k.reportKind()
		f.mu.Lock()
		_, wasUnsupported := f.unsupported[kind]
		f.mu.Unlock()
		if wasUnsupported && !full {
			continue
		}
		err := k.poll(ctx, full)
		unsupported := kind != store.KindEvent && isUnsupported(err)
		switch {
		case unsupported && !wasUnsupported:
			level := f.Log.Warn()
			if errors.Is(err, roomreports.ErrNotConfigured) {
				level = f.Log.Info() // the usual case until Synapse has the API
			}
			level.Err(err).Stringer("kind", kind).Msg("Synapse cannot list these reports; Gavel goes on without them")
			// Said once per database, not at every start.
			f.alert(ctx, store.UnsupportedKindKey(kind), notice.KindUnsupported(kind, f.Prefix))
		case err == nil && wasUnsupported:
			f.Log.Info().Stringer("kind", kind).Msg("Synapse lists these reports now")
		}
		f.mu.Lock()
		if unsupported {
			f.unsupported[kind], err = err, nil
		} else if err == nil {
			delete(f.unsupported, kind)
		}
		f.mu.Unlock()
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

// LastPoll returns when reports were last read, and why that failed.
func (f *Feed) LastPoll() (time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastPoll, f.lastPollErr
}

// LastSuccess returns when every kind of report was last read without an
// error (zero before the first time).
func (f *Feed) LastSuccess() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastSuccess
}

// Ring makes the feed poll now rather than at the end of poll_interval: a
// report was filed (the doorbell). Rings are coalesced: while a poll runs,
// at most one more is queued.
func (f *Feed) Ring() {
	select {
	case f.ring <- struct{}{}:
	default:
	}
}

// After a ring the feed waits ringSettle, as the ring may come before
// Synapse has stored the report (a reverse proxy rings as the request
// arrives); when that poll finds nothing it looks once more after
// ringRetry. Polls for rings are at least ringGap apart, so that a flood of
// reports does not become a flood of listings.
const (
	ringSettle = 20 * time.Millisecond
	ringRetry  = 150 * time.Millisecond
	ringGap    = 200 * time.Millisecond
)

// Run polls Synapse for new reports every poll_interval, and at once when
// the doorbell rings, until ctx ends. When Synapse cannot be reached or
// fails, it backs off and keeps trying, and tells the moderators when that
// lasts.
func (f *Feed) Run(ctx context.Context) error {
	var bo retry.Backoff
	var failingSince, nextFull time.Time
	alerted, rung := false, false
	for {
		full := !time.Now().Before(nextFull)
		queued := f.queued.Load()
		started := time.Now()
		err := f.poll(ctx, full)
		now := time.Now()
		if err == nil && full {
			var cost time.Duration
			for _, k := range f.kinds {
				cost += k.scanCostTime()
			}
			nextFull = nextFullScan(now, cost)
			f.Log.Debug().Dur("synapse_time", cost).Time("next", nextFull).Msg("Full scan done")
		}
		f.mu.Lock()
		f.lastPoll, f.lastPollErr = now, err
		if err == nil {
			f.lastSuccess = now
		}
		f.mu.Unlock()
		if ctx.Err() == nil {
			f.Metrics.Poll(now.Sub(started), err)
		}
		wait := f.Reports.PollInterval
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if failingSince.IsZero() {
				failingSince = now
			}
			if !alerted && now.Sub(failingSince) >= f.AlertAfter {
				alerted = f.alert(ctx, store.FeedAlertKey(failingSince, false), notice.FeedDown(failingSince, err))
			}
			wait = max(wait, bo.Next())
			f.Log.Warn().Err(err).Dur("retry_in", wait).Msg("Polling reports failed; retrying")
			nextFull = time.Time{} // the next successful poll is a full scan
		} else {
			if alerted {
				f.alert(ctx, store.FeedAlertKey(failingSince, true), notice.FeedBack(failingSince, now))
			}
			failingSince, alerted = time.Time{}, false
			bo.Reset()
		}
		if rung && err == nil && f.queued.Load() == queued {
			// Rung, and nothing new yet: Synapse may not have stored it.
			wait = min(wait, ringRetry)
		}
		if rung, err = f.sleep(ctx, wait, started); err != nil {
			return err
		}
	}
}

// sleep waits d, or less when the doorbell rings (see ringSettle and
// ringGap; the last poll started at last), and reports whether it rang.
func (f *Feed) sleep(ctx context.Context, d time.Duration, last time.Time) (bool, error) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return false, nil
	case <-ctx.Done():
		return false, ctx.Err()
	case <-f.ring:
		settle := max(ringSettle, ringGap-time.Since(last))
		return true, retry.Sleep(ctx, settle)
	}
}

// alert queues a message for the moderators about Gavel itself, and
// reports whether it was queued.
func (f *Feed) alert(ctx context.Context, key store.OutboxKey, content []byte) bool {
	err := f.Store.Outbox.Enqueue(ctx, store.Message{Key: key, Priority: store.PriorityNotice, RoomID: f.Room, Content: content})
	if err != nil {
		f.Log.Error().Err(err).Msg("Could not queue an alert for the moderators")
		return false
	}
	f.Notify()
	return true
}
