//go:build goolm

package store

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/sqlstatestore"
)

// checkMautrixStores checks that mautrix's crypto and state stores, which
// v2's encryption put in the same database with versions of their own,
// come through Gavel's upgrade: they upgrade as internal/e2ee.Start has
// them do, and their rows are there.
func checkMautrixStores(t *testing.T, s *Store, v int) {
	t.Helper()
	state := sqlstatestore.NewSQLStateStore(s.DB(), dbutil.NoopLogger, false)
	require.NoError(t, state.Upgrade(ctx))
	cs := crypto.NewSQLCryptoStore(s.DB(), dbutil.NoopLogger, "FIXTUREDEV", "FIXTUREDEV", []byte("fixture-pickle-key"))
	require.NoError(t, cs.DB.Upgrade(ctx))
	account, err := cs.GetAccount(ctx)
	require.NoError(t, err)
	member := state.IsInRoom(ctx, "!mods:fixture.example", "@mod:fixture.example")
	encrypted, err := state.IsEncrypted(ctx, "!mods:fixture.example")
	require.NoError(t, err)
	if v < 2 {
		assert.Nil(t, account)
		assert.False(t, member)
		return
	}
	require.NotNil(t, account, "the Olm account is kept, readable with its pickle key")
	assert.NotEmpty(t, account.SigningKey())
	assert.True(t, member)
	assert.True(t, encrypted)
}
