package productiontest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"

	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/internal/testkit/bottest"
	"github.com/gavel-bot/gavel/internal/testkit/faultproxy"
)

// TestSynapseIsProductionShaped: the shared server keeps its data in
// PostgreSQL and is reached through nginx, and Gavel says so.
func TestSynapseIsProductionShaped(t *testing.T) {
	e := newEnv(t)
	assert.Equal(t, "PostgreSQL behind nginx", e.Srv.Shape())
	assert.NotEqual(t, e.Srv.DirectURL, e.Srv.URL)
	assert.Equal(t, e.Srv.URL, e.Cfg.Matrix.Homeserver, "Gavel goes through nginx")
	e.Start()
	assert.Contains(t, e.Command(e.Mod, "!status").Body, "Synapse "+e.Srv.Version)
}

// TestReportThroughNginxWithDoorbell: with poll_interval at an hour, an
// event report and a user report filed through nginx each get exactly one
// card: nginx's mirror rang the doorbell, and Gavel polled at once.
func TestReportThroughNginxWithDoorbell(t *testing.T) {
	e := newEnv(t)
	e.Cfg.Reports.PollInterval = time.Hour
	e.Cfg.Reports.OnFirstStart = config.FirstStartSkip
	e.UseDoorbell()
	e.Start()
	e.WaitReply(e.Say(e.Mod, "!status")) // the first poll is behind it

	spam := e.Spam("buy now")
	e.Report(spam, "spam through nginx")
	assert.Equal(t, spam, bottest.Field(t, e.WaitNotices(1)[0]).EventID)
	require.NoError(t, e.World.ReportUser(bg, e.Spammer.UserID, "spammer"))
	e.WaitUserCards(1)
	e.AssertOnePerReport(1)
	for id, cards := range e.UserCards() {
		assert.Len(t, cards, 1, "user report %d", id)
	}
}

// TestReportThroughNginxPollingAlone: without the doorbell (Gavel does not
// listen; nginx's ring fails and changes nothing for Synapse), reports
// filed through nginx reach Synapse as filed and get exactly one card
// each at the next poll.
func TestReportThroughNginxPollingAlone(t *testing.T) {
	e := newEnv(t)
	e.Start()
	spam := e.Spam("buy now")
	e.Report(spam, "spam, polled")
	reportID := e.ReportID(spam)
	detail, err := e.Admin.EventReport(bg, reportID)
	require.NoError(t, err)
	assert.Equal(t, "spam, polled", detail.Reason, "Synapse got the report as filed")
	assert.Equal(t, reportID, bottest.Field(t, e.WaitNotices(1)[0]).ReportID)
	require.NoError(t, e.World.ReportUser(bg, e.Spammer.UserID, "spammer"))
	e.WaitUserCards(1)
	e.AssertOnePerReport(1)
	for id, cards := range e.UserCards() {
		assert.Len(t, cards, 1, "user report %d", id)
	}
}

// TestCommands: !report, !suspend, !redact and !room delete do what they
// do on SQLite, through nginx.
func TestCommands(t *testing.T) {
	e := newEnv(t)
	e.Start()
	spam := e.Spam("buy cheap stuff")
	e.Report(spam, "spam")
	reportID := e.ReportID(spam)
	e.WaitNotices(1)

	reply := e.Command(e.Mod, fmt.Sprintf("!report %d", reportID))
	assert.Contains(t, reply.Body, fmt.Sprintf("Report %d:", reportID))
	assert.Contains(t, reply.Body, "> buy cheap stuff")

	spammer := string(e.Spammer.UserID)
	reply = e.Command(e.Mod, "!suspend "+spammer)
	assert.Equal(t, "Suspended "+spammer+": they can still read, but not send, join or invite. `!unsuspend "+spammer+"` undoes it.", reply.Body)
	_, err := e.Spammer.SendText(bg, e.Public, "still here?")
	assert.ErrorContains(t, err, "M_USER_SUSPENDED")
	assert.Equal(t, "Lifted the suspension of "+spammer+".", e.Command(e.Mod, "!unsuspend "+spammer).Body)

	redact := e.Spam("redact me")
	reply = e.Command(e.Mod, "!redact "+string(e.Public)+" "+string(redact))
	assert.True(t, strings.HasPrefix(reply.Body, "Redacted "+string(redact)+" (sent by "+spammer), reply.Body)
	assert.True(t, e.Redacted(redact))

	doomed, err := e.Spammer.CreateRoom(bg, &mautrix.ReqCreateRoom{Name: "doomed"})
	require.NoError(t, err)
	deleting := e.WaitReply(e.Say(e.Mod, "!room delete "+string(doomed.RoomID)+" --yes"))
	assert.Regexp(t, `^Deleting doomed: Synapse has it queued \(task \w+\)\.`, deleting.Content.AsMessage().Body)
	edits := e.WaitEdited(deleting.ID, "Deleted ")
	assert.Equal(t, "Deleted doomed: 1 local user removed.", edits[len(edits)-1])
}

// TestSynapseRestartMidBurst: Synapse restarts behind nginx while Gavel
// posts a burst of reports (each send slowed down so that the restart
// lands in the middle); more reports come after. Every report gets
// exactly one card.
func TestSynapseRestartMidBurst(t *testing.T) {
	e := newEnv(t)
	e.Cfg.Reports.OnFirstStart = config.FirstStartSkip
	proxy := e.ViaProxy()
	proxy.SetRule(func(r *http.Request) faultproxy.Fault {
		if faultproxy.IsSend(r) {
			time.Sleep(150 * time.Millisecond)
		}
		return nil
	})
	e.Start()
	e.WaitReply(e.Say(e.Mod, "!status")) // the first poll is behind it
	const before, after = 30, 10
	e.ReportMany(before)
	require.Eventually(t, func() bool {
		counts, _ := e.Coverage()
		return len(counts) >= 3
	}, 30*time.Second, 50*time.Millisecond, "the burst's first cards")
	require.NoError(t, e.Srv.Restart(bg))
	counts, _ := e.Coverage()
	require.Less(t, len(counts), before, "the restart happened while the burst was being posted")
	t.Logf("%d of %d reports posted when Synapse was back", len(counts), before)
	e.ReportMany(after)
	e.AssertOnePerReport(before + after)
}
