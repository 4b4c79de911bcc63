package roomreports

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConnectLater: New opens nothing, so that the feed and moderation can
// be given the Source before Gavel starts; Connect opens Synapse's
// database and checks its room_reports table, once; after Close it can
// connect again; a database without the table is refused and left closed.
func TestConnectLater(t *testing.T) {
	path := filepath.Join(t.TempDir(), "homeserver.db")
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec(`CREATE TABLE room_reports (id INTEGER PRIMARY KEY, received_ts BIGINT, room_id TEXT, user_id TEXT, reason TEXT);
		INSERT INTO room_reports VALUES (1, 1000, '!r:x', '@u:x', 'spam')`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	s := New(nil, path)
	assert.Nil(t, s.db, "New opens nothing")
	require.NoError(t, s.Connect(bg))
	first := s.db
	n, err := s.count(bg)
	require.NoError(t, err)
	assert.EqualValues(t, 1, n)
	require.NoError(t, s.Connect(bg))
	assert.Same(t, first, s.db, "connected once")

	require.NoError(t, s.Close())
	assert.Nil(t, s.db)
	require.NoError(t, s.Connect(bg), "connects again after Close")
	n, err = s.count(bg)
	require.NoError(t, err)
	assert.EqualValues(t, 1, n)
	require.NoError(t, s.Close())

	none := New(nil, filepath.Join(t.TempDir(), "not-synapse.db"))
	err = none.Connect(bg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "room_reports")
	assert.Nil(t, none.db, "left closed")
}
