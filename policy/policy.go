// Package policy follows policy lists (MSC2313, "moderation policy lists"
// in the spec): rooms of m.policy.rule.user, m.policy.rule.room and
// m.policy.rule.server state events, and their older types m.room.rule.*
// and org.matrix.mjolnir.rule.*. An Index holds the rules of the followed
// lists in memory, kept from their state (Load at start, Apply for each
// change sync brings), and answers Match for a card's entities without
// a request: literal entities by map, globs separately, both
// case-sensitive, as the bots that enforce the lists match them.
//
// Everything in a list is someone else's text: an entity or reason may
// hold HTML, pings or kilobytes. This package keeps it as given (reasons
// cut to MaxReason characters), and package notice shows it inert.
//
// Of Gavel's packages it may import: internal/textcut.
package policy

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"unique"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/textcut"
)

// Kind is what a rule is about.
type Kind string

// Kinds.
const (
	User   Kind = "user"
	Room   Kind = "room"
	Server Kind = "server"
)

// Kinds are every kind, in the order replies list them.
var Kinds = []Kind{User, Room, Server}

// Type is the stable event type of rules of kind k, the one Gavel writes.
func (k Kind) Type() event.Type {
	return event.Type{Type: "m.policy.rule." + string(k), Class: event.StateEventType}
}

// kinds maps every rule event type Gavel reads, the legacy ones included,
// to its kind.
var kinds = map[string]Kind{
	event.StatePolicyUser.Type: User, event.StatePolicyRoom.Type: Room, event.StatePolicyServer.Type: Server,
	event.StateLegacyPolicyUser.Type: User, event.StateLegacyPolicyRoom.Type: Room, event.StateLegacyPolicyServer.Type: Server,
	event.StateUnstablePolicyUser.Type: User, event.StateUnstablePolicyRoom.Type: Room, event.StateUnstablePolicyServer.Type: Server,
}

// KindOf returns the kind of rule an event type holds, and whether it
// is a rule type at all.
func KindOf(t event.Type) (Kind, bool) {
	k, ok := kinds[t.Type]
	return k, ok
}

// Types are every rule event type Gavel reads, for a sync filter.
func Types() []event.Type {
	return []event.Type{event.StatePolicyUser, event.StatePolicyRoom, event.StatePolicyServer,
		event.StateLegacyPolicyUser, event.StateLegacyPolicyRoom, event.StateLegacyPolicyServer,
		event.StateUnstablePolicyUser, event.StateUnstablePolicyRoom, event.StateUnstablePolicyServer}
}

// Limits on what one rule may hold.
const (
	// MaxEntity is the longest entity kept, in bytes: a Matrix id is
	// at most 255. A longer one is an invalid rule.
	MaxEntity = 512
	// MaxReason is how many characters of a reason are kept.
	MaxReason = 300
)

// EntityKind guesses the kind of an entity as typed: a user id, a room id
// or alias, otherwise a server name (globs included: "@*:spam.example" is
// a user glob).
func EntityKind(entity string) Kind {
	switch {
	case strings.HasPrefix(entity, "@"):
		return User
	case strings.HasPrefix(entity, "!"), strings.HasPrefix(entity, "#"):
		return Room
	}
	return Server
}

// IsGlob reports whether an entity is a glob: it holds * or ?.
func IsGlob(entity string) bool { return strings.ContainsAny(entity, "*?") }

// Rule is one rule of a list.
type Rule struct {
	// List is the shortcode of the list the rule is in.
	List string
	Kind Kind
	// Type and StateKey are the state event's; Gavel writes under the
	// stable type.
	Type     string
	StateKey string
	// Entity is the user, room or server the rule is about, or a glob.
	Entity string
	// Recommendation is what the rule asks for: m.ban, or another
	// tool's value, kept as given.
	Recommendation string
	// Reason is cut to MaxReason characters.
	Reason    string
	Sender    id.UserID
	Timestamp int64 // the event's, in milliseconds

	glob matcher // for a glob entity
}

// IsGlob reports whether the rule's entity is a glob.
func (r *Rule) IsGlob() bool { return r.glob != nil }

