package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/testkit/pgtest"
)

// upgradeStep is one "Upgrading database" line dbutil logs.
type upgradeStep struct{ From, To int }

// openLogged opens uri and returns the upgrade steps Open took.
func openLogged(t *testing.T, uri string) (*Store, []upgradeStep) {
	t.Helper()
	var buf bytes.Buffer
	s, err := Open(ctx, uri, zerolog.New(&buf))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	var steps []upgradeStep
	for line := range bytes.Lines(buf.Bytes()) {
		var entry struct {
			Message  string `json:"message"`
			From, To int
		}
		require.NoError(t, json.Unmarshal(line, &entry))
		if entry.Message == "Upgrading database" {
			steps = append(steps, upgradeStep{entry.From, entry.To})
		}
	}
	return s, steps
}

func schemaVersion(t *testing.T, s *Store) (version, compat int) {
	t.Helper()
	require.NoError(t, s.DB().QueryRow(ctx, "SELECT version, compat FROM version").Scan(&version, &compat))
	return version, compat
}

// reportColumns describes the report table: its columns with NOT NULL, and
// its primary key, in a form both engines give alike.
func reportColumns(t *testing.T, s *Store) (columns, primaryKey []string) {
	t.Helper()
	var query string
	if s.DB().Dialect == dbutil.SQLite {
		query = `SELECT name, "notnull" = 1, pk FROM pragma_table_info('report')`
	} else {
		query = `SELECT c.column_name, c.is_nullable = 'NO', COALESCE(k.ordinal_position, 0)
			FROM information_schema.columns c
			LEFT JOIN information_schema.key_column_usage k ON k.table_name = c.table_name AND k.column_name = c.column_name
				AND k.constraint_name = 'report_pkey'
			WHERE c.table_name = 'report'`
	}
	rows, err := s.DB().Query(ctx, query)
	require.NoError(t, err)
	defer rows.Close()
	pk := map[int]string{}
	for rows.Next() {
		var name string
		var notNull bool
		var pkPos int
		require.NoError(t, rows.Scan(&name, &notNull, &pkPos))
		columns = append(columns, fmt.Sprintf("%s notnull=%t", name, notNull))
		if pkPos > 0 {
			pk[pkPos] = name
		}
	}
	require.NoError(t, rows.Err())
	slices.Sort(columns)
	for i := 1; i <= len(pk); i++ {
		primaryKey = append(primaryKey, pk[i])
	}
	return columns, primaryKey
}

// A new database is created at the latest version in one step, not by
// replaying every upgrade.
func TestFreshDatabaseIsLatestInOneStep(t *testing.T) {
	assert.Equal(t, 10, latestVersion())
	backends(t, func(t *testing.T, open func() *Store) {
		s := open()
		version, compat := schemaVersion(t, s)
		assert.Equal(t, latestVersion(), version)
		assert.Equal(t, 9, compat, "a v8 Gavel would queue cards without their report; v9 runs on v10 (it leaves a case's desk empty: the server desk)")
		_, pk := reportColumns(t, s)
		assert.Equal(t, []string{"kind", "report_id", "received_ts"}, pk)
	})
	path := filepath.Join(t.TempDir(), "gavel.db")
	s, steps := openLogged(t, path)
	assert.Equal(t, []upgradeStep{{0, 10}}, steps)
	s.Close()
	_, steps = openLogged(t, path)
	assert.Empty(t, steps, "reopening upgrades nothing")
}

