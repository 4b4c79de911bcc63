package userreportstest

import (
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/event"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/internal/testkit/bottest"
	"github.com/gavel-bot/gavel/internal/testkit/faultproxy"
	"github.com/gavel-bot/gavel/internal/testkit/pgtest"
	"github.com/gavel-bot/gavel/internal/testkit/synapsetest"
)

// Tests of user reports (MSC4260): each runs on a Synapse of its own, as
// user reports, unlike event reports, cannot be told apart by room.

// TestUserReportBecomesACard: a user report filed through the client API
// gets exactly one card, rendered inert, with the buttons that fit; its
// case can be claimed, acted on and resolved with u<id>; resolving it
// archives and deletes it in Synapse, and !report u<id> still shows it.
func TestUserReportBecomesACard(t *testing.T) {
	e := newEnv(t, bottest.NewServer(t))
	e.Start()
	require.NoError(t, e.World.ReportUser(bg, e.Spammer.UserID, bottest.Hostile))
	reportID, err := e.World.UserReportID(bg, e.Spammer.UserID)
	require.NoError(t, err)
	ref := "u" + bottest.Itoa(reportID)

	cards := e.WaitUserCards(1)
	require.Len(t, cards[reportID], 1)
	card := cards[reportID][0]
	f := bottest.Field(t, card)
	assert.Equal(t, "user", f.Kind)
	assert.Equal(t, e.Spammer.UserID, f.TargetUserID)
	assert.Equal(t, e.Reporter.UserID, f.Reporter)
	assert.Empty(t, f.EventID, "a user report is about no event")
	msg := card.Content.AsMessage()
	assert.Contains(t, msg.Body, "User report "+ref)
	assert.Contains(t, msg.Body, string(e.Spammer.UserID))
	assert.NotContains(t, msg.FormattedBody, "<script", "the reason is shown as text")
	assert.NotContains(t, msg.FormattedBody, "https://evil.example")
	assert.Contains(t, msg.FormattedBody, "&lt;script&gt;alert(1)&lt;/script&gt;")
	mentions, _ := card.Content.Raw["m.mentions"].(map[string]any)
	assert.Empty(t, mentions)
	buttons, _ := card.Content.Raw["fi.mau.reaction_commands"].(map[string]any)
	assert.Equal(t, "!suspend "+string(e.Spammer.UserID)+" --report "+ref, buttons["⛔"], "the reported user is local")
	assert.Equal(t, "!report resolve "+ref, buttons["✅"])

	// Plain numbers stay event reports: there is no event report with
	// this id.
	assert.Contains(t, e.Command(e.Mod, "!report "+bottest.Itoa(reportID)).Body, "does not exist")
	shown := e.Command(e.Mod, "!report "+ref).Body
	assert.Contains(t, shown, "User report "+ref)
	assert.Contains(t, shown, "Case: Open")
	assert.Contains(t, shown, "User: "+string(e.Spammer.UserID)+" · local, account ")
	// In the card's thread, a command is about the card's user report.
	inThread := e.WaitReply(e.SayInThread(e.Mod, card.ID, "!report")).Content.AsMessage().Body
	assert.Contains(t, inThread, "User report "+ref)

	// An action for it claims its case; the reply goes to the card's
	// thread, and the card lists the action.
	reply := e.WaitReply(e.Say(e.Mod, "!suspend "+string(e.Spammer.UserID)+" --report "+ref))
	assert.Contains(t, reply.Content.AsMessage().Body, "Report "+ref+" is now claimed by you.")
	rel := reply.Content.AsMessage().RelatesTo
	require.NotNil(t, rel)
	assert.Equal(t, card.ID, rel.EventID, "in the card's thread")
	acc, err := e.Admin.Account(bg, e.Spammer.UserID)
	require.NoError(t, err)
	assert.True(t, bool(acc.Suspended))

	listed := e.Command(e.Mod, "!reports --kind user").Body
	assert.Contains(t, listed, ref+" · ")
	assert.Contains(t, listed, "reported the account "+string(e.Spammer.UserID))
	assert.NotContains(t, e.Command(e.Mod, "!reports --kind event").Body, ref+" · ")

	resolved := e.Command(e.Mod, "!report resolve "+ref+" --note done").Body
	assert.Contains(t, resolved, "Report "+ref+" — Resolved by "+string(e.Mod.UserID))
	assert.Contains(t, resolved, "1 report deleted from Synapse's list")
	_, err = e.Admin.UserReport(bg, reportID)
	assert.True(t, adminapi.IsNotFound(err), "deleted in Synapse: %v", err)
	require.Eventually(t, func() bool {
		edits := e.Edits(card.ID)
		return len(edits) > 0 && strings.Contains(edits[len(edits)-1], "Resolved by")
	}, 15*time.Second, 100*time.Millisecond, "the card shows the case")
	archived := e.Command(e.Mod, "!report "+ref).Body
	assert.Contains(t, archived, "this is Gavel's copy")
	assert.Contains(t, archived, "Case: Resolved by")
	audit := e.Command(e.Mod, "!audit report "+ref).Body
	assert.Contains(t, audit, "!suspend")
	assert.Contains(t, audit, "(report "+ref+")")
	assert.Len(t, e.UserCards()[reportID], 1, "still one card")
}

