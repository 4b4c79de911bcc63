package retry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"maunium.net/go/mautrix"
)

func TestRateLimitWait(t *testing.T) {
	limited := func(body map[string]any, header string) error {
		h := http.Header{}
		if header != "" {
			h.Set("Retry-After", header)
		}
		return mautrix.HTTPError{
			Response:  &http.Response{StatusCode: 429, Header: h},
			RespError: &mautrix.RespError{ErrCode: "M_LIMIT_EXCEEDED", ExtraData: body, StatusCode: 429},
		}
	}
	wait, ok := RateLimitWait(limited(map[string]any{"retry_after_ms": float64(1500)}, "9"), time.Second)
	assert.True(t, ok)
	assert.Equal(t, 1500*time.Millisecond, wait, "the body's retry_after_ms wins")
	wait, _ = RateLimitWait(limited(map[string]any{"retry_after_ms": float64(1e30)}, ""), time.Second)
	assert.Equal(t, 5*time.Minute, wait, "an absurd wait is capped")
	wait, _ = RateLimitWait(limited(nil, "99999999999"), time.Second)
	assert.Equal(t, 5*time.Minute, wait, "an absurd wait is capped")
	wait, _ = RateLimitWait(limited(nil, "0.5"), time.Second)
	assert.Equal(t, 500*time.Millisecond, wait)
	wait, _ = RateLimitWait(limited(nil, "3"), time.Second)
	assert.Equal(t, 3*time.Second, wait)
	wait, _ = RateLimitWait(limited(nil, ""), 7*time.Second)
	assert.Equal(t, 7*time.Second, wait)
	_, ok = RateLimitWait(errors.New("other"), time.Second)
	assert.False(t, ok)
	_, ok = RateLimitWait(mautrix.HTTPError{Response: &http.Response{StatusCode: 500}}, time.Second)
	assert.False(t, ok)
}

func TestBackoffGrowsAndCaps(t *testing.T) {
	var bo Backoff
	prev := time.Duration(0)
	for i := 0; i < 5; i++ {
		d := bo.Next()
		assert.Greater(t, d, prev)
		prev = d
	}
	for i := 0; i < 20; i++ {
		assert.LessOrEqual(t, bo.Next(), 15*time.Second)
	}
	bo.Reset()
	assert.LessOrEqual(t, bo.Next(), time.Second)
}

func TestTransientErrors(t *testing.T) {
	assert.True(t, unreachable(mautrix.HTTPError{Message: "request error", WrappedError: errors.New("connection refused")}))
	assert.True(t, unreachable(mautrix.HTTPError{Response: &http.Response{StatusCode: 502}}))
	assert.False(t, unreachable(mautrix.HTTPError{Response: &http.Response{StatusCode: 401}}))
	assert.False(t, unreachable(errors.New("plain")))
	assert.False(t, unreachable(nil))
}

func TestClassify(t *testing.T) {
	status := func(code int) error { return mautrix.HTTPError{Response: &http.Response{StatusCode: code}} }
	noAnswer := func(err error) error { return mautrix.HTTPError{Message: "request error", WrappedError: err} }
	for name, c := range map[string]struct {
		err         error
		class       Class
		unreachable bool
	}{
		"no answer":            {noAnswer(errors.New("connection refused")), Transient, true},
		"timeout":              {noAnswer(context.DeadlineExceeded), UnknownOutcome, true},
		"stopping":             {noAnswer(context.Canceled), Canceled, false},
		"502":                  {status(502), Transient, true},
		"429":                  {status(429), RateLimited, false},
		"401":                  {status(401), Auth, false},
		"403":                  {status(403), Auth, false},
		"404":                  {status(404), Permanent, false},
		"2xx read timeout":     {mautrix.HTTPError{Response: &http.Response{StatusCode: 200}, WrappedError: context.DeadlineExceeded}, Permanent, false},
		"not an HTTP error":    {errors.New("plain"), Permanent, false},
		"plain cancellation":   {context.Canceled, Canceled, false},
		"plain deadline":       {context.DeadlineExceeded, UnknownOutcome, true},
		"wrapped 500 upstream": {fmt.Errorf("listing: %w", status(500)), Transient, true},
	} {
		assert.Equal(t, c.class, Classify(c.err), name)
		assert.Equal(t, c.unreachable, unreachable(c.err), name)
	}
}
