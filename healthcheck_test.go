package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/testkit/synapsetest"
)

// TestHealthcheck: gavel -healthcheck exits 0 while the Gavel of the same
// configuration runs and serves /healthz, and 1 with the reason when
// nothing answers there or metrics.listen is not set.
func TestHealthcheck(t *testing.T) {
	srv := synapsetest.Shared(t)
	bot := srv.User(t, "gavel", true)
	mod := srv.User(t, "mod", false)
	room, err := mod.CreateRoom(bg(), &mautrix.ReqCreateRoom{Invite: []id.UserID{bot.UserID}})
	require.NoError(t, err)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := lis.Addr().(*net.TCPAddr).Port
	require.NoError(t, lis.Close())

	dir := t.TempDir()
	write := func(name, metrics string) string {
		path := filepath.Join(dir, name)
		config := fmt.Sprintf(`{"matrix": {"homeserver": %q, "user_id": %q, "management_room": %q},
			"database": {"uri": %q}, "logging": {"format": "json"}%s}`, srv.URL, bot.UserID, room.RoomID, filepath.Join(dir, "gavel.db"), metrics)
		require.NoError(t, os.WriteFile(path, []byte(config), 0o600))
		return path
	}
	// Listening on every interface: the check asks on loopback.
	path := write("config.json", fmt.Sprintf(`, "metrics": {"listen": "0.0.0.0:%d"}`, port))
	t.Setenv("GAVEL_ACCESS_TOKEN", bot.AccessToken)

	var errOut syncBuffer
	assert.Equal(t, 1, run([]string{"-healthcheck", "-config", path}, &syncBuffer{}, &errOut), "nothing runs yet")
	assert.Contains(t, errOut.String(), fmt.Sprintf("gavel: unhealthy: http://127.0.0.1:%d/healthz did not answer", port))

	done := make(chan int, 1)
	var log syncBuffer
	go func() { done <- run([]string{"-config", path}, &syncBuffer{}, &log) }()
	require.Eventually(t, func() bool {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", port))
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	}, 30*time.Second, 50*time.Millisecond, "log: %s", log.String())
	errOut = syncBuffer{}
	assert.Equal(t, 0, run([]string{"-healthcheck", "-config", path}, &syncBuffer{}, &errOut), errOut.String())
	assert.Empty(t, errOut.String())
	require.Eventually(t, func() bool { return strings.Contains(log.String(), "Gavel started") }, 30*time.Second, 50*time.Millisecond)
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGTERM)) // run stops on it, as on a container's stop
	select {
	case code := <-done:
		require.Equal(t, 0, code, "log: %s", log.String())
	case <-time.After(30 * time.Second):
		t.Fatal("Gavel did not stop after SIGTERM")
	}

	errOut = syncBuffer{}
	assert.Equal(t, 1, run([]string{"-healthcheck", "-config", write("nometrics.json", "")}, &syncBuffer{}, &errOut))
	assert.Contains(t, errOut.String(), "metrics.listen, which is not set")
	assert.NotContains(t, errOut.String(), bot.AccessToken)
	assert.False(t, strings.Contains(errOut.String(), "goroutine"), "no stack trace")
}
