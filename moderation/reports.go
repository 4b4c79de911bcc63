package moderation

import (
	"context"
	"fmt"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/internal/retry"
	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/store"
)

func (m *Moderator) help(_ context.Context, c commands.Help) Outcome {
	return Done(notice.Help(c.Topic, m.Prefix))
}

func (m *Moderator) status(ctx context.Context, _ commands.Status) Outcome {
	s := m.Health()
	if v, err := m.Admin.ServerVersion(ctx); err == nil {
		s.SynapseVersion = v
	}
	page, err := m.Admin.ListEventReports(ctx, adminapi.EventReportsQuery{PageQuery: adminapi.PageQuery{Limit: 1}})
	if err == nil {
		s.OpenReports = page.Total
	}
	s.OpenErr = err
	if unsent, err := m.Store.Unsent(ctx, 1000); err == nil {
		// This reply itself is not in the outbox yet; anything there waits.
		s.Waiting = len(unsent)
	}
	s.Database = m.Store.Dialect()
	return Done(notice.StatusReply(s, time.Now()))
}

func (m *Moderator) listReports(ctx context.Context, c commands.ListReports) Outcome {
	q := adminapi.EventReportsQuery{
		PageQuery:         adminapi.PageQuery{Limit: c.Limit, Dir: mautrix.DirectionBackward},
		UserID:            c.Reporter,
		EventSenderUserID: c.Sender,
	}
	if !c.Room.IsZero() {
		roomID, err := m.resolveRoom(ctx, c.Room)
		if err != nil {
			return Done(notice.New().User(notice.Capitalize(err.Error()) + "."))
		}
		q.RoomID = roomID
	}
	if c.Cases() {
		return m.listCases(ctx, c, q)
	}
	page, err := m.Admin.ListEventReports(ctx, q)
	if err != nil {
		return Done(notice.New().User(m.explain(err, "the report list")))
	}
	// Synapse lists every report not deleted; closed cases are left out.
	cases := map[int64]notice.Case{}
	shown, hidden := page.Items[:0:0], 0
	for _, r := range page.Items {
		cs, err := m.Store.Case(ctx, store.ReportKey{ID: r.ID, ReceivedTS: r.ReceivedTS})
		if err == nil && store.Closed(cs.State) {
			hidden++
			continue
		}
		if err == nil {
			cases[r.ID] = notice.Case{State: cs.State, By: cs.By, At: cs.At, Note: cs.Note}
		}
		shown = append(shown, r)
	}
	page.Items = shown
	page.Total -= int64(hidden)
	filtered := c.Reporter != "" || c.Sender != "" || !c.Room.IsZero()
	return Done(notice.ReportList(page, filtered, m.Prefix, time.Now(), cases, hidden))
}

// reportDetail returns report reportID with its event from Synapse, or
// when Synapse no longer has it, Gavel's archived copy (archived true);
// an error that IsNotFound when neither has it.
func (m *Moderator) reportDetail(ctx context.Context, reportID int64) (*adminapi.EventReportDetail, bool, error) {
	detail, err := m.Admin.EventReport(ctx, reportID)
	if !adminapi.IsNotFound(err) {
		return detail, false, err
	}
	a, aerr := m.Store.ArchivedReport(ctx, store.KindEvent, reportID)
	if aerr != nil || a == nil {
		return nil, false, err
	}
	archived, aerr := adminapi.DecodeEventReport(a.JSON)
	if aerr != nil {
		return nil, false, err
	}
	return archived, true, nil
}

// listCasesScan bounds how many cases !reports --state looks at to find
// --limit that match the Synapse-side filters.
const listCasesScan = 200

