package feed

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/store"
)

// digestFeed is a feed with no homeserver, for queueing digests by hand.
func digestFeed(t *testing.T) *Feed {
	st, err := store.Open(bg, filepath.Join(t.TempDir(), "gavel.db"), zerolog.Nop())
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return New(Config{Store: st, Room: "!m:x", Prefix: "!", Reports: config.Defaults().Reports, Log: zerolog.Nop(), Notify: func() {}})
}

func fakeReports(from, n int, reason string) []adminapi.EventReport {
	out := make([]adminapi.EventReport, n)
	for i := range out {
		r := &out[i]
		r.ID, r.ReceivedTS = int64(from+i), int64(1700000000000+from+i)
		r.Sender, r.RoomID = id.UserID(fmt.Sprintf("@spammer%d:x", i)), "!room:x"
		r.Reason = reason
	}
	return out
}

// digests returns the reports each queued digest lists, in queue order.
func digests(t *testing.T, f *Feed) (lists [][]int64, texts []string) {
	unsent, err := f.Store.Outbox.Unsent(bg, 10000)
	require.NoError(t, err)
	for _, m := range unsent {
		var c struct {
			Body    string  `json:"body"`
			Reports []int64 `json:"gavel.reports"`
		}
		require.NoError(t, json.Unmarshal(m.Content, &c))
		assert.True(t, notice.DigestFits(m.Content), "%d bytes", len(m.Content))
		lists, texts = append(lists, c.Reports), append(texts, c.Body)
	}
	return lists, texts
}

// A flood is posted 50 reports a digest; past 1,000 reports in one wave
// (a backlog), 150 a digest.
func TestBacklogDigestsAreLonger(t *testing.T) {
	assert.Equal(t, notice.DigestSize, (&wave{total: 900}).size())
	assert.Equal(t, notice.BacklogDigestSize, (&wave{total: 1001}).size())
	assert.Equal(t, notice.BacklogDigestSize, (&wave{covered: 1000}).size(), "a scan still counting")

	f := digestFeed(t)
	k := f.eventReports()
	w := &wave{total: 1200, parts: 8}
	require.NoError(t, k.queueDigest(bg, w, fakeReports(1, notice.BacklogDigestSize, "spam")))
	lists, texts := digests(t, f)
	require.Len(t, lists, 1)
	assert.Len(t, lists[0], notice.BacklogDigestSize)
	assert.Contains(t, texts[0], "1200 new reports, digest 1 of 8")
}

// A long digest whose cells hold the worst text does not fit one event:
// it is split, every report is still covered once, and the count of
// digests in the wave grows to match.
func TestADigestTooLargeIsSplit(t *testing.T) {
	f := digestFeed(t)
	k := f.eventReports()
	w := &wave{total: 1200, parts: 8}
	worst := strings.Repeat(`"𝕏<&`, 40)
	require.NoError(t, k.queueDigest(bg, w, fakeReports(1, notice.BacklogDigestSize, worst)))
	lists, texts := digests(t, f)
	require.Greater(t, len(lists), 1, "split")
	var all []int64
	for _, l := range lists {
		all = append(all, l...)
	}
	assert.Len(t, all, notice.BacklogDigestSize)
	for i, id := range all {
		assert.Equal(t, int64(i+1), id, "in order, each once")
	}
	assert.Equal(t, 7+len(lists), w.parts)
	assert.Contains(t, texts[len(texts)-1], fmt.Sprintf("digest %d of %d", len(lists), w.parts))
}
