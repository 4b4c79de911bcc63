// Package pgtest gives tests a real PostgreSQL database.
//
// It starts one throwaway server per test package from Debian's postgresql
// package (initdb and postgres under /usr/lib/postgresql), on a free
// loopback port, in a temporary directory, and creates a fresh database per
// test. With GAVEL_TEST_POSTGRES set to a URI of an existing server (whose
// user may create databases), it uses that server instead. When neither is
// possible the test is skipped, or fails when CI is set.
//
// Of Gavel's packages it may import: internal/testkit/netutil.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"github.com/gavel-bot/gavel/internal/testkit/netutil"
)

type server struct {
	uri  *url.URL // with no database path
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
	// How to start postgres again (Restart).
	bin  string
	cred *syscall.Credential
	port int
}

var shared struct {
	once sync.Once
	srv  *server
	err  error
}

// URI returns the URI of a new, empty database that is dropped when the
// test ends.
func URI(t testing.TB) string {
	t.Helper()
	shared.once.Do(func() { shared.srv, shared.err = start() })
	if shared.err != nil {
		unavailable(t, shared.err)
	}
	return shared.srv.database(t)
}

func unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("test needs PostgreSQL and none could be started (CI is set, so this is a failure, not a skip): %v", err)
	}
	t.Skipf("skipping: no PostgreSQL: %v (set CI=1 to make this a failure)", err)
}

// Server is a PostgreSQL server of a test's own, which it may restart.
type Server struct{ s *server }

// New starts a server for the test alone, stopped when it ends. With
// GAVEL_TEST_POSTGRES set the test is skipped: it needs a server it may
// restart.
func New(t testing.TB) *Server {
	t.Helper()
	if os.Getenv("GAVEL_TEST_POSTGRES") != "" {
		t.Skip("skipping: needs a PostgreSQL server of its own, and GAVEL_TEST_POSTGRES names a shared one")
	}
	s, err := start()
	if err != nil {
		unavailable(t, err)
	}
	t.Cleanup(func() {
		s.stop()
		_ = os.RemoveAll(s.dir)
	})
	return &Server{s: s}
}

// URI returns the URI of a new, empty database on the server.
func (s *Server) URI(t testing.TB) string { return s.s.database(t) }

// Restart stops the server (fast shutdown: every session ends) and starts
// it again on the same port with the same data.
func (s *Server) Restart() error {
	s.s.stop()
	return s.s.launch()
}

// Database returns the URI of a new, empty database on the shared server,
// starting the server on first use, for a caller without a test: a
// TestMain's shared Synapse, the benchmark. The database goes when Stop
// stops the server (or stays, on a server named by GAVEL_TEST_POSTGRES).
func Database() (string, error) {
	shared.once.Do(func() { shared.srv, shared.err = start() })
	if shared.err != nil {
		return "", fmt.Errorf("no PostgreSQL: %w", shared.err)
	}
	uri, _, err := shared.srv.create()
	return uri, err
}

// create creates a new, empty database and returns its URI and name.
func (srv *server) create() (uri, name string, err error) {
	name = "gavel_test_" + strings.ToLower(rand.Text()[:10])
	admin, err := sql.Open("postgres", srv.uri.String())
	if err != nil {
		return "", "", err
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		return "", "", fmt.Errorf("creating test database: %w", err)
	}
	u := *srv.uri
	u.Path = "/" + name
	return u.String(), name, nil
}

// database creates a new, empty database, dropped when the test ends, and
// returns its URI.
func (srv *server) database(t testing.TB) string {
	t.Helper()
	uri, name, err := srv.create()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("postgres", srv.uri.String())
		if err == nil {
			_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			admin.Close()
		}
	})
	return uri
}

// Stop stops the shared server, if this package started one.
func Stop() {
	if s := shared.srv; s != nil && s.dir != "" {
		s.stop()
		_ = os.RemoveAll(s.dir)
	}
}

// stop stops postgres, if it runs.
func (s *server) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT) // fast shutdown
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

func start() (*server, error) {
	if uri := os.Getenv("GAVEL_TEST_POSTGRES"); uri != "" {
		u, err := url.Parse(uri)
		if err != nil {
			return nil, fmt.Errorf("GAVEL_TEST_POSTGRES: %w", err)
		}
		return &server{uri: u}, nil
	}
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	// PostgreSQL refuses to run as root; run it as the postgres user that
	// Debian's package creates.
	var cred *syscall.Credential
	var owner *user.User
	if os.Geteuid() == 0 {
		owner, err = user.Lookup("postgres")
		if err != nil {
			return nil, errors.New("running as root and there is no postgres user to run PostgreSQL as (install Debian's postgresql package)")
		}
		uid, _ := strconv.Atoi(owner.Uid)
		gid, _ := strconv.Atoi(owner.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	dir, err := os.MkdirTemp("", "gavel-pgtest-")
	if err != nil {
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
	}
	fail := func(err error) (*server, error) {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb failed: %w\n%s", err, out))
	}
	port, err := netutil.FreePort()
	if err != nil {
		return fail(err)
	}
	s := &server{dir: dir, bin: bin, cred: cred, port: port}
	s.uri = &url.URL{Scheme: "postgres", User: url.User("postgres"), Host: "127.0.0.1:" + strconv.Itoa(port), RawQuery: "sslmode=disable"}
	if err := s.launch(); err != nil {
		return fail(err)
	}
	db, err := sql.Open("postgres", s.uri.String())
	if err != nil {
		return fail(err)
	}
	defer db.Close()
	var version string
	_ = db.QueryRow("SHOW server_version").Scan(&version)
	fmt.Printf("pgtest: started PostgreSQL %s at 127.0.0.1:%d\n", version, port)
	return s, nil
}

// launch starts postgres and waits until it answers.
func (s *server) launch() error {
	logFile, err := os.OpenFile(filepath.Join(s.dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	s.done = make(chan struct{})
	s.cmd = exec.Command(filepath.Join(s.bin, "postgres"), "-D", filepath.Join(s.dir, "data"), "-p", strconv.Itoa(s.port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+s.dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		s.cmd = nil
		return fmt.Errorf("starting postgres: %w", err)
	}
	done := s.done
	cmd := s.cmd
	go func() { _ = cmd.Wait(); close(done) }()

	db, err := sql.Open("postgres", s.uri.String())
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-done:
			log, _ := os.ReadFile(filepath.Join(s.dir, "postgres.log"))
			return fmt.Errorf("postgres exited: %s", log)
		default:
		}
		if time.Now().After(deadline) {
			s.stop()
			return fmt.Errorf("postgres did not answer within 30s: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// findBin returns the newest /usr/lib/postgresql/<version>/bin.
func findBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi < vj
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	return "", errors.New("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb; apt-get install postgresql)")
}
