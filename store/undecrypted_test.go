package store

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// TestUndecryptedSurvivesARestart: an encrypted message waiting for its
// keys comes back after reopening exactly as it was received, so that it
// can still be decrypted; adding it again keeps its first sighting.
func TestUndecryptedSurvivesARestart(t *testing.T) {
	raw := `{"type":"m.room.encrypted","event_id":"$cmd","room_id":"!mods:example.org","sender":"@mod:example.org",
		"origin_server_ts":1700000000000,"content":{"algorithm":"m.megolm.v1.aes-sha2","ciphertext":"AwgAEn…",
		"sender_key":"sk","session_id":"sess1","device_id":"DEV"}}`
	backends(t, func(t *testing.T, open func() *Store) {
		s := open()
		var evt event.Event
		require.NoError(t, json.Unmarshal([]byte(raw), &evt))
		require.NoError(t, evt.Content.ParseRaw(evt.Type))
		require.NoError(t, s.Undecrypted.Add(ctx, &evt))
		first, err := s.Undecrypted.List(ctx)
		require.NoError(t, err)
		require.Len(t, first, 1)
		require.NoError(t, s.Undecrypted.Add(ctx, &evt))

		s.Close()
		s = open()
		got, err := s.Undecrypted.List(ctx)
		require.NoError(t, err)
		require.Len(t, got, 1, "added twice, kept once")
		assert.Equal(t, first[0].FirstSeen, got[0].FirstSeen)
		back := got[0].Event
		assert.Equal(t, id.EventID("$cmd"), back.ID)
		assert.Equal(t, id.RoomID("!mods:example.org"), back.RoomID)
		assert.Equal(t, id.UserID("@mod:example.org"), back.Sender)
		assert.Equal(t, int64(1700000000000), back.Timestamp)
		content, ok := back.Content.Parsed.(*event.EncryptedEventContent)
		require.True(t, ok, "content is parsed")
		assert.Equal(t, id.SessionID("sess1"), content.SessionID)
		assert.Equal(t, "AwgAEn…", string(content.MegolmCiphertext))

		require.NoError(t, s.Undecrypted.Remove(ctx, "$cmd"))
		got, err = s.Undecrypted.List(ctx)
		require.NoError(t, err)
		assert.Empty(t, got)
	})
}
