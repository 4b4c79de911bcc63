// Package preflight holds Gavel's checks of its setup: what bot.Start
// checks as it starts (the problems.go messages, shared so that both say
// the same), and `gavel -check`, which runs them all, read-only, and
// prints one line per check (check.go), each desk's room, aliases and
// spaces too, and, once, the power level each command needs (roles.go).
//
// Package bot imports it.
//
// Of Gavel's packages it may import: adminapi, commands, config, desk,
// internal/e2ee, internal/mxid, internal/retry, internal/textcut, policy,
// roomreports, store.
package preflight

import (
	"fmt"
	"net/http"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/internal/retry"
)

// BotToken says what is wrong with matrix.access_token given the answer
// to whoami (or its error), or nil when the token is matrix.user_id's.
func BotToken(cfg *config.Config, who *mautrix.RespWhoami, err error) error {
	switch {
	case err != nil && retry.Status(err) == http.StatusUnauthorized:
		return fmt.Errorf("the homeserver rejected matrix.access_token (%s): log the bot in again and put the new token in the config or GAVEL_ACCESS_TOKEN", retry.ErrCode(err))
	case err != nil:
		return fmt.Errorf("checking matrix.access_token: %v", err)
	case who.UserID != cfg.Matrix.UserID:
		return fmt.Errorf("matrix.access_token belongs to %s, not to matrix.user_id %s: fix one of them", who.UserID, cfg.Matrix.UserID)
	}
	return nil
}

// AdminToken says what is wrong with the admin token given
// adminapi.IsServerAdmin's answer, or nil when it is a server admin's.
func AdminToken(cfg *config.Config, user id.UserID, isAdmin bool, err error) error {
	switch {
	case adminapi.IsUnauthorized(err):
		return fmt.Errorf("the homeserver rejected synapse.admin_access_token (%s): put a valid server admin's token there or in GAVEL_ADMIN_ACCESS_TOKEN", adminapi.ErrCode(err))
	case err != nil:
		return fmt.Errorf("checking the admin token: %v", err)
	case !isAdmin:
		which := "synapse.admin_access_token"
		if cfg.Synapse.AdminAccessToken == "" {
			which = "matrix.access_token (used because synapse.admin_access_token is empty)"
		}
		return fmt.Errorf("%s belongs to %s, who is not a Synapse server admin: make that account an admin, or put a server admin's token in synapse.admin_access_token", which, user)
	}
	return nil
}

// Encryption says what is wrong with the encryption settings for a
// management room that is (or is not) end-to-end encrypted, or nil.
func Encryption(cfg *config.Config, encrypted bool) error {
	if encrypted && cfg.Encryption.PickleKey == "" {
		return fmt.Errorf("matrix.management_room %s is end-to-end encrypted, and encryption.pickle_key is empty: set it (or GAVEL_PICKLE_KEY) to a long random secret, like the output of openssl rand -hex 32, and keep it; Gavel encrypts its keys in the database with it", cfg.Matrix.ManagementRoom)
	}
	return nil
}
