package misusetest

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/internal/testkit/bottest"
	"github.com/gavel-bot/gavel/internal/testkit/faultproxy"
)

// unexpectedRequests returns the requests since mark that a command could
// have caused: every admin API call except the feed's listing, and alias
// lookups. (Syncs, sends and the feed's polls go on regardless.)
// feedLookup matches the feed's lookups of reports by id (see
// feed/probe.go).
var feedLookup = regexp.MustCompile(`^/_synapse/admin/v1/(event|user)_reports/\d+$`)

func unexpectedRequests(p *faultproxy.Proxy, mark int) []string {
	var out []string
	for _, r := range p.Since(mark) {
		// The feed lists reports unfiltered; !reports filters.
		feed := (r.Path == "/_synapse/admin/v1/event_reports" || r.Path == "/_synapse/admin/v1/user_reports") &&
			r.Query.Get("user_id") == "" && r.Query.Get("room_id") == "" && r.Query.Get("event_sender_user_id") == "" &&
			r.Query.Get("target_user_id") == ""
		// It also looks reports up by id.
		feed = feed || feedLookup.MatchString(r.Path)
		if (r.IsAdmin() && !feed) || strings.Contains(r.Path, "/directory/room/") {
			out = append(out, r.String()+"?"+r.Query.Encode())
		}
	}
	return out
}

