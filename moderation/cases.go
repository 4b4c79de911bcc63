package moderation

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/dossier"
	"github.com/gavel-bot/gavel/internal/retry"
	"github.com/gavel-bot/gavel/internal/textcut"
	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/store"
)

// Every report is a case: open, claimed by a moderator, resolved or
// dismissed. A change is recorded with the edit of the report's card (its
// notice, edited in place through the outbox) in one step, against the
// state it was made from, so two moderators cannot both make it.

func (m *Moderator) claimReport(ctx context.Context, a Actor, c commands.ClaimReport) Outcome {
	return m.changeCase(ctx, a, c.ID, verbClaim, "")
}

func (m *Moderator) unclaimReport(ctx context.Context, a Actor, c commands.UnclaimReport) Outcome {
	return m.changeCase(ctx, a, c.ID, verbUnclaim, "")
}

func (m *Moderator) resolveReport(ctx context.Context, a Actor, c commands.ResolveReport) Outcome {
	return m.changeCase(ctx, a, c.ID, verbResolve, c.Note)
}

func (m *Moderator) dismissReport(ctx context.Context, a Actor, c commands.DismissReport) Outcome {
	return m.changeCase(ctx, a, c.ID, verbDismiss, c.Note)
}

func (m *Moderator) reopenReport(ctx context.Context, a Actor, c commands.ReopenReport) Outcome {
	return m.changeCase(ctx, a, c.ID, verbReopen, "")
}

// actedFor records on report seen's case that the action name was taken
// for it: an open case is claimed by the moderator by, who acted, and the
// card lists the action. It returns what to add to the action's reply, or
// nil.
func (m *Moderator) actedFor(ctx context.Context, a Actor, seen *store.SeenReport, name string) *notice.Text {
	by := a.User
	seen = m.ensureCard(ctx, seen)
	for range 3 { // a concurrent change to the case: read it again
		c, err := m.Store.Cases.Get(ctx, seen.CaseKey)
		if err != nil {
			break
		}
		claimed := c.State == store.CaseOpen
		if claimed {
			c.State, c.By, c.At, c.Note, c.Desk = store.CaseClaimed, by, time.Now(), "", a.deskName()
		}
		view, err := m.caseView(ctx, c, seen.CardKey)
		if err != nil {
			break
		}
		// This action is logged once its reply is; the card lists it now.
		view.Actions = append(view.Actions, name)
		changed, err := m.saveCase(ctx, &c, seen.CardKey, view)
		if err != nil {
			break
		}
		if !changed {
			continue
		}
		if claimed {
			m.caseWaited(c, store.CaseOpen)
			return notice.New().Raw("Report " + seen.Ref().String() + " is now claimed by you.")
		}
		return nil
	}
	m.Log.Warn().Stringer("report", seen.Ref()).Str("action", name).Msg("Could not record an action on its report's case")
	return notice.New().Raw("(Gavel could not note this on " + reportName(seen.Ref()) + "'s card.)")
}

// caseVerb is a case command's move.
type caseVerb string

// The case commands' moves.
const (
	verbClaim   caseVerb = "claim"
	verbUnclaim caseVerb = "unclaim"
	verbResolve caseVerb = "resolve"
	verbDismiss caseVerb = "dismiss"
	verbReopen  caseVerb = "reopen"
)

// caseMoves is the state each case command moves a case to.
var caseMoves = map[caseVerb]store.CaseState{
	verbClaim: store.CaseClaimed, verbUnclaim: store.CaseOpen, verbResolve: store.CaseResolved,
	verbDismiss: store.CaseDismissed, verbReopen: store.CaseOpen,
}

