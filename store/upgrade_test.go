package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/testkit/pgtest"
)

// fixtures are the older schema versions with a database written by the
// Gavel that had them (testdata/README.md).
var fixtures = []int{1, 2}

// fixtureURI puts fixture vN where a test can open and change it: a copy
// of the SQLite file, or the PostgreSQL dump loaded into a new database.
func fixtureURI(t *testing.T, backend string, v int) string {
	t.Helper()
	if backend == "sqlite" {
		data, err := os.ReadFile(fmt.Sprintf("testdata/v%d.db", v))
		require.NoError(t, err)
		path := filepath.Join(t.TempDir(), "gavel.db")
		require.NoError(t, os.WriteFile(path, data, 0o600))
		return path
	}
	dump, err := os.ReadFile(fmt.Sprintf("testdata/v%d.postgres.sql", v))
	require.NoError(t, err)
	uri := pgtest.URI(t)
	// A connection of its own: the dump empties its search_path.
	db, err := sql.Open("postgres", uri)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec(string(dump))
	require.NoError(t, err, "loading testdata/v%d.postgres.sql", v)
	return uri
}

// forBackends runs test on SQLite and on PostgreSQL.
func forBackends(t *testing.T, test func(t *testing.T, backend string)) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) { test(t, backend) })
	}
}

// Every fixture upgrades to the latest schema with everything in it still
// there, read back through today's API, and Gavel can go on with it.
func TestUpgradeFixtures(t *testing.T) {
	for _, v := range fixtures {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			forBackends(t, func(t *testing.T, backend string) {
				uri := fixtureURI(t, backend, v)
				before, err := Inspect(ctx, uri)
				require.NoError(t, err)
				assert.Equal(t, Schema{Version: v, Compat: v, Latest: latestVersion()}, before)

				s, steps := openLogged(t, uri)
				var want []upgradeStep
				for from := v; from < latestVersion(); from++ {
					want = append(want, upgradeStep{from, from + 1})
				}
				assert.Equal(t, want, steps)
				version, compat := schemaVersion(t, s)
				assert.Equal(t, latestVersion(), version)
				assert.Equal(t, 9, compat)
				checkFixture(t, s, v)
				checkMautrixStores(t, s, v)

				after, err := Inspect(ctx, uri)
				require.NoError(t, err)
				assert.Equal(t, fmt.Sprintf("is at schema v%d, current", latestVersion()), after.String())
			})
		})
	}
}

// fixtureCard is a card of the fixtures: report id, time and event.
type fixtureCard struct {
	id, ts int64
	event  id.EventID
}

