package commands

// Groups returns the permission groups, from the one that changes
// nothing to the one that cannot be undone.
func Groups() []Group {
	return []Group{GroupRead, GroupCases, GroupRoom, GroupServer, GroupDestructive}
}

// DefaultDestructiveLevel is the power level the destructive group needs
// when commands.power_levels does not say: a room admin's, in Matrix's
// usual levels.
const DefaultDestructiveLevel = 100

// The range of a power level in Matrix: an integer JSON can carry
// exactly (the spec's canonical JSON range).
const (
	MinLevel = -(1 << 53) + 1
	MaxLevel = 1<<53 - 1
)

// Levels says the power level each command needs in the management room
// (commands.min_power_level and commands.power_levels): the one place
// that decides it, for the gate, !help and gavel -check alike.
type Levels struct {
	// Min is commands.min_power_level.
	Min int
	// Set is commands.power_levels: a command's name ("room delete") or
	// a group's ("destructive") to the level it needs.
	Set map[string]int
}

// Of returns the level the command s needs: its own entry, else its
// group's, else Min; the destructive group defaults to
// DefaultDestructiveLevel, or Min when that is higher.
func (l Levels) Of(s *Spec) int {
	if n, ok := l.Set[s.Name]; ok {
		return n
	}
	if n, ok := l.Set[string(s.Group)]; ok {
		return n
	}
	if s.Group == GroupDestructive {
		return max(l.Min, DefaultDestructiveLevel)
	}
	return l.Min
}

// Lowest returns the lowest level any command needs: a member below it
// may run nothing at all.
func (l Levels) Lowest() int {
	lowest := l.Min
	for _, s := range specs {
		lowest = min(lowest, l.Of(s))
	}
	return lowest
}

// Cancel returns the level that cancelling a preview of s needs (❌):
// Min, or the command's own level when that is lower. Cancelling runs
// nothing, so every moderator may stop an action, whoever may run it.
func (l Levels) Cancel(s *Spec) int {
	if s == nil {
		return l.Min
	}
	return min(l.Min, l.Of(s))
}

// LevelNames returns the names commands.power_levels may give a level:
// the groups, then every command.
func LevelNames() []string {
	var names []string
	for _, g := range Groups() {
		names = append(names, string(g))
	}
	for _, s := range specs {
		names = append(names, s.Name)
	}
	return names
}
