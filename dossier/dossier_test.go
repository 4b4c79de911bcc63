package dossier

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/internal/testkit/faultproxy"
	"github.com/gavel-bot/gavel/internal/testkit/synapsetest"
	"github.com/gavel-bot/gavel/store"
)

func TestMain(m *testing.M) { synapsetest.Main(m) }

var bg = context.Background()

// setup is a world on the shared Synapse and a Gatherer on a fresh store.
func setup(t *testing.T) (*synapsetest.World, *Gatherer) {
	t.Helper()
	srv := synapsetest.Shared(t)
	w, err := srv.NewWorld(bg, synapsetest.WorldOptions{Unique: true})
	require.NoError(t, err)
	st, err := store.Open(bg, filepath.Join(t.TempDir(), "gavel.db"), zerolog.Nop())
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return w, &Gatherer{Admin: w.Admin, Store: st, Server: w.Bot.UserID.Homeserver()}
}

func send(t *testing.T, cli *mautrix.Client, room id.RoomID, body string) id.EventID {
	t.Helper()
	resp, err := cli.SendText(bg, room, body)
	require.NoError(t, err)
	return resp.EventID
}

// subject files a report about eventID as the world's reporter and
// returns what a dossier is gathered for.
func subject(t *testing.T, w *synapsetest.World, eventID id.EventID) Subject {
	t.Helper()
	require.NoError(t, w.Report(bg, eventID, "spam"))
	reportID, err := w.ReportID(bg, eventID)
	require.NoError(t, err)
	detail, err := w.Admin.EventReport(bg, reportID)
	require.NoError(t, err)
	return Subject{Report: store.ReportKey{Kind: store.KindEvent, ID: reportID, ReceivedTS: detail.ReceivedTS},
		User: detail.Sender, Reporter: detail.UserID, RoomID: detail.RoomID, EventID: detail.EventID}
}

// TestLocalSender: the dossier of a report about a local sender holds
// their account, the room, the two messages before and after, and the
// histories Gavel has recorded.
func TestLocalSender(t *testing.T) {
	w, g := setup(t)
	require.NoError(t, w.Spammer.SetDisplayName(bg, "Spam <b>King</b>"))
	for _, b := range []string{"one", "two", "three"} {
		send(t, w.Spammer, w.PublicRoom, b)
	}
	spam := send(t, w.Spammer, w.PublicRoom, "buy now")
	send(t, w.Reporter, w.PublicRoom, "four")
	send(t, w.Spammer, w.PublicRoom, "five")
	send(t, w.Reporter, w.PublicRoom, "six")
	s := subject(t, w, spam)

	d, late := g.Gather(bg, s, 10*time.Second)
	require.Nil(t, late, "nothing was late")
	assert.True(t, d.Complete(), "missing: %v", d.Missing)
	require.NotNil(t, d.User)
	assert.True(t, d.User.Local)
	require.NotNil(t, d.User.Account)
	assert.Equal(t, "Spam <b>King</b>", d.User.Account.DisplayName)
	assert.WithinDuration(t, time.Now(), d.User.Account.Created(), time.Hour, "a new account")
	assert.False(t, bool(d.User.Account.Deactivated))

	require.NotNil(t, d.Room)
	assert.Equal(t, 2, d.Room.JoinedMembers, "the spammer and the reporter")

	var before, after []string
	for _, evt := range d.Before {
		before = append(before, evt.Content.AsMessage().Body)
	}
	for _, evt := range d.After {
		after = append(after, evt.Content.AsMessage().Body)
	}
	assert.Equal(t, []string{"three", "two"}, before, "two before, newest first")
	assert.Equal(t, []string{"four", "five"}, after, "two after, oldest first")

	require.NotNil(t, d.History)
	assert.Equal(t, store.UserRecord{}, *d.History, "Gavel has seen nothing of them yet")
	require.NotNil(t, d.Reporter)
	assert.Equal(t, store.ReporterRecord{}, *d.Reporter)
}

// TestDeactivatedAndRemoteSenders: a deactivated local account says so; a
// sender of another server is remote and Synapse is not asked for an
// account.
func TestDeactivatedAndRemoteSenders(t *testing.T) {
	w, g := setup(t)
	spam := send(t, w.Spammer, w.PublicRoom, "buy now")
	s := subject(t, w, spam)
	require.NoError(t, w.Admin.DeactivateAccount(bg, w.Spammer.UserID, false))
	d, _ := g.Gather(bg, s, 10*time.Second)
	require.NotNil(t, d.User)
	require.NotNil(t, d.User.Account)
	assert.True(t, bool(d.User.Account.Deactivated))

	s.User = "@spammer:elsewhere.example"
	d, _ = g.Gather(bg, s, 10*time.Second)
	require.NotNil(t, d.User)
	assert.False(t, d.User.Local)
	assert.Nil(t, d.User.Account)
	assert.Empty(t, d.Missing)
}

