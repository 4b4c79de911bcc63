package container_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gavel-bot/gavel/internal/testkit/bottest"
	"github.com/gavel-bot/gavel/internal/testkit/metricstest"
	"github.com/gavel-bot/gavel/internal/testkit/netutil"
	"github.com/gavel-bot/gavel/internal/testkit/synapsetest"
)

// nonroot is the uid and gid the image runs as (contrib/container/Containerfile).
const nonroot = 65532

// podman runs podman the way this project's machines need (cgroup v1
// with a v2 hierarchy beside it, a restricted setrlimit): with runc and
// cgroupfs (crun refuses the hybrid hierarchy), and without podman's
// default ulimits, which the machine does not let it set.
type podman struct {
	path string
	conf string // containers.conf with default_ulimits = []
}

// newPodman finds podman and checks that it can run a container (the
// release binary as the whole root file system). When it cannot, the
// test is skipped, or fails with CI set.
func newPodman(t *testing.T, binary string) *podman {
	t.Helper()
	path, err := exec.LookPath("podman")
	if err != nil {
		cannotRun(t, "podman is not installed (as root: apt-get install podman runc, or scripts/test-deps.sh)")
	}
	p := &podman{path: path, conf: filepath.Join(t.TempDir(), "containers.conf")}
	require.NoError(t, os.WriteFile(p.conf, []byte("[containers]\ndefault_ulimits = []\n"), 0o644))
	rootfs := t.TempDir()
	data, err := os.ReadFile(binary)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(rootfs, "gavel"), data, 0o755))
	if out, err := p.cmd("run", "--rm", "--network", "host", "--rootfs", rootfs, "/gavel", "-version").CombinedOutput(); err != nil ||
		!strings.HasPrefix(string(out), "gavel ") {
		cannotRun(t, fmt.Sprintf("podman cannot run a container here (%v): %s", err, out))
	}
	return p
}

// cannotRun skips the test, or fails it when CI is set: CI installs
// podman, and a container test that does not run there is a failure.
func cannotRun(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s (CI is set, so this is a failure, not a skip)", why)
	}
	t.Skipf("skipping the container image test: %s (set CI=1 to make this a failure)", why)
}

func (p *podman) cmd(args ...string) *exec.Cmd {
	cmd := exec.Command(p.path, append([]string{"--runtime", "runc", "--cgroup-manager", "cgroupfs"}, args...)...)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+p.conf)
	return cmd
}

// run runs podman with args and returns its standard output, trimmed.
func (p *podman) run(t *testing.T, args ...string) string {
	t.Helper()
	var stderr bytes.Buffer
	cmd := p.cmd(args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "podman %s: %s", strings.Join(args, " "), stderr.String())
	return strings.TrimSpace(string(out))
}

// logs returns a container's log: Gavel's, on its standard error.
func (p *podman) logs(name string) string {
	out, _ := p.cmd("logs", name).CombinedOutput()
	return string(out)
}

