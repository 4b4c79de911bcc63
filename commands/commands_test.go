package commands

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/mxid"
)

func newParser(t *testing.T, prefix string) *Parser {
	cli, err := mautrix.NewClient("https://matrix.example.org", "@gavel:example.org", "")
	require.NoError(t, err)
	return NewParser(cli, prefix)
}

func message(body string) *event.Event {
	return &event.Event{
		Type: event.EventMessage, ID: "$cmd", Sender: "@mod:example.org", RoomID: "!mods:example.org",
		Content: event.Content{Parsed: &event.MessageEventContent{MsgType: event.MsgText, Body: body}},
	}
}

func parse(t *testing.T, p *Parser, body string) (Command, error) {
	t.Helper()
	cmd, isCommand, err := p.Parse(context.Background(), message(body))
	require.True(t, isCommand, "%q is a command", body)
	return cmd, err
}

func TestParseEveryCommand(t *testing.T) {
	p := newParser(t, "!")
	for body, want := range map[string]Command{
		"!help":               Help{},
		"!help quarantine":    Help{Topic: "quarantine"},
		"!HELP Report Delete": Help{Topic: "report delete"},
		"!reports":            ListReports{Limit: DefaultReportsLimit},
		"!reports --limit 5":  ListReports{Limit: 5},
		"!reports --state resolved,Dismissed --mine --older-than 2h": ListReports{Limit: DefaultReportsLimit, States: []string{"resolved", "dismissed"}, Mine: true, OlderThan: 2 * time.Hour},
		"!reports --state=all": ListReports{Limit: DefaultReportsLimit, States: []string{"open", "claimed", "resolved", "dismissed", "deleted"}},
		"!reports --limit=50":  ListReports{Limit: 50},
		"!reports --user @alice:example.org --sender @bob:example.org --room !r:example.org": ListReports{
			Reporter: "@alice:example.org", Sender: "@bob:example.org", Room: RoomRef{ID: "!r:example.org"}, Limit: DefaultReportsLimit},
		"!reports --room #spam:example.org":                            ListReports{Room: RoomRef{Alias: "#spam:example.org"}, Limit: DefaultReportsLimit},
		"!reports --sender https://matrix.to/#/@bob:example.org":       ListReports{Sender: "@bob:example.org", Limit: DefaultReportsLimit},
		"!reports --room https://matrix.to/#/%21r%3Aexample.org?via=x": ListReports{Room: RoomRef{ID: "!r:example.org"}, Limit: DefaultReportsLimit},
		"!report 12":         ShowReport{ID: ev(12)},
		"!report #12":        ShowReport{ID: ev(12)},
		"!report show 12":    ShowReport{ID: ev(12)},
		"!report delete 12":  DeleteReport{ID: ev(12)},
		"!REPORT DELETE 7":   DeleteReport{ID: ev(7)},
		"!report claim 12":   ClaimReport{ID: ev(12)},
		"!report unclaim 12": UnclaimReport{ID: ev(12)},
		`!report resolve 12 --note "spam, handled"`:   ResolveReport{ID: ev(12), Note: "spam, handled"},
		"!report resolve 12":                          ResolveReport{ID: ev(12)},
		"!report dismiss 12 --note=not spam":          DismissReport{ID: ev(12), Note: "not spam"},
		"!report reopen 12":                           ReopenReport{ID: ev(12)},
		"!report u12":                                 ShowReport{ID: ReportRef{Kind: mxid.KindUser, ID: 12}},
		"!report resolve U7 --note done":              ResolveReport{ID: ReportRef{Kind: mxid.KindUser, ID: 7}, Note: "done"},
		"!report claim r3":                            ClaimReport{ID: ReportRef{Kind: mxid.KindRoom, ID: 3}},
		"!suspend @spam:example.org --report u12":     Suspend{User: "@spam:example.org", Report: ReportRef{Kind: mxid.KindUser, ID: 12}},
		"!suspend @spam:example.org --REPORT 12":      Suspend{User: "@spam:example.org", Report: ev(12)},
		"!audit report r4":                            Audit{Report: ReportRef{Kind: mxid.KindRoom, ID: 4}, Limit: DefaultAuditLimit},
		"!reports --kind user":                        ListReports{Limit: DefaultReportsLimit, Kinds: []mxid.ReportKind{mxid.KindUser}},
		"!reports --kind=all":                         ListReports{Limit: DefaultReportsLimit},
		"!quarantine media mxc://example.org/AbC_1-x": QuarantineMedia{Media: MediaRef{Server: "example.org", MediaID: "AbC_1-x"}},
		"!quarantine media example.org AbC":           QuarantineMedia{Media: MediaRef{Server: "example.org", MediaID: "AbC"}},
		"!quarantine media AbC":                       QuarantineMedia{Media: MediaRef{MediaID: "AbC"}},
		"!quarantine media https://example.org/_matrix/client/v1/media/download/example.org/AbC/cat.png": QuarantineMedia{Media: MediaRef{Server: "example.org", MediaID: "AbC"}},
		"!quarantine media https://example.org/_matrix/media/v3/thumbnail/other.org:8448/XyZ?width=32":   QuarantineMedia{Media: MediaRef{Server: "other.org:8448", MediaID: "XyZ"}},
		"!unquarantine media mxc://example.org/AbC":                                                      UnquarantineMedia{Media: MediaRef{Server: "example.org", MediaID: "AbC"}},
		"!quarantine room !abc:example.org":                                                              QuarantineRoom{Room: RoomRef{ID: "!abc:example.org"}},
		"!quarantine room #spam:example.org":                                                             QuarantineRoom{Room: RoomRef{Alias: "#spam:example.org"}},
		"!quarantine room matrix:roomid/abc:example.org":                                                 QuarantineRoom{Room: RoomRef{ID: "!abc:example.org"}},
		"!quarantine room https://matrix.to/#/!abc:example.org/$event?via=example.org":                   QuarantineRoom{Room: RoomRef{ID: "!abc:example.org"}},
		"!quarantine user @spam:example.org":                                                             QuarantineUser{User: "@spam:example.org"},
		"!quarantine user matrix:u/spam:example.org":                                                     QuarantineUser{User: "@spam:example.org"},
		"!protect media AbC":                                                               ProtectMedia{Media: MediaRef{MediaID: "AbC"}},
		"!protect media mxc://example.org/AbC":                                             ProtectMedia{Media: MediaRef{Server: "example.org", MediaID: "AbC"}},
		"!unprotect media AbC":                                                             UnprotectMedia{Media: MediaRef{MediaID: "AbC"}},
		"!kick @spam:example.org #lobby:example.org go away":                               Kick{User: "@spam:example.org", Room: RoomRef{Alias: "#lobby:example.org"}, Reason: "go away"},
		"!room delete #spam:example.org --block --message \"moved, sorry\" --yes":          DeleteRoom{Room: RoomRef{Alias: "#spam:example.org"}, Block: true, Message: "moved, sorry", Yes: true},
		"!room delete !r:example.org --purge":                                              DeleteRoom{Room: RoomRef{ID: "!r:example.org"}, Purge: true},
		"!redact user @spam:example.org":                                                   RedactUser{User: "@spam:example.org", Since: 24 * time.Hour, Limit: 1000},
		"!redact user @spam:example.org --room #a:example.org --since 7d --limit 50 --yes": RedactUser{User: "@spam:example.org", Room: RoomRef{Alias: "#a:example.org"}, Since: 7 * 24 * time.Hour, Limit: 50, Yes: true},
		"!deactivate @spam:example.org":                                                    Deactivate{User: "@spam:example.org"},
		"!deactivate --erase @spam:example.org --yes":                                      Deactivate{User: "@spam:example.org", Erase: true, Yes: true},
		"!suspend @spam:example.org --yes":                                                 Suspend{User: "@spam:example.org", EvenIfAdmin: true},
		"!suspend @spam:example.org --report 12 --yes":                                     Suspend{User: "@spam:example.org", EvenIfAdmin: true, Report: ev(12)},
		"!kick @spam:example.org !r:example.org --report=7 go away":                        Kick{User: "@spam:example.org", Room: RoomRef{ID: "!r:example.org"}, Reason: "go away", Report: ev(7)},
		"!quarantine room !r:example.org --report 3":                                       QuarantineRoom{Room: RoomRef{ID: "!r:example.org"}, Report: ev(3)},
		"!unlock https://matrix.to/#/@spam:example.org":                                    Unlock{User: "@spam:example.org"},
		"!ban @spam:example.org !r:example.org":                                            Ban{User: "@spam:example.org", Room: RoomRef{ID: "!r:example.org"}},
		"!unban @spam:example.org !r:example.org":                                          Unban{User: "@spam:example.org", Room: RoomRef{ID: "!r:example.org"}},
		"!audit": Audit{Limit: DefaultAuditLimit},
		"!audit @spam:example.org report 12 --by @mod:example.org --since 7d --limit 5": Audit{User: "@spam:example.org", Report: ev(12), By: "@mod:example.org", Since: 7 * 24 * time.Hour, Limit: 5},
		"!status":     Status{},
		"  !status  ": Status{},
	} {
		t.Run(body, func(t *testing.T) {
			cmd, err := parse(t, p, body)
			require.NoError(t, err)
			assert.Equal(t, want, cmd)
		})
	}
}

