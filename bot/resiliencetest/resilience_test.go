package resiliencetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/synapseadmin"

	"github.com/gavel-bot/gavel/bot"
	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/internal/testkit/bottest"
	"github.com/gavel-bot/gavel/store"
)

func TestRestartDoesNotRepeat(t *testing.T) {
	e := newEnv(t, nil)
	gavel := e.Start()
	e.Report(e.Spam("one"), "one")
	e.WaitNotices(1)
	status := e.Say(e.Mod, "!status")
	e.WaitReply(status)
	require.NoError(t, gavel.Stop())

	// Down for a while: a report and a command arrive meanwhile.
	e.Report(e.Spam("two"), "two")
	help := e.Say(e.Mod, "!help")

	e.Start()
	e.WaitReply(help)
	e.Report(e.Spam("three"), "three")
	e.AssertOnePerReport(3)
	assert.Len(t, e.Replies(status), 1, "the command before the restart is not run again")
	assert.Len(t, e.Replies(help), 1)
}

func TestCrashBetweenSendAndRecord(t *testing.T) {
	for _, tt := range []struct {
		name string
		// newDevice makes the restarted Gavel log in again: the homeserver
		// then has no memory of the first send's transaction id, and only
		// the look through the room prevents a second notice.
		newDevice bool
	}{
		{"same device", false},
		{"new device", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			// Other tests' reports on the shared server must not be posted
			// (and crash) first.
			e.Cfg.Reports.OnFirstStart = config.FirstStartSkip
			crash := errors.New("simulated crash after the send")
			gavel := e.Start(func(o *bot.Options) {
				o.AfterSend = func(key string) error {
					if strings.HasPrefix(key, "gavel-report-") {
						return crash
					}
					return nil
				}
			})
			e.Report(e.Spam("crash me"), "crash")
			select {
			case err := <-gavel.Done:
				require.ErrorIs(t, err, crash)
				gavel.Done <- err // for the cleanup's stop()
			case <-time.After(30 * time.Second):
				t.Fatal("Gavel did not reach the crash point")
			}
			require.Len(t, e.Notices(), 1, "the notice was sent before the crash")

			if tt.newDevice {
				e.NewDevice()
			}
			e.Start()
			e.Report(e.Spam("after the crash"), "later")
			e.AssertOnePerReport(2)
		})
	}
}

func TestHomeserverRestart(t *testing.T) {
	srv := bottest.NewServer(t)
	e := newEnv(t, srv)
	e.Start(func(o *bot.Options) { o.Feed.AlertAfter = time.Second })
	first := e.Spam("before")
	e.Report(first, "before")
	e.WaitNotices(1)
	firstID := e.ReportID(first)

	// Synapse goes away; Gavel keeps retrying instead of exiting, and once
	// it is back says what happened.
	require.NoError(t, srv.StopProcess())
	time.Sleep(3 * time.Second)
	require.NoError(t, srv.Restart(bg))
	var alerts []string
	require.Eventually(t, func() bool {
		alerts = nil
		for _, evt := range e.BotMessages() {
			if body := evt.Content.AsMessage().Body; strings.Contains(body, "reports from Synapse") {
				alerts = append(alerts, body)
			}
		}
		return len(alerts) == 2
	}, 30*time.Second, 200*time.Millisecond)
	assert.Regexp(t, `^Gavel cannot read reports from Synapse since \d\d:\d\d UTC \(Synapse does not answer\)\. It keeps trying`, alerts[0])
	assert.Regexp(t, `^Gavel reads reports from Synapse again \(it could not from \d\d:\d\d to \d\d:\d\d UTC\)\.$`, alerts[1])

	// The newest report is deleted and Synapse restarts: Synapse hands its
	// id out again. The new report with the reused id is still new.
	require.NoError(t, e.Admin.DeleteEventReport(bg, firstID))
	require.NoError(t, srv.Restart(bg))
	reused := e.Spam("reused id")
	e.Report(reused, "after")
	assert.Equal(t, firstID, e.ReportID(reused), "Synapse reused the id (see synapse-notes.md)")

	notices := e.WaitNotices(2)
	assert.Equal(t, reused, bottest.Field(t, notices[1]).EventID)
	e.AssertOnePerReport(2)

	// Commands work again too.
	reply := e.Command(e.Mod, "!status")
	assert.Contains(t, reply.Body, "Synapse "+srv.Version)
}

func TestPostgresBackend(t *testing.T) {
	e := newEnv(t, nil)
	e.UsePostgres()
	gavel := e.Start()
	e.Report(e.Spam("on postgres"), "pg")
	e.WaitNotices(1)
	reply := e.Command(e.Mod, "!status")
	assert.Contains(t, reply.Body, "database postgres")
	require.NoError(t, gavel.Stop())

	e.Start()
	e.Report(e.Spam("after restart"), "pg")
	e.AssertOnePerReport(2)
}