// Matches reports whether the rule's entity matches s: equal for a
// literal entity, the glob (glob.go) for a glob.
func (r *Rule) Matches(s string) bool {
	if r.glob != nil {
		return r.glob.Match(s)
	}
	return r.Entity == s
}

// Matches reports whether entity (a literal or a glob) matches s, as a
// rule about entity would.
func Matches(entity, s string) bool {
	if IsGlob(entity) {
		g := compileGlob(entity)
		return g != nil && g.Match(s)
	}
	return entity == s
}

// content is a rule's content as a list holds it; a value of the wrong
// type makes the rule invalid.
type content struct {
	Entity         *string `json:"entity"`
	Recommendation *string `json:"recommendation"`
	Reason         *string `json:"reason"`
}

// Parse reads a rule from a state event. It returns (nil, false) for an
// empty content (a removed rule), and (nil, true) for a rule Gavel
// cannot use: content that is not an object of strings, no entity or
// recommendation, an entity too long, or a glob that does not compile.
func Parse(evt *event.Event) (rule *Rule, invalid bool) {
	kind, ok := KindOf(evt.Type)
	if !ok || evt.StateKey == nil {
		return nil, true
	}
	raw := evt.Content.VeryRaw
	if len(raw) == 0 && evt.Content.Raw != nil {
		raw, _ = json.Marshal(evt.Content.Raw)
	}
	if len(raw) == 0 {
		return nil, false
	}
	var c content
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, true // not an object, or a field not a string
	}
	if c.Entity == nil && c.Recommendation == nil && c.Reason == nil {
		// Empty content removes a rule; other fields alone make no rule.
		var fields map[string]json.RawMessage
		if json.Unmarshal(raw, &fields) == nil && len(fields) == 0 {
			return nil, false
		}
		return nil, true
	}
	if c.Entity == nil || c.Recommendation == nil {
		// Hashed entities (MSC4205) have none: nothing to match by.
		return nil, true
	}
	entity := *c.Entity
	if entity == "" || len(entity) > MaxEntity || *c.Recommendation == "" {
		return nil, true
	}
	// A list's rules share a few types, recommendations and senders:
	// one copy of each (a 50,000-rule list takes 2 MB less).
	rule = &Rule{
		Kind: kind, Type: unique.Make(evt.Type.Type).Value(), StateKey: *evt.StateKey, Entity: entity,
		Recommendation: unique.Make(textcut.Runes(*c.Recommendation, 100)).Value(), Sender: id.UserID(unique.Make(string(evt.Sender)).Value()),
		Timestamp: evt.Timestamp,
	}
	if c.Reason != nil {
		rule.Reason = textcut.Runes(*c.Reason, MaxReason-1) // with its "…"
	}
	if IsGlob(entity) {
		if rule.glob = compileGlob(entity); rule.glob == nil {
			return nil, true
		}
	}
	return rule, false
}

// stateEvent is an event of a room's state as /state gives it, with its
// content left raw: decoding 50,000 rules through event.Event would parse
// each content twice.
type stateEvent struct {
	Type      string          `json:"type"`
	StateKey  *string         `json:"state_key"`
	Sender    id.UserID       `json:"sender"`
	EventID   id.EventID      `json:"event_id"`
	Timestamp int64           `json:"origin_server_ts"`
	Content   json.RawMessage `json:"content"`
}

// DecodeState decodes the answer of GET /rooms/{roomId}/state, room's:
// the events' contents are left raw (Content.VeryRaw), for Parse.
func DecodeState(room id.RoomID, data []byte) ([]*event.Event, error) {
	var raw []stateEvent
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	out := make([]*event.Event, len(raw))
	for i, e := range raw {
		out[i] = &event.Event{Type: event.Type{Type: e.Type, Class: event.StateEventType}, StateKey: e.StateKey, Sender: e.Sender,
			ID: e.EventID, Timestamp: e.Timestamp, RoomID: room, Content: event.Content{VeryRaw: e.Content}}
	}
	return out, nil
}

// ListConfig is a followed list, as configured.
type ListConfig struct {
	Room      id.RoomID
	Shortcode string
	Write     bool
}

