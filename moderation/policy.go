package moderation

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/internal/mxid"
	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/policy"
	"github.com/gavel-bot/gavel/store"
)

// The !policy commands read the followed lists from memory (Config.Policy,
// kept from the lists' state by bot) and write rules through Gavel's own
// account.

// policyEntities is what to ask the lists about for an entity as typed:
// a user and their server, a room by alias and id, or a server. asked
// names them for the reply.
func (m *Moderator) policyEntities(ctx context.Context, entity string) (e policy.Entities, asked []string) {
	asked = []string{entity}
	switch policy.EntityKind(entity) {
	case policy.User:
		e.User = id.UserID(entity)
		if _, server, err := e.User.Parse(); err == nil && server != "" && !policy.IsGlob(server) {
			e.Server = server
			asked = append(asked, server)
		}
	case policy.Room:
		if alias := id.RoomAlias(entity); entity[0] == '#' {
			e.Alias = alias
			if !policy.IsGlob(entity) {
				if roomID, err := m.resolveRoom(ctx, commands.RoomRef{Alias: alias}); err == nil {
					e.Room = roomID
					asked = append(asked, string(roomID))
				}
			}
		} else {
			e.Room = id.RoomID(entity)
		}
	default:
		e.Server = entity
	}
	return e, asked
}

func (m *Moderator) policyCheck(ctx context.Context, c commands.PolicyCheck) Outcome {
	e, asked := m.policyEntities(ctx, c.Entity)
	return Done(notice.PolicyCheck(asked, m.Policy.Match(e), m.Policy.Stats(), time.Now()))
}

func (m *Moderator) policyList(_ context.Context, c commands.PolicyList) Outcome {
	stats := m.Policy.Stats()
	if len(stats) == 0 {
		return Failed("Gavel follows no policy list: add one to policy_lists in the configuration.")
	}
	list, ok := policyListNamed(stats, c.List)
	if !ok {
		return NotDone(notice.New().Raw("No followed list is called ").Code(c.List).Raw(": the lists are " + shortcodes(stats) + "."))
	}
	var kind policy.Kind
	var entity string
	given := 0
	for k, v := range map[policy.Kind]string{policy.User: c.User, policy.Room: c.Room, policy.Server: c.Server} {
		if v != "" {
			kind, entity = k, v
			given++
		}
	}
	if given > 1 {
		return Failed("Give one of --user, --room and --server.")
	}
	rules, _ := m.Policy.Rules(list.Shortcode, kind, entity)
	return Done(notice.PolicyList(list, rules, given > 0, c.Limit, time.Now()))
}

// policyListNamed returns the list called shortcode, or the first when
// shortcode is empty.
func policyListNamed(stats []policy.ListStats, shortcode string) (policy.ListStats, bool) {
	for _, l := range stats {
		if shortcode == "" || l.Shortcode == shortcode {
			return l, true
		}
	}
	return policy.ListStats{}, false
}

// shortcodes names the lists for a reply: "main, community".
func shortcodes(stats []policy.ListStats) string {
	s := ""
	for i, l := range stats {
		if i > 0 {
			s += ", "
		}
		s += l.Shortcode
	}
	return s
}

// writableList returns the list a rule is written to: shortcode's, or the
// first with write: true; or a refusal.
func (m *Moderator) writableList(shortcode string) (policy.ListStats, *Outcome) {
	refuse := func(t *notice.Text) (policy.ListStats, *Outcome) {
		out := NotDone(t)
		return policy.ListStats{}, &out
	}
	stats := m.Policy.Stats()
	for _, l := range stats {
		switch {
		case shortcode != "" && l.Shortcode != shortcode:
			continue
		case !l.Write && shortcode == "":
			continue
		case !l.Write:
			return refuse(notice.New().Raw("Gavel only reads list ").Code(l.Shortcode).Raw(": set write: true for it in policy_lists, and give Gavel's account the power to send m.policy.rule.* state in its room."))
		case l.Room == "" || !l.Loaded:
			return refuse(notice.New().Raw("Gavel is not in list ").Code(l.Shortcode).Raw("'s room (see its log at start): invite " + string(m.Matrix.UserID) + " to it and restart Gavel."))
		}
		return l, nil
	}
	if shortcode != "" {
		return refuse(notice.New().Raw("No followed list is called ").Code(shortcode).Raw(": the lists are " + shortcodes(stats) + "."))
	}
	return refuse(notice.New().Raw("No policy list has write: true in policy_lists: Gavel has nowhere to write the rule."))
}

