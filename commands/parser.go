package commands

import (
	"context"
	"reflect"
	"runtime/debug"
	"strings"

	"github.com/rs/zerolog"

	"maunium.net/go/mautrix"
	mcmd "maunium.net/go/mautrix/commands"
	"maunium.net/go/mautrix/event"

	"github.com/gavel-bot/gavel/internal/mxid"
)

// Parser turns chat messages into commands. mautrix's command processor
// reads the message for it (plain or HTML, with mention pills turned into
// ids), skips notices and edits, and checks the prefix; the commands and
// subcommands are looked up in the declarations here. The processor never
// runs a handler, so it never answers or reacts on its own: every reply
// goes through Gavel's outbox.
type Parser struct {
	prefix string
	proc   *mcmd.Processor[struct{}]
}

// NewParser returns a parser for commands that start with prefix. cli is
// the bot's client: mautrix reads its user id to accept structured
// (MSC4391) commands addressed to the bot.
func NewParser(cli *mautrix.Client, prefix string) *Parser {
	proc := mcmd.NewProcessor[struct{}](cli)
	// mautrix lowercases the command word, prefix included, before this
	// check: "G!help" arrives as "g!help".
	proc.PreValidator = mcmd.ValidatePrefixSubstring[struct{}](strings.ToLower(prefix))
	return &Parser{prefix: prefix, proc: proc}
}

// Parse reads a message event. It returns isCommand false when the message
// is not a command at all (no prefix, a notice, an edit); otherwise either
// the command or a *UsageError. A parser that panics (a bug) answers with
// a usage error instead of taking the rest of the sync down with it.
func (p *Parser) Parse(ctx context.Context, evt *event.Event) (cmd Command, isCommand bool, err error) {
	return p.ParseAbout(ctx, evt, ReportRef{})
}

// ParseAbout is Parse for a message about report reportID (typed in its
// card's thread): a report command given no id is about that report, and
// an action given no --report is taken for it.
func (p *Parser) ParseAbout(ctx context.Context, evt *event.Event, about ReportRef) (cmd Command, isCommand bool, err error) {
	cmd, _, isCommand, err = p.ParseText(ctx, evt, about)
	return cmd, isCommand, err
}

// ParseText is ParseAbout that also returns the command's text (see Text),
// reading the message once.
func (p *Parser) ParseText(ctx context.Context, evt *event.Event, about ReportRef) (cmd Command, text string, isCommand bool, err error) {
	if evt.Type != event.EventMessage {
		return nil, "", false, nil
	}
	ce := p.proc.ParseEvent(ctx, evt)
	if ce == nil {
		return nil, "", false, nil
	}
	text = strings.TrimSpace(evt.Content.AsMessage().Body)
	defer func() {
		if r := recover(); r != nil {
			zerolog.Ctx(ctx).Error().Any("panic", r).Bytes("stack", debug.Stack()).Stringer("event_id", evt.ID).Msg("Parsing a command panicked")
			cmd, isCommand, err = nil, true, &UsageError{Problem: "Gavel could not read this command: its parser failed (the log has the details)"}
		}
	}()
	if structured := evt.Content.AsMessage().MSC4391BotCommand; structured != nil {
		// mautrix passed a structured (MSC4391) command only because it
		// mentions the bot alone. It names a declared command exactly,
		// or it is not one of Gavel's.
		s, words, err := p.structured(structured)
		switch {
		case s != nil && err != nil:
			return nil, text, true, &UsageError{Command: s.Name, Problem: err.Error(), Usage: s.Usage}
		case s != nil:
			text = p.textOf(s, words)
			cmd, err = parseWith(s, words, about)
			return cmd, text, true, err
		case err != nil:
			return nil, text, true, err
		}
		return nil, "", false, nil
	}
	if !p.proc.PreValidator.Validate(ce) {
		return nil, "", false, nil
	}
	cmd, err = p.find(ce.Command, ce.Args, about)
	return cmd, text, true, err
}

// textOf is the text form of structured command s with words.
func (p *Parser) textOf(s *Spec, words []string) string {
	return strings.TrimSpace(p.prefix + s.Name + " " + strings.Join(words, " "))
}

