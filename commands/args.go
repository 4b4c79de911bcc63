package commands

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"
)

// ArgKind is what an argument holds: it decides how its value is read,
// how the usage line shows it and the type clients offer (describe.go).
type ArgKind int

// Argument kinds.
const (
	ArgText     ArgKind = iota // free text
	ArgUser                    // a user id, or a link to one
	ArgRoom                    // a room id or alias, or a link to one
	ArgEvent                   // an event, as a link to it or its room and id
	ArgReport                  // a report id: 12, u12 or r12
	ArgMedia                   // a media item: mxc://server/media_id or media_id
	ArgNumber                  // a whole number
	ArgDuration                // a duration: 90m, 6h, 7d
	ArgSwitch                  // an option that is on or off: --yes
	ArgChoice                  // one of Choices
)

// Role is what an argument means to Gavel beyond its value. Gavel acts on
// roles, never on a field's name.
type Role int

// Roles.
const (
	RoleNone Role = iota
	// RoleReport is the report a command is for (an action's --report,
	// audit's report <id>): the action is noted on that report's case.
	// In a report card's thread it is that card's report when none is
	// given.
	RoleReport
	// RoleConfirm is the switch (--yes) that skips the preview of a
	// command needing confirmation. A command with one needs
	// confirmation.
	RoleConfirm
	// RoleOverride is the switch (--yes) that lets an account action act
	// on a server admin's account too.
	RoleOverride
	// RoleReason is the text logged as the action's reason.
	RoleReason
)

// Arg is one argument of a command: how it is typed, which field of the
// command's struct it fills, what it means (Role), and how clients offer
// it (describe.go).
type Arg struct {
	// Key names the argument in structured input; a named argument is
	// written --Key in text.
	Key  string
	Kind ArgKind
	// Named arguments are written --key value (a switch: --key) anywhere
	// after the command's name; the others are positional, in the order
	// of Args.
	Named bool
	// Word introduces a named argument in text when it is not --Key:
	// audit's "report <id>".
	Word     string
	Optional bool
	// Rest marks the last positional argument when it is text that takes
	// the rest of the words (a reason).
	Rest    bool
	Choices []string // of an ArgChoice
	Doc     string
	Role    Role
	// Shown is the value as the usage line shows it: "@user:server" in
	// "<@user:server>", "N" in "[--limit N]".
	Shown string
	// Max bounds a number, which starts at 1.
	Max int

	// ptrs are the fields of the declaration's prototype the argument
	// fills (an event fills its room and its id); declare turns them into
	// field indexes.
	ptrs   []any
	fields []int
	// read reads the value when the kind's reading does not fit (a list
	// of states, a lowercased topic).
	read func(value string) (any, error)
}

// intro is the word that introduces a named argument in text.
func (a *Arg) intro() string {
	if a.Word != "" {
		return a.Word
	}
	return "--" + a.Key
}

// Usage is the argument as the usage line shows it: "<@user:server>",
// "[--limit N]", "[--yes]".
func (a *Arg) Usage() string {
	switch {
	case a.Kind == ArgSwitch:
		return "[" + a.intro() + "]"
	case a.Named:
		return "[" + a.intro() + " " + a.Shown + "]"
	case a.Optional:
		return "[" + a.Shown + "]"
	}
	return "<" + a.Shown + ">"
}

// shownDefault is how the usage line shows a value of the argument's kind
// unless the declaration says otherwise.
func (a *Arg) shownDefault() string {
	if !a.Named {
		switch a.Kind {
		case ArgUser:
			return "@user:server"
		case ArgRoom:
			return "!room:server | #alias:server"
		case ArgReport:
			return "id"
		case ArgMedia:
			return "mxc://server/media_id | server media_id | media_id"
		case ArgEvent:
			return "event link | room $event"
		}
		return a.Key
	}
	switch a.Kind {
	case ArgUser:
		return "@user"
	case ArgRoom:
		return "<room>"
	case ArgReport:
		return "<id>"
	case ArgNumber:
		return "N"
	case ArgDuration:
		return "7d"
	case ArgChoice:
		return strings.Join(a.Choices, "|")
	}
	return "text"
}

// noun names what a positional argument holds, for "give exactly one …".
func (a *Arg) noun() string {
	switch a.Kind {
	case ArgUser:
		return "user"
	case ArgRoom:
		return "room"
	case ArgReport:
		return "report id, like 12 or u12"
	}
	return a.Key
}

// Shorthands for declarations. Each ties an argument to a field of the
// declaration's prototype; the field's type gives the kind.

// pos is a required positional argument.
func pos(key string, field any, doc string) Arg { return tie(Arg{Key: key, Doc: doc}, field) }

// optPos is an optional positional argument.
func optPos(key string, field any, doc string) Arg {
	return tie(Arg{Key: key, Optional: true, Doc: doc}, field)
}

