package preflight

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/config"
)

// Roles returns the power level each command needs in the management
// room, one line per group: "server: 50 — suspend, …; 100 — lock", the
// commands of each level in help's order, the lowest level first.
func Roles(c config.Commands) []string {
	levels := c.Levels()
	var lines []string
	for _, g := range commands.Groups() {
		byLevel := map[int][]string{}
		for _, s := range commands.All() {
			if s.Group == g {
				n := levels.Of(s)
				byLevel[n] = append(byLevel[n], s.Name)
			}
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
}
