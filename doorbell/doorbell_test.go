package doorbell

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDoorbell: a POST to /doorbell rings and gets 204 whatever it
// carries; other methods and paths do not ring; a busy address is refused
// with the key to change; Serve ends with its context.
func TestDoorbell(t *testing.T) {
	var rings atomic.Int32
	d, err := Listen("127.0.0.1:0", func() { rings.Add(1) })
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- d.Serve(ctx) }()
	url := "http://" + d.Addr().String()

	resp, err := http.Post(url+Path, "application/json", strings.NewReader(`{"anything": "ignored", "report": 12}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.EqualValues(t, 1, rings.Load())

	resp, err = http.Get(url + Path)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	resp, err = http.Post(url+"/doorbell/extra", "text/plain", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.EqualValues(t, 1, rings.Load(), "only a POST to /doorbell rings")

	_, err = Listen(d.Addr().String(), func() {})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "reports.doorbell_listen: cannot listen on "+d.Addr().String())

	cancel()
	select {
	case err := <-served:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not end with its context")
	}
}
