package moderation

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/internal/mxid"
	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/store"
)

// newModerator is a Moderator whose admin API is srv.
func newModerator(t *testing.T, srv *httptest.Server) *Moderator {
	t.Helper()
	cli := &mautrix.Client{HomeserverURL: mustParseURL(srv.URL), Client: srv.Client(), UserID: "@gavel:example.org"}
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "gavel.db"), zerolog.Nop())
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	m, err := New(Config{Admin: adminapi.Wrap(cli), Matrix: cli, Store: st, Prefix: "!", Health: func() notice.Status { return notice.Status{} }})
	require.NoError(t, err)
	return m
}

// TestEveryCommandHasAHandler: a command declared in package commands
// without a handler here is refused by New, before any moderator types it.
func TestEveryCommandHasAHandler(t *testing.T) {
	m, err := New(Config{})
	require.NoError(t, err)
	for _, s := range commands.All() {
		assert.NotNil(t, m.handlers[s.Type()], "command %q has no handler", s.Name)
	}
	assert.Len(t, m.handlers, len(commands.All()), "a handler for a command nobody declared")

	// Without one handler, New fails and names the command.
	delete(m.handlers, reflect.TypeFor[commands.DeleteReport]())
	assert.EqualError(t, everyCommandHandled(m.handlers), `moderation: command "report delete" has no handler`)
}

// TestReadOnlyCommandsAreNotActions: what is logged as an action follows
// the declaration, not each handler.
func TestReadOnlyCommandsAreNotActions(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"errcode": "M_NOT_FOUND", "error": "Event report not found"}`))
	}))
	defer srv.Close()
	m := newModerator(t, srv)
	show := m.Run(context.Background(), Actor{User: "@mod:example.org"}, commands.ShowReport{ID: mxid.EventReport(12)})
	assert.False(t, show.Action)
	assert.Equal(t, "Report 12 does not exist (Synapse: M_NOT_FOUND).", show.Reply.Plain())
	del := m.Run(context.Background(), Actor{User: "@mod:example.org"}, commands.DeleteReport{ID: mxid.EventReport(12)})
	assert.True(t, del.Action)
	assert.False(t, del.OK)
	assert.Equal(t, "Report 12 does not exist (Synapse: M_NOT_FOUND).", del.Result)
}

func TestReportListStaysSmall(t *testing.T) {
	// A fake admin API with 50 reports whose every free-text field is as
	// long as Synapse allows.
	var items []map[string]any
	for i := range 50 {
		items = append(items, map[string]any{
			"id": i + 2, "received_ts": 1, "room_id": "!" + strings.Repeat("r", 200) + ":example.org", "event_id": "$e",
			"user_id": "@" + strings.Repeat("u", 200) + ":example.org", "sender": "@" + strings.Repeat("s", 200) + ":example.org",
			"reason": strings.Repeat("<&>", 1000), "name": strings.Repeat("<b>", 1000), "canonical_alias": "#" + strings.Repeat("a", 200) + ":example.org",
		})
	}
	page, _ := json.Marshal(map[string]any{"event_reports": items, "total": 50})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/user_reports") {
			_, _ = w.Write([]byte(`{"user_reports": [], "total": 0}`))
			return
		}
		_, _ = w.Write(page)
	}))
	defer srv.Close()
	m := newModerator(t, srv)
	out := m.Run(context.Background(), Actor{User: "@mod:example.org"}, commands.ListReports{Limit: 50})
	content := out.Reply.Reply("$cmd")
	assert.Less(t, len(content), 60000, "below Synapse's 64 KiB event limit")
	assert.Contains(t, out.Reply.Plain(), "50 open reports, newest first:")
	assert.Regexp(t, `\n… and \d+ more\n`, out.Reply.Plain(), "the last line has no bullet, and the hint a line of its own")
}

func mustParseURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// TestUnsupportedNamesTheVersion: an endpoint this Synapse lacks (404
// M_UNRECOGNIZED) is "not supported by Synapse X.Y", not an error.
func TestUnsupportedNamesTheVersion(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"}`))
	}))
	defer srv.Close()
	m := newModerator(t, srv)
	m.Health = func() notice.Status { return notice.Status{SynapseVersion: "1.99.0"} }
	out := m.Run(context.Background(), Actor{User: "@mod:example.org"}, commands.DeleteReport{ID: mxid.EventReport(12)})
	assert.Equal(t, "Not supported by Synapse 1.99.0 (M_UNRECOGNIZED): a newer Synapse has it.", out.Reply.Plain())
}

func TestCommandName(t *testing.T) {
	for input, want := range map[string]string{
		"room delete !r:x --yes":      "room delete",
		"redact user @u:x --report 2": "redact user",
		"redact !r:x $e --report 2":   "redact event",
		"room !r:x":                   "room show",
		"suspend @u:x":                "suspend",
		"frobnicate":                  "",
	} {
		assert.Equal(t, want, commandName(input), input)
	}
}
