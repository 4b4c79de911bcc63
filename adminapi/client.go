// Package adminapi is a typed client for the parts of the Synapse admin API
// that a moderator needs: event and user reports, media quarantine and
// protection, rooms and users, and the rooms in a space (its room hierarchy).
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
	"strings"

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

// adminRequest is one admin API request: its URL, and its route, the path with
// every id, token or server name as a {placeholder}, which names it in
// metrics (Error.Endpoint) without any of them.
type adminRequest struct{ route, url string }

// adminPrefix is where the admin API's routes are.
const adminPrefix = "/_synapse/admin/"

// whoamiRoute is the one client-server API route the client requests.
const whoamiRoute = "/_matrix/client/v3/account/whoami"

// admin builds the request to route, under /_synapse/admin/ ("v1/event_reports/{report_id}"),
// with values filling its placeholders in order, each escaped as a path
// segment, and query.
func (c *Client) admin(route string, query url.Values, values ...any) adminRequest {
	segs := strings.Split(route, "/")
	path := make([]any, len(segs))
	for i, seg := range segs {
		if !strings.HasPrefix(seg, "{") {
			path[i] = seg
			continue
		}
		if len(values) == 0 {
			panic("adminapi: no value for " + seg + " in " + route)
		}
		path[i], values = values[0], values[1:]
	}
	if len(values) > 0 {
		panic("adminapi: more values than placeholders in " + route)
	}
	u := c.Synapse.Client.BuildURLWithFullQuery(mautrix.SynapseAdminURLPath(path), func(q url.Values) {
		for k, v := range query {
			q[k] = v
		}
	})
	return adminRequest{route: adminPrefix + route, url: u}
}

// call makes one admin API request and converts failures into *Error.
func (c *Client) call(ctx context.Context, method string, req adminRequest, reqBody, respBody any) error {
	_, err := c.Synapse.Client.MakeRequest(ctx, method, req.url, reqBody, respBody)
	return c.wrapRoute(req.route, err)
}

// wrap is wrapRoute for a request that mautrix's synapseadmin client made
// to route under /_synapse/admin/.
func (c *Client) wrap(route string, err error) error { return c.wrapRoute(adminPrefix+route, err) }

// wrapRoute is wrapError for a request to route, telling OnError of a
// failed request.
func (c *Client) wrapRoute(route string, err error) error {
	err = wrapError(err)
	var e *Error
	if errors.As(err, &e) {
		e.Route = route
		if c.OnError != nil {
			c.OnError(e)
		}
	}
	return err
}

func (c *Client) get(ctx context.Context, req adminRequest, respBody any) error {
	return c.call(ctx, http.MethodGet, req, nil, respBody)
}

func (c *Client) post(ctx context.Context, req adminRequest, respBody any) error {
	return c.call(ctx, http.MethodPost, req, struct{}{}, respBody)
}
