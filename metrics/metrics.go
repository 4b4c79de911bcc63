// Package metrics is Gavel's Prometheus metrics (prefix gavel_) and its
// health endpoints, served at metrics.listen: /metrics, /healthz (the
// process answers) and /readyz (the feed, the database and the management
// room are all right).
//
// Every label value comes from a small fixed set: a report kind, a
// message type, a command's name, an admin API route without its ids
// (adminapi.Error.Endpoint), a Matrix errcode. No user id, room id, event id or
// token is ever a label, so a scrape cannot leak who reported whom, and
// the number of series stays bounded.
//
// Every method of a nil *Metrics does nothing, so that packages can be
// used (and tested) without metrics.
//
// Of Gavel's packages it may import: none.
package metrics

import (
	"context"
	"regexp"
	"runtime"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Sources are what the metrics read from the rest of Gavel at scrape
// time. Any may be nil: its metrics are then left out.
type Sources struct {
	// Outbox returns how many messages wait to be sent, and when the
	// oldest of them was queued.
	Outbox func(ctx context.Context) (depth int64, oldest time.Time, err error)
	// Pending returns how many actions wait for a confirmation that can
	// still come.
	Pending func(ctx context.Context, now time.Time) (int64, error)
	// LastPoll returns when the feed last read every kind of report
	// successfully (zero before the first time).
	LastPoll func() time.Time
}

// scrapeTimeout bounds the database reads of one scrape: a database that
// hangs makes gavel_database_up 0 rather than a scrape that times out.
const scrapeTimeout = 2 * time.Second

// Metrics holds Gavel's metrics in a registry of their own (not
// Prometheus's global one), so that several Gavels in one process, as in
// the tests, do not mix.
type Metrics struct {
	reg *prometheus.Registry

	reportsSeen *prometheus.CounterVec
	posted      *prometheus.CounterVec
	poll        *prometheus.HistogramVec
	adminErrors *prometheus.CounterVec
	commands    *prometheus.CounterVec
	actions     *prometheus.CounterVec
	toClaim     *prometheus.HistogramVec
	toClose     *prometheus.HistogramVec
	active      prometheus.Gauge
}

// caseBuckets go from a minute to a week: how long reports wait for a
// moderator.
var caseBuckets = []float64{60, 300, 900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 24 * 3600, 3 * 24 * 3600, 7 * 24 * 3600}

// Build says which Gavel this is: the labels of gavel_build_info, beside
// go_version. Each is one of few values and names no one.
type Build struct {
	// Version is the release, or the release it comes after
	// (0.2.0-dev+455a6d7).
	Version string
	// Revision is the commit built, abbreviated (455a6d7, 455a6d7-dirty).
	Revision string
	// Date is the day of that commit, UTC (2026-12-01).
	Date string
}

// New returns the metrics of a Gavel of version, reading src at scrape
// time.
func New(version string, src Sources) *Metrics {
	return ForBuild(Build{Version: version}, src)
}

// ForBuild returns the metrics of the Gavel build describes, reading src
// at scrape time.
func ForBuild(build Build, src Sources) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.reportsSeen = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gavel_reports_seen_total",
		Help: "New reports the feed found and queued for the management room (as a card, in a digest or on another report's card), by kind: event, user or room. Reports already open at the first start are not counted.",
	}, []string{"kind"})
	m.posted = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gavel_messages_posted_total",
		Help: "Messages posted to the management room, by type: card, digest, duplicate, reply, reply_edit, card_edit, button, alert, failed_note, other.",
	}, []string{"type"})
	m.poll = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "gavel_poll_duration_seconds",
		Help:    "How long one poll of every kind of report took, by outcome: ok or error.",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
	}, []string{"outcome"})
	m.adminErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gavel_admin_api_errors_total",
		Help: "Failed admin API requests, by endpoint (method and route, ids left out) and errcode (Synapse's, else the HTTP status, or network when there was no answer). Not found answers are not counted: the feed gets one at most polls.",
	}, []string{"endpoint", "errcode"})
	m.commands = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gavel_commands_total",
		Help: "Commands, card buttons (command=\"button\") and confirmations (command=\"confirm\") handled, by outcome: ok, failed or preview (waits for a confirmation).",
	}, []string{"command", "outcome"})
	m.actions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gavel_actions_total",
		Help: "Entries of the action log (commands that change something, whether they did), by the command run and outcome: ok or failed.",
	}, []string{"action", "outcome"})
	m.toClaim = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "gavel_case_time_to_claim_seconds",
		Help:    "From a report being filed to its case being claimed (by command, or by an action for the report), by kind.",
		Buckets: caseBuckets,
	}, []string{"kind"})
	m.toClose = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "gavel_case_time_to_resolve_seconds",
		Help:    "From a report being filed to its case being closed by a moderator, by kind and outcome: resolved or dismissed.",
		Buckets: caseBuckets,
	}, []string{"kind", "outcome"})
	m.active = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "gavel_active",
		Help: "1 while this Gavel is the active one (polling and answering), 0 otherwise.",
	})
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "gavel_build_info",
		Help: "Always 1; the labels say which Gavel this is, as gavel -version does: version, revision (the commit), build_date (the commit's day) and go_version.",
		ConstLabels: prometheus.Labels{"version": build.Version, "revision": build.Revision, "build_date": build.Date,
			"go_version": runtime.Version()},
	})
	info.Set(1)
	m.reg.MustRegister(m.reportsSeen, m.posted, m.poll, m.adminErrors, m.commands, m.actions, m.toClaim, m.toClose, m.active, info,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), &scrapeCollector{src: src})
	return m
}

// Registry is where the metrics are registered, for the handler and tests.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ReportsSeen counts n new reports of kind.
func (m *Metrics) ReportsSeen(kind string, n int) {
	if m != nil && n > 0 {
		m.reportsSeen.WithLabelValues(kind).Add(float64(n))
	}
}