// structured finds the declared command a structured command names, and
// turns its arguments into the words of its text form. It returns a nil
// spec, and an error for a command group named without its subcommand,
// when the name is not a command's.
func (p *Parser) structured(in *event.MSC4391BotCommandInput) (*Spec, []string, error) {
	name := strings.ToLower(strings.Join(strings.Fields(in.Command), " "))
	for _, s := range specs {
		if s.Name == name {
			words, err := s.structuredWords(in.Arguments)
			return s, words, err
		}
	}
	if !strings.Contains(name, " ") && len(Lookup(name)) > 0 {
		return nil, nil, p.missingSubcommand(name, nil)
	}
	return nil, nil, nil
}

// Text returns the command a message holds as text, for the action log:
// the body of a typed command, the text form of a structured one (its body
// is whatever the client chose to show).
func (p *Parser) Text(ctx context.Context, evt *event.Event) string {
	body := strings.TrimSpace(evt.Content.AsMessage().Body)
	structured := evt.Content.AsMessage().MSC4391BotCommand
	if structured == nil || p.proc.ParseEvent(ctx, evt) == nil {
		return body
	}
	s, words, err := p.structured(structured)
	if s == nil || err != nil {
		return body
	}
	return p.textOf(s, words)
}

// find looks up the command name (and a subcommand among args) and parses
// the rest of args, about reportID when it is not 0 (see ParseAbout).
func (p *Parser) find(name string, args []string, about ReportRef) (Command, error) {
	var sub *Spec
	var fallback *Spec
	hasSubs := false
	for _, s := range specs {
		if s.Name == name {
			return parseWith(s, args, about)
		}
		parent, subName, ok := strings.Cut(s.Name, " ")
		if !ok || parent != name {
			continue
		}
		hasSubs = true
		if len(args) > 0 && strings.ToLower(args[0]) == subName {
			sub = s
		}
		if s.Default {
			fallback = s
		}
	}
	switch {
	case sub != nil:
		return parseWith(sub, args[1:], about)
	case hasSubs && fallback != nil && len(args) > 0:
		return parseWith(fallback, args, about)
	case hasSubs && fallback != nil && !about.IsZero() && fallback.takesReportID():
		return parseWith(fallback, nil, about) // "!report" in a card's thread
	case hasSubs:
		return nil, p.missingSubcommand(name, args)
	}
	return nil, &UsageError{Problem: "unknown command " + mxid.Clip(p.prefix+name) + ": " + p.prefix + "help lists the commands"}
}

func parseWith(s *Spec, args []string, about ReportRef) (Command, error) {
	if !about.IsZero() && s.takesReportID() {
		if len(args) == 0 || !isReportID(args[0]) {
			args = append([]string{about.String()}, args...)
		}
	}
	cmd, err := s.parse(args)
	if err != nil {
		return nil, &UsageError{Command: s.Name, Problem: err.Error(), Usage: s.Usage}
	}
	if a := s.role(RoleReport); a != nil && !about.IsZero() {
		// cmd holds a copy of the struct: set the field on a new one.
		v := reflect.New(s.typ).Elem()
		v.Set(reflect.ValueOf(cmd))
		if f := v.Field(a.fields[0]); f.Interface().(ReportRef).IsZero() {
			f.Set(reflect.ValueOf(about))
			cmd = v.Interface()
		}
	}
	return cmd, nil
}

// takesReportID reports whether s is about a report given by its id first
// (a case command): in a card's thread, the card's report when none is
// typed.
func (s *Spec) takesReportID() bool {
	positional := s.positional()
	return len(positional) > 0 && positional[0].Kind == ArgReport
}

// isReportID reports whether arg is a report id, as typed: 12, #12, u12
// or r12.
func isReportID(arg string) bool {
	_, err := mxid.ParseReportRef(arg)
	return err == nil
}

// missingSubcommand answers "quarantine" or "quarantine something" with
// the subcommands there are.
func (p *Parser) missingSubcommand(parent string, args []string) error {
	var usages []string
	for _, s := range Lookup(parent) {
		usages = append(usages, p.prefix+s.Usage)
	}
	problem := p.prefix + parent + " needs one of: " + strings.Join(usages, "; ")
	if len(args) > 0 {
		problem = "unknown " + parent + " command " + mxid.Clip(strings.ToValidUTF8(args[0], "\uFFFD")) + "; " + problem
	}
	return &UsageError{Command: parent, Problem: problem}
}