// An event report and a user report with the same id and time are two
// reports; an empty Kind is an event report.
func TestReportKinds(t *testing.T) {
	backends(t, func(t *testing.T, open func() *Store) {
		s := open()
		event := ReportKey{ID: 7, ReceivedTS: 1000}
		user := ReportKey{ID: 7, ReceivedTS: 1000, Kind: KindUser}
		room := ReportKey{ID: 7, ReceivedTS: 1000, Kind: KindRoom}
		require.NoError(t, s.Reports.AddNotice(ctx, Report{ReportKey: event, RoomID: "!r:x", EventID: "$e"}, notice(string(NoticeKey(event)))))

		unseen, err := s.Reports.Unseen(ctx, []ReportKey{user, event, room, {ID: 7, ReceivedTS: 1000, Kind: KindEvent}})
		require.NoError(t, err)
		assert.Equal(t, []ReportKey{user, room}, unseen, "an empty Kind and KindEvent are the same report")

		require.NoError(t, s.Reports.AddNotice(ctx, Report{ReportKey: user}, notice(string(NoticeKey(user)))))
		require.NoError(t, s.Reports.Skip(ctx, []Report{{ReportKey: room}}))
		unseen, err = s.Reports.Unseen(ctx, []ReportKey{event, user, room})
		require.NoError(t, err)
		assert.Empty(t, unseen)
		counts, err := s.Reports.CountByState(ctx)
		require.NoError(t, err)
		assert.Equal(t, map[string]int{ReportNotice: 2, ReportSkipped: 1}, counts)
		unsent, err := s.Outbox.Unsent(ctx, 10)
		require.NoError(t, err)
		assert.Equal(t, []string{"gavel-report-7-1000", "gavel-user-report-7-1000"}, keys(unsent))

		var kinds []string
		rows, err := s.DB().Query(ctx, "SELECT kind FROM report ORDER BY kind")
		require.NoError(t, err)
		for rows.Next() {
			var kind string
			require.NoError(t, rows.Scan(&kind))
			kinds = append(kinds, kind)
		}
		require.NoError(t, errors.Join(rows.Err(), rows.Close()))
		assert.Equal(t, []string{"event", "room", "user"}, kinds, "stored with the kind spelt out")
	})
}

// The schema as it was at v1 and v2, before report kinds, as an older
// Gavel (through dbutil) left it.
const (
	schemaV1 = `
CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE report (
	report_id   BIGINT NOT NULL,
	received_ts BIGINT NOT NULL,
	room_id     TEXT NOT NULL,
	event_id    TEXT NOT NULL,
	state       TEXT NOT NULL,
	outbox_key  TEXT,
	seen_at     BIGINT NOT NULL,
	PRIMARY KEY (report_id, received_ts)
);
CREATE TABLE outbox (
	key          TEXT PRIMARY KEY,
	priority     INTEGER NOT NULL,
	room_id      TEXT NOT NULL,
	content      TEXT NOT NULL,
	queued_at    BIGINT NOT NULL,
	attempted_at BIGINT,
	sent_at      BIGINT,
	event_id     TEXT,
	error        TEXT
);
CREATE INDEX outbox_unsent_idx ON outbox (priority, queued_at) WHERE sent_at IS NULL;
CREATE TABLE command (event_id TEXT PRIMARY KEY, started_at BIGINT NOT NULL, handled_at BIGINT);
CREATE TABLE action (
	id        %s,
	ts        BIGINT NOT NULL,
	sender    TEXT NOT NULL,
	event_id  TEXT NOT NULL,
	command   TEXT NOT NULL,
	ok        BOOLEAN NOT NULL,
	result    TEXT NOT NULL
);
CREATE TABLE database_owner (key INTEGER PRIMARY KEY DEFAULT 0, owner TEXT NOT NULL);
INSERT INTO database_owner (key, owner) VALUES (0, 'gavel');
CREATE TABLE version (version INTEGER, compat INTEGER);
INSERT INTO version (version, compat) VALUES (1, 1);
`
	schemaV2 = `
CREATE TABLE undecrypted (event_id TEXT PRIMARY KEY, session_id TEXT NOT NULL, event TEXT NOT NULL, first_seen BIGINT NOT NULL);
DELETE FROM version;
INSERT INTO version (version, compat) VALUES (2, 2);
`
	oldRows = `
INSERT INTO report (report_id, received_ts, room_id, event_id, state, outbox_key, seen_at) VALUES
	(1, 1000, '!r:x', '$a', 'notice', 'gavel-report-1-1000', 5),
	(2, 1001, '!r:x', '$b', 'skipped', NULL, 6);
INSERT INTO outbox (key, priority, room_id, content, queued_at) VALUES ('gavel-report-1-1000', 1, '!m:x', '{}', 7);
INSERT INTO kv (key, value) VALUES ('sync.next_batch', 's42');
`
)

