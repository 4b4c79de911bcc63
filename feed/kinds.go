package feed

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/desk"
	"github.com/gavel-bot/gavel/dossier"
	"github.com/gavel-bot/gavel/internal/retry"
	"github.com/gavel-bot/gavel/internal/textcut"
	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/roomreports"
	"github.com/gavel-bot/gavel/store"
)

// source is how the feed reads one kind of report from Synapse, and posts
// one. Everything else (what is new, digests, first start, full scans) is
// the same for every kind.
type source[T any] struct {
	kind store.ReportKind
	// list reads one page of the open reports.
	list func(ctx context.Context, q adminapi.PageQuery) (*adminapi.Page[T], error)
	// probe reads the report with id, and says whether there is one;
	// nil when a kind is only listed (see probe.go).
	probe func(ctx context.Context, id int64) (T, bool, error)
	key   func(T) store.ReportKey
	row   func(T) store.Report
	// trim cuts a report's free text to what a card shows, so that
	// reports held in memory stay small whatever reporters type.
	trim   func(T) T
	digest func(reports []T, part, parts, total int, prefix string) json.RawMessage
	// post records a report as seen and queues its card.
	post func(ctx context.Context, r T) error
}

// kindFeed is the feed of one kind of report.
type kindFeed[T any] struct {
	*Feed
	source[T]
	// initialized is set once the first start's reports are dealt with
	// (store.KVInitializedKind), so that polls need not ask the database
	// again.
	initialized bool

	// What probing needs (probe.go): the highest id seen, the highest id
	// Synapse had at the last full listing or since, the polls so far, and
	// what the last full listing cost Synapse.
	maxSeen, maxExisting int64
	polls                int
	scanCost             time.Duration
	// nextList is when a poll lists the newest reports rather than
	// looking them up by id.
	nextList time.Time
}

// poller is a kindFeed of any kind.
type poller interface {
	poll(ctx context.Context, full bool) error
	reportKind() store.ReportKind
	// scanCostTime is what the last full scan cost Synapse.
	scanCostTime() time.Duration
}

func (f *kindFeed[T]) reportKind() store.ReportKind { return f.kind }
func (f *kindFeed[T]) scanCostTime() time.Duration  { return f.scanCost }

// eventReports is the feed of event reports.
func (f *Feed) eventReports() *kindFeed[adminapi.EventReport] {
	return &kindFeed[adminapi.EventReport]{Feed: f, source: source[adminapi.EventReport]{
		kind: store.KindEvent,
		list: func(ctx context.Context, q adminapi.PageQuery) (*adminapi.Page[adminapi.EventReport], error) {
			return f.Admin.ListEventReports(ctx, adminapi.EventReportsQuery{PageQuery: q})
		},
		probe: func(ctx context.Context, id int64) (adminapi.EventReport, bool, error) {
			d, err := f.Admin.EventReport(ctx, id)
			if err == nil && len(f.probedEvents) < maxProbedEvents {
				if f.probedEvents == nil {
					f.probedEvents = map[int64]*adminapi.EventReportDetail{}
				}
				f.probedEvents[id] = d
			}
			return probed(d, err, func(d *adminapi.EventReportDetail) adminapi.EventReport { return d.EventReport })
		},
		key: func(r adminapi.EventReport) store.ReportKey { return eventRow(r).ReportKey },
		row: eventRow,
		trim: func(r adminapi.EventReport) adminapi.EventReport {
			r.Reason = textcut.Runes(r.Reason, 2*notice.ReasonShown)
			r.Name = textcut.Runes(r.Name, 2*notice.RoomNameShown)
			return r
		},
		digest: notice.Digest,
		post:   f.postEventReport,
	}}
}

// eventRow is what the store keeps of an event report.
func eventRow(r adminapi.EventReport) store.Report {
	return store.Report{ReportKey: store.ReportKey{Kind: store.KindEvent, ID: r.ID, ReceivedTS: r.ReceivedTS},
		RoomID: r.RoomID, EventID: r.EventID, TargetUser: r.Sender, Reporter: r.UserID}
}

