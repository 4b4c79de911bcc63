package feed

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/gavel-bot/gavel/store"
)

// Probing keeps Gavel's cost on Synapse flat. Every listing of reports
// makes Synapse count the whole reports table first, so a poll that lists
// costs more the more reports are open: 15 ms at 1,000, 100 ms at 50,000.
// Reading one report by its id is a primary-key lookup, the same few
// milliseconds at any size. Synapse hands out report ids one by one, so
// the usual poll asks for the ids after the highest one seen, one at a
// time, until Synapse has none: it costs one lookup when nothing is new,
// and one more per new report.
//
// Ids do not always follow each other: a report deleted before Gavel read
// it leaves a gap, and after the newest reports are deleted and Synapse
// restarts, it hands their ids out again. So every lookaheadEvery polls a
// poll also looks lookahead ids further, and at the id after the highest
// one the last full listing showed (where a restarted Synapse goes on).
// Longer gaps (many reports deleted by someone else before Gavel saw
// them) are crossed by a poll that lists the newest reports, as polls did
// before: at most every listEvery, and with a large table only as often
// as keeps its cost at listShare of Synapse's time (a listing of 100,000
// reports takes Synapse a few hundred milliseconds). The full listings,
// which see everything (and deletions), run at least every fullScanEvery,
// and with a large table only as often as keeps their cost at
// fullScanShare.
//
// Until a listing has shown a report of a kind, polls list it: an empty
// table costs little to list, and only a report seen says where the ids
// are.

const (
	lookahead      = 2
	lookaheadEvery = 5
	listShare      = 0.0015 // Options.ListShare's default
)

// nextListing is when a listing poll after one that cost Synapse cost
// should run.
func (f *kindFeed[T]) nextListing(done time.Time, cost time.Duration) time.Time {
	return done.Add(max(f.ListEvery, time.Duration(float64(cost)/f.ListShare)))
}

// errProbe marks a lookup that failed in a way a listing may not (a
// report too large to read): that poll lists instead.
var errProbe = errors.New("probing for new reports")

// probing reports whether this poll looks reports up by id rather than
// listing the newest: there is a way to, and a report seen has shown
// where the ids are.
func (f *kindFeed[T]) probing() bool {
	return f.probe != nil && f.maxSeen > 0 && !f.ListOnly && time.Now().Before(f.nextList)
}

// probeNew is newReports by id lookups: the reports after the highest id
// seen (and, every lookaheadEvery polls, past a gap, and where a restarted
// Synapse would go on) that the database has not seen, newest first.
func (f *kindFeed[T]) probeNew(ctx context.Context) (unseen []T, backlog bool, err error) {
	f.polls++
	wide := f.polls%lookaheadEvery == 0
	var found []T
	// look reads reports from id up, until lookahead+1 (or, when not
	// wide, 1) ids in a row are missing or enough are found.
	look := func(id int64, tolerate int) error {
		for misses := 0; misses <= tolerate && len(found) < f.MaxNewPerPoll; id++ {
			r, ok, err := f.probe(ctx, id)
			if err != nil {
				return err
			}
			if !ok {
				misses++
				continue
			}
			misses = 0
			found = append(found, f.trim(r))
			k := f.key(r)
			f.maxSeen, f.maxExisting = max(f.maxSeen, k.ID), max(f.maxExisting, k.ID)
		}
		return nil
	}
	tolerate := 0
	if wide {
		tolerate = lookahead
	}
	if err := look(f.maxSeen+1, tolerate); err != nil {
		return nil, false, err
	}
	if wide && f.maxExisting < f.maxSeen {
		// The newest ids were deleted: after a restart Synapse hands them
		// out again, from the highest id it has plus one (2 when it has
		// none: its first id).
		if err := look(max(f.maxExisting+1, 2), 0); err != nil {
			return nil, false, err
		}
	}
	unseen, err = f.unseen(ctx, found)
	if err != nil {
		return nil, false, err
	}
	slices.SortFunc(unseen, func(a, b T) int { return cmpKeys(f.key(b), f.key(a)) })
	backlog = len(found) >= f.MaxNewPerPoll
	if backlog {
		f.Log.Info().Stringer("kind", f.kind).Int("new_reports", len(found)).Msg("Many new reports: reading them all in a full scan")
	}
	return unseen, backlog, nil
}

// cmpKeys orders reports by when Synapse received them, then by id.
func cmpKeys(a, b store.ReportKey) int {
	return cmp.Or(cmp.Compare(a.ReceivedTS, b.ReceivedTS), cmp.Compare(a.ID, b.ID))
}

// listed takes in what a listing of the newest reports showed: where the
// ids are, and when to list again.
func (f *kindFeed[T]) listed(all *listing) {
	f.maxSeen = max(f.maxSeen, all.maxID)
	f.maxExisting = max(f.maxExisting, all.maxID)
	f.nextList = f.nextListing(time.Now(), all.cost)
}

// scanned takes in what a full listing showed: where the ids are, how
// many reports there are, and how long Synapse took to answer.
func (f *kindFeed[T]) scanned(all *listing, took time.Duration) {
	f.maxSeen = max(f.maxSeen, all.maxID)
	if all.complete {
		// Where a restarted Synapse goes on handing out ids.
		f.maxExisting = all.maxID
	}
	f.scanCost = all.cost
	// The newest were just read; a listing poll costs about one page.
	f.nextList = f.nextListing(time.Now(), all.cost/time.Duration(max(all.pages, 1)))
	f.Log.Debug().Stringer("kind", f.kind).Int64("reports", all.total).Int64("max_id", all.maxID).
		Dur("synapse_time", all.cost).Dur("took", took).Msg("Read every open report")
}

// progressEvery is how often a long read of every report says how far it
// is.
const progressEvery = 10 * time.Second

// progress logs how far a read of every report is, every progressEvery.
type progress struct {
	log  func(listed int, total int64)
	next time.Time
}

func newProgress[T any](f *kindFeed[T], what string) *progress {
	return &progress{next: time.Now().Add(progressEvery), log: func(listed int, total int64) {
		f.Log.Info().Stringer("kind", f.kind).Int("listed", listed).Int64("total", total).Msg(what)
	}}
}

// page is called after each page read into all.
func (p *progress) page(all *listing) {
	if time.Now().After(p.next) {
		p.log(len(all.keys), all.total)
		p.next = time.Now().Add(progressEvery)
	}
}
