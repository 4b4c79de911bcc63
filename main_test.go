package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/testkit/synapsetest"
)

func TestMain(m *testing.M) { synapsetest.Main(m) }

// syncBuffer is a bytes.Buffer that run may write while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestVersionAndUsage(t *testing.T) {
	var out, errOut syncBuffer
	assert.Equal(t, 0, run([]string{"-version"}, &out, &errOut))
	assert.Regexp(t, `^gavel \S+ \(commit \S+, built \S+, go\S+\)\n$`, out.String())

	assert.Equal(t, 2, run([]string{"-nope"}, &out, &errOut))
	assert.Contains(t, errOut.String(), "Usage: gavel [-config config.yaml] [-check] [-version]")
}

func TestConfigProblemsExitWithAMessage(t *testing.T) {
	dir := t.TempDir()
	var out, errOut syncBuffer
	assert.Equal(t, 1, run([]string{"-config", filepath.Join(dir, "missing.yaml")}, &out, &errOut))
	assert.Contains(t, errOut.String(), "does not exist: copy config.example.yaml to")

	path := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte("matrix:\n  homeserver: nope\n  management_room: \"#mods:x\"\n"), 0o600))
	errOut = syncBuffer{}
	assert.Equal(t, 1, run([]string{"-config", path}, &out, &errOut))
	assert.Contains(t, errOut.String(), "matrix.homeserver: must be an http:// or https:// URL")
	assert.Contains(t, errOut.String(), "matrix.management_room: must be a room id like !abc:example.org")
	assert.NotContains(t, errOut.String(), "goroutine", "no stack trace")
}

// TestRunsAndStopsOnSIGTERM runs Gavel as main does against a real Synapse,
// then sends it SIGTERM.
func TestRunsAndStopsOnSIGTERM(t *testing.T) {
	g := newGavelSetup(t)
	bot, dir, path := g.bot, g.dir, g.config(t, "config.json", "")

	var out, errOut syncBuffer
	code := make(chan int, 1)
	go func() { code <- run([]string{"-config", path}, &out, &errOut) }()
	require.Eventually(t, func() bool { return strings.Contains(errOut.String(), "Gavel started") }, 30*time.Second, 50*time.Millisecond,
		"log: %s", errOut.String())
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGTERM))
	select {
	case c := <-code:
		assert.Equal(t, 0, c, "log: %s", errOut.String())
	case <-time.After(30 * time.Second):
		t.Fatal("Gavel did not stop after SIGTERM")
	}
	assert.Contains(t, errOut.String(), `"message":"Stopped"`)
	assert.NotContains(t, errOut.String(), bot.AccessToken, "the token is never logged")
	assert.NotContains(t, errOut.String(), "readable by other users", "a 0600 file with the token in the environment is fine")
	_, err := os.Stat(filepath.Join(dir, "gavel.db"))
	assert.NoError(t, err)
}

// TestWarnsAboutAReadableConfigFileWithAToken runs main up to the database,
// which is made to fail so that no homeserver is needed: the warning comes
// first, once, as a log line, without the token, and Gavel carries on.
func TestWarnsAboutAReadableConfigFileWithAToken(t *testing.T) {
	const token = "syt_Z2F2ZWw_kEEpItS3cr3t_1x2y3z"
	for _, tt := range []struct {
		name     string
		mode     os.FileMode
		inFile   bool
		wantWarn string
	}{
		{"world-readable with the token", 0o644, true, "(mode 0644)"},
		{"group-readable with the token", 0o640, true, "(mode 0640)"},
		{"private with the token", 0o600, true, ""},
		{"world-readable with the token in the environment", 0o644, false, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "config.yaml")
			tokenLine := ""
			if tt.inFile {
				tokenLine = "  access_token: " + token + "\n"
				t.Setenv("GAVEL_ACCESS_TOKEN", "")
			} else {
				t.Setenv("GAVEL_ACCESS_TOKEN", token)
			}
			t.Setenv("GAVEL_ADMIN_ACCESS_TOKEN", "")
			config := "matrix:\n  homeserver: http://127.0.0.1:9\n  user_id: \"@gavel:localhost\"\n" + tokenLine +
				"  management_room: \"!mods:localhost\"\n" +
				"database:\n  uri: " + filepath.Join(dir, "no such dir", "gavel.db") + "\nlogging:\n  format: json\n"
			require.NoError(t, os.WriteFile(path, []byte(config), 0o600))
			require.NoError(t, os.Chmod(path, tt.mode))

			var out, errOut syncBuffer
			assert.Equal(t, 1, run([]string{"-config", path}, &out, &errOut), "the database cannot be opened")
			log := errOut.String()
			assert.Contains(t, log, "database.uri:", "Gavel went on after the warning")
			assert.NotContains(t, log, token)
			assert.NotContains(t, log, "kEEpItS3cr3t")
			if tt.wantWarn == "" {
				assert.NotContains(t, log, "readable by other users")
				return
			}
			want := path + " is readable by other users " + tt.wantWarn +
				" and holds an access token (matrix.access_token): run chmod 600 " + path + ", or pass the token in GAVEL_ACCESS_TOKEN instead"
			lines := strings.Split(strings.TrimSpace(log), "\n")
			require.NotEmpty(t, lines)
			assert.JSONEq(t, fmt.Sprintf(`{"level":"warn","message":%q}`, want), withoutTime(t, lines[0]), "the first line")
			assert.Equal(t, 1, strings.Count(log, "readable by other users"))
		})
	}
}

// withoutTime drops the time from a JSON log line.
func withoutTime(t *testing.T, line string) string {
	t.Helper()
	var fields map[string]any
	require.NoError(t, json.Unmarshal([]byte(line), &fields), "log line %s", line)
	delete(fields, "time")
	data, err := json.Marshal(fields)
	require.NoError(t, err)
	return string(data)
}

func bg() context.Context { return context.Background() }

// gavelSetup is what main needs to run against the package's Synapse: a
// bot account (its token in GAVEL_ACCESS_TOKEN), a management room it is
// invited to, and a directory for the configuration and the database.
type gavelSetup struct {
	srv  *synapsetest.Server
	bot  *mautrix.Client
	room id.RoomID
	dir  string
}

func newGavelSetup(t *testing.T) *gavelSetup {
	srv := synapsetest.Shared(t)
	bot := srv.User(t, "gavel", true)
	mod := srv.User(t, "mod", false)
	room, err := mod.CreateRoom(bg(), &mautrix.ReqCreateRoom{Invite: []id.UserID{bot.UserID}})
	require.NoError(t, err)
	t.Setenv("GAVEL_ACCESS_TOKEN", bot.AccessToken)
	return &gavelSetup{srv: srv, bot: bot, room: room.RoomID, dir: t.TempDir()}
}

// config writes a configuration file named name, with extra JSON members
// (`, "metrics": {…}`), and returns its path.
func (g *gavelSetup) config(t *testing.T, name, extra string) string {
	path := filepath.Join(g.dir, name)
	config := fmt.Sprintf(`{"matrix": {"homeserver": %q, "user_id": %q, "management_room": %q},
		"database": {"uri": %q}, "logging": {"format": "json"}%s}`, g.srv.URL, g.bot.UserID, g.room, filepath.Join(g.dir, "gavel.db"), extra)
	require.NoError(t, os.WriteFile(path, []byte(config), 0o600))
	return path
}
