package commands

// Command descriptions for clients (MSC4391): each declared command is
// published as an org.matrix.msc4391.command_description state event, so
// that clients can offer it with typed arguments and send it back as
// structured input. The descriptions come from the declarations' Args;
// structured input is turned back into the words of the text form and
// parsed by the same parser, so both forms are validated alike.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/event/cmdschema"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/mxid"
)

// schema is the argument's type for clients.
func (a *Arg) schema() *cmdschema.ParameterSchema {
	switch a.Kind {
	case ArgUser:
		return cmdschema.PrimitiveTypeUserID.Schema()
	case ArgRoom:
		return cmdschema.Union(cmdschema.PrimitiveTypeRoomID.Schema(), cmdschema.PrimitiveTypeRoomAlias.Schema())
	case ArgEvent:
		return cmdschema.PrimitiveTypeEventID.Schema()
	case ArgNumber:
		return cmdschema.PrimitiveTypeInteger.Schema()
	case ArgSwitch:
		return cmdschema.PrimitiveTypeBoolean.Schema()
	case ArgChoice:
		values := make([]any, len(a.Choices))
		for i, c := range a.Choices {
			values[i] = c
		}
		return cmdschema.Enum(values...)
	default:
		return cmdschema.PrimitiveTypeString.Schema()
	}
}

// DescriptionType is the state event type of command descriptions.
var DescriptionType = event.StateMSC4391BotCommand

// Description is the command's description for clients.
func (s *Spec) Description() *cmdschema.EventContent {
	d := &cmdschema.EventContent{Command: s.Name, Description: event.MakeExtensibleText(s.Summary)}
	for i := range s.Args {
		a := &s.Args[i]
		p := &cmdschema.Parameter{Key: a.Key, Schema: a.schema(), Optional: a.Optional}
		if a.Doc != "" {
			p.Description = event.MakeExtensibleText(a.Doc)
		}
		d.Parameters = append(d.Parameters, p)
	}
	// An optional last positional argument is the tail: a reason, help's
	// command, audit's user.
	if positional := s.positional(); len(positional) > 0 && positional[len(positional)-1].Optional {
		d.TailParam = positional[len(positional)-1].Key
	}
	return d
}

// Publication is what to change in a room's command descriptions: the
// state keys to set, and those to empty (descriptions of commands that are
// gone; an empty content removes one).
type Publication struct {
	Set    map[string]*cmdschema.EventContent
	Remove []string
}

// Plan compares the descriptions in a room (its state events of
// DescriptionType, by state key) with the declared commands, for the bot
// bot: the descriptions missing or different are to be set, and the bot's
// own non-empty ones that no command has any more are to be removed.
// Descriptions that other accounts sent under other keys are left alone.
// With offers, only the commands it keeps are described (a community
// desk's room describes what that desk runs).
func Plan(bot id.UserID, current map[string]*event.Event, offers ...func(*Spec) bool) Publication {
	p := Publication{Set: map[string]*cmdschema.EventContent{}}
	want := map[string]bool{}
	for _, s := range specs {
		if len(offers) > 0 && !offers[0](s) {
			continue
		}
		d := s.Description()
		key := d.StateKey(bot)
		want[key] = true
		if evt := current[key]; evt != nil && evt.Sender == bot && sameDescription(evt, d) {
			continue
		}
		p.Set[key] = d
	}
	for _, key := range slices.Sorted(maps.Keys(current)) {
		evt := current[key]
		if !want[key] && evt != nil && evt.Sender == bot && !isEmpty(evt) {
			p.Remove = append(p.Remove, key)
		}
	}
	return p
}

// sameDescription reports whether evt already holds d. It compares the
// JSON, which unlike cmdschema's Equals also tells an enum's values apart.
func sameDescription(evt *event.Event, d *cmdschema.EventContent) bool {
	var have cmdschema.EventContent
	if json.Unmarshal(evt.Content.VeryRaw, &have) != nil {
		return false
	}
	a, errA := json.Marshal(&have)
	b, errB := json.Marshal(d)
	return errA == nil && errB == nil && bytes.Equal(a, b)
}

