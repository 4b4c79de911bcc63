// Package deskstest holds the integration tests of desks: reports routed
// to the community desk whose scope holds their room, one case edited on
// every card, and a community desk's commands kept inside its scope.
package deskstest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/internal/testkit/bottest"
	"github.com/gavel-bot/gavel/internal/testkit/faultproxy"
)

func TestMain(m *testing.M) { bottest.Main(m) }

var bg = context.Background()

// room makes a room as cli with the members invited and joined, and
// returns it; a space when space is set.
func room(t *testing.T, cli *mautrix.Client, name string, space bool, members ...*mautrix.Client) id.RoomID {
	t.Helper()
	req := &mautrix.ReqCreateRoom{Name: name, Preset: "public_chat"}
	if space {
		req.CreationContent = map[string]any{"type": "m.space"}
	}
	resp, err := cli.CreateRoom(bg, req)
	require.NoError(t, err)
	for _, m := range members {
		_, err := cli.InviteUser(bg, resp.RoomID, &mautrix.ReqInviteUser{UserID: m.UserID})
		require.NoError(t, err)
		_, err = m.JoinRoomByID(bg, resp.RoomID)
		require.NoError(t, err)
	}
	return resp.RoomID
}

// child adds (or, with add false, removes) room as a child of space.
func child(t *testing.T, cli *mautrix.Client, space, room id.RoomID, add bool) {
	t.Helper()
	content := map[string]any{}
	if add {
		content["via"] = []string{cli.UserID.Homeserver()}
	}
	_, err := cli.SendStateEvent(bg, space, event.StateSpaceChild, string(room), content)
	require.NoError(t, err)
}

// reportIn returns Synapse's id of the newest report about event in room.
func reportIn(e *bottest.Env, room id.RoomID, evt id.EventID) int64 {
	e.T.Helper()
	page, err := e.Admin.ListEventReports(bg, adminapi.EventReportsQuery{RoomID: room})
	require.NoError(e.T, err)
	for _, r := range page.Items {
		if r.EventID == evt {
			return r.ID
		}
	}
	e.T.Fatalf("Synapse has no report about %s", evt)
	return 0
}

// cards returns Gavel's cards in e's room about events of room.
func cards(e *bottest.Env, room id.RoomID) []*event.Event {
	var out []*event.Event
	for _, evt := range e.BotMessages() {
		if _, ok := evt.Content.Raw["gavel.report"]; ok && !isEdit(evt) && bottest.Field(e.T, evt).RoomID == room {
			out = append(out, evt)
		}
	}
	return out
}

func isEdit(evt *event.Event) bool {
	rel := evt.Content.AsMessage().RelatesTo
	return rel != nil && rel.Type == event.RelReplace
}

// waitCard waits for the card of report id in e's room.
func waitCard(e *bottest.Env, room id.RoomID, reportID int64) *event.Event {
	e.T.Helper()
	var card *event.Event
	require.Eventuallyf(e.T, func() bool {
		for _, c := range cards(e, room) {
			if bottest.Field(e.T, c).ReportID == reportID {
				card = c
				return true
			}
		}
		return false
	}, 30*time.Second, 100*time.Millisecond, "waiting for the card of report %d in %s", reportID, e.Room)
	return card
}

// edits returns the bodies of the edits of card in e's room, oldest first.
func edits(e *bottest.Env, card id.EventID) []string {
	var out []string
	for _, evt := range e.BotMessages() {
		if rel := evt.Content.AsMessage().RelatesTo; rel != nil && rel.Type == event.RelReplace && rel.EventID == card {
			out = append(out, evt.Content.AsMessage().NewContent.Body)
		}
	}
	return out
}

// writes returns the requests since mark that could change something
// through the admin API or in a room: any but a GET, except Gavel's own
// messages, reactions, receipts and filters.
func writes(p *faultproxy.Proxy, mark int) []string {
	var out []string
	for _, r := range p.Since(mark) {
		s := r.String()
		if r.Method == http.MethodGet || strings.Contains(s, "/send/") || strings.Contains(s, "/filter") ||
			strings.Contains(s, "/receipt/") || strings.Contains(s, "/typing/") || strings.Contains(s, "/keys/") {
			continue
		}
		out = append(out, s)
	}
	return out
}

