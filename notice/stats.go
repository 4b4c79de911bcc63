package notice

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/mxid"
)

// Stats is the team's picture over a window (!stats, the weekly post):
// package stats fills it from Gavel's database, Figures renders it and
// the chart draws its days.
type Stats struct {
	Since, Until time.Time
	// Received counts the reports received, duplicates included, by kind.
	Received map[mxid.ReportKind]int
	// Cases counts the cases of those reports (duplicates excluded) by
	// where they stand now: open, claimed, resolved, dismissed, deleted.
	Cases map[string]int
	// Claim is from a report being received to the first action recorded
	// for it (a claim, a button, a resolve straight away); Resolve to its
	// case being resolved or dismissed, for the cases closed now.
	Claim, Resolve Spread
	// OldestOpen is the open case (unclaimed, not closed) received longest
	// ago, at any time; nil for none.
	OldestOpen *OpenCase
	// Actions counts successful actions by command, and Moderators by
	// who took them, most first.
	Actions, Moderators []Tally
	// Days are the window's days, oldest first, in the time zone the
	// figures were made for.
	Days []StatsDay
}

// Spread is how long something took: the count, median and 90th
// percentile (nearest rank).
type Spread struct {
	N           int
	Median, P90 time.Duration
}

// Tally is a name and how many.
type Tally struct {
	Name string
	N    int
}

// OpenCase is an open case's report and when it was received.
type OpenCase struct {
	Report   mxid.ReportRef
	Received time.Time
}

// StatsDay is one day of the window: the reports received by kind, and
// the time to resolve the cases received that day and closed since.
type StatsDay struct {
	Day      time.Time
	Received map[mxid.ReportKind]int
	Resolve  Spread
}

// statsKinds and statsStates are the order the figures are shown in.
var (
	statsKinds  = []mxid.ReportKind{mxid.KindEvent, mxid.KindUser, mxid.KindRoom}
	statsStates = []string{"open", "claimed", "resolved", "dismissed", "deleted"}
)

// maxTallies is how many actions and moderators the message lists.
const maxTallies = 10

// Figures is the message of the team's picture s, made at now.
func Figures(s Stats, now time.Time) *Text {
	t := New().Bold("The team's picture").Raw(" from " + s.Since.Format("2006-01-02 15:04") + " to " + s.Until.Format("2006-01-02 15:04 MST") + ":")
	t.StartList()
	total := 0
	var kinds []string
	for _, k := range statsKinds {
		total += s.Received[k]
		if n := s.Received[k]; n > 0 {
			kinds = append(kinds, fmt.Sprintf("%d %s", n, k))
		}
	}
	t.Item().Raw("Reports received: " + fmt.Sprint(total))
	if len(kinds) > 0 {
		t.Raw(" (" + strings.Join(kinds, ", ") + ")")
	}
	cases, states := 0, []string{}
	for _, st := range statsStates {
		cases += s.Cases[st]
		if n := s.Cases[st]; n > 0 {
			states = append(states, fmt.Sprintf("%d %s", n, st))
		}
	}
	t.Item().Raw("Cases: " + fmt.Sprint(cases))
	if len(states) > 0 {
		t.Raw(" (" + strings.Join(states, ", ") + ")")
	}
	t.Item().Raw("Time to claim: " + spread(s.Claim))
	t.Item().Raw("Time to resolve: " + spread(s.Resolve))
	if o := s.OldestOpen; o != nil {
		t.Item().Raw("Oldest open case: report " + o.Report.String() + ", received " + Ago(o.Received, now))
	} else {
		t.Item().Raw("No open case.")
	}
	t.Item().Raw("Actions: ")
	tallies(t, s.Actions, false)
	t.Item().Raw("By moderator: ")
	tallies(t, s.Moderators, true)
	return t.EndList()
}

// spread says a Spread in words.
func spread(s Spread) string {
	if s.N == 0 {
		return "no case yet"
	}
	return "median " + Span(s.Median) + ", 90% within " + Span(s.P90) + " (" + Count(s.N, "case", "cases") + ")"
}

// Span says a duration to a minute, or to a second under one.
func Span(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %02dmin", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%d days %dh", int(d.Hours())/24, int(d.Hours())%24)
	}
}

// tallies writes ts, at most maxTallies of them; users' ids (who are
// hostile text) go through User.
func tallies(t *Text, ts []Tally, users bool) {
	if len(ts) == 0 {
		t.Raw("none")
		return
	}
	for i, c := range ts {
		if i == maxTallies {
			t.Raw(fmt.Sprintf(", and %d more", len(ts)-i))
			break
		}
		if i > 0 {
			t.Raw(", ")
		}
		if users {
			t.User(c.Name)
		} else {
			t.Code(c.Name)
		}
		t.Raw(" " + fmt.Sprint(c.N))
	}
}

// Image is an image Gavel uploaded, to post as m.image: URL in a plain
// room, File (the attachment's key and URL) in an encrypted one, and
// Info without a thumbnail.
type Image struct {
	// Body is what a client shows for the image without it: Gavel's own
	// words.
	Body string
	URL  id.ContentURIString
	File *event.EncryptedFileInfo
	Info event.FileInfo
}

// ImageReplyIn is img as a reply to the event to, in the thread rooted
// at root when root is set.
// With to empty it is a message of its own.
func ImageReplyIn(img Image, to, root id.EventID) json.RawMessage {
	var rel *event.RelatesTo
	if to != "" {
		rel = (&event.RelatesTo{}).SetReplyTo(to)
	}
	if rel != nil && root != "" {
		rel.Type, rel.EventID = event.RelThread, root
	}
	info := img.Info
	return marshal(&event.MessageEventContent{MsgType: event.MsgImage, Body: img.Body, URL: img.URL, File: img.File, Info: &info,
		RelatesTo: rel, Mentions: &event.Mentions{}}, nil)
}