// checkFixture checks what the fixtures' generator wrote
// (testdata/fixturegen), through today's store.
func checkFixture(t *testing.T, s *Store, v int) {
	t.Helper()
	key := func(n, ts int64) ReportKey { return ReportKey{ID: n, ReceivedTS: ts} }
	all := []ReportKey{key(1, 1000), key(2, 2000), key(3, 3000), key(4, 4000), key(5, 5000), key(6, 6000), key(7, 6001)}
	unseen, err := s.Reports.Unseen(ctx, append(all, ReportKey{ID: 2, ReceivedTS: 2000, Kind: KindUser}))
	require.NoError(t, err)
	assert.Equal(t, []ReportKey{{ID: 2, ReceivedTS: 2000, Kind: KindUser}}, unseen, "every report is seen, as an event report")
	counts, err := s.Reports.CountByState(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{ReportSkipped: 1, ReportNotice: 4, ReportDigest: 2}, counts)

	// Reports and their cards.
	skipped, err := s.Reports.Seen(ctx, KindEvent, 1)
	require.NoError(t, err)
	require.NotNil(t, skipped)
	assert.Equal(t, ReportSkipped, skipped.State)
	assert.Empty(t, skipped.CardKey)
	for _, c := range []fixtureCard{{2, 2000, "$spam"}, {3, 3000, "$abuse"}, {4, 4000, "$tried"}, {5, 5000, "$refused"}} {
		r, err := s.Reports.Seen(ctx, KindEvent, c.id)
		require.NoError(t, err)
		require.NotNil(t, r, "report %d", c.id)
		assert.Equal(t, ReportNotice, r.State)
		assert.Equal(t, KindEvent, r.Kind)
		assert.Equal(t, c.ts, r.ReceivedTS)
		assert.Equal(t, c.event, r.EventID)
		assert.Equal(t, id.RoomID("!public:fixture.example"), r.RoomID)
		assert.Equal(t, NoticeKey(key(c.id, c.ts)), r.CardKey, "report %d's card", c.id)
		caseNow, err := s.Cases.Get(ctx, r.CaseKey)
		require.NoError(t, err)
		assert.Equal(t, CaseOpen, caseNow.State)
	}
	for _, n := range []int64{6, 7} {
		r, err := s.Reports.Seen(ctx, KindEvent, n)
		require.NoError(t, err)
		require.NotNil(t, r)
		assert.Equal(t, ReportDigest, r.State)
		assert.Equal(t, DigestKey(key(6, 6000)), r.CoveredBy)
	}

	// The outbox, message by message.
	type sent struct {
		body      string
		attempted bool
		eventID   id.EventID
		errText   string
		done      bool
	}
	wantMessages := map[OutboxKey]sent{
		"gavel-first-start-summary": {"1 open report skipped", true, "$summary", "", true},
		"gavel-report-2-2000":       {"report 2: spam", true, "$card2", "", true},
		"gavel-report-3-3000":       {"report 3: abuse", false, "", "", false},
		"gavel-report-4-4000":       {"report 4: tried", true, "", "", false},
		"gavel-report-5-5000":       {"report 5: refused", true, "", "M_TOO_LARGE: event too large", true},
		"gavel-digest-6-6000":       {"2 reports", true, "$digest6", "", true},
		"gavel-reply-ban":           {"deactivated", true, "$reply-ban", "", true},
		"gavel-reply-help":          {"help", false, "", "", false},
	}
	for k, w := range wantMessages {
		m, err := s.Outbox.Get(ctx, k)
		require.NoError(t, err)
		require.NotNil(t, m, "message %s", k)
		var content struct{ MsgType, Body string }
		require.NoError(t, json.Unmarshal(m.Content, &content), "message %s", k)
		assert.Equal(t, w.body, content.Body, "message %s", k)
		assert.Equal(t, id.RoomID("!mods:fixture.example"), m.RoomID, "message %s", k)
		assert.Equal(t, w.attempted, !m.AttemptedAt.IsZero(), "message %s attempted", k)
		assert.Equal(t, w.done, !m.SentAt.IsZero(), "message %s done", k)
		assert.Equal(t, w.eventID, m.EventID, "message %s", k)
		assert.Equal(t, w.errText, m.Error, "message %s", k)
		assert.Empty(t, m.RelatesTo)
		assert.Empty(t, m.Type, "message %s is an m.room.message", k)
	}
	card, err := s.Outbox.ByEvent(ctx, "$card2")
	require.NoError(t, err)
	require.NotNil(t, card, "a reaction to a card finds it by its event")
	assert.Equal(t, OutboxKey("gavel-report-2-2000"), card.Key)
	unsent, err := s.Outbox.Unsent(ctx, 10)
	require.NoError(t, err)
	assert.Equal(t, []string{"gavel-reply-help", "gavel-report-3-3000", "gavel-report-4-4000"}, keys(unsent), "replies first, then in queueing order")

	// Commands and the action log.
	for ev, want := range map[id.EventID]CommandState{"$cmd-ban": CommandHandled, "$cmd-help": CommandHandled, "$cmd-crashed": CommandStarted} {
		got, err := s.Commands.Start(ctx, ev)
		require.NoError(t, err)
		assert.Equal(t, want, got, "command %s", ev)
	}
	actions, err := s.Actions.Latest(ctx, 10)
	require.NoError(t, err)
	assert.Equal(t, []Action{{Time: time.UnixMilli(7000), Sender: "@mod:fixture.example", EventID: "$cmd-ban",
		Command: "deactivate @spammer:fixture.example", OK: true, Result: "deactivated @spammer:fixture.example"}}, actions)

	for k, want := range map[KVKey]string{KVNextBatch: "s72_fixture", KVInitialized: "skip"} {
		got, err := s.KV.Get(ctx, k)
		require.NoError(t, err)
		assert.Equal(t, want, got, "kv %s", k)
	}

	waiting, err := s.Undecrypted.List(ctx)
	require.NoError(t, err)
	if v >= 2 {
		require.Len(t, waiting, 1)
		assert.Equal(t, id.EventID("$waiting"), waiting[0].Event.ID)
		assert.Equal(t, id.SessionID("fixture-session"), waiting[0].Event.Content.AsEncrypted().SessionID)
	} else {
		assert.Empty(t, waiting)
	}

	// Gavel goes on: the queued card is sent, a moderator claims a case
	// (an edit of its card), a new report gets its card.
	require.NoError(t, s.Outbox.MarkSent(ctx, "gavel-report-3-3000", "$card3"))
	r3, err := s.Reports.Seen(ctx, KindEvent, 3)
	require.NoError(t, err)
	c, err := s.Cases.Get(ctx, r3.CaseKey)
	require.NoError(t, err)
	c.State, c.By = CaseClaimed, "@mod:fixture.example"
	changed, err := s.Cases.Change(ctx, &c, func(version int) []Message {
		return []Message{{Key: CaseEditKey(r3.CardKey, version), RoomID: "!mods:fixture.example", Content: []byte(`{}`), RelatesTo: r3.CardKey}}
	})
	require.NoError(t, err)
	assert.True(t, changed)
	require.NoError(t, s.Reports.AddNotice(ctx, Report{ReportKey: key(8, 8000), RoomID: "!public:fixture.example", EventID: "$new", TargetUser: "@spammer:fixture.example"},
		Message{Key: NoticeKey(key(8, 8000)), Priority: PriorityNotice, RoomID: "!mods:fixture.example", Content: []byte(`{}`)}))
	unsent, err = s.Outbox.Unsent(ctx, 10)
	require.NoError(t, err)
	assert.Equal(t, []string{"gavel-reply-help", "gavel-report-3-3000-case-1", "gavel-report-4-4000", "gavel-report-8-8000"}, keys(unsent))
}