// TestUserReportsSurviveSIGKILLAndRestarts: the real binary is SIGKILLed
// while it posts a burst of user reports, Synapse is restarted under it,
// and in the end every user report has exactly one card.
func TestUserReportsSurviveSIGKILLAndRestarts(t *testing.T) {
	srv := bottest.NewServer(t)
	e := newEnv(t, srv)
	proxy := e.ViaProxy()
	logFile := e.ProcessLog()
	const total = 20
	for i := range total {
		require.NoError(t, e.World.ReportUser(bg, e.Spammer.UserID, "burst "+bottest.Itoa(int64(i))))
	}
	// Slow sends, so that the kills land in the middle of the burst.
	proxy.SetRule(func(r *http.Request) faultproxy.Fault {
		if faultproxy.IsSend(r) {
			time.Sleep(100 * time.Millisecond)
		}
		return nil
	})
	for kill := range 3 {
		p := e.StartProcess(logFile)
		var sends atomic.Int32
		proxy.AfterResponse(func(r faultproxy.Request, status int) {
			if r.Method == http.MethodPut && status == http.StatusOK && sends.Add(1) == int32(4+kill) {
				_ = p.Signal(syscall.SIGKILL)
			}
		})
		select {
		case <-p.Done():
		case <-time.After(time.Minute):
			t.Fatalf("kill %d did not happen within a minute", kill+1)
		}
		proxy.AfterResponse(nil)
	}
	require.Less(t, len(e.UserCards()), total, "the kills happened while the burst was being posted")
	p := e.StartProcess(logFile)
	e.WaitUserCards(total / 2)
	// Synapse restarts under the running Gavel; more reports arrive after.
	require.NoError(t, srv.Restart(bg))
	for i := range 3 {
		require.NoError(t, e.World.ReportUser(bg, e.Member.UserID, "after restart "+bottest.Itoa(int64(i))))
	}
	e.WaitUserCards(total + 3)
	time.Sleep(2 * time.Second) // a few more polls: nothing more may come
	cards := e.UserCards()
	assert.Len(t, cards, total+3)
	for reportID, c := range cards {
		assert.Len(t, c, 1, "user report %d has exactly one card", reportID)
	}
	p.Kill()
}

// TestUserReportsInAFloodAreDigested: more new user reports than
// reports.max_individual are posted as digests of user reports, each
// report in exactly one.
func TestUserReportsInAFloodAreDigested(t *testing.T) {
	e := newEnv(t, bottest.NewServer(t))
	e.Cfg.Reports.MaxIndividual = 3
	gavel := e.Start()
	e.WaitReply(e.Say(e.Mod, "!status")) // the first poll is done: the flood comes after
	// The flood is filed while Gavel is stopped, so that no poll sees the
	// first few alone (they would be cards: fewer than MaxIndividual).
	require.NoError(t, gavel.Stop())
	const total = 8
	for i := range total {
		require.NoError(t, e.World.ReportUser(bg, e.Spammer.UserID, "flood "+bottest.Itoa(int64(i))))
	}
	e.Start()
	covered := map[int64]int{}
	require.Eventually(t, func() bool {
		covered = map[int64]int{}
		for _, evt := range e.BotMessages() {
			if evt.Content.Raw["gavel.kind"] != "user" {
				continue
			}
			ids, _ := evt.Content.Raw["gavel.reports"].([]any)
			for _, v := range ids {
				covered[int64(v.(float64))]++
			}
		}
		return len(covered) >= total
	}, 30*time.Second, 100*time.Millisecond)
	for reportID, n := range covered {
		assert.Equal(t, 1, n, "user report %d is in exactly one digest", reportID)
	}
	assert.Empty(t, e.UserCards(), "no card of its own")
	// One from the digest gets a card when asked for.
	var first int64
	for first = range covered {
		break
	}
	e.Command(e.Mod, "!report claim u"+bottest.Itoa(first))
	e.WaitUserCards(1)
}

