// Package dossier gathers what a moderator needs to judge a report at a
// glance: who the reported user is (local or remote, how old the account,
// what state it is in), what Gavel has seen of them before (reports,
// outcomes, actions), how reliable the reporter has been, the messages
// around a reported event, and the room it is in.
//
// Gathering asks Synapse and Gavel's database, all parts at once, within a
// budget: what is late is left out of the first answer and comes on a
// channel once it is there, so that a card is never held up by it.
//
// Package notice renders a Dossier.
//
// Of Gavel's packages it may import: adminapi, internal/mxid, internal/retry,
// internal/textcut, policy, store.
package dossier

import (
	"context"
	"sync"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/synapseadmin"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/policy"
	"github.com/gavel-bot/gavel/store"
)

// Subject is the report a dossier is about.
type Subject struct {
	Report store.ReportKey
	// User is the reported user: the reported event's sender, or the
	// user a user report is about; empty when unknown.
	User     id.UserID
	Reporter id.UserID
	// RoomID and EventID are the reported event's, for event reports.
	RoomID  id.RoomID
	EventID id.EventID
}

// Dossier is what was gathered about a report. A part that was not
// gathered is nil (or empty) and named in Missing.
type Dossier struct {
	User     *User
	History  *store.UserRecord
	Reporter *store.ReporterRecord
	// Before and After are up to Around messages before (newest first)
	// and after (oldest first) the reported event.
	Before, After []*event.Event
	AroundGone    bool // Synapse no longer has the event (purged)
	Room          *synapseadmin.RoomInfo
	// Policy are the followed policy lists' rules that match the
	// reported user, the reported room and the user's server: from
	// memory, so always there.
	Policy []policy.Match
	// Missing names the parts not gathered in time, or that failed:
	// "user", "history", "reporter", "messages", "room".
	Missing []string
}

// Complete reports whether every part was gathered.
func (d *Dossier) Complete() bool { return len(d.Missing) == 0 }

// User is what Synapse says of the reported user.
type User struct {
	ID id.UserID
	// Local is whether the account is on this homeserver; only local
	// accounts have Account.
	Local bool
	// Account is the admin API's view of a local account; nil when
	// Synapse does not know it.
	Account *adminapi.Account
}

// Around is how many messages before and after a reported event a dossier
// shows.
const Around = 2

// RecordCap is where the counts of History and Reporter stop: a count of
// RecordCap+1 means more than RecordCap.
const RecordCap = store.RecordCap

// Budget is how long a card waits for its dossier.
const Budget = 300 * time.Millisecond

// lateLimit bounds how long the late parts are waited for.
const lateLimit = 15 * time.Second

// Gatherer gathers dossiers.
type Gatherer struct {
	Admin *adminapi.Client
	Store *store.Store
	// Server is this homeserver's name: users of other servers are
	// remote, and Synapse has no account for them.
	Server string
	// Policy is the followed policy lists; nil for none.
	Policy *policy.Index
}

// part is one piece of a dossier: its name, and how to gather it into d.
type part struct {
	name   string
	gather func(ctx context.Context, d *Dossier) error
}

// parts are the pieces s's dossier is made of.
func (g *Gatherer) parts(s Subject) []part {
	var ps []part
	if s.User != "" {
		ps = append(ps,
			part{"user", func(ctx context.Context, d *Dossier) error {
				u := &User{ID: s.User, Local: s.User.Homeserver() == g.Server}
				if u.Local {
					acc, err := g.Admin.Account(ctx, s.User)
					if err != nil && !adminapi.IsNotFound(err) {
						return err
					}
					u.Account = acc
				}
				d.User = u
				return nil
			}},
			part{"history", func(ctx context.Context, d *Dossier) error {
				rec, err := g.Store.Records.User(ctx, s.User, s.Report)
				d.History = &rec
				return err
			}})
	}
	if s.Reporter != "" {
		ps = append(ps, part{"reporter", func(ctx context.Context, d *Dossier) error {
			rec, err := g.Store.Records.Reporter(ctx, s.Reporter, s.Report)
			d.Reporter = &rec
			return err
		}})
	}
	if s.RoomID != "" && s.EventID != "" {
		ps = append(ps, part{"messages", func(ctx context.Context, d *Dossier) error {
			before, after, err := g.Admin.EventContext(ctx, s.RoomID, s.EventID, Around)
			if adminapi.IsNotFound(err) {
				d.AroundGone = true
				return nil
			}
			d.Before, d.After = before, after
			return err
		}})
	}
	if s.RoomID != "" {
		ps = append(ps, part{"room", func(ctx context.Context, d *Dossier) error {
			room, err := g.Admin.RoomInfo(ctx, s.RoomID)
			if adminapi.IsNotFound(err) {
				return nil // purged: nothing to say
			}
			d.Room = room
			return err
		}})
	}
	return ps
}

// Gather gathers s's dossier, every part at once. It returns what it has
// when all parts are in or budget has passed, whichever comes first. When
// parts were late, late delivers the complete dossier (or what there is
// after a longer wait) once; it is nil when nothing was late. Parts that
// failed are named in Missing and not tried again.
func (g *Gatherer) Gather(ctx context.Context, s Subject, budget time.Duration) (first *Dossier, late <-chan *Dossier) {
	ps := g.parts(s)
	ctx, cancel := context.WithTimeout(ctx, lateLimit)
	var mu sync.Mutex
	d := &Dossier{Policy: g.Policy.Match(policy.Entities{User: s.User, Room: s.RoomID, Server: s.User.Homeserver()})}
	pending := map[string]bool{}
	var failed []string
	for _, p := range ps {
		pending[p.name] = true
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Go(func() {
			var got Dossier
			err := p.gather(ctx, &got)
			mu.Lock()
			defer mu.Unlock()
			delete(pending, p.name)
			if err != nil {
				failed = append(failed, p.name)
				return
			}
			merge(d, &got)
		})
	}
	go func() {
		wg.Wait()
		cancel()
		close(done)
	}()
	timer := time.NewTimer(budget)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
	}
	snapshot := func() *Dossier {
		mu.Lock()
		defer mu.Unlock()
		c := *d
		c.Missing = append([]string(nil), failed...)
		for _, p := range ps {
			if pending[p.name] {
				c.Missing = append(c.Missing, p.name)
			}
		}
		return &c
	}
	first = snapshot()
	select {
	case <-done:
		return first, nil
	default:
	}
	ch := make(chan *Dossier, 1)
	go func() {
		<-done
		ch <- snapshot()
	}()
	return first, ch
}

// merge copies the parts got holds into d.
func merge(d, got *Dossier) {
	if got.User != nil {
		d.User = got.User
	}
	if got.History != nil {
		d.History = got.History
	}
	if got.Reporter != nil {
		d.Reporter = got.Reporter
	}
	if got.Before != nil || got.After != nil || got.AroundGone {
		d.Before, d.After, d.AroundGone = got.Before, got.After, got.AroundGone
	}
	if got.Room != nil {
		d.Room = got.Room
	}
}

// Full gathers s's dossier without a budget, for !report: every part,
// waiting up to ctx's end.
func (g *Gatherer) Full(ctx context.Context, s Subject) *Dossier {
	first, late := g.Gather(ctx, s, lateLimit)
	if late != nil {
		select {
		case d := <-late:
			return d
		case <-ctx.Done():
		}
	}
	return first
}
