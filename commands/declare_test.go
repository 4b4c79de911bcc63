package commands

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGroupsAndSections: each command is in the permission group and help
// section it was declared for; read-only commands are the read group, and
// the destructive ones need confirmation.
func TestGroupsAndSections(t *testing.T) {
	groups := map[Group][]string{
		GroupRead:        {"help", "reports", "report show", "user", "room show", "audit", "status", "desk refresh", "policy check", "policy list", "stats"},
		GroupCases:       {"report claim", "report unclaim", "report resolve", "report dismiss", "report reopen", "report delete", "report escalate"},
		GroupRoom:        {"redact event", "kick", "ban", "unban"},
		GroupServer:      {"suspend", "unsuspend", "lock", "unlock", "shadowban", "unshadowban", "room block", "room unblock", "quarantine media", "unquarantine media", "protect media", "unprotect media", "quarantine room", "quarantine user", "policy ban", "policy unban"},
		GroupDestructive: {"deactivate", "room delete", "redact user"},
	}
	n := 0
	for group, names := range groups {
		for _, name := range names {
			s := ByName(name)
			require.NotNil(t, s, name)
			assert.Equal(t, group, s.Group, name)
			assert.Equal(t, group == GroupRead, s.ReadOnly, name)
			// A policy ban previews a glob only; its group is server.
			assert.Equal(t, group == GroupDestructive || name == "policy ban", s.Confirm, name)
			n++
		}
	}
	assert.Equal(t, len(All()), n, "every command has its group")
	for _, s := range All() {
		assert.Contains(t, Sections(), s.Section, s.Name)
	}
	assert.Nil(t, ByName("frobnicate"))
}

// TestRoles: what --report, --yes and the reason mean is said by the
// declaration, whatever the fields are called.
func TestRoles(t *testing.T) {
	role := func(name string, r Role) string {
		if a := ByName(name).role(r); a != nil {
			return a.Usage()
		}
		return ""
	}
	assert.Equal(t, "[--yes]", role("deactivate", RoleConfirm))
	assert.Equal(t, "", role("deactivate", RoleOverride))
	assert.Equal(t, "[--yes]", role("lock", RoleOverride))
	assert.Equal(t, "", role("lock", RoleConfirm), "--yes of lock acts on an admin; it skips no preview")
	assert.Equal(t, "[--report <id>]", role("kick", RoleReport))
	assert.Equal(t, "[report <id>]", role("audit", RoleReport))
	assert.Equal(t, "[reason]", role("kick", RoleReason))
	assert.Equal(t, `[--note "text"]`, role("report resolve", RoleReason))
	assert.Equal(t, "[--reason text]", role("redact event", RoleReason))
	assert.Equal(t, "", role("room delete", RoleReason), "a room's goodbye message is not the action's reason")

	assert.False(t, Confirmed(Deactivate{User: "@a:example.org"}))
	assert.True(t, Confirmed(Deactivate{User: "@a:example.org", Yes: true}))
	assert.True(t, Confirmed(Lock{User: "@a:example.org"}), "lock needs no confirmation")
	confirmed := SetConfirmed(RedactUser{User: "@a:example.org", Limit: 5})
	assert.Equal(t, RedactUser{User: "@a:example.org", Limit: 5, Yes: true}, confirmed)
	assert.True(t, Confirmed(confirmed))
	assert.Equal(t, Lock{User: "@a:example.org"}, SetConfirmed(Lock{User: "@a:example.org"}), "--yes of lock is not set by a confirmation")
}

// TestDecode: a command stored as JSON of its struct comes back as it was;
// JSON that is not one is refused.
func TestDecode(t *testing.T) {
	p := newParser(t, "!")
	for _, text := range []string{
		"!room delete #spam:example.org --block --message bye --report u3",
		"!redact user @spam:example.org --since 7d --limit 50",
		"!redact https://matrix.to/#/!abc:example.org/$ev?via=example.org --reason spam",
		"!reports --kind user --state open,claimed --older-than 2h",
		"!quarantine media example.org AbC",
	} {
		cmd, err := parse(t, p, text)
		require.NoError(t, err, text)
		data, err := json.Marshal(cmd)
		require.NoError(t, err)
		back, err := SpecOf(cmd).Decode(data)
		require.NoError(t, err, "%s", data)
		assert.Equal(t, cmd, back, text)
	}
	_, err := ByName("room delete").Decode(json.RawMessage(`{"Room": {"ID": "!r:example.org"}, "Nuke": true}`))
	assert.ErrorContains(t, err, `stored room delete command: json: unknown field "Nuke"`)
	_, err = ByName("room delete").Decode(json.RawMessage(`[]`))
	assert.Error(t, err)
}

