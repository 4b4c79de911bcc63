// Package productiontest runs a representative part of the bot's
// integration tests against a production-shaped Synapse: on PostgreSQL,
// with nginx in front and contrib/nginx's doorbell mirror in place, one
// server for the whole package (bottest.MainProduction). Gavel, the
// moderators and the reporters all talk to Synapse through nginx.
package productiontest

import (
	"context"
	"os"
	"testing"

	"github.com/gavel-bot/gavel/internal/testkit/bottest"
)

func TestMain(m *testing.M) { bottest.MainProduction(m) }

var bg = context.Background()

// env is the kit's environment on the package's shared server.
type env struct{ *bottest.Env }

func newEnv(t *testing.T) *env {
	if os.Getenv("GAVEL_TEST_HOMESERVER") != "" {
		t.Skip("these tests need a production-shaped Synapse of their own; they do not run against GAVEL_TEST_HOMESERVER")
	}
	return &env{bottest.NewEnv(t, nil)}
}