// List is one followed list.
type List struct {
	ListConfig
	// rules by their state event's type and state key.
	rules   map[stateKey]*Rule
	invalid map[stateKey]bool
	loaded  bool
}

type stateKey struct{ typ, key string }

// ListStats is what !status says of a list.
type ListStats struct {
	Shortcode string
	Room      id.RoomID
	Write     bool
	// Loaded is false until the list's state was read.
	Loaded         bool
	Rules, Invalid int
}

// Match is a rule that matches an entity asked about.
type Match struct {
	Rule *Rule
	// Entity is what was asked about that the rule matched.
	Entity string
}

// Entities are what a card or a command asks about; empty ones are
// left out.
type Entities struct {
	User   id.UserID
	Room   id.RoomID
	Alias  id.RoomAlias
	Server string
}

// Index is the followed lists' rules, safe for concurrent use.
type Index struct {
	mu     sync.RWMutex
	lists  []*List
	byRoom map[id.RoomID]*List
	// exact holds literal entities, globs the others, by kind.
	exact map[Kind]map[string][]*Rule
	globs map[Kind][]*Rule
}

// NewIndex returns an empty index of the lists, in the configuration's
// order.
func NewIndex(lists []ListConfig) *Index {
	ix := &Index{byRoom: map[id.RoomID]*List{}, exact: map[Kind]map[string][]*Rule{}, globs: map[Kind][]*Rule{}}
	for _, k := range Kinds {
		ix.exact[k] = map[string][]*Rule{}
	}
	for _, c := range lists {
		l := &List{ListConfig: c, rules: map[stateKey]*Rule{}, invalid: map[stateKey]bool{}}
		ix.lists = append(ix.lists, l)
		if c.Room != "" {
			ix.byRoom[c.Room] = l
		}
	}
	return ix
}

// SetRoom tells the index which room a list is in, once its alias is
// resolved.
func (ix *Index) SetRoom(shortcode string, room id.RoomID) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, l := range ix.lists {
		if l.Shortcode == shortcode {
			delete(ix.byRoom, l.Room)
			l.Room = room
			ix.byRoom[room] = l
		}
	}
}