// TestFormatParsesBack: a command spelt out (the dry run's "Gavel would
// run …") parses to the same command; defaults are left out.
func TestFormatParsesBack(t *testing.T) {
	p := newParser(t, "!")
	for text, want := range map[string]string{
		"!redact user @spam:example.org --yes":                            "redact user @spam:example.org --yes",
		"!redact user @spam:example.org --since 90m --limit 7 --report 3": "redact user @spam:example.org --since 90m --limit 7 --report 3",
		"!suspend @spam:example.org --yes":                                "suspend @spam:example.org --yes",
		"!redact !r:example.org $ev --reason spam":                        "redact event !r:example.org $ev --reason spam",
		"!kick @spam:example.org #lobby:example.org go away":              "kick @spam:example.org #lobby:example.org go away",
		"!audit @spam:example.org report r4 --since 7d":                   "audit @spam:example.org report r4 --since 7d",
		"!reports --kind room --state resolved,dismissed --mine":          "reports --kind room --state resolved,dismissed --mine",
		"!report resolve 12 --note done, and well":                        "report resolve 12 --note done, and well",
		"!status": "status",
	} {
		cmd, err := parse(t, p, text)
		require.NoError(t, err, text)
		assert.Equal(t, want, SpecOf(cmd).Format(cmd), text)
		again, err := parse(t, p, "!"+want)
		require.NoError(t, err, want)
		assert.Equal(t, cmd, again, want)
	}
}

// TestDeclarationsAreChecked: a declaration whose arguments leave a field
// out, or point elsewhere, is refused when Gavel starts.
func TestDeclarationsAreChecked(t *testing.T) {
	type untied struct {
		User  string
		Extra bool
	}
	assert.PanicsWithValue(t, "commands: untied: field Extra is no argument", func() {
		declare(Spec{Name: "untied", Group: GroupRead, Section: SectionGavel, Summary: "x"}, func(c *untied) []Arg {
			return []Arg{pos("user", &c.User, "u")}
		})
	})
	type elsewhere struct{ Since time.Duration }
	var other time.Duration
	assert.PanicsWithValue(t, "commands: elsewhere: argument since points to no field of the command", func() {
		declare(Spec{Name: "elsewhere", Group: GroupRead, Section: SectionGavel, Summary: "x"}, func(c *elsewhere) []Arg {
			return []Arg{opt("since", &other, "s"), opt("since", &c.Since, "s")}
		})
	})
	assert.Len(t, specs, len(byType), "nothing was declared")
}

// TestOneGrammar: every command reads its arguments the same way: options
// anywhere after the name, --key=value, names in any case; a named text
// runs up to the next option.
func TestOneGrammar(t *testing.T) {
	p := newParser(t, "!")
	for body, want := range map[string]Command{
		"!suspend --yes @spam:example.org":                    Suspend{User: "@spam:example.org", EvenIfAdmin: true},
		"!redact user --SINCE=7d @spam:example.org --Yes":     RedactUser{User: "@spam:example.org", Since: 7 * 24 * time.Hour, Limit: DefaultRedactLimit, Yes: true},
		"!room delete !r:example.org --message see --purge":   DeleteRoom{Room: RoomRef{ID: "!r:example.org"}, Message: "see", Purge: true},
		`!ban @spam:example.org !r:example.org "spam, twice"`: Ban{User: "@spam:example.org", Room: RoomRef{ID: "!r:example.org"}, Reason: "spam, twice"},
		"!help --report 12":                                   Help{Topic: "--report 12"},
	} {
		cmd, err := parse(t, p, body)
		require.NoError(t, err, body)
		assert.Equal(t, want, cmd, body)
	}
	for body, want := range map[string]string{
		"!status --verbose":                        `unexpected "--verbose": status takes no arguments`,
		"!suspend @spam:example.org --force":       `unexpected "--force": the only option is --yes`,
		"!reports --mine=yes":                      "--mine takes no value",
		"!deactivate @a:example.org --nuke":        `unexpected "--nuke": options are --erase and --yes`,
		"!redact user @a:example.org --since 400d": `--since must be at most a year, like 90m, 6h or 7d (got "400d")`,
	} {
		_, err := parse(t, p, body)
		assert.ErrorContains(t, err, want, body)
	}
}

// TestStatsWindow: --since, else a week for the figures and a month for
// the chart, at most a year.
func TestStatsWindow(t *testing.T) {
	assert.Equal(t, 7*24*time.Hour, Stats{}.Window())
	assert.Equal(t, 30*24*time.Hour, Stats{Chart: true}.Window())
	assert.Equal(t, 36*time.Hour, Stats{Since: 36 * time.Hour, Chart: true}.Window())
	assert.Equal(t, MaxStatsSince, Stats{Since: 1000 * 24 * time.Hour}.Window())
}