// checkPolicyEntity says what is wrong with an entity to write a rule
// about, or returns nil: not a user, room or server (nor a glob of one),
// or one that would reach Gavel's own account, server or rooms, or every
// server.
func (m *Moderator) checkPolicyEntity(entity string) *Outcome {
	refuse := func(t *notice.Text) *Outcome {
		out := NotDone(t)
		return &out
	}
	kind := policy.EntityKind(entity)
	if policy.IsGlob(entity) {
		if strings.Trim(entity, "*?@!#:.") == "" {
			return refuse(notice.New().Raw("Not done: ").Code(entity).Raw(" would match every " + string(kind) + ". Gavel does not write such a rule."))
		}
		if len(entity) > policy.MaxEntity || !policy.Valid(entity) {
			return refuse(notice.New().Raw("Not done: ").Code(entity).Raw(" is not a glob Gavel can match (too long, or too many ?)."))
		}
	} else {
		var err error
		switch {
		case kind == policy.User:
			err = mxid.ValidateUserID(id.UserID(entity))
		case kind == policy.Room && entity[0] == '!':
			err = mxid.ValidateRoomID(id.RoomID(entity))
		case kind == policy.Room:
			err = mxid.ValidateRoomAlias(id.RoomAlias(entity))
		default:
			err = mxid.ValidateServerName(entity)
		}
		if err != nil {
			return refuse(notice.New().Raw("Not done: ").User(err.Error()).Raw(". Give a user id (@spam:example.org), a room id or alias, a server name (spam.example), or a glob of one (@*:spam.example, *.spam.example)."))
		}
	}
	matches := func(s string) bool { return policy.Matches(entity, s) }
	own := m.Matrix.UserID
	switch kind {
	case policy.User:
		if matches(string(own)) || (!policy.IsGlob(entity) && m.Protected != nil && m.Protected(id.UserID(entity))) {
			return refuse(notice.New().Raw("Not done: ").Code(entity).Raw(" would match Gavel's own account, or the one whose token it uses. Gavel does not ban them."))
		}
	case policy.Server:
		if matches(own.Homeserver()) {
			return refuse(notice.New().Raw("Not done: ").Code(entity).Raw(" would match Gavel's own server, " + own.Homeserver() + ". Gavel does not ban its own server."))
		}
	case policy.Room:
		for _, room := range m.deskRooms() {
			if matches(string(room)) {
				return refuse(notice.New().Raw("Not done: ").Code(entity).Raw(" would match a desk's room. Gavel does not ban its own rooms."))
			}
		}
	}
	return nil
}

// deskRooms are the management room and the desks' rooms.
func (m *Moderator) deskRooms() []id.RoomID {
	if m.Desks == nil {
		return []id.RoomID{m.ManagementRoom}
	}
	return m.Desks.Rooms()
}

// previewPolicyBan previews a rule: it reaches every server that follows
// the list, a glob every user, room or server it matches.
func (m *Moderator) previewPolicyBan(_ context.Context, c commands.PolicyBan) Outcome {
	list, refused := m.writableList(c.List)
	if refused != nil {
		return *refused
	}
	if refused := m.checkPolicyEntity(c.Entity); refused != nil {
		return *refused
	}
	t := notice.PolicyBanPreview(c.Entity, policy.EntityKind(c.Entity), list.Shortcode, m.policyReason(c.Reason, c.Report))
	return Outcome{Reply: t, OK: true, Result: t.Plain(), Pending: &store.Pending{}}
}

// policyReason is a rule's reason: the template filled with the
// moderator's reason and the case, never the reporter.
func (m *Moderator) policyReason(reason string, report commands.ReportRef) string {
	id := ""
	if !report.IsZero() {
		id = report.Normal().String()
	}
	return policy.Reason(m.PolicyReason, reason, id)
}

func (m *Moderator) policyBan(ctx context.Context, c commands.PolicyBan) Outcome {
	list, refused := m.writableList(c.List)
	if refused != nil {
		return *refused
	}
	if refused := m.checkPolicyEntity(c.Entity); refused != nil {
		return *refused
	}
	kind := policy.EntityKind(c.Entity)
	reason := m.policyReason(c.Reason, c.Report)
	content := policy.Ban(c.Entity, reason)
	key := policy.StateKey(c.Entity)
	if _, err := m.Matrix.SendStateEvent(ctx, list.Room, kind.Type(), key, content); err != nil {
		return NotDone(notice.PolicyWriteFailed(list.Shortcode, m.Matrix.UserID, err))
	}
	m.applyOwnRule(list.Room, kind.Type(), key, content)
	return Done(notice.PolicyBanned(c.Entity, kind, list.Shortcode, reason))
}

func (m *Moderator) policyUnban(ctx context.Context, c commands.PolicyUnban) Outcome {
	list, refused := m.writableList(c.List)
	if refused != nil {
		return *refused
	}
	kind := policy.EntityKind(c.Entity)
	rules, _ := m.Policy.Rules(list.Shortcode, kind, "")
	removed := 0
	for _, r := range rules {
		if r.Entity != c.Entity {
			continue
		}
		typ := event.Type{Type: r.Type, Class: event.StateEventType}
		if _, err := m.Matrix.SendStateEvent(ctx, list.Room, typ, r.StateKey, struct{}{}); err != nil {
			return NotDone(notice.PolicyWriteFailed(list.Shortcode, m.Matrix.UserID, err))
		}
		m.applyOwnRule(list.Room, typ, r.StateKey, nil)
		removed++
	}
	if removed == 0 {
		return NotDone(notice.New().Raw("List ").Code(list.Shortcode).Raw(" has no rule about ").Code(c.Entity).Raw(" (globs match only the same glob here); ").
			Syntax(m.Prefix + "policy list --list " + list.Shortcode).Raw(" shows its rules."))
	}
	return Done(notice.PolicyUnbanned(c.Entity, list.Shortcode, removed))
}

// applyOwnRule puts a rule Gavel wrote into the index at once: sync
// leaves out Gavel's own events.
func (m *Moderator) applyOwnRule(room id.RoomID, typ event.Type, key string, content *event.ModPolicyContent) {
	raw := json.RawMessage(`{}`)
	if content != nil {
		raw, _ = json.Marshal(content)
	}
	m.Policy.Apply(&event.Event{Type: typ, StateKey: &key, RoomID: room, Sender: m.Matrix.UserID,
		Timestamp: time.Now().UnixMilli(), Content: event.Content{VeryRaw: raw}})
}
