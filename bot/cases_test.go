package bot

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
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
