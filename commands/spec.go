// Package commands is the moderators' command language. Each command is
// one declaration, in declared.go: a struct type (what it carries once
// parsed) and a call to declare with its name, help, permission group,
// help section, and its arguments, each tied to a field of the struct
// (pos, opt, forReport, ...). The arguments say how the command is typed,
// what each argument means to Gavel (Role: the report it is for, the --yes
// that skips a preview, the --yes that acts on an admin too, the reason
// logged) and their defaults (set on the prototype). From that one
// declaration come the usage line, !help, the MSC4391 description
// (describe.go), docs/commands.md (cmd/gavel-docs) and the parser: one
// generic parser (read.go) reads every command. The handler that runs it
// lives in package moderation, which looks it up by the command's type; a
// test there checks that every command has one.
//
// Parsing only checks form: ids are validated, links are unwrapped, room
// aliases are left for the moderation handlers to resolve. Every problem
// is a *UsageError that says what was wrong and how the command is used.
//
// A command's group decides the power level it needs in the management
// room unless commands.power_levels names the command (Levels, in
// levels.go: the one place that decides it).
//
// Of Gavel's packages it may import: internal/mxid.
package commands

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// Command is a parsed command: a value of one of the types declared in
// declared.go.
type Command any

// Group is what a command may do, for permissions.
type Group string

// Groups.
const (
	GroupRead        Group = "read"        // shows something, changes nothing
	GroupCases       Group = "cases"       // changes a report's case
	GroupRoom        Group = "room"        // acts in one room
	GroupServer      Group = "server"      // acts on the server: accounts, rooms, media
	GroupDestructive Group = "destructive" // cannot be undone
)

// Section is where !help and docs/commands.md list a command.
type Section string

// Sections, in the order help shows them.
const (
	SectionReports  Section = "Reports and cases"
	SectionAccounts Section = "Accounts"
	SectionRooms    Section = "Rooms"
	SectionMedia    Section = "Media"
	SectionPolicy   Section = "Policy lists"
	SectionGavel    Section = "Gavel"
)

// Sections returns the help sections in order.
func Sections() []Section {
	return []Section{SectionReports, SectionAccounts, SectionRooms, SectionMedia, SectionPolicy, SectionGavel}
}

// InSection returns the commands of section, in the order help shows them.
func InSection(section Section) []*Spec {
	var out []*Spec
	for _, s := range specs {
		if s.Section == section {
			out = append(out, s)
		}
	}
	return out
}

// Spec describes one command.
type Spec struct {
	// Name is the command as typed without prefix: "report delete".
	Name string
	// Summary is one line for the command list.
	Summary string
	// Details is the longer help of "help <command>".
	Details string
	Group   Group
	Section Section
	// Default marks the subcommand that runs when its parent is given
	// arguments that name no subcommand: "report 12" is "report show 12".
	Default bool
	// InScope marks a command outside the read, cases and room groups
	// that a community desk runs all the same, limited to the rooms in
	// its scope (redact user: in those rooms only).
	InScope bool

	// Usage is the command with its arguments: "report delete <id>"
	// (made from Args).
	Usage string
	// ReadOnly commands change nothing: they are not actions for the log
	// (the read group).
	ReadOnly bool
	// Confirm commands first reply with a preview of what they would do,
	// and run when a moderator confirms it; they have a RoleConfirm
	// switch (--yes) that skips the preview.
	Confirm bool
	// Args are the command's arguments, in the order of the usage line.
	Args []Arg

	typ   reflect.Type
	proto reflect.Value // the parsed value before any argument: defaults
	parse func(args []string) (Command, error)
}

// Type is the Go type of the command's parsed value.
func (s *Spec) Type() reflect.Type { return s.typ }

// Parse parses the command's arguments (the words after its name).
func (s *Spec) Parse(args []string) (Command, error) { return s.parse(args) }

// Decode reads a command of this spec from the JSON of its struct, as
// json.Marshal wrote it: for commands stored to run later. Fields the
// struct does not have are refused, so that a command stored by another
// version does not run as something else.
func (s *Spec) Decode(data json.RawMessage) (Command, error) {
	// From the declared defaults: a field added after the command was
	// stored keeps its default rather than zero.
	v := reflect.New(s.typ)
	v.Elem().Set(s.proto)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v.Interface()); err != nil {
		return nil, fmt.Errorf("stored %s command: %w", s.Name, err)
	}
	return v.Elem().Interface(), nil
}

// specs are the declared commands, in the order help shows them.
var (
	specs  []*Spec
	byType = map[reflect.Type]*Spec{}
)

