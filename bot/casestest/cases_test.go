package casestest

import (
	"errors"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/bot"
	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/internal/testkit/bottest"
	"github.com/gavel-bot/gavel/internal/testkit/faultproxy"
)

// caseOf returns the "gavel.case" of the latest edit of card, or nil.
func (e *env) caseOf(card id.EventID) (body string, fields map[string]any) {
	for _, evt := range e.BotMessages() {
		c := evt.Content.AsMessage()
		if c.RelatesTo == nil || c.RelatesTo.Type != event.RelReplace || c.RelatesTo.EventID != card {
			continue
		}
		newContent, _ := evt.Content.Raw["m.new_content"].(map[string]any)
		if f, ok := newContent["gavel.case"].(map[string]any); ok {
			body, _ = newContent["body"].(string)
			fields = f
		}
	}
	return body, fields
}

// waitCase waits until the card's latest edit shows the case in state.
func (e *env) waitCase(card id.EventID, state string) (string, map[string]any) {
	e.T.Helper()
	var body string
	var fields map[string]any
	require.Eventuallyf(e.T, func() bool {
		body, fields = e.caseOf(card)
		return fields["state"] == state
	}, 30*time.Second, 100*time.Millisecond, "waiting for card %s to show %s (now %v)", card, state, fields)
	return body, fields
}

// TestCaseCommandsEditTheCard: claiming and resolving a report edit its
// card in place (m.replace, with "gavel.case" in the new content and the
// report's fields kept), and !report shows the case and its history.
func TestCaseCommandsEditTheCard(t *testing.T) {
	e := newEnv(t, nil)
	e.Start()
	spam := e.Spam("case spam")
	e.Report(spam, "spam")
	card := e.WaitNotices(1)[0]
	reportID := e.ReportID(spam)
	n := bottest.Itoa(reportID)
	// The card as first posted, before any edit, shows the open case.
	require.Nil(t, card.Content.AsMessage().RelatesTo, "the first card event is not an edit")
	assert.Equal(t, map[string]any{"state": "open", "actions": []any{}, "reports": float64(1)}, card.Content.Raw["gavel.case"])
	assert.True(t, strings.HasPrefix(card.Content.AsMessage().Body, "Open\nReport "+n+": "), card.Content.AsMessage().Body)

	reply := e.Command(e.Mod, "!report claim "+n)
	assert.Regexp(t, `^Report `+n+` — Claimed by `+regexp.QuoteMeta(string(e.Mod.UserID))+` \d\d:\d\d UTC\.$`, reply.Body)
	body, fields := e.waitCase(card.ID, "claimed")
	assert.Equal(t, string(e.Mod.UserID), fields["by"])
	assert.True(t, strings.HasPrefix(body, "Claimed by "+string(e.Mod.UserID)), body)
	assert.NotContains(t, body, "Open\n", "the claim's line replaces the open case's")
	assert.Contains(t, body, "case spam", "the card still shows the report")

	e.SetPowerLevel(e.Member.UserID, 0)
	assert.Contains(t, e.Command(e.Member, "!report resolve "+n).Body, "Sorry, Gavel's commands need power level 50")

	e.Command(e.Mod, `!report resolve `+n+` --note "spam, gone"`)
	body, fields = e.waitCase(card.ID, "resolved")
	assert.Regexp(t, `^Resolved by `+regexp.QuoteMeta(string(e.Mod.UserID))+` \d\d:\d\d UTC: spam, gone\n`, body)
	assert.NotZero(t, fields["ts"])

	shown := e.Command(e.Mod, "!report "+n).Body
	assert.Contains(t, shown, "Case: Resolved by "+string(e.Mod.UserID))
	assert.Contains(t, shown, "`!report claim "+n+"`")
	assert.Contains(t, shown, "`!report resolve "+n+` --note "spam, gone"`+"`")

	audit := e.Command(e.Mod, "!audit report "+n).Body
	assert.True(t, strings.HasPrefix(audit, "3 entries for report "+n+", newest first:"), audit)
	resolve := strings.Index(audit, "`!report resolve "+n)
	claim := strings.Index(audit, "`!report claim "+n+"` (report "+n+") → Report "+n+" — Claimed by ")
	assert.True(t, resolve >= 0 && claim > resolve, "newest first: %s", audit)
	assert.Contains(t, audit, "`!report resolve "+n+"` (report "+n+") → not done: Sorry, Gavel's commands need power level 50", "refusals are recorded too")
	assert.Contains(t, e.Command(e.Mod, "!audit --by "+string(e.Member.UserID)).Body, "1 entry by "+string(e.Member.UserID))
}

