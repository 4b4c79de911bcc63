package moderation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/internal/retry"
	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/roomreports"
	"github.com/gavel-bot/gavel/store"
)

func (m *Moderator) help(ctx context.Context, a Actor, c commands.Help) Outcome {
	var roles *notice.Roles
	if m.Levels != nil {
		roles = &notice.Roles{Levels: m.levelsOf(a)}
		if a.community() {
			roles.Desk, roles.Offers = a.Desk.Label(), a.Desk.Offers
		}
		room := m.ManagementRoom
		if a.Desk != nil {
			room = a.Desk.Room
		}
		if m.PowerLevel != nil {
			if have, err := m.PowerLevel(ctx, room, a.User); err == nil {
				roles.Have = &have
			}
		}
	}
	return Done(notice.Help(c.Topic, m.Prefix, roles))
}

func (m *Moderator) status(ctx context.Context, a Actor, _ commands.Status) Outcome {
	s := m.Health()
	s.Desks = m.deskStatus(a)
	s.PolicyLists = m.Policy.Stats()
	s.RoomReportsErr = roomreports.ErrNotConfigured
	// Each count makes Synapse count a whole reports table (hundreds of
	// milliseconds at 100,000): ask for them all at once.
	var wg sync.WaitGroup
	wg.Go(func() {
		if v, err := m.Admin.ServerVersion(ctx); err == nil {
			s.SynapseVersion = v
		}
	})
	wg.Go(func() {
		page, err := m.Admin.ListEventReports(ctx, adminapi.EventReportsQuery{PageQuery: adminapi.PageQuery{Limit: 1}})
		if err == nil {
			s.OpenReports = page.Total
		}
		s.OpenErr = err
	})
	wg.Go(func() {
		users, err := m.Admin.ListUserReports(ctx, adminapi.UserReportsQuery{PageQuery: adminapi.PageQuery{Limit: 1}})
		if err == nil {
			s.OpenUserReports = users.Total
		}
		s.UserReportsErr = err
	})
	if m.RoomReports != nil {
		wg.Go(func() {
			rooms, err := m.RoomReports.List(ctx, adminapi.PageQuery{Limit: 1})
			if err == nil {
				s.OpenRoomReports = rooms.Total
			}
			s.RoomReportsErr, s.RoomReportsFromDB = err, m.RoomReports.FromDatabase()
		})
	}
	wg.Wait()
	if unsent, err := m.Store.Outbox.Unsent(ctx, 1000); err == nil {
		// This reply itself is not in the outbox yet; anything there waits.
		s.Waiting = len(unsent)
	}
	s.Database = m.Store.Dialect()
	// Instances that shared the database within the last minute (a
	// standby renews its row every second, the active one every 2 s).
	if instances, err := m.Store.Instances.List(ctx, time.Now().Add(-time.Minute)); err == nil {
		for _, in := range instances {
			s.Instances = append(s.Instances, notice.Instance{Name: in.Name, Version: in.Version, Active: in.Active, SeenAt: in.SeenAt})
		}
	}
	return Done(notice.StatusReply(s, time.Now()))
}

func (m *Moderator) listReports(ctx context.Context, a Actor, c commands.ListReports) Outcome {
	f := reportFilter{reporter: c.Reporter, target: c.Sender}
	if !c.Room.IsZero() {
		roomID, err := m.resolveRoom(ctx, c.Room)
		if err != nil {
			return Done(notice.New().User(notice.Capitalize(err.Error()) + "."))
		}
		if refused := m.outside(a, roomID, c.Room.String()); refused != nil {
			return *refused
		}
		f.room = roomID
	}
	if c.Cases() || a.community() {
		// A community desk lists its own cases, from Gavel's database:
		// Synapse's list holds every report of the server.
		return m.listCases(ctx, a, c, f)
	}
	// Each kind is a request of its own to Synapse: all at once.
	var lists [3]kindList
	var wg sync.WaitGroup
	for i, list := range []func(context.Context, commands.ListReports, reportFilter) kindList{m.listEventKind, m.listUserKind, m.listRoomKind} {
		wg.Go(func() { lists[i] = list(ctx, c, f) })
	}
	wg.Wait()
	var items []notice.Listed
	var total int64
	for _, l := range lists {
		if l.problem != nil {
			return Done(l.problem)
		}
		items = append(items, l.items...)
		total += l.total
	}
	// Every kind newest first, merged.
	slices.SortStableFunc(items, func(a, b notice.Listed) int { return b.Received().Compare(a.Received()) })
	items = items[:min(len(items), c.Limit)]
	// Synapse lists every report not deleted; closed cases are left out.
	shown, hidden := items[:0], 0
	for _, l := range items {
		cs, err := m.Store.Cases.Get(ctx, keyOf(l))
		if err == nil && store.Closed(cs.State) {
			hidden++
			continue
		}
		if err == nil {
			l.Case = &notice.Case{State: string(cs.State), By: cs.By, At: cs.At, Note: cs.Note}
		}
		shown = append(shown, l)
	}
	filtered := c.Reporter != "" || c.Sender != "" || !c.Room.IsZero() || len(c.Kinds) > 0
	return Done(notice.ReportList(shown, total-int64(hidden), filtered, m.Prefix, time.Now(), hidden))
}

