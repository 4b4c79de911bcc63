package moderation

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/internal/mxid"
	"github.com/gavel-bot/gavel/internal/testkit/synapsetest"
	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/store"
)

// postedReport files a report about a new spam message and records its
// card as the feed would, posted.
func postedReport(t *testing.T, m *Moderator, w *synapsetest.World, body string) (int64, store.ReportKey, store.Message) {
	t.Helper()
	ctx := context.Background()
	evt, err := w.Spam(ctx, body)
	require.NoError(t, err)
	require.NoError(t, w.Report(ctx, evt, "spam"))
	reportID, err := w.ReportID(ctx, evt)
	require.NoError(t, err)
	detail, err := w.Admin.EventReport(ctx, reportID)
	require.NoError(t, err)
	key := store.ReportKey{ID: reportID, ReceivedTS: detail.ReceivedTS}
	card := store.Message{Key: store.NoticeKey(key), Priority: store.PriorityNotice, RoomID: w.ManagementRoom,
		Content: notice.ReportNotice(detail.EventReport, detail)}
	require.NoError(t, m.Store.Reports.AddNotice(ctx, store.Report{ReportKey: key, RoomID: w.PublicRoom, EventID: evt}, card))
	require.NoError(t, m.Store.Outbox.MarkSent(ctx, card.Key, id.EventID("$card"+fmt.Sprint(reportID))))
	return reportID, key, card
}

// TestActionForAReport: an action with --report checks the report first,
// claims an open case for the moderator who acted, and the card lists the
// action.
func TestActionForAReport(t *testing.T) {
	ctx := context.Background()
	m, w := liveModerator(t)
	reportID, key, card := postedReport(t, m, w, "buy now")
	alice := id.UserID("@alice:example.org")

	out := m.Run(ctx, Actor{User: alice}, commands.Suspend{User: w.Spammer.UserID, Report: mxid.EventReport(999999999)})
	assert.Equal(t, "Report 999999999 does not exist (Synapse: M_NOT_FOUND).", out.Reply.Plain())
	acc, err := w.Admin.Account(ctx, w.Spammer.UserID)
	require.NoError(t, err)
	assert.False(t, bool(acc.Suspended), "nothing is done for a report that does not exist")

	out = m.Run(ctx, Actor{User: alice}, commands.Suspend{User: w.Spammer.UserID, Report: mxid.EventReport(reportID)})
	require.True(t, out.OK, out.Result)
	assert.Equal(t, mxid.EventReport(reportID), out.Report)
	assert.True(t, strings.HasSuffix(out.Reply.Plain(), fmt.Sprintf(" Report %d is now claimed by you.", reportID)), out.Reply.Plain())
	c, err := m.Store.Cases.Get(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, store.CaseClaimed, c.State)
	assert.Equal(t, alice, c.By)
	msg, err := m.Store.Outbox.Get(ctx, store.CaseEditKey(card.Key, 1))
	require.NoError(t, err)
	require.NotNil(t, msg)
	var content map[string]any
	require.NoError(t, json.Unmarshal(msg.Content, &content))
	assert.Equal(t, []any{"suspend"}, content["gavel.case"].(map[string]any)["actions"])
	assert.Regexp(t, `^Claimed by @alice:example.org \d\d:\d\d UTC: suspend\n`, content["body"])
}