// createOld makes a database as Gavel left it at version (1 or 2), with
// two reports in it.
func createOld(t *testing.T, uri string, version int) {
	t.Helper()
	driver, dsn, id := "postgres", uri, "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
	if !isPostgres(uri) {
		driver, dsn, id = "sqlite", sqliteDSN(uri), "INTEGER PRIMARY KEY"
	}
	db, err := sql.Open(driver, dsn)
	require.NoError(t, err)
	defer db.Close()
	script := fmt.Sprintf(schemaV1, id)
	if version >= 2 {
		script += schemaV2
	}
	script += oldRows
	for stmt := range strings.SplitSeq(script, ";\n") {
		if stmt = strings.TrimSpace(stmt); stmt != "" {
			_, err := db.Exec(stmt)
			require.NoError(t, err, stmt)
		}
	}
}

// Databases at v1 and v2 upgrade to v3 keeping their rows, every report so
// far an event report, and end up with the same report table as a new one.
func TestUpgradeKeepsReportsAsEventReports(t *testing.T) {
	for _, from := range []int{1, 2} {
		t.Run(fmt.Sprintf("v%d", from), func(t *testing.T) {
			check := func(t *testing.T, uri, freshURI string) {
				createOld(t, uri, from)
				s, steps := openLogged(t, uri)
				var want []upgradeStep
				for v := from; v < latestVersion(); v++ {
					want = append(want, upgradeStep{v, v + 1})
				}
				assert.Equal(t, want, steps)
				version, compat := schemaVersion(t, s)
				assert.Equal(t, latestVersion(), version)
				assert.Equal(t, 9, compat)

				type row struct {
					Kind      string
					ID, TS    int64
					State     string
					OutboxKey sql.NullString
					RoomID    string
					EventID   string
					SeenAt    int64
				}
				rows, err := s.DB().Query(ctx, "SELECT kind, report_id, received_ts, state, outbox_key, room_id, event_id, seen_at FROM report ORDER BY report_id")
				require.NoError(t, err)
				var got []row
				for rows.Next() {
					var r row
					require.NoError(t, rows.Scan(&r.Kind, &r.ID, &r.TS, &r.State, &r.OutboxKey, &r.RoomID, &r.EventID, &r.SeenAt))
					got = append(got, r)
				}
				require.NoError(t, errors.Join(rows.Err(), rows.Close()))
				assert.Equal(t, []row{
					{"event", 1, 1000, ReportNotice, sql.NullString{String: "gavel-report-1-1000", Valid: true}, "!r:x", "$a", 5},
					{"event", 2, 1001, ReportSkipped, sql.NullString{}, "!r:x", "$b", 6},
				}, got)

				// The reports are seen as the event reports they were; a user
				// report with the same id and time is new, and can be added.
				unseen, err := s.Reports.Unseen(ctx, []ReportKey{{ID: 1, ReceivedTS: 1000}, {ID: 2, ReceivedTS: 1001, Kind: KindEvent}, {ID: 1, ReceivedTS: 1000, Kind: KindUser}})
				require.NoError(t, err)
				assert.Equal(t, []ReportKey{{ID: 1, ReceivedTS: 1000, Kind: KindUser}}, unseen)
				require.NoError(t, s.Reports.Skip(ctx, []Report{{ReportKey: ReportKey{ID: 1, ReceivedTS: 1000, Kind: KindUser}}}))
				counts, err := s.Reports.CountByState(ctx)
				require.NoError(t, err)
				assert.Equal(t, map[string]int{ReportNotice: 1, ReportSkipped: 2}, counts)

				// The rest is kept too, and v2's table is there.
				v, err := s.KV.Get(ctx, "sync.next_batch")
				require.NoError(t, err)
				assert.Equal(t, "s42", v)
				m, err := s.Outbox.Get(ctx, "gavel-report-1-1000")
				require.NoError(t, err)
				require.NotNil(t, m)
				_, err = s.Undecrypted.List(ctx)
				require.NoError(t, err)

				// The open report's notice is its card: its case is open
				// and can change, with an edit of that notice.
				seen, err := s.Reports.Seen(ctx, KindEvent, 1)
				require.NoError(t, err)
				require.NotNil(t, seen)
				assert.Equal(t, OutboxKey("gavel-report-1-1000"), seen.CardKey)
				c, err := s.Cases.Get(ctx, seen.CaseKey)
				require.NoError(t, err)
				assert.Equal(t, CaseOpen, c.State)
				c.State, c.By = CaseClaimed, "@mod:x"
				changed, err := s.Cases.Change(ctx, &c, func(v int) []Message {
					return []Message{{Key: CaseEditKey(seen.CardKey, v), RoomID: "!m:x", Content: []byte(`{}`), RelatesTo: seen.CardKey}}
				})
				require.NoError(t, err)
				assert.True(t, changed)

				fresh := openStore(t, freshURI)
				wantColumns, wantPK := reportColumns(t, fresh)
				gotColumns, gotPK := reportColumns(t, s)
				assert.Equal(t, wantColumns, gotColumns)
				assert.Equal(t, wantPK, gotPK)
			}
			t.Run("sqlite", func(t *testing.T) {
				dir := t.TempDir()
				check(t, filepath.Join(dir, "old.db"), filepath.Join(dir, "new.db"))
			})
			t.Run("postgres", func(t *testing.T) {
				check(t, pgtest.URI(t), pgtest.URI(t))
			})
		})
	}
}

