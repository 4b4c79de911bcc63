// Package productiontest runs a representative part of the bot's
// integration tests against a production-shaped Synapse: on PostgreSQL,
// with nginx in front and contrib/nginx's doorbell mirror in place, one
// server for the whole package (bottest.MainProduction). Gavel, the
// moderators and the reporters all talk to Synapse through nginx.
package productiontest

import (
	"context"
	"testing"

	"github.com/gavel-bot/gavel/internal/testkit/bottest"
)

func TestMain(m *testing.M) { bottest.MainProduction(m) }

var bg = context.Background()

// env is the kit's environment on the package's shared server.
type env struct{ *bottest.Env }

func newEnv(t *testing.T) *env {
	e := &env{bottest.NewEnv(t, nil)}
	if e.Srv.DoorbellAddr == "" {
		t.Fatalf("the shared Synapse (%s) has no nginx in front: these tests need a Synapse this package starts, not GAVEL_TEST_HOMESERVER", e.Srv.Shape())
	}
	return e
}
