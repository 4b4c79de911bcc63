package commands

// The one parser of every command's arguments, driven by its declaration.
//
// An action's --report is taken out first, wherever it is. Then the words
// are read in order: a named argument (--key value, --key=value, a switch
// --key, or audit's "report <id>") wherever it appears, the other words as
// the positional arguments; a positional text marked Rest takes every word
// from where it starts. A named text runs up to the next word that starts with --.
// The positional words are counted, then read, then the named values, so
// that a missing argument is said before a malformed one.

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gavel-bot/gavel/internal/mxid"
)

// maxReason is the longest text (reason, note, message) a command takes,
// in characters.
const maxReason = 500

// namedValue is a named argument as typed, read once the positional ones
// are.
type namedValue struct {
	arg   *Arg
	words []string
}

// read parses args for s.
func (s *Spec) read(args []string) (Command, error) {
	v := reflect.New(s.typ).Elem()
	v.Set(s.proto)
	if a := s.role(RoleReport); a != nil && a.Named && a.Word == "" {
		var report ReportRef
		var err error
		if args, report, err = reportOption(args); err != nil {
			return nil, err
		}
		if !report.IsZero() {
			v.Field(a.fields[0]).Set(reflect.ValueOf(report))
		}
	}
	positional := s.positional()
	restFrom := -1 // the positional word where a Rest text starts
	if n := len(positional); n > 0 && positional[n-1].Rest {
		restFrom = n - 1
	}
	var words []string
	var named []namedValue
	for i := 0; i < len(args); i++ {
		w := args[i]
		if restFrom >= 0 && len(words) >= restFrom {
			words = append(words, strings.Join(args[i:], " "))
			break
		}
		a, value, hasValue := s.named(w)
		if a == nil {
			if !strings.HasPrefix(w, "--") {
				words = append(words, w)
				continue
			}
			name, _, hasValue := strings.Cut(w, "=")
			switch {
			case len(positional) > 0 || len(s.options()) == 0:
				return nil, fmt.Errorf("unexpected %s: %s", mxid.Shown(w), s.hint())
			case !hasValue && i+1 >= len(args):
				// A command of options only: every word is an option or
				// its value.
				return nil, fmt.Errorf("%s needs a value", mxid.Clip(name))
			}
			return nil, fmt.Errorf("unknown option %s: %s", mxid.Clip(name), s.hint())
		}
		for _, n := range named {
			if n.arg == a {
				return nil, fmt.Errorf("%s is given twice", a.intro())
			}
		}
		switch {
		case a.Kind == ArgSwitch && hasValue:
			return nil, fmt.Errorf("%s takes no value", a.intro())
		case a.Kind == ArgSwitch:
			named = append(named, namedValue{arg: a})
		case a.Kind == ArgText && a.read == nil:
			// Text runs up to the next word that starts with --.
			var text []string
			if hasValue {
				text = append(text, value)
			}
			for i+1 < len(args) {
				// Any --word ends the text: a mistyped option is refused
				// below, not sent as part of a message.
				if next, _, _ := s.named(args[i+1]); next != nil || strings.HasPrefix(args[i+1], "--") {
					break
				}
				i++
				text = append(text, args[i])
			}
			named = append(named, namedValue{arg: a, words: text})
		default:
			if !hasValue {
				if i+1 >= len(args) {
					return nil, fmt.Errorf("%s needs a value", a.intro())
				}
				i++
				value = args[i]
			}
			named = append(named, namedValue{arg: a, words: []string{value}})
		}
	}
	if err := s.readPositional(v, positional, words); err != nil {
		return nil, err
	}
	for _, n := range named {
		if err := n.arg.set(v, n.words); err != nil {
			return nil, err
		}
	}
	return v.Interface(), nil
}

// named returns the named argument word introduces, and its value when
// written --key=value. Names are matched regardless of case. --report is
// not among them: read takes it out first.
func (s *Spec) named(word string) (a *Arg, value string, hasValue bool) {
	name := word
	if strings.HasPrefix(word, "--") {
		name, value, hasValue = strings.Cut(word, "=")
	}
	for i := range s.Args {
		a := &s.Args[i]
		if a.Named && strings.EqualFold(a.intro(), name) && !(a.Role == RoleReport && a.Word == "") {
			return a, value, hasValue
		}
	}
	return nil, "", false
}

// positional returns s's positional arguments, in order.
func (s *Spec) positional() []*Arg {
	var out []*Arg
	for i := range s.Args {
		if !s.Args[i].Named {
			out = append(out, &s.Args[i])
		}
	}
	return out
}

// readPositional counts the positional words, then reads them into v.
func (s *Spec) readPositional(v reflect.Value, positional []*Arg, words []string) error {
	multiWord, required := false, 0
	for _, a := range positional {
		multiWord = multiWord || a.Kind == ArgMedia || a.Kind == ArgEvent
		if !a.Optional {
			required++
		}
	}
	if !multiWord {
		// Media and events take one or two words: their readers count.
		if len(words) < required {
			return errors.New(s.missing())
		}
		if len(words) > len(positional) {
			return s.extra(words[len(positional)])
		}
	}
	for _, a := range positional {
		switch {
		case a.Kind == ArgMedia:
			m, err := mxid.ParseMedia(words)
			if err != nil {
				return err
			}
			v.Field(a.fields[0]).Set(reflect.ValueOf(m))
			words = nil
		case a.Kind == ArgEvent:
			room, event, left, err := mxid.ParseEvent(words)
			if err != nil {
				return err
			}
			v.Field(a.fields[0]).Set(reflect.ValueOf(room))
			v.Field(a.fields[1]).Set(reflect.ValueOf(event))
			words = left
		case len(words) == 0:
			// an optional argument not given
		default:
			if err := a.set(v, words[:1]); err != nil {
				return err
			}
			words = words[1:]
		}
	}
	if len(words) > 0 {
		return s.extra(words[0])
	}
	return nil
}