func TestParseErrors(t *testing.T) {
	p := newParser(t, "!")
	for body, want := range map[string]string{
		"!frobnicate":                              "unknown command !frobnicate: !help lists the commands",
		"!report":                                  "!report needs one of: !report [show] <id>; !report delete <id>",
		"!report abc":                              `report id must be a positive whole number, like 12 (u12 for a user report, r12 for a room report) (got "abc"); usage: report [show] <id>`,
		"!report delete":                           "give exactly one report id, like 12 or u12; usage: report delete <id>",
		"!report delete 0":                         `report id must be a positive whole number, like 12 (u12 for a user report, r12 for a room report) (got "0")`,
		"!report delete -4":                        `report id must be a positive whole number, like 12 (u12 for a user report, r12 for a room report) (got "-4")`,
		"!report delete 1 2":                       "give exactly one report id",
		"!report delete 99999999999999999999":      "report id must be a positive whole number",
		"!quarantine":                              "!quarantine needs one of: !quarantine media",
		"!quarantine everything":                   "unknown quarantine command everything; !quarantine needs one of:",
		"!quarantine media":                        "which media? give its mxc:// URI",
		"!quarantine media mxc://example.org/../x": `"mxc://example.org/../x" is not a media URI like mxc://example.org/AbCdEf`,
		"!quarantine media mxc://../x":             "is not a media URI",
		"!quarantine media ../x":                   `"../x" is not a media id`,
		"!quarantine media ex..org AbC":            `"ex..org" is not a server name like example.org`,
		"!quarantine media example.org a/b":        `"a/b" is not a media id`,
		"!quarantine media a b c":                  "too many arguments",
		"!quarantine media https://example.org/x":  "is not a Matrix media download link; give the mxc:// URI",
		"!quarantine room":                         "give exactly one room",
		"!quarantine room abc":                     `"abc" is not a room: give a room id like !abc:example.org, an alias like #room:example.org, or a matrix.to link`,
		"!quarantine room #nope":                   `"#nope" is not a room alias like #room:example.org`,
		"!quarantine room https://matrix.to/#/@bob:example.org": "does not point to a room",
		"!quarantine room https://matrix.to/#/nothing":          "does not point to a room",
		"!quarantine user bob":                                  `"bob" is not a user id like @spammer:example.org`,
		"!quarantine user @bob":                                 `"@bob" is not a valid user id: must have a server name after a colon`,
		"!quarantine user https://matrix.to/#/!r:example.org":   "does not point to a user",
		"!quarantine user @a:x @b:x":                            "give exactly one user",
		"!unquarantine":                                         "!unquarantine needs one of: !unquarantine media",
		"!protect thing x":                                      "unknown protect command thing",
		"!reports --limit 0":                                    `--limit must be a number from 1 to 50 (got "0")`,
		"!reports --limit lots":                                 "--limit must be a number",
		"!reports --limit":                                      "--limit needs a value",
		"!reports --colour red":                                 "unknown option --colour",
		"!reports spam":                                         `unexpected "spam": options are --kind, --state, --mine, --older-than, --user, --room, --sender and --limit`,
		"!reports --user bob":                                   `"bob" is not a user id`,
		"!status now":                                           "status takes no arguments",
		"!audit @a:example.org @b:example.org":                  `unexpected "@b:example.org": give one user or report <id>, and --by, --since or --limit`,
		"!audit report":                                         "report needs a value",
		"!audit --limit 500":                                    "--limit must be a number from 1 to 100",
		"!reports --state closed":                               `--state must be open, claimed, resolved, dismissed, deleted or all, or several with commas (got "closed")`,
		"!reports --kind spam":                                  `--kind must be event, user, room or all (got "spam")`,
		"!report x12":                                           `report id must be a positive whole number, like 12 (u12 for a user report, r12 for a room report) (got "x12")`,
		"!report u-1":                                           `(got "u-1")`,
		"!reports --older-than soon":                            `--older-than must be a duration like 90m, 6h or 7d (got "soon")`,
		"!suspend @spam:example.org --report":                   "--report needs a report id, like --report 12",
		"!suspend @spam:example.org --report twelve":            `--report: report id must be a positive whole number, like 12 (u12 for a user report, r12 for a room report) (got "twelve")`,
		"!suspend @spam:example.org --report 1 --report 2":      "--report is given twice",
		"!report claim 12 13":                                   "give exactly one report id",
		"!report resolve 12 --reason spam":                      "unexpected \"--reason\": the only option is --note",
		"!report dismiss 12 --note":                             "--note needs a text",
		"!kick @spam:example.org":                               "give a user and a room",
		"!redact user @a:example.org --since forever":           "--since must be a duration like 90m, 6h or 7d",
		"!redact user @a:example.org --limit 0":                 "--limit must be a number from 1 to 10000",
		"!redact user @a:example.org --colour red":              "unexpected \"--colour\": options are --room, --since, --limit and --yes",
		"!redact":                                                         "!redact needs one of: !redact user <@user:server>",
		"!redact !r:example.org $ev spam":                                 `unexpected "spam": the only option is --reason`,
		"!redact !r:example.org $ev --reason":                             "--reason needs a text",
		"!unban @spam:example.org !r:example.org sorry":                   "give exactly one user and one room",
		"!ban !r:example.org @spam:example.org":                           `"!r:example.org" is not a user id`,
		"!ban @spam:example.org @other:example.org":                       `"@other:example.org" is not a room`,
		"!kick @a:example.org !r:example.org " + strings.Repeat("x", 501): "the reason is 501 characters long; at most 500",
		// A mistyped option after a text is refused, not sent as text.
		`!room delete !r:example.org --message "Closed for spam" --bolck --yes`: `unexpected "--bolck"`,
		"!report resolve 12 --note done --note twice":                           "--note is given twice",
		"!redact user @a:example.org --since 1h --since 2h":                     "--since is given twice",
	} {
		t.Run(body, func(t *testing.T) {
			cmd, err := parse(t, p, body)
			require.Error(t, err)
			assert.Nil(t, cmd)
			var usage *UsageError
			require.ErrorAs(t, err, &usage)
			assert.Contains(t, err.Error(), want)
		})
	}
}

