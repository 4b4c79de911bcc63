package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rs/zerolog"
	mcmd "maunium.net/go/mautrix/commands"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/format"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/mxid"
)

// maxErrorLen bounds a usage error's message. The longest real ones (an
// unknown subcommand followed by the parent's list of usages) are under
// 600 bytes; a bad argument is repeated at most 64 characters long, so a
// 10 KiB argument must not make an error longer than this.
const maxErrorLen = 2048

// FuzzParse feeds message bodies, optionally with an HTML formatted body,
// to the command parser. It checks that:
//
//   - parsing never panics, logs nothing at warning level or above, and
//     makes no HTTP request;
//   - a message is either not a command (no command, no error), a command,
//     or a *UsageError whose Command and Usage are the spec's;
//   - every command is one of the known types with a spec name, and every
//     id it carries passes its validator: user ids ValidateUserID, room ids
//     ValidateRoomID, aliases ValidateRoomAlias (and its documented contract:
//     printable, none of / ? # % \, a valid server), media ValidateServerName +
//     ValidateMediaID (ValidateContentURI) or a bare ValidateMediaID, report
//     ids ValidateReportID, and --limit is in range;
//   - an error's message is valid UTF-8 when the text is (event bodies
//     arrive through encoding/json, which never yields invalid UTF-8) and at
//     most maxErrorLen bytes, however long the message.
func FuzzParse(f *testing.F) {
	for _, seed := range [][2]string{
		{"!help", ""},
		{"!reports --user @alice:example.org --sender @bob:example.org --room #spam:example.org --limit 50", ""},
		{"!report delete 12", ""},
		{"!quarantine media mxc://example.org/AbC_1-x", ""},
		{"!quarantine media https://example.org/_matrix/client/v1/media/download/example.org/AbC/cat.png", ""},
		{"!quarantine room https://matrix.to/#/%21abc%3Aexample.org?via=example.org", ""},
		{"!quarantine user Spammer", `!quarantine user <a href="https://matrix.to/#/@spam:example.org">Spammer</a>`},
		{"!quarantine room !a/../b:example.org", ""},
		{"!quarantine media mxc://%2e%2e/%2e%2e", ""},
		{"!quarantine \xff", ""},
		{"!kick @spam:example.org #lobby:example.org go away", ""},
		{"!room block https://matrix.to/#/%23lobby%3Aexample.org", ""},
		{"!suspend Spammer", `!suspend <a href="https://matrix.to/#/@spam:example.org">Spammer</a>`},
		{"!room !abc:example.org", ""},
		{"!room delete #spam:example.org --block --purge --message \"closed\" --yes", ""},
		{"!deactivate @spam:example.org --erase", ""},
		{"!redact user @spam:example.org --room #a:example.org --since 7d --limit 50", ""},
		{"!redact https://matrix.to/#/!abc:example.org/$ev?via=example.org --reason spam", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	var (
		once     sync.Once
		p        *Parser
		requests = &requestRecorder{}
	)
	f.Fuzz(func(t *testing.T, body, formattedBody string) {
		once.Do(func() {
			p = newParser(t, "!")
			// Parsing must not touch the network; mautrix would only call
			// out to react to a panic.
			p.proc.Client.Client = &http.Client{Transport: requests}
		})
		requests.reset()
		var logged bytes.Buffer
		ctx := zerolog.New(&logged).Level(zerolog.WarnLevel).WithContext(context.Background())

		evt := message(body)
		if formattedBody != "" {
			content := evt.Content.Parsed.(*event.MessageEventContent)
			content.Format, content.FormattedBody = event.FormatHTML, formattedBody
		}
		cmd, isCommand, err := p.Parse(ctx, evt)

		if logged.Len() > 0 {
			t.Fatalf("parsing logged a warning or error (a recovered panic?): %s", logged.String())
		}
		if r := requests.get(); r != "" {
			t.Fatalf("parsing made an HTTP request: %s", r)
		}
		switch {
		case !isCommand:
			if cmd != nil || err != nil {
				t.Fatalf("not a command, yet got command %#v and error %v", cmd, err)
			}
			return
		case cmd == nil && err == nil:
			t.Fatalf("a command, but neither a command nor an error")
		case cmd != nil && err != nil:
			t.Fatalf("both command %#v and error %v", cmd, err)
		case err != nil:
			checkUsageError(t, ctx, body, formattedBody, err)
		default:
			checkCommand(t, cmd)
		}
	})
}

// checkCommand checks that a parsed command is a declared one, and every
// id it carries, field by field: user ids, rooms, media, report ids and
// --limit. A field of a type this does not know fails, so a new kind of
// argument gets its check here. Only commands with options (--flag) may
// leave a field empty.
func checkCommand(t *testing.T, cmd Command) {
	t.Helper()
	spec := SpecOf(cmd)
	if spec == nil {
		t.Fatalf("command %#v is of no declared type", cmd)
	}
	optional := strings.Contains(spec.Usage, "--")
	v := reflect.ValueOf(cmd)
	for i := range v.NumField() {
		field, value := v.Type().Field(i), v.Field(i)
		if value.IsZero() && optional {
			continue
		}
		switch x := value.Interface().(type) {
		case id.UserID:
			mustBeUser(t, cmd, x)
		case RoomRef:
			mustBeRoom(t, cmd, x)
		case MediaRef:
			mustBeMedia(t, cmd, x)
		case ReportRef:
			mustBeValid(t, cmd, "report id", mxid.ValidateReportID(x.ID))
			if x.Kind != mxid.KindEvent && x.Kind != mxid.KindUser && x.Kind != mxid.KindRoom {
				t.Fatalf("%#v: %s has kind %q", cmd, field.Name, x.Kind)
			}
		case int: // --limit
			limit := MaxReportsLimit
			if _, ok := cmd.(RedactUser); ok {
				limit = MaxRedactLimit
			}
			if x < 1 || x > limit {
				t.Fatalf("%#v: %s out of range", cmd, field.Name)
			}
		case time.Duration: // --since
			if x <= 0 || x > 366*24*time.Hour {
				t.Fatalf("%#v: %s out of range", cmd, field.Name)
			}
		case id.EventID:
			mustBeValid(t, cmd, "event id", mxid.ValidateEventID(x))
		case bool: // --yes
		case string: // free text: help's topic, reasons
		default:
			t.Fatalf("%#v: no check for field %s of type %T", cmd, field.Name, x)
		}
	}
}

func mustBeValid(t *testing.T, cmd Command, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%#v carries an invalid %s: %v", cmd, what, err)
	}
}

func mustBeUser(t *testing.T, cmd Command, u id.UserID) {
	t.Helper()
	mustBeValid(t, cmd, "user id", mxid.ValidateUserID(u))
}

// mustBeRoom checks that exactly one of a room's id and alias is set, and
// valid.
func mustBeRoom(t *testing.T, cmd Command, r RoomRef) {
	t.Helper()
	switch {
	case r.ID != "" && r.Alias != "":
		t.Fatalf("%#v names a room by both id and alias", cmd)
	case r.ID != "":
		mustBeValid(t, cmd, "room id", mxid.ValidateRoomID(r.ID))
	case r.Alias != "":
		mustBeValid(t, cmd, "room alias", mxid.ValidateRoomAlias(r.Alias))
		// And, independently, what ValidateRoomAlias documents: printable
		// text, none of a proxy's path syntax, a valid server name.
		localpart, server, _ := strings.Cut(strings.TrimPrefix(string(r.Alias), "#"), ":")
		if !strings.HasPrefix(string(r.Alias), "#") || len(r.Alias) > 255 || !utf8.ValidString(localpart) ||
			strings.ContainsFunc(localpart, func(c rune) bool { return !unicode.IsPrint(c) || unicode.IsSpace(c) }) ||
			strings.ContainsAny(localpart, `/?#%\`) || mxid.ValidateServerName(server) != nil {
			t.Fatalf("%#v: alias %q breaks ValidateRoomAlias's contract", cmd, r.Alias)
		}
	default:
		t.Fatalf("%#v names no room", cmd)
	}
}

// mustBeMedia checks a media item: a bare media id, or a server name and a
// media id that make a valid mxc:// URI.
func mustBeMedia(t *testing.T, cmd Command, m MediaRef) {
	t.Helper()
	mustBeValid(t, cmd, "media id", mxid.ValidateMediaID(m.MediaID))
	if m.Server == "" {
		return
	}
	mustBeValid(t, cmd, "server name", mxid.ValidateServerName(m.Server))
	mustBeValid(t, cmd, "mxc URI", mxid.ValidateContentURI(id.ContentURI{Homeserver: m.Server, FileID: m.MediaID}))
	if uri, err := mxid.ParseContentURI(m.String()); err != nil || uri.Homeserver != m.Server || uri.FileID != m.MediaID {
		t.Fatalf("%#v: %q does not parse back to the same media (%v)", cmd, m.String(), err)
	}
}

// checkUsageError checks an error's type, fields, encoding and length.
func checkUsageError(t *testing.T, ctx context.Context, body, formattedBody string, err error) {
	t.Helper()
	var usage *UsageError
	if !errors.As(err, &usage) {
		t.Fatalf("error %T is not a *UsageError: %v", err, err)
	}
	if usage.Command != "" && len(Lookup(usage.Command)) == 0 {
		t.Fatalf("usage error names no command there is: %q", usage.Command)
	}
	if usage.Usage != "" && (len(Lookup(usage.Command)) == 0 || usage.Usage != Lookup(usage.Command)[0].Usage) {
		t.Fatalf("usage error for %q carries usage %q, not the spec's", usage.Command, usage.Usage)
	}
	msg := err.Error()
	// The text mautrix splits into command and arguments.
	text := body
	if formattedBody != "" {
		text = mcmd.IDHTMLParser.Parse(formattedBody, format.NewContext(ctx))
	}
	if utf8.ValidString(text) && !utf8.ValidString(msg) {
		t.Fatalf("valid UTF-8 text %q gave an error that is not: %q", text, msg)
	}
	if len(msg) > maxErrorLen {
		t.Fatalf("error of %d bytes (limit %d) for a text of %d bytes: %.200q…", len(msg), maxErrorLen, len(text), msg)
	}
}

// requestRecorder is an http.RoundTripper that refuses every request and
// remembers the first.
type requestRecorder struct {
	mu    sync.Mutex
	first string
}

func (r *requestRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.first == "" {
		r.first = req.Method + " " + req.URL.String()
	}
	return nil, fmt.Errorf("no HTTP requests while parsing")
}

func (r *requestRecorder) get() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.first
}

func (r *requestRecorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.first = ""
}
