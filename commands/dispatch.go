package commands

import (
	"context"
	"strings"

	"maunium.net/go/mautrix"
	mcmd "maunium.net/go/mautrix/commands"
	"maunium.net/go/mautrix/event"
)

// Parser turns chat messages into commands. It uses mautrix's command
// processor for the parts that are not Gavel's own: reading the message
// (plain or HTML, with mention pills turned into ids), skipping notices and
// edits, the prefix, and finding the command, subcommand or the unknown
// command fallback.
type Parser struct {
	prefix string
	proc   *mcmd.Processor[struct{}]
}

type resultKey struct{}

type result struct {
	cmd  Command
	err  error
	done bool
}

// NewParser returns a parser for commands that start with prefix. cli is
// the bot's client; mautrix's processor uses it to react to a message whose
// handling panicked.
func NewParser(cli *mautrix.Client, prefix string) *Parser {
	proc := mcmd.NewProcessor[struct{}](cli)
	// mautrix lowercases the command word, prefix included, before this
	// check: "G!help" arrives as "g!help".
	proc.PreValidator = mcmd.ValidatePrefixSubstring[struct{}](strings.ToLower(prefix))
	p := &Parser{prefix: prefix, proc: proc}

	parents := map[string]*mcmd.Handler[struct{}]{}
	var top []*mcmd.Handler[struct{}]
	for _, s := range Specs {
		parentName, sub, isSub := strings.Cut(s.Name, " ")
		h := &mcmd.Handler[struct{}]{Name: s.Name, Func: handle(s.Name, s.Usage, s.parse)}
		if !isSub {
			top = append(top, h)
			continue
		}
		h.Name = sub
		parent := parents[parentName]
		if parent == nil {
			parent = &mcmd.Handler[struct{}]{Name: parentName, Func: p.missingSubcommand(parentName)}
			parents[parentName] = parent
			top = append(top, parent)
		}
		parent.Subcommands = append(parent.Subcommands, h)
	}
	// "report 12" is "report show 12".
	parents["report"].Func = func(ce *mcmd.Event[struct{}]) {
		if len(ce.Args) == 0 {
			p.missingSubcommand("report")(ce)
			return
		}
		s := spec("report show")
		handle(s.Name, s.Usage, s.parse)(ce)
	}
	top = append(top, &mcmd.Handler[struct{}]{Name: mcmd.UnknownCommandName, Func: func(ce *mcmd.Event[struct{}]) {
		name := strings.Join(append(ce.ParentCommands, ce.Command), " ")
		setResult(ce, nil, &UsageError{Problem: "unknown command " + clip(prefix+name) + ": " + prefix + "help lists the commands"})
	}})
	proc.Unregister(&mcmd.Handler[struct{}]{Name: mcmd.UnknownCommandName}) // mautrix's default, with its own wording
	proc.Register(top...)
	return p
}

// handle parses a command's arguments with parse.
func handle(name, usage string, parse func([]string) (Command, error)) func(*mcmd.Event[struct{}]) {
	return func(ce *mcmd.Event[struct{}]) {
		cmd, err := parse(ce.Args)
		if err != nil {
			cmd, err = nil, &UsageError{Command: name, Problem: err.Error(), Usage: usage}
		}
		setResult(ce, cmd, err)
	}
}

// missingSubcommand answers "quarantine" or "quarantine something" with
// the subcommands there are.
func (p *Parser) missingSubcommand(parent string) func(*mcmd.Event[struct{}]) {
	return func(ce *mcmd.Event[struct{}]) {
		var usages []string
		for _, s := range Lookup(parent) {
			usages = append(usages, p.prefix+s.Usage)
		}
		problem := p.prefix + parent + " needs one of: " + strings.Join(usages, "; ")
		if len(ce.Args) > 0 {
			problem = "unknown " + parent + " command " + clip(strings.ToValidUTF8(ce.Args[0], "\uFFFD")) + "; " + problem
		}
		setResult(ce, nil, &UsageError{Command: parent, Problem: problem})
	}
}

func setResult(ce *mcmd.Event[struct{}], cmd Command, err error) {
	if r, ok := ce.Ctx.Value(resultKey{}).(*result); ok {
		r.cmd, r.err, r.done = cmd, err, true
	}
}

// Parse reads a message event. It returns isCommand false when the message
// is not a command at all (no prefix, a notice, an edit); otherwise either
// the command or a *UsageError.
func (p *Parser) Parse(ctx context.Context, evt *event.Event) (cmd Command, isCommand bool, err error) {
	r := &result{}
	p.proc.Process(context.WithValue(ctx, resultKey{}, r), evt)
	return r.cmd, r.done, r.err
}

// Prefix returns the prefix commands start with.
func (p *Parser) Prefix() string { return p.prefix }
