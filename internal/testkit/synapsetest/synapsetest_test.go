package synapsetest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { Main(m) }

func TestSharedServerRegistersUsers(t *testing.T) {
	s := Shared(t)
	require.NotEmpty(t, s.Version)
	ctx := context.Background()

	admin := s.User(t, "admin", true)
	assert.Equal(t, s.ServerName, admin.UserID.Homeserver())
	who, err := admin.Whoami(ctx)
	require.NoError(t, err)
	assert.Equal(t, admin.UserID, who.UserID)

	// The same localpart cannot be registered twice; random suffixes keep
	// tests apart.
	other := s.User(t, "admin", false)
	assert.NotEqual(t, admin.UserID, other.UserID)
	_, err = s.Register(ctx, admin.UserID.Localpart(), "pw", false)
	assert.ErrorContains(t, err, "M_USER_IN_USE")
}

func TestNewServerRestartsAndCleansUp(t *testing.T) {
	if os.Getenv("GAVEL_TEST_HOMESERVER") != "" {
		t.Skip("needs a Synapse of its own")
	}
	ctx := context.Background()
	s, err := Start(ctx, Options{ServerName: "restart.test"})
	if err != nil {
		unavailable(t, err)
	}
	defer s.Stop()
	assert.Equal(t, "restart.test", s.ServerName)
	alice := s.User(t, "alice", false)

	require.NoError(t, s.Restart(ctx))
	// The database survived: the old token still works.
	who, err := alice.Whoami(ctx)
	require.NoError(t, err)
	assert.Equal(t, alice.UserID, who.UserID)

	require.NoError(t, s.StopProcess())
	_, err = alice.Whoami(ctx)
	assert.Error(t, err, "Synapse is stopped")

	dir := s.Dir
	require.NoError(t, s.Stop())
	_, err = os.Stat(dir)
	assert.True(t, os.IsNotExist(err), "Stop removes the server directory")
	_, err = os.Stat(filepath.Join(Root(), "tmp"))
	assert.NoError(t, err, "the chroot itself stays")
}
