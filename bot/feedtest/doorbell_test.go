package bot

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	"github.com/gavel-bot/gavel/internal/netutil"
	"github.com/gavel-bot/gavel/internal/nginxtest"
)

// freeAddr is a loopback address nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	port, err := netutil.FreePort()
	require.NoError(t, err)
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// viaNginx returns the reporter's client, talking to Synapse through a
// real nginx set up with contrib/nginx/gavel-doorbell.conf, which rings
// doorbellAddr.
func (e *env) viaNginx(doorbellAddr string) *mautrix.Client {
	e.t.Helper()
	proxy := nginxtest.Start(e.t, e.srv.URL, doorbellAddr)
	cli, err := mautrix.NewClient(proxy.URL, e.reporter.UserID, e.reporter.AccessToken)
	require.NoError(e.t, err)
	return cli
}

// TestDoorbellThroughNginx: with poll_interval at an hour, reports filed
// through nginx (an event report, a user report) reach the room: nginx's
// mirror rang the doorbell, and Gavel polled at once.
func TestDoorbellThroughNginx(t *testing.T) {
	e := newEnv(t, newServer(t))
	e.cfg.Reports.PollInterval = time.Hour
	e.cfg.Reports.DoorbellListen = freeAddr(t)
	reporter := e.viaNginx(e.cfg.Reports.DoorbellListen)
	e.start()
	e.waitReply(e.say(e.mod, "!status")) // the first poll is behind it

	spam := e.spam("buy now")
	require.NoError(t, e.srv.FileReport(bg, reporter, e.public, spam, "spam", -100))
	notices := e.waitNotices(1)
	assert.Equal(t, spam, field(t, notices[0]).EventID)

	require.NoError(t, e.srv.FileUserReport(bg, reporter, e.spammer.UserID, "spammer"))
	e.waitUserCards(1)
}

// TestLostRingLosesNothing: when the doorbell cannot be reached (Gavel's
// is off, nginx rings a dead address), reports filed through nginx still
// reach Synapse unchanged and the room at the next poll.
func TestLostRingLosesNothing(t *testing.T) {
	e := newEnv(t, nil)
	reporter := e.viaNginx(freeAddr(t))
	e.start()
	spam := e.spam("buy now")
	require.NoError(t, e.srv.FileReport(bg, reporter, e.public, spam, "spam through nginx", -100))
	reportID := e.reportID(spam)
	detail, err := e.admin.EventReport(bg, reportID)
	require.NoError(t, err)
	assert.Equal(t, "spam through nginx", detail.Reason, "Synapse got the report as filed")
	assert.Equal(t, e.reporter.UserID, detail.UserID)
	notice := e.waitNotices(1)[0]
	assert.Equal(t, reportID, field(t, notice).ReportID)
	assert.Equal(t, event.MsgText, notice.Content.AsMessage().MsgType)
}
