package adminapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWithOnError: a Client made with WithOnError tells it of a failed
// request, with Synapse's status and errcode; one made without does not
// need it.
func TestWithOnError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, `{"errcode": "M_UNKNOWN", "error": "down"}`)
	}))
	t.Cleanup(srv.Close)
	var failed []*Error
	c, err := New(srv.URL, "secret-token", WithOnError(func(e *Error) { failed = append(failed, e) }))
	require.NoError(t, err)
	_, err = c.ServerVersion(context.Background())
	require.Error(t, err)
	require.Len(t, failed, 1, "OnError once for the failed request")
	assert.Equal(t, http.StatusBadGateway, failed[0].StatusCode)
	assert.Equal(t, "M_UNKNOWN", failed[0].ErrCode)

	plain, err := New(srv.URL, "secret-token")
	require.NoError(t, err)
	_, err = plain.ServerVersion(context.Background())
	require.Error(t, err, "without WithOnError the failure is only returned")
}
