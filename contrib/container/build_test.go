// Package container_test checks what Gavel ships: the release binary as
// make dist builds it, and the container image make image builds from
// that binary, run against a real Synapse. Tests alone: a package of its
// own so that it runs in parallel with the others.
package container_test

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gavel-bot/gavel/internal/testkit/synapsetest"
)

// root is the repository's top, where the Makefile is.
const root = "../.."

func TestMain(m *testing.M) {
	code := m.Run()
	synapsetest.StopShared()
	if dist.dir != "" {
		_ = os.RemoveAll(dist.dir)
	}
	os.Exit(code)
}

// dist is make dist's output for this machine's architecture alone, built
// once for both tests: a second architecture would compile everything
// again for nothing the tests look at.
var dist struct {
	once sync.Once
	dir  string
	took time.Duration
	err  error
}

// distBinary runs make dist DIST_ARCHS=<this machine's> once and returns
// the folder it wrote and the binary's path.
func distBinary(t *testing.T) (dir, binary string) {
	t.Helper()
	dist.once.Do(func() {
		if dist.dir, dist.err = os.MkdirTemp("", "gavel-dist-"); dist.err != nil {
			return
		}
		start := time.Now()
		dist.err = makeTarget("dist", "DIST="+dist.dir, "DIST_ARCHS="+runtime.GOARCH)
		dist.took = time.Since(start)
	})
	require.NoError(t, dist.err)
	t.Logf("make dist (%s alone) took %s", runtime.GOARCH, dist.took.Round(100*time.Millisecond))
	return dist.dir, filepath.Join(dist.dir, "gavel-linux-"+runtime.GOARCH)
}

// makeTarget runs make in the repository's top with vars.
func makeTarget(target string, vars ...string) error {
	cmd := exec.Command("make", append([]string{"--no-print-directory", "-C", root, target}, vars...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("make %s: %v\n%s", target, err, out)
	}
	return nil
}

func git(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", root}, args...)...).Output()
	require.NoError(t, err, "git %s", strings.Join(args, " "))
	return strings.TrimSpace(string(out))
}

// versionLine is what gavel -version prints.
var versionLine = regexp.MustCompile(`^gavel (\S+) \(commit ([0-9a-f]+)(-dirty)?, built (\d{4}-\d{2}-\d{2}), (go\S+)\)\n$`)

// TestDist: make dist's binary is static, names no folder of the machine
// that built it (the same commit builds the same bytes elsewhere), has
// the commit and its day stamped in, and SHA256SUMS holds its hash.
func TestDist(t *testing.T) {
	t.Parallel()
	dir, binary := distBinary(t)

	out, err := exec.Command(binary, "-version").Output()
	require.NoError(t, err)
	m := versionLine.FindStringSubmatch(string(out))
	require.NotNil(t, m, "gavel -version printed %q", out)
	version, commit, dirty, day := m[1], m[2], m[3], m[4]
	assert.True(t, strings.HasPrefix(git(t, "rev-parse", "HEAD"), commit), "commit %s is HEAD's", commit)
	committed, err := strconv.ParseInt(git(t, "log", "-1", "--format=%ct"), 10, 64)
	require.NoError(t, err)
	assert.Equal(t, time.Unix(committed, 0).UTC().Format(time.DateOnly), day, "built: the day of the commit, UTC")
	if tag, err := exec.Command("git", "-C", root, "describe", "--tags", "--exact-match", "--match", "v[0-9]*").Output(); err == nil {
		assert.Equal(t, strings.TrimSpace(string(tag))+dirty, version)
	} else {
		assert.Regexp(t, `^\d+\.\d+\.\d+-dev\+`+commit+dirty+`$`, version)
	}

	data, err := os.ReadFile(binary)
	require.NoError(t, err)
	abs, err := filepath.Abs(root)
	require.NoError(t, err)
	assert.False(t, bytes.Contains(data, []byte(abs)), "the binary names the folder it was built in (%s): -trimpath is missing", abs)
	f, err := elf.NewFile(bytes.NewReader(data))
	require.NoError(t, err)
	for _, p := range f.Progs {
		assert.NotEqual(t, elf.PT_INTERP, p.Type, "the binary asks for a dynamic loader: it must be static (CGO_ENABLED=0)")
	}

	sums, err := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	require.NoError(t, err)
	sum := sha256.Sum256(data)
	assert.Equal(t, hex.EncodeToString(sum[:])+"  gavel-linux-"+runtime.GOARCH+"\n", string(sums), "SHA256SUMS, as sha256sum -c reads it")
}