// TestActionForAReportClaimsItsCard: an action with --report claims the
// open report for the moderator who acted, the card lists the action,
// and the action log has the report.
func TestActionForAReportClaimsItsCard(t *testing.T) {
	e := newEnv(t, nil)
	e.Start()
	spam := e.Spam("redact me")
	e.Report(spam, "spam")
	card := e.WaitNotices(1)[0]
	n := bottest.Itoa(e.ReportID(spam))

	reply := e.Command(e.Mod, "!redact "+string(e.Public)+" "+string(spam)+" --report "+n)
	assert.True(t, strings.HasSuffix(reply.Body, "Report "+n+" is now claimed by you."), reply.Body)
	body, fields := e.waitCase(card.ID, "claimed")
	assert.Equal(t, []any{"redact event"}, fields["actions"])
	assert.Regexp(t, `^Claimed by `+regexp.QuoteMeta(string(e.Mod.UserID))+` \d\d:\d\d UTC: redact event\n`, body)
	assert.True(t, e.Redacted(spam))
	assert.Contains(t, e.Command(e.Mod, "!report "+n).Body, "--report "+n+"`")
}

// answersOn returns Gavel's replies to target (answers to buttons reply
// to the card) beyond the first after, oldest first.
func (e *env) answersOn(target id.EventID, after int) []*event.Event {
	all := e.Replies(target)
	if len(all) <= after {
		return nil
	}
	return all[after:]
}

// waitAnswerOn waits for Gavel's next reply to target (beyond the after
// already there) and returns its body.
func (e *env) waitAnswerOn(target id.EventID, after int) string {
	e.T.Helper()
	var got []*event.Event
	require.Eventuallyf(e.T, func() bool {
		got = e.answersOn(target, after)
		return len(got) > 0
	}, 30*time.Second, 100*time.Millisecond, "waiting for an answer on %s", target)
	return got[0].Content.AsMessage().Body
}

// TestButtons: a card carries its buttons (fi.mau.reaction_commands and a
// legend) and Gavel's own reactions; a moderator's reaction runs the
// button's command for the report, one below the power level is refused,
// a destructive one asks for confirmation first, and a closed case's
// buttons do nothing.
func TestButtons(t *testing.T) {
	e := newEnv(t, nil)
	e.Start()
	spam := e.Spam("button spam")
	e.Report(spam, "spam")
	card := e.WaitNotices(1)[0]
	n := bottest.Itoa(e.ReportID(spam))
	commands, _ := card.Content.Raw["fi.mau.reaction_commands"].(map[string]any)
	assert.Equal(t, "!report claim "+n, commands["👀"])
	assert.Equal(t, "!redact "+string(e.Public)+" "+string(spam)+" --report "+n, commands["🗑️"])
	assert.Equal(t, "!suspend "+string(e.Spammer.UserID)+" --report "+n, commands["⛔"])
	assert.Contains(t, card.Content.AsMessage().Body, "Buttons: 👀 claim · ✅ resolve · 🚫 dismiss · 🗑️ redact the message · ⛔ suspend the sender")
	require.Eventually(t, func() bool {
		rel, err := e.Mod.GetRelations(bg, e.Room, card.ID, &mautrix.ReqGetRelations{RelationType: event.RelAnnotation, EventType: event.EventReaction, Limit: 50})
		require.NoError(t, err)
		return len(rel.Chunk) == len(commands)
	}, 30*time.Second, 100*time.Millisecond, "Gavel puts each button on its card")

	answers := 0
	press := func(cli *mautrix.Client, key string) string {
		t.Helper()
		e.react(cli, card.ID, key)
		body := e.waitAnswerOn(card.ID, answers)
		answers++
		return body
	}
	assert.Contains(t, press(e.Mod, "👀"), "Report "+n+" — Claimed by "+string(e.Mod.UserID))
	e.waitCase(card.ID, "claimed")

	e.SetPowerLevel(e.Member.UserID, 0)
	assert.Contains(t, press(e.Member, "✅"), "Sorry, Gavel's commands need power level 50")

	assert.Contains(t, press(e.Mod, "🗑"), "Redacted "+string(spam), "the key matches with or without the variation selector")
	assert.True(t, e.Redacted(spam))
	require.Eventually(t, func() bool {
		_, fields := e.caseOf(card.ID)
		actions, _ := fields["actions"].([]any)
		return fields["state"] == "claimed" && len(actions) == 1 && actions[0] == "redact event"
	}, 30*time.Second, 100*time.Millisecond, "the card lists the redaction")

	preview := e.Replies(card.ID)
	body := press(e.Mod, "🧹")
	assert.Contains(t, body, "Redact "+string(e.Spammer.UserID)+"'s messages since ")
	assert.Contains(t, body, "React ✅ to this message")
	previewEvt := e.Replies(card.ID)[len(preview)]
	answer := e.AnswerEvent(e.react(e.Mod, previewEvt.ID, "✅"))
	assert.Contains(t, answer.Content.AsMessage().Body, "Redacting "+string(e.Spammer.UserID))

	assert.Contains(t, press(e.Mod, "✅"), "Report "+n+" — Resolved by "+string(e.Mod.UserID))
	_, fields := e.waitCase(card.ID, "resolved")
	assert.Equal(t, []any{"redact event", "redact user"}, fields["actions"], "actions taken by button and by confirmation stay on the card")
	assert.Equal(t, "Report "+n+" is resolved: its buttons do nothing now. `!report reopen "+n+"` opens it again.", press(e.Mod, "⛔"))
	acc, err := e.Admin.Account(bg, e.Spammer.UserID)
	require.NoError(t, err)
	assert.False(t, bool(acc.Suspended))
}

