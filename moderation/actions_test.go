package moderation

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"path/filepath"
	"regexp"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/internal/testkit/synapsetest"
	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/store"
)

func TestMain(m *testing.M) { synapsetest.Main(m) }

// liveModerator is a Moderator against a real Synapse, as Gavel's bot
// account (a server admin).
func liveModerator(t *testing.T) (*Moderator, *synapsetest.World) {
	t.Helper()
	srv := synapsetest.Shared(t)
	w, err := srv.NewWorld(context.Background(), synapsetest.WorldOptions{Unique: true, PublicRoomName: "Free <b>stuff</b>", PublicAlias: "spam"})
	require.NoError(t, err)
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "gavel.db"), zerolog.Nop())
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	m, err := New(Config{Admin: w.Admin, Matrix: w.Bot, Store: st, Prefix: "!", Health: func() notice.Status { return notice.Status{} },
		ManagementRoom: w.ManagementRoom, Protected: func(u id.UserID) bool { return u == w.Bot.UserID }})
	require.NoError(t, err)
	return m, w
}

func (m *Moderator) run(t *testing.T, cmd commands.Command) Outcome {
	t.Helper()
	return m.Run(context.Background(), Actor{User: "@mod:example.org"}, cmd)
}

var commandSeq atomic.Int64

// follow records an outcome that started a task as Gavel records a
// command's, with its reply posted, then follows the task until it ends.
// It checks that each step is an edit of the reply, and returns the text
// of the last one.
func (m *Moderator) follow(t *testing.T, out Outcome) string {
	t.Helper()
	ctx := context.Background()
	require.NotNil(t, out.Task, out.Result)
	n := commandSeq.Add(1)
	cmdID, replyID := id.EventID(fmt.Sprintf("$cmd%d", n)), id.EventID(fmt.Sprintf("$reply%d", n))
	reply := store.Message{Key: store.ReplyKey(cmdID), RoomID: m.ManagementRoom, Content: out.Reply.Reply(cmdID)}
	_, err := m.Store.Commands.Finish(ctx, cmdID, store.Finished{Reply: reply, Task: out.Task,
		Action: &store.Action{EventID: cmdID, Command: "test", OK: out.OK, Result: out.Result}})
	require.NoError(t, err)
	require.NoError(t, m.Store.Outbox.MarkSent(ctx, reply.Key, replyID))
	task := *out.Task
	require.Eventually(t, func() bool {
		require.NoError(t, m.checkTask(ctx, &task))
		running, err := m.Store.Tasks.Running(ctx)
		require.NoError(t, err)
		return !slices.ContainsFunc(running, func(r store.Task) bool { return r.ID == task.ID })
	}, 30*time.Second, 50*time.Millisecond, "task %s did not end", task.ID)
	require.Positive(t, task.Edits)
	last, err := m.Store.Outbox.Get(ctx, store.EditKey(cmdID, task.Edits))
	require.NoError(t, err)
	require.NotNil(t, last)
	assert.Equal(t, store.ReplyKey(cmdID), last.RelatesTo, "an edit of the reply")
	var edit event.MessageEventContent
	require.NoError(t, json.Unmarshal(last.Content, &edit))
	assert.Equal(t, task.Shown, edit.Body)
	actions, err := m.Store.Actions.Latest(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, task.Shown, actions[0].Result, "the action's result is the task's")
	return edit.Body
}

