// Package synapsetest runs throwaway Synapse homeservers for Gavel's
// integration tests and demo.
//
// Synapse comes from Debian sid's matrix-synapse package, installed once per
// machine by scripts/synapse.sh into a debootstrap chroot outside the
// repository. Each server runs in the chroot in a fresh directory, on a free
// loopback port, with rate limits lifted.
//
// Environment:
//
//	GAVEL_TEST_HOMESERVER     use this Synapse (a URL) instead of starting one
//	GAVEL_TEST_SHARED_SECRET  its registration_shared_secret
//	GAVEL_SYNAPSE_ROOT        the chroot (default ~/.cache/gavel/synapse-sid)
//	CI                        when set, tests fail instead of skipping when
//	                          no Synapse can be had
//
// By default Synapse keeps its data in SQLite and clients talk to it
// directly. Options.Production gives the shape production servers have:
// Synapse on PostgreSQL (internal/testkit/pgtest) with nginx in front
// (internal/testkit/nginxtest, contrib/nginx's doorbell mirror in place);
// then URL is nginx's, and everyone, Gavel too, goes through it.
//
// world.go builds on it what tests, the benchmark and the demo share:
// accounts, rooms, reports, a config file and the gavel binary. Only
// tests, cmd/gavel-bench and internal/demo import it.
//
// Of Gavel's packages it may import: adminapi, config, internal/testkit/netutil,
// internal/testkit/nginxtest, internal/testkit/pgtest.
package synapsetest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/internal/testkit/netutil"
	"github.com/gavel-bot/gavel/internal/testkit/nginxtest"
	"github.com/gavel-bot/gavel/internal/testkit/pgtest"
)

// Server is a running Synapse: either one this package started, or an
// existing one named by GAVEL_TEST_HOMESERVER.
type Server struct {
	// URL is the client-server API base URL, e.g. http://127.0.0.1:40123:
	// nginx's when Synapse is behind it.
	URL string
	// DirectURL is Synapse's own listener: URL, unless nginx is in front.
	DirectURL string
	// DoorbellAddr, with nginx in front, is the host:port nginx's mirror
	// rings for every report filed through it: a Gavel that wants the
	// rings sets reports.doorbell_listen to it. Empty without nginx.
	DoorbellAddr string
	// Database is "sqlite3" or "postgres": where Synapse keeps its data.
	Database string
	// ServerName is the homeserver's server_name, the part after the colon
	// in its user ids.
	ServerName string
	// SharedSecret is the registration_shared_secret, for creating users.
	SharedSecret string
	// Version is Synapse's version, e.g. "1.160.0".
	Version string
	// Dir is the server's directory on the host (config, database, media,
	// log); empty for an external server.
	Dir string

	root    string // the chroot
	port    int
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
	nginx   *nginxtest.Server
}

// Options configures a server that Start starts.
type Options struct {
	// ServerName is the homeserver's server_name; default "gavel.test".
	ServerName string
	// Port is the loopback port to listen on; 0 picks a free one.
	Port int
	// ExtraConfig is YAML appended to the generated homeserver.yaml.
	ExtraConfig string
	// Postgres, when set, is the postgres:// URI of an empty database
	// Synapse keeps its data in, instead of SQLite.
	Postgres string
	// Nginx puts nginx in front of Synapse, set up as docs/how-it-works.md
	// tells admins to: URL becomes nginx's, and every report filed through
	// it rings DoorbellAddr.
	Nginx bool
	// Production is the shape of a production server: Nginx, and
	// PostgreSQL (a new database on pgtest's shared server, unless
	// Postgres names one).
	Production bool
}

const (
	startTimeout = 90 * time.Second
	stopTimeout  = 15 * time.Second
	dirPrefix    = "gavel-synapse-"
)

// Start returns the external Synapse named by GAVEL_TEST_HOMESERVER when it
// is set, and otherwise installs Synapse if needed and starts a new server.
// Call Stop when done.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if url := os.Getenv("GAVEL_TEST_HOMESERVER"); url != "" {
		return external(ctx, url, os.Getenv("GAVEL_TEST_SHARED_SECRET"))
	}
	root, err := ensureInstalled(ctx)
	if err != nil {
		return nil, err
	}
	removeStaleDirs(root)
	dir, err := os.MkdirTemp(filepath.Join(root, "tmp"), dirPrefix)
	if err != nil {
		return nil, fmt.Errorf("creating the server directory: %w", err)
	}
	// Record the owning process so a later run can clean up after a crash.
	if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, err
	}
	if opts.ServerName == "" {
		opts.ServerName = "gavel.test"
	}
	if opts.Production {
		opts.Nginx = true
		if opts.Postgres == "" {
			if opts.Postgres, err = pgtest.Database(); err != nil {
				_ = os.RemoveAll(dir)
				return nil, err
			}
		}
	}
	s := &Server{
		ServerName:   opts.ServerName,
		SharedSecret: rand.Text(),
		Dir:          dir,
		root:         root,
		logPath:      filepath.Join(dir, "synapse.log"),
	}
	// A free port can be taken by someone else before Synapse binds it;
	// try a few.
	for attempt := 1; ; attempt++ {
		s.port = opts.Port
		if s.port == 0 {
			if s.port, err = netutil.FreePort(); err != nil {
				break
			}
		}
		s.URL = "http://127.0.0.1:" + strconv.Itoa(s.port)
		s.DirectURL = s.URL
		if err = s.writeConfig(opts); err != nil {
			break
		}
		if err = s.start(ctx); err == nil || opts.Port != 0 || attempt == 3 || ctx.Err() != nil {
			break
		}
	}
	if err == nil && opts.Nginx {
		err = s.startNginx()
	}
	if err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

