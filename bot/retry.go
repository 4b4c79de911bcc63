package bot

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"maunium.net/go/mautrix"
)

// backoff hands out growing waits: 1s, 2s, 4s ... up to max (default 15
// seconds, so that Gavel is back soon after an outage ends), with a little
// jitter so that restarts do not synchronise.
type backoff struct {
	n   int
	max time.Duration
}

func (b *backoff) next() time.Duration {
	limit := b.max
	if limit == 0 {
		limit = 15 * time.Second
	}
	d := time.Second << min(b.n, 10)
	b.n++
	d = min(d, limit)
	return d - time.Duration(rand.Int64N(int64(d)/5+1))
}

func (b *backoff) reset() { b.n = 0 }

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func httpError(err error) (mautrix.HTTPError, bool) {
	var httpErr mautrix.HTTPError
	ok := errors.As(err, &httpErr)
	return httpErr, ok
}

// isStatus reports whether err is an HTTP answer with the given status.
func isStatus(err error, status int) bool {
	httpErr, ok := httpError(err)
	return ok && httpErr.IsStatus(status)
}

// isTransient reports whether err is worth waiting out: no answer at all,
// or a 5xx from the homeserver (or a proxy in front of it).
func isTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	httpErr, ok := httpError(err)
	if !ok {
		return false
	}
	return httpErr.Response == nil || httpErr.Response.StatusCode >= 500
}

// errcode returns the Matrix errcode of an HTTP error, or its status.
func errcode(err error) string {
	httpErr, ok := httpError(err)
	switch {
	case !ok:
		return err.Error()
	case httpErr.RespError != nil && httpErr.RespError.ErrCode != "":
		return httpErr.RespError.ErrCode
	case httpErr.Response != nil:
		return "HTTP " + strconv.Itoa(httpErr.Response.StatusCode)
	default:
		return "no answer"
	}
}

// rateLimitWait returns how long a 429 answer asks to wait: retry_after_ms
// from the body, else the Retry-After header, else fallback; at most
// maxRateLimitWait, so that a misconfigured limit cannot silence Gavel for
// hours.
func rateLimitWait(err error, fallback time.Duration) (time.Duration, bool) {
	httpErr, ok := httpError(err)
	if !ok || !httpErr.IsStatus(http.StatusTooManyRequests) {
		return 0, false
	}
	if httpErr.RespError != nil {
		if ms, ok := httpErr.RespError.ExtraData["retry_after_ms"].(float64); ok && ms > 0 {
			// Compared as numbers first: a huge value overflows a Duration.
			return time.Duration(min(ms, float64(maxRateLimitWait.Milliseconds()))) * time.Millisecond, true
		}
	}
	if s, err := strconv.ParseFloat(httpErr.Response.Header.Get("Retry-After"), 64); err == nil && s > 0 {
		return time.Duration(min(s, maxRateLimitWait.Seconds()) * float64(time.Second)), true
	}
	return fallback, true
}

const maxRateLimitWait = 5 * time.Minute