// TestPendingIsDecidedOnce: an action waiting for confirmation is found
// by its preview's event id, and only the first decision before it
// expires counts.
func TestPendingIsDecidedOnce(t *testing.T) {
	backends(t, func(t *testing.T, open func() *Store) {
		s := open()
		ctx := context.Background()
		now := time.Now()
		for i, name := range []string{"$preview", "$late"} {
			reply := Message{Key: OutboxKey("reply-" + name), RoomID: "!mods:example.org", Content: []byte(`{}`)}
			p := &Pending{Command: "deactivate @spam:example.org", Sender: "@mod:example.org", CreatedAt: now, ExpiresAt: now.Add(time.Duration(1-i) * time.Minute)}
			_, err := s.Commands.Finish(ctx, id.EventID("$cmd"+name), Finished{Reply: reply, Pending: p})
			require.NoError(t, err)
			require.NoError(t, s.Outbox.MarkSent(ctx, reply.Key, id.EventID(name)))
		}
		none, err := s.Pending.ByEvent(ctx, "$other")
		require.NoError(t, err)
		assert.Nil(t, none)

		p, err := s.Pending.ByEvent(ctx, "$preview")
		require.NoError(t, err)
		require.NotNil(t, p)
		assert.Equal(t, "deactivate @spam:example.org", p.Command)
		assert.Equal(t, PendingOpen, p.State)
		won, err := s.Pending.Decide(ctx, p.PreviewKey, PendingConfirmed, "@mod:example.org", now)
		require.NoError(t, err)
		assert.True(t, won)
		won, err = s.Pending.Decide(ctx, p.PreviewKey, PendingCancelled, "@other:example.org", now)
		require.NoError(t, err)
		assert.False(t, won, "decided once")
		p, err = s.Pending.ByEvent(ctx, "$preview")
		require.NoError(t, err)
		assert.Equal(t, PendingConfirmed, p.State)
		assert.Equal(t, id.UserID("@mod:example.org"), p.DecidedBy)

		late, err := s.Pending.ByEvent(ctx, "$late")
		require.NoError(t, err)
		won, err = s.Pending.Decide(ctx, late.PreviewKey, PendingConfirmed, "@mod:example.org", now)
		require.NoError(t, err)
		assert.False(t, won, "expired")
	})
}
