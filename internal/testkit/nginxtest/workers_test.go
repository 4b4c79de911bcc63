package nginxtest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a stand-in upstream that notes the requests it gets.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func newRecorder(t *testing.T) *recorder {
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.seen = append(r.seen, req.Method+" "+req.URL.Path)
		r.mu.Unlock()
		_, _ = w.Write([]byte("{}"))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

func (r *recorder) addr() string { return strings.TrimPrefix(r.URL, "http://") }

// TestWorkerLayout runs contrib/nginx's two snippets as docs/workers.md
// tells admins of a Synapse with workers to include them, in front of
// stand-ins for the main process, the workers and Gavel's doorbell: report
// paths and the admin API reach the main process, and reports ring the
// doorbell; Gavel's sync, reads and sends reach the workers.
func TestWorkerLayout(t *testing.T) {
	if _, ok := Installed(); !ok {
		Start(t, "http://127.0.0.1:1", "127.0.0.1:1") // skips, or fails in CI
	}
	main, workers, doorbell := newRecorder(t), newRecorder(t), newRecorder(t)
	s, err := run(t.TempDir(), []upstream{{"synapse", main.addr()}, {"synapse_workers", workers.addr()}, {"gavel_doorbell", doorbell.addr()}},
		"include "+snippet("gavel-doorbell.conf")+";\n        include "+snippet("gavel-workers.conf")+";")
	require.NoError(t, err)
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("nginx's error log:\n%s", s.ErrorLog())
		}
	})

	const room, evt = "/rooms/!room:example.org", "/$eventsend1" // "send" in an event id is no send
	toMain := []string{
		"POST /_matrix/client/v3" + room + "/report" + evt,
		"POST /_matrix/client/v3" + room + "/report",
		"POST /_matrix/client/v3/users/@spammer:example.org/report",
		"GET /_synapse/admin/v1/event_reports/42",
		"GET /_synapse/admin/v1/event_reports",
		"POST /_synapse/admin/v1/rooms/!room:example.org/block",
		"GET /_matrix/client/versions",
		"GET /_matrix/client/v3/account/whoami",
	}
	toWorkers := []string{
		"GET /_matrix/client/v3/sync",
		"GET /_matrix/client/v3" + room + "/messages",
		"GET /_matrix/client/v3" + room + "/event" + evt,
		"PUT /_matrix/client/v3" + room + "/send/m.room.message/txn1",
		"PUT /_matrix/client/v3" + room + "/send/m.reaction/txn2",
		"PUT /_matrix/client/v3" + room + "/redact" + evt + "/txn3",
		"PUT /_matrix/client/v3" + room + "/state/m.room.power_levels/",
		"POST /_matrix/client/v3/join/!room:example.org",
	}
	for _, req := range append(append([]string(nil), toMain...), toWorkers...) {
		method, path, _ := strings.Cut(req, " ")
		r, err := http.NewRequest(method, s.URL+path, strings.NewReader("{}"))
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(r)
		require.NoError(t, err, req)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, req)
	}
	assert.Equal(t, toMain, main.got(), "the main process")
	assert.Equal(t, toWorkers, workers.got(), "the workers")
	// The mirror's ring does not hold the report up: it may land a moment
	// later.
	assert.Eventually(t, func() bool { return len(doorbell.got()) == 3 }, 5*time.Second, 20*time.Millisecond,
		"one ring per report: %q", doorbell.got())
	for _, ring := range doorbell.got() {
		assert.Equal(t, "POST /doorbell", ring)
	}
}