// TestReporterWithDismissedReports: the reporter's record counts their
// earlier reports Gavel saw, and the dismissed ones; the user's history
// counts the reports about them and the last outcome.
func TestReporterWithDismissedReports(t *testing.T) {
	w, g := setup(t)
	var earlier []store.Report
	for _, body := range []string{"a", "b", "c"} {
		s := subject(t, w, send(t, w.Spammer, w.PublicRoom, body))
		earlier = append(earlier, store.Report{ReportKey: s.Report, RoomID: s.RoomID, EventID: s.EventID, TargetUser: s.User, Reporter: s.Reporter})
	}
	require.NoError(t, g.Store.Reports.Skip(bg, earlier))
	for _, k := range []store.ReportKey{earlier[0].ReportKey, earlier[1].ReportKey} {
		c := store.Case{Report: k, State: store.CaseDismissed, By: "@mod:example.org", At: time.Now(), Note: "not spam"}
		changed, err := g.Store.Cases.Change(bg, &c, func(int) []store.Message { return nil })
		require.NoError(t, err)
		require.True(t, changed)
	}
	s := subject(t, w, send(t, w.Spammer, w.PublicRoom, "d"))
	d, _ := g.Gather(bg, s, 10*time.Second)
	require.NotNil(t, d.Reporter)
	assert.Equal(t, store.ReporterRecord{Filed: 3, Dismissed: 2}, *d.Reporter)
	require.NotNil(t, d.History)
	assert.Equal(t, 3, d.History.Reports)
	require.NotNil(t, d.History.Last)
	assert.Equal(t, store.CaseDismissed, d.History.Last.State)
}

// TestPurgedEvent: once the room is deleted and purged, the dossier says
// the event is gone instead of failing.
func TestPurgedEvent(t *testing.T) {
	w, g := setup(t)
	spam := send(t, w.Spammer, w.PublicRoom, "buy now")
	s := subject(t, w, spam)
	deleteID, err := w.Admin.DeleteRoom(bg, w.PublicRoom, adminapi.DeleteRoomRequest{Purge: true})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		st, err := w.Admin.DeleteRoomStatus(bg, deleteID)
		return err == nil && st.Status == "complete"
	}, time.Minute, 200*time.Millisecond)
	d, _ := g.Gather(bg, s, 10*time.Second)
	assert.True(t, d.AroundGone, "missing: %v", d.Missing)
	assert.Empty(t, d.Before)
	assert.Nil(t, d.Room, "the room is gone")
	assert.Empty(t, d.Missing)
}

// TestLatePartsComeLater: a part that takes longer than the budget is
// missing from the first answer and comes on the late channel.
func TestLatePartsComeLater(t *testing.T) {
	w, g := setup(t)
	proxy, err := faultproxy.New(w.Server.URL)
	require.NoError(t, err)
	t.Cleanup(proxy.Close)
	proxy.SetRule(func(r *http.Request) faultproxy.Fault {
		if strings.Contains(r.URL.Path, "/context/") {
			time.Sleep(time.Second)
		}
		return nil
	})
	slow, err := adminapi.New(proxy.URL, w.Bot.AccessToken)
	require.NoError(t, err)
	g.Admin = slow
	spam := send(t, w.Spammer, w.PublicRoom, "buy now")
	send(t, w.Spammer, w.PublicRoom, "after")
	s := subject(t, w, spam)

	d, late := g.Gather(bg, s, 300*time.Millisecond)
	assert.Equal(t, []string{"messages"}, d.Missing, "the first answer does not wait for the slow part")
	assert.NotNil(t, d.User, "the other parts are there")
	assert.Empty(t, d.After)
	require.NotNil(t, late)
	select {
	case full := <-late:
		assert.True(t, full.Complete(), "missing: %v", full.Missing)
		require.Len(t, full.After, 1)
		assert.Equal(t, "after", full.After[0].Content.AsMessage().Body)
	case <-time.After(20 * time.Second):
		t.Fatal("the late parts did not come")
	}
}
