package commands

import (
	"context"
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/event/cmdschema"
	"maunium.net/go/mautrix/id"
)

const botID = id.UserID("@gavel:example.org")

// structured is a structured (MSC4391) command addressed to the bot, as a
// client sends it; args is the JSON of its arguments.
func structured(command, args string) *event.Event {
	evt := message("/" + command)
	content := evt.Content.Parsed.(*event.MessageEventContent)
	content.MSC4391BotCommand = &event.MSC4391BotCommandInput{Command: command, Arguments: json.RawMessage(args)}
	content.Mentions = &event.Mentions{UserIDs: []id.UserID{botID}}
	return evt
}

// TestEveryCommandHasAValidDescription: every declared command has a
// description that cmdschema accepts and that survives JSON, and its
// arguments agree with its usage line.
func TestEveryCommandHasAValidDescription(t *testing.T) {
	flagRe := regexp.MustCompile(`--[a-z-]+`)
	for _, s := range All() {
		d := s.Description()
		require.NoError(t, d.Validate(), s.Name)
		assert.Equal(t, s.Name, d.Command)
		require.NotNil(t, d.Description, s.Name)
		assert.Equal(t, s.Summary, d.Description.Text[0].Body)

		data, err := json.Marshal(d)
		require.NoError(t, err)
		var back cmdschema.EventContent
		require.NoError(t, json.Unmarshal(data, &back))
		assert.True(t, d.Equals(&back), "%s survives JSON: %s", s.Name, data)

		var named, positional []string
		for _, a := range s.Args {
			assert.NotEmpty(t, a.Doc, "%s: %s has a description", s.Name, a.Key)
			if a.Named {
				named = append(named, a.intro())
			} else if !a.Optional {
				positional = append(positional, a.Key)
			}
			assert.Equal(t, a.Kind == ArgChoice, len(a.Choices) > 0, "%s: %s", s.Name, a.Key)
		}
		// Every option in the usage line is a named argument and the
		// other way round; required arguments are the <...> outside [].
		for _, f := range flagRe.FindAllString(s.Usage, -1) {
			assert.Contains(t, named, f, "%s: %s of %q", s.Name, f, s.Usage)
		}
		for _, n := range named {
			assert.Contains(t, s.Usage, n, "%s: its argument %s is in %q", s.Name, n, s.Usage)
		}
		assert.Len(t, positional, requiredInUsage(s.Usage), "%s: required arguments %v against %q", s.Name, positional, s.Usage)
	}
}

// requiredInUsage counts the <...> of a usage line outside [...].
func requiredInUsage(usage string) int {
	n, depth := 0, 0
	for _, r := range usage {
		switch {
		case r == '[':
			depth++
		case r == ']':
			depth--
		case r == '<' && depth == 0:
			n++
		}
	}
	return n
}

// sample is a valid structured value for a.
func sample(a Arg) any {
	switch a.Kind {
	case ArgUser:
		return "@spam:example.org"
	case ArgRoom:
		return map[string]any{"type": "room_id", "id": "!room:example.org", "via": []string{"example.org"}}
	case ArgEvent:
		return map[string]any{"type": "event_id", "id": "!room:example.org", "event_id": "$ev", "via": []string{"example.org"}}
	case ArgReport:
		return "u12"
	case ArgMedia:
		return "mxc://example.org/abcdef"
	case ArgNumber:
		return 5
	case ArgDuration:
		return "6h"
	case ArgSwitch:
		return true
	case ArgChoice:
		return a.Choices[0]
	}
	if a.Key == "state" {
		return "open,resolved"
	}
	if a.Key == "entity" {
		return "@*:spam.example"
	}
	return "spam and more spam"
}

// TestDescriptionsAgreeWithTheParser: for every command, structured input
// with all its arguments, and with only the required ones, parses; and
// its text form (what the action log records and a confirmation parses
// again) parses to the same command.
func TestDescriptionsAgreeWithTheParser(t *testing.T) {
	p := newParser(t, "!")
	ctx := context.Background()
	for _, s := range All() {
		all, required := map[string]any{}, map[string]any{}
		for _, a := range s.Args {
			all[a.Key] = sample(a)
			if !a.Optional {
				required[a.Key] = sample(a)
			}
		}
		for _, args := range []map[string]any{all, required} {
			data, err := json.Marshal(args)
			require.NoError(t, err)
			evt := structured(s.Name, string(data))
			cmd, isCommand, err := p.Parse(ctx, evt)
			require.True(t, isCommand, s.Name)
			require.NoError(t, err, "%s %s", s.Name, data)
			assert.Equal(t, s, SpecOf(cmd), s.Name)

			text := p.Text(ctx, evt)
			assert.True(t, strings.HasPrefix(text, "!"+s.Name), text)
			typed, err := parse(t, p, text)
			require.NoError(t, err, text)
			assert.Equal(t, cmd, typed, "%s: structured %s and typed %q", s.Name, data, text)
		}
	}
}

