package commandstest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// upload uploads a file as the spammer and posts it in the public room.
func (e *env) upload(name string) id.ContentURI {
	e.T.Helper()
	resp, err := e.Spammer.UploadBytesWithName(bg, []byte(name+time.Now().String()), "image/png", name)
	require.NoError(e.T, err)
	_, err = e.Spammer.SendMessageEvent(bg, e.Public, event.EventMessage, &event.MessageEventContent{
		MsgType: event.MsgImage, Body: name, URL: resp.ContentURI.CUString(),
	})
	require.NoError(e.T, err)
	return resp.ContentURI
}

func (e *env) quarantinedBy(uri id.ContentURI) id.UserID {
	e.T.Helper()
	info, err := e.Admin.MediaInfo(bg, uri)
	require.NoError(e.T, err)
	return info.QuarantinedBy
}

func (e *env) protected(uri id.ContentURI) bool {
	e.T.Helper()
	info, err := e.Admin.MediaInfo(bg, uri)
	require.NoError(e.T, err)
	return bool(info.SafeFromQuarantine)
}

func TestCommands(t *testing.T) {
	e := newEnv(t, nil)
	e.Start()
	spam := e.Spam("buy cheap <b>stuff</b>")
	e.Report(spam, "spam")
	reportID := e.ReportID(spam)
	e.WaitNotices(1)

	t.Run("help", func(t *testing.T) {
		reply := e.Command(e.Mod, "!help")
		assert.Equal(t, event.MsgNotice, reply.MsgType)
		for _, usage := range []string{"!help [command]", "!reports [--kind event|user|room|all] [--state", "!report [show] <id>", "!report delete <id>", "!report claim <id>", "!audit",
			"!quarantine media", "!unquarantine media", "!quarantine room", "!quarantine user", "!protect media", "!unprotect media",
			"!user <@user:server>", "!suspend", "!unsuspend", "!lock", "!unlock", "!shadowban", "!unshadowban", "!room [show]", "!room block", "!room unblock", "!status"} {
			assert.Contains(t, reply.Body, usage)
		}
		// Gavel's own syntax is not defanged like hostile text.
		assert.Contains(t, reply.Body, "`!quarantine media <mxc://server/media_id | server media_id | media_id> [--report <id>]`")
		reply = e.Command(e.Mod, "!help quarantine")
		assert.Contains(t, reply.Body, "Quarantines every media item the user uploaded")
		assert.NotContains(t, reply.Body, "!status")
		reply = e.Command(e.Mod, "!help frobnicate")
		assert.Equal(t, "There is no command `!frobnicate`. `!help` lists them.", reply.Body)
	})

	t.Run("replies are inert notices that reply to the command", func(t *testing.T) {
		cmd := e.Say(e.Mod, "!status")
		reply := e.WaitReply(cmd)
		msg := reply.Content.AsMessage()
		assert.Equal(t, event.MsgNotice, msg.MsgType)
		assert.Equal(t, cmd, msg.RelatesTo.GetReplyTo())
		mentions, ok := reply.Content.Raw["m.mentions"].(map[string]any)
		require.True(t, ok)
		assert.Empty(t, mentions)
	})

	t.Run("status", func(t *testing.T) {
		reply := e.Command(e.Mod, "!status")
		assert.Contains(t, reply.Body, "Gavel test · Synapse "+e.Srv.Version+" · database sqlite3")
		assert.Regexp(t, `Reports: last polled \d+s ago\. \d+ event reports? and \d+ user reports? open in Synapse\.`, reply.Body)
	})

	t.Run("reports", func(t *testing.T) {
		reply := e.Command(e.Mod, "!reports --room "+string(e.Public))
		assert.Contains(t, reply.Body, "1 open report, newest first:")
		assert.Contains(t, reply.Body, fmt.Sprintf("• %d · %s reported %s in Free <b>stuff</b>", reportID, e.Reporter.UserID, e.Spammer.UserID))
		assert.True(t, strings.HasSuffix(reply.Body, " ago\n`!report <id>` shows one."), reply.Body, "the hint has a line of its own")
		assert.Contains(t, reply.FormattedBody, "Free &lt;b&gt;stuff&lt;/b&gt;")

		alias := e.alias()
		reply = e.Command(e.Mod, "!reports --room "+alias+" --sender "+string(e.Spammer.UserID)+" --user "+string(e.Reporter.UserID))
		assert.Contains(t, reply.Body, fmt.Sprintf("• %d ·", reportID))

		reply = e.Command(e.Mod, "!reports --sender "+string(e.Mod.UserID))
		assert.Equal(t, "No open reports match.", reply.Body)

		reply = e.Command(e.Mod, "!reports --room #nowhere:"+e.Srv.ServerName)
		assert.Contains(t, reply.Body, "Room alias #nowhere:"+e.Srv.ServerName+" does not exist (M_NOT_FOUND).")
	})

	t.Run("account and room actions from chat", func(t *testing.T) {
		spammer := string(e.Spammer.UserID)
		reply := e.Command(e.Mod, "!suspend https://matrix.to/#/"+spammer)
		assert.Equal(t, "Suspended "+spammer+": they can still read, but not send, join or invite. `!unsuspend "+spammer+"` undoes it.", reply.Body)
		_, err := e.Spammer.SendText(bg, e.Public, "still here?")
		assert.ErrorContains(t, err, "M_USER_SUSPENDED")
		reply = e.Command(e.Mod, "!user "+spammer)
		assert.Contains(t, reply.Body, "State: suspended")
		assert.Equal(t, "Lifted the suspension of "+spammer+".", e.Command(e.Mod, "!unsuspend "+spammer).Body)

		alias := e.alias()
		named := "Free <b>stuff</b> (" + alias + ")"
		reply = e.Command(e.Mod, "!room block "+alias)
		assert.Contains(t, reply.Body, "Blocked "+named+": local users can no longer join it.")
		assert.Contains(t, e.Command(e.Mod, "!room "+alias).Body, "blocked on this server by "+string(e.BotCli.UserID))
		assert.Equal(t, "Unblocked "+named+".", e.Command(e.Mod, "!room unblock "+alias).Body)

		spam := e.Spam("redact me")
		link := "https://matrix.to/#/" + string(e.Public) + "/" + string(spam) + "?via=" + e.Srv.ServerName
		reply = e.Command(e.Mod, "!redact "+link+` --reason "spam link"`)
		assert.Equal(t, "Redacted "+string(spam)+" (sent by "+spammer+" in "+named+"), reason: `spam link`.", reply.Body)
		gone, err := e.Reporter.GetEvent(bg, e.Public, spam)
		require.NoError(t, err)
		assert.Empty(t, gone.Content.Raw)

		reply = e.Command(e.Mod, "!lock "+string(e.BotCli.UserID))
		assert.True(t, strings.HasPrefix(reply.Body, "Not done: "+string(e.BotCli.UserID)+" is Gavel's own account"), reply.Body)

		actions, err := e.OpenStore().Actions.Latest(bg, 10)
		require.NoError(t, err)
		var logged []string
		for _, a := range actions {
			logged = append(logged, a.Command)
		}
		assert.Contains(t, logged, "!room block "+alias, "actions are logged")
		assert.NotContains(t, logged, "!room "+alias, "a look at a room is not an action")
	})

	t.Run("report show", func(t *testing.T) {
		for _, cmd := range []string{"!report %d", "!report show %d"} {
			reply := e.Command(e.Mod, fmt.Sprintf(cmd, reportID))
			assert.Contains(t, reply.Body, fmt.Sprintf("Report %d:", reportID))
			assert.Contains(t, reply.Body, "> buy cheap <b>stuff</b>")
			assert.Contains(t, reply.FormattedBody, "buy cheap &lt;b&gt;stuff&lt;/b&gt;")
		}
		reply := e.Command(e.Mod, "!report 999999")
		assert.Equal(t, "Report 999999 does not exist (Synapse: M_NOT_FOUND).", reply.Body)
	})

	t.Run("report delete", func(t *testing.T) {
		reply := e.Command(e.Mod, fmt.Sprintf("!report delete %d", reportID))
		assert.Equal(t, fmt.Sprintf("Deleted report %d. Its case is closed.", reportID), reply.Body)
		_, err := e.Admin.EventReport(bg, reportID)
		assert.Error(t, err, "the report is gone from Synapse")

		reply = e.Command(e.Mod, fmt.Sprintf("!report delete %d", reportID))
		assert.Equal(t, fmt.Sprintf("Report %d does not exist (Synapse: M_NOT_FOUND).", reportID), reply.Body)
	})

	t.Run("media", func(t *testing.T) {
		cat, dog, fox := e.upload("cat.png"), e.upload("dog.png"), e.upload("fox.png")

		reply := e.Command(e.Mod, "!quarantine media "+cat.String())
		assert.True(t, strings.HasPrefix(reply.Body, "Quarantined "+cat.String()+" (image/png, "), reply.Body)
		assert.Contains(t, reply.Body, "uploaded by "+string(e.Spammer.UserID))
		assert.Equal(t, e.BotCli.UserID, e.quarantinedBy(cat))

		reply = e.Command(e.Mod, "!quarantine media "+cat.Homeserver+" "+cat.FileID)
		assert.Equal(t, "Already quarantined: "+cat.String()+" (by "+string(e.BotCli.UserID)+").", reply.Body)

		reply = e.Command(e.Mod, "!unquarantine media "+cat.String())
		assert.True(t, strings.HasPrefix(reply.Body, "Lifted the quarantine of "+cat.String()), reply.Body)
		assert.Empty(t, e.quarantinedBy(cat))

		reply = e.Command(e.Mod, "!protect media "+dog.FileID)
		assert.True(t, strings.HasPrefix(reply.Body, "Protected "+dog.String()), reply.Body)
		assert.True(t, e.protected(dog))

		reply = e.Command(e.Mod, "!quarantine media "+dog.String())
		assert.Contains(t, reply.Body, "Not quarantined: "+dog.String()+" is protected.")
		assert.Empty(t, e.quarantinedBy(dog))

		reply = e.Command(e.Mod, "!quarantine room "+string(e.Public))
		assert.Equal(t, "Quarantined 2 media items in Free <b>stuff</b> ("+e.alias()+").", reply.Body, "cat and fox; dog is protected")
		assert.Equal(t, e.BotCli.UserID, e.quarantinedBy(fox))
		assert.Empty(t, e.quarantinedBy(dog))

		reply = e.Command(e.Mod, "!unprotect media "+dog.String())
		assert.True(t, strings.HasPrefix(reply.Body, "Removed the protection of "+dog.String()), reply.Body)
		assert.False(t, e.protected(dog))

		alias := e.alias()
		reply = e.Command(e.Mod, "!quarantine room "+alias)
		// Synapse counts every unprotected item in the room, also those
		// quarantined before.
		assert.Equal(t, "Quarantined 3 media items in Free <b>stuff</b> ("+alias+").", reply.Body)
		assert.Equal(t, e.BotCli.UserID, e.quarantinedBy(dog), "no longer protected")

		_, err := e.Admin.UnquarantineMedia(bg, fox)
		require.NoError(t, err)
		reply = e.Command(e.Mod, "!quarantine user https://matrix.to/#/"+string(e.Spammer.UserID))
		assert.Equal(t, "Quarantined 1 media item uploaded by "+string(e.Spammer.UserID)+".", reply.Body)
		assert.Equal(t, e.BotCli.UserID, e.quarantinedBy(fox))

		reply = e.Command(e.Mod, "!quarantine media mxc://"+e.Srv.ServerName+"/doesNotExist")
		assert.Equal(t, "Media mxc://"+e.Srv.ServerName+"/doesNotExist does not exist (Synapse: M_NOT_FOUND).", reply.Body)
	})

	t.Run("mistakes", func(t *testing.T) {
		for cmd, want := range map[string]string{
			"!frobnicate":            "Unknown command !frobnicate: !help lists the commands.",
			"!report delete abc":     "Report id must be a positive whole number, like 12 (u12 for a user report, r12 for a room report) (got \"abc\"); usage: report delete <id>. See `!help report delete`.",
			"!quarantine room abc":   "\"abc\" is not a room",
			"!quarantine media ../x": "\"../x\" is not a media id",
		} {
			reply := e.Command(e.Mod, cmd)
			assert.Contains(t, reply.Body, want, cmd)
		}
	})

	t.Run("actions are logged", func(t *testing.T) {
		st := e.OpenStore()
		actions, err := st.Actions.Latest(bg, 100)
		require.NoError(t, err)
		var deletes int
		for _, a := range actions {
			if a.Command == fmt.Sprintf("!report delete %d", reportID) {
				deletes++
				assert.Equal(t, e.Mod.UserID, a.Sender)
			}
		}
		assert.Equal(t, 2, deletes, "both attempts, the failed one too")
	})
}