// TestDesks: a report about a room in a community desk's space gets a
// card there and in the server desk; a claim in the community desk edits
// both cards and says where it was made; the community desk's buttons are
// only what it may do, with ⏫; what it may not do, or outside its scope
// (a room by id, alias or link, a report of another room, an
// account-wide command), is refused before any write reaches Synapse; a
// room added to the space is in scope after !desk refresh, one removed is
// not; escalating a report gives the server desk a note in its card's
// thread, and a card when it had none.
func TestDesks(t *testing.T) {
	e := bottest.NewEnv(t, nil)
	e.Cfg.Reports.OnFirstStart = config.FirstStartSkip
	mod, member := e.Mod, e.Member

	space := room(t, mod, "Gaming", true)
	child(t, mod, space, e.Public, true)
	later := room(t, mod, "Later", false, e.Spammer, e.Reporter)
	outside := room(t, mod, "Outside", false, e.Spammer, e.Reporter)
	quiet := room(t, mod, "Quiet", false, e.Spammer, e.Reporter)
	_, err := mod.CreateAlias(bg, id.NewRoomAlias("outside-"+strings.ToLower(string(e.BotCli.UserID.Localpart())), e.BotCli.UserID.Homeserver()), outside)
	require.NoError(t, err)
	outsideAlias := id.NewRoomAlias("outside-"+strings.ToLower(string(e.BotCli.UserID.Localpart())), e.BotCli.UserID.Homeserver())

	gaming := room(t, mod, "Gaming mods", false, member, e.BotCli)
	quietDesk := room(t, mod, "Quiet mods", false, member, e.BotCli)
	ge, qe := e.In(gaming), e.In(quietDesk)
	ge.SetPowerLevel(member.UserID, 50)
	qe.SetPowerLevel(member.UserID, 50)
	no := false
	e.Cfg.Desks = []config.Desk{
		{Name: "gaming", Room: gaming, Spaces: []string{string(space)}, PowerLevels: map[string]int{"redact user": 50}},
		{Name: "quiet", Room: quietDesk, Rooms: []string{string(quiet)}, ServerDeskCopy: &no},
	}
	require.NoError(t, e.Cfg.Validate())
	p := e.ViaProxy()
	e.Start()

	// Routing: the server desk and the gaming desk.
	spam := e.Spam("buy followers")
	e.Report(spam, "spam")
	id1 := e.ReportID(spam)
	serverCard := waitCard(e, e.Public, id1)
	deskCard := waitCard(ge, e.Public, id1)
	assert.Empty(t, cards(qe, e.Public), "not the quiet desk's")
	deskBody := deskCard.Content.AsMessage().Body
	assert.Contains(t, deskBody, "⏫ escalate to the server desk")
	assert.NotContains(t, deskBody, "⛔", "no suspend button in a community desk")
	assert.NotContains(t, deskBody, "💥", "no room deletion button in a community desk")
	assert.Contains(t, serverCard.Content.AsMessage().Body, "💥")

	// One case: a claim in the community desk edits both cards.
	assert.Contains(t, ge.Command(member, "!report claim "+bottest.Itoa(id1)).Body, "Claimed in #gaming by "+string(member.UserID))
	require.Eventually(t, func() bool {
		ed := edits(e, serverCard.ID)
		return len(ed) == 1 && strings.Contains(ed[0], "Claimed in #gaming by "+string(member.UserID))
	}, 30*time.Second, 100*time.Millisecond, "the server desk's card says the claim")
	require.Eventually(t, func() bool { return len(edits(ge, deskCard.ID)) == 1 }, 30*time.Second, 100*time.Millisecond)

	// Scope is checked at the resolved target; nothing is written.
	outsideEvt, err := e.Spammer.SendText(bg, outside, "spam elsewhere")
	require.NoError(t, err)
	require.NoError(t, e.Srv.FileReport(bg, e.Reporter, outside, outsideEvt.EventID, "spam", -100))
	outsideID := reportIn(e, outside, outsideEvt.EventID)
	waitCard(e, outside, outsideID)
	mark := p.Mark()
	refusals := map[string]string{
		"!redact " + string(outside) + " " + string(outsideEvt.EventID):                           "is not in the scope of desk #gaming",
		"!redact https://matrix.to/#/" + string(outside) + "/" + string(outsideEvt.EventID):       "is not in the scope of desk #gaming",
		"!ban " + string(e.Spammer.UserID) + " " + string(outsideAlias):                           "is not in the scope of desk #gaming",
		"!kick " + string(e.Spammer.UserID) + " " + string(outside):                               "is not in the scope of desk #gaming",
		"!redact user " + string(e.Spammer.UserID) + " --room " + string(outsideAlias) + " --yes": "is not in the scope of desk #gaming",
		"!report claim " + bottest.Itoa(outsideID):                                                "is not one of desk #gaming's reports",
		"!report " + bottest.Itoa(outsideID):                                                      "is not one of desk #gaming's reports",
		"!suspend " + string(e.Spammer.UserID):                                                    "suspend acts beyond the rooms of desk #gaming",
		"!deactivate " + string(e.Spammer.UserID) + " --yes":                                      "deactivate acts beyond the rooms of desk #gaming",
		"!room delete " + string(e.Public) + " --yes":                                             "room delete acts beyond the rooms of desk #gaming",
		"!user " + string(e.Spammer.UserID):                                                       "user acts beyond the rooms of desk #gaming",
	}
	for cmd, want := range refusals {
		assert.Contains(t, ge.Command(member, cmd).Body, want, cmd)
	}
	assert.Empty(t, writes(p, mark), "no refused command reached Synapse")

	// An alias repointed outside the scope between the preview and its ✅:
	// the ✅ resolves it again, and is refused.
	alias := id.NewRoomAlias("lobby-"+strings.ToLower(string(e.BotCli.UserID.Localpart())), e.BotCli.UserID.Homeserver())
	_, err = e.Spammer.CreateAlias(bg, alias, e.Public)
	require.NoError(t, err)
	preview := ge.WaitReply(ge.Say(member, "!redact user "+string(e.Spammer.UserID)+" --room "+string(alias)))
	require.Contains(t, preview.Content.AsMessage().Body, "React ✅ to this message")
	_, err = e.Spammer.DeleteAlias(bg, alias)
	require.NoError(t, err)
	_, err = e.Spammer.CreateAlias(bg, alias, outside)
	require.NoError(t, err)
	mark = p.Mark()
	confirm, err := member.SendReaction(bg, gaming, preview.ID, "✅")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		for _, r := range ge.Replies(preview.ID) {
			if strings.Contains(r.Content.AsMessage().Body, "is not in the scope of desk #gaming") {
				return true
			}
		}
		return false
	}, 30*time.Second, 100*time.Millisecond, "the ✅ %s is refused", confirm.EventID)
	assert.Empty(t, writes(p, mark), "the repointed alias reached no write")

	// !help in a community desk marks what only the server desk runs.
	assert.Contains(t, ge.Command(member, "!help").Body, "suspend a local account: it can still read, but not send, join or invite — server desk only")
	assert.Contains(t, ge.Command(member, "!help suspend").Body, "Not in desk #gaming")

	// The same commands in scope work: a redaction of the public room.
	assert.Contains(t, ge.Command(member, "!redact "+string(e.Public)+" "+string(spam)+" --report "+bottest.Itoa(id1)).Body, "Redacted")

	// Refresh: a room added to the space is in scope; one removed is not.
	child(t, mod, space, later, true)
	child(t, mod, space, e.Public, false)
	assert.Contains(t, ge.Command(member, "!desk refresh").Body, "Desk #gaming: 2 rooms in scope.")
	laterEvt, err := e.Spammer.SendText(bg, later, "later spam")
	require.NoError(t, err)
	require.NoError(t, e.Srv.FileReport(bg, e.Reporter, later, laterEvt.EventID, "spam", -100))
	waitCard(ge, later, reportIn(e, later, laterEvt.EventID))
	spam2 := e.Spam("more spam")
	e.Report(spam2, "spam")
	id2 := e.ReportID(spam2)
	waitCard(e, e.Public, id2)
	assert.Contains(t, ge.Command(member, "!report claim "+bottest.Itoa(id2)).Body, "is not one of desk #gaming's reports", "out of scope since the refresh")

	// Escalation: the quiet desk keeps its reports; escalating one gives
	// the server desk its card and a note in the card's thread.
	quietEvt, err := e.Spammer.SendText(bg, quiet, "quiet spam")
	require.NoError(t, err)
	require.NoError(t, e.Srv.FileReport(bg, e.Reporter, quiet, quietEvt.EventID, "spam", -100))
	quietID := reportIn(e, quiet, quietEvt.EventID)
	waitCard(qe, quiet, quietID)
	assert.Empty(t, cards(e, quiet), "server_desk_copy: false")
	assert.Contains(t, qe.Command(member, `!report escalate `+bottest.Itoa(quietID)+` --note "needs a suspension"`).Body, "Escalated report "+bottest.Itoa(quietID)+" to the server desk")
	escalated := waitCard(e, quiet, quietID)
	require.Eventually(t, func() bool {
		for _, evt := range e.BotMessages() {
			msg := evt.Content.AsMessage()
			if msg.RelatesTo != nil && msg.RelatesTo.Type == event.RelThread && msg.RelatesTo.EventID == escalated.ID &&
				strings.Contains(msg.Body, "Escalated from desk #quiet by "+string(member.UserID)+": needs a suspension") {
				return true
			}
		}
		return false
	}, 30*time.Second, 100*time.Millisecond, "the note in the server desk's card's thread")

	// !status names each desk.
	status := e.Command(mod, "!status").Body
	assert.Contains(t, status, "Desk #gaming (")
	assert.Contains(t, status, "2 rooms in scope")
	assert.Contains(t, status, "Desk #quiet (")
	assert.Contains(t, ge.Command(member, "!status").Body, "Desk #gaming (this room): 2 rooms in scope")
}