// TestCrashBetweenCardEditAndRecord: Gavel crashes right after Synapse
// took the edit of a card for a case change, before recording it, and
// comes back with a new device (so Synapse's transaction ids do not
// help). The card is edited once for that change, not twice, and the next
// change edits it again.
func TestCrashBetweenCardEditAndRecord(t *testing.T) {
	e := newEnv(t, nil)
	e.Cfg.Reports.OnFirstStart = config.FirstStartSkip
	crash := errors.New("simulated crash after the edit")
	gavel := e.Start(func(o *bot.Options) {
		o.AfterSend = func(key string) error {
			if strings.Contains(key, "-case-") {
				return crash
			}
			return nil
		}
	})
	spam := e.Spam("crash my card")
	e.Report(spam, "spam")
	card := e.WaitNotices(1)[0]
	n := bottest.Itoa(e.ReportID(spam))
	e.Say(e.Mod, "!report claim "+n)
	select {
	case err := <-gavel.Done:
		require.ErrorIs(t, err, crash)
		gavel.Done <- err
	case <-time.After(30 * time.Second):
		t.Fatal("Gavel did not reach the crash point")
	}
	caseEdits := func() int { return len(e.Edits(card.ID)) }
	require.Equal(t, 1, caseEdits(), "the edit was sent before the crash")

	e.NewDevice()
	e.Start()
	e.Command(e.Mod, "!report resolve "+n)
	e.waitCase(card.ID, "resolved")
	assert.Equal(t, 2, caseEdits(), "one edit per change: the one sent before the crash is not sent again")
}

// TestCommandsInACardsThread: a command typed in a card's thread may
// leave out the report id, and replies about a report, wherever the
// command was typed, go into its card's thread.
func TestCommandsInACardsThread(t *testing.T) {
	e := newEnv(t, nil)
	e.Start()
	spam := e.Spam("thread spam")
	e.Report(spam, "spam")
	card := e.WaitNotices(1)[0]
	n := bottest.Itoa(e.ReportID(spam))
	inThread := func(evt *event.Event) bool {
		rel := evt.Content.AsMessage().RelatesTo
		return rel != nil && rel.Type == event.RelThread && rel.EventID == card.ID
	}

	reply := e.WaitReply(e.SayInThread(e.Mod, card.ID, "!report claim"))
	assert.Regexp(t, `^Report `+n+` — Claimed by `, reply.Content.AsMessage().Body)
	assert.True(t, inThread(reply), "the reply is in the card's thread")
	e.waitCase(card.ID, "claimed")

	reply = e.WaitReply(e.Say(e.Mod, "!report resolve "+n+" --note typed outside"))
	assert.Regexp(t, `^Report `+n+` — Resolved by `, reply.Content.AsMessage().Body)
	assert.True(t, inThread(reply), "a reply about the report goes into its card's thread")

	reply = e.WaitReply(e.SayInThread(e.Mod, card.ID, "!report"))
	assert.Contains(t, reply.Content.AsMessage().Body, "Report "+n+": ")
	assert.Contains(t, reply.Content.AsMessage().Body, "Case: Resolved by ")

	reply = e.WaitReply(e.Say(e.Mod, "!help report"))
	assert.False(t, inThread(reply), "other replies stay in the main timeline")
}