// TestAccountActions: suspend, lock and shadow-ban a local account and
// lift each again, against a real Synapse; each says when there is nothing
// to do, refuses remote and unknown accounts, and !user shows the state.
func TestAccountActions(t *testing.T) {
	ctx := context.Background()
	m, w := liveModerator(t)
	spammer := w.Spammer.UserID

	out := m.run(t, commands.ShowUser{User: spammer})
	assert.False(t, out.Action, "!user changes nothing")
	assert.Regexp(t, `^`+string(spammer)+` · local account, created `+time.Now().UTC().Format("2006-01-02")+` \(\d+s ago\)`, out.Reply.Plain())
	assert.Contains(t, out.Reply.Plain(), "State: active, no restriction")
	assert.Contains(t, out.Reply.Plain(), "In 1 room · 0 open reports about their events")
	evt, err := w.Spam(ctx, "buy now")
	require.NoError(t, err)
	require.NoError(t, w.Report(ctx, evt, "spam"))
	assert.Contains(t, m.run(t, commands.ShowUser{User: spammer}).Reply.Plain(), "1 open report about their events")

	t.Run("suspend", func(t *testing.T) {
		out := m.run(t, commands.Suspend{User: spammer})
		require.True(t, out.OK, out.Result)
		assert.True(t, out.Action)
		assert.Equal(t, "Suspended "+string(spammer)+": they can still read, but not send, join or invite. `!unsuspend "+string(spammer)+"` undoes it.", out.Reply.Plain())
		_, err := w.Spammer.SendText(ctx, w.PublicRoom, "still here?")
		assert.ErrorContains(t, err, "M_USER_SUSPENDED")
		assert.Equal(t, string(spammer)+" is already suspended.", m.run(t, commands.Suspend{User: spammer}).Reply.Plain())
		assert.Contains(t, m.run(t, commands.ShowUser{User: spammer}).Reply.Plain(), "State: suspended")
		assert.Equal(t, "Lifted the suspension of "+string(spammer)+".", m.run(t, commands.Unsuspend{User: spammer}).Reply.Plain())
		_, err = w.Spammer.SendText(ctx, w.PublicRoom, "back")
		assert.NoError(t, err)
		assert.Equal(t, string(spammer)+" is not suspended.", m.run(t, commands.Unsuspend{User: spammer}).Reply.Plain())
	})

	t.Run("shadow-ban", func(t *testing.T) {
		out := m.run(t, commands.ShadowBan{User: spammer})
		require.True(t, out.OK, out.Result)
		acc, err := w.Admin.Account(ctx, spammer)
		require.NoError(t, err)
		assert.True(t, bool(acc.ShadowBanned))
		assert.Contains(t, m.run(t, commands.ShowUser{User: spammer}).Reply.Plain(), "State: shadow-banned")
		assert.Equal(t, "Lifted the shadow-ban of "+string(spammer)+".", m.run(t, commands.UnshadowBan{User: spammer}).Reply.Plain())
		acc, err = w.Admin.Account(ctx, spammer)
		require.NoError(t, err)
		assert.False(t, bool(acc.ShadowBanned))
	})

	t.Run("lock", func(t *testing.T) {
		reporter := w.Reporter.UserID
		out := m.run(t, commands.Lock{User: reporter})
		require.True(t, out.OK, out.Result)
		assert.Contains(t, out.Reply.Plain(), "Locked "+string(reporter)+": their sessions end and they cannot log in.")
		_, err := w.Reporter.Whoami(ctx)
		assert.ErrorContains(t, err, "M_USER_LOCKED")
		assert.Equal(t, string(reporter)+" is already locked.", m.run(t, commands.Lock{User: reporter}).Reply.Plain())
		assert.Equal(t, "Unlocked "+string(reporter)+".", m.run(t, commands.Unlock{User: reporter}).Reply.Plain())
		acc, err := w.Admin.Account(ctx, reporter)
		require.NoError(t, err)
		assert.False(t, bool(acc.Locked))
	})

	t.Run("remote and unknown accounts", func(t *testing.T) {
		remote := id.UserID("@someone:elsewhere.example")
		out := m.run(t, commands.Suspend{User: remote})
		assert.False(t, out.OK)
		assert.Equal(t, remote.String()+" is on another server, not on this one ("+spammer.Homeserver()+"): only local accounts can be suspended. "+
			"For remote users, `!redact`, `!kick`, `!ban` and `!quarantine media` work.", out.Reply.Plain())
		assert.Contains(t, m.run(t, commands.ShowUser{User: remote}).Reply.Plain(), "remote user (server elsewhere.example)")

		nobody := id.NewUserID("nobody-"+w.Spammer.UserID.Localpart(), spammer.Homeserver())
		out = m.run(t, commands.Lock{User: nobody})
		assert.False(t, out.OK)
		assert.Equal(t, "User "+string(nobody)+" does not exist (Synapse: M_NOT_FOUND).", out.Reply.Plain())
		_, err := w.Admin.Account(ctx, nobody)
		require.Error(t, err, "locking an unknown user creates no account")
	})

	t.Run("never its own account", func(t *testing.T) {
		out := m.run(t, commands.Lock{User: w.Bot.UserID})
		assert.False(t, out.OK)
		assert.Equal(t, "Not done: "+string(w.Bot.UserID)+" is Gavel's own account, or the one whose token it uses for the admin API. Gavel does not act on them.", out.Reply.Plain())
		acc, err := w.Admin.Account(ctx, w.Bot.UserID)
		require.NoError(t, err)
		assert.False(t, bool(acc.Locked))
	})

	t.Run("server admins only with --yes", func(t *testing.T) {
		admin := w.Server.User(t, "otheradmin", true).UserID
		out := m.run(t, commands.Suspend{User: admin})
		assert.False(t, out.OK)
		assert.Equal(t, "Not done: "+string(admin)+" is a server admin. Add `--yes` to act on them anyway.", out.Reply.Plain())
		acc, err := w.Admin.Account(ctx, admin)
		require.NoError(t, err)
		assert.False(t, bool(acc.Suspended))
		out = m.run(t, commands.Suspend{User: admin, EvenIfAdmin: true})
		require.True(t, out.OK, out.Result)
		acc, err = w.Admin.Account(ctx, admin)
		require.NoError(t, err)
		assert.True(t, bool(acc.Suspended))
		require.True(t, m.run(t, commands.Unsuspend{User: admin, EvenIfAdmin: true}).OK)
	})

	t.Run("an @room user id pings nobody", func(t *testing.T) {
		out := m.run(t, commands.Suspend{User: "@room:elsewhere.example"})
		assert.NotContains(t, out.Reply.Plain(), "@room")
		assert.Contains(t, out.Reply.Plain(), "@\u2060room:elsewhere.example")
	})
}

