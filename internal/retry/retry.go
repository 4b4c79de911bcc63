// Package retry holds Gavel's one answer to "should this be tried again?":
// a classification of errors from the homeserver, growing waits between
// tries, and the wait a rate limit asks for. It uses only the standard
// library, zerolog and mautrix (for mautrix.HTTPError, which the admin
// API's errors unwrap to).
//
// Of Gavel's packages it may import: none.
package retry

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
)

// Class is what an error says about trying again.
type Class int

const (
	// Permanent: the same request gets the same answer (a 4xx, an answer
	// that cannot be read, an error that is not an HTTP answer).
	Permanent Class = iota
	// Transient: no answer at all, or a 5xx from the homeserver or a proxy
	// in front of it. Waiting helps.
	Transient
	// RateLimited: a 429. Waiting as long as it asks (RateLimitWait) helps.
	RateLimited
	// UnknownOutcome: the request went out and no answer came in time. A
	// read may be tried again; a change may have happened or may still.
	// (Reported only where no HTTP status came back: a timeout while
	// reading a 2xx answer is Permanent, like any unreadable answer.)
	UnknownOutcome
	// Auth: the token was rejected (401) or lacks the rights (403). Waiting
	// helps only if an admin fixes it.
	Auth
	// Canceled: Gavel itself is stopping.
	Canceled
)

// Classify sorts an error from a homeserver request.
func Classify(err error) Class {
	if err == nil {
		return Permanent
	}
	var httpErr mautrix.HTTPError
	if errors.As(err, &httpErr) && httpErr.Response != nil {
		switch status := httpErr.Response.StatusCode; {
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			return Auth
		case status == http.StatusTooManyRequests:
			return RateLimited
		case status >= 500:
			return Transient
		}
		return Permanent
	}
	switch {
	case errors.Is(err, context.Canceled):
		return Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return UnknownOutcome
	case errors.As(err, &httpErr):
		return Transient // no answer
	}
	return Permanent
}

// unreachable reports whether the homeserver could not be reached or
// failed: no answer (in time), or a 5xx. Worth waiting out at start-up;
// a rate limit or a rejected token is not.
func unreachable(err error) bool {
	c := Classify(err)
	return c == Transient || c == UnknownOutcome
}

// Status returns the HTTP status of a failed request, or 0 when it got no
// answer or is not an HTTP error.
func Status(err error) int {
	var httpErr mautrix.HTTPError
	if errors.As(err, &httpErr) && httpErr.Response != nil {
		return httpErr.Response.StatusCode
	}
	return 0
}

// ErrCode returns the Matrix errcode of a failed request, else "HTTP
// <status>", else "no answer"; for an error that is not an HTTP error, its
// text.
func ErrCode(err error) string {
	var httpErr mautrix.HTTPError
	switch {
	case !errors.As(err, &httpErr):
		return err.Error()
	case httpErr.RespError != nil && httpErr.RespError.ErrCode != "":
		return httpErr.RespError.ErrCode
	case httpErr.Response != nil:
		return "HTTP " + strconv.Itoa(httpErr.Response.StatusCode)
	default:
		return "no answer"
	}
}

// Backoff hands out growing waits: 1s, 2s, 4s ... up to Max (default 15
// seconds, so that Gavel is back soon after an outage ends), with a little
// jitter so that restarts do not synchronise.
type Backoff struct {
	n   int
	Max time.Duration
}

// Next returns the next wait.
func (b *Backoff) Next() time.Duration {
	limit := b.Max
	if limit == 0 {
		limit = 15 * time.Second
	}
	d := time.Second << min(b.n, 10)
	b.n++
	d = min(d, limit)
	return d - time.Duration(rand.Int64N(int64(d)/5+1))
}

// Reset starts again from the shortest wait.
func (b *Backoff) Reset() { b.n = 0 }

// Sleep waits for d or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// UntilReachable runs fn until it gets an answer that is not unreachable,
// waiting longer between tries and logging each wait. It returns fn's last
// error, or the context's.
func UntilReachable(ctx context.Context, log zerolog.Logger, what string, fn func() error) error {
	var bo Backoff
	for {
		err := fn()
		if err == nil || !unreachable(err) || ctx.Err() != nil {
			return err
		}
		wait := bo.Next()
		log.Warn().Err(err).Dur("retry_in", wait).Msgf("Homeserver unavailable while %s; retrying", what)
		if err := Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// MaxRateLimitWait caps the wait a rate limit asks for, so that a
// misconfigured limit cannot silence Gavel for hours.
const MaxRateLimitWait = 5 * time.Minute

// RateLimitWait returns how long a 429 answer asks to wait: retry_after_ms
// from the body, else the Retry-After header, else fallback; at most
// MaxRateLimitWait.
func RateLimitWait(err error, fallback time.Duration) (time.Duration, bool) {
	var httpErr mautrix.HTTPError
	if !errors.As(err, &httpErr) || !httpErr.IsStatus(http.StatusTooManyRequests) {
		return 0, false
	}
	if httpErr.RespError != nil {
		if ms, ok := httpErr.RespError.ExtraData["retry_after_ms"].(float64); ok && ms > 0 {
			// Compared as numbers first: a huge value overflows a Duration.
			return time.Duration(min(ms, float64(MaxRateLimitWait.Milliseconds()))) * time.Millisecond, true
		}
	}
	if s, err := strconv.ParseFloat(httpErr.Response.Header.Get("Retry-After"), 64); err == nil && s > 0 {
		return time.Duration(min(s, MaxRateLimitWait.Seconds()) * float64(time.Second)), true
	}
	return fallback, true
}
