// Package metricstest scrapes Gavel's /metrics for tests, and finds label
// values that could identify someone.
//
// Of Gavel's packages it may import: none.
package metricstest

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Scrape is one parsed answer of /metrics.
type Scrape struct {
	Text     string
	Families map[string]*dto.MetricFamily
}

// Get scrapes url (.../metrics) and parses the answer; a failure fails t.
func Get(t testing.TB, url string) Scrape {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scraping %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scraping %s: HTTP %d, %v: %s", url, resp.StatusCode, err, body)
	}
	return Parse(t, string(body))
}

// Parse parses text in Prometheus's text format; a failure fails t.
func Parse(t testing.TB, text string) Scrape {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parsing the scrape: %v\n%s", err, text)
	}
	return Scrape{Text: text, Families: fams}
}

// Value returns the value of the counter, gauge or (its count) histogram
// name whose labels include labels, and whether there is one. For a
// histogram it is the count of observations.
func (s Scrape) Value(name string, labels ...string) (float64, bool) {
	fam := s.Families[name]
	if fam == nil {
		return 0, false
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	total, found := 0.0, false
	for _, m := range fam.Metric {
		if !hasLabels(m, want) {
			continue
		}
		found = true
		switch {
		case m.Counter != nil:
			total += m.Counter.GetValue()
		case m.Gauge != nil:
			total += m.Gauge.GetValue()
		case m.Histogram != nil:
			total += float64(m.Histogram.GetSampleCount())
		case m.Untyped != nil:
			total += m.Untyped.GetValue()
		}
	}
	return total, found
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, l := range m.Label {
		if v, ok := want[l.GetName()]; ok {
			if v != l.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(want)
}

// Lines returns the lines of the scrape whose metric name starts with
// prefix, for a failure message or an excerpt.
func (s Scrape) Lines(prefix string) string {
	var out []string
	for _, line := range strings.Split(s.Text, "\n") {
		if strings.HasPrefix(line, prefix) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// serverName follows ':' in a Matrix id: a host name with a dot, an IP
// address, localhost, or anything with a port.
var serverName = regexp.MustCompile(`:(localhost|\[?[0-9a-fA-F:.]+\]?|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)(:[0-9]+)?`)

// Leaks returns every label value of the scrape that looks like it holds a
// Matrix id (a sigil @, !, $ or #, or ':' and a server name) or one of
// secrets, as "metric{label=value}", sorted.
func (s Scrape) Leaks(secrets ...string) []string {
	var out []string
	for name, fam := range s.Families {
		for _, m := range fam.Metric {
			for _, l := range m.Label {
				v := l.GetValue()
				bad := strings.ContainsAny(v, "@!$#") || serverName.MatchString(v)
				for _, secret := range secrets {
					bad = bad || (secret != "" && strings.Contains(v, secret))
				}
				if bad {
					out = append(out, fmt.Sprintf("%s{%s=%q}", name, l.GetName(), v))
				}
			}
		}
	}
	sort.Strings(out)
	return out
}