// Rooms returns the rooms of the lists whose room is known.
func (ix *Index) Rooms() []id.RoomID {
	if ix == nil {
		return nil
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var rooms []id.RoomID
	for _, l := range ix.lists {
		if strings.HasPrefix(string(l.Room), "!") {
			rooms = append(rooms, l.Room)
		}
	}
	return rooms
}

// Follows reports whether room is a followed list's.
func (ix *Index) Follows(room id.RoomID) bool {
	if ix == nil {
		return false
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.byRoom[room] != nil
}

// Load replaces a list's rules with those of its whole state (other
// events among them are skipped).
func (ix *Index) Load(room id.RoomID, state []*event.Event) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	l := ix.byRoom[room]
	if l == nil {
		return
	}
	for key := range l.rules {
		ix.remove(l, key)
	}
	clear(l.invalid)
	for _, evt := range state {
		ix.apply(l, evt)
	}
	l.loaded = true
}

// Apply applies one state event of a list's room: a new or changed rule,
// a removed one (empty content). It reports whether the event was a rule
// of a followed list.
func (ix *Index) Apply(evt *event.Event) bool {
	if _, ok := KindOf(evt.Type); !ok || evt.StateKey == nil {
		return false
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	l := ix.byRoom[evt.RoomID]
	if l == nil {
		return false
	}
	ix.apply(l, evt)
	return true
}

func (ix *Index) apply(l *List, evt *event.Event) {
	if _, ok := KindOf(evt.Type); !ok || evt.StateKey == nil {
		return
	}
	key := stateKey{evt.Type.Type, *evt.StateKey}
	ix.remove(l, key)
	delete(l.invalid, key)
	rule, invalid := Parse(evt)
	if invalid {
		l.invalid[key] = true
	}
	if rule == nil {
		return
	}
	rule.List = l.Shortcode
	l.rules[key] = rule
	if rule.glob != nil {
		ix.globs[rule.Kind] = append(ix.globs[rule.Kind], rule)
	} else {
		ix.exact[rule.Kind][rule.Entity] = append(ix.exact[rule.Kind][rule.Entity], rule)
	}
}

// remove takes a list's rule under key out of the index.
func (ix *Index) remove(l *List, key stateKey) {
	rule := l.rules[key]
	if rule == nil {
		return
	}
	delete(l.rules, key)
	if rule.glob != nil {
		ix.globs[rule.Kind] = without(ix.globs[rule.Kind], rule)
		return
	}
	if rest := without(ix.exact[rule.Kind][rule.Entity], rule); len(rest) > 0 {
		ix.exact[rule.Kind][rule.Entity] = rest
	} else {
		delete(ix.exact[rule.Kind], rule.Entity)
	}
}

// without returns rules without rule, reusing neither's array: a reader
// may hold the old slice.
func without(rules []*Rule, rule *Rule) []*Rule {
	out := make([]*Rule, 0, len(rules))
	for _, r := range rules {
		if r != rule {
			out = append(out, r)
		}
	}
	return out
}

// Match returns the rules of every list that match the entities: the
// user's, the room's (by id or alias) and the server's, literal ones
// before globs, in the lists' order.
func (ix *Index) Match(e Entities) []Match {
	if ix == nil {
		return nil
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var out []Match
	ask := func(k Kind, s string) {
		if s == "" {
			return
		}
		for _, r := range ix.exact[k][s] {
			out = append(out, Match{Rule: r, Entity: s})
		}
		for _, r := range ix.globs[k] {
			if r.glob.Match(s) {
				out = append(out, Match{Rule: r, Entity: s})
			}
		}
	}
	ask(User, string(e.User))
	ask(Room, string(e.Room))
	ask(Room, string(e.Alias))
	ask(Server, e.Server)
	if len(ix.lists) > 1 {
		order := map[string]int{}
		for i, l := range ix.lists {
			order[l.Shortcode] = i
		}
		slices.SortStableFunc(out, func(a, b Match) int { return cmp.Compare(order[a.Rule.List], order[b.Rule.List]) })
	}
	return out
}

// Rules returns a list's rules of kind (every kind when empty) whose
// entity is or matches entity (every rule when empty), sorted by kind and
// entity; nil and false when there is no such list.
func (ix *Index) Rules(shortcode string, kind Kind, entity string) ([]*Rule, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	for _, l := range ix.lists {
		if l.Shortcode != shortcode {
			continue
		}
		var out []*Rule
		for _, r := range l.rules {
			if (kind == "" || r.Kind == kind) && (entity == "" || r.Entity == entity || r.Matches(entity)) {
				out = append(out, r)
			}
		}
		slices.SortFunc(out, func(a, b *Rule) int {
			return cmp.Or(cmp.Compare(slices.Index(Kinds, a.Kind), slices.Index(Kinds, b.Kind)), cmp.Compare(a.Entity, b.Entity), cmp.Compare(a.Type, b.Type), cmp.Compare(a.StateKey, b.StateKey))
		})
		return out, true
	}
	return nil, false
}

// BanList returns the first list Gavel writes to (read, write: true)
// where no ban matches user, for the card's 📜 button; false when there
// is none.
func (ix *Index) BanList(user id.UserID) (string, bool) {
	if ix == nil || user == "" {
		return "", false
	}
	matches := ix.Match(Entities{User: user})
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	for _, l := range ix.lists {
		if !l.Write || !l.loaded {
			continue
		}
		banned := slices.ContainsFunc(matches, func(m Match) bool {
			return m.Rule.List == l.Shortcode && event.PolicyRecommendation(m.Rule.Recommendation).IsBanOrTakedown()
		})
		if !banned {
			return l.Shortcode, true
		}
	}
	return "", false
}

// Stats returns each list's counts, in order.
func (ix *Index) Stats() []ListStats {
	if ix == nil {
		return nil
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	out := make([]ListStats, len(ix.lists))
	for i, l := range ix.lists {
		out[i] = ListStats{Shortcode: l.Shortcode, Room: l.Room, Write: l.Write, Loaded: l.loaded, Rules: len(l.rules), Invalid: len(l.invalid)}
	}
	return out
}