// A database a newer Gavel upgraded past what this one runs on is refused,
// by Open and by Inspect alike, naming both versions; one the newer Gavel
// declared this one can run on opens.
func TestNewerSchemaRefused(t *testing.T) {
	forBackends(t, func(t *testing.T, backend string) {
		uri := fixtureURI(t, backend, 1)
		openStore(t, uri).Close()
		// As a newer Gavel would leave it; written past this Gavel's
		// store, which refuses to open it.
		setVersion := func(version, compat int) {
			driver, dsn := "postgres", uri
			if backend == "sqlite" {
				driver, dsn = "sqlite", sqliteDSN(uri)
			}
			db, err := sql.Open(driver, dsn)
			require.NoError(t, err)
			defer db.Close()
			_, err = db.Exec("UPDATE version SET version=$1, compat=$2", version, compat)
			require.NoError(t, err)
		}
		latest := latestVersion()
		setVersion(latest+2, latest+1)

		_, err := Open(ctx, uri, zerolog.Nop())
		require.Error(t, err)
		var newer *NewerSchemaError
		require.ErrorAs(t, err, &newer)
		assert.ErrorIs(t, err, dbutil.ErrUnsupportedDatabaseVersion)
		name := uri
		if backend == "postgres" {
			name = DatabaseName(uri)
			assert.NotContains(t, err.Error(), "postgres://", "no credentials")
		}
		assert.Equal(t, fmt.Sprintf("the database %s is at schema v%d (which needs a Gavel that knows v%d or later), written by a newer Gavel; this Gavel knows up to v%d: run the newer Gavel, or restore a backup from before it ran",
			name, latest+2, latest+1, latest), err.Error())

		schema, inspectErr := Inspect(ctx, uri)
		assert.Equal(t, err.Error(), inspectErr.Error(), "Inspect says what Open says")
		assert.Equal(t, Schema{Version: latest + 2, Compat: latest + 1, Latest: latest}, schema)

		// Newer, and declared compatible: this Gavel runs on it and
		// leaves its version alone.
		setVersion(latest+1, 3)
		s := openStore(t, uri)
		version, compat := schemaVersion(t, s)
		assert.Equal(t, []int{latest + 1, 3}, []int{version, compat})
		schema, err = Inspect(ctx, uri)
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("is at schema v%d, written by a newer Gavel, which this one (v%d) can run on", latest+1, latest), schema.String())
	})
}