// TestStructuredMatchesText: a structured command parses to the same
// command as its typed form.
func TestStructuredMatchesText(t *testing.T) {
	p := newParser(t, "!")
	for _, c := range []struct{ command, args, text string }{
		{"help", `{"command": "report delete"}`, "!help report delete"},
		{"reports", `{"kind": "user", "state": "open,claimed", "mine": true, "older-than": "2h", "limit": 7, "sender": "@bob:example.org"}`,
			"!reports --kind user --state open,claimed --mine --older-than 2h --limit 7 --sender @bob:example.org"},
		{"reports", `{"room": "#spam:example.org", "mine": false}`, "!reports --room #spam:example.org"},
		{"report show", `{"id": "12"}`, "!report 12"},
		{"report resolve", `{"id": "u3", "note": "\"not spam\""}`, `!report resolve u3 --note "not spam"`},
		{"kick", `{"user": "https://matrix.to/#/@spam:example.org", "room": {"type": "room_id", "id": "!r:example.org", "via": ["example.org"]}, "reason": "spam, twice"}`,
			"!kick @spam:example.org !r:example.org spam, twice"},
		{"ban", `{"user": "@spam:example.org", "room": "#room:example.org"}`, "!ban @spam:example.org #room:example.org"},
		{"suspend", `{"user": "@spam:example.org", "yes": true, "report": "r4"}`, "!suspend @spam:example.org --yes --report r4"},
		{"deactivate", `{"user": "@spam:example.org", "erase": true}`, "!deactivate @spam:example.org --erase"},
		{"room delete", `{"room": "!r:example.org", "purge": true, "message": "moved: see #new"}`, "!room delete !r:example.org --purge --message moved: see #new"},
		{"redact user", `{"user": "@spam:example.org", "since": "90m", "limit": 20, "room": "!r:example.org"}`,
			"!redact user @spam:example.org --room !r:example.org --since 90m --limit 20"},
		{"redact event", `{"event": {"type": "event_id", "id": "!r:example.org", "event_id": "$abc"}, "reason": "spam"}`,
			"!redact !r:example.org $abc --reason spam"},
		{"audit", `{"user": "@spam:example.org", "by": "@mod:example.org", "since": "7d"}`, "!audit @spam:example.org --by @mod:example.org --since 7d"},
		{"audit", `{"report": "12", "limit": 3}`, "!audit report 12 --limit 3"},
		{"quarantine media", `{"media": "example.org abcdef"}`, "!quarantine media mxc://example.org/abcdef"},
		{"status", ``, "!status"},
	} {
		cmd, isCommand, err := p.Parse(context.Background(), structured(c.command, c.args))
		require.True(t, isCommand, c.command)
		require.NoError(t, err, "%s %s", c.command, c.args)
		want, err := parse(t, p, c.text)
		require.NoError(t, err, c.text)
		assert.Equal(t, want, cmd, "%s %s", c.command, c.args)
	}
}

// TestStructuredErrors: bad structured input is a usage error that says
// what was wrong; an id is checked by the same code as a typed one.
func TestStructuredErrors(t *testing.T) {
	p := newParser(t, "!")
	ctx := context.Background()
	for _, c := range []struct{ command, args, want string }{
		{"suspend", `{"user": "@spam:example.org", "force": true}`, `unknown argument "force": suspend takes user, yes, report`},
		{"suspend", `{"yes": true}`, `the argument "user" is missing`},
		{"suspend", `{"user": "@spam:example.org", "yes": "yes"}`, `"yes" must be true or false`},
		{"reports", `{"limit": 2.5}`, `"limit" must be a whole number (got "2.5")`},
		{"reports", `{"limit": 500}`, "--limit must be a number from 1 to 50"},
		{"reports", `{"kind": "bogus"}`, "--kind must be event, user, room or all"},
		{"kick", `{"user": true, "room": "!r:example.org"}`, `"user" has a value of the wrong type for a user`},
		{"kick", `{"user": 12, "room": "!r:example.org"}`, `"12" is not a user id`},
		{"kick", `{"user": "@spam:example.org", "room": {"type": "event_id", "id": "!r:example.org", "event_id": "$e"}}`, `"room" has a value of the wrong type for a room`},
		{"room delete", `{"room": "!r:example.org", "message": "bye --yes"}`, `"message" cannot hold a word starting with --, like "--yes"`},
		{"kick", `[1, 2]`, "the structured arguments are not a JSON object"},
		{"report delete", `{}`, "give exactly one report id"},
	} {
		_, isCommand, err := p.Parse(ctx, structured(c.command, c.args))
		require.True(t, isCommand, c.command)
		var usage *UsageError
		require.ErrorAs(t, err, &usage, "%s %s", c.command, c.args)
		assert.Contains(t, err.Error(), c.want, "%s %s", c.command, c.args)
		assert.Equal(t, c.command, usage.Command)
		assert.NotEmpty(t, usage.Usage, "the error shows the usage")
	}
	// Ids go through the text form's checks, word for word.
	for command, typed := range map[string]string{
		`{"user": "@spam:example.org", "room": "!r:example.org", "reason": "x"}`: "", // valid: compared below
		`{"user": "@bad user:example.org", "room": "!r:example.org"}`:            "!kick @bad user:example.org !r:example.org",
		`{"user": "@spam:example.org", "room": "#nope"}`:                         "!kick @spam:example.org #nope",
		`{"user": "@spam\u202e:example.org", "room": "!r:example.org"}`:          "!kick @spam\u202e:example.org !r:example.org",
	} {
		_, _, err := p.Parse(ctx, structured("kick", command))
		if typed == "" {
			assert.NoError(t, err)
			continue
		}
		_, typedErr := parse(t, p, typed)
		require.Error(t, typedErr, typed)
		require.Error(t, err, command)
		assert.Equal(t, typedErr.Error(), err.Error(), command)
	}
}