// TestWithoutUserReportsAPI: on a Synapse that answers 404 M_UNRECOGNIZED
// for user reports (older than 1.152), Gavel says so once, in the room and
// in !status, and goes on posting event reports.
func TestWithoutUserReportsAPI(t *testing.T) {
	e := newEnv(t, bottest.NewServer(t))
	proxy := e.ViaProxy()
	proxy.SetRule(func(r *http.Request) faultproxy.Fault {
		if strings.HasPrefix(r.URL.Path, "/_synapse/admin/v1/user_reports") {
			return faultproxy.Status(http.StatusNotFound, "M_UNRECOGNIZED")
		}
		return nil
	})
	require.NoError(t, e.World.ReportUser(bg, e.Spammer.UserID, "unseen"))
	e.Start()
	spam := e.Spam("buy now")
	e.Report(spam, "spam")
	e.WaitNotices(1)
	var notes []string
	for _, evt := range e.BotMessages() {
		if body := evt.Content.AsMessage().Body; strings.Contains(body, "no admin API for user reports") {
			notes = append(notes, body)
		}
	}
	require.Len(t, notes, 1, "said once")
	assert.Contains(t, notes[0], "they need Synapse 1.152 or newer")
	status := e.Command(e.Mod, "!status").Body
	assert.Contains(t, status, "User reports: not visible")
	assert.Contains(t, status, "1.152")
	assert.Empty(t, e.UserCards())
	list := e.Command(e.Mod, "!reports").Body
	assert.Contains(t, list, "1 open report", "event reports are listed all the same")
	assert.Contains(t, e.Command(e.Mod, "!reports --kind user").Body, "1.152")
}

// TestCardShowsContext: a card shows the reported user, their history,
// the reporter's record, the room and the messages around the event; a
// part that takes longer than the budget is left out of the card, which
// is edited when it comes.
func TestCardShowsContext(t *testing.T) {
	e := newEnv(t, nil)
	proxy := e.ViaProxy()
	var slow atomic.Bool
	proxy.SetRule(func(r *http.Request) faultproxy.Fault {
		if slow.Load() && strings.Contains(r.URL.Path, "/context/") {
			time.Sleep(1500 * time.Millisecond)
		}
		return nil
	})
	e.Start()
	e.Spam("the message before")
	first := e.Spam("first spam")
	e.Spam("the message after")
	e.Report(first, "spam")
	card := e.WaitNotices(1)[0]
	body := card.Content.AsMessage().Body
	assert.Contains(t, body, "User: "+string(e.Spammer.UserID)+" · local, account ")
	assert.Contains(t, body, "History: no earlier reports · no actions taken on them")
	assert.Contains(t, body, "Reporter: no earlier reports")
	assert.Contains(t, body, "Room: 2 members · anyone can join · not encrypted")
	assert.Contains(t, body, "> "+string(e.Spammer.UserID)+": the message before")
	assert.Contains(t, body, "> → (the reported event)")
	assert.Contains(t, body, "> "+string(e.Spammer.UserID)+": the message after")
	assert.NotContains(t, body, "Not gathered in time")

	// The spammer is dismissed once, then reported again while Synapse's
	// context API is slow.
	e.Command(e.Mod, "!report dismiss "+bottest.Itoa(e.ReportID(first))+" --note not spam")
	slow.Store(true)
	second := e.Spam("second spam")
	e.Report(second, "spam again")
	var card2 *event.Event
	require.Eventually(t, func() bool {
		for _, n := range e.Notices() {
			if bottest.Field(t, n).EventID == second {
				card2 = n
			}
		}
		return card2 != nil
	}, 30*time.Second, 100*time.Millisecond)
	body = card2.Content.AsMessage().Body
	assert.Contains(t, body, "History: 1 earlier report (last closed: Dismissed by "+string(e.Mod.UserID))
	assert.Contains(t, body, "Reporter: 1 earlier report, 1 dismissed")
	assert.Contains(t, body, "Not gathered in time: messages.", "the slow part is left out")
	assert.NotContains(t, body, "Around it:")
	require.Eventually(t, func() bool {
		edits := e.Edits(card2.ID)
		return len(edits) == 1 && strings.Contains(edits[0], "Around it:") && !strings.Contains(edits[0], "Not gathered in time")
	}, 30*time.Second, 100*time.Millisecond, "the card is edited when the late part comes")
	edit := e.Edits(card2.ID)[0]
	assert.Contains(t, edit, "> "+string(e.Spammer.UserID)+": first spam", "the message before it")
	assert.Contains(t, edit, "History: 1 earlier report", "the rest stays")
}

