package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// TestCheckDesks: gavel -check checks each desk after the rest: Gavel in
// (or invited to) its room, each alias of its rooms, each space read with
// its room count; a desk room Gavel is not in, or a space that does not
// exist, fails at that desk's line.
func TestCheckDesks(t *testing.T) {
	s := newCheckSetup(t)
	space, err := s.admin.CreateRoom(bg(), &mautrix.ReqCreateRoom{Name: "Gaming", CreationContent: map[string]any{"type": event.RoomTypeSpace}})
	require.NoError(t, err)
	alias := "check-lobby-" + strings.ToLower(string(space.RoomID[1:7]))
	lobby, err := s.admin.CreateRoom(bg(), &mautrix.ReqCreateRoom{Name: "Lobby", RoomAliasName: alias})
	require.NoError(t, err)
	_, err = s.admin.SendStateEvent(bg(), space.RoomID, event.StateSpaceChild, string(lobby.RoomID), &event.SpaceChildEventContent{Via: []string{s.srv.ServerName}})
	require.NoError(t, err)
	deskRoom, err := s.admin.CreateRoom(bg(), &mautrix.ReqCreateRoom{Invite: []id.UserID{s.bot.UserID}})
	require.NoError(t, err)

	check := func(room id.RoomID, spaceRef string) (int, string) {
		path := filepath.Join(s.dir, "config.yaml")
		config := fmt.Sprintf("matrix:\n  homeserver: %s\n  user_id: %q\n  management_room: %q\ndatabase:\n  uri: %s\n"+
			"desks:\n  - name: gaming\n    room: %q\n    spaces: [%q]\n    rooms: [\"#%s:%s\"]\n",
			s.srv.URL, s.bot.UserID, s.room, filepath.Join(s.dir, "gavel.db"), room, spaceRef, alias, s.srv.ServerName)
		require.NoError(t, os.WriteFile(path, []byte(config), 0o600))
		t.Setenv("GAVEL_ACCESS_TOKEN", s.bot.AccessToken)
		t.Setenv("GAVEL_ADMIN_ACCESS_TOKEN", s.admin.AccessToken)
		var out, errOut syncBuffer
		code := run([]string{"-check", "-config", path}, &out, &errOut)
		assert.Empty(t, errOut.String())
		return code, out.String()
	}

	code, out := check(deskRoom.RoomID, string(space.RoomID))
	assert.Equal(t, 0, code, out)
	t.Logf("gavel -check:\n%s", out)
	assert.Contains(t, out, "ok   database: ", "the desks come after the other checks")
	assert.Contains(t, out, "ok   roles: desk gaming: the power level each command it runs needs in its room (desks[].power_levels; the others are the server desk's):\n"+
		"       read: 50 — help, reports, report show, room show, policy check, policy list, desk refresh, status\n"+
		"       cases: 50 — report delete, report claim, report unclaim, report resolve, report dismiss, report reopen, report escalate\n"+
		"       room: 50 — kick, ban, unban, redact event\n"+
		"       destructive: 100 — redact user\n", "the desk's own table, without the server desk's commands")
	assert.True(t, strings.HasSuffix(out, fmt.Sprintf(
		"ok   desk gaming: %s is invited to desks[0].room %s and joins it when Gavel starts\n"+
			"ok   desk gaming: room #%s:%s is %s\n"+
			"ok   desk gaming: space %s holds 2 rooms, itself and its sub-spaces included\n",
		s.bot.UserID, deskRoom.RoomID, alias, s.srv.ServerName, lobby.RoomID, space.RoomID)), out)

	missing := "!nosuchspace:" + s.srv.ServerName
	code, out = check(deskRoom.RoomID, missing)
	assert.Equal(t, 1, code)
	assert.True(t, strings.HasSuffix(out, fmt.Sprintf("FAIL desk gaming: desks[0].spaces[0] %s: this homeserver knows no such room: check the room id or alias, and that an account of this server is in the space\n", missing)), out)

	other, err := s.admin.CreateRoom(bg(), &mautrix.ReqCreateRoom{})
	require.NoError(t, err)
	code, out = check(other.RoomID, string(space.RoomID))
	assert.Equal(t, 1, code)
	assert.True(t, strings.HasSuffix(out, fmt.Sprintf("FAIL desk gaming: %s is not in desks[0].room %s (membership: none): invite it to the room, or check the room id\n", s.bot.UserID, other.RoomID)), out)
}