func TestUsageErrorsCarryTheUsage(t *testing.T) {
	p := newParser(t, "!")
	_, err := parse(t, p, "!quarantine room abc")
	var usage *UsageError
	require.ErrorAs(t, err, &usage)
	assert.Equal(t, "quarantine room", usage.Command)
	assert.Equal(t, "quarantine room <!room:server | #alias:server> [--report <id>]", usage.Usage)
}

func TestNotCommands(t *testing.T) {
	p := newParser(t, "!")
	for name, evt := range map[string]*event.Event{
		"chat":         message("hello !help"),
		"other prefix": message("?help"),
		"empty":        message(""),
		"notice": {Type: event.EventMessage, Content: event.Content{Parsed: &event.MessageEventContent{
			MsgType: event.MsgNotice, Body: "!help"}}},
		"edit": {Type: event.EventMessage, Content: event.Content{Parsed: &event.MessageEventContent{
			MsgType: event.MsgText, Body: "!help", RelatesTo: &event.RelatesTo{Type: event.RelReplace, EventID: "$orig"}}}},
	} {
		t.Run(name, func(t *testing.T) {
			cmd, isCommand, err := p.Parse(context.Background(), evt)
			assert.False(t, isCommand)
			assert.Nil(t, cmd)
			assert.NoError(t, err)
		})
	}
}

