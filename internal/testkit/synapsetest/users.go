package synapsetest

import (
	"context"
	"fmt"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/synapseadmin"
)

// Register creates a user by shared-secret registration and returns a
// client logged in as that user.
func (s *Server) Register(ctx context.Context, localpart, password string, admin bool) (*mautrix.Client, error) {
	cli, err := mautrix.NewClient(s.URL, "", "")
	if err != nil {
		return nil, err
	}
	resp, err := (&synapseadmin.Client{Client: cli}).SharedSecretRegister(ctx, s.SharedSecret, synapseadmin.ReqSharedSecretRegister{
		Username: localpart,
		Password: password,
		Admin:    admin,
	})
	if err != nil {
		return nil, fmt.Errorf("registering @%s:%s: %w", localpart, s.ServerName, err)
	}
	cli.UserID, cli.AccessToken, cli.DeviceID = resp.UserID, resp.AccessToken, resp.DeviceID
	return cli, nil
}

// Client returns a new client for this server with the given access token,
// not yet tied to a user id.
func (s *Server) Client(accessToken string) *mautrix.Client {
	cli, err := mautrix.NewClient(s.URL, "", accessToken)
	if err != nil {
		panic(err) // s.URL is always a valid URL
	}
	return cli
}