// declare adds the command whose parsed value is a C. args gets a
// prototype C, sets its defaults, and returns the arguments, each tied to
// one of its fields.
func declare[C any](s Spec, args func(c *C) []Arg) *Spec {
	s.typ = reflect.TypeFor[C]()
	proto := reflect.New(s.typ)
	s.Args = args(proto.Interface().(*C))
	s.proto = proto.Elem()
	tied := map[int]bool{}
	for i := range s.Args {
		a := &s.Args[i]
		a.bind(s.Name, proto)
		for _, f := range a.fields {
			tied[f] = true
		}
		if a.Role == RoleConfirm {
			s.Confirm = true
		}
	}
	for i := range s.typ.NumField() {
		if !tied[i] {
			panic("commands: " + s.Name + ": field " + s.typ.Field(i).Name + " is no argument")
		}
	}
	s.ReadOnly = s.Group == GroupRead
	if s.Group == "" || s.Section == "" || s.Summary == "" {
		panic("commands: " + s.Name + " needs a group, a section and a summary")
	}
	s.Usage = s.usage()
	s.parse = s.read
	if byType[s.typ] != nil {
		panic("commands: two declarations of " + s.typ.String())
	}
	specs = append(specs, &s)
	byType[s.typ] = &s
	return &s
}

// usage is the usage line: the name, the default subcommand's in [], and
// the arguments.
func (s *Spec) usage() string {
	words := []string{s.Name}
	if parent, sub, ok := strings.Cut(s.Name, " "); ok && s.Default {
		words = []string{parent, "[" + sub + "]"}
	}
	for i := range s.Args {
		words = append(words, s.Args[i].Usage())
	}
	return strings.Join(words, " ")
}

// All returns every command, in the order help shows them.
func All() []*Spec { return specs }

// SpecOf returns the declaration of a parsed command, or nil.
func SpecOf(cmd Command) *Spec { return byType[reflect.TypeOf(cmd)] }

// ByName returns the command named name ("report delete"), or nil.
func ByName(name string) *Spec {
	for _, s := range specs {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// role returns s's argument with role r, or nil.
func (s *Spec) role(r Role) *Arg {
	for i := range s.Args {
		if s.Args[i].Role == r {
			return &s.Args[i]
		}
	}
	return nil
}

// Confirmed reports whether a parsed command skips its preview (--yes),
// or needs none.
func Confirmed(cmd Command) bool {
	s := SpecOf(cmd)
	if s == nil || !s.Confirm {
		return true
	}
	return reflect.ValueOf(cmd).Field(s.role(RoleConfirm).fields[0]).Bool()
}

// SetConfirmed returns a copy of cmd that skips its preview, as --yes
// does: the command a moderator confirmed. Other commands are returned as
// they are.
func SetConfirmed(cmd Command) Command {
	s := SpecOf(cmd)
	if s == nil || !s.Confirm {
		return cmd
	}
	v := reflect.New(s.typ).Elem()
	v.Set(reflect.ValueOf(cmd))
	v.Field(s.role(RoleConfirm).fields[0]).SetBool(true)
	return v.Interface()
}

// NameOf returns a parsed command's name, or "unknown".
func NameOf(cmd Command) string {
	if s := SpecOf(cmd); s != nil {
		return s.Name
	}
	return "unknown"
}

// Lookup returns the specs that a help topic names: the command itself, or
// all its subcommands ("quarantine" gives quarantine media, room and user).
func Lookup(topic string) []*Spec {
	topic = strings.Join(strings.Fields(strings.ToLower(topic)), " ")
	var found []*Spec
	for _, s := range specs {
		if s.Name == topic || strings.HasPrefix(s.Name, topic+" ") {
			found = append(found, s)
		}
	}
	return found
}

// Given is one argument a parsed command gives (a value other than its
// default).
type Given struct {
	*Arg
	// Value is the field's value (an event's: its id).
	Value any
	// Text is the value as typed: "!room:server $event" for an event.
	Text string
}

// Given returns the arguments cmd gives, in the order of s.Args.
func (s *Spec) Given(cmd Command) []Given {
	v := reflect.ValueOf(cmd)
	var given []Given
	for i := range s.Args {
		a := &s.Args[i]
		var texts []string
		var value any
		same := true
		for _, f := range a.fields {
			fv := v.Field(f)
			same = same && reflect.DeepEqual(fv.Interface(), s.proto.Field(f).Interface())
			texts = append(texts, a.format(fv))
			value = fv.Interface()
		}
		if !same {
			given = append(given, Given{Arg: a, Value: value, Text: strings.Join(texts, " ")})
		}
	}
	return given
}

// Format spells cmd out as typed, without the prefix: its name and the
// arguments it gives ("suspend @spam:example.org --yes --report 12").
func (s *Spec) Format(cmd Command) string {
	words := []string{s.Name}
	for _, g := range s.Given(cmd) {
		switch {
		case g.Kind == ArgSwitch:
			words = append(words, g.intro())
		case g.Named:
			words = append(words, g.intro(), g.Text)
		default:
			words = append(words, g.Text)
		}
	}
	return strings.Join(words, " ")
}