// TestDuplicateReportsJoinTheCard: a new report of an event whose card is
// open gets no card of its own: the card names the new reporter and the
// count, a line in its thread says so, and the new report's id works on
// the card's case.
func TestDuplicateReportsJoinTheCard(t *testing.T) {
	e := newEnv(t, nil)
	e.Start()
	spam := e.Spam("reported twice")
	e.Report(spam, "spam")
	card := e.WaitNotices(1)[0]
	first := e.ReportID(spam)
	e.Report(spam, "<b>again</b>")
	second := e.ReportID(spam)
	require.NotEqual(t, first, second)

	var body string
	var fields map[string]any
	require.Eventually(t, func() bool {
		body, fields = e.caseOf(card.ID)
		return fields["reports"] == float64(2)
	}, 30*time.Second, 100*time.Millisecond, "the card counts the second report")
	assert.Contains(t, body, "Also reported by "+string(e.Reporter.UserID)+" (report "+bottest.Itoa(second)+": `<b>again</b>`) — 2 reports in all.")
	assert.Equal(t, "open", fields["state"])
	line := e.waitAnswerOn(card.ID, 0)
	assert.Equal(t, "Report "+bottest.Itoa(second)+": "+string(e.Reporter.UserID)+" also reported this: `<b>again</b>`.", line)
	assert.Len(t, e.Notices(), 1, "no second card")

	reply := e.Command(e.Mod, "!report claim "+bottest.Itoa(second))
	assert.Regexp(t, `^Report `+bottest.Itoa(second)+` — Claimed by `, reply.Body)
	body, _ = e.waitCase(card.ID, "claimed")
	assert.Contains(t, body, "— 2 reports in all.", "later edits keep the duplicates")
}

// TestReportFromADigestGetsACard: a report that came in a digest has no
// card until a moderator acts on it; then its card is posted in the
// digest's thread, with its buttons, and shows the case like any other.
func TestReportFromADigestGetsACard(t *testing.T) {
	e := newEnv(t, nil)
	e.Cfg.Reports.MaxIndividual = 2
	gavel := e.Start()
	e.Command(e.Mod, "!help")
	require.NoError(t, gavel.Stop())
	spam := e.Spam("in a digest")
	e.Report(spam, "spam")
	e.ReportMany(2)
	e.Start()
	n := e.ReportID(spam)
	var digest *event.Event
	require.Eventually(t, func() bool {
		for _, d := range e.Digests() {
			for _, id := range d.Content.Raw["gavel.reports"].([]any) {
				if int64(id.(float64)) == n {
					digest = d
					return true
				}
			}
		}
		return false
	}, 30*time.Second, 100*time.Millisecond, "the report comes in a digest")
	assert.Empty(t, e.Notices(), "no card yet")

	reply := e.Command(e.Mod, "!report claim "+bottest.Itoa(n))
	assert.Regexp(t, `^Report `+bottest.Itoa(n)+` — Claimed by `, reply.Body)
	cards := e.WaitNotices(1)
	require.Len(t, cards, 1)
	card := cards[0]
	assert.Equal(t, n, bottest.Field(t, card).ReportID)
	rel := card.Content.AsMessage().RelatesTo
	require.NotNil(t, rel)
	assert.Equal(t, event.RelThread, rel.Type)
	assert.Equal(t, digest.ID, rel.EventID, "in the digest's thread")
	assert.NotNil(t, card.Content.Raw["fi.mau.reaction_commands"], "with its buttons")
	e.waitCase(card.ID, "claimed")
}

// TestReporterIsTold: with notify_reporter, dismissing a case sends its
// reporter a server notice with the template (naming neither the
// moderator nor the action), once, even when the case is closed again.
func TestReporterIsTold(t *testing.T) {
	e := newEnv(t, nil)
	e.Cfg.Reports.NotifyReporter = true
	e.Start()
	spam := e.Spam("tell the reporter")
	e.Report(spam, "spam")
	e.WaitNotices(1)
	n := bottest.Itoa(e.ReportID(spam))

	assert.Contains(t, e.Command(e.Mod, "!report dismiss "+n+" --note not spam").Body, "1 reporter was told it was reviewed (server notice).")
	want := "Thank you for your report " + n + ". The moderators of " + e.Srv.ServerName + " have reviewed it."
	var notices []string
	require.Eventually(t, func() bool {
		notices = e.serverNotices(e.Reporter)
		return len(notices) > 0
	}, 30*time.Second, 200*time.Millisecond, "the reporter gets a server notice")
	assert.Equal(t, []string{want}, notices)

	e.Command(e.Mod, "!report reopen "+n)
	assert.NotContains(t, e.Command(e.Mod, "!report resolve "+n).Body, "told", "a reporter is told once")
	assert.Len(t, e.serverNotices(e.Reporter), 1)
}