// TestRoomActions: !room shows a room; !room block and unblock block and
// unblock it, by id or alias, against a real Synapse.
func TestRoomActions(t *testing.T) {
	ctx := context.Background()
	m, w := liveModerator(t)
	evt, err := w.Spam(ctx, "buy now")
	require.NoError(t, err)
	require.NoError(t, w.Report(ctx, evt, "spam"))

	out := m.run(t, commands.ShowRoom{Room: commands.RoomRef{Alias: w.PublicAlias}})
	assert.False(t, out.Action)
	body := out.Reply.Plain()
	assert.Contains(t, body, "Free <b>stuff</b> ("+string(w.PublicAlias)+") · "+string(w.PublicRoom))
	assert.Contains(t, body, "Created by "+string(w.Spammer.UserID)+" · 2 members, 2 of them local")
	assert.Contains(t, body, "Not in the room directory, not encrypted, not blocked · 1 open report about its events")
	raw := string(out.Reply.Reply("$cmd"))
	assert.NotContains(t, raw, "<b>stuff", "the room name is escaped")

	ref := commands.RoomRef{Alias: w.PublicAlias}
	out = m.run(t, commands.BlockRoom{Room: ref})
	require.True(t, out.OK, out.Result)
	assert.True(t, out.Action)
	named := "Free <b>stuff</b> (" + string(w.PublicAlias) + ")"
	assert.Equal(t, "Blocked "+named+": local users can no longer join it. `!room unblock "+string(w.PublicAlias)+"` undoes it.", out.Reply.Plain())
	newcomer := w.Server.User(t, "newcomer", false)
	_, err = newcomer.JoinRoomByID(ctx, w.PublicRoom)
	assert.Error(t, err, "nobody joins a blocked room")
	assert.Contains(t, m.run(t, commands.BlockRoom{Room: commands.RoomRef{ID: w.PublicRoom}}).Reply.Plain(), " is already blocked (by "+string(w.Bot.UserID)+").")
	assert.Contains(t, m.run(t, commands.ShowRoom{Room: commands.RoomRef{ID: w.PublicRoom}}).Reply.Plain(), "blocked on this server by "+string(w.Bot.UserID))
	assert.Equal(t, "Unblocked "+named+".", m.run(t, commands.UnblockRoom{Room: commands.RoomRef{ID: w.PublicRoom}}).Reply.Plain())
	_, err = newcomer.JoinRoomByID(ctx, w.PublicRoom)
	assert.NoError(t, err)
	assert.Equal(t, named+" is not blocked.", m.run(t, commands.UnblockRoom{Room: commands.RoomRef{ID: w.PublicRoom}}).Reply.Plain())

	out = m.run(t, commands.BlockRoom{Room: commands.RoomRef{ID: w.ManagementRoom}})
	assert.False(t, out.OK)
	assert.Equal(t, "Not done: "+string(w.ManagementRoom)+" is the management room. Gavel does not block it.", out.Reply.Plain())
	status, err := w.Admin.RoomBlockStatus(ctx, w.ManagementRoom)
	require.NoError(t, err)
	assert.False(t, status.Block)

	out = m.run(t, commands.ShowRoom{Room: commands.RoomRef{ID: id.RoomID("!unknown:" + w.Server.ServerName)}})
	assert.Equal(t, "Room !unknown:"+w.Server.ServerName+" does not exist (Synapse: M_NOT_FOUND).", out.Reply.Plain())
}

