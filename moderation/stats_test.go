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