// seenReport returns the report Gavel has seen under ref, or the reply
// when there is none.
func (m *Moderator) seenReport(ctx context.Context, ref commands.ReportRef) (*store.SeenReport, *Outcome) {
	seen, err := m.Store.Reports.Seen(ctx, ref.Normal().Kind, ref.ID)
	if err != nil {
		out := Failed("Not done: Gavel could not read its database. Try again in a moment.")
		return nil, &out
	}
	if seen != nil {
		return seen, nil
	}
	if _, err := m.fetchReport(ctx, ref); err != nil {
		out := Failed("%s", m.explain(err, reportName(ref)))
		return nil, &out
	}
	out := Failed("Gavel has not seen %s yet: it is posted at the next poll. Try again in a moment.", reportName(ref))
	return nil, &out
}

// changeCase makes the move verb (claim, unclaim, resolve, dismiss,
// reopen) on report ref's case, for the moderator by, who runs the
// command, or says why not.
func (m *Moderator) changeCase(ctx context.Context, a Actor, ref commands.ReportRef, verb caseVerb, note string) Outcome {
	by := a.User
	seen, refused := m.seenReport(ctx, ref)
	if refused != nil {
		return *refused
	}
	if refused := m.notDesks(ctx, a, seen); refused != nil {
		return *refused
	}
	seen = m.ensureCard(ctx, seen)
	c, err := m.Store.Cases.Get(ctx, seen.CaseKey)
	if err != nil {
		return Failed("Not done: Gavel could not read its database. Try again in a moment.")
	}
	name := "Report " + ref.String()
	closed := store.Closed(c.State)
	reopen := notice.New().Code(m.Prefix + "report reopen " + ref.String()).Raw(" opens it again.")
	switch {
	case closed && verb != verbReopen && c.By == "":
		return NotDone(notice.New().Raw(name + " is already " + string(c.State) + " in Synapse, outside Gavel. ").Append(reopen))
	case closed && verb != verbReopen:
		return NotDone(notice.New().Raw(name + " is already " + string(c.State) + " (by ").User(string(c.By)).Raw("). ").Append(reopen))
	case verb == verbClaim && c.State == store.CaseClaimed && c.By == by:
		return Done(notice.New().Raw(name + " is already yours."))
	case verb == verbClaim && c.State == store.CaseClaimed:
		return NotDone(notice.New().Raw(name + " is claimed by ").User(string(c.By)).Raw(" since " + c.At.UTC().Format("15:04 UTC") + ". ").
			Code(m.Prefix + "report unclaim " + ref.String()).Raw(" gives it back first."))
	case verb == verbUnclaim && c.State == store.CaseOpen:
		return Done(notice.New().Raw(name + " is not claimed."))
	case verb == verbReopen && !closed:
		return Done(notice.New().Raw(name + " is not closed: it is " + string(c.State) + "."))
	}
	to := caseMoves[verb]
	was := c
	c.State, c.By, c.At, c.Note, c.Desk = to, by, time.Now(), note, a.deskName()
	view, err := m.caseView(ctx, c, seen.CardKey)
	if err != nil {
		return Failed("Not done: Gavel could not read its database. Try again in a moment.")
	}
	var archive []store.Archived
	if (to == store.CaseResolved || to == store.CaseDismissed) && m.DeleteOnResolve {
		var refused *Outcome
		if archive, refused = m.toArchive(ctx, seen); refused != nil {
			return *refused
		}
	}
	changed, err := m.saveCase(ctx, &c, seen.CardKey, view, archive...)
	switch {
	case err != nil:
		return Failed("Not done: Gavel could not record the change (database error). Try again in a moment.")
	case !changed:
		return Failed("Not done: %s changed meanwhile. %sreport %s shows where it stands.", reportName(ref), m.Prefix, ref)
	}
	m.caseWaited(c, was.State)
	t := notice.New().Raw(name + " — ").Append(notice.CaseLine(view)).Raw(".")
	if was.State == store.CaseClaimed && was.By != by && to != store.CaseClaimed {
		t.Raw(" It was claimed by ").User(string(was.By)).Raw(".")
	}
	m.deleteArchived(ctx, archive, t)
	if to == store.CaseResolved || to == store.CaseDismissed {
		m.tellReporters(ctx, seen, t)
	}
	return Done(t)
}

