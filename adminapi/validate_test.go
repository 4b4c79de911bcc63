package adminapi

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/synapseadmin"
)

func TestValidateServerName(t *testing.T) {
	for _, ok := range []string{"example.org", "example.org:8448", "localhost", "1.2.3.4", "1.2.3.4:80", "[::1]", "[1234:5678::abcd]:8448", "a-b.example"} {
		assert.NoError(t, ValidateServerName(ok), ok)
	}
	for _, bad := range []string{"", "..", ".", ".example.org", "example..org", "example.org.", "exa mple.org", "example.org/x", "example.org:", "example.org:0", "example.org:99999", "example.org:abc", "[::1", "user@example.org", "example.org?x", "ex%2e.org"} {
		err := ValidateServerName(bad)
		assert.Error(t, err, bad)
		assert.True(t, IsInvalidInput(err), bad)
	}
}

func TestValidateRoomID(t *testing.T) {
	for _, ok := range []id.RoomID{"!abc:example.org", "!abc:example.org:8448", "!AbC123xyz-_:[::1]", "!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM"} {
		assert.NoError(t, ValidateRoomID(ok), ok)
	}
	for bad, reason := range map[id.RoomID]string{
		"":                         "must not be empty",
		"abc:example.org":          "must start with !",
		"#alias:example.org":       "room alias",
		"!":                        "nothing after the !",
		"!:example.org":            "nothing after the !",
		"!a b:example.org":         "spaces",
		"!abc:exa mple.org":        "not a valid server name",
		"!abc:..":                  "not a valid server name",
		"!abc\n:example.org":       "control",
		"!é:example.org":           "non-ASCII",
		"!a/../b:example.org":      "which no server puts in a room id",
		"!a%2Fb:example.org":       "which no server puts",
		"!a?x:example.org":         "which no server puts",
		"!a#x:example.org":         "which no server puts",
		`!a\b:example.org`:         "which no server puts",
		id.RoomID("!" + long(300)): "longer than 255",
	} {
		err := ValidateRoomID(bad)
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), reason, bad)
		assert.True(t, IsInvalidInput(err))
	}
}

func TestValidateUserID(t *testing.T) {
	for _, ok := range []id.UserID{"@alice:example.org", "@a.b=c_d+e:example.org:8448", "@Historic$Name:example.org", "@x:[::1]"} {
		assert.NoError(t, ValidateUserID(ok), ok)
	}
	for bad, reason := range map[id.UserID]string{
		"":                         "must not be empty",
		"alice:example.org":        "must start with @",
		"@alice":                   "server name after a colon",
		"@:example.org":            "empty name",
		"@al ice:example.org":      "spaces",
		"@a?b:example.org":         "which user ids do not have",
		"@a%2e:example.org":        "which user ids do not have",
		"@alice:exa/mple.org":      "not a valid server name",
		"@a/../admin:example.org":  "contains /, which Gavel refuses",
		"@alice:":                  "not a valid server name",
		id.UserID("@" + long(300)): "longer than 255",
	} {
		err := ValidateUserID(bad)
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), reason, bad)
	}
}

func TestValidateMediaAndContentURI(t *testing.T) {
	assert.NoError(t, ValidateMediaID("AbC_12-x"))
	for _, bad := range []string{"", "a.b", "a/b", "..", "a b", "a%2Fb", "ä", long(300)} {
		assert.Error(t, ValidateMediaID(bad), bad)
	}
	uri, err := ParseContentURI("mxc://example.org/AbC_12-x")
	require.NoError(t, err)
	assert.Equal(t, id.ContentURI{Homeserver: "example.org", FileID: "AbC_12-x"}, uri)
	for _, bad := range []string{"", "mxc://", "mxc://example.org", "mxc://example.org/", "https://example.org/a", "mxc://example.org/a/b", "mxc://../a", "mxc://example.org/a.b", "mxc:///a"} {
		_, err := ParseContentURI(bad)
		assert.Error(t, err, bad)
		assert.True(t, IsInvalidInput(err), bad)
	}
	assert.Error(t, ValidateContentURI(id.ContentURI{}))
}

func TestValidateReportID(t *testing.T) {
	assert.NoError(t, ValidateReportID(2))
	for _, bad := range []int64{0, -1, -9223372036854775808} {
		err := ValidateReportID(bad)
		assert.ErrorContains(t, err, "must be a positive number")
	}
}

