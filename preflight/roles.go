package preflight

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/desk"
)

// Roles returns the power level each command needs in the management
// room, one line per group: "server: 50 — suspend, …; 100 — lock", the
// commands of each level in help's order, the lowest level first.
func Roles(c config.Commands) []string { return levelLines(c.Levels(), nil) }

// DeskRoles is Roles for community desk d: its own power_levels, and
// only the commands a community desk runs.
func DeskRoles(min int, d config.Desk) []string {
	dk := &desk.Desk{Name: d.Name}
	return levelLines(commands.Levels{Min: min, Set: d.PowerLevels}, dk.Offers)
}

// levelLines makes Roles' lines from levels, of the commands offers keeps
// (nil: all).
func levelLines(levels commands.Levels, offers func(*commands.Spec) bool) []string {
	var lines []string
	for _, g := range commands.Groups() {
		byLevel := map[int][]string{}
		for _, s := range commands.All() {
			if s.Group == g && (offers == nil || offers(s)) {
				n := levels.Of(s)
				byLevel[n] = append(byLevel[n], s.Name)
			}
		}
		if len(byLevel) == 0 {
			continue
		}
		var parts []string
		for _, n := range slices.Sorted(maps.Keys(byLevel)) {
			parts = append(parts, fmt.Sprintf("%d — %s", n, strings.Join(byLevel[n], ", ")))
		}
		lines = append(lines, string(g)+": "+strings.Join(parts, "; "))
	}
	return lines
}

// roles prints Roles under one check line: what commands.power_levels and
// commands.min_power_level make of each command, once.
func (r *run) roles() {
	r.ok("roles", "the power level each command needs in matrix.management_room, by group (commands.power_levels and commands.min_power_level; see docs/roles.md):")
	for _, line := range Roles(r.cfg.Commands) {
		fmt.Fprintf(r.out, "       %s\n", line)
	}
	for _, d := range r.cfg.Desks {
		r.ok("roles", "desk %s: the power level each command it runs needs in its room (desks[].power_levels; the others are the server desk's):", d.Name)
		for _, line := range DeskRoles(r.cfg.Commands.MinPowerLevel, d) {
			fmt.Fprintf(r.out, "       %s\n", line)
		}
	}
}

// Unreachable says which commands no member of the management room but
// Gavel has the power level for, given the room's state, or "" when every
// command is within someone's reach: the default of 100 for destructive
// commands leaves a team whose moderators are all at 50 without them.
func Unreachable(c config.Commands, state []*event.Event, bot id.UserID) string {
	pl := &event.PowerLevelsEventContent{}
	var create *event.Event
	var members []id.UserID
	for _, evt := range state {
		if evt.StateKey == nil {
			continue
		}
		_ = evt.Content.ParseRaw(evt.Type) // unparsable: the zero content
		switch evt.Type {
		case event.StatePowerLevels:
			if *evt.StateKey == "" {
				pl = evt.Content.AsPowerLevels()
			}
		case event.StateCreate:
			create = evt
		case event.StateMember:
			if user := id.UserID(*evt.StateKey); user != bot && evt.Content.AsMember().Membership == event.MembershipJoin {
				members = append(members, user)
			}
		}
	}
	if len(members) == 0 {
		return ""
	}
	pl.CreateEvent = create
	highest := commands.MinLevel
	for _, user := range members {
		highest = max(highest, pl.GetUserLevel(user))
	}
	levels := c.Levels()
	var out []string
	need := 0
	for _, s := range commands.All() {
		if n := levels.Of(s); n > highest {
			out = append(out, s.Name)
			need = max(need, n)
		}
	}
	if len(out) == 0 {
		return ""
	}
	return fmt.Sprintf("the highest power level of a member of matrix.management_room is %d, so nobody there can run %s (they need up to %d): "+
		"raise a moderator's level in the room, or lower what these commands need in commands.power_levels", highest, strings.Join(out, ", "), need)
}