// Posted counts a message of type typ posted.
func (m *Metrics) Posted(typ string) {
	if m != nil {
		m.posted.WithLabelValues(typ).Inc()
	}
}

// Poll records one poll that took d and failed with err (nil: it
// succeeded).
func (m *Metrics) Poll(d time.Duration, err error) {
	if m == nil {
		return
	}
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.poll.WithLabelValues(outcome).Observe(d.Seconds())
}

// errcodes look like Matrix's (M_NOT_FOUND, ORG_EXAMPLE_THING): anything
// else Synapse sends becomes "other", so that no odd answer makes a
// series of its own.
var errcodeShape = regexp.MustCompile(`^[A-Z][A-Z0-9_.]{0,63}$`)

// AdminAPIError counts a failed admin API request to endpoint (see
// adminapi.Error.Endpoint) that got HTTP status (0: no answer) and errcode.
func (m *Metrics) AdminAPIError(endpoint string, status int, errcode string) {
	if m == nil {
		return
	}
	switch {
	case errcode != "" && errcodeShape.MatchString(errcode):
	case errcode != "":
		errcode = "other"
	case status == 0:
		errcode = "network"
	case status >= 200 && status < 300:
		errcode = "unreadable" // answered, but too large or not what was expected
	default:
		errcode = strconv.Itoa(status)
	}
	m.adminErrors.WithLabelValues(endpoint, errcode).Inc()
}

// Command outcomes.
const (
	OK      = "ok"
	Failed  = "failed"
	Preview = "preview"
)

// Command counts a command (its name, "button" or "confirm") handled with
// outcome.
func (m *Metrics) Command(name, outcome string) {
	if m != nil {
		m.commands.WithLabelValues(name, outcome).Inc()
	}
}

// Action counts an entry of the action log for the command name.
func (m *Metrics) Action(name string, ok bool) {
	if m == nil {
		return
	}
	outcome := OK
	if !ok {
		outcome = Failed
	}
	m.actions.WithLabelValues(name, outcome).Inc()
}

// CaseClaimed records that a case of kind was claimed after waiting
// waited since its report was filed.
func (m *Metrics) CaseClaimed(kind string, waited time.Duration) {
	if m != nil {
		m.toClaim.WithLabelValues(kind).Observe(max(waited, 0).Seconds())
	}
}

// CaseClosed records that a case of kind was closed with outcome
// (resolved or dismissed) waited after its report was filed.
func (m *Metrics) CaseClosed(kind, outcome string, waited time.Duration) {
	if m != nil {
		m.toClose.WithLabelValues(kind, outcome).Observe(max(waited, 0).Seconds())
	}
}

// SetActive sets gavel_active: whether this Gavel is the active one.
func (m *Metrics) SetActive(active bool) {
	if m == nil {
		return
	}
	if active {
		m.active.Set(1)
	} else {
		m.active.Set(0)
	}
}

// scrapeCollector reads, at each scrape, what lives in the database: the
// outbox and the confirmations pending. The database is the truth there:
// messages are queued by the feed, commands and tasks, in their own
// transactions, and sent by the sender, so a gauge kept current beside
// them would drift (and start wrong after a restart). Both reads use
// indexes (the unsent messages' partial index; pending is small).
type scrapeCollector struct{ src Sources }

var (
	outboxDepthDesc  = prometheus.NewDesc("gavel_outbox_depth", "Messages waiting to be posted to the management room.", nil, nil)
	outboxOldestDesc = prometheus.NewDesc("gavel_outbox_oldest_age_seconds", "How long the oldest message waiting to be posted has waited; 0 when none waits.", nil, nil)
	pendingDesc      = prometheus.NewDesc("gavel_confirmations_pending", "Actions waiting for a moderator's confirmation that has not expired.", nil, nil)
	databaseUpDesc   = prometheus.NewDesc("gavel_database_up", "1 when this scrape's reads of Gavel's database answered in time, else 0 (and the outbox and confirmation metrics are left out).", nil, nil)
	lastPollDesc     = prometheus.NewDesc("gavel_last_successful_poll_timestamp_seconds", "When the feed last read every kind of report successfully, as a Unix time; 0 before the first time.", nil, nil)
)

func (c *scrapeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{outboxDepthDesc, outboxOldestDesc, pendingDesc, databaseUpDesc, lastPollDesc} {
		ch <- d
	}
}

func (c *scrapeCollector) Collect(ch chan<- prometheus.Metric) {
	now := time.Now()
	if c.src.LastPoll != nil {
		ts := 0.0
		if t := c.src.LastPoll(); !t.IsZero() {
			ts = float64(t.UnixMilli()) / 1000
		}
		ch <- prometheus.MustNewConstMetric(lastPollDesc, prometheus.GaugeValue, ts)
	}
	if c.src.Outbox == nil && c.src.Pending == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	up := 1.0
	if c.src.Outbox != nil {
		if depth, oldest, err := c.src.Outbox(ctx); err != nil {
			up = 0
		} else {
			age := 0.0
			if depth > 0 && !oldest.IsZero() {
				age = max(now.Sub(oldest), 0).Seconds()
			}
			ch <- prometheus.MustNewConstMetric(outboxDepthDesc, prometheus.GaugeValue, float64(depth))
			ch <- prometheus.MustNewConstMetric(outboxOldestDesc, prometheus.GaugeValue, age)
		}
	}
	if c.src.Pending != nil {
		if n, err := c.src.Pending(ctx, now); err != nil {
			up = 0
		} else {
			ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(n))
		}
	}
	ch <- prometheus.MustNewConstMetric(databaseUpDesc, prometheus.GaugeValue, up)
}
