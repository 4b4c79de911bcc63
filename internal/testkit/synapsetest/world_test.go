package synapsetest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/config"
)

func TestWorld(t *testing.T) {
	s := Shared(t)
	ctx := context.Background()
	w, err := s.NewWorld(ctx, WorldOptions{
		Unique:                true,
		ModeratorName:         "mod",
		Members:               []string{"member"},
		PublicRoomName:        "Free <b>stuff</b>",
		PublicAlias:           "spam",
		ModeratorInPublicRoom: true,
	})
	require.NoError(t, err)
	suffix := strings.TrimPrefix(w.Bot.UserID.Localpart(), "gavel-")
	require.Len(t, suffix, 8, "one random suffix for the world")
	assert.Equal(t, "mod-"+suffix, w.Moderator.UserID.Localpart())
	assert.Equal(t, id.NewRoomAlias("spam-"+suffix, s.ServerName), w.PublicAlias)
	require.Len(t, w.Members, 1)

	user, admin, err := w.Admin.IsServerAdmin(ctx)
	require.NoError(t, err)
	assert.Equal(t, w.Bot.UserID, user)
	assert.True(t, admin, "the bot is a server admin")

	joined, err := w.Moderator.JoinedMembers(ctx, w.ManagementRoom)
	require.NoError(t, err)
	assert.Contains(t, joined.Joined, w.Members[0].UserID)
	assert.NotContains(t, joined.Joined, w.Bot.UserID, "the bot is invited; Gavel joins when it starts")
	joined, err = w.Spammer.JoinedMembers(ctx, w.PublicRoom)
	require.NoError(t, err)
	assert.Contains(t, joined.Joined, w.Reporter.UserID)
	assert.Contains(t, joined.Joined, w.Moderator.UserID)
	resolved, err := w.Reporter.ResolveAlias(ctx, w.PublicAlias)
	require.NoError(t, err)
	assert.Equal(t, w.PublicRoom, resolved.RoomID)

	spam, err := w.Spam(ctx, "spam")
	require.NoError(t, err)
	require.NoError(t, w.Report(ctx, spam, "spam"))
	reportID, err := w.ReportID(ctx, spam)
	require.NoError(t, err)
	report, err := w.Admin.EventReport(ctx, reportID)
	require.NoError(t, err)
	assert.Equal(t, w.Reporter.UserID, report.UserID)
	require.NotNil(t, report.Score)
	assert.Equal(t, adminapi.Score(-100), *report.Score)

	other, err := w.Spam(ctx, "more spam")
	require.NoError(t, err)
	require.NoError(t, s.FileReport(ctx, w.Moderator, w.PublicRoom, other, "no score", NoScore))
	reportID, err = w.ReportID(ctx, other)
	require.NoError(t, err)
	report, err = w.Admin.EventReport(ctx, reportID)
	require.NoError(t, err)
	assert.Equal(t, w.Moderator.UserID, report.UserID)
	assert.Nil(t, report.Score)
	_, err = w.ReportID(ctx, "$not-reported")
	assert.Error(t, err)

	again, err := s.Login(ctx, w.Bot.UserID, w.BotPassword)
	require.NoError(t, err)
	assert.Equal(t, w.Bot.UserID, again.UserID)
	assert.NotEqual(t, w.Bot.DeviceID, again.DeviceID, "a new device")

	cfg := w.Config()
	cfg.Database.URI = filepath.Join(t.TempDir(), "gavel.db")
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, WriteConfig(path, &cfg, "Written by a test."))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(data), "# Written by a test.\n"))
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	loaded, err := config.Load(path)
	require.NoError(t, err)
	assert.Equal(t, config.Matrix{Homeserver: s.URL, UserID: w.Bot.UserID, AccessToken: w.Bot.AccessToken, ManagementRoom: w.ManagementRoom}, loaded.Matrix)
}

// TestProcess runs a stand-in for the gavel binary: a script that logs its
// arguments and exits on SIGTERM. It sets its trap before it logs: the test
// sends SIGTERM as soon as the line is there.
func TestProcess(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "gavel")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\ntrap 'exit 0' TERM\necho \"args: $*\" >&2\nwhile :; do sleep 0.05; done\n"), 0o755))
	log, err := os.Create(filepath.Join(dir, "gavel.log"))
	require.NoError(t, err)
	defer log.Close()

	p, err := StartBinary(script, "/some/config.yaml", log)
	require.NoError(t, err)
	assert.Positive(t, p.Pid())
	require.Eventually(t, func() bool {
		out, _ := os.ReadFile(log.Name())
		return strings.Contains(string(out), "args: -config /some/config.yaml")
	}, 10*time.Second, 20*time.Millisecond)
	require.NoError(t, p.Stop(), "exits 0 on SIGTERM")
	select {
	case <-p.Done():
	default:
		t.Fatal("Done is not closed after Stop")
	}

	p, err = StartBinary(script, "/some/config.yaml", log)
	require.NoError(t, err)
	require.NoError(t, p.Signal(syscall.SIGKILL))
	assert.ErrorContains(t, p.Wait(), "killed")
	p, err = StartBinary(script, "/some/config.yaml", log)
	require.NoError(t, err)
	p.Kill()
	assert.Error(t, p.Wait())

	_, err = StartBinary(filepath.Join(dir, "missing"), "/some/config.yaml", log)
	assert.ErrorContains(t, err, "running "+filepath.Join(dir, "missing"))
}
