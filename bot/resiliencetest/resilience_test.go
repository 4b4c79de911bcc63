package bot

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

	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/store"
)

// coverage counts, for every report, the notices and digests that cover
// it: notices about this environment's public room, and every digest (the
// digest tests run on a homeserver of their own).
func (e *env) coverage() (map[store.ReportKey]int, []*event.Event) {
	counts := map[store.ReportKey]int{}
	var msgs []*event.Event
	for _, evt := range e.botMessages() {
		if isEdit(evt) {
			continue // an edit of a card shows the same report again
		}
		if _, ok := evt.Content.Raw["gavel.report"]; ok {
			if f := field(e.t, evt); f.RoomID == e.public {
				counts[store.ReportKey{ID: f.ReportID, ReceivedTS: f.ReceivedTS}]++
				msgs = append(msgs, evt)
			}
		}
		if keys, ok := evt.Content.Raw["gavel.report_keys"].([]any); ok {
			for _, k := range keys {
				pair := k.([]any)
				counts[store.ReportKey{ID: int64(pair[0].(float64)), ReceivedTS: int64(pair[1].(float64))}]++
			}
			msgs = append(msgs, evt)
		}
	}
	return counts, msgs
}

// assertOnePerReport checks that every report got exactly one notice or
// digest line, waiting a moment first for a duplicate to show up.
func (e *env) assertOnePerReport(want int) {
	e.t.Helper()
	require.Eventuallyf(e.t, func() bool {
		counts, _ := e.coverage()
		return len(counts) >= want
	}, time.Minute, 100*time.Millisecond, "waiting for %d reports to be posted", want)
	time.Sleep(1500 * time.Millisecond)
	counts, msgs := e.coverage()
	assert.Len(e.t, counts, want, "messages: %s", describe(msgs))
	for key, n := range counts {
		assert.Equal(e.t, 1, n, "report %v is covered %d times: %s", key, n, describe(msgs))
	}
}

func TestRestartDoesNotRepeat(t *testing.T) {
	e := newEnv(t, nil)
	gavel := e.start()
	e.report(e.spam("one"), "one")
	e.waitNotices(1)
	status := e.say(e.mod, "!status")
	e.waitReply(status)
	require.NoError(t, gavel.stop())

	// Down for a while: a report and a command arrive meanwhile.
	e.report(e.spam("two"), "two")
	help := e.say(e.mod, "!help")

	e.start()
	e.waitReply(help)
	e.report(e.spam("three"), "three")
	e.assertOnePerReport(3)
	assert.Len(t, e.replies(status), 1, "the command before the restart is not run again")
	assert.Len(t, e.replies(help), 1)
}

// newDevice logs Gavel's account in again and has the next start use that
// token: a new device, which the homeserver's transaction ids do not know.
func (e *env) newDevice() {
	e.t.Helper()
	relogin, err := e.srv.Client("").Login(bg, &mautrix.ReqLogin{
		Type: mautrix.AuthTypePassword, Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: e.botCli.UserID.Localpart()},
		Password: e.botPassword,
	})
	require.NoError(e.t, err)
	e.cfg.Matrix.AccessToken = relogin.AccessToken
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
			e.cfg.Reports.OnFirstStart = config.FirstStartSkip
			crash := errors.New("simulated crash after the send")
			gavel := e.start(func(o *Options) {
				o.AfterSend = func(key string) error {
					if strings.HasPrefix(key, "gavel-report-") {
						return crash
					}
					return nil
				}
			})
			e.report(e.spam("crash me"), "crash")
			select {
			case err := <-gavel.done:
				require.ErrorIs(t, err, crash)
				gavel.done <- err // for the cleanup's stop()
			case <-time.After(30 * time.Second):
				t.Fatal("Gavel did not reach the crash point")
			}
			require.Len(t, e.notices(), 1, "the notice was sent before the crash")

			if tt.newDevice {
				e.newDevice()
			}
			e.start()
			e.report(e.spam("after the crash"), "later")
			e.assertOnePerReport(2)
		})
	}
}