func random(t *testing.T) string {
	b := make([]byte, 4)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

// TestImage builds the image with make image and runs it against a real
// Synapse as an admin would: configuration in a read-only /config, the
// token in the environment, the database in a named volume, host
// networking. Its health check passes, its gavel_build_info says what
// gavel -version does, a second container on the volume
// is refused meanwhile; it files a report and waits for the card, stops the
// container with SIGTERM (exit code 0), then runs a second container on
// the same volume, hardened as the compose file runs it: it posts the
// next report, and nothing twice.
func TestImage(t *testing.T) {
	t.Parallel()
	start := time.Now()
	dir, binary := distBinary(t)
	p := newPodman(t, binary)

	// The image is built while Synapse starts.
	image := "localhost/gavel-test:" + random(t)
	built := make(chan error, 1)
	go func() { built <- makeTarget("image", "DIST="+dir, "IMAGE="+image) }()
	t.Cleanup(func() { _ = p.cmd("rmi", "--force", image).Run() })
	e := bottest.NewEnv(t, nil)
	require.NoError(t, <-built)
	t.Logf("binary, image and Synapse ready in %s", time.Since(start).Round(100*time.Millisecond))
	assert.Equal(t, fmt.Sprintf("%d:%d", nonroot, nonroot), p.run(t, "image", "inspect", "--format", "{{.Config.User}}", image))

	port, err := netutil.FreePort()
	require.NoError(t, err)
	cfg := *e.Cfg
	cfg.Matrix.AccessToken = "" // GAVEL_ACCESS_TOKEN
	cfg.Database.URI = "/data/gavel.db"
	cfg.Metrics.Listen = fmt.Sprintf("127.0.0.1:%d", port) // for the health check
	cfg.Logging.Format = "json"
	configDir := t.TempDir()
	// Readable by the image's user: it holds no token.
	require.NoError(t, os.Chmod(configDir, 0o755))
	require.NoError(t, synapsetest.WriteConfig(filepath.Join(configDir, "config.yaml"), &cfg))
	require.NoError(t, os.Chmod(filepath.Join(configDir, "config.yaml"), 0o644))

	volume := "gavel-test-" + random(t)
	p.run(t, "volume", "create", volume)
	t.Cleanup(func() { _ = p.cmd("volume", "rm", "--force", volume).Run() })

	// gavel runs the image as an admin would; the token goes to podman in
	// its environment, not on its command line.
	gavel := func(args ...string) *exec.Cmd {
		args = append(append([]string{"run", "--network", "host", "--volume", volume + ":/data", "--volume", configDir + ":/config:ro",
			"--env", "GAVEL_ACCESS_TOKEN"}, args...), image)
		cmd := p.cmd(args...)
		cmd.Env = append(cmd.Env, "GAVEL_ACCESS_TOKEN="+e.BotCli.AccessToken)
		return cmd
	}
	runContainer := func(name string, hardening ...string) {
		t.Helper()
		out, err := gavel(append([]string{"--detach", "--name", name}, hardening...)...).CombinedOutput()
		require.NoError(t, err, "podman run: %s", out)
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("log of the container %s:\n%s", name, p.logs(name))
			}
			_ = p.cmd("rm", "--force", name).Run()
		})
		require.Eventually(t, func() bool { return strings.Contains(p.logs(name), "Gavel started") }, time.Minute, 100*time.Millisecond,
			"waiting for Gavel to start in the container %s", name)
	}
	stopContainer := func(name string) {
		t.Helper()
		stopping := time.Now()
		p.run(t, "kill", "--signal", "TERM", name)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, p.path, "--runtime", "runc", "--cgroup-manager", "cgroupfs", "wait", name).Output()
		require.NoError(t, err, "podman wait")
		assert.Equal(t, "0", strings.TrimSpace(string(out)), "the exit code after SIGTERM")
		log := p.logs(name)
		assert.Contains(t, log, `"message":"Stopped"`)
		assert.NotContains(t, log, e.BotCli.AccessToken, "the token is never logged")
		t.Logf("%s stopped in %s after SIGTERM", name, time.Since(stopping).Round(10*time.Millisecond))
	}

	first, second := "gavel-test-"+random(t), "gavel-test-"+random(t)
	runContainer(first)
	// The HEALTHCHECK the image carries: gavel -healthcheck, without a shell.
	p.run(t, "healthcheck", "run", first)
	// gavel_build_info says what gavel -version does.
	version := versionLine.FindStringSubmatch(p.run(t, "run", "--rm", image, "-version") + "\n")
	require.NotNil(t, version, "gavel -version in the image")
	scrape := metricstest.Get(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	_, ok := scrape.Value("gavel_build_info", "version", version[1], "revision", version[2]+version[3], "build_date", version[4], "go_version", version[5])
	assert.True(t, ok, "gavel_build_info of %q: %s", version[0], scrape.Lines("gavel_build_info"))
	// A second Gavel on the same volume meanwhile is refused by the lock
	// file next to the database.
	out, err := gavel("--rm").CombinedOutput()
	assert.Error(t, err, "a second Gavel on the same SQLite database")
	assert.Contains(t, string(out), "another Gavel (process 1) is running on the SQLite database /data/gavel.db: stop it first")
	e.Report(e.Spam("buy followers"), "spam, seen from a container")
	e.WaitNotices(1)
	stopContainer(first)

	var st syscall.Stat_t
	mount := p.run(t, "volume", "inspect", "--format", "{{.Mountpoint}}", volume)
	require.NoError(t, syscall.Stat(filepath.Join(mount, "gavel.db"), &st), "the database is in the volume")
	assert.Equal(t, uint32(nonroot), st.Uid, "written by the image's user, not root")

	// As contrib/compose/compose.yaml runs it.
	runContainer(second, "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL", "--security-opt", "no-new-privileges")
	e.Report(e.Spam("buy more followers"), "spam again")
	e.AssertOnePerReport(2)
	stopContainer(second)
	t.Logf("TestImage took %s", time.Since(start).Round(100*time.Millisecond))
}