// kindList is the newest reports of one kind !reports asks for, and how
// many there are; or the reply that says why they cannot be listed.
type kindList struct {
	items   []notice.Listed
	total   int64
	problem *notice.Text
}

func (m *Moderator) listEventKind(ctx context.Context, c commands.ListReports, f reportFilter) (l kindList) {
	if !c.Lists(store.KindEvent) {
		return l
	}
	page, err := m.Admin.ListEventReports(ctx, adminapi.EventReportsQuery{
		PageQuery: adminapi.PageQuery{Limit: c.Limit, Dir: mautrix.DirectionBackward},
		UserID:    c.Reporter, EventSenderUserID: c.Sender, RoomID: f.room,
	})
	if err != nil {
		l.problem = notice.New().User(m.explain(err, "the report list"))
		return l
	}
	for _, r := range page.Items {
		l.items = append(l.items, notice.Listed{Event: &r})
	}
	l.total = page.Total
	return l
}

func (m *Moderator) listUserKind(ctx context.Context, c commands.ListReports, f reportFilter) (l kindList) {
	if !c.Lists(store.KindUser) || f.room != "" {
		return l
	}
	page, err := m.Admin.ListUserReports(ctx, adminapi.UserReportsQuery{
		PageQuery: adminapi.PageQuery{Limit: c.Limit, Dir: mautrix.DirectionBackward},
		UserID:    c.Reporter, TargetUserID: c.Sender,
	})
	switch {
	case errors.Is(err, adminapi.ErrUnsupported) && len(c.Kinds) == 0:
		// The other kinds only: !status says why.
	case err != nil:
		l.problem = notice.New().User(notice.Capitalize(notice.ExplainKind(store.KindUser, err)))
	default:
		for _, r := range page.Items {
			l.items = append(l.items, notice.Listed{User: &r})
		}
		l.total = page.Total
	}
	return l
}

func (m *Moderator) listRoomKind(ctx context.Context, c commands.ListReports, f reportFilter) (l kindList) {
	switch {
	case !c.Lists(store.KindRoom) || c.Sender != "":
		return l
	case m.RoomReports == nil && len(c.Kinds) > 0:
		l.problem = notice.New().User(notice.Capitalize(notice.ExplainKind(store.KindRoom, roomreports.ErrNotConfigured)))
		return l
	case m.RoomReports == nil:
		return l
	}
	page, err := m.RoomReports.List(ctx, adminapi.PageQuery{Limit: c.Limit, Dir: mautrix.DirectionBackward})
	switch {
	case errors.Is(err, adminapi.ErrUnsupported) && len(c.Kinds) == 0:
	case err != nil:
		l.problem = notice.New().User(notice.Capitalize(notice.ExplainKind(store.KindRoom, err)))
	default:
		// Filtered here: there are few room reports.
		for _, r := range page.Items {
			if (c.Reporter == "" || r.UserID == c.Reporter) && (f.room == "" || r.RoomID == f.room) {
				l.items = append(l.items, notice.Listed{Room: &r})
			}
		}
		l.total = page.Total
	}
	return l
}

// keyOf is the key of a listed report.
func keyOf(l notice.Listed) store.ReportKey {
	if l.User != nil {
		return store.ReportKey{Kind: store.KindUser, ID: l.User.ID, ReceivedTS: l.User.ReceivedTS}
	}
	if l.Room != nil {
		return store.ReportKey{Kind: store.KindRoom, ID: l.Room.ID, ReceivedTS: l.Room.ReceivedTS}
	}
	return store.ReportKey{Kind: store.KindEvent, ID: l.Event.ID, ReceivedTS: l.Event.ReceivedTS}
}

// reportFilter is what !reports --user, --sender and --room keep.
type reportFilter struct {
	reporter, target id.UserID
	room             id.RoomID
}

// keeps reports whether f keeps report r.
func (f reportFilter) keeps(r *synapseReport) bool {
	if u := r.User; u != nil {
		return f.room == "" && (f.reporter == "" || u.UserID == f.reporter) && (f.target == "" || u.TargetUserID == f.target)
	}
	if rr := r.Room; rr != nil {
		return f.target == "" && (f.reporter == "" || rr.UserID == f.reporter) && (f.room == "" || rr.RoomID == f.room)
	}
	e := r.Event
	return (f.reporter == "" || e.UserID == f.reporter) && (f.target == "" || e.Sender == f.target) && (f.room == "" || e.RoomID == f.room)
}

// reportDetail returns report ref from Synapse (an event report with its
// event), or when Synapse no longer has it, Gavel's archived copy
// (archived true); an error that IsNotFound when neither has it.
func (m *Moderator) reportDetail(ctx context.Context, ref commands.ReportRef) (*synapseReport, bool, error) {
	r, err := m.fetchReport(ctx, ref)
	if !adminapi.IsNotFound(err) {
		return r, false, err
	}
	a, aerr := m.Store.Archive.Get(ctx, ref.Normal().Kind, ref.ID)
	if aerr != nil || a == nil {
		return nil, false, err
	}
	archived, aerr := decodeArchived(a)
	if aerr != nil {
		return nil, false, err
	}
	return archived, true, nil
}

