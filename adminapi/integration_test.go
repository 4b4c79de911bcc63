package adminapi_test

// Integration tests: every call against a real Synapse started by
// internal/testkit/synapsetest. Each test makes its own users and rooms, so they
// share one server per package.

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/synapseadmin"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/internal/testkit/synapsetest"
)

func TestMain(m *testing.M) { synapsetest.Main(m) }

var ctx = context.Background()

type fixture struct {
	srv       *synapsetest.Server
	admin     *adminapi.Client
	adminUser id.UserID
	alice     *mautrix.Client // reporter
	bob       *mautrix.Client // reported
	room      id.RoomID
}

// setup registers an admin, a reporter (alice) and a spammer (bob), and a
// public room of bob's that alice has joined.
func setup(t *testing.T) *fixture {
	t.Helper()
	srv := synapsetest.Shared(t)
	adminCli := srv.User(t, "admin", true)
	f := &fixture{
		srv:       srv,
		admin:     adminapi.Wrap(adminCli),
		adminUser: adminCli.UserID,
		alice:     srv.User(t, "alice", false),
		bob:       srv.User(t, "bob", false),
	}
	resp, err := f.bob.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat", Name: "Spam <b>room</b>"})
	require.NoError(t, err)
	f.room = resp.RoomID
	_, err = f.alice.JoinRoomByID(ctx, f.room)
	require.NoError(t, err)
	return f
}

func (f *fixture) send(t *testing.T, text string) id.EventID {
	t.Helper()
	resp, err := f.bob.SendText(ctx, f.room, text)
	require.NoError(t, err)
	return resp.EventID
}

// report files an event report as alice through the client-server API.
func (f *fixture) report(t *testing.T, eventID id.EventID, reason string, score int) {
	t.Helper()
	url := f.alice.BuildClientURL("v3", "rooms", f.room, "report", eventID)
	_, err := f.alice.MakeRequest(ctx, http.MethodPost, url, map[string]any{"reason": reason, "score": score}, nil)
	require.NoError(t, err)
}

func reportIDs(reports []adminapi.EventReport) []int64 {
	ids := make([]int64, len(reports))
	for i, r := range reports {
		ids[i] = r.ID
	}
	return ids
}

func TestServerVersionAndAdminCheck(t *testing.T) {
	f := setup(t)
	version, err := f.admin.ServerVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, f.srv.Version, version)
	t.Logf("Synapse %s", version)

	user, isAdmin, err := f.admin.IsServerAdmin(ctx)
	require.NoError(t, err)
	assert.Equal(t, f.adminUser, user)
	assert.True(t, isAdmin)

	user, isAdmin, err = adminapi.Wrap(f.alice).IsServerAdmin(ctx)
	require.NoError(t, err)
	assert.Equal(t, f.alice.UserID, user)
	assert.False(t, isAdmin)

	bad, err := adminapi.New(f.srv.URL, "not-a-token")
	require.NoError(t, err)
	_, _, err = bad.IsServerAdmin(ctx)
	assert.True(t, adminapi.IsUnauthorized(err), "error: %v", err)
	assert.Equal(t, "M_UNKNOWN_TOKEN", adminapi.ErrCode(err))
}