// TestKickAndBan: kicks and bans go through Gavel's own account. Where it
// is not in the room (or lacks the power level) the reply says so and
// what to do instead; where it has the power, the user is kicked, banned
// and unbanned.
func TestKickAndBan(t *testing.T) {
	ctx := context.Background()
	m, w := liveModerator(t)
	reporter, room := w.Reporter.UserID, commands.RoomRef{ID: w.PublicRoom}

	out := m.run(t, commands.Kick{User: reporter, Room: room, Reason: "rude"})
	assert.False(t, out.OK)
	assert.True(t, out.Action)
	named := "Free <b>stuff</b> (" + string(w.PublicAlias) + ")"
	assert.Contains(t, out.Reply.Plain(), "Gavel's account ("+string(w.Bot.UserID)+") could not kick "+string(reporter)+" in "+named+
		": it must be in that room with a power level that allows it (Synapse: M_FORBIDDEN: ")
	assert.Contains(t, out.Reply.Plain(), "act through the admin API instead: `!suspend`, `!room block`.")

	// The room's creator gives Gavel the power and lets it in.
	_, err := w.Spammer.InviteUser(ctx, w.PublicRoom, &mautrix.ReqInviteUser{UserID: w.Bot.UserID})
	require.NoError(t, err)
	_, err = w.Bot.JoinRoomByID(ctx, w.PublicRoom)
	require.NoError(t, err)
	var pl event.PowerLevelsEventContent
	require.NoError(t, w.Spammer.StateEvent(ctx, w.PublicRoom, event.StatePowerLevels, "", &pl))
	pl.SetUserLevel(w.Bot.UserID, 100)
	_, err = w.Spammer.SendStateEvent(ctx, w.PublicRoom, event.StatePowerLevels, "", &pl)
	require.NoError(t, err)

	membership := func() event.Membership {
		var member event.MemberEventContent
		require.NoError(t, w.Spammer.StateEvent(ctx, w.PublicRoom, event.StateMember, string(reporter), &member))
		return member.Membership
	}
	out = m.run(t, commands.Kick{User: reporter, Room: commands.RoomRef{Alias: w.PublicAlias}, Reason: "rude"})
	require.True(t, out.OK, out.Result)
	assert.Equal(t, "Kicked "+string(reporter)+" in "+named+" (reason: `rude`).", out.Reply.Plain())
	assert.Equal(t, event.MembershipLeave, membership())

	out = m.run(t, commands.Ban{User: reporter, Room: room})
	require.True(t, out.OK, out.Result)
	assert.Equal(t, event.MembershipBan, membership())
	out = m.run(t, commands.Unban{User: reporter, Room: room})
	require.True(t, out.OK, out.Result)
	assert.Equal(t, "Lifted the ban of "+string(reporter)+" in "+named+".", out.Reply.Plain())
	assert.Equal(t, event.MembershipLeave, membership())

	out = m.run(t, commands.Ban{User: w.Bot.UserID, Room: room})
	assert.False(t, out.OK)
	assert.Contains(t, out.Reply.Plain(), "Gavel's own account")
	out = m.run(t, commands.Kick{User: reporter, Room: commands.RoomRef{ID: w.ManagementRoom}})
	assert.Equal(t, "Not done: "+string(w.ManagementRoom)+" is the management room. Gavel does not kick there.", out.Reply.Plain())
}

