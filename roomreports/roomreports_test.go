package roomreports

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/internal/testkit/faultproxy"
	"github.com/gavel-bot/gavel/internal/testkit/pgtest"
	"github.com/gavel-bot/gavel/internal/testkit/synapsetest"
)

func TestMain(m *testing.M) { synapsetest.Main(m) }

var bg = context.Background()

// fileThree files three room reports and returns the world.
func fileThree(t *testing.T, srv *synapsetest.Server) *synapsetest.World {
	t.Helper()
	w, err := srv.NewWorld(bg, synapsetest.WorldOptions{Unique: true})
	require.NoError(t, err)
	for _, reason := range []string{"first", "second", "third <b>"} {
		require.NoError(t, w.ReportRoom(bg, reason))
	}
	return w
}

// checkSource: the three reports list newest first and oldest first, page
// by page, and each can be read by id; an unknown id is not found.
func checkSource(t *testing.T, s *Source, w *synapsetest.World) {
	t.Helper()
	page, err := s.List(bg, adminapi.PageQuery{Limit: 2, Dir: mautrix.DirectionBackward})
	require.NoError(t, err)
	assert.EqualValues(t, 3, page.Total)
	require.Len(t, page.Items, 2)
	assert.Equal(t, "third <b>", page.Items[0].Reason, "newest first")
	assert.Equal(t, w.PublicRoom, page.Items[0].RoomID)
	assert.Equal(t, w.Reporter.UserID, page.Items[0].UserID)
	require.NotNil(t, page.NextToken)
	assert.EqualValues(t, 2, *page.NextToken)
	rest, err := s.List(bg, adminapi.PageQuery{From: 2, Limit: 2, Dir: mautrix.DirectionBackward})
	require.NoError(t, err)
	require.Len(t, rest.Items, 1)
	assert.Equal(t, "first", rest.Items[0].Reason)
	assert.Nil(t, rest.NextToken, "the last page")
	oldest, err := s.List(bg, adminapi.PageQuery{Limit: 1, Dir: mautrix.DirectionForward})
	require.NoError(t, err)
	assert.Equal(t, "first", oldest.Items[0].Reason)

	r, err := s.Get(bg, page.Items[0].ID)
	require.NoError(t, err)
	assert.Equal(t, page.Items[0], *r)
	_, err = s.Get(bg, 999999)
	assert.True(t, adminapi.IsNotFound(err), "%v", err)
	assert.True(t, s.FromDatabase())
}

// TestFromSynapsesSQLite reads the room reports a real Synapse stored in
// its SQLite file.
func TestFromSynapsesSQLite(t *testing.T) {
	srv := synapsetest.New(t, synapsetest.Options{})
	w := fileThree(t, srv)
	s, err := Open(bg, w.Admin, srv.DatabasePath())
	require.NoError(t, err)
	defer s.Close()
	checkSource(t, s, w)
}

// TestFromSynapsesPostgres reads them from a Synapse that keeps its data
// in PostgreSQL, as a role that may read the room_reports table and
// nothing else, made as docs/how-it-works.md says.
func TestFromSynapsesPostgres(t *testing.T) {
	uri := pgtest.URI(t)
	srv := synapsetest.New(t, synapsetest.Options{Postgres: uri})
	w := fileThree(t, srv)

	owner, err := sql.Open("postgres", uri)
	require.NoError(t, err)
	defer owner.Close()
	role := "gavel_reader_" + strings.ToLower(strings.TrimPrefix(filepath.Base(uri), "gavel_test_"))
	role = strings.SplitN(role, "?", 2)[0]
	for _, stmt := range []string{
		"CREATE ROLE " + role + " LOGIN PASSWORD 'secret-pw'",
		"GRANT SELECT ON room_reports TO " + role,
	} {
		_, err := owner.Exec(stmt)
		require.NoError(t, err, stmt)
	}
	t.Cleanup(func() {
		_, _ = owner.Exec("REVOKE ALL ON room_reports FROM " + role)
		_, _ = owner.Exec("DROP ROLE IF EXISTS " + role)
	})
	u, err := url.Parse(uri)
	require.NoError(t, err)
	u.User = url.UserPassword(role, "secret-pw")
	s, err := Open(bg, w.Admin, u.String())
	require.NoError(t, err)
	defer s.Close()
	checkSource(t, s, w)

	var n int
	err = s.db.QueryRow("SELECT COUNT(*) FROM users").Scan(&n)
	assert.Error(t, err, "the role reads room_reports only")

	// A role without the grant is refused at once, with what to do, and
	// without its password. (The test server trusts any password.)
	_, err = owner.Exec("CREATE ROLE " + role + "_none LOGIN PASSWORD 'other-secret'")
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = owner.Exec("DROP ROLE IF EXISTS " + role + "_none") })
	u.User = url.UserPassword(role+"_none", "other-secret")
	_, err = Open(bg, w.Admin, u.String())
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "other-secret", "the password is not repeated")
	assert.Contains(t, err.Error(), "permission denied")
	assert.Contains(t, err.Error(), "synapse.database")
}

// TestWithoutDatabase: with no synapse.database and no admin API, room
// reports are not configured, which the feed takes as unsupported; a
// database without room_reports is refused at once.
func TestWithoutDatabase(t *testing.T) {
	w, err := synapsetest.Shared(t).NewWorld(bg, synapsetest.WorldOptions{Unique: true})
	require.NoError(t, err)
	s, err := Open(bg, w.Admin, "")
	require.NoError(t, err)
	_, err = s.List(bg, adminapi.PageQuery{Limit: 1})
	assert.ErrorIs(t, err, ErrNotConfigured)
	assert.True(t, errors.Is(err, adminapi.ErrUnsupported))
	assert.False(t, s.FromDatabase())

	_, err = Open(bg, w.Admin, filepath.Join(t.TempDir(), "not-synapse.db"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "room_reports")
}

// TestAdminAPIIsPreferred: once Synapse answers the room reports listing,
// Gavel reads them there, even with synapse.database set.
func TestAdminAPIIsPreferred(t *testing.T) {
	srv := synapsetest.New(t, synapsetest.Options{})
	w := fileThree(t, srv)
	proxy, err := faultproxy.New(srv.URL)
	require.NoError(t, err)
	t.Cleanup(proxy.Close)
	proxy.SetRule(func(r *http.Request) faultproxy.Fault {
		if strings.HasPrefix(r.URL.Path, "/_synapse/admin/v1/room_reports") {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"room_reports": [{"id": 77, "received_ts": 1, "room_id": "!api:example.org", "user_id": "@a:example.org", "reason": "from the API"}], "total": 1}`))
			}
		}
		return nil
	})
	admin, err := adminapi.New(proxy.URL, w.Bot.AccessToken)
	require.NoError(t, err)
	s, err := Open(bg, admin, srv.DatabasePath())
	require.NoError(t, err)
	defer s.Close()
	page, err := s.List(bg, adminapi.PageQuery{Limit: 10})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assert.Equal(t, "from the API", page.Items[0].Reason)
	assert.False(t, s.FromDatabase())
}