func TestEventReports(t *testing.T) {
	f := setup(t)
	carol := f.srv.User(t, "carol", false)
	_, err := carol.JoinRoomByID(ctx, f.room)
	require.NoError(t, err)

	var events []id.EventID
	for i, text := range []string{"buy <b>now</b>", "spam two", "spam three", "spam four", "spam five"} {
		events = append(events, f.send(t, text))
		f.report(t, events[i], "reason "+text, -100+i)
		time.Sleep(2 * time.Millisecond) // distinct received_ts, so the order is defined
	}
	// One report by someone else, about an event by someone else.
	carolEvent, err := carol.SendText(ctx, f.room, "carol's message")
	require.NoError(t, err)
	url := carol.BuildClientURL("v3", "rooms", f.room, "report", carolEvent.EventID)
	_, err = carol.MakeRequest(ctx, http.MethodPost, url, map[string]any{"reason": "self report"}, nil)
	require.NoError(t, err)

	inRoom := adminapi.EventReportsQuery{RoomID: f.room}

	t.Run("list, newest first by default", func(t *testing.T) {
		page, err := f.admin.ListEventReports(ctx, inRoom)
		require.NoError(t, err)
		assert.EqualValues(t, 6, page.Total)
		assert.Nil(t, page.NextToken)
		require.Len(t, page.Items, 6)
		assert.Equal(t, "self report", page.Items[0].Reason)
		newest := page.Items[1]
		assert.Equal(t, events[4], newest.EventID)
		assert.Equal(t, f.room, newest.RoomID)
		assert.Equal(t, f.alice.UserID, newest.UserID)
		assert.Equal(t, f.bob.UserID, newest.Sender)
		assert.Equal(t, "reason spam five", newest.Reason)
		require.NotNil(t, newest.Score)
		assert.Equal(t, adminapi.Score(-96), *newest.Score)
		assert.Equal(t, "Spam <b>room</b>", newest.Name)
		assert.WithinDuration(t, time.Now(), newest.Received(), time.Minute)
	})

	t.Run("pages in both directions", func(t *testing.T) {
		first, err := f.admin.ListEventReports(ctx, adminapi.EventReportsQuery{
			RoomID: f.room, PageQuery: adminapi.PageQuery{Limit: 2, Dir: mautrix.DirectionForward}})
		require.NoError(t, err)
		require.NotNil(t, first.NextToken)
		assert.EqualValues(t, 2, *first.NextToken)
		assert.Equal(t, []id.EventID{events[0], events[1]}, []id.EventID{first.Items[0].EventID, first.Items[1].EventID})

		var forward, backward []adminapi.EventReport
		for r, err := range f.admin.EventReports(ctx, adminapi.EventReportsQuery{
			RoomID: f.room, PageQuery: adminapi.PageQuery{Limit: 2, Dir: mautrix.DirectionForward}}) {
			require.NoError(t, err)
			forward = append(forward, r)
		}
		for r, err := range f.admin.EventReports(ctx, adminapi.EventReportsQuery{
			RoomID: f.room, PageQuery: adminapi.PageQuery{Limit: 4, Dir: mautrix.DirectionBackward}}) {
			require.NoError(t, err)
			backward = append(backward, r)
		}
		require.Len(t, forward, 6)
		reversed := reportIDs(backward)
		slices.Reverse(reversed)
		assert.Equal(t, reportIDs(forward), reversed)
	})

	t.Run("filters", func(t *testing.T) {
		byCarol, err := f.admin.ListEventReports(ctx, adminapi.EventReportsQuery{RoomID: f.room, UserID: carol.UserID})
		require.NoError(t, err)
		require.Len(t, byCarol.Items, 1)
		assert.Equal(t, carolEvent.EventID, byCarol.Items[0].EventID)

		aboutBob, err := f.admin.ListEventReports(ctx, adminapi.EventReportsQuery{EventSenderUserID: f.bob.UserID})
		require.NoError(t, err)
		assert.EqualValues(t, 5, aboutBob.Total)
		for _, r := range aboutBob.Items {
			assert.Equal(t, f.bob.UserID, r.Sender)
		}

		otherRoom, err := f.admin.ListEventReports(ctx, adminapi.EventReportsQuery{RoomID: "!nothing-here:" + id.RoomID(f.srv.ServerName)})
		require.NoError(t, err)
		assert.Empty(t, otherRoom.Items)
		assert.Zero(t, otherRoom.Total)
	})

	t.Run("get with the reported event", func(t *testing.T) {
		page, err := f.admin.ListEventReports(ctx, adminapi.EventReportsQuery{RoomID: f.room, PageQuery: adminapi.PageQuery{Dir: mautrix.DirectionForward, Limit: 1}})
		require.NoError(t, err)
		first := page.Items[0]
		detail, err := f.admin.EventReport(ctx, first.ID)
		require.NoError(t, err)
		assert.Equal(t, first, detail.EventReport)
		assert.Contains(t, string(detail.EventJSON), `buy <b>now</b>`)
		require.NotNil(t, detail.Event)
		assert.Equal(t, events[0], detail.Event.ID)
		assert.Equal(t, event.EventMessage, detail.Event.Type)
		assert.Equal(t, f.bob.UserID, detail.Event.Sender)
		assert.Equal(t, "buy <b>now</b>", detail.Event.Content.AsMessage().Body)
	})

	t.Run("delete", func(t *testing.T) {
		page, err := f.admin.ListEventReports(ctx, adminapi.EventReportsQuery{RoomID: f.room, UserID: carol.UserID})
		require.NoError(t, err)
		reportID := page.Items[0].ID
		require.NoError(t, f.admin.DeleteEventReport(ctx, reportID))

		_, err = f.admin.EventReport(ctx, reportID)
		assert.True(t, adminapi.IsNotFound(err), "error: %v", err)
		err = f.admin.DeleteEventReport(ctx, reportID)
		assert.True(t, adminapi.IsNotFound(err), "deleting twice: %v", err)

		after, err := f.admin.ListEventReports(ctx, inRoom)
		require.NoError(t, err)
		assert.EqualValues(t, 5, after.Total)
		assert.NotContains(t, reportIDs(after.Items), reportID)
	})
}