// TestRedactEvent: !redact redacts one event through the admin API, in a
// room Gavel is not in, and only that event; it says when there is
// nothing to do and refuses what it must not touch.
func TestRedactEvent(t *testing.T) {
	ctx := context.Background()
	m, w := liveModerator(t)
	spam, err := w.Spam(ctx, "buy now")
	require.NoError(t, err)
	other, err := w.Spam(ctx, "an ordinary message")
	require.NoError(t, err)

	link := commands.RoomRef{Alias: w.PublicAlias}
	out := m.run(t, commands.RedactEvent{Room: link, Event: spam, Reason: "spam"})
	require.True(t, out.OK, out.Result)
	assert.True(t, out.Action)
	assert.Equal(t, "Redacted "+string(spam)+" (sent by "+string(w.Spammer.UserID)+" in Free <b>stuff</b> ("+string(w.PublicAlias)+")), reason: `spam`.", out.Reply.Plain())
	// The event and the room are links, built by mautrix; the room's name
	// is escaped.
	var reply event.MessageEventContent
	require.NoError(t, json.Unmarshal(out.Reply.Reply("$cmd"), &reply))
	assert.Contains(t, reply.FormattedBody, `<a href="`+html.EscapeString(w.PublicRoom.EventURI(spam).MatrixToURL())+`">`+html.EscapeString(string(spam))+`</a>`)
	assert.Contains(t, reply.FormattedBody, `<a href="`+html.EscapeString(w.PublicRoom.URI().MatrixToURL())+`">Free &lt;b&gt;stuff&lt;/b&gt;</a>`)
	evt, err := w.Reporter.GetEvent(ctx, w.PublicRoom, spam)
	require.NoError(t, err)
	assert.Empty(t, evt.Content.Raw, "the event's content is gone")
	require.NotNil(t, evt.Unsigned.RedactedBecause)
	evt, err = w.Reporter.GetEvent(ctx, w.PublicRoom, other)
	require.NoError(t, err)
	assert.Equal(t, "an ordinary message", evt.Content.Raw["body"], "only that event")

	assert.Equal(t, "Event "+string(spam)+" is already redacted.", m.run(t, commands.RedactEvent{Room: link, Event: spam}).Reply.Plain())
	elsewhere, err := w.Spammer.CreateRoom(ctx, &mautrix.ReqCreateRoom{Name: "elsewhere"})
	require.NoError(t, err)
	out = m.run(t, commands.RedactEvent{Room: commands.RoomRef{ID: elsewhere.RoomID}, Event: other})
	// Synapse says 404 M_UNKNOWN here, M_NOT_FOUND for an unknown event.
	assert.Equal(t, "Event "+string(other)+" in "+string(elsewhere.RoomID)+" does not exist (Synapse: M_UNKNOWN).", out.Reply.Plain(), "an event of another room")
	unknown := id.EventID("$nope" + w.Spammer.UserID.Localpart())
	out = m.run(t, commands.RedactEvent{Room: link, Event: unknown})
	assert.Equal(t, "Event "+string(unknown)+" in "+string(w.PublicRoom)+" does not exist (Synapse: M_NOT_FOUND).", out.Reply.Plain())

	mine, err := w.Moderator.SendText(ctx, w.ManagementRoom, "a moderator's note")
	require.NoError(t, err)
	out = m.run(t, commands.RedactEvent{Room: commands.RoomRef{ID: w.ManagementRoom}, Event: mine.EventID})
	assert.Equal(t, "Not done: "+string(w.ManagementRoom)+" is the management room. Gavel does not redact there.", out.Reply.Plain())
}

// TestDeleteRoom: !room delete previews the room, and with --yes (or once
// confirmed) deletes it, blocks and purges it as asked, waiting for
// Synapse's task; never the management room.
func TestDeleteRoom(t *testing.T) {
	ctx := context.Background()
	m, w := liveModerator(t)
	m.ConfirmTimeout = time.Minute

	out := m.run(t, commands.DeleteRoom{Room: commands.RoomRef{Alias: w.PublicAlias}, Block: true})
	require.True(t, out.OK, out.Result)
	assert.False(t, out.Action, "a preview is not an action yet")
	require.NotNil(t, out.Pending)
	assert.Contains(t, out.Reply.Plain(), "Delete Free <b>stuff</b> ("+string(w.PublicAlias)+")? 2 members, 2 of them local, will be removed; 0 open reports about its events. It will be blocked, so local users cannot join it again. This cannot be undone.")
	_, err := w.Admin.RoomInfo(ctx, w.PublicRoom)
	require.NoError(t, err, "a preview deletes nothing")

	out = m.run(t, commands.DeleteRoom{Room: commands.RoomRef{ID: w.PublicRoom}, Block: true, Purge: true, Yes: true})
	require.True(t, out.OK, out.Result)
	assert.True(t, out.Action)
	named := "Free <b>stuff</b> (" + string(w.PublicAlias) + ")"
	assert.Regexp(t, `^Deleting `+regexp.QuoteMeta(named)+`: Synapse has it queued \(task \w+\)\. This message is updated as it goes\.$`, out.Reply.Plain())
	assert.Equal(t, "Deleted "+named+": 2 local users removed, blocked, purged.", m.follow(t, out))
	_, err = w.Admin.RoomInfo(ctx, w.PublicRoom)
	assert.True(t, adminapi.IsNotFound(err), "purged: %v", err)
	status, err := w.Admin.RoomBlockStatus(ctx, w.PublicRoom)
	require.NoError(t, err)
	assert.True(t, status.Block)

	quiet, err := w.Spammer.CreateRoom(ctx, &mautrix.ReqCreateRoom{Name: "quiet"})
	require.NoError(t, err)
	out = m.run(t, commands.DeleteRoom{Room: commands.RoomRef{ID: quiet.RoomID}, Message: "This room was closed.", Yes: true})
	require.True(t, out.OK, out.Result)
	assert.Equal(t, "Deleted quiet: 1 local user removed.", m.follow(t, out))
	info, err := w.Admin.RoomInfo(ctx, quiet.RoomID)
	if err == nil {
		assert.Zero(t, info.JoinedMembers, "everyone was removed")
	}

	out = m.run(t, commands.DeleteRoom{Room: commands.RoomRef{ID: w.ManagementRoom}, Yes: true})
	assert.False(t, out.OK)
	assert.Equal(t, "Not done: "+string(w.ManagementRoom)+" is the management room. Gavel does not delete it.", out.Reply.Plain())
}