// listCasesScan bounds how many cases !reports --state looks at to find
// --limit that match the Synapse-side filters.
const listCasesScan = 200

// listCases lists reports by their case, from Gavel's database, with
// their details from Synapse (one lookup by id each); f is applied to
// those details. With --mine, the cases are those by claimed.
func (m *Moderator) listCases(ctx context.Context, a Actor, c commands.ListReports, f reportFilter) Outcome {
	by := a.User
	cq := store.CaseQuery{Kinds: c.Kinds, Limit: listCasesScan}
	if a.community() {
		cq.CardsIn = a.Desk.Room
	}
	for _, s := range c.States {
		cq.States = append(cq.States, store.CaseState(s))
	}
	if len(cq.States) == 0 {
		cq.States = []store.CaseState{store.CaseOpen, store.CaseClaimed}
	}
	if c.Mine {
		cq.By = by
	}
	if c.OlderThan > 0 {
		cq.Before = time.Now().Add(-c.OlderThan)
	}
	found, err := m.Store.Cases.List(ctx, cq)
	if err != nil {
		return Failed("Gavel could not read its database. Try again in a moment.")
	}
	var items []notice.Listed
	more := false
	for _, cs := range found {
		r, _, err := m.reportDetail(ctx, cs.Report.Ref())
		switch {
		case adminapi.IsNotFound(err):
			continue // deleted in Synapse
		case err != nil:
			return Done(notice.New().User(m.explain(err, reportName(cs.Report.Ref()))))
		}
		if r.Key != cs.Report || !f.keeps(r) {
			continue
		}
		if len(items) == c.Limit {
			more = true
			break
		}
		l := notice.Listed{User: r.User, Room: r.Room, Case: &notice.Case{State: string(cs.State), By: cs.By, At: cs.At, Note: cs.Note}}
		if r.Event != nil {
			l.Event = &r.Event.EventReport
		}
		items = append(items, l)
	}
	return Done(notice.CaseList(items, more, m.Prefix, time.Now()))
}

func (m *Moderator) showReport(ctx context.Context, a Actor, c commands.ShowReport) Outcome {
	if a.community() {
		seen, refused := m.seenReport(ctx, c.ID)
		if refused == nil {
			refused = m.notDesks(ctx, a, seen)
		}
		if refused != nil {
			return *refused
		}
	}
	r, archived, err := m.reportDetail(ctx, c.ID)
	if err != nil {
		return Done(notice.New().User(m.explain(err, reportName(c.ID))))
	}
	t := r.text()
	if archived {
		t.Newline().Raw("Deleted in Synapse when its case was closed; this is Gavel's copy.")
	}
	if m.Dossier != nil {
		notice.Dossier(t, m.Dossier.Full(ctx, r.subject()), time.Now())
	}
	seen, err := m.Store.Reports.Seen(ctx, r.Key.Kind, r.Key.ID)
	if err != nil || seen == nil || seen.ReportKey != r.Key {
		return Done(t) // not seen yet: an open case without history
	}
	seen = m.ensureCard(ctx, seen)
	cs, err := m.Store.Cases.Get(ctx, seen.CaseKey)
	if err != nil {
		return Done(t)
	}
	view, err := m.caseView(ctx, cs, seen.CardKey)
	if err != nil {
		return Done(t)
	}
	actions, err := m.Store.Actions.ForReport(ctx, r.Key.Ref(), 10)
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

func (m *Moderator) deleteReport(ctx context.Context, a Actor, c commands.DeleteReport) Outcome {
	by := a.User
	if a.community() {
		seen, refused := m.seenReport(ctx, c.ID)
		if refused == nil {
			refused = m.notDesks(ctx, a, seen)
		}
		if refused != nil {
			return *refused
		}
	}
	if !deletable(c.ID.Normal().Kind) {
		return NotDone(notice.New().Raw("Not done: Synapse has no API to delete room reports, and Gavel does not write to its database. ").
			Code(m.Prefix + "report resolve " + c.ID.String()).Raw(" or ").Code("dismiss").Raw(" closes its case."))
	}
	if err := m.deleteInSynapse(ctx, c.ID); err != nil {
		return Failed("%s", m.explain(err, reportName(c.ID)))
	}
	t := notice.New().Raw("Deleted " + reportName(c.ID) + ".")
	// Its case, if open, closes as deleted: there is nothing left to act on.
	seen, err := m.Store.Reports.Seen(ctx, c.ID.Normal().Kind, c.ID.ID)
	if err == nil && seen != nil && seen.CaseKey == seen.ReportKey {
		if cs, err := m.Store.Cases.Get(ctx, seen.CaseKey); err == nil && !store.Closed(cs.State) {
			if changed, err := m.closeDeleted(ctx, cs, seen.CardKey, by); err == nil && changed {
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