func TestUnknownReportAndForbidden(t *testing.T) {
	f := setup(t)
	_, err := f.admin.EventReport(ctx, 987654321)
	require.Error(t, err)
	assert.True(t, adminapi.IsNotFound(err))
	assert.Equal(t, "M_NOT_FOUND", adminapi.ErrCode(err))
	assert.Contains(t, err.Error(), "Event report not found (Synapse: M_NOT_FOUND, HTTP 404)")

	notAdmin := adminapi.Wrap(f.alice)
	_, err = notAdmin.ListEventReports(ctx, adminapi.EventReportsQuery{})
	assert.True(t, adminapi.IsForbidden(err), "error: %v", err)
	assert.Equal(t, "M_FORBIDDEN", adminapi.ErrCode(err))
	assert.Contains(t, err.Error(), "You are not a server admin")
	assert.NotContains(t, err.Error(), f.alice.AccessToken)
	_, err = notAdmin.QuarantineRoomMedia(ctx, f.room)
	assert.True(t, adminapi.IsForbidden(err), "error: %v", err)
}

func TestValidationStopsBeforeSynapse(t *testing.T) {
	f := setup(t)
	_, err := f.admin.EventReport(ctx, -1)
	assert.True(t, adminapi.IsInvalidInput(err))
	_, err = f.admin.QuarantineMedia(ctx, id.ContentURI{Homeserver: f.srv.ServerName, FileID: "../x"})
	assert.True(t, adminapi.IsInvalidInput(err))
	_, err = f.admin.QuarantineRoomMedia(ctx, "#alias:"+id.RoomID(f.srv.ServerName))
	assert.ErrorContains(t, err, "this is a room alias")
	_, err = f.admin.QuarantineUserMedia(ctx, "bob")
	assert.True(t, adminapi.IsInvalidInput(err))
}

func TestUserReports(t *testing.T) {
	f := setup(t)
	fileUserReport := func(reporter *mautrix.Client, target id.UserID, reason string) {
		t.Helper()
		url := reporter.BuildClientURL("v3", "users", target, "report")
		_, err := reporter.MakeRequest(ctx, http.MethodPost, url, map[string]any{"reason": reason}, nil)
		require.NoError(t, err)
	}
	fileUserReport(f.alice, f.bob.UserID, "rude")
	fileUserReport(f.alice, f.bob.UserID, "still rude")
	fileUserReport(f.bob, f.alice.UserID, "retaliation")

	page, err := f.admin.ListUserReports(ctx, adminapi.UserReportsQuery{TargetUserID: f.bob.UserID, PageQuery: adminapi.PageQuery{Limit: 1}})
	require.NoError(t, err)
	assert.EqualValues(t, 2, page.Total)
	require.Len(t, page.Items, 1)
	require.NotNil(t, page.NextToken)
	assert.Equal(t, "still rude", page.Items[0].Reason, "newest first")

	var all []adminapi.UserReport
	for r, err := range f.admin.UserReports(ctx, adminapi.UserReportsQuery{TargetUserID: f.bob.UserID, PageQuery: adminapi.PageQuery{Limit: 1, Dir: mautrix.DirectionForward}}) {
		require.NoError(t, err)
		all = append(all, r)
	}
	require.Len(t, all, 2)
	assert.Equal(t, "rude", all[0].Reason)
	assert.Equal(t, f.alice.UserID, all[0].UserID)
	assert.Equal(t, f.bob.UserID, all[0].TargetUserID)

	byBob, err := f.admin.ListUserReports(ctx, adminapi.UserReportsQuery{UserID: f.bob.UserID})
	require.NoError(t, err)
	require.Len(t, byBob.Items, 1)
	assert.Equal(t, "retaliation", byBob.Items[0].Reason)

	got, err := f.admin.UserReport(ctx, all[0].ID)
	require.NoError(t, err)
	assert.Equal(t, all[0], *got)

	require.NoError(t, f.admin.DeleteUserReport(ctx, all[0].ID))
	_, err = f.admin.UserReport(ctx, all[0].ID)
	assert.True(t, adminapi.IsNotFound(err), "error: %v", err)
	assert.False(t, adminapi.IsUnsupported(err))
	assert.True(t, adminapi.IsNotFound(f.admin.DeleteUserReport(ctx, all[0].ID)))
}

