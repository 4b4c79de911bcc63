package crashtest

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gavel-bot/gavel/internal/testkit/bottest"
	"github.com/gavel-bot/gavel/internal/testkit/faultproxy"
)

// TestSIGKILLWhilePosting kills the real gavel process with SIGKILL again
// and again while it posts a burst of 50 reports, at varied instants: right
// after Synapse answered a send (before Gavel could record it), while a
// send is on its way, and at random moments. In the end every report has
// exactly one notice in the room.
func TestSIGKILLWhilePosting(t *testing.T) {
	e := newEnv(t, bottest.NewServer(t))
	const reports = 50
	e.ReportMany(reports)
	e.killWhilePosting(reports, 12, 3, true)
	e.AssertOnePerReport(reports)
}

// TestSIGKILLWhilePostingDigests does the same while Gavel posts a flood
// as digests: every report is in exactly one digest in the end.
func TestSIGKILLWhilePostingDigests(t *testing.T) {
	e := newEnv(t, bottest.NewServer(t))
	e.Cfg.Reports.MaxIndividual = 20
	const reports = 750 // 15 digests
	e.ReportMany(reports)
	e.killWhilePosting(reports, 6, 2, false)
	e.AssertOnePerReport(reports)
}

// killWhilePosting runs the gavel binary kills times, behind a slow proxy,
// and SIGKILLs it each time: right after Synapse answered send n (the
// message is in the room, the database does not know yet), while send n is
// in flight (Synapse may or may not get it), or, with random, at a random
// moment; n is at most maxN. Then it starts the binary once more and leaves
// it running. total is the number of reports filed: the kills must all
// happen before they are all posted.
func (e *env) killWhilePosting(total, kills, maxN int, random bool) {
	t := e.T
	proxy := e.ViaProxy()
	logFile := e.ProcessLog()
	// A slow homeserver: each send takes a moment, so that the kills land
	// in the middle of the burst.
	slowSends := func(r *http.Request) {
		if faultproxy.IsSend(r) {
			time.Sleep(150 * time.Millisecond)
		}
	}
	proxy.SetRule(func(r *http.Request) faultproxy.Fault { slowSends(r); return nil })
	modes := 2
	if random {
		modes = 3
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range kills {
		p := e.StartProcess(logFile)
		n := int32(1 + rng.IntN(maxN))
		var sends atomic.Int32
		var how string
		switch i % modes {
		case 0:
			how = fmt.Sprintf("after send %d was answered", n)
			proxy.AfterResponse(func(r faultproxy.Request, status int) {
				if r.Method == http.MethodPut && status == http.StatusOK && sends.Add(1) == n {
					_ = p.Signal(syscall.SIGKILL)
				}
			})
		case 1:
			how = fmt.Sprintf("while send %d was in flight", n)
			proxy.SetRule(func(r *http.Request) faultproxy.Fault {
				slowSends(r)
				if faultproxy.IsSend(r) && sends.Add(1) == n {
					_ = p.Signal(syscall.SIGKILL)
				}
				return nil
			})
		default:
			d := time.Duration(100+rng.IntN(1000)) * time.Millisecond
			how = fmt.Sprintf("at a random moment (%s after start)", d)
			time.AfterFunc(d, func() { _ = p.Signal(syscall.SIGKILL) })
		}
		select {
		case <-p.Done():
		case <-time.After(time.Minute):
			t.Fatalf("kill %d (%s) did not happen within a minute", i+1, how)
		}
		proxy.AfterResponse(nil)
		proxy.SetRule(func(r *http.Request) faultproxy.Fault { slowSends(r); return nil })
		counts, _ := e.Coverage()
		t.Logf("kill %d: %s; %d reports posted so far", i+1, how, len(counts))
	}
	counts, _ := e.Coverage()
	require.Less(t, len(counts), total, "the kills all happened while the burst was being posted")
	e.StartProcess(logFile)
}
