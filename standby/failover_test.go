package standby

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/internal/testkit/netutil"
	"github.com/gavel-bot/gavel/internal/testkit/pgtest"
	"github.com/gavel-bot/gavel/internal/testkit/synapsetest"
)

// takeoverBound is how soon a standby must be running Gavel after the
// active instance died or hung (issue 16).
const takeoverBound = 15 * time.Second

// pair is two gavel binaries on one PostgreSQL database and one world.
type pair struct {
	t           *testing.T
	world       *synapsetest.World
	cfg         config.Config
	databaseURI string

	mu    sync.Mutex
	filed []id.EventID // the reported events
}

// reported returns the events reported so far.
func (p *pair) reported() []id.EventID {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]id.EventID(nil), p.filed...)
}

func newPair(t *testing.T, databaseURI string) *pair {
	t.Helper()
	w, err := synapsetest.Shared(t).NewWorld(bg, synapsetest.WorldOptions{Unique: true})
	require.NoError(t, err)
	cfg := w.Config()
	cfg.Database.URI = databaseURI
	cfg.Logging.Level, cfg.Logging.Format = "debug", "json"
	cfg.Reports.MaxIndividual = 1000 // a card per report, whatever the burst
	cfg.Reports.PollInterval = time.Second
	return &pair{t: t, world: w, cfg: cfg, databaseURI: databaseURI}
}

// instance is one gavel process and its log.
type instance struct {
	t       *testing.T
	name    string
	proc    *synapsetest.Process
	log     *os.File
	metrics string // its metrics.listen address
}

// start runs an instance with the pair's configuration and a metrics
// address of its own.
func (p *pair) start(name string) *instance {
	t := p.t
	t.Helper()
	port, err := netutil.FreePort()
	require.NoError(t, err)
	cfg := p.cfg
	cfg.Metrics.Listen = "127.0.0.1:" + strconv.Itoa(port)
	cfgPath := filepath.Join(t.TempDir(), name+".yaml")
	require.NoError(t, synapsetest.WriteConfig(cfgPath, &cfg))
	logFile, err := os.Create(filepath.Join(t.TempDir(), name+".log"))
	require.NoError(t, err)
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(logFile.Name())
			t.Logf("%s's log:\n%s", name, b)
		}
	})
	proc, err := synapsetest.StartBinary(synapsetest.Binary(t), cfgPath, logFile)
	require.NoError(t, err)
	t.Cleanup(proc.Kill)
	return &instance{t: t, name: name, proc: proc, log: logFile, metrics: cfg.Metrics.Listen}
}

// logged returns the instance's log from byte offset from on.
func (in *instance) logged(from int) string {
	b, err := os.ReadFile(in.log.Name())
	require.NoError(in.t, err)
	return string(b[min(from, len(b)):])
}

func (in *instance) size() int { return len(in.logged(0)) }

// waitFor waits until the log after offset from holds msg n times, and
// returns when that was.
func (in *instance) waitFor(from int, msg string, n int, within time.Duration) time.Time {
	in.t.Helper()
	require.Eventuallyf(in.t, func() bool { return strings.Count(in.logged(from), msg) >= n }, within, 20*time.Millisecond,
		"%s: waiting for %q", in.name, msg)
	return time.Now()
}