func TestRefusalForLowPower(t *testing.T) {
	e := newEnv(t, nil)
	e.Start()
	spam := e.Spam("spam")
	e.Report(spam, "spam")
	reportID := e.ReportID(spam)
	e.WaitNotices(1) // Gavel knows the report: deleting it closes its case

	reply := e.Command(e.Member, fmt.Sprintf("!report delete %d", reportID))
	assert.Equal(t, "Sorry, Gavel's commands need power level 50 in this room; yours is 0.", reply.Body)
	_, err := e.Admin.EventReport(bg, reportID)
	assert.NoError(t, err, "nothing ran")

	reply = e.Command(e.Member, "!frobnicate")
	assert.Contains(t, reply.Body, "Sorry", "even unknown commands are refused, so nothing is revealed")

	// Chat is not a command and gets no reply.
	chat := e.Say(e.Member, "hello everyone")
	e.SetPowerLevel(e.Member.UserID, 50)
	reply = e.Command(e.Member, fmt.Sprintf("!report delete %d", reportID))
	assert.Equal(t, fmt.Sprintf("Deleted report %d. Its case is closed.", reportID), reply.Body, "power level changes are picked up")
	assert.Empty(t, e.Replies(chat))
}

func TestIgnoresNoticesEditsAndItself(t *testing.T) {
	e := newEnv(t, nil)
	e.Start()
	notice, err := e.Mod.SendNotice(bg, e.Room, "!status")
	require.NoError(t, err)
	edit, err := e.Mod.SendMessageEvent(bg, e.Room, event.EventMessage, &event.MessageEventContent{
		MsgType: event.MsgText, Body: "* !status",
		NewContent: &event.MessageEventContent{MsgType: event.MsgText, Body: "!status"},
		RelatesTo:  (&event.RelatesTo{}).SetReplace(notice.EventID),
	})
	require.NoError(t, err)
	own, err := e.BotCli.SendText(bg, e.Room, "!status")
	require.NoError(t, err)
	// A real command afterwards: once it is answered, the others would have been.
	e.Command(e.Mod, "!help")
	for _, evt := range []id.EventID{notice.EventID, edit.EventID, own.EventID} {
		assert.Empty(t, e.Replies(evt), "no reply to %s", evt)
	}
}

