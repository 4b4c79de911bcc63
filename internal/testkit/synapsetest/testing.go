package synapsetest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix"
)

var shared struct {
	once sync.Once
	opts Options
	srv  *Server
	err  error
}

// ShareWith sets the options Shared starts the package's server with, as
// Options{Production: true} for a package whose tests all run against a
// production-shaped Synapse. A TestMain calls it before m.Run.
func ShareWith(opts Options) { shared.opts = opts }

// Main runs a package's tests and then stops the package's shared server.
// Packages that call Shared use it as their TestMain:
//
//	func TestMain(m *testing.M) { synapsetest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	StopShared()
	os.Exit(code)
}

// StopShared stops the package's shared server, if it was started. A
// TestMain that needs more than Main does calls it after m.Run.
func StopShared() {
	if shared.srv != nil {
		if err := shared.srv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "synapsetest: stopping Synapse:", err)
		}
	}
}

// Shared returns the package's Synapse, starting it on first use; Main
// stops it after the last test. Tests that share it must not depend on
// being alone on it: they use their own users and rooms.
func Shared(t testing.TB) *Server {
	t.Helper()
	shared.once.Do(func() {
		shared.srv, shared.err = startAndAnnounce(shared.opts)
	})
	if shared.err != nil {
		unavailable(t, shared.err)
	}
	return shared.srv
}

// New starts a Synapse for one test and stops it, removing its directory,
// when the test ends. When the test failed, the end of Synapse's log is
// added to the test output. Use it for tests that restart or stop the
// homeserver, or need it to themselves.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	if os.Getenv("GAVEL_TEST_HOMESERVER") != "" {
		t.Skip("this test needs a Synapse of its own; it does not run against GAVEL_TEST_HOMESERVER")
	}
	s, err := startAndAnnounce(opts)
	if err != nil {
		unavailable(t, err)
	}
	t.Cleanup(func() {
		if t.Failed() && s.Dir != "" {
			t.Logf("last lines of Synapse's log:\n%s", s.LogTail(40))
		}
		if err := s.Stop(); err != nil {
			t.Errorf("stopping Synapse: %v", err)
		}
	})
	return s
}

func startAndAnnounce(opts ...Options) (*Server, error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	start := time.Now()
	s, err := Start(context.Background(), o)
	if err != nil {
		return nil, err
	}
	kind := "started"
	if s.Dir == "" {
		kind = "using external"
	}
	fmt.Printf("synapsetest: %s Synapse %s (%s) at %s (server name %s) in %s\n",
		kind, s.Version, s.Shape(), s.URL, s.ServerName, time.Since(start).Round(10*time.Millisecond))
	return s, nil
}

// unavailable skips the test when no Synapse can be had, or fails it when
// CI is set: in CI an integration test that does not run is a failure.
func unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("integration test needs Synapse and none could be started (CI is set, so this is a failure, not a skip): %v", err)
	}
	t.Skipf("skipping integration test: no Synapse: %v (set CI=1 to make this a failure)", err)
}

// User registers a new user whose localpart is prefix plus a random
// suffix, so that tests sharing a server never collide, and returns a
// logged-in client.
func (s *Server) User(t testing.TB, prefix string, admin bool) *mautrix.Client {
	t.Helper()
	cli, err := s.Register(context.Background(), prefix+"-"+randomString(6), "pw-"+randomString(12), admin)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return cli
}