// caseWaited records, for the metrics, how long case c waited since its
// report was filed: to be claimed, when it moved from open to claimed,
// or to be closed, when a moderator resolved or dismissed it (claimed or
// not). A case unclaimed or reopened counts again when it is claimed or
// closed again, still from the filing.
func (m *Moderator) caseWaited(c store.Case, from store.CaseState) {
	filed := time.UnixMilli(c.Report.ReceivedTS)
	kind := string(c.Report.Ref().Kind)
	switch {
	case c.State == store.CaseClaimed && from == store.CaseOpen:
		m.Metrics.CaseClaimed(kind, c.At.Sub(filed))
	case (c.State == store.CaseResolved || c.State == store.CaseDismissed) && !store.Closed(from):
		m.Metrics.CaseClosed(kind, string(c.State), c.At.Sub(filed))
	}
}

// tellReporters sends the local reporters of a closed case's reports (the
// card's and its duplicates') a server notice, each report's once, and
// says in t how that went.
func (m *Moderator) tellReporters(ctx context.Context, seen *store.SeenReport, t *notice.Text) {
	if !m.NotifyReporter {
		return
	}
	type told struct {
		key      store.ReportKey
		reporter id.UserID
	}
	var reports []told
	if r, _, err := m.reportDetail(ctx, seen.CaseKey.Ref()); err == nil && r.Key == seen.CaseKey {
		reports = append(reports, told{seen.CaseKey, r.Reporter})
	}
	if seen.CardKey != "" {
		dups, _ := m.Store.Reports.Duplicates(ctx, seen.CardKey)
		for _, d := range dups {
			reports = append(reports, told{store.ReportKey{Kind: store.KindEvent, ID: d.ReportID, ReceivedTS: d.ReceivedTS}, d.Reporter})
		}
	}
	n := 0
	for _, r := range reports {
		if r.reporter == "" || r.reporter.Homeserver() != m.serverName() {
			continue // server notices reach local users only
		}
		if done, err := m.Store.ReporterNotices.Told(ctx, r.key); err != nil || done {
			continue
		}
		body := strings.NewReplacer("{report_id}", r.key.Ref().String(), "{server}", m.serverName()).Replace(m.NotifyTemplate)
		txn := fmt.Sprintf("gavel-told-%d-%d", r.key.ID, r.key.ReceivedTS)
		if r.key.Ref().Kind != store.KindEvent {
			txn = fmt.Sprintf("gavel-told-%s-%d-%d", r.key.Kind, r.key.ID, r.key.ReceivedTS)
		}
		eventID, err := m.Admin.SendServerNotice(ctx, r.reporter, body, txn)
		if err != nil {
			m.Log.Warn().Err(err).Stringer("report", r.key.Ref()).Msg("Could not tell a reporter their report was reviewed")
			why := m.explain(err, "the server notice")
			if retry.Status(err) == http.StatusBadRequest {
				why = "Synapse does not send server notices: set server_notices in homeserver.yaml, or turn reports.notify_reporter off."
			}
			t.Raw(" The reporter was not told: ").User(why)
			return
		}
		if err := m.Store.ReporterNotices.MarkTold(ctx, r.key, eventID); err != nil {
			m.Log.Warn().Err(err).Stringer("report", r.key.Ref()).Msg("Could not record that a reporter was told")
		}
		n++
	}
	if n > 0 {
		t.Raw(" " + notice.Count(n, "reporter was", "reporters were") + " told it was reviewed (server notice).")
	}
}

