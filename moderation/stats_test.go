package moderation

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/store"
)

// TestChartEncrypted: in an encrypted room the chart is uploaded as an
// encrypted attachment: the homeserver gets bytes that are no PNG, and
// the key and hash in the message decrypt them to the PNG its info
// describes.
func TestChartEncrypted(t *testing.T) {
	var uploaded []byte
	var mime string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		uploaded, _ = io.ReadAll(r.Body)
		mime = r.Header.Get("Content-Type")
		w.Write([]byte(`{"content_uri": "mxc://example.org/chart"}`))
	}))
	defer srv.Close()
	m := newModerator(t, srv)
	m.Encrypted = func(room id.RoomID) bool { return room == "!secret:example.org" }
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	s := notice.Stats{Since: now.Add(-24 * time.Hour), Until: now, Days: []notice.StatsDay{{Day: now.Add(-9 * time.Hour)}}}

	img, err := m.UploadChart(context.Background(), "!secret:example.org", s)
	require.NoError(t, err)
	require.NotNil(t, img.File)
	assert.Empty(t, img.URL)
	assert.Equal(t, id.ContentURIString("mxc://example.org/chart"), img.File.URL)
	assert.Equal(t, "application/octet-stream", mime)
	_, err = png.Decode(bytes.NewReader(uploaded))
	assert.Error(t, err, "the homeserver sees no PNG")
	// As a client gets it: from the message's JSON.
	data, err := json.Marshal(img.File)
	require.NoError(t, err)
	var file event.EncryptedFileInfo
	require.NoError(t, json.Unmarshal(data, &file))
	require.NoError(t, file.DecryptInPlace(uploaded))
	decoded, err := png.Decode(bytes.NewReader(uploaded))
	require.NoError(t, err)
	assert.Equal(t, img.Info.Width, decoded.Bounds().Dx())
	assert.Equal(t, img.Info.Size, len(uploaded))

	img, err = m.UploadChart(context.Background(), "!plain:example.org", s)
	require.NoError(t, err)
	assert.Nil(t, img.File)
	assert.Equal(t, "image/png", mime)
	_, err = png.Decode(bytes.NewReader(uploaded))
	assert.NoError(t, err)
}

// TestPostWeeklyOnce: the weekly picture is queued once per week, its
// chart uploaded once: called again for the same Monday (a restart)
// nothing happens; the next Monday it is queued again.
func TestPostWeeklyOnce(t *testing.T) {
	uploads := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		uploads++
		w.Write([]byte(`{"content_uri": "mxc://example.org/chart"}`))
	}))
	defer srv.Close()
	m := newModerator(t, srv)
	m.ManagementRoom = "!mods:example.org"
	ctx := context.Background()
	monday := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	for range 2 {
		require.NoError(t, m.PostWeekly(ctx, monday))
	}
	assert.Equal(t, 1, uploads)
	text, err := m.Store.Outbox.Get(ctx, store.WeeklyStatsKey("2026-W50", false))
	require.NoError(t, err)
	require.NotNil(t, text)
	assert.Contains(t, string(text.Content), "Weekly picture, 2026-W50.")
	assert.Equal(t, id.RoomID("!mods:example.org"), text.RoomID)
	chart, err := m.Store.Outbox.Get(ctx, store.WeeklyStatsKey("2026-W50", true))
	require.NoError(t, err)
	require.NotNil(t, chart)
	var c event.MessageEventContent
	require.NoError(t, json.Unmarshal(chart.Content, &c))
	assert.Equal(t, event.MsgImage, c.MsgType)
	assert.Nil(t, c.RelatesTo)
	assert.Equal(t, 800, c.Info.Width)

	require.NoError(t, m.PostWeekly(ctx, monday.AddDate(0, 0, 7)))
	assert.Equal(t, 2, uploads)
	next, err := m.Store.Outbox.Get(ctx, store.WeeklyStatsKey("2026-W51", false))
	require.NoError(t, err)
	assert.NotNil(t, next)
}
