// Package stats makes the team's picture from Gavel's own database: the
// reports received in a window by kind, their cases by where they stand,
// the time to claim and to resolve them, the oldest open case, and the
// actions taken by command and by moderator (!stats, the weekly post).
//
// A case's row keeps only its last change, so what is measured is: the
// time to resolve of the cases closed now (resolved or dismissed: the
// last change is the close), and the time to claim as the time to the
// first action recorded for the report (a claim, a button, or a resolve
// straight away), which the action table keeps. A case reopened and
// still open counts as open.
//
// Of Gavel's packages it may import: internal/mxid, notice, store.
package stats

import (
	"cmp"
	"context"
	"slices"
	"sort"
	"time"

	"github.com/gavel-bot/gavel/internal/mxid"
	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/store"
)

// Gather reads the figures for the reports received in [since, until)
// from st, with the days cut in loc: three scans (the reports, their
// cases, the actions), put together here.
func Gather(ctx context.Context, st *store.Store, since, until time.Time, loc *time.Location) (notice.Stats, error) {
	w := NewWindow(since, until, loc)
	if err := st.Reports.Received(ctx, since, until, w.Report); err != nil {
		return notice.Stats{}, err
	}
	if err := st.Cases.Changed(ctx, since, until, w.Case); err != nil {
		return notice.Stats{}, err
	}
	if err := st.Actions.Acted(ctx, since, until, w.Action); err != nil {
		return notice.Stats{}, err
	}
	s := w.Stats()
	// An open case from before the window is older than any in it.
	if oldest, ok, err := st.Cases.OldestOpen(ctx, since); err != nil {
		return notice.Stats{}, err
	} else if ok {
		s.OldestOpen = &notice.OpenCase{Report: oldest.Report.Ref(), Received: time.UnixMilli(oldest.Report.ReceivedTS).In(loc)}
	}
	return s, nil
}

// Window adds up a window's reports, their cases and the actions taken
// in it, each as it is read (Report first, then Case, then Action), and
// makes the figures (Stats). It is pure: no database.
type Window struct {
	since, until time.Time
	loc          *time.Location
	received     map[mxid.ReportKind]int
	days         []day
	// cases are the window's reports but duplicates, and where they stand.
	cases map[store.ReportKey]standing
	// acted is when each report had an action, for its first.
	acted            map[mxid.ReportRef]actedAt
	byName, bySender map[string]int
}

// standing is where a case stands: open unless a change says otherwise.
type standing struct {
	state   store.CaseState
	changed time.Time
}

// day is one day of a window as it is added up.
type day struct {
	start    time.Time
	received map[mxid.ReportKind]int
	resolve  []time.Duration
}

// NewWindow returns an empty window of [since, until), its days cut at
// midnight in loc.
func NewWindow(since, until time.Time, loc *time.Location) *Window {
	w := &Window{since: since.In(loc), until: until.In(loc), loc: loc, received: map[mxid.ReportKind]int{},
		cases: map[store.ReportKey]standing{}, acted: map[mxid.ReportRef]actedAt{}, byName: map[string]int{}, bySender: map[string]int{}}
	s := w.since
	for d := time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, loc); d.Before(w.until); d = d.AddDate(0, 0, 1) {
		w.days = append(w.days, day{start: d, received: map[mxid.ReportKind]int{}})
	}
	return w
}

// dayOf returns the day t falls on; nil outside the window.
func (w *Window) dayOf(t time.Time) *day {
	if t.Before(w.since) || !t.Before(w.until) {
		return nil
	}
	i := sort.Search(len(w.days), func(i int) bool { return w.days[i].start.After(t) })
	if i == 0 {
		return nil
	}
	return &w.days[i-1]
}

// Report counts report k, received in the window; a duplicate (dup) is
// a report received but no case.
func (w *Window) Report(k store.ReportKey, dup bool) {
	kind := k.Ref().Kind
	w.received[kind]++
	if d := w.dayOf(time.UnixMilli(k.ReceivedTS)); d != nil {
		d.received[kind]++
	}
	if !dup {
		w.cases[k] = standing{state: store.CaseOpen}
	}
}