// TestInvalidInputSendsNothing calls every method with a malformed input
// and checks that each returns an *InvalidInputError without a request.
func TestInvalidInputSendsNothing(t *testing.T) {
	badRoom := id.RoomID("#not-a-room:example.org")
	badUser := id.UserID("bob")
	badMxc := id.ContentURI{Homeserver: "..", FileID: "x"}
	calls := map[string]func(c *Client) error{
		"list event reports: negative offset": func(c *Client) error {
			_, err := c.ListEventReports(ctx, EventReportsQuery{PageQuery: PageQuery{From: -1}})
			return err
		},
		"list event reports: negative limit": func(c *Client) error {
			_, err := c.ListEventReports(ctx, EventReportsQuery{PageQuery: PageQuery{Limit: -5}})
			return err
		},
		"list event reports: bad direction": func(c *Client) error {
			_, err := c.ListEventReports(ctx, EventReportsQuery{PageQuery: PageQuery{Dir: 'x'}})
			return err
		},
		"list event reports: bad reporter": func(c *Client) error {
			_, err := c.ListEventReports(ctx, EventReportsQuery{UserID: badUser})
			return err
		},
		"list event reports: bad room": func(c *Client) error {
			_, err := c.ListEventReports(ctx, EventReportsQuery{RoomID: badRoom})
			return err
		},
		"list event reports: bad sender": func(c *Client) error {
			_, err := c.ListEventReports(ctx, EventReportsQuery{EventSenderUserID: badUser})
			return err
		},
		"iterate event reports": func(c *Client) error {
			for _, err := range c.EventReports(ctx, EventReportsQuery{RoomID: badRoom}) {
				return err
			}
			return nil
		},
		"get event report":    func(c *Client) error { _, err := c.EventReport(ctx, 0); return err },
		"delete event report": func(c *Client) error { return c.DeleteEventReport(ctx, -3) },
		"list user reports": func(c *Client) error {
			_, err := c.ListUserReports(ctx, UserReportsQuery{TargetUserID: badUser})
			return err
		},
		"list user reports: bad reporter": func(c *Client) error {
			_, err := c.ListUserReports(ctx, UserReportsQuery{UserID: badUser})
			return err
		},
		"get user report":    func(c *Client) error { _, err := c.UserReport(ctx, 0); return err },
		"delete user report": func(c *Client) error { return c.DeleteUserReport(ctx, 0) },
		"media info":         func(c *Client) error { _, err := c.MediaInfo(ctx, badMxc); return err },
		"quarantine media": func(c *Client) error {
			_, err := c.QuarantineMedia(ctx, id.ContentURI{Homeserver: "example.org", FileID: "../../x"})
			return err
		},
		"unquarantine media":    func(c *Client) error { _, err := c.UnquarantineMedia(ctx, badMxc); return err },
		"protect media":         func(c *Client) error { _, err := c.ProtectMedia(ctx, badMxc); return err },
		"unprotect media":       func(c *Client) error { _, err := c.UnprotectMedia(ctx, badMxc); return err },
		"quarantine room media": func(c *Client) error { _, err := c.QuarantineRoomMedia(ctx, badRoom); return err },
		"quarantine user media": func(c *Client) error { _, err := c.QuarantineUserMedia(ctx, badUser); return err },
		"room media":            func(c *Client) error { _, err := c.RoomMedia(ctx, badRoom); return err },
		"list user media":       func(c *Client) error { _, err := c.ListUserMedia(ctx, badUser, UserMediaQuery{}); return err },
		"list user media: bad order": func(c *Client) error {
			_, err := c.ListUserMedia(ctx, userID, UserMediaQuery{OrderBy: "x; DROP"})
			return err
		},
		"room info":   func(c *Client) error { _, err := c.RoomInfo(ctx, badRoom); return err },
		"delete room": func(c *Client) error { _, err := c.DeleteRoom(ctx, badRoom, synapseadmin.ReqDeleteRoom{}); return err },
		"delete room: bad new owner": func(c *Client) error {
			_, err := c.DeleteRoom(ctx, roomID, synapseadmin.ReqDeleteRoom{NewRoomUserID: badUser})
			return err
		},
		"delete room status": func(c *Client) error { _, err := c.DeleteRoomStatus(ctx, "../x"); return err },
		"block room":         func(c *Client) error { return c.BlockRoom(ctx, badRoom, true) },
		"room block status":  func(c *Client) error { _, err := c.RoomBlockStatus(ctx, badRoom); return err },
		"user info":          func(c *Client) error { _, err := c.UserInfo(ctx, badUser); return err },
		"deactivate account": func(c *Client) error { return c.DeactivateAccount(ctx, badUser, false) },
		"suspend account":    func(c *Client) error { return c.SuspendAccount(ctx, badUser, true) },
		"redact user":        func(c *Client) error { _, err := c.RedactUser(ctx, badUser, synapseadmin.ReqRedactUser{}); return err },
		"redact user: bad room": func(c *Client) error {
			_, err := c.RedactUser(ctx, userID, synapseadmin.ReqRedactUser{Rooms: []id.RoomID{badRoom}})
			return err
		},
		"redact user status": func(c *Client) error { _, err := c.RedactUserStatus(ctx, ""); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			c, f := newFake(t, answerOK(`{}`))
			err := call(c)
			require.Error(t, err)
			var invalid *InvalidInputError
			assert.ErrorAs(t, err, &invalid)
			assert.Empty(t, f.requests(), "nothing may be sent for invalid input")
		})
	}
}

func TestIDsStayInOnePathSegment(t *testing.T) {
	c, f := newFake(t, answerOK(`{"num_quarantined": 0}`))
	// Room ids are opaque: what may follow the ! is escaped, never
	// interpreted.
	_, err := c.QuarantineRoomMedia(ctx, "!a$b+c=d&e;f,g@h:example.org")
	require.NoError(t, err)
	got := f.requests()
	require.Len(t, got, 1)
	assert.Equal(t, "/_synapse/admin/v1/room/%21a$b+c=d&e%3Bf%2Cg@h:example.org/media/quarantine", got[0].Path)
	assert.Empty(t, got[0].Query)
}

func TestListUserMediaDirection(t *testing.T) {
	c, f := newFake(t, answerOK(`{"media": [], "total": 0}`))
	_, err := c.ListUserMedia(ctx, userID, UserMediaQuery{PageQuery: PageQuery{Dir: mautrix.DirectionForward}})
	require.NoError(t, err)
	assert.Equal(t, "f", f.requests()[0].Query.Get("dir"))
}

func long(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a'
	}
	return string(b) + ":example.org"
}