func TestCustomPrefix(t *testing.T) {
	p := newParser(t, "gavel:")
	cmd, err := parse(t, p, "gavel:report delete 3")
	require.NoError(t, err)
	assert.Equal(t, DeleteReport{ID: ev(3)}, cmd)
	_, isCommand, _ := p.Parse(context.Background(), message("!report delete 3"))
	assert.False(t, isCommand)
	_, err = parse(t, p, "gavel:nope")
	assert.ErrorContains(t, err, "unknown command gavel:nope: gavel:help lists the commands")
}

func TestUpperCasePrefix(t *testing.T) {
	p := newParser(t, "G!")
	for _, body := range []string{"G!status", "g!status", "G!STATUS"} {
		cmd, err := parse(t, p, body)
		require.NoError(t, err)
		assert.Equal(t, Status{}, cmd)
	}
}

func TestMentionPillsBecomeIDs(t *testing.T) {
	p := newParser(t, "!")
	evt := message("!quarantine user Spammer")
	content := evt.Content.Parsed.(*event.MessageEventContent)
	content.Format = event.FormatHTML
	content.FormattedBody = `!quarantine user <a href="https://matrix.to/#/@spam:example.org">Spammer</a>`
	cmd, isCommand, err := p.Parse(context.Background(), evt)
	require.True(t, isCommand)
	require.NoError(t, err)
	assert.Equal(t, QuarantineUser{User: id.UserID("@spam:example.org")}, cmd)
}

