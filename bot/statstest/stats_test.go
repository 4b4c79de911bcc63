// Package statstest holds the integration tests of the team's picture:
// !stats against a real Synapse, its figures checked against a database
// the test fills, and the chart posted as an image.
package statstest

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/mxid"
	"github.com/gavel-bot/gavel/internal/testkit/bottest"
	"github.com/gavel-bot/gavel/store"
)

func TestMain(m *testing.M) { bottest.Main(m) }

var bg = context.Background()

// fill puts into Gavel's database, before it starts, three reports of
// two days ago resolved by two moderators, with their claims: closed
// cases only, since Gavel closes an open case whose report Synapse does
// not have.
func fill(t *testing.T, uri string, now time.Time) {
	st, err := store.Open(bg, uri, zerolog.Nop())
	require.NoError(t, err)
	defer st.Close()
	for i, c := range []struct {
		by             id.UserID
		claim, resolve time.Duration
	}{
		{"@alice:x", 10 * time.Minute, time.Hour},
		{"@alice:x", 20 * time.Minute, 2 * time.Hour},
		{"@bob:x", time.Hour, 3 * time.Hour},
	} {
		r := store.Report{ReportKey: store.ReportKey{Kind: mxid.KindEvent, ID: int64(1000 + i), ReceivedTS: now.Add(-48*time.Hour - time.Duration(i)*time.Minute).UnixMilli()}, RoomID: "!r:x", EventID: "$e"}
		require.NoError(t, st.Reports.Skip(bg, []store.Report{r}))
		received := time.UnixMilli(r.ReceivedTS)
		a := store.Action{Time: received.Add(c.claim), Sender: c.by, EventID: id.EventID("$claim" + r.String()), Command: "!report claim", OK: true, Name: "report claim", Report: r.Ref()}
		_, err := st.Commands.Finish(bg, a.EventID, store.Finished{Action: &a, Reply: store.Message{Key: store.ReplyKey(a.EventID), RoomID: "!m:x", Content: json.RawMessage(`{}`)}})
		require.NoError(t, err)
		changed, err := st.Cases.Change(bg, &store.Case{Report: r.ReportKey, State: store.CaseResolved, By: c.by, At: received.Add(c.resolve)}, func(int) []store.Message { return nil })
		require.NoError(t, err)
		require.True(t, changed)
	}
}

// TestStats: the figures of a database the test filled and of two real
// reports, one claimed by command, as !stats says them, and over a
// shorter window.
func TestStats(t *testing.T) {
	e := bottest.NewEnv(t, nil)
	fill(t, e.Cfg.Database.URI, time.Now())
	e.Start()
	open, claimed := e.Spam("buy followers"), e.Spam("cheap pills")
	e.Report(open, "spam")
	e.Report(claimed, "spam")
	e.WaitNotices(2)
	claim := e.Command(e.Mod, "!report claim "+bottest.Itoa(e.ReportID(claimed)))
	require.Contains(t, claim.Body, "Claimed by "+string(e.Mod.UserID))

	body := e.Command(e.Mod, "!stats").Body
	for _, want := range []string{
		"Reports received: 5 (5 event)",
		"Cases: 5 (1 open, 1 claimed, 3 resolved)",
		// 4 claims: the real one within seconds, 10 min, 20 min, 1 h.
		"Time to claim: median 10 min, 90% within 1h 00min (4 cases)",
		"Time to resolve: median 2h 00min, 90% within 3h 00min (3 cases)",
		"Oldest open case: report " + bottest.Itoa(e.ReportID(open)) + ",",
		"Actions: `report claim` 4",
		"By moderator: @alice:x 2, ",
	} {
		assert.Contains(t, body, want)
	}
	assert.Contains(t, body, string(e.Mod.UserID)+" 1")
	assert.Contains(t, body, "@bob:x 1")

	day := e.Command(e.Mod, "!stats --since 1d").Body
	assert.Contains(t, day, "Reports received: 2 (2 event)", "the filled reports are two days old")
	assert.Contains(t, day, "Time to resolve: no case yet")
	assert.True(t, strings.Contains(day, "By moderator: "+string(e.Mod.UserID)+" 1"), day)
}

// TestStatsChart: !stats --chart answers with an m.image whose info is
// the PNG's, uploaded through Gavel's account, once.
func TestStatsChart(t *testing.T) {
	e := bottest.NewEnv(t, nil)
	fill(t, e.Cfg.Database.URI, time.Now())
	e.Start()
	cmd := e.Say(e.Mod, "!stats --chart")
	reply := e.WaitReply(cmd)
	c := reply.Content.AsMessage()
	require.Equal(t, event.MsgImage, c.MsgType, c.Body)
	require.NotNil(t, c.Info)
	assert.Equal(t, "image/png", c.Info.MimeType)
	assert.Equal(t, 800, c.Info.Width)
	assert.Equal(t, 640, c.Info.Height)
	assert.Nil(t, c.File, "the management room is not encrypted")
	uri, err := c.URL.Parse()
	require.NoError(t, err)
	data, err := e.Mod.DownloadBytes(bg, uri)
	require.NoError(t, err)
	assert.Len(t, data, c.Info.Size)
	img, err := png.Decode(bytes.NewReader(data))
	require.NoError(t, err)
	assert.Equal(t, image.Rect(0, 0, 800, 640), img.Bounds())
	assert.Contains(t, c.Body, "Chart: reports received per day")
	time.Sleep(time.Second) // a second reply would come within this
	assert.Len(t, e.Replies(cmd), 1)
}