// roomCards returns the cards of room reports, by report id.
func (e *env) roomCards() map[int64][]*event.Event { return e.CardsOf("room") }

// roomReportsThroughDatabase: with synapse.database set, a room report
// filed through the client API gets exactly one card, with the room's
// context and room buttons; its case works with r<id>, and closing it
// leaves it in Synapse, which has no API to delete it.
func roomReportsThroughDatabase(t *testing.T, e *env) {
	e.Start()
	require.NoError(t, e.World.ReportRoom(bg, "a <b>scam</b> room"))
	var cards map[int64][]*event.Event
	require.Eventually(t, func() bool {
		cards = e.roomCards()
		return len(cards) == 1
	}, 30*time.Second, 100*time.Millisecond)
	var reportID int64
	var card *event.Event
	for reportID = range cards {
		card = cards[reportID][0]
	}
	ref := "r" + bottest.Itoa(reportID)
	f := bottest.Field(t, card)
	assert.Equal(t, e.Public, f.RoomID)
	assert.Equal(t, e.Reporter.UserID, f.Reporter)
	body := card.Content.AsMessage().Body
	assert.Contains(t, body, "Room report "+ref)
	assert.Contains(t, body, "Room: 2 members")
	assert.NotContains(t, card.Content.AsMessage().FormattedBody, "<b>scam")
	buttons, _ := card.Content.Raw["fi.mau.reaction_commands"].(map[string]any)
	assert.Equal(t, "!room block "+string(e.Public)+" --report "+ref, buttons["🚧"])

	assert.Contains(t, e.Command(e.Mod, "!status").Body, "1 room report (read from Synapse's database)")
	assert.Contains(t, e.Command(e.Mod, "!reports --kind room").Body, ref+" · ")
	blocked := e.Command(e.Mod, "!room block "+string(e.Public)+" --report "+ref).Body
	assert.Contains(t, blocked, "Report "+ref+" is now claimed by you.")
	resolved := e.Command(e.Mod, "!report resolve "+ref).Body
	assert.Contains(t, resolved, "Report "+ref+" — Resolved by")
	assert.NotContains(t, resolved, "deleted from Synapse's list", "room reports stay in Synapse")
	assert.Contains(t, e.Command(e.Mod, "!report delete "+ref).Body, "no API to delete room reports")
	time.Sleep(time.Second) // a few more polls
	assert.Len(t, e.roomCards()[reportID], 1, "still one card")
}

func TestRoomReportsFromSynapsesSQLite(t *testing.T) {
	srv := bottest.NewServer(t)
	e := newEnv(t, srv)
	e.Cfg.Synapse.Database = srv.DatabasePath()
	roomReportsThroughDatabase(t, e)
}

func TestRoomReportsFromSynapsesPostgres(t *testing.T) {
	uri := pgtest.URI(t)
	srv := synapsetest.New(t, synapsetest.Options{Postgres: uri})
	e := newEnv(t, srv)
	e.Cfg.Synapse.Database = uri
	roomReportsThroughDatabase(t, e)
}

// TestRoomReportsNotConfigured: without synapse.database, !status says
// room reports are not visible and how to see them.
func TestRoomReportsNotConfigured(t *testing.T) {
	e := newEnv(t, nil)
	e.Start()
	status := e.Command(e.Mod, "!status").Body
	assert.Contains(t, status, "Room reports: not visible: this Synapse has no admin API for room reports")
	assert.Contains(t, status, "set synapse.database")
	assert.Contains(t, e.Command(e.Mod, "!reports --kind room").Body, "set synapse.database")
}