// toArchive reads from Synapse the reports a closed case covers (the
// card's and its duplicates), to archive them before they are deleted
// there; those Synapse no longer has are left out. It refuses when
// Synapse cannot be asked: nothing is deleted that was not archived.
func (m *Moderator) toArchive(ctx context.Context, seen *store.SeenReport) ([]store.Archived, *Outcome) {
	keys := []store.ReportKey{seen.CaseKey}
	if seen.CardKey != "" {
		dups, err := m.Store.Reports.Duplicates(ctx, seen.CardKey)
		if err != nil {
			out := Failed("Not done: Gavel could not read its database. Try again in a moment.")
			return nil, &out
		}
		for _, d := range dups {
			keys = append(keys, store.ReportKey{Kind: store.KindEvent, ID: d.ReportID, ReceivedTS: d.ReceivedTS})
		}
	}
	var archive []store.Archived
	for _, k := range keys {
		if !deletable(k.Kind) {
			continue // stays in Synapse's list: nothing to archive
		}
		r, err := m.fetchReport(ctx, k.Ref())
		switch {
		case adminapi.IsNotFound(err):
			continue // deleted already
		case err != nil:
			out := Failed("Not done: Gavel archives a report before deleting it in Synapse (reports.delete_on_resolve), and could not read it: %s",
				m.explain(err, reportName(k.Ref())))
			return nil, &out
		case r.Key != k:
			continue // the id belongs to a newer report now
		}
		a, err := r.archive()
		if err != nil {
			out := Failed("Not done: %s could not be archived (%v).", reportName(k.Ref()), err)
			return nil, &out
		}
		archive = append(archive, a)
	}
	return archive, nil
}

// deleteArchived deletes the archived reports in Synapse and says so in t.
func (m *Moderator) deleteArchived(ctx context.Context, archive []store.Archived, t *notice.Text) {
	if len(archive) == 0 {
		return
	}
	var failed []string
	for _, a := range archive {
		if err := m.deleteInSynapse(ctx, a.Report.Ref()); err != nil && !adminapi.IsNotFound(err) {
			m.Log.Warn().Err(err).Stringer("report", a.Report.Ref()).Msg("Could not delete a closed report in Synapse")
			failed = append(failed, fmt.Sprintf("%s (%s)", a.Report.Ref(), retry.ErrCode(err)))
		}
	}
	if len(failed) > 0 {
		t.Raw(" Synapse still lists report " + strings.Join(failed, ", ") + "; ").Code(m.Prefix + "report delete <id>").Raw(" removes it.")
		return
	}
	t.Raw(" " + notice.Count(len(archive), "report", "reports") + " deleted from Synapse's list; Gavel keeps a copy (").
		Code(m.Prefix + "report " + archive[0].Report.Ref().String()).Raw(").")
}

// cardEdit returns the edits that make every card of report's case (the
// one under key, and its copies in other desks) show the case view, for
// a given version of the case; none when the report has no card (it was
// in a digest, or skipped at the first start) or the cards could not be
// read (the error says why).
func (m *Moderator) cardEdit(ctx context.Context, report store.ReportKey, key store.OutboxKey, view notice.Case) (store.Edits, error) {
	none := func(int) []store.Message { return nil }
	if key == "" {
		return none, nil
	}
	cards, err := m.Store.Outbox.Cards(ctx, report)
	if err != nil {
		return none, fmt.Errorf("the cards of %s: %v", report.Ref(), err)
	}
	if !slices.ContainsFunc(cards, func(c store.Message) bool { return c.Key == key }) {
		// A card queued before schema v9 without its report.
		card, err := m.Store.Outbox.Get(ctx, key)
		if err != nil || card == nil {
			return none, fmt.Errorf("the card %s: %v", key, err)
		}
		cards = append(cards, *card)
	}
	edits := make([]store.Message, 0, len(cards))
	for _, card := range cards {
		content, err := notice.CardWithCase(card.Content, view)
		if err != nil {
			return none, err
		}
		edits = append(edits, store.Message{Priority: card.Priority, RoomID: card.RoomID, Content: content, RelatesTo: card.Key})
	}
	return func(version int) []store.Message {
		out := slices.Clone(edits)
		for i := range out {
			out[i].Key = store.CaseEditKey(out[i].RelatesTo, version)
		}
		return out
	}, nil
}

