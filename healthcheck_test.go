package main

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gavel-bot/gavel/internal/testkit/netutil"
)

// TestHealthcheck: gavel -healthcheck exits 0 while the Gavel of the same
// configuration runs and serves /healthz, and 1 with the reason when
// nothing answers there or metrics.listen is not set.
func TestHealthcheck(t *testing.T) {
	g := newGavelSetup(t)
	bot := g.bot
	port, err := netutil.FreePort()
	require.NoError(t, err)

	// Listening on every interface: the check asks on loopback.
	path := g.config(t, "config.json", fmt.Sprintf(`, "metrics": {"listen": "0.0.0.0:%d"}`, port))

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
	assert.Equal(t, 1, run([]string{"-healthcheck", "-config", g.config(t, "nometrics.json", "")}, &syncBuffer{}, &errOut))
	assert.Contains(t, errOut.String(), "metrics.listen, which is not set")
	assert.NotContains(t, errOut.String(), bot.AccessToken)
	assert.False(t, strings.Contains(errOut.String(), "goroutine"), "no stack trace")
}
