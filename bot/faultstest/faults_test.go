package faultstest

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/bot"
	"github.com/gavel-bot/gavel/internal/testkit/bottest"
	"github.com/gavel-bot/gavel/internal/testkit/faultproxy"
)

// waitFaulted waits until the proxy has answered n requests with a fault
// since mark, so that a fault is known to have hit Gavel.
func waitFaulted(t *testing.T, p *faultproxy.Proxy, mark, n int) {
	t.Helper()
	require.Eventuallyf(t, func() bool {
		faulted := 0
		for _, r := range p.Since(mark) {
			if r.Faulted {
				faulted++
			}
		}
		return faulted >= n
	}, time.Minute, 100*time.Millisecond, "waiting for %d faulted requests", n)
}

// TestSurvivesHomeserverFaults puts Gavel behind a proxy that makes the
// homeserver fail in the ways real ones do. After each fault Gavel is still
// running, recovers by itself, and every report filed meanwhile gets
// exactly one notice.
func TestSurvivesHomeserverFaults(t *testing.T) {
	e := newEnv(t, bottest.NewServer(t))
	p := e.ViaProxy()
	e.Opts.AdminTimeout = 2 * time.Second
	gavel := e.Start()
	e.Report(e.Spam("before the faults"), "before")
	e.WaitNotices(1)
	total := 1

	adminFault := func(f faultproxy.Fault) faultproxy.Rule {
		return func(r *http.Request) faultproxy.Fault {
			if faultproxy.IsAdmin(r) {
				return f
			}
			return nil
		}
	}
	for _, tt := range []struct {
		name  string
		fault faultproxy.Fault
		// reply is what a command run during the fault is answered.
		reply string
	}{
		{"admin API answers 500", faultproxy.Status(http.StatusInternalServerError, "M_UNKNOWN"),
			"Synapse could not do that for report 1 (M_UNKNOWN): injected by faultproxy."},
		{"admin API answers 502", faultproxy.Status(http.StatusBadGateway, ""),
			"Synapse could not do that for report 1 (HTTP 502)"},
		{"admin API does not answer", faultproxy.Hang,
			"Synapse took too long to answer; the action may still complete. Check before trying again."},
		{"admin API drops the connection", faultproxy.Drop,
			"Synapse did not answer; try again in a moment."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mark := p.Mark()
			p.SetRule(adminFault(tt.fault))
			e.Report(e.Spam(tt.name+" 1"), tt.name)
			e.Report(e.Spam(tt.name+" 2"), tt.name)
			total += 2
			waitFaulted(t, p, mark, 2)
			reply := e.Command(e.Mod, "!report show 1")
			assert.Contains(t, reply.Body, tt.reply)
			gavel.StillRunning(t)
			p.SetRule(nil)
			e.AssertOnePerReport(total)
			gavel.StillRunning(t)
		})
	}

	t.Run("sends answered 429", func(t *testing.T) {
		var limited atomic.Int32
		mark := p.Mark()
		p.SetRule(func(r *http.Request) faultproxy.Fault {
			// The first five sends are refused, each with a short wait.
			if faultproxy.IsSend(r) && limited.Add(1) <= 5 {
				return faultproxy.RateLimit(300 * time.Millisecond)
			}
			return nil
		})
		for i := range 3 {
			e.Report(e.Spam("rate limited "+bottest.Itoa(int64(i))), "429")
		}
		total += 3
		e.AssertOnePerReport(total)
		waitFaulted(t, p, mark, 5)
		// Each refused send was tried again with the same transaction id,
		// which is what keeps a retried send from posting twice.
		txns := map[string]int{}
		for _, r := range p.Since(mark) {
			if r.Method == http.MethodPut && strings.Contains(r.Path, "/send/") {
				txns[r.Path]++
			}
		}
		retried := 0
		for _, n := range txns {
			if n > 1 {
				retried++
			}
		}
		assert.Positive(t, retried, "a refused send is retried under its own transaction id")
		gavel.StillRunning(t)
		p.SetRule(nil)
	})

	t.Run("homeserver unreachable for 30 s", func(t *testing.T) {
		p.Down()
		e.Report(e.Spam("unreachable 1"), "down")
		e.Report(e.Spam("unreachable 2"), "down")
		total += 2
		time.Sleep(30 * time.Second)
		gavel.StillRunning(t)
		require.NoError(t, p.Up())
		e.AssertOnePerReport(total)
		reply := e.Command(e.Mod, "!status")
		assert.Contains(t, reply.Body, "Synapse "+e.Srv.Version)
		gavel.StillRunning(t)
	})
}