// saveCase records c as its case's new state (see store.ReportCaseQuery.Change), with
// the edits that make the cards of its report (card, and its copies in
// other desks) show view, and wakes the sender. A card that cannot be
// edited does not hold the change up.
func (m *Moderator) saveCase(ctx context.Context, c *store.Case, card store.OutboxKey, view notice.Case, archive ...store.Archived) (bool, error) {
	edit, err := m.cardEdit(ctx, c.Report, card, view)
	if err != nil {
		m.Log.Warn().Err(err).Stringer("report", c.Report.Ref()).Msg("Could not edit a report's card; its case changes all the same")
	}
	changed, err := m.Store.Cases.Change(ctx, c, edit, archive...)
	if changed && card != "" && m.Notify != nil {
		m.Notify()
	}
	return changed, err
}

// caseView is case c as the card under card shows it, with the actions
// taken for it and the duplicate reports the card shows.
func (m *Moderator) caseView(ctx context.Context, c store.Case, card store.OutboxKey) (notice.Case, error) {
	v := notice.Case{State: string(c.State), By: c.By, At: c.At, Note: c.Note, Desk: c.Desk}
	if card != "" {
		dups, err := m.Store.Reports.Duplicates(ctx, card)
		if err != nil {
			return v, err
		}
		for _, d := range dups {
			v.Also = append(v.Also, notice.Also{ReportID: d.ReportID, Reporter: d.Reporter, Reason: d.Reason})
		}
	}
	actions, err := m.Store.Actions.ForReport(ctx, c.Report.Ref(), 50)
	if err != nil {
		return v, err
	}
	for i := len(actions) - 1; i >= 0; i-- {
		// Actions older than the report were for another report that had
		// its id before Synapse reused it.
		if a := actions[i]; a.OK && a.Time.UnixMilli() >= c.Report.ReceivedTS {
			name := a.Name
			if name == "" {
				// Logged before schema v9, with the text only. A button
				// or a confirmation is logged as its key and then the
				// command: "🗑️ !redact …", "✅ !redact user …".
				input := a.Command
				if at := strings.Index(input, m.Prefix); at >= 0 {
					input = input[at+len(m.Prefix):]
				}
				name = commandName(input)
			}
			// Not "confirm" (a cancellation) nor the cases' own commands.
			if commands.ByName(name) != nil && !strings.HasPrefix(name, "report") {
				v.Actions = append(v.Actions, name)
			}
		}
	}
	return v, nil
}

// commandName is the name of the declared command that input (without
// the prefix) starts with, the longest that fits ("room delete" for
// "room delete !r:x --yes"), or the default subcommand of its first word
// ("redact event" for "redact !r:x $e").
func commandName(input string) string {
	best, bestLen := "", 0
	words := strings.Fields(strings.ToLower(input))
	for _, s := range commands.All() {
		name := strings.Fields(s.Name)
		switch {
		case len(name) <= len(words) && len(name) > bestLen && slices.Equal(name, words[:len(name)]):
			best, bestLen = s.Name, len(name)
		case s.Default && bestLen == 0 && len(words) > 0 && name[0] == words[0]:
			best = s.Name
		}
	}
	return best
}

// entryOf is action a as the audit trail and a report's history show it.
func entryOf(a store.Action) notice.Entry {
	return notice.Entry{At: a.Time, By: a.Sender, Command: a.Command, OK: a.OK, Result: a.Result, Report: a.Report}
}

// auditScan bounds how many entries !audit @user looks through for those
// on that user.
const auditScan = 2000