// postEventReport renders an event report's card, with the reported event
// when Synapse still has it, and records the report and the card
// together. A report of an event whose card is open joins that card.
func (f *Feed) postEventReport(ctx context.Context, r adminapi.EventReport) error {
	key := eventRow(r).ReportKey
	if f.Duplicate != nil {
		card, err := f.Store.Reports.OpenCard(ctx, r.EventID)
		if err != nil {
			return err
		}
		if card != nil && card.ReportKey != key {
			if err := f.Duplicate(ctx, r, card); err != nil {
				return err
			}
			f.Metrics.ReportsSeen(string(store.KindEvent), 1)
			return nil
		}
	}
	detail, err := f.probedEvents[r.ID], error(nil)
	if detail == nil || detail.ReceivedTS != r.ReceivedTS {
		detail, err = f.Admin.EventReport(ctx, r.ID)
	}
	switch {
	case adminapi.IsTooLarge(err):
		f.Log.Warn().Int64("report_id", r.ID).Msg("The reported event is too large to read; posting the report without it")
		detail = notice.TooLargeToShow
	case adminapi.IsNotFound(err):
		// Deleted since the listing, or its room or event was purged.
		detail = nil
	case err != nil && retry.Classify(err) != retry.Permanent:
		// No answer, a 5xx, a rate limit, or a token an admin can fix:
		// the next poll tries again.
		return err
	case err != nil:
		// One report Synapse cannot show must not hold up the others.
		f.Log.Warn().Err(err).Int64("report_id", r.ID).Msg("Could not read the reported event; posting the report without it")
		detail = nil
	case detail.ReceivedTS != r.ReceivedTS:
		// The id now belongs to another report; the next poll sorts it out.
		return nil
	}
	buttons := notice.WithPolicyBan(notice.CardButtons(r, detail, f.Prefix, f.Server), f.Policy, r.Sender, key.Ref(), f.Prefix)
	return f.postCard(ctx, eventRow(r), dossier.Subject{Report: key, User: r.Sender, Reporter: r.UserID, RoomID: r.RoomID, EventID: r.EventID},
		buttons, func(d *dossier.Dossier, buttons []notice.Button) json.RawMessage {
			return notice.Card(r, detail, d, buttons)
		},
		f.Log.Info().Int64("report_id", r.ID).Stringer("reporter", r.UserID).Stringer("sender", r.Sender).Stringer("room_id", r.RoomID), "New report")
}

// postCard gathers the context of the report row (about s) within
// dossier.Budget, renders its card with it and buttons (cardOf, shown as
// a new card: notice.NewCard) for each desk it goes to (places), and
// records the report and the cards with their buttons together, then
// logs msg to logged; a context that comes late is edited in.
func (f *Feed) postCard(ctx context.Context, row store.Report, s dossier.Subject, buttons []notice.Button,
	cardOf func(*dossier.Dossier, []notice.Button) json.RawMessage, logged *zerolog.Event, msg string) error {
	d, late := f.gather(ctx, s)
	places := f.places(row, s.RoomID, buttons)
	var first store.Message
	var more []store.Message
	renders := make([]func(*dossier.Dossier) json.RawMessage, len(places))
	for i, p := range places {
		// A new card shows its case, as its edits do.
		renders[i] = func(d *dossier.Dossier) json.RawMessage { return notice.NewCard(cardOf(d, p.buttons)) }
		card, reactions := store.CardMessages(p.key, row.ReportKey, p.room, store.PriorityNotice, renders[i](d), notice.Reactions(p.buttons))
		if i == 0 {
			first = card
		} else {
			more = append(more, card)
		}
		more = append(more, reactions...)
	}
	if err := f.Store.Reports.AddNotice(ctx, row, first, more...); err != nil {
		logged.Discard()
		return err
	}
	f.Metrics.ReportsSeen(string(row.Kind), 1)
	if len(places) > 1 || places[0].desk != "" {
		logged.Strs("desks", deskNames(places))
	}
	logged.Msg(msg)
	f.whenLate(ctx, places, late, renders)
	return nil
}

// place is a desk a report's card goes to: the card's key, the desk's
// room and name ("" for the server desk), and the buttons it offers there.
type place struct {
	key     store.OutboxKey
	room    id.RoomID
	desk    string
	buttons []notice.Button
}

// places returns where report row, about roomID ("" for a user report),
// gets a card: the community desks whose scope holds roomID, and the
// server desk unless every one of them keeps its reports to itself
// (server_desk_copy: false). The first is the card the report row
// points at.
func (f *Feed) places(row store.Report, roomID id.RoomID, buttons []notice.Button) []place {
	server := place{key: store.NoticeKey(row.ReportKey), room: f.Room, buttons: buttons}
	if f.Desks == nil || roomID == "" {
		return []place{server}
	}
	desks := f.Desks.Route(roomID)
	var out []place
	if len(desks) == 0 || slices.ContainsFunc(desks, func(d *desk.Desk) bool { return d.ServerCopy }) {
		out = append(out, server)
	}
	for _, d := range desks {
		out = append(out, place{key: store.DeskCardKey(row.ReportKey, d.Name), room: d.Room, desk: d.Name,
			buttons: d.Buttons(buttons, row.ReportKey.Ref(), f.Prefix)})
	}
	return out
}

// deskNames names the desks of places, "server" for the server desk, for
// the log.
func deskNames(places []place) []string {
	names := make([]string, len(places))
	for i, p := range places {
		names[i] = cmp.Or(p.desk, "server")
	}
	return names
}

// gather gathers a card's context within dossier.Budget (see
// dossier.Gatherer.Gather); nothing without a Gatherer.
func (f *Feed) gather(ctx context.Context, s dossier.Subject) (*dossier.Dossier, <-chan *dossier.Dossier) {
	if f.Dossier == nil {
		return nil, nil
	}
	return f.Dossier.Gather(ctx, s, dossier.Budget)
}