// startNginx puts nginx in front of the running Synapse.
func (s *Server) startNginx() error {
	port, err := netutil.FreePort()
	if err != nil {
		return err
	}
	s.DoorbellAddr = "127.0.0.1:" + strconv.Itoa(port)
	dir := filepath.Join(s.Dir, "nginx")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	if s.nginx, err = nginxtest.Run(s.DirectURL, s.DoorbellAddr, dir); err != nil {
		return fmt.Errorf("putting nginx in front of Synapse: %w", err)
	}
	s.URL = s.nginx.URL
	return nil
}

// Shape says how the server is set up: its database and what is in
// front, e.g. "PostgreSQL behind nginx".
func (s *Server) Shape() string {
	shape := map[string]string{"sqlite3": "SQLite", "postgres": "PostgreSQL"}[s.Database]
	if shape == "" {
		shape = "unknown database" // an external server
	}
	if s.nginx != nil {
		shape += " behind nginx"
	}
	return shape
}

// external describes a Synapse someone else runs.
func external(ctx context.Context, url, secret string) (*Server, error) {
	if secret == "" {
		return nil, errors.New("GAVEL_TEST_HOMESERVER is set but GAVEL_TEST_SHARED_SECRET is not: tests create users with the homeserver's registration_shared_secret")
	}
	s := &Server{URL: strings.TrimSuffix(url, "/"), SharedSecret: secret}
	s.DirectURL = s.URL
	if err := s.waitReady(ctx, nil); err != nil {
		return nil, fmt.Errorf("GAVEL_TEST_HOMESERVER %s: %w", s.URL, err)
	}
	// The server name is whatever follows the colon in a new user's id.
	cli, err := s.Register(ctx, "gavel-probe-"+randomString(8), randomString(16), false)
	if err != nil {
		return nil, fmt.Errorf("GAVEL_TEST_HOMESERVER %s: registering a test user: %w", s.URL, err)
	}
	s.ServerName = cli.UserID.Homeserver()
	return s, s.readVersion(ctx)
}

// inChroot maps a host path inside the chroot to the path Synapse sees.
func (s *Server) inChroot(hostPath string) string {
	return "/" + strings.TrimPrefix(strings.TrimPrefix(hostPath, s.root), "/")
}

// DatabasePath is the path, on the host, of Synapse's SQLite database
// (when it does not use PostgreSQL).
func (s *Server) DatabasePath() string { return filepath.Join(s.Dir, "homeserver.db") }

// databaseConfig is homeserver.yaml's database section: SQLite in the
// server's directory (d, inside the chroot), or the PostgreSQL database
// at uri.
func databaseConfig(d, uri string) (string, error) {
	if uri == "" {
		return fmt.Sprintf("database:\n  name: sqlite3\n  args: {database: %s/homeserver.db}\n", d), nil
	}
	u, err := url.Parse(uri)
	if err != nil {
		return "", fmt.Errorf("Options.Postgres: %w", err)
	}
	password, _ := u.User.Password()
	return fmt.Sprintf("database:\n  name: psycopg2\n  allow_unsafe_locale: true\n  args: {user: %q, password: %q, dbname: %q, host: %q, port: %q, cp_min: 1, cp_max: 5}\n",
		u.User.Username(), password, strings.TrimPrefix(u.Path, "/"), u.Hostname(), u.Port()), nil
}