func (m *Moderator) audit(ctx context.Context, c commands.Audit) Outcome {
	q := store.AuditQuery{By: c.By, Report: c.Report, Limit: c.Limit + 1}
	what := ""
	if !c.Report.IsZero() {
		what += " for " + reportName(c.Report)
	}
	if c.User != "" {
		q.Limit = auditScan
		what += " on " + string(c.User)
	}
	if c.By != "" {
		what += " by " + string(c.By)
	}
	if c.Since > 0 {
		q.Since = time.Now().Add(-c.Since)
		what += " since " + q.Since.UTC().Format("2006-01-02 15:04 UTC")
	}
	actions, err := m.Store.Actions.Audit(ctx, q)
	if err != nil {
		return Failed("Gavel could not read its database. Try again in a moment.")
	}
	var entries []notice.Entry
	for _, a := range actions {
		if c.User != "" && !slices.Contains(strings.Fields(a.Target), string(c.User)) {
			continue
		}
		entries = append(entries, entryOf(a))
	}
	more := len(entries) > c.Limit
	if more {
		entries = entries[:c.Limit]
	}
	return Done(notice.Audit(entries, what, more))
}

// AddDuplicate shows report r, of an event whose card (that of report
// card) is open, on that card instead of a card of its own: the card is
// edited to name r's reporter and reason, and a line in the card's thread
// says so. The feed calls it (through package bot).
func (m *Moderator) AddDuplicate(ctx context.Context, r adminapi.EventReport, card *store.SeenReport) error {
	key := store.ReportKey{Kind: store.KindEvent, ID: r.ID, ReceivedTS: r.ReceivedTS}
	row := store.Report{ReportKey: key, RoomID: r.RoomID, EventID: r.EventID, TargetUser: r.Sender, Reporter: r.UserID}
	for range 3 { // the case may change meanwhile: read it again
		c, err := m.Store.Cases.Get(ctx, card.CaseKey)
		if err != nil {
			return err
		}
		view, err := m.caseView(ctx, c, card.CardKey)
		if err != nil {
			return err
		}
		view.Also = append(view.Also, notice.Also{ReportID: r.ID, Reporter: r.UserID, Reason: r.Reason})
		edit, err := m.cardEdit(ctx, card.CaseKey, card.CardKey, view)
		if err != nil {
			return err
		}
		cardMsg, err := m.Store.Outbox.Get(ctx, card.CardKey)
		if err != nil {
			return err
		}
		var line *store.Message
		if cardMsg != nil && cardMsg.EventID != "" {
			// Without the card's event id (not sent yet) there is no
			// thread to post in; the card's edit says it all the same.
			t := notice.New().Raw(fmt.Sprintf("Report %d: ", r.ID)).User(string(r.UserID)).Raw(" also reported this")
			if r.Reason != "" {
				t.Raw(": ").Code(textcut.Runes(r.Reason, notice.ReasonShown))
			}
			line = &store.Message{Key: store.DuplicateKey(key), Priority: store.PriorityNotice, RoomID: cardMsg.RoomID,
				Content: t.Raw(".").ReplyIn(cardMsg.EventID, cardMsg.EventID, nil)}
		}
		added, err := m.Store.Reports.AddDuplicate(ctx, store.NewDuplicate{Report: row, Reason: r.Reason, Card: card.CardKey, Case: &c, Edit: edit, Line: line})
		if err != nil {
			return err
		}
		if added {
			m.Log.Info().Int64("report_id", r.ID).Int64("card_report_id", card.ID).Msg("New report of an event with an open card; shown on that card")
			if m.Notify != nil {
				m.Notify()
			}
			return nil
		}
		if seen, err := m.Store.Reports.Seen(ctx, store.KindEvent, r.ID); err == nil && seen != nil && seen.ReportKey == key {
			return nil // recorded already
		}
	}
	return fmt.Errorf("report %d: the case of the card it belongs on kept changing; trying again at the next poll", r.ID)
}

