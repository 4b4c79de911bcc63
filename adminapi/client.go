// Package adminapi is a typed client for the parts of the Synapse admin API
// that a moderator needs: event and user reports, media quarantine and
// protection, rooms and users.
//
// It builds on mautrix's synapseadmin.Client, which escapes every path
// segment and supplies authentication, retries and mautrix.HTTPError. Every
// id is validated before a request is made: a malformed one returns an
// *InvalidInputError and sends nothing. Failed requests return an *Error that
// carries Synapse's HTTP status, errcode and message.
//
// It holds no Gavel policy (what to retry, how to word an error).
//
// Of Gavel's packages it may import: internal/mxid.
package adminapi

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/synapseadmin"
)

// MaxAnswerSize is the largest admin API answer Gavel reads (the client's
// ResponseSizeLimit): a page of reports or one report with its event. A
// larger page is asked for again in smaller pages, down to one report,
// which is then skipped with an alert; a larger event is posted without
// its content.
const MaxAnswerSize = 16 << 20

// Client calls the Synapse admin API with a server admin's access token.
type Client struct {
	// Synapse is the mautrix admin client underneath. Its methods are
	// available for calls this package does not wrap; they do not validate
	// their input.
	Synapse *synapseadmin.Client
	// OnError, when set (WithOnError), is called with every failed
	// request, as the *Error the call returns (Endpoint names its route
	// without ids). It must be quick: it runs on the caller's goroutine.
	OnError func(*Error)
}

// An Option sets up a Client as New or Wrap makes it.
type Option func(*Client)

// WithOnError makes the Client call fn with every failed request
// (Client.OnError).
func WithOnError(fn func(*Error)) Option { return func(c *Client) { c.OnError = fn } }

// New returns a Client for the homeserver at homeserverURL, authenticating
// with accessToken, which must belong to a server admin for most calls.
func New(homeserverURL, accessToken string, opts ...Option) (*Client, error) {
	cli, err := mautrix.NewClient(homeserverURL, "", accessToken)
	if err != nil {
		return nil, err
	}
	return Wrap(cli, opts...), nil
}

// Wrap returns a Client that sends its requests through cli, sharing its
// homeserver, access token, HTTP client, logger and retry settings.
func Wrap(cli *mautrix.Client, opts ...Option) *Client {
	c := &Client{Synapse: &synapseadmin.Client{Client: cli}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Matrix returns the underlying Matrix client.
func (c *Client) Matrix() *mautrix.Client { return c.Synapse.Client }

// adminURL builds /_synapse/admin/<path...>?<query>, escaping each path
// segment.
func (c *Client) adminURL(query url.Values, path ...any) string {
	return c.Synapse.Client.BuildURLWithFullQuery(mautrix.SynapseAdminURLPath(path), func(q url.Values) {
		for k, v := range query {
			q[k] = v
		}
	})
}

// call makes one admin API request and converts failures into *Error.
func (c *Client) call(ctx context.Context, method, reqURL string, reqBody, respBody any) error {
	_, err := c.Synapse.Client.MakeRequest(ctx, method, reqURL, reqBody, respBody)
	return c.wrap(err)
}

// wrap is wrapError, telling OnError of a failed request.
func (c *Client) wrap(err error) error {
	err = wrapError(err)
	var e *Error
	if c.OnError != nil && errors.As(err, &e) {
		c.OnError(e)
	}
	return err
}

func (c *Client) get(ctx context.Context, reqURL string, respBody any) error {
	return c.call(ctx, http.MethodGet, reqURL, nil, respBody)
}

func (c *Client) post(ctx context.Context, reqURL string, respBody any) error {
	return c.call(ctx, http.MethodPost, reqURL, struct{}{}, respBody)
}