// get fetches path from the instance's metrics address.
func (in *instance) get(path string) (int, string) {
	in.t.Helper()
	resp, err := http.Get("http://" + in.metrics + path)
	require.NoError(in.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(in.t, err)
	return resp.StatusCode, string(body)
}

// active is the instance's gavel_active gauge.
func (in *instance) active() string {
	_, body := in.get("/metrics")
	for line := range strings.Lines(body) {
		if value, ok := strings.CutPrefix(line, "gavel_active "); ok {
			return strings.TrimSpace(value)
		}
	}
	return "missing"
}

// posted counts the messages the instance's sender logged as posted.
func (in *instance) posted(from int) int { return strings.Count(in.logged(from), `"message":"Posted"`) }

// report files n reports about new spam, four at a time.
func (p *pair) report(n int) {
	p.t.Helper()
	var wg sync.WaitGroup
	work := make(chan int)
	for range 4 {
		wg.Go(func() {
			for i := range work {
				evt, err := p.world.Spam(bg, "spam "+strings.Repeat("x", i%7))
				if !assert.NoError(p.t, err) {
					continue
				}
				assert.NoError(p.t, p.world.Report(bg, evt, "spam"))
				p.mu.Lock()
				p.filed = append(p.filed, evt)
				p.mu.Unlock()
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
}

// cards counts Gavel's cards in the management room per reported event.
func (p *pair) cards() map[id.EventID]int {
	p.t.Helper()
	filter := &mautrix.FilterPart{Senders: []id.UserID{p.world.Bot.UserID}, Types: []event.Type{event.EventMessage}}
	counts := map[id.EventID]int{}
	from := ""
	for {
		resp, err := p.world.Moderator.Messages(bg, p.world.ManagementRoom, from, "", mautrix.DirectionBackward, filter, 1000)
		require.NoError(p.t, err)
		for _, evt := range resp.Chunk {
			fields, ok := evt.Content.Raw["gavel.report"].(map[string]any)
			if !ok {
				continue
			}
			if rel, ok := evt.Content.Raw["m.relates_to"].(map[string]any); ok && rel["rel_type"] == "m.replace" {
				continue // an edit of a card
			}
			if eventID, ok := fields["event_id"].(string); ok {
				counts[id.EventID(eventID)]++
			}
		}
		if resp.End == "" || len(resp.Chunk) == 0 {
			return counts
		}
		from = resp.End
	}
}

// botEvents returns the ids of every event Gavel's account sent to the
// management room.
func (p *pair) botEvents() map[id.EventID]bool {
	p.t.Helper()
	filter := &mautrix.FilterPart{Senders: []id.UserID{p.world.Bot.UserID}}
	events := map[id.EventID]bool{}
	from := ""
	for {
		resp, err := p.world.Moderator.Messages(bg, p.world.ManagementRoom, from, "", mautrix.DirectionBackward, filter, 1000)
		require.NoError(p.t, err)
		for _, evt := range resp.Chunk {
			events[evt.ID] = true
		}
		if resp.End == "" || len(resp.Chunk) == 0 {
			return events
		}
		from = resp.End
	}
}

// assertOneCardEach waits until every filed report has a card, lets any
// straggler arrive, and checks that each has exactly one.
func (p *pair) assertOneCardEach() {
	t := p.t
	t.Helper()
	filed := p.reported()
	require.Eventuallyf(t, func() bool { return len(p.cards()) >= len(filed) }, time.Minute, 200*time.Millisecond,
		"waiting for %d cards", len(filed))
	time.Sleep(2 * time.Second)
	counts := p.cards()
	assert.Len(t, counts, len(filed))
	for _, evt := range filed {
		assert.Equal(t, 1, counts[evt], "cards for the report about %s", evt)
	}
}

// startBoth starts A, waits until it is active, then B, until it stands by.
func (p *pair) startBoth() (a, b *instance) {
	a = p.start("A")
	a.waitFor(0, "Gavel started", 1, time.Minute)
	b = p.start("B")
	b.waitFor(0, "Standing by: ", 1, time.Minute)
	assert.NotContains(p.t, b.logged(0), "Gavel started")
	// The standby says so, and who is active, on its metrics address.
	code, body := b.get("/readyz")
	assert.Equal(p.t, http.StatusServiceUnavailable, code)
	assert.Contains(p.t, body, `is the active instance`)
	assert.Equal(p.t, "0", b.active())
	assert.Equal(p.t, "1", a.active())
	code, _ = b.get("/healthz")
	assert.Equal(p.t, http.StatusOK, code)
	return a, b
}

// interruptDuringBurst files n reports, sends the active instance a sig
// once it has posted a few of their cards, checks that b takes over within
// the bound, and waits until every report has exactly one card.
func (p *pair) interruptDuringBurst(a, b *instance, n int, sig syscall.Signal) {
	t := p.t
	t.Helper()
	go p.report(n)
	require.Eventually(t, func() bool { return a.posted(0) >= 3 }, time.Minute, 5*time.Millisecond, "A posts")
	require.NoError(t, a.proc.Signal(sig))
	at := time.Now()
	t.Logf("A: %s, after it posted %d messages", sig, a.posted(0))
	started := b.waitFor(0, "Gavel started", 1, time.Minute)
	t.Logf("B took over %s later", started.Sub(at).Round(time.Millisecond))
	assert.LessOrEqual(t, started.Sub(at), takeoverBound)
	require.Eventually(t, func() bool { return len(p.reported()) == n }, time.Minute, 50*time.Millisecond)
	p.assertOneCardEach()
}

// TestStandbyTakesOverFromAKilledInstance: the active gavel is SIGKILLed
// in the middle of posting a burst of 50 reports; the standby takes over
// within the bound and every report has exactly one card.
func TestStandbyTakesOverFromAKilledInstance(t *testing.T) {
	p := newPair(t, pgtest.URI(t))
	a, b := p.startBoth()
	p.interruptDuringBurst(a, b, 50, syscall.SIGKILL)
	assert.Equal(t, "1", b.active())
	code, body := b.get("/readyz")
	assert.Equal(t, http.StatusOK, code, body)
}

// TestStandbyTakesOverFromAHungInstance: the active gavel is SIGSTOPped
// (hung) with messages waiting to be posted; the standby takes over within
// the bound, and when the stopped one resumes it sends nothing and stands
// by.
func TestStandbyTakesOverFromAHungInstance(t *testing.T) {
	p := newPair(t, pgtest.URI(t))
	a, b := p.startBoth()
	p.interruptDuringBurst(a, b, 30, syscall.SIGSTOP)

	// A send A had written to the network before it stopped may complete
	// when it resumes; A must not send anything new.
	inRoom := p.botEvents()
	resumedAt := a.size()
	require.NoError(t, a.proc.Signal(syscall.SIGCONT))
	a.waitFor(resumedAt, "Standing by: ", 1, 30*time.Second)
	p.report(5)
	p.assertOneCardEach()
	after := a.logged(resumedAt)
	for line := range strings.Lines(after) {
		if !strings.Contains(line, `"message":"Posted"`) {
			continue
		}
		var posted struct {
			EventID id.EventID `json:"event_id"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &posted))
		assert.True(t, inRoom[posted.EventID], "A posted something new after it resumed: %s", line)
	}
	assert.NotContains(t, after, "Gavel started")
	assert.Contains(t, b.logged(0), "ending its database sessions to take over")
}

// TestDatabaseRestartUnderBoth: PostgreSQL restarts under an active and a
// standby gavel; one of them is active afterwards, and every report, filed
// before and after, has exactly one card.
func TestDatabaseRestartUnderBoth(t *testing.T) {
	pg := pgtest.New(t)
	p := newPair(t, pg.URI(t))
	a, b := p.startBoth()
	p.report(10)
	p.assertOneCardEach()

	fromA, fromB := a.size(), b.size()
	require.NoError(t, pg.Restart())
	restarted := time.Now()
	go p.report(10)
	require.Eventually(t, func() bool {
		return strings.Contains(a.logged(fromA), "This instance is the active one") ||
			strings.Contains(b.logged(fromB), "This instance is the active one")
	}, time.Minute, 50*time.Millisecond, "one instance is active again")
	t.Logf("active again %s after the restart", time.Since(restarted).Round(time.Millisecond))
	require.Eventually(t, func() bool { return len(p.reported()) == 20 }, time.Minute, 50*time.Millisecond)
	p.assertOneCardEach()
	for _, in := range []*instance{a, b} {
		select {
		case <-in.proc.Done():
			t.Errorf("%s exited", in.name)
		default:
		}
	}
	instances, err := openStore(t, p.databaseURI).Instances.List(bg, time.Now().Add(-time.Minute))
	require.NoError(t, err)
	active := 0
	for _, in := range instances {
		if in.Active {
			active++
		}
	}
	assert.Equal(t, 1, active, "instances: %+v", instances)
}