func TestMedia(t *testing.T) {
	f := setup(t)
	upload := func(name string) id.ContentURI {
		t.Helper()
		resp, err := f.bob.UploadBytesWithName(ctx, []byte("not really a png: "+name+time.Now().String()), "image/png", name)
		require.NoError(t, err)
		// Reference it from the room, so the room's media lists it.
		_, err = f.bob.SendMessageEvent(ctx, f.room, event.EventMessage, &event.MessageEventContent{
			MsgType: event.MsgImage, Body: name, URL: resp.ContentURI.CUString(),
		})
		require.NoError(t, err)
		return resp.ContentURI
	}
	cat, dog, fox := upload("cat.png"), upload("dog.png"), upload("fox.png")
	canDownload := func(uri id.ContentURI) bool {
		t.Helper()
		_, err := f.alice.DownloadBytes(ctx, uri)
		if err != nil {
			require.True(t, errors404(err), "download failed otherwise: %v", err)
		}
		return err == nil
	}

	t.Run("info", func(t *testing.T) {
		info, err := f.admin.MediaInfo(ctx, cat)
		require.NoError(t, err)
		assert.Equal(t, cat.FileID, info.MediaID)
		assert.Equal(t, f.bob.UserID, info.UserID)
		assert.Equal(t, "image/png", info.MediaType)
		assert.Equal(t, "cat.png", info.UploadName)
		assert.False(t, info.Quarantined())
		assert.False(t, bool(info.SafeFromQuarantine))
		assert.Empty(t, info.MediaOrigin)

		_, err = f.admin.MediaInfo(ctx, id.ContentURI{Homeserver: f.srv.ServerName, FileID: "doesNotExist"})
		assert.True(t, adminapi.IsNotFound(err), "error: %v", err)
	})

	t.Run("room media", func(t *testing.T) {
		media, err := f.admin.RoomMedia(ctx, f.room)
		require.NoError(t, err)
		assert.ElementsMatch(t, []id.ContentURI{cat, dog, fox}, media.Local)
		assert.Empty(t, media.Remote)
	})

	t.Run("quarantine and unquarantine one item", func(t *testing.T) {
		require.True(t, canDownload(cat))
		before, err := f.admin.QuarantineMedia(ctx, cat)
		require.NoError(t, err)
		assert.False(t, before.Quarantined(), "the info returned is from before the change")
		info, err := f.admin.MediaInfo(ctx, cat)
		require.NoError(t, err)
		assert.Equal(t, f.adminUser, info.QuarantinedBy)
		assert.False(t, canDownload(cat), "quarantined media is not served")

		before, err = f.admin.UnquarantineMedia(ctx, cat)
		require.NoError(t, err)
		assert.True(t, before.Quarantined())
		info, err = f.admin.MediaInfo(ctx, cat)
		require.NoError(t, err)
		assert.False(t, info.Quarantined())
		assert.True(t, canDownload(cat))
	})

	t.Run("unknown media is not reported as quarantined", func(t *testing.T) {
		_, err := f.admin.QuarantineMedia(ctx, id.ContentURI{Homeserver: f.srv.ServerName, FileID: "doesNotExist"})
		assert.True(t, adminapi.IsNotFound(err), "error: %v", err)
		assert.Contains(t, err.Error(), "Unknown media")
	})

	t.Run("protect, then quarantine the room and the user", func(t *testing.T) {
		_, err := f.admin.ProtectMedia(ctx, dog)
		require.NoError(t, err)
		info, err := f.admin.MediaInfo(ctx, dog)
		require.NoError(t, err)
		assert.True(t, bool(info.SafeFromQuarantine))

		n, err := f.admin.QuarantineRoomMedia(ctx, f.room)
		require.NoError(t, err)
		assert.Equal(t, 2, n, "cat and fox; dog is protected")
		assert.False(t, canDownload(fox))
		assert.True(t, canDownload(dog))
		info, err = f.admin.MediaInfo(ctx, dog)
		require.NoError(t, err)
		assert.False(t, info.Quarantined())

		_, err = f.admin.UnprotectMedia(ctx, dog)
		require.NoError(t, err)
		info, err = f.admin.MediaInfo(ctx, dog)
		require.NoError(t, err)
		assert.False(t, bool(info.SafeFromQuarantine))

		n, err = f.admin.QuarantineUserMedia(ctx, f.bob.UserID)
		require.NoError(t, err)
		assert.Equal(t, 1, n, "Synapse counts only what it newly quarantined: dog; cat and fox already were")
		for _, uri := range []id.ContentURI{cat, dog, fox} {
			info, err := f.admin.MediaInfo(ctx, uri)
			require.NoError(t, err)
			assert.Equal(t, f.adminUser, info.QuarantinedBy, uri.String())
		}
		assert.False(t, canDownload(dog))
	})

	t.Run("list a user's media", func(t *testing.T) {
		page, err := f.admin.ListUserMedia(ctx, f.bob.UserID, adminapi.UserMediaQuery{PageQuery: adminapi.PageQuery{Limit: 2}})
		require.NoError(t, err)
		assert.EqualValues(t, 3, page.Total)
		require.Len(t, page.Items, 2)
		require.NotNil(t, page.NextToken)

		var ids []string
		for m, err := range f.admin.UserMedia(ctx, f.bob.UserID, adminapi.UserMediaQuery{
			PageQuery: adminapi.PageQuery{Limit: 1, Dir: mautrix.DirectionForward}, OrderBy: "created_ts"}) {
			require.NoError(t, err)
			ids = append(ids, m.MediaID)
			assert.True(t, m.Quarantined())
		}
		assert.Equal(t, []string{cat.FileID, dog.FileID, fox.FileID}, ids)

		_, err = f.admin.ListUserMedia(ctx, "@nobody-"+id.UserID(time.Now().Format("150405"))+":"+id.UserID(f.srv.ServerName), adminapi.UserMediaQuery{})
		assert.True(t, adminapi.IsNotFound(err), "unknown user: %v", err)
	})
}