func TestSendHonoursRateLimits(t *testing.T) {
	e := newEnv(t, nil)
	// Only this test's reports, not every report on the shared server, at
	// one message a second.
	e.Cfg.Reports.OnFirstStart = config.FirstStartSkip
	// The homeserver rate-limits the bot's messages hard.
	require.NoError(t, e.Admin.Synapse.SetUserRatelimit(bg, e.BotCli.UserID, synapseadmin.ReqSetRatelimit{MessagesPerSecond: 1, BurstCount: 2}))
	e.Start()
	for i := range 5 {
		e.Report(e.Spam("limited "+bottest.Itoa(int64(i))), "flood")
	}
	e.AssertOnePerReport(5)
}

func TestStartupErrors(t *testing.T) {
	e := newEnv(t, nil)
	startErr := func() error {
		t.Helper()
		st := e.OpenStore()
		b, err := bot.New(e.Cfg, st, bottest.Log(t), bot.Options{})
		require.NoError(t, err)
		return b.Start(bg)
	}
	var startup *bot.StartupError

	t.Run("not an admin", func(t *testing.T) {
		notAdmin := e.Srv.User(t, "notadmin", false)
		e.Cfg.Matrix.UserID, e.Cfg.Matrix.AccessToken = notAdmin.UserID, notAdmin.AccessToken
		defer func() { e.Cfg.Matrix.UserID, e.Cfg.Matrix.AccessToken = e.BotCli.UserID, e.BotCli.AccessToken }()
		err := startErr()
		require.ErrorAs(t, err, &startup)
		assert.Equal(t, "matrix.access_token (used because synapse.admin_access_token is empty) belongs to "+string(notAdmin.UserID)+
			", who is not a Synapse server admin: make that account an admin, or put a server admin's token in synapse.admin_access_token", err.Error())

		// With an admin's token for the admin API, a plain account works.
		e.Cfg.Synapse.AdminAccessToken = e.BotCli.AccessToken
		defer func() { e.Cfg.Synapse.AdminAccessToken = "" }()
		_, err = notAdmin.JoinRoomByID(bg, e.Room)
		assert.Error(t, err, "not invited yet")
		err = startErr()
		require.ErrorAs(t, err, &startup)
		assert.Contains(t, err.Error(), "cannot join matrix.management_room "+string(e.Room)+" (M_FORBIDDEN): invite "+string(notAdmin.UserID)+" to the room")
		_, err = e.Mod.InviteUser(bg, e.Room, &mautrix.ReqInviteUser{UserID: notAdmin.UserID})
		require.NoError(t, err)
		assert.NoError(t, startErr(), "joins by accepting the invite")
	})

	t.Run("bad tokens", func(t *testing.T) {
		e.Cfg.Matrix.AccessToken = "syt_not_a_token"
		err := startErr()
		e.Cfg.Matrix.AccessToken = e.BotCli.AccessToken
		require.ErrorAs(t, err, &startup)
		assert.Equal(t, "the homeserver rejected matrix.access_token (M_UNKNOWN_TOKEN): log the bot in again and put the new token in the config or GAVEL_ACCESS_TOKEN", err.Error())
		assert.NotContains(t, err.Error(), "syt_not_a_token")

		e.Cfg.Synapse.AdminAccessToken = "syt_bad_admin"
		err = startErr()
		e.Cfg.Synapse.AdminAccessToken = ""
		require.ErrorAs(t, err, &startup)
		assert.Contains(t, err.Error(), "the homeserver rejected synapse.admin_access_token (M_UNKNOWN_TOKEN)")
	})

	t.Run("encrypted room without a pickle key", func(t *testing.T) {
		encrypted, err := e.Mod.CreateRoom(bg, &mautrix.ReqCreateRoom{Invite: []id.UserID{e.BotCli.UserID},
			InitialState: []*event.Event{{Type: event.StateEncryption, Content: event.Content{Parsed: &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}}}}})
		require.NoError(t, err)
		e.Cfg.Matrix.ManagementRoom = encrypted.RoomID
		defer func() { e.Cfg.Matrix.ManagementRoom = e.Room }()
		err = startErr()
		require.ErrorAs(t, err, &startup)
		assert.Equal(t, "matrix.management_room "+string(encrypted.RoomID)+" is end-to-end encrypted, and encryption.pickle_key is empty: "+
			"set it (or GAVEL_PICKLE_KEY) to a long random secret, like the output of openssl rand -hex 32, and keep it; Gavel encrypts its keys in the database with it", err.Error())
	})

	t.Run("token of another user", func(t *testing.T) {
		e.Cfg.Matrix.UserID = "@someone-else:" + id.UserID(e.Srv.ServerName)
		err := startErr()
		e.Cfg.Matrix.UserID = e.BotCli.UserID
		require.ErrorAs(t, err, &startup)
		assert.Contains(t, err.Error(), "matrix.access_token belongs to "+string(e.BotCli.UserID)+", not to matrix.user_id @someone-else")
	})
}