// serverNotices joins cli's server-notice room, if it was invited, and
// returns the notices' bodies there.
func (e *env) serverNotices(cli *mautrix.Client) []string {
	e.T.Helper()
	resp, err := cli.FullSyncRequest(bg, mautrix.ReqSync{Timeout: 0})
	require.NoError(e.T, err)
	for roomID := range resp.Rooms.Invite {
		_, err := cli.JoinRoomByID(bg, roomID)
		require.NoError(e.T, err)
	}
	var bodies []string
	joined, err := cli.JoinedRooms(bg)
	require.NoError(e.T, err)
	for _, roomID := range joined.JoinedRooms {
		msgs, err := cli.Messages(bg, roomID, "", "", mautrix.DirectionBackward, nil, 50)
		require.NoError(e.T, err)
		for _, evt := range msgs.Chunk {
			if evt.Type == event.EventMessage && evt.Sender.Localpart() == "notices" {
				_ = evt.Content.ParseRaw(evt.Type)
				bodies = append(bodies, evt.Content.AsMessage().Body)
			}
		}
	}
	return bodies
}

// TestSIGKILLBetweenCaseChangeAndCardEdit kills the real gavel process
// right after Synapse took the edit of a card for a claim, before Gavel
// recorded it. After the restart the card shows the claim through exactly
// one edit, and the next change adds one more.
func TestSIGKILLBetweenCaseChangeAndCardEdit(t *testing.T) {
	e := newEnv(t, nil)
	e.Cfg.Reports.OnFirstStart = config.FirstStartSkip
	p := e.ViaProxy()
	log := e.ProcessLog()
	gavel := e.StartProcess(log)
	e.WaitStarted(log, 1)
	spam := e.Spam("kill my card")
	e.Report(spam, "spam")
	card := e.WaitNotices(1)[0]
	n := bottest.Itoa(e.ReportID(spam))

	p.AfterResponse(func(r faultproxy.Request, status int) {
		if r.Method == http.MethodPut && status == http.StatusOK && strings.Contains(r.Path, "-case-") {
			_ = gavel.Signal(syscall.SIGKILL)
		}
	})
	e.Say(e.Mod, "!report claim "+n)
	select {
	case <-gavel.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("gavel was not killed within 30 s")
	}
	p.AfterResponse(nil)
	edits := func() int { return len(e.Edits(card.ID)) }
	require.Equal(t, 1, edits(), "the edit reached Synapse before the kill")

	e.StartProcess(log)
	e.WaitStarted(log, 2)
	e.Command(e.Mod, "!report resolve "+n)
	e.waitCase(card.ID, "resolved")
	assert.Equal(t, 2, edits(), "one edit per change")
}

// TestReportDeletedOutsideGavel: a report deleted in Synapse by someone
// else while its case is open is closed as deleted on its card at the
// next full scan (at start-up here); its buttons then do nothing.
func TestReportDeletedOutsideGavel(t *testing.T) {
	e := newEnv(t, nil)
	gavel := e.Start()
	spam := e.Spam("deleted elsewhere")
	e.Report(spam, "spam")
	card := e.WaitNotices(1)[0]
	n := e.ReportID(spam)
	require.NoError(t, gavel.Stop())
	require.NoError(t, e.Admin.DeleteEventReport(bg, n))

	e.Start()
	body, fields := e.waitCase(card.ID, "deleted")
	assert.True(t, strings.HasPrefix(body, "Closed outside Gavel: deleted in Synapse (seen "), body)
	assert.NotZero(t, fields["ts"])
	assert.Equal(t, "Report "+bottest.Itoa(n)+" is already deleted in Synapse, outside Gavel. `!report reopen "+bottest.Itoa(n)+"` opens it again.",
		e.Command(e.Mod, "!report claim "+bottest.Itoa(n)).Body)
}