// TestCases: claim, unclaim, resolve, dismiss and reopen move a report's
// case as the rules say, refuse what does not apply, and each change
// queues one edit of the report's card carrying "gavel.case".
func TestCases(t *testing.T) {
	ctx := context.Background()
	m, w := liveModerator(t)
	reportID, key, card := postedReport(t, m, w, "buy now")
	alice, bob := id.UserID("@alice:example.org"), id.UserID("@bob:example.org")
	run := func(by id.UserID, cmd commands.Command) string {
		t.Helper()
		return m.Run(ctx, Actor{User: by}, cmd).Reply.Plain()
	}
	name := fmt.Sprintf("Report %d", reportID)
	edits := 0
	lastEdit := func() (body string, fields map[string]any) {
		t.Helper()
		msg, err := m.Store.Outbox.Get(ctx, store.CaseEditKey(card.Key, edits))
		require.NoError(t, err)
		require.NotNil(t, msg, "edit %d of the card", edits)
		assert.Equal(t, card.Key, msg.RelatesTo)
		var content map[string]any
		require.NoError(t, json.Unmarshal(msg.Content, &content))
		assert.NotNil(t, content["gavel.report"], "the card keeps its report fields")
		fields, _ = content["gavel.case"].(map[string]any)
		return content["body"].(string), fields
	}
	state := func() store.Case {
		c, err := m.Store.Cases.Get(ctx, key)
		require.NoError(t, err)
		return c
	}

	assert.Equal(t, name+" is not claimed.", run(alice, commands.UnclaimReport{ID: mxid.EventReport(reportID)}))
	assert.Equal(t, name+" is not closed: it is open.", run(alice, commands.ReopenReport{ID: mxid.EventReport(reportID)}))

	assert.Regexp(t, `^`+name+` — Claimed by @alice:example.org \d\d:\d\d UTC\.$`, run(alice, commands.ClaimReport{ID: mxid.EventReport(reportID)}))
	edits++
	body, fields := lastEdit()
	assert.Regexp(t, `^Claimed by @alice:example.org \d\d:\d\d UTC\n`, body)
	assert.Equal(t, "claimed", fields["state"])
	assert.Equal(t, string(alice), fields["by"])
	assert.Equal(t, []any{}, fields["actions"])

	assert.Equal(t, name+" is already yours.", run(alice, commands.ClaimReport{ID: mxid.EventReport(reportID)}))
	assert.Contains(t, run(bob, commands.ClaimReport{ID: mxid.EventReport(reportID)}), name+" is claimed by @alice:example.org since ")
	assert.Equal(t, store.CaseClaimed, state().State)

	assert.Regexp(t, `^`+name+` — Resolved by @bob:example.org \d\d:\d\d UTC: spammer gone\. It was claimed by @alice:example.org\.$`,
		run(bob, commands.ResolveReport{ID: mxid.EventReport(reportID), Note: "spammer gone"}))
	edits++
	body, fields = lastEdit()
	assert.Regexp(t, `^Resolved by @bob:example.org \d\d:\d\d UTC: spammer gone\n`, body)
	assert.Equal(t, "resolved", fields["state"])
	_, err := w.Admin.EventReport(ctx, reportID)
	assert.NoError(t, err, "without delete_on_resolve the report stays in Synapse")
	assert.Contains(t, run(alice, commands.DismissReport{ID: mxid.EventReport(reportID)}), name+" is already resolved (by @bob:example.org).")
	assert.Contains(t, run(alice, commands.ClaimReport{ID: mxid.EventReport(reportID)}), "report reopen")

	assert.Regexp(t, `^`+name+` — Open \(reopened by @alice:example.org \d\d:\d\d UTC\)\.$`, run(alice, commands.ReopenReport{ID: mxid.EventReport(reportID)}))
	edits++
	_, fields = lastEdit()
	assert.Equal(t, "open", fields["state"])

	run(bob, commands.DismissReport{ID: mxid.EventReport(reportID), Note: "<b>not</b> spam"})
	edits++
	body, _ = lastEdit()
	assert.Regexp(t, `^Dismissed by @bob:example.org \d\d:\d\d UTC: <b>not</b> spam\n`, body)
	c := state()
	assert.Equal(t, store.CaseDismissed, c.State)
	assert.Equal(t, 4, c.Version)
	assert.Contains(t, m.Run(ctx, Actor{User: alice}, commands.ShowReport{ID: mxid.EventReport(reportID)}).Reply.Plain(), "Case: Dismissed by @bob:example.org")

	assert.Equal(t, "Report 999999999 does not exist (Synapse: M_NOT_FOUND).", run(alice, commands.ClaimReport{ID: mxid.EventReport(999999999)}))
}

// TestListByCase: !reports leaves resolved and dismissed reports out and
// shows who claimed the others; --state, --mine and --older-than list by
// case.
func TestListByCase(t *testing.T) {
	ctx := context.Background()
	m, w := liveModerator(t)
	claimed, _, _ := postedReport(t, m, w, "claimed spam")
	resolved, _, _ := postedReport(t, m, w, "resolved spam")
	open, _, _ := postedReport(t, m, w, "open spam")
	alice, bob := id.UserID("@alice:example.org"), id.UserID("@bob:example.org")
	m.Run(ctx, Actor{User: alice}, commands.ClaimReport{ID: mxid.EventReport(claimed)})
	m.Run(ctx, Actor{User: bob}, commands.ResolveReport{ID: mxid.EventReport(resolved), Note: "done"})
	spammer := w.Spammer.UserID
	list := func(c commands.ListReports) string {
		t.Helper()
		c.Sender = spammer
		if c.Limit == 0 {
			c.Limit = 50
		}
		return m.Run(ctx, Actor{User: alice}, c).Reply.Plain()
	}
	line := func(reportID int64) string { return fmt.Sprintf("\n• %d · ", reportID) }

	got := list(commands.ListReports{})
	assert.True(t, strings.HasPrefix(got, "2 open reports, newest first:"), got)
	assert.Contains(t, got, line(claimed))
	assert.Contains(t, got, line(open))
	assert.NotContains(t, got, line(resolved))
	assert.Regexp(t, fmt.Sprintf(`%d · .* · Claimed by @alice:example.org`, claimed), got)
	assert.Contains(t, got, "1 resolved or dismissed report is not shown; `!reports --state all` shows them.")

	got = list(commands.ListReports{States: []string{"resolved"}})
	assert.True(t, strings.HasPrefix(got, "1 report, newest first:"), got)
	assert.Regexp(t, fmt.Sprintf(`%d · .* · Resolved by @bob:example.org \d\d:\d\d UTC: done`, resolved), got)

	got = list(commands.ListReports{States: []string{"open", "claimed", "resolved", "dismissed"}, Mine: true})
	assert.Contains(t, got, line(claimed))
	assert.NotContains(t, got, line(resolved))
	assert.NotContains(t, got, line(open))

	got = list(commands.ListReports{States: []string{"open", "claimed", "resolved", "dismissed"}, Limit: 2})
	assert.True(t, strings.HasPrefix(got, "2 reports, the newest (`--limit` shows more):"), got)
	assert.Equal(t, "No reports match.", list(commands.ListReports{OlderThan: time.Hour}))
}