// whenLate edits the cards in places (rendered by renders) with the
// context that came late, once it is there. A crash meanwhile leaves the
// cards as they are: !report shows the whole context.
func (f *Feed) whenLate(ctx context.Context, places []place, late <-chan *dossier.Dossier, renders []func(*dossier.Dossier) json.RawMessage) {
	if late == nil || f.LateCard == nil {
		return
	}
	go func() {
		select {
		case d := <-late:
			for i, p := range places {
				if err := f.LateCard(ctx, p.key, renders[i](d)); err != nil && ctx.Err() == nil {
					f.Log.Warn().Err(err).Str("card", string(p.key)).Msg("Could not add the late context to a card")
				}
			}
		case <-ctx.Done():
		}
	}()
}

// userReports is the feed of user reports (Synapse 1.152 and later).
func (f *Feed) userReports() *kindFeed[adminapi.UserReport] {
	key := func(r adminapi.UserReport) store.ReportKey {
		return store.ReportKey{Kind: store.KindUser, ID: r.ID, ReceivedTS: r.ReceivedTS}
	}
	row := func(r adminapi.UserReport) store.Report {
		return store.Report{ReportKey: key(r), TargetUser: r.TargetUserID, Reporter: r.UserID}
	}
	return &kindFeed[adminapi.UserReport]{Feed: f, source: source[adminapi.UserReport]{
		kind: store.KindUser,
		list: func(ctx context.Context, q adminapi.PageQuery) (*adminapi.Page[adminapi.UserReport], error) {
			return f.Admin.ListUserReports(ctx, adminapi.UserReportsQuery{PageQuery: q})
		},
		probe: func(ctx context.Context, id int64) (adminapi.UserReport, bool, error) {
			r, err := f.Admin.UserReport(ctx, id)
			return probed(r, err, func(r *adminapi.UserReport) adminapi.UserReport { return *r })
		},
		key: key,
		row: row,
		trim: func(r adminapi.UserReport) adminapi.UserReport {
			r.Reason = textcut.Runes(r.Reason, 2*notice.ReasonShown)
			return r
		},
		digest: notice.UserDigest,
		post: func(ctx context.Context, r adminapi.UserReport) error {
			// The listing holds all there is to a user report.
			buttons := notice.WithPolicyBan(notice.UserCardButtons(r, f.Prefix, f.Server), f.Policy, r.TargetUserID, key(r).Ref(), f.Prefix)
			return f.postCard(ctx, row(r), dossier.Subject{Report: key(r), User: r.TargetUserID, Reporter: r.UserID},
				buttons, func(d *dossier.Dossier, buttons []notice.Button) json.RawMessage {
					return notice.UserCard(r, d, buttons)
				},
				f.Log.Info().Int64("user_report_id", r.ID).Stringer("reporter", r.UserID).Stringer("target_user_id", r.TargetUserID), "New user report")
		},
	}}
}

// roomReports is the feed of room reports, from f.RoomReports.
func (f *Feed) roomReports() *kindFeed[adminapi.RoomReport] {
	key := func(r adminapi.RoomReport) store.ReportKey {
		return store.ReportKey{Kind: store.KindRoom, ID: r.ID, ReceivedTS: r.ReceivedTS}
	}
	row := func(r adminapi.RoomReport) store.Report {
		return store.Report{ReportKey: key(r), RoomID: r.RoomID, Reporter: r.UserID}
	}
	return &kindFeed[adminapi.RoomReport]{Feed: f, source: source[adminapi.RoomReport]{
		kind: store.KindRoom,
		list: func(ctx context.Context, q adminapi.PageQuery) (*adminapi.Page[adminapi.RoomReport], error) {
			if f.RoomReports == nil {
				return nil, roomreports.ErrNotConfigured
			}
			return f.RoomReports.List(ctx, q)
		},
		key: key,
		row: row,
		trim: func(r adminapi.RoomReport) adminapi.RoomReport {
			r.Reason = textcut.Runes(r.Reason, 2*notice.ReasonShown)
			return r
		},
		digest: notice.RoomDigest,
		post: func(ctx context.Context, r adminapi.RoomReport) error {
			buttons := notice.RoomCardButtons(r, f.Prefix)
			return f.postCard(ctx, row(r), dossier.Subject{Report: key(r), Reporter: r.UserID, RoomID: r.RoomID},
				buttons, func(d *dossier.Dossier, buttons []notice.Button) json.RawMessage {
					return notice.RoomCard(r, d, buttons)
				},
				f.Log.Info().Int64("room_report_id", r.ID).Stringer("reporter", r.UserID).Stringer("room_id", r.RoomID), "New room report")
		},
	}}
}

// probed is a lookup's answer as source.probe gives it: not found is no
// report; a report too large to read is errProbe (a listing shows it).
func probed[D, T any](d *D, err error, item func(*D) T) (T, bool, error) {
	var zero T
	switch {
	case adminapi.IsNotFound(err):
		return zero, false, nil
	case adminapi.IsTooLarge(err):
		return zero, false, fmt.Errorf("%w: %w", errProbe, err)
	case err != nil:
		return zero, false, err
	}
	return item(d), true, nil
}

// isUnsupported reports whether err says Synapse has no API for a kind.
func isUnsupported(err error) bool { return errors.Is(err, adminapi.ErrUnsupported) }
