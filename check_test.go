package main

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/testkit/synapsetest"
	"github.com/gavel-bot/gavel/store"

	_ "modernc.org/sqlite"
)

// checkSetup is a bot, a server admin and a management room the bot is
// in, on the shared Synapse.
type checkSetup struct {
	srv        *synapsetest.Server
	bot, admin *mautrix.Client
	room       id.RoomID
	dir        string
}

func newCheckSetup(t *testing.T) *checkSetup {
	srv := synapsetest.Shared(t)
	s := &checkSetup{srv: srv, bot: srv.User(t, "gavel", false), admin: srv.User(t, "admin", true), dir: t.TempDir()}
	room, err := s.admin.CreateRoom(bg(), &mautrix.ReqCreateRoom{Invite: []id.UserID{s.bot.UserID}})
	require.NoError(t, err)
	s.room = room.RoomID
	_, err = s.bot.JoinRoomByID(bg(), s.room)
	require.NoError(t, err)
	return s
}

// check runs gavel -check with a config for room and the tokens given
// (in the environment, as a deployment would) and returns its exit code
// and output.
func (s *checkSetup) check(t *testing.T, room id.RoomID, botToken, adminToken, pickleKey string) (int, string) {
	t.Helper()
	path := filepath.Join(s.dir, "config.yaml")
	config := fmt.Sprintf("matrix:\n  homeserver: %s\n  user_id: %q\n  management_room: %q\ndatabase:\n  uri: %s\n",
		s.srv.URL, s.bot.UserID, room, filepath.Join(s.dir, "gavel.db"))
	require.NoError(t, os.WriteFile(path, []byte(config), 0o600))
	t.Setenv("GAVEL_ACCESS_TOKEN", botToken)
	t.Setenv("GAVEL_ADMIN_ACCESS_TOKEN", adminToken)
	t.Setenv("GAVEL_PICKLE_KEY", pickleKey)
	var out, errOut syncBuffer
	code := run([]string{"-check", "-config", path}, &out, &errOut)
	assert.Empty(t, errOut.String())
	for _, secret := range []string{botToken, adminToken, pickleKey} {
		if secret != "" {
			assert.NotContains(t, out.String(), secret, "no secret printed")
		}
	}
	return code, strings.ReplaceAll(out.String(), s.dir, "DIR")
}

// checkNames are the checks in the order -check runs them.
var checkNames = []string{"config", "roles", "homeserver", "bot token", "admin token", "synapse", "management room", "encryption", "policy lists", "synapse.database", "database"}

// assertLines checks that out has a line per check up to the one named
// failed ("" for none), each ok before it.
func assertLines(t *testing.T, out, failed string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	var want []string
	for _, name := range checkNames {
		if name == failed {
			want = append(want, "FAIL "+name)
			break
		}
		want = append(want, "ok   "+name)
	}
	var got []string
	for _, line := range lines {
		if strings.HasPrefix(line, "       ") {
			continue // a line of the roles table, under its check
		}
		got = append(got, regexp.MustCompile(`^(ok  |FAIL) [^:]+`).FindString(line))
	}
	assert.Equal(t, want, got, "output:\n%s", out)
}

