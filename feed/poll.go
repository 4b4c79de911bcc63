package feed

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"maunium.net/go/mautrix"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/store"
)

// poll finds reports the database has not seen and posts them, oldest
// first: one notice each, or digests when there are more than
// reports.max_individual. A full scan reads every page; the others read
// only the newest pages.
func (f *kindFeed[T]) poll(ctx context.Context, full bool) error {
	defer clear(f.probedEvents) // what the lookups found is for this poll only
	if !f.initialized {
		// Asked once per run: once set, it stays set.
		initialized, err := f.Store.KV.Get(ctx, store.KVInitializedKind(f.kind))
		if err != nil {
			return err
		}
		// Ids Gavel saw before may be deleted now (it deletes closed
		// reports): Synapse goes on after them all the same.
		if f.maxSeen, err = f.Store.Reports.MaxID(ctx, f.kind); err != nil {
			return err
		}
		if initialized == "" {
			if err := f.firstStart(ctx); err != nil {
				return err
			}
			f.initialized = true
			if f.Reports.OnFirstStart != config.FirstStartPost {
				return nil
			}
			full = true // post what is open now, without waiting
		}
		f.initialized = true
	}
	if full {
		return f.scanAll(ctx)
	}
	newReports := f.newReports
	if f.probing() {
		newReports = f.probeNew
	}
	unseen, backlog, err := newReports(ctx)
	if errors.Is(err, errProbe) {
		f.Log.Debug().Err(err).Stringer("kind", f.kind).Msg("Probing for new reports failed; listing the newest instead")
		unseen, backlog, err = f.newReports(ctx)
	}
	if err != nil {
		return err
	}
	if backlog {
		// Too many to hold at once: a full scan takes them on, a page at
		// a time.
		return f.scanAll(ctx)
	}
	// Newest first, as listings are; post oldest first.
	slices.Reverse(unseen)
	if len(unseen) <= f.Reports.MaxIndividual {
		return f.postEach(ctx, unseen)
	}
	w := &wave{total: len(unseen)}
	w.parts = (len(unseen) + w.size() - 1) / w.size()
	for len(unseen) > 0 {
		n := min(len(unseen), w.size())
		if err := f.queueDigest(ctx, w, unseen[:n]); err != nil {
			return err
		}
		unseen = unseen[n:]
	}
	return nil
}

// postEach queues a notice for each report.
func (f *kindFeed[T]) postEach(ctx context.Context, reports []T) error {
	for _, r := range reports {
		if err := f.post(ctx, r); err != nil {
			return err
		}
		f.queued.Add(1)
		f.Notify()
	}
	return nil
}

