package bot

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gavel-bot/gavel/internal/faultproxy"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// gavelBinary builds the real gavel command once per test run.
func gavelBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gavel-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "gavel")
		out, err := exec.Command("go", "build", "-o", binary, "github.com/gavel-bot/gavel").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return binary
}

// process is the gavel binary running with the environment's config.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startProcess runs the gavel binary; its log goes to logFile.
func (e *env) startProcess(logFile *os.File) *process {
	e.t.Helper()
	dir := e.t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	c := e.cfg
	yaml := fmt.Sprintf(`matrix:
  homeserver: %q
  user_id: %q
  access_token: %q
  management_room: %q
database:
  uri: %q
reports:
  poll_interval: %s
  on_first_start: %s
logging:
  level: debug
`, c.Matrix.Homeserver, c.Matrix.UserID, c.Matrix.AccessToken, c.Matrix.ManagementRoom, c.Database.URI, c.Reports.PollInterval, c.Reports.OnFirstStart)
	require.NoError(e.t, os.WriteFile(cfgPath, []byte(yaml), 0o600))
	cmd := exec.Command(gavelBinary(e.t), "-config", cfgPath)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(e.t, cmd.Start())
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	e.t.Cleanup(p.kill)
	return p
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *process) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// TestSIGKILLWhilePosting kills the real gavel process with SIGKILL again
// and again while it posts a burst of 50 reports, at varied instants: right
// after Synapse answered a send (before Gavel could record it), while a
// send is on its way, and at random moments. In the end every report has
// exactly one notice in the room.
func TestSIGKILLWhilePosting(t *testing.T) {
	e := newEnv(t, newServer(t))
	proxy := e.viaProxy()
	logFile, err := os.Create(filepath.Join(t.TempDir(), "gavel.log"))
	require.NoError(t, err)
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(logFile.Name())
			t.Logf("gavel's log:\n%s", log)
		}
	})

	const reports, kills = 50, 12
	for i := range reports {
		e.report(e.spam("burst "+itoa(int64(i))), "burst")
	}
	// A slow homeserver: each send takes a moment, so that the kills land
	// in the middle of the burst.
	slowSends := func(r *http.Request) {
		if faultproxy.IsSend(r) {
			time.Sleep(150 * time.Millisecond)
		}
	}
	proxy.SetRule(func(r *http.Request) faultproxy.Fault { slowSends(r); return nil })
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range kills {
		p := e.startProcess(logFile)
		var how string
		switch i % 3 {
		case 0:
			// Right after Synapse answered the n-th send: the notice is in
			// the room, the database does not know yet.
			n := int32(1 + rng.IntN(3))
			var sends atomic.Int32
			how = fmt.Sprintf("after send %d was answered", n)
			proxy.AfterResponse(func(r faultproxy.Request, status int) {
				if r.Method == http.MethodPut && status == http.StatusOK && sends.Add(1) == n {
					_ = p.cmd.Process.Signal(syscall.SIGKILL)
				}
			})
		case 1:
			// While the n-th send is on its way: Synapse may or may not
			// get it.
			n := int32(1 + rng.IntN(3))
			var sends atomic.Int32
			how = fmt.Sprintf("while send %d was in flight", n)
			proxy.SetRule(func(r *http.Request) faultproxy.Fault {
				slowSends(r)
				if faultproxy.IsSend(r) && sends.Add(1) == n {
					_ = p.cmd.Process.Signal(syscall.SIGKILL)
				}
				return nil
			})
		default:
			d := time.Duration(100+rng.IntN(1000)) * time.Millisecond
			how = fmt.Sprintf("at a random moment (%s after start)", d)
			time.AfterFunc(d, func() { _ = p.cmd.Process.Signal(syscall.SIGKILL) })
		}
		select {
		case <-p.done:
		case <-time.After(time.Minute):
			t.Fatalf("kill %d (%s) did not happen within a minute", i+1, how)
		}
		proxy.AfterResponse(nil)
		proxy.SetRule(func(r *http.Request) faultproxy.Fault { slowSends(r); return nil })
		t.Logf("kill %d: %s; %d of %d notices posted so far", i+1, how, len(e.notices()), reports)
	}
	require.Less(t, len(e.notices()), reports, "the kills all happened while the burst was being posted")
	e.startProcess(logFile)
	e.assertOnePerReport(reports)
}