func errors404(err error) bool {
	var httpErr mautrix.HTTPError
	return errors.As(err, &httpErr) && httpErr.IsStatus(http.StatusNotFound)
}

func TestRoomsAndUsers(t *testing.T) {
	f := setup(t)
	info, err := f.admin.RoomInfo(ctx, f.room)
	require.NoError(t, err)
	assert.Equal(t, "Spam <b>room</b>", info.Name)
	assert.Equal(t, 2, info.JoinedMembers)
	assert.Equal(t, f.bob.UserID, info.Creator)

	t.Run("block", func(t *testing.T) {
		require.NoError(t, f.admin.BlockRoom(ctx, f.room, true))
		status, err := f.admin.RoomBlockStatus(ctx, f.room)
		require.NoError(t, err)
		assert.True(t, status.Block)
		assert.Equal(t, f.adminUser, status.UserID)
		carol := f.srv.User(t, "carol", false)
		_, err = carol.JoinRoomByID(ctx, f.room)
		assert.Error(t, err, "nobody can join a blocked room")
		require.NoError(t, f.admin.BlockRoom(ctx, f.room, false))
		status, err = f.admin.RoomBlockStatus(ctx, f.room)
		require.NoError(t, err)
		assert.False(t, status.Block)
	})

	t.Run("user info and suspend", func(t *testing.T) {
		user, err := f.admin.UserInfo(ctx, f.bob.UserID)
		require.NoError(t, err)
		assert.Equal(t, f.bob.UserID, user.UserID)
		assert.False(t, user.Admin)

		require.NoError(t, f.admin.SuspendAccount(ctx, f.bob.UserID, true))
		_, err = f.bob.SendText(ctx, f.room, "can I still talk?")
		assert.ErrorContains(t, err, "M_USER_SUSPENDED")
		require.NoError(t, f.admin.SuspendAccount(ctx, f.bob.UserID, false))
		_, err = f.bob.SendText(ctx, f.room, "yes")
		assert.NoError(t, err)
	})

	t.Run("account, lock and shadow-ban", func(t *testing.T) {
		acc, err := f.admin.Account(ctx, f.bob.UserID)
		require.NoError(t, err)
		assert.Equal(t, f.bob.UserID, acc.UserID)
		assert.WithinDuration(t, time.Now(), acc.Created(), time.Hour, "creation_ts is in seconds")
		rooms, err := f.admin.JoinedRoomCount(ctx, f.bob.UserID)
		require.NoError(t, err)
		assert.Equal(t, 1, rooms)

		require.NoError(t, f.admin.LockAccount(ctx, f.bob.UserID, true))
		acc, err = f.admin.Account(ctx, f.bob.UserID)
		require.NoError(t, err)
		assert.True(t, bool(acc.Locked))
		require.NoError(t, f.admin.LockAccount(ctx, f.bob.UserID, false))
		require.NoError(t, f.admin.ShadowBan(ctx, f.bob.UserID, true))
		acc, err = f.admin.Account(ctx, f.bob.UserID)
		require.NoError(t, err)
		assert.True(t, bool(acc.ShadowBanned))
		assert.False(t, bool(acc.Locked))
		require.NoError(t, f.admin.ShadowBan(ctx, f.bob.UserID, false))

		// The lock endpoint would create an unknown account: the client
		// refuses instead.
		nobody := id.NewUserID("nobody-"+f.bob.UserID.Localpart(), f.bob.UserID.Homeserver())
		err = f.admin.LockAccount(ctx, nobody, true)
		assert.True(t, adminapi.IsNotFound(err), "error: %v", err)
		_, err = f.admin.Account(ctx, nobody)
		assert.True(t, adminapi.IsNotFound(err), "no account was created: %v", err)
	})

	t.Run("redact a user", func(t *testing.T) {
		spam := f.send(t, "redact me")
		redactID, err := f.admin.RedactUser(ctx, f.bob.UserID, adminapi.RedactRequest{Rooms: []id.RoomID{f.room}, Reason: "spam"})
		require.NoError(t, err)
		require.NotEmpty(t, redactID)
		var status synapseadmin.RespRedactUserStatus
		require.Eventually(t, func() bool {
			status, err = f.admin.RedactUserStatus(ctx, redactID)
			return err == nil && status.Status == "complete"
		}, 20*time.Second, 100*time.Millisecond)
		assert.Empty(t, status.FailedRedactions)
		evt, err := f.alice.GetEvent(ctx, f.room, spam)
		require.NoError(t, err)
		assert.Empty(t, evt.Content.Raw, "the event's content is gone")
		_, err = f.admin.RedactUserStatus(ctx, "unknownRedactID")
		assert.True(t, adminapi.IsNotFound(err), "error: %v", err)
	})

	t.Run("delete a room", func(t *testing.T) {
		doomed, err := f.bob.CreateRoom(ctx, &mautrix.ReqCreateRoom{Name: "doomed"})
		require.NoError(t, err)
		deleteID, err := f.admin.DeleteRoom(ctx, doomed.RoomID, adminapi.DeleteRoomRequest{Purge: true, Block: true})
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			status, err := f.admin.DeleteRoomStatus(ctx, deleteID)
			return err == nil && status.Status == "complete"
		}, 30*time.Second, 100*time.Millisecond)
		_, err = f.admin.RoomInfo(ctx, doomed.RoomID)
		assert.True(t, adminapi.IsNotFound(err), "a purged room is gone: %v", err)
	})

	t.Run("deactivate", func(t *testing.T) {
		dave := f.srv.User(t, "dave", false)
		require.NoError(t, f.admin.DeactivateAccount(ctx, dave.UserID, false))
		user, err := f.admin.UserInfo(ctx, dave.UserID)
		require.NoError(t, err)
		assert.True(t, user.Deactivated)
		_, err = dave.Whoami(ctx)
		assert.Error(t, err, "a deactivated user's token stops working")
	})
}

// Synapse stores any integer score; a reporter must not be able to make the
// listing unreadable with a huge one.
func TestHugeScoreFromARealReport(t *testing.T) {
	f := setup(t)
	eventID := f.send(t, "score me")
	url := f.alice.BuildClientURL("v3", "rooms", f.room, "report", eventID)
	_, err := f.alice.MakeRequest(ctx, http.MethodPost, url, map[string]any{"reason": "huge", "score": json.Number("99999999999999999999")}, nil)
	require.NoError(t, err)
	page, err := f.admin.ListEventReports(ctx, adminapi.EventReportsQuery{RoomID: f.room})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	require.NotNil(t, page.Items[0].Score)
	assert.Equal(t, adminapi.Score(math.MaxInt32), *page.Items[0].Score)
	detail, err := f.admin.EventReport(ctx, page.Items[0].ID)
	require.NoError(t, err)
	assert.Equal(t, adminapi.Score(math.MaxInt32), *detail.Score)
}

// The test Synapse sends server notices; the probe sends none.
func TestServerNoticesEnabled(t *testing.T) {
	f := setup(t)
	on, err := f.admin.ServerNoticesEnabled(ctx, f.srv.ServerName)
	require.NoError(t, err)
	assert.True(t, on)
}