// listCases lists reports by their case, from Gavel's database, with
// their details from Synapse (one lookup by id each); q's filters are
// applied to those details.
func (m *Moderator) listCases(ctx context.Context, c commands.ListReports, q adminapi.EventReportsQuery) Outcome {
	cq := store.CaseQuery{States: c.States, Limit: listCasesScan}
	if len(cq.States) == 0 {
		cq.States = []string{store.CaseOpen, store.CaseClaimed}
	}
	if c.Mine {
		cq.By = actor(ctx)
	}
	if c.OlderThan > 0 {
		cq.Before = time.Now().Add(-c.OlderThan)
	}
	found, err := m.Store.ListCases(ctx, cq)
	if err != nil {
		return Failed("Gavel could not read its database. Try again in a moment.")
	}
	var reports []adminapi.EventReport
	cases := map[int64]notice.Case{}
	more := false
	for _, cs := range found {
		detail, _, err := m.reportDetail(ctx, cs.Report.ID)
		switch {
		case adminapi.IsNotFound(err):
			continue // deleted in Synapse
		case err != nil:
			return Done(notice.New().User(m.explain(err, fmt.Sprintf("report %d", cs.Report.ID))))
		}
		r := detail.EventReport
		if r.ReceivedTS != cs.Report.ReceivedTS || (q.UserID != "" && r.UserID != q.UserID) ||
			(q.EventSenderUserID != "" && r.Sender != q.EventSenderUserID) || (q.RoomID != "" && r.RoomID != q.RoomID) {
			continue
		}
		if len(reports) == c.Limit {
			more = true
			break
		}
		reports = append(reports, r)
		cases[r.ID] = notice.Case{State: cs.State, By: cs.By, At: cs.At, Note: cs.Note}
	}
	return Done(notice.CaseList(reports, cases, more, m.Prefix, time.Now()))
}

func (m *Moderator) showReport(ctx context.Context, c commands.ShowReport) Outcome {
	detail, archived, err := m.reportDetail(ctx, c.ID)
	if err != nil {
		return Done(notice.New().User(m.explain(err, fmt.Sprintf("report %d", c.ID))))
	}
	t := notice.Report(detail.EventReport, detail)
	if archived {
		t.Newline().Raw("Deleted in Synapse when its case was closed; this is Gavel's copy.")
	}
	seen, err := m.Store.SeenReport(ctx, store.KindEvent, c.ID)
	if err != nil || seen == nil || seen.ReceivedTS != detail.ReceivedTS {
		return Done(t) // not seen yet: an open case without history
	}
	seen = m.ensureCard(ctx, seen)
	cs, err := m.Store.Case(ctx, seen.CaseKey)
	if err != nil {
		return Done(t)
	}
	view, err := m.caseView(ctx, cs, seen.CardKey)
	if err != nil {
		return Done(t)
	}
	actions, err := m.Store.ActionsFor(ctx, c.ID, 10)
	if err != nil {
		return Done(t)
	}
	history := make([]notice.Entry, 0, len(actions))
	for _, a := range actions {
		if a.Time.UnixMilli() >= seen.ReceivedTS { // not about an older report with the same id
			history = append(history, entryOf(a))
		}
	}
	return Done(notice.WithCase(t, view, history))
}

func (m *Moderator) deleteReport(ctx context.Context, c commands.DeleteReport) Outcome {
	if err := m.Admin.DeleteEventReport(ctx, c.ID); err != nil {
		return Failed("%s", m.explain(err, fmt.Sprintf("report %d", c.ID)))
	}
	t := notice.New().Raw(fmt.Sprintf("Deleted report %d.", c.ID))
	// Its case, if open, closes as deleted: there is nothing left to act on.
	seen, err := m.Store.SeenReport(ctx, store.KindEvent, c.ID)
	if err == nil && seen != nil && seen.CaseKey == seen.ReportKey {
		if cs, err := m.Store.Case(ctx, seen.CaseKey); err == nil && !store.Closed(cs.State) {
			if changed, err := m.closeDeleted(ctx, cs, seen.CardKey, actor(ctx)); err == nil && changed {
				t.Raw(" Its case is closed.")
			}
		}
	}
	return Done(t)
}

// resolveRoom turns an alias into a room id.
func (m *Moderator) resolveRoom(ctx context.Context, ref commands.RoomRef) (id.RoomID, error) {
	if ref.ID != "" {
		return ref.ID, nil
	}
	resp, err := m.Matrix.ResolveAlias(ctx, ref.Alias)
	if err != nil {
		if retry.Status(err) == 404 {
			return "", fmt.Errorf("room alias %s does not exist (%s)", ref.Alias, retry.ErrCode(err))
		}
		return "", fmt.Errorf("could not resolve room alias %s (%s)", ref.Alias, retry.ErrCode(err))
	}
	return resp.RoomID, nil
}