// scanAll reads every open report, oldest first and a page at a time, and
// posts the ones the database has not seen. Once it has found more than
// reports.max_individual it switches to digests and queues each as soon as
// it is full, so it holds at most a page and a digest's worth of reports.
// The last digest of such a scan says how many reports it found in all.
func (f *kindFeed[T]) scanAll(ctx context.Context) error {
	var pending []T
	var w *wave // set once the scan has found more than max_individual
	started := time.Now()
	all := &listing{keys: map[store.ReportKey]bool{}, complete: true}
	progress := newProgress(f, "Reading every open report")
	err := f.readPages(ctx, mautrix.DirectionForward, all, func(page []T) (bool, error) {
		progress.page(all)
		pending = append(pending, page...)
		if w == nil && len(pending) > f.Reports.MaxIndividual {
			w = &wave{}
			f.Log.Info().Stringer("kind", f.kind).Int("max_individual", f.Reports.MaxIndividual).Msg("Many new reports: posting digests")
		}
		// Keep at least one back: the scan's last digest carries the total.
		for w != nil && len(pending) > w.size() {
			n := w.size()
			if err := f.queueDigest(ctx, w, pending[:n]); err != nil {
				return false, err
			}
			pending = slices.Clone(pending[n:])
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	if w == nil {
		err = f.postEach(ctx, pending)
	} else {
		w.total = w.covered + len(pending)
		w.parts = w.part + 1
		err = f.queueDigest(ctx, w, pending)
	}
	f.scanned(all, time.Since(started))
	if err == nil && all.complete && f.Deleted != nil {
		// Every report Synapse has was listed: an open case whose report
		// was not was deleted in Synapse by someone else.
		if err := f.Deleted(ctx, f.kind, all.keys, started); err != nil && ctx.Err() == nil {
			f.Log.Warn().Err(err).Stringer("kind", f.kind).Msg("Could not check for reports deleted outside Gavel; trying at the next full scan")
		}
	}
	return err
}

// listing collects every report a full scan listed. complete is false
// when the scan could not list them all (a report too large to read,
// Synapse's paging stuck). maxID is the highest id listed, total the
// number of reports Synapse said it has, and cost the time its answers
// to pages took.
type listing struct {
	keys     map[store.ReportKey]bool
	complete bool
	maxID    int64
	total    int64
	pages    int
	cost     time.Duration
}

// wave is one poll's worth of digests.
type wave struct {
	total   int // new reports in the wave; 0 while a scan is still counting
	parts   int // digests in the wave; 0 while unknown
	part    int // digests queued so far
	covered int // reports covered by them
}

// size is how many reports the wave's next digest lists: more once the
// wave is a backlog rather than a flood.
func (w *wave) size() int {
	if w.total > notice.BacklogAfter || w.covered >= notice.BacklogAfter {
		return notice.BacklogDigestSize
	}
	return notice.DigestSize
}

// queueDigest records reports as seen and queues one digest for them.
func (f *kindFeed[T]) queueDigest(ctx context.Context, w *wave, reports []T) error {
	w.part++
	content := f.digest(reports, w.part, w.parts, w.total, f.Prefix)
	if !notice.DigestFits(content) && len(reports) > notice.DigestSize {
		// Long cells: this many rows would not fit one event.
		w.part--
		if w.parts > 0 {
			w.parts++
		}
		half := len(reports) / 2
		if err := f.queueDigest(ctx, w, reports[:half]); err != nil {
			return err
		}
		return f.queueDigest(ctx, w, reports[half:])
	}
	digest := store.Message{
		Key:      store.DigestKey(f.key(reports[0])),
		Priority: store.PriorityNotice,
		RoomID:   f.Room,
		Content:  content,
	}
	if err := f.Store.Reports.AddDigest(ctx, f.rows(reports), digest); errors.Is(err, store.ErrAlreadySeen) {
		// A report listed twice (ties in received_ts ordered differently
		// from one page to the next): leave out what is recorded.
		w.part--
		fresh, err := f.unseen(ctx, reports)
		if err != nil || len(fresh) == 0 || len(fresh) == len(reports) {
			return cmp.Or(err, fmt.Errorf("queueing a digest: %w", store.ErrAlreadySeen))
		}
		return f.queueDigest(ctx, w, fresh)
	} else if err != nil {
		return err
	}
	w.covered += len(reports)
	f.queued.Add(1)
	f.Metrics.ReportsSeen(string(f.kind), len(reports))
	f.Log.Info().Stringer("kind", f.kind).Int("reports", len(reports)).Int("part", w.part).Int64("first_report_id", f.key(reports[0]).ID).Msg("New reports, posted as a digest")
	f.Notify()
	return nil
}

// newReports returns the open reports the database has no row for, newest
// first, reading the newest pages until one has no new report: new reports
// are the newest, so they are on the pages read; the full scans cover the
// rest (a clock that went backwards, say). It returns at most about
// MaxNewPerPoll reports; backlog says it stopped there.
func (f *kindFeed[T]) newReports(ctx context.Context) (unseen []T, backlog bool, err error) {
	all := &listing{keys: map[store.ReportKey]bool{}}
	defer f.listed(all)
	err = f.readPages(ctx, mautrix.DirectionBackward, all, func(page []T) (bool, error) {
		unseen = append(unseen, page...)
		if len(unseen) >= f.MaxNewPerPoll {
			backlog = true
			f.Log.Info().Stringer("kind", f.kind).Int("new_reports", len(unseen)).Msg("Many new reports: reading them all in a full scan")
			return false, nil
		}
		return len(page) > 0, nil
	})
	return unseen, backlog, err
}

// readPages lists open reports page by page in direction dir and calls fn
// with each page's reports that the database has not seen, until fn says
// stop or the listing ends. Reasons and room names are cut as they are
// read, and memory stays bounded:
//   - a page too large to read (long reasons) is asked for again at half
//     the size; a single report too large to read is skipped, and the
//     moderators are told once;
//   - repeats (reports filed while paging newest first shift the offsets)
//     are skipped by remembering the keys of this read when newest first,
//     where few pages are read, and of the page before when oldest first,
//     where new reports only join the end.
//
// It pages with adminapi.Pager, shrinking pages and stepping over a report
// as needed. With all (not nil), every report listed is added to it.
func (f *kindFeed[T]) readPages(ctx context.Context, dir mautrix.Direction, all *listing, fn func(page []T) (bool, error)) error {
	seen := map[store.ReportKey]bool{}
	var prev map[store.ReportKey]bool // oldest first: the page before's keys
	pager := &adminapi.Pager[T]{
		Limit: f.PageSize,
		Fetch: func(ctx context.Context, from int64, limit int) (*adminapi.Page[T], error) {
			asked := time.Now()
			page, err := f.list(ctx, adminapi.PageQuery{From: from, Limit: limit, Dir: dir})
			if all != nil {
				all.cost += time.Since(asked)
			}
			if err == nil && all != nil {
				all.total = page.Total
				all.pages++
			}
			return page, err
		},
	}
	for {
		page, err := pager.Next(ctx)
		last := false
		switch {
		case adminapi.IsTooLarge(err) && pager.Limit > 1:
			pager.Limit = max(pager.Limit/2, 1)
			f.Log.Warn().Int64("from", pager.From).Int("page_size", pager.Limit).Msg("A page of reports was too large to read; reading smaller pages")
			continue
		case adminapi.IsTooLarge(err):
			if all != nil {
				all.complete = false
			}
			f.unreadable(ctx, pager.From, dir)
			pager.From, pager.Limit = pager.From+1, f.PageSize
			continue
		case errors.Is(err, adminapi.ErrPagingStuck):
			// Take this page, then end the listing where Synapse did.
			f.Log.Debug().Err(err).Msg("Synapse's listing of reports does not move on; ending this read there")
			last = true
			if all != nil {
				all.complete = false
			}
		case err != nil:
			return err
		case page == nil:
			return nil
		}
		pager.Limit = f.PageSize // past the large one
		var fresh []T
		if dir == mautrix.DirectionForward {
			seen = make(map[store.ReportKey]bool, len(page.Items)) // the page before goes
		}
		for _, r := range page.Items {
			k := f.key(r)
			if all != nil {
				all.keys[k] = true
				all.maxID = max(all.maxID, k.ID)
			}
			if !seen[k] && !prev[k] {
				seen[k] = true
				fresh = append(fresh, f.trim(r))
			}
		}
		if dir == mautrix.DirectionForward {
			prev = seen
		}
		unseen, err := f.unseen(ctx, fresh)
		if err != nil {
			return err
		}
		more, err := fn(unseen)
		if err != nil || !more || last {
			return err
		}
	}
}

// unreadable tells the moderators, once per run, that a report is too large
// to read: Gavel cannot post it.
func (f *kindFeed[T]) unreadable(ctx context.Context, offset int64, dir mautrix.Direction) {
	order := "newest"
	if dir == mautrix.DirectionForward {
		order = "oldest"
	}
	f.Log.Error().Stringer("kind", f.kind).Int64("offset", offset).Str("from", order).Msg("A report is too large to read (its reason is longer than Synapse's answer limit); skipping it")
	if f.unreadableAlerted {
		return
	}
	f.unreadableAlerted = f.alert(ctx, store.UnreadableAlertKey(f.started), notice.Unreadable(offset, dir == mautrix.DirectionForward))
}

// unseen keeps the reports the database has no row for.
func (f *kindFeed[T]) unseen(ctx context.Context, reports []T) ([]T, error) {
	keys := make([]store.ReportKey, len(reports))
	for i, r := range reports {
		keys[i] = f.key(r)
	}
	unseenKeys, err := f.Store.Reports.Unseen(ctx, keys)
	if err != nil {
		return nil, err
	}
	want := map[store.ReportKey]bool{}
	for _, k := range unseenKeys {
		want[k] = true
	}
	var out []T
	for _, r := range reports {
		if want[f.key(r)] {
			out = append(out, r)
		}
	}
	return out, nil
}

// rows is what the store keeps of reports.
func (f *kindFeed[T]) rows(reports []T) []store.Report {
	rows := make([]store.Report, len(reports))
	for i, r := range reports {
		rows[i] = f.row(r)
	}
	return rows
}

// firstStart deals with the reports open when Gavel runs for the first
// time: with on_first_start: skip they are recorded as seen and summed up in
// one line; with post they are posted like new ones.
func (f *kindFeed[T]) firstStart(ctx context.Context) error {
	if f.Reports.OnFirstStart == config.FirstStartPost {
		f.Log.Info().Stringer("kind", f.kind).Msg("First start: posting the reports already open")
		return f.Store.KV.Set(ctx, store.KVInitializedKind(f.kind), config.FirstStartPost)
	}
	// The database has no report rows yet: every open report is new. They
	// are recorded a page at a time, in one pass.
	total := 0
	all := &listing{keys: map[store.ReportKey]bool{}, complete: true}
	progress := newProgress(f, "First start: recording the reports already open")
	err := f.readPages(ctx, mautrix.DirectionForward, all, func(page []T) (bool, error) {
		progress.page(all)
		total += len(page)
		return true, f.Store.Reports.Skip(ctx, f.rows(page))
	})
	if err != nil {
		return err
	}
	f.scanned(all, 0)
	if f.kind != store.KindEvent && total == 0 {
		// Nothing to say: the event reports' summary says Gavel watches.
		return f.Store.KV.Set(ctx, store.KVInitializedKind(f.kind), config.FirstStartSkip)
	}
	summary := store.Message{
		Key:      store.FirstStartSummaryKey(f.kind),
		Priority: store.PriorityNotice,
		RoomID:   f.Room,
		Content:  notice.FirstStart(f.kind, total, f.Prefix),
	}
	if err := f.Store.Outbox.EnqueueAndSet(ctx, summary, store.KVInitializedKind(f.kind), config.FirstStartSkip); err != nil {
		return err
	}
	f.Log.Info().Stringer("kind", f.kind).Int("open_reports", total).Msg("First start: recorded the reports already open as seen")
	f.Notify()
	return nil
}