// isEmpty reports whether evt's content is empty: a removed description.
func isEmpty(evt *event.Event) bool {
	var m map[string]any
	return json.Unmarshal(evt.Content.VeryRaw, &m) != nil || len(m) == 0
}

// structuredWords turns a structured command's arguments into the words of
// its text form, in the order of s.Args: a positional argument's value,
// --key value for a named one, --key for a switch that is on. Ids are not
// checked here: the command's parser checks them
// as it checks typed ones.
func (s *Spec) structuredWords(raw json.RawMessage) ([]string, error) {
	args := map[string]any{}
	if len(bytes.TrimSpace(raw)) > 0 && !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&args); err != nil {
			return nil, fmt.Errorf("the structured arguments are not a JSON object: send them as {\"name\": value}")
		}
	}
	known := map[string]bool{}
	for _, a := range s.Args {
		known[a.Key] = true
	}
	for _, key := range slices.Sorted(maps.Keys(args)) {
		if !known[key] {
			return nil, fmt.Errorf("unknown argument %s: %s", mxid.Shown(key), s.argList())
		}
	}
	var words []string
	for i := range s.Args {
		a := &s.Args[i]
		v := args[a.Key]
		if str, ok := v.(string); v == nil || ok && strings.TrimSpace(str) == "" {
			// A report id may be left out in a report card's thread: the
			// parser fills it in, or says it is missing.
			if !a.Optional && a.Kind != ArgReport {
				return nil, fmt.Errorf("the argument %q is missing", a.Key)
			}
			continue
		}
		if a.Kind == ArgSwitch {
			on, ok := v.(bool)
			if !ok {
				return nil, fmt.Errorf("%q must be true or false", a.Key)
			}
			if on {
				words = append(words, a.intro())
			}
			continue
		}
		word, err := a.word(v)
		if err != nil {
			return nil, err
		}
		for _, w := range strings.Fields(word) {
			if strings.HasPrefix(w, "--") {
				// Typed, this word would be read as an option.
				return nil, fmt.Errorf("%q cannot hold a word starting with --, like %s", a.Key, mxid.Shown(w))
			}
		}
		if a.Named {
			words = append(words, a.intro())
		}
		words = append(words, word)
	}
	// Split as typed text is, so that both forms parse alike.
	return strings.Fields(strings.Join(words, " ")), nil
}

// word is one structured argument's value as typed text.
func (a *Arg) word(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case json.Number:
		if a.Kind == ArgNumber {
			if _, err := v.Int64(); err != nil {
				return "", fmt.Errorf("%q must be a whole number (got %s)", a.Key, mxid.Shown(v.String()))
			}
		}
		return v.String(), nil
	case map[string]any:
		// Clients send rooms and events as {"type": ..., "id": ...}.
		riv, err := cmdschema.NormalizeRoomIDValue(v)
		want := cmdschema.PrimitiveTypeRoomID
		if a.Kind == ArgEvent {
			want = cmdschema.PrimitiveTypeEventID
		}
		if err != nil || (a.Kind != ArgRoom && a.Kind != ArgEvent) || riv.Type != want || riv.URI() == nil {
			break
		}
		return riv.URI().String(), nil
	}
	return "", fmt.Errorf("%q has a value of the wrong type for %s", a.Key, a.kindName())
}

func (a *Arg) kindName() string {
	return [...]string{ArgText: "a text", ArgUser: "a user", ArgRoom: "a room", ArgEvent: "an event", ArgReport: "a report id",
		ArgMedia: "a media item", ArgNumber: "a number", ArgDuration: "a duration", ArgSwitch: "a switch", ArgChoice: "a choice"}[a.Kind]
}

// argList says which arguments s takes.
func (s *Spec) argList() string {
	if len(s.Args) == 0 {
		return s.Name + " takes no arguments"
	}
	keys := make([]string, len(s.Args))
	for i, a := range s.Args {
		keys[i] = a.Key
	}
	return s.Name + " takes " + strings.Join(keys, ", ")
}