func TestHomeserverRestart(t *testing.T) {
	srv := newServer(t)
	e := newEnv(t, srv)
	e.start(func(o *Options) { o.Feed.AlertAfter = time.Second })
	first := e.spam("before")
	e.report(first, "before")
	e.waitNotices(1)
	firstID := e.reportID(first)

	// Synapse goes away; Gavel keeps retrying instead of exiting, and once
	// it is back says what happened.
	require.NoError(t, srv.StopProcess())
	time.Sleep(3 * time.Second)
	require.NoError(t, srv.Restart(bg))
	var alerts []string
	require.Eventually(t, func() bool {
		alerts = nil
		for _, evt := range e.botMessages() {
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
	require.NoError(t, e.admin.DeleteEventReport(bg, firstID))
	require.NoError(t, srv.Restart(bg))
	reused := e.spam("reused id")
	e.report(reused, "after")
	assert.Equal(t, firstID, e.reportID(reused), "Synapse reused the id (see synapse-notes.md)")

	notices := e.waitNotices(2)
	assert.Equal(t, reused, field(t, notices[1]).EventID)
	e.assertOnePerReport(2)

	// Commands work again too.
	reply := e.command(e.mod, "!status")
	assert.Contains(t, reply.Body, "Synapse "+srv.Version)
}

func TestPostgresBackend(t *testing.T) {
	e := newEnv(t, nil)
	e.usePostgres()
	gavel := e.start()
	e.report(e.spam("on postgres"), "pg")
	e.waitNotices(1)
	reply := e.command(e.mod, "!status")
	assert.Contains(t, reply.Body, "database postgres")
	require.NoError(t, gavel.stop())

	e.start()
	e.report(e.spam("after restart"), "pg")
	e.assertOnePerReport(2)
}

func TestSendHonoursRateLimits(t *testing.T) {
	e := newEnv(t, nil)
	// Only this test's reports, not every report on the shared server, at
	// one message a second.
	e.cfg.Reports.OnFirstStart = config.FirstStartSkip
	// The homeserver rate-limits the bot's messages hard.
	require.NoError(t, e.admin.Synapse.SetUserRatelimit(bg, e.botCli.UserID, synapseadmin.ReqSetRatelimit{MessagesPerSecond: 1, BurstCount: 2}))
	e.start()
	for i := range 5 {
		e.report(e.spam("limited "+itoa(int64(i))), "flood")
	}
	e.assertOnePerReport(5)
}

func TestStartupErrors(t *testing.T) {
	e := newEnv(t, nil)
	startErr := func() error {
		t.Helper()
		st := e.openStore()
		b, err := New(e.cfg, st, testLog(t), Options{})
		require.NoError(t, err)
		return b.Start(bg)
	}
	var startup *StartupError

	t.Run("not an admin", func(t *testing.T) {
		notAdmin := e.srv.User(t, "notadmin", false)
		e.cfg.Matrix.UserID, e.cfg.Matrix.AccessToken = notAdmin.UserID, notAdmin.AccessToken
		defer func() { e.cfg.Matrix.UserID, e.cfg.Matrix.AccessToken = e.botCli.UserID, e.botCli.AccessToken }()
		err := startErr()
		require.ErrorAs(t, err, &startup)
		assert.Equal(t, "matrix.access_token (used because synapse.admin_access_token is empty) belongs to "+string(notAdmin.UserID)+
			", who is not a Synapse server admin: make that account an admin, or put a server admin's token in synapse.admin_access_token", err.Error())

		// With an admin's token for the admin API, a plain account works.
		e.cfg.Synapse.AdminAccessToken = e.botCli.AccessToken
		defer func() { e.cfg.Synapse.AdminAccessToken = "" }()
		_, err = notAdmin.JoinRoomByID(bg, e.room)
		assert.Error(t, err, "not invited yet")
		err = startErr()
		require.ErrorAs(t, err, &startup)
		assert.Contains(t, err.Error(), "cannot join matrix.management_room "+string(e.room)+" (M_FORBIDDEN): invite "+string(notAdmin.UserID)+" to the room")
		_, err = e.mod.InviteUser(bg, e.room, &mautrix.ReqInviteUser{UserID: notAdmin.UserID})
		require.NoError(t, err)
		assert.NoError(t, startErr(), "joins by accepting the invite")
	})

	t.Run("bad tokens", func(t *testing.T) {
		e.cfg.Matrix.AccessToken = "syt_not_a_token"
		err := startErr()
		e.cfg.Matrix.AccessToken = e.botCli.AccessToken
		require.ErrorAs(t, err, &startup)
		assert.Equal(t, "the homeserver rejected matrix.access_token (M_UNKNOWN_TOKEN): log the bot in again and put the new token in the config or GAVEL_ACCESS_TOKEN", err.Error())
		assert.NotContains(t, err.Error(), "syt_not_a_token")

		e.cfg.Synapse.AdminAccessToken = "syt_bad_admin"
		err = startErr()
		e.cfg.Synapse.AdminAccessToken = ""
		require.ErrorAs(t, err, &startup)
		assert.Contains(t, err.Error(), "the homeserver rejected synapse.admin_access_token (M_UNKNOWN_TOKEN)")
	})

	t.Run("encrypted room without a pickle key", func(t *testing.T) {
		encrypted, err := e.mod.CreateRoom(bg, &mautrix.ReqCreateRoom{Invite: []id.UserID{e.botCli.UserID},
			InitialState: []*event.Event{{Type: event.StateEncryption, Content: event.Content{Parsed: &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}}}}})
		require.NoError(t, err)
		e.cfg.Matrix.ManagementRoom = encrypted.RoomID
		defer func() { e.cfg.Matrix.ManagementRoom = e.room }()
		err = startErr()
		require.ErrorAs(t, err, &startup)
		assert.Equal(t, "matrix.management_room "+string(encrypted.RoomID)+" is end-to-end encrypted, and encryption.pickle_key is empty: "+
			"set it (or GAVEL_PICKLE_KEY) to a long random secret, like the output of openssl rand -hex 32, and keep it; Gavel encrypts its keys in the database with it", err.Error())
	})

	t.Run("token of another user", func(t *testing.T) {
		e.cfg.Matrix.UserID = "@someone-else:" + id.UserID(e.srv.ServerName)
		err := startErr()
		e.cfg.Matrix.UserID = e.botCli.UserID
		require.ErrorAs(t, err, &startup)
		assert.Contains(t, err.Error(), "matrix.access_token belongs to "+string(e.botCli.UserID)+", not to matrix.user_id @someone-else")
	})
}

func TestInvitesToOtherRoomsAreIgnored(t *testing.T) {
	e := newEnv(t, nil)
	e.start()
	other, err := e.mod.CreateRoom(bg, &mautrix.ReqCreateRoom{Invite: []id.UserID{e.botCli.UserID}})
	require.NoError(t, err)
	e.command(e.mod, "!help") // a full sync round later
	var member event.MemberEventContent
	require.NoError(t, e.mod.StateEvent(bg, other.RoomID, event.StateMember, string(e.botCli.UserID), &member))
	assert.Equal(t, event.MembershipInvite, member.Membership, "still only invited")
}

func TestReinvitedIntoManagementRoom(t *testing.T) {
	e := newEnv(t, nil)
	e.start()
	e.command(e.mod, "!help")
	_, err := e.mod.KickUser(bg, e.room, &mautrix.ReqKickUser{UserID: e.botCli.UserID, Reason: "oops"})
	require.NoError(t, err)
	e.report(e.spam("while kicked"), "kicked")
	time.Sleep(time.Second)
	_, err = e.mod.InviteUser(bg, e.room, &mautrix.ReqInviteUser{UserID: e.botCli.UserID})
	require.NoError(t, err)
	// Gavel rejoins and posts what waited in the outbox.
	e.assertOnePerReport(1)
}

func TestCommandsInASyncGapAreAnswered(t *testing.T) {
	e := newEnv(t, nil)
	gavel := e.start()
	e.command(e.mod, "!help")
	require.NoError(t, gavel.stop())

	// While Gavel is down: chat, a command, and then more chat than one
	// sync returns. (Synapse may hand the first few events over in a sync
	// of their own, hence the chat before the command.)
	for i := range 20 {
		e.say(e.member, "chatter "+itoa(int64(i)))
	}
	status := e.say(e.mod, "!status")
	for i := range timelineLimit + 20 {
		e.say(e.member, "more chatter "+itoa(int64(i)))
	}
	e.start()
	reply := e.waitReply(status)
	assert.Contains(t, reply.Content.AsMessage().Body, "Gavel test · Synapse")
}

func TestCommandInterruptedByACrash(t *testing.T) {
	e := newEnv(t, nil)
	gavel := e.start()
	e.command(e.mod, "!help")
	require.NoError(t, gavel.stop())

	// Gavel had started this command when it stopped.
	spam := e.spam("spam")
	e.report(spam, "spam")
	reportID := e.reportID(spam)
	cmd := e.say(e.mod, "!report delete "+itoa(reportID))
	st := e.openStore()
	state, err := st.StartCommand(bg, cmd)
	require.NoError(t, err)
	require.Equal(t, store.CommandNew, state)
	require.NoError(t, st.Close())

	e.start()
	reply := e.waitReply(cmd).Content.AsMessage()
	assert.Equal(t, "Gavel stopped while running this command, so it may or may not have taken effect. Check, then send it again if needed.", reply.Body)
	_, err = e.admin.EventReport(bg, reportID)
	assert.NoError(t, err, "not run a second time")
}

// Without encryption no message waits for its keys, so an idle Gavel holds
// each sync open for 30 s instead of asking again every 5 s.
func TestSyncWaitsLongWithoutEncryption(t *testing.T) {
	e := newEnv(t, nil)
	p := e.viaProxy()
	e.start()
	assert.Contains(t, e.command(e.world.Moderator, "!help").Body, "!help")
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