func (s *Server) writeConfig(opts Options) error {
	d := s.inChroot(s.Dir)
	database, err := databaseConfig(d, opts.Postgres)
	if err != nil {
		return err
	}
	s.Database = "sqlite3"
	if opts.Postgres != "" {
		s.Database = "postgres"
	}
	var b strings.Builder
	fmt.Fprintf(&b, `# Written by Gavel's internal/testkit/synapsetest; paths are inside the chroot.
server_name: %q
public_baseurl: %q
report_stats: false
pid_file: %s/homeserver.pid
listeners:
  - port: %d
    bind_addresses: ['127.0.0.1']
    type: http
    tls: false
    x_forwarded: %t
    resources: [{names: [client], compress: false}]
%smedia_store_path: %s/media
signing_key_path: %s/signing.key
registration_shared_secret: %q
macaroon_secret_key: %q
form_secret: %q
trusted_key_servers: []
suppress_key_server_warning: true
bcrypt_rounds: 4
enable_registration: false
url_preview_enabled: false
server_notices: {system_mxid_localpart: notices, system_mxid_display_name: "Server notices", room_name: "Server notices"}
`, s.ServerName, s.URL+"/", d, s.port, opts.Nginx, database, d, d, s.SharedSecret, rand.Text(), rand.Text())
	limit := "{per_second: 9999, burst_count: 9999}"
	for _, key := range []string{"rc_message", "rc_registration", "rc_admin_redaction", "rc_room_creation", "rc_reports", "rc_media_create"} {
		fmt.Fprintf(&b, "%s: %s\n", key, limit)
	}
	fmt.Fprintf(&b, "rc_login: {address: %s, account: %s, failed_attempts: %s}\n", limit, limit, limit)
	fmt.Fprintf(&b, "rc_joins: {local: %s, remote: %s}\n", limit, limit)
	fmt.Fprintf(&b, "rc_invites: {per_room: %s, per_user: %s}\n", limit, limit)
	b.WriteString(opts.ExtraConfig)
	return os.WriteFile(filepath.Join(s.Dir, "homeserver.yaml"), []byte(b.String()), 0o600)
}

// start launches Synapse and waits until it answers.
func (s *Server) start(ctx context.Context) error {
	logFile, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := exec.Command("chroot", s.root, "python3", "-m", "synapse.app.homeserver",
		"-c", s.inChroot(filepath.Join(s.Dir, "homeserver.yaml")))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "HOME=/tmp", "PYTHONDONTWRITEBYTECODE=1"}
	// Synapse must not outlive the test binary, even if it is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting Synapse: %w", err)
	}
	s.cmd = cmd
	s.exited = make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(ctx, s.exited); err != nil {
		s.kill()
		return fmt.Errorf("starting Synapse on port %d failed: %w\nlast lines of %s:\n%s", s.port, err, s.logPath, s.LogTail(25))
	}
	return s.readVersion(ctx)
}

// waitReady polls /_matrix/client/versions until it answers 200.
func (s *Server) waitReady(ctx context.Context, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	var lastErr error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.DirectURL+"/_matrix/client/versions", nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("/_matrix/client/versions answered HTTP %d", resp.StatusCode)
		}
		lastErr = err
		select {
		case <-exited:
			return errors.New("the Synapse process exited")
		case <-ctx.Done():
			return fmt.Errorf("no answer after %s: %w", startTimeout, lastErr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *Server) readVersion(ctx context.Context) error {
	cli, err := adminapi.New(s.DirectURL, "")
	if err != nil {
		return err
	}
	if s.Version, err = cli.ServerVersion(ctx); err != nil {
		return fmt.Errorf("reading Synapse's version: %w", err)
	}
	return nil
}

// Restart stops Synapse and starts it again on the same port with the same
// database, as a homeserver restart in production would; nginx, when in
// front, stays up and answers 502 meanwhile. It is not available for an
// external server.
func (s *Server) Restart(ctx context.Context) error {
	if s.cmd == nil {
		return errors.New("cannot restart a Synapse this package did not start")
	}
	if err := s.stopProcess(); err != nil {
		return err
	}
	return s.start(ctx)
}

// StopProcess stops Synapse but keeps its directory, so that Restart can
// bring it back; a test uses it to see how Gavel copes with the homeserver
// being down.
func (s *Server) StopProcess() error {
	if s.cmd == nil {
		return errors.New("cannot stop a Synapse this package did not start")
	}
	return s.stopProcess()
}

// Stop stops Synapse (and nginx) and removes its directory. It does
// nothing for an external server.
func (s *Server) Stop() error {
	if s.Dir == "" {
		return nil
	}
	if s.nginx != nil {
		s.nginx.Stop()
	}
	err := s.stopProcess()
	if rmErr := os.RemoveAll(s.Dir); rmErr != nil && err == nil {
		err = rmErr
	}
	return err
}

func (s *Server) stopProcess() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	select {
	case <-s.exited:
		return nil
	default:
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.exited:
		return nil
	case <-time.After(stopTimeout):
		s.kill()
		return fmt.Errorf("stopping Synapse: still running %s after SIGTERM; killed it", stopTimeout)
	}
}

func (s *Server) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.exited
	}
}

// LogTail returns the last n lines of Synapse's log.
func (s *Server) LogTail(n int) string {
	data, err := os.ReadFile(s.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// removeStaleDirs deletes server directories left behind by test processes
// that no longer run (a crash or a kill skips cleanup). Their Synapse died
// with them (Pdeathsig).
func removeStaleDirs(root string) {
	dirs, _ := filepath.Glob(filepath.Join(root, "tmp", dirPrefix+"*"))
	for _, dir := range dirs {
		data, err := os.ReadFile(filepath.Join(dir, "owner.pid"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || syscall.Kill(pid, 0) == nil {
			continue
		}
		_ = os.RemoveAll(dir)
	}
}