// Case records where the case of a report in the window stands.
func (w *Window) Case(c store.Case) {
	if _, ok := w.cases[c.Report]; ok {
		w.cases[c.Report] = standing{state: c.State, changed: c.At}
	}
}

// Action counts a successful action taken in the window.
func (w *Window) Action(a store.Acted) {
	name := a.Name
	if name == "" {
		name = "(unnamed)" // logged before actions had names
	}
	w.byName[name]++
	w.bySender[string(a.Sender)]++
	if !a.Report.IsZero() {
		at := w.acted[a.Report]
		if at.first.IsZero() {
			at.first = a.Time
		} else {
			at.more = append(at.more, a.Time)
		}
		w.acted[a.Report] = at
	}
}

// firstAction returns the first action for report k at or after it was
// received (Synapse reuses report ids after a restart); zero for none.
func (w *Window) firstAction(k store.ReportKey) time.Time {
	var first time.Time
	received := time.UnixMilli(k.ReceivedTS)
	at := w.acted[k.Ref()]
	consider := func(t time.Time) {
		if !t.IsZero() && !t.Before(received) && (first.IsZero() || t.Before(first)) {
			first = t
		}
	}
	consider(at.first)
	for _, t := range at.more {
		consider(t)
	}
	return first
}

// actedAt is when a report had actions: the first read, and the others
// (most reports have one).
type actedAt struct {
	first time.Time
	more  []time.Time
}

// Stats returns the figures of what was added; OldestOpen is the oldest
// open case in the window.
func (w *Window) Stats() notice.Stats {
	s := notice.Stats{Since: w.since, Until: w.until, Received: w.received, Cases: map[string]int{},
		Actions: ranked(w.byName), Moderators: ranked(w.bySender)}
	var claim, resolve []time.Duration
	for i := range w.days {
		w.days[i].resolve = nil // Stats may be called again
	}
	for k, c := range w.cases {
		s.Cases[string(c.state)]++
		received := time.UnixMilli(k.ReceivedTS)
		if c.state == store.CaseOpen {
			if s.OldestOpen == nil || received.Before(s.OldestOpen.Received) {
				s.OldestOpen = &notice.OpenCase{Report: k.Ref(), Received: received.In(w.loc)}
			}
		}
		first := w.firstAction(k)
		if c.state != store.CaseOpen && c.state != store.CaseDeleted && (first.IsZero() || c.changed.Before(first)) {
			first = c.changed // changed with no action recorded
		}
		if !first.IsZero() {
			claim = append(claim, first.Sub(received))
		}
		if c.state == store.CaseResolved || c.state == store.CaseDismissed {
			took := c.changed.Sub(received)
			resolve = append(resolve, took)
			if d := w.dayOf(received); d != nil {
				d.resolve = append(d.resolve, took)
			}
		}
	}
	s.Claim, s.Resolve = Spread(claim), Spread(resolve)
	for _, d := range w.days {
		s.Days = append(s.Days, notice.StatsDay{Day: d.start, Received: d.received, Resolve: Spread(d.resolve)})
	}
	return s
}

// ranked returns the tallies of counts, most first, then by name.
func ranked(counts map[string]int) []notice.Tally {
	var ts []notice.Tally
	for name, n := range counts {
		ts = append(ts, notice.Tally{Name: name, N: n})
	}
	slices.SortFunc(ts, func(a, b notice.Tally) int {
		return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(a.Name, b.Name))
	})
	return ts
}

// Spread returns the count, median and 90th percentile of ds (nearest
// rank); it sorts ds.
func Spread(ds []time.Duration) notice.Spread {
	if len(ds) == 0 {
		return notice.Spread{}
	}
	slices.Sort(ds)
	return notice.Spread{N: len(ds), Median: rank(ds, 50), P90: rank(ds, 90)}
}

// rank is the p-th percentile of sorted ds by nearest rank: the smallest
// value that at least p% of ds are at or below.
func rank(ds []time.Duration, p int) time.Duration {
	i := (p*len(ds) + 99) / 100 // ceil(p/100 × n), 1-based
	return ds[max(i, 1)-1]
}
