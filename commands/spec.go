// Package commands is the moderators' command language. Each command is
// declared once, in declared.go: its type (what it carries once parsed),
// its name, syntax, help, its arguments as clients offer them
// (describe.go), parser, whether it is read-only and whether it needs
// confirmation. The
// handler that runs it lives in package moderation, which looks it up by
// the command's type; a test there checks that every command has one.
//
// Parsing only checks form: ids are validated, links are unwrapped, room
// aliases are left for the moderation handlers to resolve. Every problem
// is a *UsageError that says what was wrong and how the command is used.
//
// It may import internal/mxid and mautrix; nothing of
// Gavel's above it.
package commands

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// Command is a parsed command: a value of one of the types declared in
// declared.go.
type Command any

// Spec describes one command.
type Spec struct {
	// Name is the command as typed without prefix: "report delete".
	Name string
	// Usage is the command with its arguments: "report delete <id>".
	Usage string
	// Summary is one line for the command list.
	Summary string
	// Details is the longer help of "help <command>".
	Details string
	// ReadOnly commands change nothing: they are not actions for the log.
	ReadOnly bool
	// Confirm commands first reply with a preview of what they would do,
	// and run when a moderator confirms it; their type has a Yes field
	// (--yes) that skips the preview.
	Confirm bool
	// Default marks the subcommand that runs when its parent is given
	// arguments that name no subcommand: "report 12" is "report show 12".
	Default bool
	// Args are the command's arguments as clients offer them (see
	// Description); structured input is turned into the text form's
	// words from them. A test checks them against Usage and the parser.
	Args []Arg

	typ   reflect.Type
	parse func(args []string) (Command, error)
}

// Type is the Go type of the command's parsed value.
func (s *Spec) Type() reflect.Type { return s.typ }

// Parse parses the command's arguments (the words after its name).
func (s *Spec) Parse(args []string) (Command, error) { return s.parse(args) }

// specs are the declared commands, in the order help shows them.
var (
	specs  []*Spec
	byType = map[reflect.Type]*Spec{}
)

// declare adds the command whose parsed value is a C.
func declare[C any](s Spec, parse func(args []string) (C, error)) *Spec {
	s.typ = reflect.TypeFor[C]()
	s.parse = func(args []string) (Command, error) {
		cmd, err := parse(args)
		if err != nil {
			return nil, err
		}
		return cmd, nil
	}
	if f, ok := s.typ.FieldByName("Report"); ok && f.Type == reflect.TypeFor[ReportRef]() && !s.ReadOnly {
		// Actions can name the report they are for, anywhere after
		// their arguments: --report 12.
		s.Usage += " [--report <id>]"
		s.Args = append(s.Args, Arg{Key: "report", Kind: ArgReport, Named: true, Optional: true, Doc: "the report this is for: 12, u12 or r12"})
		s.parse = func(args []string) (Command, error) {
			args, report, err := reportOption(args)
			if err != nil {
				return nil, err
			}
			cmd, err := parse(args)
			if err != nil {
				return nil, err
			}
			reflect.ValueOf(&cmd).Elem().FieldByName("Report").Set(reflect.ValueOf(report))
			return cmd, nil
		}
	}
	if yes, ok := s.typ.FieldByName("Yes"); s.Confirm && (!ok || yes.Type.Kind() != reflect.Bool) {
		panic("commands: " + s.Name + " needs confirmation but has no Yes field")
	}
	if byType[s.typ] != nil {
		panic("commands: two declarations of " + s.typ.String())
	}
	specs = append(specs, &s)
	byType[s.typ] = &s
	return &s
}

// All returns every command, in the order help shows them.
func All() []*Spec { return specs }

// SpecOf returns the declaration of a parsed command, or nil.
func SpecOf(cmd Command) *Spec { return byType[reflect.TypeOf(cmd)] }

// ByName returns the declaration of the command named name ("report
// delete"), or nil.
func ByName(name string) *Spec {
	for _, s := range specs {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Decode turns a command's parsed arguments stored as JSON (json.Marshal
// of the command's value) back into the command.
func (s *Spec) Decode(raw json.RawMessage) (Command, error) {
	v := reflect.New(s.Type())
	if err := json.Unmarshal(raw, v.Interface()); err != nil {
		return nil, fmt.Errorf("the stored arguments of %s: %w", s.Name, err)
	}
	return v.Elem().Interface(), nil
}

// SetConfirmed returns a copy of cmd that skips its preview (--yes): the
// inverse of Confirmed. A command without a Yes field comes back as it is.
func SetConfirmed(cmd Command) Command {
	v := reflect.ValueOf(cmd)
	if v.Kind() != reflect.Struct {
		return cmd
	}
	c := reflect.New(v.Type()).Elem()
	c.Set(v)
	if yes := c.FieldByName("Yes"); yes.IsValid() && yes.Kind() == reflect.Bool {
		yes.SetBool(true)
	}
	return c.Interface()
}

// Confirmed reports whether a parsed command skips its preview (--yes),
// or needs none.
func Confirmed(cmd Command) bool {
	s := SpecOf(cmd)
	if s == nil || !s.Confirm {
		return true
	}
	return reflect.ValueOf(cmd).FieldByName("Yes").Bool()
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
