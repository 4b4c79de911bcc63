package outbox

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"

	"github.com/gavel-bot/gavel/store"
)

var bg = context.Background()

func TestSenderGivesUpOnRefusedMessages(t *testing.T) {
	var sent []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		sent = append(sent, r.URL.Path)
		if strings.HasSuffix(r.URL.Path, "-failed") {
			_, _ = w.Write([]byte(`{"event_id": "$note"}`))
			return
		}
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		_, _ = w.Write([]byte(`{"errcode": "M_TOO_LARGE", "error": "event too large"}`))
	}))
	defer srv.Close()
	st, err := store.Open(bg, filepath.Join(t.TempDir(), "gavel.db"), zerolog.Nop())
	require.NoError(t, err)
	defer st.Close()
	cli, err := mautrix.NewClient(srv.URL, "@gavel:example.org", "x")
	require.NoError(t, err)
	cli.DefaultHTTPRetries = 0
	s := New(Config{Client: cli, Store: st, Room: "!mods:example.org", Prefix: "!", Log: zerolog.Nop()})

	big := store.Message{Key: "gavel-report-12-34", Priority: store.PriorityNotice, RoomID: "!mods:example.org", Content: json.RawMessage(`{"body": "huge"}`),
		Report: store.ReportKey{ID: 12, ReceivedTS: 34}} // a card carries its report
	require.NoError(t, st.Outbox.Enqueue(bg, big))
	require.NoError(t, s.sendOne(bg, big))

	m, err := st.Outbox.Get(bg, big.Key)
	require.NoError(t, err)
	assert.Equal(t, "M_TOO_LARGE", m.Error, "given up, not retried for ever")
	unsent, err := st.Outbox.Unsent(bg, 10)
	require.NoError(t, err)
	require.Len(t, unsent, 1)
	assert.Equal(t, store.OutboxKey("gavel-report-12-34-failed"), unsent[0].Key)
	assert.Contains(t, string(unsent[0].Content), "Gavel could not post one of its messages: the homeserver refused it (M_TOO_LARGE). It was the notice of report 12; !report 12 shows the report.")

	require.NoError(t, s.sendOne(bg, unsent[0]))
	unsent, err = st.Outbox.Unsent(bg, 10)
	require.NoError(t, err)
	assert.Empty(t, unsent)
	assert.Len(t, sent, 2, "one try each")
}

// An edit carries the new content in m.new_content without the reply
// relation, a "* " fallback, no mentions, and Gavel's fields in both.
func TestAsEdit(t *testing.T) {
	var content map[string]any
	require.NoError(t, json.Unmarshal([]byte(`{"msgtype":"m.notice","body":"Resolved","format":"org.matrix.custom.html",
		"formatted_body":"<b>Resolved</b>","m.mentions":{},"m.relates_to":{"m.in_reply_to":{"event_id":"$cmd"}},
		"gavel.case":{"state":"resolved"}}`), &content))
	edit := asEdit(content, "$card")
	data, err := json.Marshal(edit)
	require.NoError(t, err)
	assert.JSONEq(t, `{"msgtype":"m.notice","body":"* Resolved","format":"org.matrix.custom.html","formatted_body":"* <b>Resolved</b>",
		"m.mentions":{},"m.relates_to":{"rel_type":"m.replace","event_id":"$card"},"gavel.case":{"state":"resolved"},
		"m.new_content":{"msgtype":"m.notice","body":"Resolved","format":"org.matrix.custom.html","formatted_body":"<b>Resolved</b>",
			"m.mentions":{},"gavel.case":{"state":"resolved"}}}`, string(data))
}

// An edit whose original was never posted is dropped, not sent.
func TestRelatesToAMessageNeverPosted(t *testing.T) {
	st, err := store.Open(bg, filepath.Join(t.TempDir(), "gavel.db"), zerolog.Nop())
	require.NoError(t, err)
	defer st.Close()
	require.NoError(t, st.Outbox.Enqueue(bg, store.Message{Key: "orig", RoomID: "!r:x", Content: json.RawMessage(`{}`)}))
	require.NoError(t, st.Outbox.MarkFailed(bg, "orig", "M_TOO_LARGE"))
	require.NoError(t, st.Outbox.Enqueue(bg, store.Message{Key: "edit", RoomID: "!r:x", Content: json.RawMessage(`{"body":"x"}`), RelatesTo: "orig"}))
	s := New(Config{Store: st, Log: zerolog.Nop()})
	msgs, err := st.Outbox.Unsent(bg, 10)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	assert.Equal(t, store.OutboxKey("orig"), msgs[0].RelatesTo)
	require.NoError(t, s.sendOne(bg, msgs[0]))
	m, err := st.Outbox.Get(bg, "edit")
	require.NoError(t, err)
	assert.Equal(t, "the message it relates to was never posted", m.Error)
}