// Inspect writes nothing: not a missing SQLite file, not an old database,
// and it does not wait for a Gavel that is writing.
func TestInspectWritesNothing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "gavel.db")
	schema, err := Inspect(ctx, missing)
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("does not exist yet: Gavel creates it at schema v%d", latestVersion()), schema.String())
	assert.NoFileExists(t, missing)

	forBackends(t, func(t *testing.T, backend string) {
		uri := fixtureURI(t, backend, 2)
		var before []byte
		if backend == "sqlite" {
			before, err = os.ReadFile(uri)
			require.NoError(t, err)
		}
		schema, err := Inspect(ctx, uri)
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("is at schema v2: Gavel upgrades it to v%d when it starts (take a backup first)", latestVersion()), schema.String())
		if backend == "sqlite" {
			after, err := os.ReadFile(uri)
			require.NoError(t, err)
			assert.Equal(t, before, after, "the file is unchanged")
			assert.NoFileExists(t, uri+"-wal")
		}
		again, err := Inspect(ctx, uri)
		require.NoError(t, err)
		assert.Equal(t, 2, again.Version, "still v2")

		// A running Gavel in the middle of a write.
		s := openStore(t, uri)
		require.NoError(t, s.DB().DoTxn(ctx, nil, func(ctx context.Context) error {
			if err := s.KV.Set(ctx, KVNextBatch, "s73"); err != nil {
				return err
			}
			inspectCtx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			schema, err := Inspect(inspectCtx, uri)
			if err != nil {
				return err
			}
			assert.Equal(t, latestVersion(), schema.Version)
			return nil
		}))
	})
}

// Inspect refuses what Open refuses before upgrading: another program's
// database.
func TestInspectForeignDatabase(t *testing.T) {
	forBackends(t, func(t *testing.T, backend string) {
		uri := fixtureURI(t, backend, 1)
		s := openStore(t, uri)
		_, err := s.DB().Exec(ctx, "UPDATE database_owner SET owner='mautrix-whatsapp'")
		require.NoError(t, err)
		require.NoError(t, s.Close())
		_, openErr := Open(ctx, uri, zerolog.Nop())
		require.ErrorIs(t, openErr, dbutil.ErrNotOwned)
		_, err = Inspect(ctx, uri)
		require.ErrorIs(t, err, dbutil.ErrNotOwned)
		assert.Contains(t, err.Error(), "owned by mautrix-whatsapp: give Gavel a database of its own")
	})
}

// An error from a PostgreSQL URI never shows its password, and unwrapping
// does not reach a message that does; errors.Is still sees dbutil's error.
func TestRedactKeepsErrorKind(t *testing.T) {
	uri := "postgres://gavel:s3cret-pw@db.example:5432/gavel"
	err := redact(fmt.Errorf("upgrading: %w: connecting to %s", dbutil.ErrNotOwned, uri), uri)
	assert.NotContains(t, err.Error(), "s3cret-pw")
	assert.ErrorIs(t, err, dbutil.ErrNotOwned)
	for e := err; e != nil; e = errors.Unwrap(e) {
		assert.NotContains(t, e.Error(), "s3cret-pw")
	}
}