// rest is optional text that takes the rest of the words.
func rest(key string, field *string, doc string) Arg {
	return tie(Arg{Key: key, Optional: true, Rest: true, Doc: doc}, field)
}

// opt is an optional --key value, or --key for a bool.
func opt(key string, field any, doc string) Arg {
	return tie(Arg{Key: key, Named: true, Optional: true, Doc: doc}, field)
}

// introduced is an optional named argument introduced by word, not --key.
func introduced(word, key string, field any, doc string) Arg {
	a := opt(key, field, doc)
	a.Word = word
	return a
}

// eventArg is an event, given as a link or as its room and its id: it
// fills two fields.
func eventArg(key string, room *RoomRef, event *id.EventID, doc string) Arg {
	return Arg{Key: key, Kind: ArgEvent, Doc: doc, ptrs: []any{room, event}}
}

// forReport is an action's --report: the report it is for.
func forReport(field *ReportRef) Arg {
	return opt("report", field, "the report this is for: 12, u12 or r12").as(RoleReport)
}

// skipPreview is --yes of a command needing confirmation.
func skipPreview(field *bool, doc string) Arg { return opt("yes", field, doc).as(RoleConfirm) }

// evenIfAdmin is --yes of an account action: act on a server admin too.
func evenIfAdmin(field *bool) Arg {
	return opt("yes", field, "also when the account is a server admin").as(RoleOverride)
}

// as gives the argument a role.
func (a Arg) as(r Role) Arg { a.Role = r; return a }

// shown sets how the usage line shows the value.
func (a Arg) shown(s string) Arg { a.Shown = s; return a }

// upTo bounds a number from 1 to max.
func (a Arg) upTo(max int) Arg { a.Max = max; return a }

// oneOf makes the argument a choice among choices, read by read.
func oneOf[T any](a Arg, read func(string) (T, error), choices ...string) Arg {
	a = readBy(a, read)
	a.Kind, a.Choices = ArgChoice, choices
	return a
}

// readBy reads the argument's value with read.
func readBy[T any](a Arg, read func(string) (T, error)) Arg {
	a.read = func(s string) (any, error) { return read(s) }
	return a
}

// tie ties a to field, a pointer into the declaration's prototype, and
// takes its kind from the field's type.
func tie(a Arg, field any) Arg {
	a.ptrs = []any{field}
	switch field.(type) {
	case *id.UserID:
		a.Kind = ArgUser
	case *RoomRef:
		a.Kind = ArgRoom
	case *ReportRef:
		a.Kind = ArgReport
	case *MediaRef:
		a.Kind = ArgMedia
	case *int:
		a.Kind = ArgNumber
	case *time.Duration:
		a.Kind = ArgDuration
	case *bool:
		a.Kind = ArgSwitch
	default:
		a.Kind = ArgText // a string, or a type read by readBy
	}
	return a
}

// bind resolves a's pointers to the indexes of the fields of proto (a
// pointer to the prototype struct) they point to.
func (a *Arg) bind(name string, proto reflect.Value) {
	for _, p := range a.ptrs {
		addr := reflect.ValueOf(p).Pointer()
		found := -1
		for i := range proto.Elem().NumField() {
			if proto.Elem().Field(i).Addr().Pointer() == addr && proto.Elem().Field(i).Addr().Type() == reflect.TypeOf(p) {
				found = i
			}
		}
		if found < 0 {
			panic("commands: " + name + ": argument " + a.Key + " points to no field of the command")
		}
		a.fields = append(a.fields, found)
	}
	a.ptrs = nil
	if a.Shown == "" {
		a.Shown = a.shownDefault()
	}
	ft := proto.Elem().Field(a.fields[0]).Type()
	if a.Kind == ArgText && a.read == nil && ft.Kind() != reflect.String {
		panic(fmt.Sprintf("commands: %s: argument %s of type %s needs readBy", name, a.Key, ft))
	}
	if a.Kind == ArgNumber && a.Max < 1 {
		panic("commands: " + name + ": number " + a.Key + " needs upTo")
	}
}

// format is the value v of the argument as typed.
func (a *Arg) format(v reflect.Value) string {
	switch x := v.Interface().(type) {
	case time.Duration:
		for _, u := range []struct {
			unit   time.Duration
			suffix string
		}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}} {
			if x%u.unit == 0 {
				return strconv.FormatInt(int64(x/u.unit), 10) + u.suffix
			}
		}
		return x.String()
	case int:
		return strconv.Itoa(x)
	}
	if v.Kind() == reflect.Slice {
		words := make([]string, v.Len())
		for i := range words {
			words[i] = fmt.Sprint(v.Index(i).Interface())
		}
		return strings.Join(words, ",")
	}
	return fmt.Sprint(v.Interface())
}