func TestLookup(t *testing.T) {
	names := func(specs []*Spec) []string {
		var out []string
		for _, s := range specs {
			out = append(out, s.Name)
		}
		return out
	}
	assert.Equal(t, []string{"quarantine media", "quarantine room", "quarantine user"}, names(Lookup("quarantine")))
	assert.Equal(t, []string{"report show", "report delete", "report claim", "report unclaim", "report resolve", "report dismiss", "report reopen", "report escalate"}, names(Lookup("report")))
	assert.Equal(t, []string{"report delete"}, names(Lookup(" Report   delete ")))
	assert.Equal(t, []string{"status"}, names(Lookup("status")))
	assert.Empty(t, Lookup("nothing"))
	for _, s := range All() {
		assert.NotEmpty(t, s.Usage, s.Name)
		assert.NotEmpty(t, s.Summary, s.Name)
		assert.Equal(t, s.Name, mustParseName(t, s), "the spec's name is what its parser produces")
	}
}

// mustParseName finds arguments that parse for s and returns the name of the
// resulting command.
func mustParseName(t *testing.T, s *Spec) string {
	for _, args := range [][]string{nil, {"12"}, {"mxc://example.org/a"}, {"!r:example.org"}, {"@u:example.org"}, {"@u:example.org", "!r:example.org"}, {"!r:example.org", "$e"}} {
		if cmd, err := s.Parse(args); err == nil {
			return NameOf(cmd)
		}
	}
	t.Fatalf("no arguments parse for %s", s.Name)
	return ""
}

