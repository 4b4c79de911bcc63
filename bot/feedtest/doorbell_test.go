package feedtest

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	"github.com/gavel-bot/gavel/internal/testkit/bottest"
	"github.com/gavel-bot/gavel/internal/testkit/netutil"
	"github.com/gavel-bot/gavel/internal/testkit/nginxtest"
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
	e.T.Helper()
	proxy := nginxtest.Start(e.T, e.Srv.URL, doorbellAddr)
	cli, err := mautrix.NewClient(proxy.URL, e.Reporter.UserID, e.Reporter.AccessToken)
	require.NoError(e.T, err)
	return cli
}

// TestDoorbellThroughNginx: with poll_interval at an hour, reports filed
// through nginx (an event report, a user report) reach the room: nginx's
// mirror rang the doorbell, and Gavel polled at once.
func TestDoorbellThroughNginx(t *testing.T) {
	e := newEnv(t, bottest.NewServer(t))
	e.Cfg.Reports.PollInterval = time.Hour
	e.Cfg.Reports.DoorbellListen = freeAddr(t)
	reporter := e.viaNginx(e.Cfg.Reports.DoorbellListen)
	e.Start()
	e.WaitReply(e.Say(e.Mod, "!status")) // the first poll is behind it

	spam := e.Spam("buy now")
	require.NoError(t, e.Srv.FileReport(bg, reporter, e.Public, spam, "spam", -100))
	notices := e.WaitNotices(1)
	assert.Equal(t, spam, bottest.Field(t, notices[0]).EventID)

	require.NoError(t, e.Srv.FileUserReport(bg, reporter, e.Spammer.UserID, "spammer"))
	e.WaitUserCards(1)
}

// TestLostRingLosesNothing: when the doorbell cannot be reached (Gavel's
// is off, nginx rings a dead address), reports filed through nginx still
// reach Synapse unchanged and the room at the next poll.
func TestLostRingLosesNothing(t *testing.T) {
	e := newEnv(t, nil)
	reporter := e.viaNginx(freeAddr(t))
	e.Start()
	spam := e.Spam("buy now")
	require.NoError(t, e.Srv.FileReport(bg, reporter, e.Public, spam, "spam through nginx", -100))
	reportID := e.ReportID(spam)
	detail, err := e.Admin.EventReport(bg, reportID)
	require.NoError(t, err)
	assert.Equal(t, "spam through nginx", detail.Reason, "Synapse got the report as filed")
	assert.Equal(t, e.Reporter.UserID, detail.UserID)
	notice := e.WaitNotices(1)[0]
	assert.Equal(t, reportID, bottest.Field(t, notice).ReportID)
	assert.Equal(t, event.MsgText, notice.Content.AsMessage().MsgType)
}
