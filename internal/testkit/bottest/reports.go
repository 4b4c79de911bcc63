package bottest

import (
	"net/http"
	"sync"
	"time"

	"github.com/gavel-bot/gavel/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/event"
)

// Reports filed in bulk, and what Gavel posted about them.

// ReportMany files n reports about n spam messages, a few at a time.
func (e *Env) ReportMany(n int) {
	e.T.Helper()
	var wg sync.WaitGroup
	work := make(chan int)
	for range 4 {
		wg.Go(func() {
			for i := range work {
				url := e.Reporter.BuildClientURL("v3", "rooms", e.Public, "report", e.Spam("flood "+Itoa(int64(i))))
				_, err := e.Reporter.MakeRequest(bg, http.MethodPost, url, map[string]any{"reason": "flood " + Itoa(int64(i))}, nil)
				assert.NoError(e.T, err)
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
}

// Coverage counts, for every report, the notices and digests that cover
// it: notices about this environment's public room, and every digest (the
// digest tests run on a homeserver of their own).
func (e *Env) Coverage() (map[store.ReportKey]int, []*event.Event) {
	counts := map[store.ReportKey]int{}
	var msgs []*event.Event
	for _, evt := range e.BotMessages() {
		if isEdit(evt) {
			continue // an edit of a card shows the same report again
		}
		if _, ok := evt.Content.Raw["gavel.report"]; ok {
			if f := Field(e.T, evt); f.RoomID == e.Public {
				counts[store.ReportKey{ID: f.ReportID, ReceivedTS: f.ReceivedTS}]++
				msgs = append(msgs, evt)
			}
		}
		if keys, ok := evt.Content.Raw["gavel.report_keys"].([]any); ok {
			for _, k := range keys {
				pair := k.([]any)
				counts[store.ReportKey{ID: int64(pair[0].(float64)), ReceivedTS: int64(pair[1].(float64))}]++
			}
			msgs = append(msgs, evt)
		}
	}
	return counts, msgs
}

// AssertOnePerReport checks that every report got exactly one notice or
// digest line, waiting a moment first for a duplicate to show up.
func (e *Env) AssertOnePerReport(want int) {
	e.T.Helper()
	require.Eventuallyf(e.T, func() bool {
		counts, _ := e.Coverage()
		return len(counts) >= want
	}, time.Minute, 100*time.Millisecond, "waiting for %d reports to be posted", want)
	time.Sleep(1500 * time.Millisecond)
	counts, msgs := e.Coverage()
	assert.Len(e.T, counts, want, "messages: %s", Describe(msgs))
	for key, n := range counts {
		assert.Equal(e.T, 1, n, "report %v is covered %d times: %s", key, n, Describe(msgs))
	}
}

// Digests returns Gavel's digest messages, oldest first.
func (e *Env) Digests() []*event.Event {
	var out []*event.Event
	for _, evt := range e.BotMessages() {
		if _, ok := evt.Content.Raw["gavel.reports"]; ok {
			out = append(out, evt)
		}
	}
	return out
}

// CardsOf returns the cards of reports of kind in the room (not their
// edits), by report id.
func (e *Env) CardsOf(kind string) map[int64][]*event.Event {
	out := map[int64][]*event.Event{}
	for _, evt := range e.BotMessages() {
		if _, ok := evt.Content.Raw["gavel.report"]; ok && !isEdit(evt) {
			if f := Field(e.T, evt); f.Kind == kind {
				out[f.ReportID] = append(out[f.ReportID], evt)
			}
		}
	}
	return out
}

// UserCards returns the cards of user reports, by report id.
func (e *Env) UserCards() map[int64][]*event.Event { return e.CardsOf("user") }

// WaitUserCards waits until n user reports have a card.
func (e *Env) WaitUserCards(n int) map[int64][]*event.Event {
	e.T.Helper()
	var cards map[int64][]*event.Event
	require.Eventuallyf(e.T, func() bool {
		cards = e.UserCards()
		return len(cards) >= n
	}, 30*time.Second, 100*time.Millisecond, "waiting for %d user report cards", n)
	return cards
}

// Hostile is reported content that tries HTML, links, mentions and script.
const Hostile = `<img src="https://evil.example/x.png"> <a href="https://phish.example">click</a> @room ` +
	`<a href="https://matrix.to/#/@mod:example.org">Mod</a> <script>alert(1)</script>`