func TestErrorsShowBadArgumentsShortAndVisible(t *testing.T) {
	p := newParser(t, "!")
	_, err := parse(t, p, "!report delete "+strings.Repeat("9a", 5*1024))
	require.Error(t, err)
	assert.Less(t, len(err.Error()), 300, "a 10 KiB argument is not repeated in full")
	assert.Contains(t, err.Error(), `(got "9a9a`)
	assert.Contains(t, err.Error(), `…")`)

	// Invisible and right-to-left characters are shown escaped, so that a
	// look-alike id is visibly not the real one.
	_, err = parse(t, p, "!quarantine user @bob\u202e\u200b:example.org")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"@bob\u202e\u200b:example.org" is not a valid user id: contains spaces, control or non-ASCII characters`)
}

// TestStructuredCommands: a structured (MSC4391) command addressed to the
// bot is a command when it names one exactly; other words are not Gavel's.
func TestStructuredCommands(t *testing.T) {
	p := newParser(t, "!")
	structured := func(command string) *event.Event {
		evt := message("")
		content := evt.Content.Parsed.(*event.MessageEventContent)
		content.Body = "/" + command
		content.MSC4391BotCommand = &event.MSC4391BotCommandInput{Command: command, Arguments: json.RawMessage(`{}`)}
		content.Mentions = &event.Mentions{UserIDs: []id.UserID{"@gavel:example.org"}}
		return evt
	}
	cmd, isCommand, err := p.Parse(context.Background(), structured("status"))
	assert.True(t, isCommand)
	assert.NoError(t, err)
	assert.Equal(t, Status{}, cmd)

	_, isCommand, err = p.Parse(context.Background(), structured("report delete"))
	assert.True(t, isCommand)
	assert.ErrorContains(t, err, "give exactly one report id")

	_, isCommand, err = p.Parse(context.Background(), structured("quarantine"))
	assert.True(t, isCommand)
	assert.ErrorContains(t, err, "!quarantine needs one of")

	for _, other := range []string{"quarantine bogus", "help quarantine", "frobnicate"} {
		cmd, isCommand, err = p.Parse(context.Background(), structured(other))
		assert.False(t, isCommand, other)
		assert.Nil(t, cmd, other)
		assert.NoError(t, err, other)
	}
}

// TestParserPanicIsAnError: a parser that panics (a bug) gives a usage
// error for that message instead of unwinding into the sync loop.
func TestParserPanicIsAnError(t *testing.T) {
	specs = append(specs, &Spec{Name: "boom", Usage: "boom", Summary: "panics",
		parse: func([]string) (Command, error) { panic("boom") }})
	defer func() { specs = specs[:len(specs)-1] }()
	p := newParser(t, "!")
	cmd, isCommand, err := p.Parse(context.Background(), message("!boom"))
	assert.True(t, isCommand)
	assert.Nil(t, cmd)
	var usage *UsageError
	require.ErrorAs(t, err, &usage)
	assert.Contains(t, err.Error(), "its parser failed")
}

// In a card's thread, a report command without an id and an action
// without --report are about the card's report; ids typed win.
func TestParseAbout(t *testing.T) {
	p := newParser(t, "!")
	for body, want := range map[string]Command{
		"!report":                               ShowReport{ID: ev(12)},
		"!report claim":                         ClaimReport{ID: ev(12)},
		`!report resolve --note "all done"`:     ResolveReport{ID: ev(12), Note: "all done"},
		"!report resolve 7":                     ResolveReport{ID: ev(7)},
		"!suspend @spam:example.org":            Suspend{User: "@spam:example.org", Report: ev(12)},
		"!suspend @spam:example.org --report 7": Suspend{User: "@spam:example.org", Report: ev(7)},
		"!reports":                              ListReports{Limit: DefaultReportsLimit},
	} {
		cmd, isCommand, err := p.ParseAbout(context.Background(), message(body), ev(12))
		require.True(t, isCommand, body)
		require.NoError(t, err, body)
		assert.Equal(t, want, cmd, body)
	}
}

// ev names event report n.
func ev(n int64) ReportRef { return ReportRef{Kind: mxid.KindEvent, ID: n} }
