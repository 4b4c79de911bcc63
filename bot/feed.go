package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/internal/textcut"
	"github.com/gavel-bot/gavel/store"
)

const (
	// kvInitialized is set once the reports open at the first start have
	// been dealt with (on_first_start).
	kvInitialized = "feed.initialized"
	// fullScanEvery is how often every open report is read; the polls in
	// between read only the newest pages, which is where new reports are.
	// With thousands of open reports a full scan is a hundred requests.
	fullScanEvery = 10 * time.Minute
	// pageSize is the page size of report listings.
	pageSize = 100
)

// feedLoop polls Synapse for new reports every poll_interval. When Synapse
// cannot be reached or fails, it backs off and keeps trying; it never skips
// a report, because what is new is decided by the database, not by where
// the last poll stopped.
func (b *Bot) feedLoop(ctx context.Context) error {
	var bo backoff
	var failingSince, lastFull time.Time
	alerted := false
	for {
		full := time.Since(lastFull) >= fullScanEvery
		err := b.poll(ctx, full)
		now := time.Now()
		if err == nil && full {
			lastFull = now
		}
		b.mu.Lock()
		b.lastPoll, b.lastPollErr = now, err
		b.mu.Unlock()
		wait := b.cfg.Reports.PollInterval
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if failingSince.IsZero() {
				failingSince = now
			}
			if !alerted && now.Sub(failingSince) >= b.feedAlertAfter {
				alerted = b.alert(ctx, "gavel-alert-feed-"+strconv.FormatInt(failingSince.UnixMilli(), 10),
					fmt.Sprintf("Gavel cannot read reports from Synapse since %s (%s). It keeps trying; reports filed meanwhile will be posted once it can.",
						failingSince.UTC().Format("15:04 UTC"), pollFailure(err)))
			}
			wait = max(wait, bo.next())
			b.log.Warn().Err(err).Dur("retry_in", wait).Msg("Polling reports failed; retrying")
			lastFull = time.Time{} // the next successful poll is a full scan
		} else {
			if alerted {
				b.alert(ctx, "gavel-alert-feed-"+strconv.FormatInt(failingSince.UnixMilli(), 10)+"-ok",
					fmt.Sprintf("Gavel reads reports from Synapse again (it could not from %s to %s).",
						failingSince.UTC().Format("15:04"), now.UTC().Format("15:04 UTC")))
			}
			failingSince, alerted = time.Time{}, false
			bo.reset()
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// alert queues a message for the moderators about Gavel itself, and
// reports whether it was queued.
func (b *Bot) alert(ctx context.Context, key, msg string) bool {
	err := b.store.Enqueue(ctx, store.Message{Key: key, Priority: store.PriorityNotice,
		RoomID: b.cfg.Matrix.ManagementRoom, Content: (&text{}).raw(msg).content(event.MsgText, nil)})
	if err != nil {
		b.log.Error().Err(err).Msg("Could not queue an alert for the moderators")
		return false
	}
	b.notify()
	return true
}

// poll finds reports the database has not seen and posts them, oldest
// first: one notice each, or digests when there are more than
// reports.max_individual. A full scan reads every page; the others read
// only the newest pages.
func (b *Bot) poll(ctx context.Context, full bool) error {
	if !b.initialized {
		// Asked once per run: once set, it stays set.
		initialized, err := b.store.Get(ctx, kvInitialized)
		if err != nil {
			return err
		}
		if initialized == "" {
			if err := b.firstStart(ctx); err != nil {
				return err
			}
			b.initialized = true
			if b.cfg.Reports.OnFirstStart != config.FirstStartPost {
				return nil
			}
			full = true // post what is open now, without waiting
		}
		b.initialized = true
	}
	if full {
		return b.scanAll(ctx)
	}
	unseen, backlog, err := b.newReports(ctx)
	if err != nil {
		return err
	}
	if backlog {
		// Too many to hold at once: a full scan takes them on, a page at
		// a time.
		return b.scanAll(ctx)
	}
	// Listings are newest first; post oldest first.
	slices.Reverse(unseen)
	if len(unseen) <= b.cfg.Reports.MaxIndividual {
		return b.postEach(ctx, unseen)
	}
	w := &wave{total: len(unseen), parts: (len(unseen) + digestSize - 1) / digestSize}
	for len(unseen) > 0 {
		n := min(len(unseen), digestSize)
		if err := b.queueDigest(ctx, w, unseen[:n]); err != nil {
			return err
		}
		unseen = unseen[n:]
	}
	return nil
}

// postEach queues a notice for each report.
func (b *Bot) postEach(ctx context.Context, reports []adminapi.EventReport) error {
	for _, r := range reports {
		if err := b.queueNotice(ctx, r); err != nil {
			return err
		}
		b.notify()
	}
	return nil
}

// scanAll reads every open report, oldest first and a page at a time, and
// posts the ones the database has not seen. Once it has found more than
// reports.max_individual it switches to digests and queues each as soon as
// it is full, so it holds at most a page and a digest's worth of reports.
// The last digest of such a scan says how many reports it found in all.
func (b *Bot) scanAll(ctx context.Context) error {
	var pending []adminapi.EventReport
	var w *wave // set once the scan has found more than max_individual
	err := b.readPages(ctx, mautrix.DirectionForward, func(page []adminapi.EventReport) (bool, error) {
		pending = append(pending, page...)
		if w == nil && len(pending) > b.cfg.Reports.MaxIndividual {
			w = &wave{}
			b.log.Info().Int("max_individual", b.cfg.Reports.MaxIndividual).Msg("Many new reports: posting digests")
		}
		// Keep at least one back: the scan's last digest carries the total.
		for w != nil && len(pending) > digestSize {
			if err := b.queueDigest(ctx, w, pending[:digestSize]); err != nil {
				return false, err
			}
			pending = slices.Clone(pending[digestSize:])
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	if w == nil {
		return b.postEach(ctx, pending)
	}
	w.total = w.covered + len(pending)
	w.parts = w.part + 1
	return b.queueDigest(ctx, w, pending)
}

// digestSize is how many reports one digest lists.
const digestSize = 50

// wave is one poll's worth of digests.
type wave struct {
	total   int // new reports in the wave; 0 while a scan is still counting
	parts   int // digests in the wave; 0 while unknown
	part    int // digests queued so far
	covered int // reports covered by them
}

// queueDigest records reports as seen and queues one digest for them.
func (b *Bot) queueDigest(ctx context.Context, w *wave, reports []adminapi.EventReport) error {
	w.part++
	digest := store.Message{
		Key:      "gavel-digest-" + strconv.FormatInt(reports[0].ID, 10) + "-" + strconv.FormatInt(reports[0].ReceivedTS, 10),
		Priority: store.PriorityNotice,
		RoomID:   b.cfg.Matrix.ManagementRoom,
		Content:  digestContent(reports, w.part, w.parts, w.total, b.cfg.Commands.Prefix),
	}
	if err := b.store.AddReportsDigest(ctx, reportRows(reports), digest); errors.Is(err, store.ErrAlreadySeen) {
		// A report listed twice (ties in received_ts ordered differently
		// from one page to the next): leave out what is recorded.
		w.part--
		fresh, err := b.unseen(ctx, reports)
		if err != nil || len(fresh) == 0 || len(fresh) == len(reports) {
			return cmp.Or(err, fmt.Errorf("queueing a digest: %w", store.ErrAlreadySeen))
		}
		return b.queueDigest(ctx, w, fresh)
	} else if err != nil {
		return err
	}
	w.covered += len(reports)
	b.log.Info().Int("reports", len(reports)).Int("part", w.part).Int64("first_report_id", reports[0].ID).Msg("New reports, posted as a digest")
	b.notify()
	return nil
}

// trimReport cuts the free-text fields of a report to what a notice can
// show, so that reports held in memory stay small whatever reporters type.
func trimReport(r adminapi.EventReport) adminapi.EventReport {
	r.Reason = textcut.Runes(r.Reason, 2*reasonShown)
	r.Name = textcut.Runes(r.Name, 2*roomNameShown)
	return r
}

// newReports returns the open reports the database has no row for, newest
// first, reading the newest pages until one has no new report: new reports
// are the newest, so they are on the pages read; the full scans cover the
// rest (a clock that went backwards, say). It returns at most about
// maxNewPerPoll reports; backlog says it stopped there.
func (b *Bot) newReports(ctx context.Context) (unseen []adminapi.EventReport, backlog bool, err error) {
	err = b.readPages(ctx, mautrix.DirectionBackward, func(page []adminapi.EventReport) (bool, error) {
		unseen = append(unseen, page...)
		if len(unseen) >= b.maxNewPerPoll {
			backlog = true
			b.log.Info().Int("new_reports", len(unseen)).Msg("Many new reports: reading them all in a full scan")
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
func (b *Bot) readPages(ctx context.Context, dir mautrix.Direction, fn func(page []adminapi.EventReport) (bool, error)) error {
	seen := map[store.ReportKey]bool{}
	var prev map[store.ReportKey]bool // oldest first: the page before's keys
	limit := b.pageSize
	for from := int64(0); ; {
		page, err := b.admin.ListEventReports(ctx, adminapi.EventReportsQuery{
			PageQuery: adminapi.PageQuery{From: from, Limit: limit, Dir: dir},
		})
		switch {
		case adminapi.IsTooLarge(err) && limit > 1:
			limit = max(limit/2, 1)
			b.log.Warn().Int64("from", from).Int("page_size", limit).Msg("A page of reports was too large to read; reading smaller pages")
			continue
		case adminapi.IsTooLarge(err):
			b.unreadable(ctx, from, dir)
			from, limit = from+1, b.pageSize
			continue
		case err != nil:
			return err
		}
		limit = b.pageSize // past the large one
		var fresh []adminapi.EventReport
		if dir == mautrix.DirectionForward {
			seen = make(map[store.ReportKey]bool, len(page.Items)) // the page before goes
		}
		for _, r := range page.Items {
			if k := keyOf(r); !seen[k] && !prev[k] {
				seen[k] = true
				fresh = append(fresh, trimReport(r))
			}
		}
		if dir == mautrix.DirectionForward {
			prev = seen
		}
		unseen, err := b.unseen(ctx, fresh)
		if err != nil {
			return err
		}
		more, err := fn(unseen)
		if err != nil || !more {
			return err
		}
		if page.NextToken == nil || *page.NextToken <= from || len(page.Items) == 0 {
			return nil
		}
		from = *page.NextToken
	}
}

// unreadable tells the moderators, once per run, that a report is too large
// to read: Gavel cannot post it.
func (b *Bot) unreadable(ctx context.Context, offset int64, dir mautrix.Direction) {
	order := "newest"
	if dir == mautrix.DirectionForward {
		order = "oldest"
	}
	b.log.Error().Int64("offset", offset).Str("from", order).Msg("A report is too large to read (its reason is longer than Synapse's answer limit); skipping it")
	if b.unreadableAlerted {
		return
	}
	b.unreadableAlerted = b.alert(ctx, "gavel-alert-unreadable-"+strconv.FormatInt(b.startedAt.UnixMilli(), 10),
		fmt.Sprintf("A report is too large for Gavel to read (Synapse's answer for it is over %d MiB, so its reason must be huge); it is number %d counting from the %s of the open reports. Gavel skips it and posts the others. Look at it with the admin API: GET /_synapse/admin/v1/event_reports?from=%d&limit=1&dir=%s",
			maxAdminResponse>>20, offset+1, order, offset, string(dir)))
}

// pollFailure says in a few words why a poll failed.
func pollFailure(err error) string {
	if adminapi.IsTooLarge(err) {
		return fmt.Sprintf("Synapse's answer was over %d MiB", maxAdminResponse>>20)
	}
	switch status := adminapi.StatusCode(err); {
	case status == 0 && adminapi.ErrCode(err) == "":
		var apiErr *adminapi.Error
		if errors.As(err, &apiErr) {
			return "Synapse does not answer"
		}
		return err.Error()
	case adminapi.ErrCode(err) != "":
		return fmt.Sprintf("Synapse answers %s, HTTP %d", adminapi.ErrCode(err), status)
	default:
		return fmt.Sprintf("Synapse answers HTTP %d", status)
	}
}

// retryable reports whether an admin API error may go away by itself: no
// answer, a 5xx, a rate limit, or a token problem an admin can fix.
func retryable(err error) bool {
	status := adminapi.StatusCode(err)
	return status == 0 || status >= 500 || status == 429 || status == 401 || status == 403
}

func keyOf(r adminapi.EventReport) store.ReportKey {
	return store.ReportKey{ID: r.ID, ReceivedTS: r.ReceivedTS}
}

// unseen keeps the reports the database has no row for.
func (b *Bot) unseen(ctx context.Context, reports []adminapi.EventReport) ([]adminapi.EventReport, error) {
	keys := make([]store.ReportKey, len(reports))
	for i, r := range reports {
		keys[i] = keyOf(r)
	}
	unseenKeys, err := b.store.Unseen(ctx, keys)
	if err != nil {
		return nil, err
	}
	want := map[store.ReportKey]bool{}
	for _, k := range unseenKeys {
		want[k] = true
	}
	var out []adminapi.EventReport
	for _, r := range reports {
		if want[keyOf(r)] {
			out = append(out, r)
		}
	}
	return out, nil
}

// queueNotice renders a report's notice, with the reported event when
// Synapse still has it, and records the report and the notice together.
func (b *Bot) queueNotice(ctx context.Context, r adminapi.EventReport) error {
	detail, err := b.admin.EventReport(ctx, r.ID)
	switch {
	case adminapi.IsTooLarge(err):
		b.log.Warn().Int64("report_id", r.ID).Msg("The reported event is too large to read; posting the report without it")
		detail = tooLargeToShow
	case adminapi.IsNotFound(err):
		// Deleted since the listing, or its room or event was purged.
		detail = nil
	case err != nil && retryable(err):
		return err
	case err != nil:
		// One report Synapse cannot show must not hold up the others.
		b.log.Warn().Err(err).Int64("report_id", r.ID).Msg("Could not read the reported event; posting the report without it")
		detail = nil
	case detail.ReceivedTS != r.ReceivedTS:
		// The id now belongs to another report; the next poll sorts it out.
		return nil
	}
	notice := store.Message{
		Key:      "gavel-report-" + strconv.FormatInt(r.ID, 10) + "-" + strconv.FormatInt(r.ReceivedTS, 10),
		Priority: store.PriorityNotice,
		RoomID:   b.cfg.Matrix.ManagementRoom,
		Content:  reportNotice(r, detail),
	}
	err = b.store.AddReportNotice(ctx, reportRows([]adminapi.EventReport{r})[0], notice)
	if err == nil {
		b.log.Info().Int64("report_id", r.ID).Stringer("reporter", r.UserID).Stringer("sender", r.Sender).
			Stringer("room_id", r.RoomID).Msg("New report")
	}
	return err
}

// reportRows is what the store keeps of reports.
func reportRows(reports []adminapi.EventReport) []store.Report {
	rows := make([]store.Report, len(reports))
	for i, r := range reports {
		rows[i] = store.Report{ReportKey: keyOf(r), RoomID: r.RoomID, EventID: r.EventID}
	}
	return rows
}

// firstStart deals with the reports open when Gavel runs for the first
// time: with on_first_start: skip they are recorded as seen and summed up in
// one line; with post they are posted like new ones.
func (b *Bot) firstStart(ctx context.Context) error {
	if b.cfg.Reports.OnFirstStart == config.FirstStartPost {
		b.log.Info().Msg("First start: posting the reports already open")
		return b.store.Set(ctx, kvInitialized, config.FirstStartPost)
	}
	// The database has no report rows yet: every open report is new. They
	// are recorded a page at a time, in one pass.
	total := 0
	err := b.readPages(ctx, mautrix.DirectionForward, func(page []adminapi.EventReport) (bool, error) {
		total += len(page)
		return true, b.store.SkipReports(ctx, reportRows(page))
	})
	if err != nil {
		return err
	}
	t := &text{}
	switch total {
	case 0:
		t.raw("Gavel is watching for reports. None were open; new ones will be posted here.")
	case 1:
		t.raw("1 report was already open: ").code(b.cfg.Commands.Prefix + "reports").raw(" lists it.")
	default:
		t.raw(fmt.Sprintf("%d reports were already open: ", total)).code(b.cfg.Commands.Prefix + "reports").raw(" lists them.")
	}
	summary := store.Message{
		Key:      "gavel-first-start-summary",
		Priority: store.PriorityNotice,
		RoomID:   b.cfg.Matrix.ManagementRoom,
		Content:  t.content(event.MsgText, nil),
	}
	if err := b.store.EnqueueAndSet(ctx, summary, kvInitialized, config.FirstStartSkip); err != nil {
		return err
	}
	b.log.Info().Int("open_reports", total).Msg("First start: recorded the reports already open as seen")
	b.notify()
	return nil
}