func (e *env) alias() string {
	e.T.Helper()
	var content event.CanonicalAliasEventContent
	require.NoError(e.T, e.Spammer.StateEvent(bg, e.Public, event.StateCanonicalAlias, "", &content))
	return string(content.Alias)
}

func TestOldMessagesAreNotRunAtFirstStart(t *testing.T) {
	e := newEnv(t, nil)
	old := e.Say(e.Mod, "!status")
	time.Sleep(10 * time.Millisecond) // a different millisecond than Gavel's start
	e.Start()
	// Sent right away, possibly before Gavel's first sync: still answered.
	fresh := e.Say(e.Mod, "!help")
	e.WaitReply(fresh)
	assert.Empty(t, e.Replies(old), "a command from before Gavel ever ran is history")
}

// TestDryRun: with commands.dry_run, actions say what they would do and
// nothing that changes state reaches Synapse (checked at the recording
// proxy); reading commands work as usual and !status says dry-run is on.
func TestDryRun(t *testing.T) {
	e := newEnv(t, nil)
	e.Cfg.Commands.DryRun = true
	p := e.ViaProxy()
	e.Start()
	e.Command(e.Mod, "!help") // Gavel is up
	spammer := string(e.Spammer.UserID)
	spam := e.Spam("dry run spam")

	mark := p.Mark()
	for body, want := range map[string]string{
		"!suspend " + spammer:                              "Dry run (commands.dry_run is on): Gavel would run `!suspend " + spammer + "`; nothing was changed.",
		"!room block " + string(e.Public):                  "Gavel would run `!room block " + string(e.Public) + "`",
		"!redact " + string(e.Public) + " " + string(spam): "Gavel would run `!redact event " + string(e.Public) + " " + string(spam) + "`",
		"!quarantine user " + spammer:                      "Gavel would run `!quarantine user " + spammer + "`",
	} {
		assert.Contains(t, e.Command(e.Mod, body).Body, want, body)
	}
	for _, r := range p.Since(mark) {
		if r.IsAdmin() {
			assert.Equal(t, http.MethodGet, r.Method, "a dry run changes nothing: %s", r)
		}
	}
	_, err := e.Spammer.SendText(bg, e.Public, "not suspended")
	assert.NoError(t, err)
	assert.Contains(t, e.Command(e.Mod, "!user "+spammer).Body, "State: active, no restriction", "reading commands run")
	assert.Contains(t, e.Command(e.Mod, "!status").Body, "Dry run: on (commands.dry_run).")
}