// set reads the words of a's value into its field of v.
func (a *Arg) set(v reflect.Value, words []string) error {
	field := v.Field(a.fields[0])
	if a.Kind == ArgSwitch {
		field.SetBool(true)
		return nil
	}
	value := strings.Join(words, " ")
	var x any
	var err error
	switch {
	case a.read != nil:
		x, err = a.read(value)
	case a.Kind == ArgUser:
		x, err = mxid.ParseUser(value)
	case a.Kind == ArgRoom:
		x, err = mxid.ParseRoom(value)
	case a.Kind == ArgReport:
		x, err = mxid.ParseReportRef(value)
	case a.Kind == ArgNumber:
		n, convErr := strconv.Atoi(value)
		if convErr != nil || n < 1 || n > a.Max {
			return fmt.Errorf("%s must be a number from 1 to %d (got %s)", a.intro(), a.Max, mxid.Shown(value))
		}
		x = n
	case a.Kind == ArgDuration:
		d, ok := ParseDuration(value)
		switch {
		case !ok:
			return fmt.Errorf("%s must be a duration like 90m, 6h or 7d (got %s)", a.intro(), mxid.Shown(value))
		case d > maxDuration:
			return fmt.Errorf("%s must be at most a year, like 90m, 6h or 7d (got %s)", a.intro(), mxid.Shown(value))
		}
		x = d
	default:
		x, err = a.text(value)
	}
	if err != nil {
		return err
	}
	field.Set(reflect.ValueOf(x).Convert(field.Type()))
	return nil
}

// maxDuration bounds a duration back from now.
const maxDuration = 366 * 24 * time.Hour

// text reads a text: quotes around it dropped, at most maxReason long.
func (a *Arg) text(value string) (string, error) {
	text := strings.Trim(value, `"“”'`)
	if text == "" && a.Named {
		return "", fmt.Errorf("%s needs a text", a.intro())
	}
	if n := utf8.RuneCountInString(text); n > maxReason {
		return "", fmt.Errorf("the %s is %d characters long; at most %d", a.Key, n, maxReason)
	}
	return text, nil
}

// missing says which positional arguments to give.
func (s *Spec) missing() string {
	var nouns []string
	for _, a := range s.positional() {
		if !a.Optional {
			nouns = append(nouns, a.noun())
		}
	}
	if len(nouns) == 1 {
		return "give exactly one " + nouns[0]
	}
	return "give a " + strings.Join(nouns, " and a ")
}

// count says how many positional arguments s takes.
func (s *Spec) count() string {
	var nouns []string
	for _, a := range s.positional() {
		nouns = append(nouns, a.noun())
	}
	if len(nouns) == 0 {
		return s.Name + " takes no arguments"
	}
	return "give exactly one " + strings.Join(nouns, " and one ")
}

// extra refuses a word beyond the positional arguments: an unexpected
// word when the command takes options with values (a misplaced one?),
// else too many arguments.
func (s *Spec) extra(word string) error {
	for _, a := range s.options() {
		if a.Kind != ArgSwitch {
			return fmt.Errorf("unexpected %s: %s", mxid.Shown(word), s.hint())
		}
	}
	return errors.New(s.count())
}

// options are s's named arguments written --key, but --report.
func (s *Spec) options() []*Arg {
	var out []*Arg
	for i := range s.Args {
		if a := &s.Args[i]; a.Named && a.Word == "" && a.Role != RoleReport {
			out = append(out, a)
		}
	}
	return out
}

// hint says what s takes besides its required arguments.
func (s *Spec) hint() string {
	var alternatives, options []string
	for i := range s.Args {
		switch a := &s.Args[i]; {
		case !a.Named && a.Optional && !a.Rest:
			alternatives = append(alternatives, "one "+a.noun())
		case a.Word != "":
			alternatives = append(alternatives, a.Word+" "+a.Shown)
		}
	}
	for _, a := range s.options() {
		options = append(options, a.intro())
	}
	switch {
	case len(alternatives) > 0 && len(options) > 0:
		return "give " + strings.Join(alternatives, " or ") + ", and " + list(options, "or")
	case len(options) == 1:
		return "the only option is " + options[0]
	case len(options) > 1:
		return "options are " + list(options, "and")
	}
	return s.count()
}

// list joins words: "a, b and c".
func list(words []string, and string) string {
	if len(words) == 1 {
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " " + and + " " + words[len(words)-1]
}

// reportOption takes "--report <id>" (or "--report=<id>") out of args and
// returns the rest and the report, zero when there is none.
func reportOption(args []string) ([]string, ReportRef, error) {
	var rest []string
	var report ReportRef
	for i := 0; i < len(args); i++ {
		name, value, hasValue := strings.Cut(args[i], "=")
		if !strings.EqualFold(name, "--report") {
			rest = append(rest, args[i])
			continue
		}
		if !report.IsZero() {
			return nil, ReportRef{}, fmt.Errorf("--report is given twice")
		}
		if !hasValue {
			if i+1 == len(args) {
				return nil, ReportRef{}, fmt.Errorf("--report needs a report id, like --report 12")
			}
			i++
			value = args[i]
		}
		r, err := mxid.ParseReportRef(value)
		if err != nil {
			return nil, ReportRef{}, fmt.Errorf("--report: %w", err)
		}
		report = r
	}
	return rest, report, nil
}