// TestStructuredInACardsThread: a structured report command without an id
// in a card's thread is about that card's report, as a typed one is.
func TestStructuredInACardsThread(t *testing.T) {
	p := newParser(t, "!")
	cmd, isCommand, err := p.ParseAbout(context.Background(), structured("report claim", `{}`), ev(12))
	require.True(t, isCommand)
	require.NoError(t, err)
	assert.Equal(t, ClaimReport{ID: ev(12)}, cmd)
	cmd, _, err = p.ParseAbout(context.Background(), structured("lock", `{"user": "@spam:example.org"}`), ev(12))
	require.NoError(t, err)
	assert.Equal(t, Lock{User: "@spam:example.org", Report: ev(12)}, cmd)
}

// descriptionEvent is a description state event as the room holds it.
func descriptionEvent(t *testing.T, sender id.UserID, content any) *event.Event {
	data, err := json.Marshal(content)
	require.NoError(t, err)
	evt := &event.Event{Type: DescriptionType, Sender: sender}
	require.NoError(t, json.Unmarshal(data, &evt.Content))
	return evt
}

// TestPlan: only what differs is sent; the bot's own descriptions of
// commands that are gone are emptied; other accounts' are left alone.
func TestPlan(t *testing.T) {
	first := Plan(botID, nil)
	assert.Len(t, first.Set, len(All()), "a room without descriptions gets them all")
	assert.Empty(t, first.Remove)

	current := map[string]*event.Event{}
	for key, d := range first.Set {
		current[key] = descriptionEvent(t, botID, d)
	}
	// A community desk's room describes only what the desk runs; the
	// descriptions of the others, sent before, are emptied.
	reads := Plan(botID, current, func(s *Spec) bool { return s.Group == GroupRead })
	assert.Empty(t, reads.Set)
	assert.Len(t, reads.Remove, len(All())-len(inGroup(GroupRead)))

	again := Plan(botID, current)
	assert.Empty(t, again.Set, "nothing is sent again at the next start")
	assert.Empty(t, again.Remove)

	status := All()[slices.IndexFunc(All(), func(s *Spec) bool { return s.Name == "status" })].Description()
	kick := All()[slices.IndexFunc(All(), func(s *Spec) bool { return s.Name == "kick" })].Description()
	changed := *kick
	changed.Parameters = kick.Parameters[:1]
	current[kick.StateKey(botID)] = descriptionEvent(t, botID, &changed)
	current[status.StateKey(botID)] = descriptionEvent(t, "@someone:example.org", status)
	gone := (&cmdschema.EventContent{Command: "frobnicate"}).StateKey(botID)
	current[gone] = descriptionEvent(t, botID, &cmdschema.EventContent{Command: "frobnicate"})
	removed := (&cmdschema.EventContent{Command: "old"}).StateKey(botID)
	current[removed] = descriptionEvent(t, botID, struct{}{})
	other := (&cmdschema.EventContent{Command: "ping"}).StateKey("@otherbot:example.org")
	current[other] = descriptionEvent(t, "@otherbot:example.org", &cmdschema.EventContent{Command: "ping"})

	plan := Plan(botID, current)
	assert.ElementsMatch(t, []string{kick.StateKey(botID), status.StateKey(botID)}, slices.Collect(maps.Keys(plan.Set)),
		"a changed description and one someone else sent are sent again")
	assert.True(t, kick.Equals(plan.Set[kick.StateKey(botID)]))
	assert.Equal(t, []string{gone}, plan.Remove, "only the bot's stale, non-empty descriptions are removed")
}

// inGroup returns the commands of group g.
func inGroup(g Group) []*Spec {
	var out []*Spec
	for _, s := range All() {
		if s.Group == g {
			out = append(out, s)
		}
	}
	return out
}