// TestResolveDeletesInSynapse: with delete_on_resolve, closing a case
// archives its reports (the card's and its duplicates') and deletes them
// in Synapse; !report and !reports --state read the archive.
func TestResolveDeletesInSynapse(t *testing.T) {
	ctx := context.Background()
	m, w := liveModerator(t)
	m.DeleteOnResolve = true
	reportID, key, _ := postedReport(t, m, w, "archive me")
	alice := id.UserID("@alice:example.org")

	// A second report of the same event, shown on the card.
	evt, err := m.Store.Reports.Seen(ctx, store.KindEvent, reportID)
	require.NoError(t, err)
	require.NoError(t, w.Report(ctx, evt.EventID, "again"))
	dupID, err := w.ReportID(ctx, evt.EventID)
	require.NoError(t, err)
	dup, err := w.Admin.EventReport(ctx, dupID)
	require.NoError(t, err)
	require.NoError(t, m.AddDuplicate(ctx, dup.EventReport, evt))

	out := m.Run(ctx, Actor{User: alice}, commands.ResolveReport{ID: mxid.EventReport(dupID), Note: "gone"})
	assert.True(t, strings.HasSuffix(out.Reply.Plain(), fmt.Sprintf(" 2 reports deleted from Synapse's list; Gavel keeps a copy (`!report %d`).", reportID)), out.Reply.Plain())
	for _, id := range []int64{reportID, dupID} {
		_, err := w.Admin.EventReport(ctx, id)
		assert.True(t, adminapi.IsNotFound(err), "report %d is deleted in Synapse: %v", id, err)
	}
	c, err := m.Store.Cases.Get(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, store.CaseResolved, c.State, "the duplicate's id closed the card's case")

	shown := m.Run(ctx, Actor{User: alice}, commands.ShowReport{ID: mxid.EventReport(reportID)}).Reply.Plain()
	assert.Contains(t, shown, "archive me", "the archived copy shows the reported message")
	assert.Contains(t, shown, "Deleted in Synapse when its case was closed; this is Gavel's copy.")
	assert.Contains(t, shown, "Case: Resolved by @alice:example.org")
	listed := m.Run(ctx, Actor{User: alice}, commands.ListReports{States: []string{"resolved"}, Limit: 50, Sender: w.Spammer.UserID}).Reply.Plain()
	assert.Contains(t, listed, fmt.Sprintf("• %d · ", reportID))
}

// TestDeleteReportClosesItsCase: !report delete closes the report's open
// case as deleted, by the moderator, on its card.
func TestDeleteReportClosesItsCase(t *testing.T) {
	ctx := context.Background()
	m, w := liveModerator(t)
	reportID, key, card := postedReport(t, m, w, "delete me")
	alice := id.UserID("@alice:example.org")
	assert.Equal(t, fmt.Sprintf("Deleted report %d. Its case is closed.", reportID), m.Run(ctx, Actor{User: alice}, commands.DeleteReport{ID: mxid.EventReport(reportID)}).Reply.Plain())
	c, err := m.Store.Cases.Get(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, store.CaseDeleted, c.State)
	assert.Equal(t, alice, c.By)
	msg, err := m.Store.Outbox.Get(ctx, store.CaseEditKey(card.Key, 1))
	require.NoError(t, err)
	require.NotNil(t, msg)
	var content map[string]any
	require.NoError(t, json.Unmarshal(msg.Content, &content))
	assert.Regexp(t, `^Deleted in Synapse by @alice:example.org \d\d:\d\d UTC\n`, content["body"])
	assert.Contains(t, m.Run(ctx, Actor{User: alice}, commands.ClaimReport{ID: mxid.EventReport(reportID)}).Reply.Plain(), "is already deleted (by @alice:example.org)")
}