// ensureCard gives a report that came in a digest a card of its own, in
// the digest's thread, and returns the report as it then is; any other
// report is returned as it is. Without Synapse's answer (the report is
// gone, or Synapse is down) the report stays in its digest.
func (m *Moderator) ensureCard(ctx context.Context, seen *store.SeenReport) *store.SeenReport {
	if seen.State != store.ReportDigest {
		return seen
	}
	r, err := m.fetchReport(ctx, seen.Ref())
	if err != nil || r.Key != seen.ReportKey {
		return seen
	}
	var thread id.EventID
	if digest, err := m.Store.Outbox.Get(ctx, seen.CoveredBy); err == nil && digest != nil {
		thread = digest.EventID
	}
	render := func(d *dossier.Dossier) (json.RawMessage, []notice.Button) {
		content, buttons := r.card(d, m.Prefix, m.serverName(), m.Policy)
		if thread != "" {
			content = notice.InThread(content, thread)
		}
		return content, buttons
	}
	d, late := m.gather(ctx, r.subject())
	content, buttons := render(d)
	card, reactions := store.CardMessages(store.NoticeKey(seen.ReportKey), seen.ReportKey, m.ManagementRoom, store.PriorityReply, content, notice.Reactions(buttons))
	if _, err := m.Store.Reports.PromoteToCard(ctx, seen.ReportKey, card, reactions...); err != nil {
		m.Log.Warn().Err(err).Stringer("report", seen.Ref()).Msg("Could not give a report from a digest its card")
		return seen
	}
	if m.Notify != nil {
		m.Notify()
	}
	if late != nil {
		// The command's context ends with its reply; the late context
		// comes within a few seconds, or not at all.
		ctx := context.WithoutCancel(ctx)
		go func() {
			content, _ := render(<-late)
			if err := m.LateCard(ctx, card.Key, content); err != nil {
				m.Log.Warn().Err(err).Stringer("report", seen.Ref()).Msg("Could not add the late context to a card")
			}
		}()
	}
	if now, err := m.Store.Reports.Seen(ctx, seen.Kind, seen.ID); err == nil && now != nil {
		return now
	}
	return seen
}

// MarkDeleted closes the open cases of kind whose report a complete
// listing of Synapse's reports of that kind (listed, taken from started
// on) did not hold and Synapse confirms it no longer has: someone deleted
// them outside Gavel. Their cards say so. The feed calls it after a full
// scan (through package bot).
func (m *Moderator) MarkDeleted(ctx context.Context, kind store.ReportKind, listed map[store.ReportKey]bool, started time.Time) error {
	// Only the cases whose report was not listed are kept: with a large
	// backlog, every open case at once would be most of Gavel's memory.
	var unlisted []store.Case
	err := m.Store.Cases.Each(ctx, store.CaseQuery{Kinds: []store.ReportKind{kind}, States: []store.CaseState{store.CaseOpen, store.CaseClaimed}, Before: started, Limit: 1 << 30},
		func(c store.Case) bool {
			if !listed[c.Report] {
				unlisted = append(unlisted, c)
			}
			return true
		})
	if err != nil {
		return err
	}
	for _, c := range unlisted {
		r, err := m.fetchReport(ctx, c.Report.Ref())
		switch {
		case err == nil && r.Key == c.Report:
			continue // listed since, or the listing raced a change
		case err != nil && !adminapi.IsNotFound(err):
			return err
		}
		seen, err := m.Store.Reports.Seen(ctx, c.Report.Kind, c.Report.ID)
		if err != nil {
			return err
		}
		card := store.OutboxKey("")
		if seen != nil && seen.ReceivedTS == c.Report.ReceivedTS {
			card = seen.CardKey
		}
		changed, err := m.closeDeleted(ctx, c, card, "")
		if err != nil {
			return err
		}
		if changed {
			m.Log.Info().Stringer("report", c.Report.Ref()).Msg("A report was deleted in Synapse outside Gavel; its case is closed")
		}
	}
	return nil
}

// closeDeleted closes case c, whose report was deleted in Synapse (by
// moderator by, or outside Gavel when by is empty), and edits its card
// (card, if any). It reports false when the case changed meanwhile.
func (m *Moderator) closeDeleted(ctx context.Context, c store.Case, card store.OutboxKey, by id.UserID) (bool, error) {
	c.State, c.By, c.At, c.Note = store.CaseDeleted, by, time.Now(), ""
	view, err := m.caseView(ctx, c, card)
	if err != nil {
		return false, err
	}
	return m.saveCase(ctx, &c, card, view)
}