// TestRedactUser: !redact user previews, then redacts the user's recent
// messages in one room or in all of theirs, waiting for Synapse's task.
func TestRedactUser(t *testing.T) {
	ctx := context.Background()
	m, w := liveModerator(t)
	m.ConfirmTimeout = time.Minute
	spammer := w.Spammer.UserID
	var inPublic []id.EventID
	for i := range 3 {
		evt, err := w.Spam(ctx, "spam "+string(rune('a'+i)))
		require.NoError(t, err)
		inPublic = append(inPublic, evt)
	}
	elsewhere, err := w.Spammer.CreateRoom(ctx, &mautrix.ReqCreateRoom{Name: "elsewhere"})
	require.NoError(t, err)
	other, err := w.Spammer.SendText(ctx, elsewhere.RoomID, "spam elsewhere")
	require.NoError(t, err)
	gone := func(room id.RoomID, evt id.EventID) bool {
		e, err := w.Spammer.GetEvent(ctx, room, evt)
		require.NoError(t, err)
		return len(e.Content.Raw) == 0
	}

	out := m.run(t, commands.RedactUser{User: spammer, Since: time.Hour, Limit: 1000})
	require.True(t, out.OK, out.Result)
	require.NotNil(t, out.Pending)
	assert.Contains(t, out.Reply.Plain(), "Redact "+string(spammer)+"'s messages since ")
	assert.Contains(t, out.Reply.Plain(), " in every room they are in (2 rooms)? At most their 1000 newest events per room are looked at.")
	assert.False(t, gone(w.PublicRoom, inPublic[0]), "a preview redacts nothing")

	out = m.run(t, commands.RedactUser{User: spammer, Room: commands.RoomRef{Alias: w.PublicAlias}, Since: time.Hour, Limit: 1000, Yes: true})
	require.True(t, out.OK, out.Result)
	assert.True(t, out.Action)
	named := "Free <b>stuff</b> (" + string(w.PublicAlias) + ")"
	assert.Regexp(t, `^Redacting `+string(spammer)+`'s messages since .* in `+regexp.QuoteMeta(named)+`: Synapse is at it \(task \w+\)\. This message is updated as it goes\.$`, out.Reply.Plain())
	assert.Regexp(t, `^Redacted `+string(spammer)+`'s messages since .* in `+regexp.QuoteMeta(named)+`\.$`, m.follow(t, out))
	for _, evt := range inPublic {
		assert.True(t, gone(w.PublicRoom, evt), evt)
	}
	assert.False(t, gone(elsewhere.RoomID, other.EventID), "only in the room asked for")

	out = m.run(t, commands.RedactUser{User: spammer, Since: time.Hour, Limit: 1000, Yes: true})
	require.True(t, out.OK, out.Result)
	assert.Contains(t, m.follow(t, out), " in every room they are in.")
	assert.True(t, gone(elsewhere.RoomID, other.EventID))

	out = m.run(t, commands.RedactUser{User: w.Bot.UserID, Since: time.Hour, Limit: 10, Yes: true})
	assert.Contains(t, out.Reply.Plain(), "Gavel's own account")
	out = m.run(t, commands.RedactUser{User: w.Moderator.UserID, Room: commands.RoomRef{ID: w.ManagementRoom}, Since: time.Hour, Limit: 10, Yes: true})
	assert.Equal(t, "Not done: "+string(w.ManagementRoom)+" is the management room. Gavel does not redact there.", out.Reply.Plain())
}
