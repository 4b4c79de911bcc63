package adminapi

import (
	"context"

	"maunium.net/go/mautrix/id"
)

// ServerVersion returns Synapse's version, such as "1.160.0". It needs no
// admin rights.
func (c *Client) ServerVersion(ctx context.Context) (string, error) {
	var resp struct {
		ServerVersion string `json:"server_version"`
	}
	if err := c.get(ctx, c.admin("v1/server_version", nil), &resp); err != nil {
		return "", err
	}
	return resp.ServerVersion, nil
}

// IsServerAdmin asks Synapse whether the client's access token belongs to a
// server admin; it is meant for start-up checks. It returns the token's
// user id along with the answer. A token that is valid but not an admin's
// returns false and no error; a rejected token returns an error for which
// IsUnauthorized is true.
func (c *Client) IsServerAdmin(ctx context.Context) (id.UserID, bool, error) {
	who, err := c.Matrix().Whoami(ctx)
	if err != nil {
		return "", false, c.wrapRoute(whoamiRoute, err)
	}
	var resp struct {
		Admin bool `json:"admin"`
	}
	err = c.get(ctx, c.admin("v1/users/{user_id}/admin", nil, who.UserID), &resp)
	if IsForbidden(err) {
		return who.UserID, false, nil
	}
	return who.UserID, resp.Admin, err
}
