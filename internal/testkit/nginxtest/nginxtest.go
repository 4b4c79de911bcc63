// Package nginxtest runs a real nginx (Debian's package) on loopback in
// front of a test Synapse, with the doorbell snippet of
// contrib/nginx/gavel-doorbell.conf, as docs/how-it-works.md tells admins
// to set it up. When nginx is not installed the test is skipped, or fails when CI is
// set. Its own test checks contrib/nginx/gavel-workers.conf, the routing
// for a Synapse with workers (docs/workers.md).
//
// Of Gavel's packages it may import: internal/testkit/netutil.
package nginxtest

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gavel-bot/gavel/internal/testkit/netutil"
)

// Server is a running nginx.
type Server struct {
	// URL is where clients reach Synapse through it.
	URL  string
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// snippet is the path of contrib/nginx/<name>.
func snippet(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "contrib", "nginx", name)
}

// Installed reports whether nginx is installed, and where.
func Installed() (string, bool) {
	if bin, err := exec.LookPath("nginx"); err == nil {
		return bin, true
	}
	const bin = "/usr/sbin/nginx"
	_, err := os.Stat(bin)
	return bin, err == nil
}

// Start starts nginx in front of the Synapse at synapseURL, ringing the
// doorbell at doorbellAddr (host:port); it stops when the test ends.
func Start(t testing.TB, synapseURL, doorbellAddr string) *Server {
	t.Helper()
	if _, ok := Installed(); !ok {
		if os.Getenv("CI") != "" {
			t.Fatalf("test needs nginx (Debian's nginx package) and it is not installed (CI is set, so this is a failure, not a skip)")
		}
		t.Skip("skipping: nginx is not installed (apt-get install nginx; set CI=1 to make this a failure)")
	}
	s, err := Run(synapseURL, doorbellAddr, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("nginx's error log:\n%s", s.ErrorLog())
		}
	})
	return s
}

// Run starts nginx as Start does, with its files in dir; Stop stops it.
func Run(synapseURL, doorbellAddr, dir string) (*Server, error) {
	synapse, err := url.Parse(synapseURL)
	if err != nil {
		return nil, err
	}
	return run(dir, []upstream{{"synapse", synapse.Host}, {"gavel_doorbell", doorbellAddr}},
		fmt.Sprintf(`include %s;
        location / {
            proxy_pass http://synapse;
            proxy_set_header Host $host;
        }`, snippet("gavel-doorbell.conf")))
}

// upstream is an nginx upstream: its name and its one server's host:port.
type upstream struct{ name, addr string }

// run starts nginx with the upstreams and, in its server block, body.
func run(dir string, upstreams []upstream, body string) (*Server, error) {
	bin, ok := Installed()
	if !ok {
		return nil, fmt.Errorf("nginx is not installed (Debian's nginx package)")
	}
	port, err := netutil.FreePort()
	if err != nil {
		return nil, err
	}
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // workers write the temp paths below
	}
	conf := fmt.Sprintf(`%s
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log info;
events { worker_connections 64; }
http {
    access_log %[2]s/access.log;
    client_body_temp_path %[2]s/body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
%[3]s    server {
        listen 127.0.0.1:%[4]d;
        %[5]s
    }
}
`, user, dir, upstreamBlocks(upstreams), port, body)
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	// nginx -t names a configuration mistake (in a snippet of contrib/nginx
	// too) better than a start that fails.
	if out, err := exec.Command(bin, "-t", "-p", dir, "-c", confPath, "-e", filepath.Join(dir, "error.log")).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("nginx -t rejects the configuration: %v\n%s", err, out)
	}
	out, err := os.Create(filepath.Join(dir, "stdout.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-p", dir, "-c", confPath, "-e", filepath.Join(dir, "error.log"), "-g", "daemon off;")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("starting nginx: %w", err)
	}
	s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port), dir: dir, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		out.Close()
		close(s.done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !listening("127.0.0.1:" + strconv.Itoa(port)) {
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("nginx did not start: %s", s.ErrorLog())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s, nil
}

// Stop stops nginx (fast shutdown; killed after 5 s).
func (s *Server) Stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

func upstreamBlocks(upstreams []upstream) string {
	var b strings.Builder
	for _, u := range upstreams {
		fmt.Fprintf(&b, "    upstream %s { server %s; }\n", u.name, u.addr)
	}
	return b.String()
}

func listening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err == nil {
		c.Close()
	}
	return err == nil
}

// ErrorLog returns nginx's error log, where it notes the rings that failed.
func (s *Server) ErrorLog() string {
	data, _ := os.ReadFile(filepath.Join(s.dir, "error.log"))
	stdout, _ := os.ReadFile(filepath.Join(s.dir, "stdout.log"))
	return strings.TrimSpace(string(data) + "\n" + string(stdout))
}
