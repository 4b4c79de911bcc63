package adminapi

import (
	"errors"
	"fmt"
	"net/http"

	"maunium.net/go/mautrix"

	"github.com/gavel-bot/gavel/internal/mxid"
)

// Error is a failed admin API request: Synapse answered with an error status,
// answered something that could not be read, or did not answer at all.
//
// It unwraps to the underlying mautrix.HTTPError, so errors.Is(err,
// mautrix.MNotFound) and errors.Is(err, context.Canceled) keep working.
type Error struct {
	// Method and Path name the request, e.g. "GET" and
	// "/_synapse/admin/v1/event_reports/12". The query string is left out.
	Method string
	Path   string
	// Route is the path the request was built from, with every id as a
	// {placeholder}: "/_synapse/admin/v1/event_reports/{report_id}".
	Route string
	// StatusCode is the HTTP status Synapse answered with, or 0 when the
	// request got no answer (connection refused, timeout, cancelled).
	StatusCode int
	// ErrCode is the Matrix error code, such as M_NOT_FOUND, when Synapse sent one.
	ErrCode string
	// Message is Synapse's own description of the error, when it sent one.
	Message string
	// Err is the underlying error.
	Err error
}

func (e *Error) Error() string {
	req := e.Method + " " + e.Path
	switch {
	case e.StatusCode == 0:
		return fmt.Sprintf("%s: no answer from Synapse: %v", req, e.Err)
	case e.StatusCode >= 200 && e.StatusCode < 300:
		return fmt.Sprintf("%s: could not read Synapse's answer: %v", req, e.Err)
	case e.ErrCode != "" && e.Message != "":
		return fmt.Sprintf("%s: %s (Synapse: %s, HTTP %d)", req, e.Message, e.ErrCode, e.StatusCode)
	case e.ErrCode != "":
		return fmt.Sprintf("%s: Synapse: %s, HTTP %d", req, e.ErrCode, e.StatusCode)
	default:
		return fmt.Sprintf("%s: Synapse answered HTTP %d", req, e.StatusCode)
	}
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// wrapError turns an error from mautrix's request machinery into an *Error.
// Errors that are not HTTP errors (nil included) pass through unchanged.
func wrapError(err error) error {
	var httpErr mautrix.HTTPError
	if err == nil || !errors.As(err, &httpErr) {
		return err
	}
	e := &Error{Err: err}
	if httpErr.Request != nil {
		e.Method = httpErr.Request.Method
		e.Path = httpErr.Request.URL.EscapedPath()
	}
	if httpErr.Response != nil {
		e.StatusCode = httpErr.Response.StatusCode
	}
	if httpErr.RespError != nil {
		e.ErrCode = httpErr.RespError.ErrCode
		e.Message = httpErr.RespError.Err
	}
	return e
}

// StatusCode returns the HTTP status of a failed admin API request, or 0 when
// err is not an *Error or the request got no answer.
func StatusCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// ErrCode returns the Matrix error code of a failed admin API request
// (M_NOT_FOUND, M_FORBIDDEN, ...), or "" when there is none.
func ErrCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.ErrCode
	}
	return ""
}

// IsNotFound reports whether Synapse answered that the thing asked for (a
// report, a media item, a room) does not exist. An unknown endpoint is not
// "not found": see IsUnsupported.
func IsNotFound(err error) bool {
	return StatusCode(err) == http.StatusNotFound && ErrCode(err) != mautrix.MUnrecognized.ErrCode
}

// IsForbidden reports whether Synapse refused the request with 403, which for
// the admin API usually means the access token is not a server admin's.
func IsForbidden(err error) bool {
	return StatusCode(err) == http.StatusForbidden
}

// IsUnauthorized reports whether Synapse rejected the access token itself
// (401: missing, unknown or expired token).
func IsUnauthorized(err error) bool {
	return StatusCode(err) == http.StatusUnauthorized
}

// IsUnsupported reports whether the Synapse server does not have the
// endpoint at all: it answered 404 M_UNRECOGNIZED or 405, or the client
// already returned ErrUnsupported.
func IsUnsupported(err error) bool {
	if errors.Is(err, ErrUnsupported) {
		return true
	}
	status := StatusCode(err)
	return status == http.StatusMethodNotAllowed ||
		(status == http.StatusNotFound && ErrCode(err) == mautrix.MUnrecognized.ErrCode)
}

// ErrUnsupported is returned (wrapped) by calls that the Synapse server is too
// old to have, such as the user reports API before Synapse 1.152.
var ErrUnsupported = errors.New("not supported by this Synapse")

// ErrPagingStuck is returned by the iterators when Synapse hands out a
// next_token that does not move past the current page; following it would
// loop forever.
var ErrPagingStuck = errors.New("paging stuck: next_token from Synapse does not advance")

// InvalidInputError is returned, before any request is made, when an id
// passed to the client is malformed. It is mxid's error type, so ids
// refused by mxid's validators and by the client are the same error.
type InvalidInputError = mxid.InvalidInputError

// IsInvalidInput reports whether err is (or wraps) an *InvalidInputError.
func IsInvalidInput(err error) bool {
	var e *InvalidInputError
	return errors.As(err, &e)
}

// IsTooLarge reports whether Synapse's answer was larger than the client's
// ResponseSizeLimit, so it was not read.
func IsTooLarge(err error) bool {
	return errors.Is(err, mautrix.ErrBodyReadReachedLimit) || errors.Is(err, mautrix.ErrResponseTooLong)
}