// TestCheck: gavel -check passes on a good setup, and each broken part
// fails at its line, with exit code 1 and nothing after it. It changes
// nothing: no database is created, no room joined.
func TestCheck(t *testing.T) {
	s := newCheckSetup(t)
	db := filepath.Join(s.dir, "gavel.db")

	code, out := s.check(t, s.room, s.bot.AccessToken, s.admin.AccessToken, "")
	assert.Equal(t, 0, code, out)
	t.Logf("gavel -check:\n%s", out)
	assertLines(t, out, "")
	assert.Contains(t, out, "ok   config: DIR/config.yaml is valid\n")
	assert.Contains(t, out, fmt.Sprintf("ok   bot token: matrix.access_token is %s's (device %s)\n", s.bot.UserID, s.bot.DeviceID))
	assert.Contains(t, out, fmt.Sprintf("ok   admin token: synapse.admin_access_token is %s's, a server admin\n", s.admin.UserID))
	assert.Contains(t, out, "ok   synapse: Synapse "+s.srv.Version+"\n")
	assert.Contains(t, out, fmt.Sprintf("ok   management room: %s is in matrix.management_room %s\n", s.bot.UserID, s.room))
	assert.Contains(t, out, fmt.Sprintf("ok   database: DIR/gavel.db does not exist yet: Gavel creates it at schema v%d\n", store.LatestVersion()))
	assert.Contains(t, out, "ok   roles: the power level each command needs in matrix.management_room, by group (commands.power_levels and commands.min_power_level; see docs/roles.md):\n"+
		"       read: 50 — help, reports, report show, user, room show, policy check, policy list, desk refresh, status, audit, stats\n"+
		"       cases: 50 — report delete, report claim, report unclaim, report resolve, report dismiss, report reopen, report escalate\n"+
		"       room: 50 — kick, ban, unban, redact event\n"+
		"       server: 50 — quarantine media, unquarantine media, quarantine room, quarantine user, protect media, unprotect media, suspend, unsuspend, lock, unlock, shadowban, unshadowban, room block, room unblock, policy ban, policy unban\n"+
		"       destructive: 100 — deactivate, room delete, redact user\n"+
		"ok   homeserver: ", "the table, once, with the defaults")
	assert.Equal(t, 1, strings.Count(out, "roles:"))
	assert.NoFileExists(t, db, "-check creates no database")

	t.Run("wrong admin token", func(t *testing.T) {
		code, out := s.check(t, s.room, s.bot.AccessToken, "syt_not_a_real_token", "")
		assert.Equal(t, 1, code)
		assertLines(t, out, "admin token")
		assert.Contains(t, out, "FAIL admin token: the homeserver rejected synapse.admin_access_token (M_UNKNOWN_TOKEN): put a valid server admin's token there or in GAVEL_ADMIN_ACCESS_TOKEN\n")
	})
	t.Run("admin token not an admin's", func(t *testing.T) {
		code, out := s.check(t, s.room, s.bot.AccessToken, "", "")
		assert.Equal(t, 1, code)
		assertLines(t, out, "admin token")
		assert.Contains(t, out, "FAIL admin token: matrix.access_token (used because synapse.admin_access_token is empty) belongs to "+string(s.bot.UserID)+", who is not a Synapse server admin")
	})
	t.Run("bot not in the room", func(t *testing.T) {
		other, err := s.admin.CreateRoom(bg(), &mautrix.ReqCreateRoom{})
		require.NoError(t, err)
		code, out := s.check(t, other.RoomID, s.bot.AccessToken, s.admin.AccessToken, "")
		assert.Equal(t, 1, code)
		assertLines(t, out, "management room")
		assert.Contains(t, out, fmt.Sprintf("FAIL management room: %s is not in matrix.management_room %s (membership: none): invite it to the room, or check the room id\n", s.bot.UserID, other.RoomID))

		// Invited is enough: Gavel joins when it starts; -check does not.
		_, err = s.admin.InviteUser(bg(), other.RoomID, &mautrix.ReqInviteUser{UserID: s.bot.UserID})
		require.NoError(t, err)
		code, out = s.check(t, other.RoomID, s.bot.AccessToken, s.admin.AccessToken, "")
		assert.Equal(t, 0, code, out)
		assert.Contains(t, out, "is invited to matrix.management_room")
		joined, err := s.bot.JoinedRooms(bg())
		require.NoError(t, err)
		assert.NotContains(t, joined.JoinedRooms, other.RoomID, "-check joined nothing")
	})
	t.Run("encrypted room without a pickle key", func(t *testing.T) {
		enc, err := s.admin.CreateRoom(bg(), &mautrix.ReqCreateRoom{Invite: []id.UserID{s.bot.UserID}, InitialState: []*event.Event{{
			Type: event.StateEncryption, Content: event.Content{Parsed: &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}}}}})
		require.NoError(t, err)
		code, out := s.check(t, enc.RoomID, s.bot.AccessToken, s.admin.AccessToken, "")
		assert.Equal(t, 1, code)
		assertLines(t, out, "encryption")
		assert.Contains(t, out, "FAIL encryption: matrix.management_room "+string(enc.RoomID)+" is end-to-end encrypted, and encryption.pickle_key is empty")
	})
	t.Run("database from a newer Gavel", func(t *testing.T) {
		st, err := store.Open(bg(), db, zerolog.Nop())
		require.NoError(t, err)
		require.NoError(t, st.Close())
		code, out := s.check(t, s.room, s.bot.AccessToken, s.admin.AccessToken, "")
		assert.Equal(t, 0, code, out)
		assert.Contains(t, out, fmt.Sprintf("ok   database: DIR/gavel.db is at schema v%d, current\n", store.LatestVersion()))

		raw, err := sql.Open("sqlite", db)
		require.NoError(t, err)
		latest := store.LatestVersion()
		_, err = raw.Exec("UPDATE version SET version=$1, compat=$2", latest+2, latest+1)
		require.NoError(t, err)
		require.NoError(t, raw.Close())
		code, out = s.check(t, s.room, s.bot.AccessToken, s.admin.AccessToken, "")
		assert.Equal(t, 1, code)
		assertLines(t, out, "database")
		assert.Contains(t, out, fmt.Sprintf("FAIL database: database.uri: the database DIR/gavel.db is at schema v%d (which needs a Gavel that knows v%d or later), written by a newer Gavel; this Gavel knows up to v%d: run the newer Gavel, or restore a backup from before it ran\n", latest+2, latest+1, latest))
	})
	t.Run("bad config", func(t *testing.T) {
		var out, errOut syncBuffer
		assert.Equal(t, 1, run([]string{"-check", "-config", filepath.Join(s.dir, "missing.yaml")}, &out, &errOut))
		assertLines(t, out.String(), "config")
	})
}
