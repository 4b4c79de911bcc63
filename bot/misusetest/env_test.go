package misusetest

import (
	"context"
	"testing"

	"github.com/gavel-bot/gavel/internal/testkit/bottest"
	"github.com/gavel-bot/gavel/internal/testkit/synapsetest"
)

func TestMain(m *testing.M) { bottest.Main(m) }

var bg = context.Background()

// env is the kit's environment; this package's helpers are its methods.
type env struct{ *bottest.Env }

func newEnv(t *testing.T, srv *synapsetest.Server) *env { return &env{bottest.NewEnv(t, srv)} }
