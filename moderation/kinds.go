package moderation

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/dossier"
	"github.com/gavel-bot/gavel/internal/mxid"
	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/policy"
	"github.com/gavel-bot/gavel/roomreports"
	"github.com/gavel-bot/gavel/store"
)

// Reports come in kinds (event, user; room later), which Synapse reads,
// lists and deletes through different endpoints. A synapseReport is one of
// any kind, so that cases, archives and cards need not care which.

// synapseReport is a report as Synapse has it.
type synapseReport struct {
	Key      store.ReportKey
	Reporter id.UserID
	// Event is an event report, with its event; User a user report; Room
	// a room report. Exactly one is set.
	Event *adminapi.EventReportDetail
	User  *adminapi.UserReport
	Room  *adminapi.RoomReport
}

// reportName is a report as the replies name it: "report 12", "report u12".
func reportName(r mxid.ReportRef) string { return "report " + r.String() }

// fetchReport reads report r from Synapse: an error that IsNotFound when
// Synapse does not have it.
func (m *Moderator) fetchReport(ctx context.Context, r mxid.ReportRef) (*synapseReport, error) {
	switch r = r.Normal(); r.Kind {
	case mxid.KindUser:
		u, err := m.Admin.UserReport(ctx, r.ID)
		if err != nil {
			return nil, err
		}
		return &synapseReport{Key: store.ReportKey{Kind: r.Kind, ID: u.ID, ReceivedTS: u.ReceivedTS}, Reporter: u.UserID, User: u}, nil
	case mxid.KindRoom:
		if m.RoomReports == nil {
			return nil, roomreports.ErrNotConfigured
		}
		rr, err := m.RoomReports.Get(ctx, r.ID)
		if err != nil {
			return nil, err
		}
		return &synapseReport{Key: store.ReportKey{Kind: r.Kind, ID: rr.ID, ReceivedTS: rr.ReceivedTS}, Reporter: rr.UserID, Room: rr}, nil
	case mxid.KindEvent:
		d, err := m.Admin.EventReport(ctx, r.ID)
		if err != nil {
			return nil, err
		}
		return &synapseReport{Key: store.ReportKey{Kind: r.Kind, ID: d.ID, ReceivedTS: d.ReceivedTS}, Reporter: d.UserID, Event: d}, nil
	}
	return nil, fmt.Errorf("%s reports are not supported yet", r.Kind)
}

// errCannotDeleteRoomReports: Synapse has no API to delete room reports,
// and Gavel never writes to Synapse's database.
var errCannotDeleteRoomReports = fmt.Errorf("%w: Synapse has no API to delete room reports; close its case with resolve or dismiss", adminapi.ErrUnsupported)

// deletable reports whether reports of kind can be deleted in Synapse.
func deletable(kind mxid.ReportKind) bool { return kind != mxid.KindRoom }

// deleteInSynapse deletes report r in Synapse.
func (m *Moderator) deleteInSynapse(ctx context.Context, r mxid.ReportRef) error {
	switch r.Normal().Kind {
	case mxid.KindUser:
		return m.Admin.DeleteUserReport(ctx, r.ID)
	case mxid.KindRoom:
		return errCannotDeleteRoomReports
	}
	return m.Admin.DeleteEventReport(ctx, r.ID)
}

// decodeArchived reads an archived report back.
func decodeArchived(a *store.Archived) (*synapseReport, error) {
	r := &synapseReport{Key: a.Report}
	if a.Report.Kind == mxid.KindRoom {
		r.Room = &adminapi.RoomReport{}
		if err := json.Unmarshal(a.JSON, r.Room); err != nil {
			return nil, err
		}
		r.Reporter = r.Room.UserID
		return r, nil
	}
	if a.Report.Kind == mxid.KindUser {
		r.User = &adminapi.UserReport{}
		if err := json.Unmarshal(a.JSON, r.User); err != nil {
			return nil, err
		}
		r.Reporter = r.User.UserID
		return r, nil
	}
	d, err := adminapi.DecodeEventReport(a.JSON)
	if err != nil {
		return nil, err
	}
	r.Event, r.Reporter = d, d.UserID
	return r, nil
}

// archive is the report as Gavel archives it.
func (r *synapseReport) archive() (store.Archived, error) {
	var v any = r.Event
	if r.User != nil {
		v = r.User
	} else if r.Room != nil {
		v = r.Room
	}
	data, err := json.Marshal(v)
	return store.Archived{Report: r.Key, JSON: data}, err
}

