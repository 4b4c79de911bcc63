package adminapi

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
)

func TestErrorMapping(t *testing.T) {
	for _, tt := range []struct {
		name                                   string
		status                                 int
		body                                   string
		notFound, forbidden, unauth, unsupport bool
		errcode, message                       string
		text                                   string
	}{
		{
			name: "unknown report", status: 404, body: `{"errcode": "M_NOT_FOUND", "error": "Event report not found"}`,
			notFound: true, errcode: "M_NOT_FOUND", message: "Event report not found",
			text: "GET /_synapse/admin/v1/event_reports/12: Event report not found (Synapse: M_NOT_FOUND, HTTP 404)",
		},
		{
			name: "not an admin", status: 403, body: `{"errcode": "M_FORBIDDEN", "error": "You are not a server admin"}`,
			forbidden: true, errcode: "M_FORBIDDEN", message: "You are not a server admin",
			text: "GET /_synapse/admin/v1/event_reports/12: You are not a server admin (Synapse: M_FORBIDDEN, HTTP 403)",
		},
		{
			name: "bad token", status: 401, body: `{"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token passed."}`,
			unauth: true, errcode: "M_UNKNOWN_TOKEN", message: "Invalid access token passed.",
		},
		{
			name: "unknown endpoint", status: 404, body: `{"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"}`,
			unsupport: true, errcode: "M_UNRECOGNIZED", message: "Unrecognized request",
		},
		{
			name: "wrong method", status: 405, body: `{"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"}`,
			unsupport: true, errcode: "M_UNRECOGNIZED", message: "Unrecognized request",
		},
		{
			name: "bad parameter", status: 400, body: `{"errcode": "M_INVALID_PARAM", "error": "The report_id parameter must be a string representing a positive integer."}`,
			errcode: "M_INVALID_PARAM", message: "The report_id parameter must be a string representing a positive integer.",
		},
		{
			name: "proxy error page", status: 500, body: `<html>Internal Server Error</html>`,
			text: "GET /_synapse/admin/v1/event_reports/12: Synapse answered HTTP 500",
		},
		{
			name: "unreadable success", status: 200, body: `not json`,
			text: "GET /_synapse/admin/v1/event_reports/12: could not read Synapse's answer: failed to unmarshal response body: invalid character 'o' in literal null (expecting 'u')",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newFake(t, func(request) (int, string) { return tt.status, tt.body })
			_, err := c.EventReport(ctx, 12)
			require.Error(t, err)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tt.status, e.StatusCode)
			assert.Equal(t, http.MethodGet, e.Method)
			assert.Equal(t, "/_synapse/admin/v1/event_reports/12", e.Path)
			assert.Equal(t, tt.errcode, e.ErrCode)
			assert.Equal(t, tt.message, e.Message)
			assert.Equal(t, tt.notFound, IsNotFound(err), "IsNotFound")
			assert.Equal(t, tt.forbidden, IsForbidden(err), "IsForbidden")
			assert.Equal(t, tt.unauth, IsUnauthorized(err), "IsUnauthorized")
			assert.Equal(t, tt.unsupport, IsUnsupported(err), "IsUnsupported")
			assert.Equal(t, tt.status, StatusCode(err))
			assert.Equal(t, tt.errcode, ErrCode(err))
			if tt.text != "" {
				assert.Equal(t, tt.text, err.Error())
			}
			assert.NotContains(t, err.Error(), "secret-token", "the access token never shows in errors")
			// mautrix's own sentinel errors still match through the chain.
			if tt.errcode == "M_NOT_FOUND" {
				assert.ErrorIs(t, err, mautrix.MNotFound)
			}
		})
	}
}

func TestErrorWithoutAnswer(t *testing.T) {
	c, f := newFake(t, answerOK(`{}`))
	f.srv.Close()
	_, err := c.ServerVersion(ctx)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 0, e.StatusCode)
	assert.Contains(t, err.Error(), "GET /_synapse/admin/v1/server_version: no answer from Synapse")
	assert.Contains(t, err.Error(), "connection refused")
	assert.False(t, IsNotFound(err) || IsForbidden(err) || IsUnsupported(err))
}

func TestErrorKeepsContextCancellation(t *testing.T) {
	c, _ := newFake(t, func(request) (int, string) {
		time.Sleep(300 * time.Millisecond)
		return 200, `{}`
	})
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err := c.ServerVersion(cctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestUserReportsUnsupported(t *testing.T) {
	calls := map[string]func(*Client) error{
		"list":   func(c *Client) error { _, err := c.ListUserReports(ctx, UserReportsQuery{}); return err },
		"get":    func(c *Client) error { _, err := c.UserReport(ctx, 4); return err },
		"delete": func(c *Client) error { return c.DeleteUserReport(ctx, 4) },
		"iterate": func(c *Client) error {
			for _, err := range c.UserReports(ctx, UserReportsQuery{}) {
				return err
			}
			return nil
		},
	}
	for name, call := range calls {
		for _, status := range []int{404, 405} {
			t.Run(name, func(t *testing.T) {
				c, _ := newFake(t, func(request) (int, string) {
					return status, `{"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"}`
				})
				err := call(c)
				assert.ErrorIs(t, err, ErrUnsupported)
				assert.True(t, IsUnsupported(err))
				assert.False(t, IsNotFound(err))
				assert.Contains(t, err.Error(), "needs Synapse 1.152 or newer")
				assert.Equal(t, status, StatusCode(err), "Synapse's answer stays reachable")
			})
		}
	}
	t.Run("unknown report is not unsupported", func(t *testing.T) {
		c, _ := newFake(t, func(request) (int, string) {
			return 404, `{"errcode": "M_NOT_FOUND", "error": "User report not found"}`
		})
		_, err := c.UserReport(ctx, 4)
		assert.True(t, IsNotFound(err))
		assert.False(t, IsUnsupported(err))
		assert.False(t, errors.Is(err, ErrUnsupported))
	})
}
