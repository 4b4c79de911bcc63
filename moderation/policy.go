package moderation

import (
	"context"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/policy"
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