func TestInvitesToOtherRoomsAreIgnored(t *testing.T) {
	e := newEnv(t, nil)
	e.Start()
	other, err := e.Mod.CreateRoom(bg, &mautrix.ReqCreateRoom{Invite: []id.UserID{e.BotCli.UserID}})
	require.NoError(t, err)
	e.Command(e.Mod, "!help") // a full sync round later
	var member event.MemberEventContent
	require.NoError(t, e.Mod.StateEvent(bg, other.RoomID, event.StateMember, string(e.BotCli.UserID), &member))
	assert.Equal(t, event.MembershipInvite, member.Membership, "still only invited")
}

func TestReinvitedIntoManagementRoom(t *testing.T) {
	e := newEnv(t, nil)
	e.Start()
	e.Command(e.Mod, "!help")
	_, err := e.Mod.KickUser(bg, e.Room, &mautrix.ReqKickUser{UserID: e.BotCli.UserID, Reason: "oops"})
	require.NoError(t, err)
	e.Report(e.Spam("while kicked"), "kicked")
	time.Sleep(time.Second)
	_, err = e.Mod.InviteUser(bg, e.Room, &mautrix.ReqInviteUser{UserID: e.BotCli.UserID})
	require.NoError(t, err)
	// Gavel rejoins and posts what waited in the outbox.
	e.AssertOnePerReport(1)
}

func TestCommandsInASyncGapAreAnswered(t *testing.T) {
	e := newEnv(t, nil)
	gavel := e.Start()
	e.Command(e.Mod, "!help")
	require.NoError(t, gavel.Stop())

	// While Gavel is down: chat, a command, and then more chat than one
	// sync returns. (Synapse may hand the first few events over in a sync
	// of their own, hence the chat before the command.)
	for i := range 20 {
		e.Say(e.Member, "chatter "+bottest.Itoa(int64(i)))
	}
	status := e.Say(e.Mod, "!status")
	for i := range bot.TimelineLimit + 20 {
		e.Say(e.Member, "more chatter "+bottest.Itoa(int64(i)))
	}
	e.Start()
	reply := e.WaitReply(status)
	assert.Contains(t, reply.Content.AsMessage().Body, "Gavel test · Synapse")
}

func TestCommandInterruptedByACrash(t *testing.T) {
	e := newEnv(t, nil)
	gavel := e.Start()
	e.Command(e.Mod, "!help")
	require.NoError(t, gavel.Stop())

	// Gavel had started this command when it stopped.
	spam := e.Spam("spam")
	e.Report(spam, "spam")
	reportID := e.ReportID(spam)
	cmd := e.Say(e.Mod, "!report delete "+bottest.Itoa(reportID))
	st := e.OpenStore()
	state, err := st.Commands.Start(bg, cmd)
	require.NoError(t, err)
	require.Equal(t, store.CommandNew, state)
	require.NoError(t, st.Close())

	e.Start()
	reply := e.WaitReply(cmd).Content.AsMessage()
	assert.Equal(t, "Gavel stopped while running this command, so it may or may not have taken effect. Check, then send it again if needed.", reply.Body)
	_, err = e.Admin.EventReport(bg, reportID)
	assert.NoError(t, err, "not run a second time")
}

// Without encryption no message waits for its keys, so an idle Gavel holds
// each sync open for 30 s instead of asking again every 5 s.
func TestSyncWaitsLongWithoutEncryption(t *testing.T) {
	e := newEnv(t, nil)
	p := e.ViaProxy()
	e.Start()
	assert.Contains(t, e.Command(e.World.Moderator, "!help").Body, "!help")
	// A message Gavel reads ends the sync that is waiting (its own reply
	// does not), so that the next one is sent now rather than after the
	// waiting one's 30 s.
	e.Say(e.World.Moderator, "wake the sync")
	var timeouts []string
	require.Eventually(t, func() bool {
		timeouts = nil
		for _, r := range p.Requests() {
			if r.Path == "/_matrix/client/v3/sync" && r.Query.Has("since") {
				timeouts = append(timeouts, r.Query.Get("timeout"))
			}
		}
		return len(timeouts) >= 2
	}, 30*time.Second, 100*time.Millisecond, "Gavel's syncs after the first")
	for _, timeout := range timeouts {
		assert.Equal(t, "30000", timeout)
	}
}
