package bot

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

	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/internal/faultproxy"
)

// caseOf returns the "gavel.case" of the latest edit of card, or nil.
func (e *env) caseOf(card id.EventID) (body string, fields map[string]any) {
	for _, evt := range e.botMessages() {
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
	e.t.Helper()
	var body string
	var fields map[string]any
	require.Eventuallyf(e.t, func() bool {
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
	e.start()
	spam := e.spam("case spam")
	e.report(spam, "spam")
	card := e.waitNotices(1)[0]
	reportID := e.reportID(spam)
	n := itoa(reportID)

	reply := e.command(e.mod, "!report claim "+n)
	assert.Regexp(t, `^Report `+n+` — Claimed by `+regexp.QuoteMeta(string(e.mod.UserID))+` \d\d:\d\d UTC\.$`, reply.Body)
	body, fields := e.waitCase(card.ID, "claimed")
	assert.Equal(t, string(e.mod.UserID), fields["by"])
	assert.True(t, strings.HasPrefix(body, "Claimed by "+string(e.mod.UserID)), body)
	assert.Contains(t, body, "case spam", "the card still shows the report")

	e.setPowerLevel(e.member.UserID, 0)
	assert.Contains(t, e.command(e.member, "!report resolve "+n).Body, "Sorry, Gavel's commands need power level 50")

	e.command(e.mod, `!report resolve `+n+` --note "spam, gone"`)
	body, fields = e.waitCase(card.ID, "resolved")
	assert.Regexp(t, `^Resolved by `+regexp.QuoteMeta(string(e.mod.UserID))+` \d\d:\d\d UTC: spam, gone\n`, body)
	assert.NotZero(t, fields["ts"])

	shown := e.command(e.mod, "!report "+n).Body
	assert.Contains(t, shown, "Case: Resolved by "+string(e.mod.UserID))
	assert.Contains(t, shown, "`!report claim "+n+"`")
	assert.Contains(t, shown, "`!report resolve "+n+` --note "spam, gone"`+"`")

	audit := e.command(e.mod, "!audit report "+n).Body
	assert.True(t, strings.HasPrefix(audit, "3 entries for report "+n+", newest first:"), audit)
	resolve := strings.Index(audit, "`!report resolve "+n)
	claim := strings.Index(audit, "`!report claim "+n+"` (report "+n+") → Report "+n+" — Claimed by ")
	assert.True(t, resolve >= 0 && claim > resolve, "newest first: %s", audit)
	assert.Contains(t, audit, "`!report resolve "+n+"` (report "+n+") → not done: Sorry, Gavel's commands need power level 50", "refusals are recorded too")
	assert.Contains(t, e.command(e.mod, "!audit --by "+string(e.member.UserID)).Body, "1 entry by "+string(e.member.UserID))
}

// TestActionForAReportClaimsItsCard: an action with --report claims the
// open report for the moderator who acted, the card lists the action,
// and the action log has the report.
func TestActionForAReportClaimsItsCard(t *testing.T) {
	e := newEnv(t, nil)
	e.start()
	spam := e.spam("redact me")
	e.report(spam, "spam")
	card := e.waitNotices(1)[0]
	n := itoa(e.reportID(spam))

	reply := e.command(e.mod, "!redact "+string(e.public)+" "+string(spam)+" --report "+n)
	assert.True(t, strings.HasSuffix(reply.Body, "Report "+n+" is now claimed by you."), reply.Body)
	body, fields := e.waitCase(card.ID, "claimed")
	assert.Equal(t, []any{"redact event"}, fields["actions"])
	assert.Regexp(t, `^Claimed by `+regexp.QuoteMeta(string(e.mod.UserID))+` \d\d:\d\d UTC: redact event\n`, body)
	assert.True(t, e.redacted(spam))
	assert.Contains(t, e.command(e.mod, "!report "+n).Body, "--report "+n+"`")
}

// answersOn returns Gavel's replies to target (answers to buttons reply
// to the card) beyond the first after, oldest first.
func (e *env) answersOn(target id.EventID, after int) []*event.Event {
	all := e.replies(target)
	if len(all) <= after {
		return nil
	}
	return all[after:]
}

// waitAnswerOn waits for Gavel's next reply to target (beyond the after
// already there) and returns its body.
func (e *env) waitAnswerOn(target id.EventID, after int) string {
	e.t.Helper()
	var got []*event.Event
	require.Eventuallyf(e.t, func() bool {
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
	e.start()
	spam := e.spam("button spam")
	e.report(spam, "spam")
	card := e.waitNotices(1)[0]
	n := itoa(e.reportID(spam))
	commands, _ := card.Content.Raw["fi.mau.reaction_commands"].(map[string]any)
	assert.Equal(t, "!report claim "+n, commands["👀"])
	assert.Equal(t, "!redact "+string(e.public)+" "+string(spam)+" --report "+n, commands["🗑️"])
	assert.Equal(t, "!suspend "+string(e.spammer.UserID)+" --report "+n, commands["⛔"])
	assert.Contains(t, card.Content.AsMessage().Body, "Buttons: 👀 claim · ✅ resolve · 🚫 dismiss · 🗑️ redact the message · ⛔ suspend the sender")
	require.Eventually(t, func() bool {
		rel, err := e.mod.GetRelations(bg, e.room, card.ID, &mautrix.ReqGetRelations{RelationType: event.RelAnnotation, EventType: event.EventReaction, Limit: 50})
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
	assert.Contains(t, press(e.mod, "👀"), "Report "+n+" — Claimed by "+string(e.mod.UserID))
	e.waitCase(card.ID, "claimed")

	e.setPowerLevel(e.member.UserID, 0)
	assert.Contains(t, press(e.member, "✅"), "Sorry, Gavel's commands need power level 50")

	assert.Contains(t, press(e.mod, "🗑"), "Redacted "+string(spam), "the key matches with or without the variation selector")
	assert.True(t, e.redacted(spam))
	require.Eventually(t, func() bool {
		_, fields := e.caseOf(card.ID)
		actions, _ := fields["actions"].([]any)
		return fields["state"] == "claimed" && len(actions) == 1 && actions[0] == "redact event"
	}, 30*time.Second, 100*time.Millisecond, "the card lists the redaction")

	preview := e.replies(card.ID)
	body := press(e.mod, "🧹")
	assert.Contains(t, body, "Redact "+string(e.spammer.UserID)+"'s messages since ")
	assert.Contains(t, body, "React ✅ to this message")
	previewEvt := e.replies(card.ID)[len(preview)]
	answer := e.answerEvent(e.react(e.mod, previewEvt.ID, "✅"))
	assert.Contains(t, answer.Content.AsMessage().Body, "Redacting "+string(e.spammer.UserID))

	assert.Contains(t, press(e.mod, "✅"), "Report "+n+" — Resolved by "+string(e.mod.UserID))
	_, fields := e.waitCase(card.ID, "resolved")
	assert.Equal(t, []any{"redact event", "redact user"}, fields["actions"], "actions taken by button and by confirmation stay on the card")
	assert.Equal(t, "Report "+n+" is resolved: its buttons do nothing now. `!report reopen "+n+"` opens it again.", press(e.mod, "⛔"))
	acc, err := e.admin.Account(bg, e.spammer.UserID)
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
	e.cfg.Reports.OnFirstStart = config.FirstStartSkip
	crash := errors.New("simulated crash after the edit")
	gavel := e.start(func(o *Options) {
		o.AfterSend = func(key string) error {
			if strings.Contains(key, "-case-") {
				return crash
			}
			return nil
		}
	})
	spam := e.spam("crash my card")
	e.report(spam, "spam")
	card := e.waitNotices(1)[0]
	n := itoa(e.reportID(spam))
	e.say(e.mod, "!report claim "+n)
	select {
	case err := <-gavel.done:
		require.ErrorIs(t, err, crash)
		gavel.done <- err
	case <-time.After(30 * time.Second):
		t.Fatal("Gavel did not reach the crash point")
	}
	caseEdits := func() int { return len(e.edits(card.ID)) }
	require.Equal(t, 1, caseEdits(), "the edit was sent before the crash")

	e.newDevice()
	e.start()
	e.command(e.mod, "!report resolve "+n)
	e.waitCase(card.ID, "resolved")
	assert.Equal(t, 2, caseEdits(), "one edit per change: the one sent before the crash is not sent again")
}

// sayInThread sends body as cli into the thread rooted at root.
func (e *env) sayInThread(cli *mautrix.Client, root id.EventID, body string) id.EventID {
	e.t.Helper()
	content := &event.MessageEventContent{MsgType: event.MsgText, Body: body,
		RelatesTo: (&event.RelatesTo{}).SetThread(root, root)}
	resp, err := cli.SendMessageEvent(bg, e.room, event.EventMessage, content)
	require.NoError(e.t, err)
	return resp.EventID
}

// TestCommandsInACardsThread: a command typed in a card's thread may
// leave out the report id, and replies about a report, wherever the
// command was typed, go into its card's thread.
func TestCommandsInACardsThread(t *testing.T) {
	e := newEnv(t, nil)
	e.start()
	spam := e.spam("thread spam")
	e.report(spam, "spam")
	card := e.waitNotices(1)[0]
	n := itoa(e.reportID(spam))
	inThread := func(evt *event.Event) bool {
		rel := evt.Content.AsMessage().RelatesTo
		return rel != nil && rel.Type == event.RelThread && rel.EventID == card.ID
	}

	reply := e.waitReply(e.sayInThread(e.mod, card.ID, "!report claim"))
	assert.Regexp(t, `^Report `+n+` — Claimed by `, reply.Content.AsMessage().Body)
	assert.True(t, inThread(reply), "the reply is in the card's thread")
	e.waitCase(card.ID, "claimed")

	reply = e.waitReply(e.say(e.mod, "!report resolve "+n+" --note typed outside"))
	assert.Regexp(t, `^Report `+n+` — Resolved by `, reply.Content.AsMessage().Body)
	assert.True(t, inThread(reply), "a reply about the report goes into its card's thread")

	reply = e.waitReply(e.sayInThread(e.mod, card.ID, "!report"))
	assert.Contains(t, reply.Content.AsMessage().Body, "Report "+n+": ")
	assert.Contains(t, reply.Content.AsMessage().Body, "Case: Resolved by ")

	reply = e.waitReply(e.say(e.mod, "!help report"))
	assert.False(t, inThread(reply), "other replies stay in the main timeline")
}

// TestDuplicateReportsJoinTheCard: a new report of an event whose card is
// open gets no card of its own: the card names the new reporter and the
// count, a line in its thread says so, and the new report's id works on
// the card's case.
func TestDuplicateReportsJoinTheCard(t *testing.T) {
	e := newEnv(t, nil)
	e.start()
	spam := e.spam("reported twice")
	e.report(spam, "spam")
	card := e.waitNotices(1)[0]
	first := e.reportID(spam)
	e.report(spam, "<b>again</b>")
	second := e.reportID(spam)
	require.NotEqual(t, first, second)

	var body string
	var fields map[string]any
	require.Eventually(t, func() bool {
		body, fields = e.caseOf(card.ID)
		return fields["reports"] == float64(2)
	}, 30*time.Second, 100*time.Millisecond, "the card counts the second report")
	assert.Contains(t, body, "Also reported by "+string(e.reporter.UserID)+" (report "+itoa(second)+": `<b>again</b>`) — 2 reports in all.")
	assert.Equal(t, "open", fields["state"])
	line := e.waitAnswerOn(card.ID, 0)
	assert.Equal(t, "Report "+itoa(second)+": "+string(e.reporter.UserID)+" also reported this: `<b>again</b>`.", line)
	assert.Len(t, e.notices(), 1, "no second card")

	reply := e.command(e.mod, "!report claim "+itoa(second))
	assert.Regexp(t, `^Report `+itoa(second)+` — Claimed by `, reply.Body)
	body, _ = e.waitCase(card.ID, "claimed")
	assert.Contains(t, body, "— 2 reports in all.", "later edits keep the duplicates")
}

// TestReportFromADigestGetsACard: a report that came in a digest has no
// card until a moderator acts on it; then its card is posted in the
// digest's thread, with its buttons, and shows the case like any other.
func TestReportFromADigestGetsACard(t *testing.T) {
	e := newEnv(t, nil)
	e.cfg.Reports.MaxIndividual = 2
	gavel := e.start()
	e.command(e.mod, "!help")
	require.NoError(t, gavel.stop())
	spam := e.spam("in a digest")
	e.report(spam, "spam")
	e.reportMany(2)
	e.start()
	n := e.reportID(spam)
	var digest *event.Event
	require.Eventually(t, func() bool {
		for _, d := range e.digests() {
			for _, id := range d.Content.Raw["gavel.reports"].([]any) {
				if int64(id.(float64)) == n {
					digest = d
					return true
				}
			}
		}
		return false
	}, 30*time.Second, 100*time.Millisecond, "the report comes in a digest")
	assert.Empty(t, e.notices(), "no card yet")

	reply := e.command(e.mod, "!report claim "+itoa(n))
	assert.Regexp(t, `^Report `+itoa(n)+` — Claimed by `, reply.Body)
	cards := e.waitNotices(1)
	require.Len(t, cards, 1)
	card := cards[0]
	assert.Equal(t, n, field(t, card).ReportID)
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
	e.cfg.Reports.NotifyReporter = true
	e.start()
	spam := e.spam("tell the reporter")
	e.report(spam, "spam")
	e.waitNotices(1)
	n := itoa(e.reportID(spam))

	assert.Contains(t, e.command(e.mod, "!report dismiss "+n+" --note not spam").Body, "1 reporter was told it was reviewed (server notice).")
	want := "Thank you for your report " + n + ". The moderators of " + e.srv.ServerName + " have reviewed it."
	var notices []string
	require.Eventually(t, func() bool {
		notices = e.serverNotices(e.reporter)
		return len(notices) > 0
	}, 30*time.Second, 200*time.Millisecond, "the reporter gets a server notice")
	assert.Equal(t, []string{want}, notices)

	e.command(e.mod, "!report reopen "+n)
	assert.NotContains(t, e.command(e.mod, "!report resolve "+n).Body, "told", "a reporter is told once")
	assert.Len(t, e.serverNotices(e.reporter), 1)
}

// serverNotices joins cli's server-notice room, if it was invited, and
// returns the notices' bodies there.
func (e *env) serverNotices(cli *mautrix.Client) []string {
	e.t.Helper()
	resp, err := cli.FullSyncRequest(bg, mautrix.ReqSync{Timeout: 0})
	require.NoError(e.t, err)
	for roomID := range resp.Rooms.Invite {
		_, err := cli.JoinRoomByID(bg, roomID)
		require.NoError(e.t, err)
	}
	var bodies []string
	joined, err := cli.JoinedRooms(bg)
	require.NoError(e.t, err)
	for _, roomID := range joined.JoinedRooms {
		msgs, err := cli.Messages(bg, roomID, "", "", mautrix.DirectionBackward, nil, 50)
		require.NoError(e.t, err)
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
	e.cfg.Reports.OnFirstStart = config.FirstStartSkip
	p := e.viaProxy()
	log := e.processLog()
	gavel := e.startProcess(log)
	e.waitStarted(log, 1)
	spam := e.spam("kill my card")
	e.report(spam, "spam")
	card := e.waitNotices(1)[0]
	n := itoa(e.reportID(spam))

	p.AfterResponse(func(r faultproxy.Request, status int) {
		if r.Method == http.MethodPut && status == http.StatusOK && strings.Contains(r.Path, "-case-") {
			_ = gavel.Signal(syscall.SIGKILL)
		}
	})
	e.say(e.mod, "!report claim "+n)
	select {
	case <-gavel.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("gavel was not killed within 30 s")
	}
	p.AfterResponse(nil)
	edits := func() int { return len(e.edits(card.ID)) }
	require.Equal(t, 1, edits(), "the edit reached Synapse before the kill")

	e.startProcess(log)
	e.waitStarted(log, 2)
	e.command(e.mod, "!report resolve "+n)
	e.waitCase(card.ID, "resolved")
	assert.Equal(t, 2, edits(), "one edit per change")
}

// TestReportDeletedOutsideGavel: a report deleted in Synapse by someone
// else while its case is open is closed as deleted on its card at the
// next full scan (at start-up here); its buttons then do nothing.
func TestReportDeletedOutsideGavel(t *testing.T) {
	e := newEnv(t, nil)
	gavel := e.start()
	spam := e.spam("deleted elsewhere")
	e.report(spam, "spam")
	card := e.waitNotices(1)[0]
	n := e.reportID(spam)
	require.NoError(t, gavel.stop())
	require.NoError(t, e.admin.DeleteEventReport(bg, n))

	e.start()
	body, fields := e.waitCase(card.ID, "deleted")
	assert.True(t, strings.HasPrefix(body, "Closed outside Gavel: deleted in Synapse (seen "), body)
	assert.NotZero(t, fields["ts"])
	assert.Equal(t, "Report "+itoa(n)+" is already deleted in Synapse, outside Gavel. `!report reopen "+itoa(n)+"` opens it again.",
		e.command(e.mod, "!report claim "+itoa(n)).Body)
}
