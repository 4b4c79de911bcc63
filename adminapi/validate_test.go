package adminapi

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

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
		"delete room": func(c *Client) error { _, err := c.DeleteRoom(ctx, badRoom, DeleteRoomRequest{}); return err },
		"delete room: bad new owner": func(c *Client) error {
			_, err := c.DeleteRoom(ctx, roomID, DeleteRoomRequest{NewRoomUserID: badUser})
			return err
		},
		"delete room status": func(c *Client) error { _, err := c.DeleteRoomStatus(ctx, "../x"); return err },
		"block room":         func(c *Client) error { return c.BlockRoom(ctx, badRoom, true) },
		"room block status":  func(c *Client) error { _, err := c.RoomBlockStatus(ctx, badRoom); return err },
		"user info":          func(c *Client) error { _, err := c.UserInfo(ctx, badUser); return err },
		"deactivate account": func(c *Client) error { return c.DeactivateAccount(ctx, badUser, false) },
		"suspend account":    func(c *Client) error { return c.SuspendAccount(ctx, badUser, true) },
		"redact user":        func(c *Client) error { _, err := c.RedactUser(ctx, badUser, RedactRequest{}); return err },
		"redact user: bad room": func(c *Client) error {
			_, err := c.RedactUser(ctx, userID, RedactRequest{Rooms: []id.RoomID{badRoom}})
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