// TestMalformedCommands sends commands a confused or malicious moderator
// might type. Each gets exactly one reply that says what is wrong, none
// reaches the admin API, and Gavel keeps running.
func TestMalformedCommands(t *testing.T) {
	e := newEnv(t, nil)
	e.Cfg.Reports.OnFirstStart = config.FirstStartSkip
	p := e.ViaProxy()
	gavel := e.Start()
	e.Command(e.Mod, "!help") // Gavel is up

	long := strings.Repeat("a", 10*1024)
	cases := []struct{ body, reply string }{
		// Path traversal, plain and percent-encoded.
		{"!report delete ../1", `Report id must be a positive whole number, like 12 (u12 for a user report, r12 for a room report) (got "../1")`},
		{"!report show ..%2F1", `(got "..%2F1")`},
		{"!report %2e%2e", `(got "%2e%2e")`},
		{"!quarantine media mxc://example.org/../../_synapse/admin/v1/users", "is not a media URI"},
		{"!quarantine media mxc://example.org/%2e%2e", "is not a media URI"},
		{"!quarantine media mxc://../x", "is not a media URI"},
		{"!quarantine media ../../etc/passwd", "is not a media id"},
		{"!protect media example.org ..", `".." is not a media id`},
		{"!quarantine room !abc/../def:example.org", `is not a valid room id: contains one of /?#%\`},
		{"!quarantine room !abc%2F..:example.org", `is not a valid room id: contains one of /?#%\`},
		{"!quarantine user @bob/../admin:example.org", "contains /, which Gavel refuses in user ids"},
		{"!quarantine user @bob%2F..%2Fadmin:example.org", "is not a valid user id: contains one of"},
		{"!quarantine room https://matrix.to/#/%21abc%2F..%3Aexample.org", "does not point to a room"},
		{"!reports --room #a/../b:example.org", "is not a room alias"},
		// Wrong sigils.
		{"!quarantine room @bob:example.org", "is not a room"},
		{"!quarantine room $event:example.org", "is not a room"},
		{"!quarantine user !room:example.org", "is not a user id"},
		{"!quarantine user #alias:example.org", "is not a user id"},
		{"!quarantine media !room:example.org", "is not a media"},
		{"!reports --user !room:example.org", "is not a user id"},
		// Spaces, slashes, NUL and control characters in ids.
		{"!quarantine user @bob smith:example.org", "give exactly one user"},
		{"!quarantine room !abc\x00def:example.org", `"!abc\x00def:example.org" is not a valid room id: contains spaces, control`},
		{"!quarantine user @bob\x07:example.org", `"@bob\a:example.org" is not a valid user id: contains spaces, control`},
		{"!quarantine media example.org a/b", `"a/b" is not a media id`},
		{"!quarantine user @bob:exa/mple.org", "the part after : is not a valid server name"},
		// Numbers out of range.
		{"!report delete 9223372036854775808", "positive whole number"},
		{"!report delete 99999999999999999999", "positive whole number"},
		{"!report delete -1", "positive whole number"},
		{"!report delete 0", "positive whole number"},
		{"!report show -0", "positive whole number"},
		{"!reports --limit 99999999999999999999", "--limit must be a number from 1 to 50"},
		{"!reports --limit=-1", "--limit must be a number from 1 to 50"},
		// Missing and extra arguments.
		{"!report delete", "give exactly one report id"},
		{"!quarantine media", "which media?"},
		{"!quarantine room", "give exactly one room"},
		{"!quarantine user", "give exactly one user"},
		{"!unprotect media", "which media?"},
		{"!report delete 1 2", "give exactly one report id"},
		{"!status now", "status takes no arguments"},
		{"!quarantine room !a:example.org !b:example.org", "give exactly one room"},
		{"!reports --limit", "--limit needs a value"},
		// 10 KiB arguments: refused, and not echoed in full.
		{"!report delete " + strings.Repeat("9", 10*1024), "positive whole number"},
		{"!quarantine user @" + long + ":example.org", "longer than 255 bytes"},
		{"!quarantine room !" + long + ":example.org", "longer than 255 bytes"},
		{"!quarantine media mxc://example.org/" + long, "is not a media URI like"},
		{"!reports --" + long, "needs a value"},
		// Unknown commands and subcommands.
		{"!frobnicate", "unknown command !frobnicate"},
		{"!report frobnicate 1", "give exactly one report id, like 12 or u12; usage: report [show] <id>"},
		{"!quarantine everything", "unknown quarantine command everything"},
		{"!protect thing x", "unknown protect command thing"},
		// Unicode look-alikes.
		{"!rеport delete 1", "unknown command !rеport"}, // Cyrillic е
		{"!quarantine user ＠bob:example.org", "is not a user id"},
		{"!quarantine room ！abc:example.org", "is not a room"},
		{"!quarantine media mxс://example.org/abc", "is not a media"}, // Cyrillic с
		{"!report delete １２", "positive whole number"},
		{"!quarantine user @bob:exаmple.org", "the part after : is not a valid server name"}, // Cyrillic а
		{"!quarantine user @bob\u202e:example.org", `\u202e`},
		{"!quarantine room !abc\u200b:example.org", `"!abc\u200b:example.org" is not a valid room id`},
		// The account, room and membership actions.
		{"!suspend @bob/../admin:example.org", "contains /, which Gavel refuses in user ids"},
		{"!lock !room:example.org", "is not a user id"},
		{"!shadowban @a:example.org @b:example.org", "give exactly one user"},
		{"!user", "give exactly one user"},
		{"!room block !abc/../def:example.org", "is not a valid room id"},
		{"!room @bob:example.org", "is not a room"},
		{"!room", "!room needs one of"},
		{"!kick @bob:example.org", "give a user and a room"},
		{"!ban #lobby:example.org @bob:example.org", "is not a user id"},
		{"!unban @bob:example.org !r:example.org because", "give exactly one user and one room"},
		{"!kick @bob:example.org !r:example.org " + strings.Repeat("x", 600), "the reason is 600 characters long; at most 500"},
		{"!redact !r:example.org $a/../b", "is not a valid event id: contains one of"},
		{"!redact https://matrix.to/#/@bob:example.org", "is not a link to an event"},
		{"!redact !r:example.org", "is not a link to an event"},
		{"!room delete", "give exactly one room"},
		{"!redact user @a:example.org --since 5y", "--since must be a duration like 90m, 6h or 7d"},
		{"!redact user @a:example.org --room", "--room needs a value"},
		{"!room delete !r:example.org --nuke", `unexpected "--nuke": options are --block, --purge, --message and --yes`},
		{"!room delete !r:example.org --message", "--message needs a text"},
		{"!deactivate @a:example.org @b:example.org", "give exactly one user"},
	}
	require.GreaterOrEqual(t, len(cases), 40)

	mark := p.Mark()
	for _, c := range cases {
		name := c.body
		if len(name) > 60 {
			name = name[:60] + "…"
		}
		t.Run(name, func(t *testing.T) {
			cmd := e.Say(e.Mod, c.body)
			reply := e.WaitReply(cmd)
			time.Sleep(50 * time.Millisecond)
			assert.Len(t, e.Replies(cmd), 1, "exactly one reply")
			body := reply.Content.AsMessage().Body
			assert.Contains(t, strings.ToLower(body), strings.ToLower(c.reply))
			assert.Less(t, len(body), 1000, "the reply stays short")
			assert.Equal(t, event.MsgNotice, reply.Content.AsMessage().MsgType)
		})
	}
	assert.Empty(t, unexpectedRequests(p, mark), "no malformed command reached the admin API")
	gavel.StillRunning(t)
	reply := e.Command(e.Mod, "!status")
	assert.Contains(t, reply.Body, "Synapse "+e.Srv.Version)
}

// TestOnlyModeratorsAct: commands from members below min_power_level, from
// other rooms and from DMs, and messages that are not commands (reactions,
// notices, edits) never reach the admin API. Power level changes apply to
// the very next command.
func TestOnlyModeratorsAct(t *testing.T) {
	e := newEnv(t, nil)
	e.Cfg.Reports.OnFirstStart = config.FirstStartSkip
	p := e.ViaProxy()
	gavel := e.Start()
	spam := e.Spam("please delete me")
	e.Report(spam, "spam")
	e.WaitNotices(1)
	reportID := e.ReportID(spam)
	deleteCmd := "!report delete " + bottest.Itoa(reportID)
	stillThere := func() {
		t.Helper()
		_, err := e.Admin.EventReport(bg, reportID)
		require.NoError(t, err, "report %d was deleted", reportID)
	}

	mark := p.Mark()
	t.Run("member below min_power_level", func(t *testing.T) {
		reply := e.Command(e.Member, deleteCmd)
		assert.Equal(t, "Sorry, Gavel's commands need power level 50 in this room; yours is 0.", reply.Body)
	})

	t.Run("other rooms and DMs", func(t *testing.T) {
		other, err := e.Mod.CreateRoom(bg, &mautrix.ReqCreateRoom{Invite: []id.UserID{e.BotCli.UserID}})
		require.NoError(t, err)
		dm, err := e.Mod.CreateRoom(bg, &mautrix.ReqCreateRoom{Invite: []id.UserID{e.BotCli.UserID}, IsDirect: true, Preset: "trusted_private_chat"})
		require.NoError(t, err)
		var sent []id.EventID
		for _, room := range []id.RoomID{other.RoomID, dm.RoomID} {
			// Gavel's account is in the room (joined by hand: Gavel
			// itself never accepts such invites), and the moderator is
			// room admin there.
			_, err := e.BotCli.JoinRoomByID(bg, room)
			require.NoError(t, err)
			resp, err := e.Mod.SendText(bg, room, deleteCmd)
			require.NoError(t, err)
			sent = append(sent, resp.EventID)
		}
		e.Command(e.Mod, "!help") // a full sync round later
		for i, room := range []id.RoomID{other.RoomID, dm.RoomID} {
			msgs, err := e.Mod.Messages(bg, room, "", "", mautrix.DirectionBackward,
				&mautrix.FilterPart{Senders: []id.UserID{e.BotCli.UserID}, Types: []event.Type{event.EventMessage}}, 50)
			require.NoError(t, err)
			assert.Empty(t, msgs.Chunk, "Gavel answered %s in another room", sent[i])
		}
	})

	t.Run("reactions notices and edits", func(t *testing.T) {
		target := e.Say(e.Member, "something")
		_, err := e.Mod.SendReaction(bg, e.Room, target, deleteCmd)
		require.NoError(t, err)
		_, err = e.Mod.SendMessageEvent(bg, e.Room, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgNotice, Body: deleteCmd})
		require.NoError(t, err)
		edit := &event.MessageEventContent{MsgType: event.MsgText, Body: "* " + deleteCmd,
			NewContent: &event.MessageEventContent{MsgType: event.MsgText, Body: deleteCmd}}
		edit.SetEdit(e.Say(e.Mod, "typo"))
		_, err = e.Mod.SendMessageEvent(bg, e.Room, event.EventMessage, edit)
		require.NoError(t, err)
		e.Command(e.Mod, "!help") // a full sync round later
	})

	t.Run("a user not in the room cannot send there", func(t *testing.T) {
		outsider := e.Srv.User(t, "outsider", false)
		_, err := outsider.SendText(bg, e.Room, deleteCmd)
		require.Error(t, err, "Synapse refuses, so Gavel never sees it")
	})
	assert.Empty(t, unexpectedRequests(p, mark))
	stillThere()

	t.Run("demoted moderator loses the right at once", func(t *testing.T) {
		mod2 := e.Srv.User(t, "mod2", false)
		_, err := e.Mod.InviteUser(bg, e.Room, &mautrix.ReqInviteUser{UserID: mod2.UserID})
		require.NoError(t, err)
		_, err = mod2.JoinRoomByID(bg, e.Room)
		require.NoError(t, err)
		e.SetPowerLevel(mod2.UserID, 50)
		reply := e.Command(mod2, "!status")
		assert.Contains(t, reply.Body, "Synapse "+e.Srv.Version)

		e.SetPowerLevel(mod2.UserID, 10)
		reply = e.Command(mod2, deleteCmd)
		assert.Equal(t, "Sorry, Gavel's commands need power level 50 in this room; yours is 10.", reply.Body)
		stillThere()
	})

	t.Run("promoted member gains the right at once", func(t *testing.T) {
		e.SetPowerLevel(e.Member.UserID, 50)
		reply := e.Command(e.Member, deleteCmd)
		assert.Equal(t, "Deleted report "+bottest.Itoa(reportID)+". Its case is closed.", reply.Body)
		_, err := e.Admin.EventReport(bg, reportID)
		assert.Error(t, err, "the report is gone")
	})
	gavel.StillRunning(t)
}