// text is the report as !report shows it.
func (r *synapseReport) text() *notice.Text {
	if r.User != nil {
		return notice.UserReport(*r.User)
	}
	if r.Room != nil {
		return notice.RoomReport(*r.Room)
	}
	return notice.Report(r.Event.EventReport, r.Event)
}

// card renders the report's card with context d, as a new card shows it
// (notice.NewCard), and returns it with its buttons.
func (r *synapseReport) card(d *dossier.Dossier, prefix, server string, ix *policy.Index) (json.RawMessage, []notice.Button) {
	buttons := r.buttons(prefix, server, ix)
	var content json.RawMessage
	switch {
	case r.User != nil:
		content = notice.UserCard(*r.User, d, buttons)
	case r.Room != nil:
		content = notice.RoomCard(*r.Room, d, buttons)
	default:
		content = notice.Card(r.Event.EventReport, r.Event, d, buttons)
	}
	return notice.NewCard(content), buttons
}

// buttons are the buttons of the report's card.
func (r *synapseReport) buttons(prefix, server string, ix *policy.Index) []notice.Button {
	if r.User != nil {
		return notice.WithPolicyBan(notice.UserCardButtons(*r.User, prefix, server), ix, r.User.TargetUserID, r.Key.Ref(), prefix)
	}
	if r.Room != nil {
		return notice.RoomCardButtons(*r.Room, prefix)
	}
	return notice.WithPolicyBan(notice.CardButtons(r.Event.EventReport, r.Event, prefix, server), ix, r.Event.Sender, r.Key.Ref(), prefix)
}

// Buttons returns the buttons that fit report k as it is now, built from
// Synapse's copy of it (or Gavel's archived one): what a reaction to its
// card runs (see notice.CardButtons).
func (m *Moderator) Buttons(ctx context.Context, k store.ReportKey) ([]notice.Button, error) {
	r, _, err := m.reportDetail(ctx, k.Ref())
	if err != nil {
		return nil, err
	}
	if r.Key.ReceivedTS != k.ReceivedTS {
		return nil, fmt.Errorf("%s: Synapse gave its id to another report since", reportName(k.Ref()))
	}
	return r.buttons(m.Prefix, m.serverName(), m.Policy), nil
}

// subject is what a dossier about r is gathered for.
func (r *synapseReport) subject() dossier.Subject {
	s := dossier.Subject{Report: r.Key, Reporter: r.Reporter}
	if u := r.User; u != nil {
		s.User = u.TargetUserID
		return s
	}
	if rr := r.Room; rr != nil {
		s.RoomID = rr.RoomID
		return s
	}
	s.User, s.RoomID, s.EventID = r.Event.Sender, r.Event.RoomID, r.Event.EventID
	return s
}

// gather gathers the context of a card about to be queued, within
// dossier.Budget (see dossier.Gatherer.Gather); nothing without a
// Gatherer.
func (m *Moderator) gather(ctx context.Context, s dossier.Subject) (*dossier.Dossier, <-chan *dossier.Dossier) {
	if m.Dossier == nil {
		return nil, nil
	}
	return m.Dossier.Gather(ctx, s, dossier.Budget)
}

// LateCard makes content, the card under key with the context that came
// after it was queued, the card's content, and edits the card to show it
// (with its case, once that changed). The feed calls it (through package
// bot).
func (m *Moderator) LateCard(ctx context.Context, key store.OutboxKey, content json.RawMessage) error {
	card, err := m.Store.Outbox.Get(ctx, key)
	if err != nil || card == nil {
		return fmt.Errorf("the card %s: %v", key, err)
	}
	report := card.Report
	if report == (store.ReportKey{}) {
		return fmt.Errorf("%s is not a card", key)
	}
	for range 3 { // the case may change meanwhile: read it again
		c, err := m.Store.Cases.Get(ctx, report)
		if err != nil {
			return err
		}
		edited := content
		if c.Version > 0 {
			view, err := m.caseView(ctx, c, key)
			if err != nil {
				return err
			}
			if edited, err = notice.CardWithCase(content, view); err != nil {
				return err
			}
		}
		if c.At.IsZero() {
			c.At = time.Now()
		}
		changed, err := m.Store.Cases.ReplaceCard(ctx, &c, key, content, func(version int) []store.Message {
			return []store.Message{{Key: store.CaseEditKey(key, version), Priority: card.Priority, RoomID: card.RoomID, Content: edited, RelatesTo: key}}
		})
		if err != nil {
			return err
		}
		if changed {
			if m.Notify != nil {
				m.Notify()
			}
			return nil
		}
	}
	return fmt.Errorf("the case of %s kept changing", key)
}
