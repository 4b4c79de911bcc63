package store

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/sqlstatestore"
)

// writeExtra adds what v2 had besides: a message waiting for its keys, and
// mautrix's crypto and state stores in the same database, as
// internal/e2ee.Start (cryptohelper) sets them up.
func writeExtra(t *testing.T, s *Store) {
	ctx := context.Background()
	evt := &event.Event{ID: "$waiting", Type: event.EventEncrypted, RoomID: "!mods:fixture.example", Sender: "@mod:fixture.example", Timestamp: 8000,
		Content: event.Content{Parsed: &event.EncryptedEventContent{Algorithm: id.AlgorithmMegolmV1, SessionID: "fixture-session", MegolmCiphertext: []byte("AwgAEnAcipher")}}}
	require.NoError(t, s.AddUndecrypted(ctx, evt))

	state := sqlstatestore.NewSQLStateStore(s.DB(), dbutil.NoopLogger, false)
	require.NoError(t, state.Upgrade(ctx))
	require.NoError(t, state.SetMembership(ctx, "!mods:fixture.example", "@mod:fixture.example", event.MembershipJoin))
	require.NoError(t, state.SetEncryptionEvent(ctx, "!mods:fixture.example", &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}))
	cs := crypto.NewSQLCryptoStore(s.DB(), dbutil.NoopLogger, "FIXTUREDEV", "FIXTUREDEV", []byte("fixture-pickle-key"))
	require.NoError(t, cs.DB.Upgrade(ctx))
	acc := crypto.NewOlmAccount()
	require.NoError(t, cs.PutAccount(ctx, acc))
}
