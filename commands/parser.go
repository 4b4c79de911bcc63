package commands

import (
	"context"
	"strings"

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

// Prefix returns the prefix commands start with.
func (p *Parser) Prefix() string { return p.prefix }

// Parse reads a message event. It returns isCommand false when the message
// is not a command at all (no prefix, a notice, an edit); otherwise either
// the command or a *UsageError.
func (p *Parser) Parse(ctx context.Context, evt *event.Event) (cmd Command, isCommand bool, err error) {
	if evt.Type != event.EventMessage {
		return nil, false, nil
	}
	ce := p.proc.ParseEvent(ctx, evt)
	if ce == nil || (!p.proc.PreValidator.Validate(ce) && ce.StructuredArgs == nil) {
		return nil, false, nil
	}
	cmd, err = p.find(ce.Command, ce.Args)
	return cmd, true, err
}

// find looks up the command name (and a subcommand among args) and parses
// the rest of args.
func (p *Parser) find(name string, args []string) (Command, error) {
	var sub *Spec
	var fallback *Spec
	hasSubs := false
	for _, s := range specs {
		if s.Name == name {
			return parseWith(s, args)
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
		return parseWith(sub, args[1:])
	case hasSubs && fallback != nil && len(args) > 0:
		return parseWith(fallback, args)
	case hasSubs:
		return nil, p.missingSubcommand(name, args)
	}
	return nil, &UsageError{Problem: "unknown command " + mxid.Clip(p.prefix+name) + ": " + p.prefix + "help lists the commands"}
}

func parseWith(s *Spec, args []string) (Command, error) {
	cmd, err := s.parse(args)
	if err != nil {
		return nil, &UsageError{Command: s.Name, Problem: err.Error(), Usage: s.Usage}
	}
	return cmd, nil
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