// TestReportsDeletedBySomeoneElse: another admin deletes reports while
// Gavel works. A report deleted between the listing and the look at its
// event is still posted (without the event); deleting seen reports, which
// shifts every offset in the listing, neither loses nor repeats one.
func TestReportsDeletedBySomeoneElse(t *testing.T) {
	e := newEnv(t, bottest.NewServer(t))
	p := e.ViaProxy()
	gavel := e.Start(func(o *bot.Options) { o.Feed.PageSize = 3 })

	// Deleted between Gavel's listing and its request for the details.
	// The rule is in place before the report is filed: Gavel may ask for
	// the details before the test would know the report's id.
	var deleted atomic.Bool
	var doomed int64
	p.SetRule(func(r *http.Request) faultproxy.Fault {
		id, isDetail := strings.CutPrefix(r.URL.Path, "/_synapse/admin/v1/event_reports/")
		if r.Method == http.MethodGet && isDetail && !deleted.Swap(true) {
			n, err := strconv.ParseInt(id, 10, 64)
			require.NoError(t, err)
			require.NoError(t, e.Admin.DeleteEventReport(bg, n))
		}
		return nil
	})
	doomedEvent := e.Spam("deleted under Gavel's feet")
	e.Report(doomedEvent, "doomed")
	notices := e.WaitNotices(1)
	doomed = bottest.Field(t, notices[0]).ReportID
	assert.Equal(t, doomedEvent, bottest.Field(t, notices[0]).EventID)
	assert.Contains(t, notices[0].Content.AsMessage().Body, "The reported event is no longer available in Synapse.")
	p.SetRule(nil)

	// Rounds of new reports while old, already posted ones are deleted.
	total := 1
	for round := range 4 {
		for i := range 4 {
			e.Report(e.Spam("round "+bottest.Itoa(int64(round))+" report "+bottest.Itoa(int64(i))), "round")
			total++
		}
		// Delete two reports Gavel has already posted.
		deletedNow := 0
		for _, n := range e.Notices() {
			f := bottest.Field(t, n)
			if deletedNow == 2 || f.ReportID == doomed {
				continue
			}
			if err := e.Admin.DeleteEventReport(bg, f.ReportID); err == nil {
				deletedNow++
			} else {
				require.True(t, adminapi.IsNotFound(err), "deleting report %d: %v", f.ReportID, err)
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	e.AssertOnePerReport(total)
	gavel.StillRunning(t)
}

// TestReportsArrivingWhileGavelPages: reports filed while Gavel reads a
// listing page by page, both in a full scan (oldest first: they join the
// end) and in a poll that lists the newest pages (newest first: they shift
// every offset under it; the usual poll looks reports up by id instead,
// but lists while a kind has had no report). Every report is still posted
// exactly once.
func TestReportsArrivingWhileGavelPages(t *testing.T) {
	e := newEnv(t, bottest.NewServer(t))
	p := e.ViaProxy()
	const before, during = 23, 5
	for i := range before {
		e.Report(e.Spam("backlog "+bottest.Itoa(int64(i))), "backlog")
	}
	var filed, quota atomic.Int32
	var directions sync.Map
	fileWhilePaging := func(r *http.Request) faultproxy.Fault {
		// Before Synapse answers for a later page, a new report arrives.
		if q := r.URL.Query(); faultproxy.IsReportListing(r) && q.Get("from") != "" && q.Get("from") != "0" && quota.Add(-1) >= 0 {
			directions.Store(q.Get("dir"), true)
			e.Report(e.Spam("filed while paging "+bottest.Itoa(int64(filed.Add(1)))), "paging")
		}
		return nil
	}
	quota.Store(during)
	p.SetRule(fileWhilePaging)
	// The first start's full scan.
	e.Start(func(o *bot.Options) { o.Feed.PageSize, o.Feed.ListOnly = 4, true })
	require.Eventually(t, func() bool { return filed.Load() == during }, time.Minute, 100*time.Millisecond)
	e.AssertOnePerReport(before + during)

	// The usual poll: hold it until ten reports are in, then let it page
	// back through them while more arrive.
	release := make(chan struct{})
	p.SetRule(func(r *http.Request) faultproxy.Fault {
		if faultproxy.IsReportListing(r) {
			<-release
		}
		return nil
	})
	for i := range 10 {
		e.Report(e.Spam("wave "+bottest.Itoa(int64(i))), "wave")
	}
	quota.Store(during)
	p.SetRule(fileWhilePaging)
	close(release)
	require.Eventually(t, func() bool { return filed.Load() == 2*during }, time.Minute, 100*time.Millisecond)
	e.AssertOnePerReport(before + 10 + 2*during)
	_, forward := directions.Load("f")
	_, backward := directions.Load("b")
	assert.True(t, forward && backward, "reports arrived during both kinds of paging")
}
