package store

// Throwaway: writes a fixture database with this commit's store, for
// Gavel's upgrade tests. Run with GAVEL_FIXTURE_OUT=<dir>.

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/testkit/pgtest"
)

func fixtureMessage(key string, priority int, body string) Message {
	content, _ := json.Marshal(map[string]string{"msgtype": "m.notice", "body": body})
	return Message{Key: key, Priority: priority, RoomID: "!mods:fixture.example", Content: content}
}

func writeFixture(t *testing.T, s *Store) {
	ctx := context.Background()
	r := func(id, ts int64, event string) Report {
		return Report{ReportKey: ReportKey{ID: id, ReceivedTS: ts}, RoomID: "!public:fixture.example", EventID: idEvent(event)}
	}
	// The first start: one open report skipped, summed up, marked done.
	require.NoError(t, s.SkipReports(ctx, []Report{r(1, 1000, "$skipped")}))
	require.NoError(t, s.EnqueueAndSet(ctx, fixtureMessage("gavel-first-start-summary", PriorityNotice, "1 open report skipped"), "feed.initialized", "skip"))
	require.NoError(t, s.MarkAttempted(ctx, "gavel-first-start-summary"))
	require.NoError(t, s.MarkSent(ctx, "gavel-first-start-summary", "$summary"))
	// Cards: one sent, one queued and never tried, one tried and not sent,
	// one given up.
	require.NoError(t, s.AddReportNotice(ctx, r(2, 2000, "$spam"), fixtureMessage("gavel-report-2-2000", PriorityNotice, "report 2: spam")))
	require.NoError(t, s.MarkAttempted(ctx, "gavel-report-2-2000"))
	require.NoError(t, s.MarkSent(ctx, "gavel-report-2-2000", "$card2"))
	require.NoError(t, s.AddReportNotice(ctx, r(3, 3000, "$abuse"), fixtureMessage("gavel-report-3-3000", PriorityNotice, "report 3: abuse")))
	require.NoError(t, s.AddReportNotice(ctx, r(4, 4000, "$tried"), fixtureMessage("gavel-report-4-4000", PriorityNotice, "report 4: tried")))
	require.NoError(t, s.MarkAttempted(ctx, "gavel-report-4-4000"))
	require.NoError(t, s.AddReportNotice(ctx, r(5, 5000, "$refused"), fixtureMessage("gavel-report-5-5000", PriorityNotice, "report 5: refused")))
	require.NoError(t, s.MarkAttempted(ctx, "gavel-report-5-5000"))
	require.NoError(t, s.MarkFailed(ctx, "gavel-report-5-5000", "M_TOO_LARGE: event too large"))
	// A digest of two reports, sent.
	require.NoError(t, s.AddReportsDigest(ctx, []Report{r(6, 6000, "$flood1"), r(7, 6001, "$flood2")}, fixtureMessage("gavel-digest-6-6000", PriorityNotice, "2 reports")))
	require.NoError(t, s.MarkAttempted(ctx, "gavel-digest-6-6000"))
	require.NoError(t, s.MarkSent(ctx, "gavel-digest-6-6000", "$digest6"))
	// Commands: one handled with its action and reply sent; one handled
	// without an action, its reply queued; one started when Gavel stopped.
	_, err := s.StartCommand(ctx, "$cmd-ban")
	require.NoError(t, err)
	first, err := s.FinishCommand(ctx, "$cmd-ban", &Action{Time: time.UnixMilli(7000), Sender: "@mod:fixture.example", EventID: "$cmd-ban", Command: "deactivate @spammer:fixture.example", OK: true, Result: "deactivated @spammer:fixture.example"},
		fixtureMessage("gavel-reply-ban", PriorityReply, "deactivated"))
	require.NoError(t, err)
	require.True(t, first)
	require.NoError(t, s.MarkAttempted(ctx, "gavel-reply-ban"))
	require.NoError(t, s.MarkSent(ctx, "gavel-reply-ban", "$reply-ban"))
	_, err = s.StartCommand(ctx, "$cmd-help")
	require.NoError(t, err)
	_, err = s.FinishCommand(ctx, "$cmd-help", nil, fixtureMessage("gavel-reply-help", PriorityReply, "help"))
	require.NoError(t, err)
	_, err = s.StartCommand(ctx, "$cmd-crashed")
	require.NoError(t, err)
	require.NoError(t, s.Set(ctx, "sync.next_batch", "s72_fixture"))
	writeExtra(t, s)
}

func idEvent(s string) id.EventID { return id.EventID(s) }

func TestMakeFixture(t *testing.T) {
	out := os.Getenv("GAVEL_FIXTURE_OUT")
	if out == "" {
		t.Skip("GAVEL_FIXTURE_OUT not set")
	}
	ctx := context.Background()
	path := filepath.Join(out, "fixture.db")
	s, err := Open(ctx, path, zerolog.Nop())
	require.NoError(t, err)
	writeFixture(t, s)
	require.NoError(t, s.Close())
	// Fold the WAL into the file, so the fixture is one file.
	s, err = Open(ctx, path, zerolog.Nop())
	require.NoError(t, err)
	_, err = s.db.Exec(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	require.NoError(t, err)
	_, err = s.db.Exec(ctx, "PRAGMA journal_mode=DELETE")
	require.NoError(t, err)
	require.NoError(t, s.Close())

	uri := pgtest.URI(t)
	s, err = Open(ctx, uri, zerolog.Nop())
	require.NoError(t, err)
	writeFixture(t, s)
	require.NoError(t, s.Close())
	dump, err := exec.Command("pg_dump", "--no-owner", "--no-privileges", "--no-comments", "--inserts", "--dbname", uri).Output()
	require.NoError(t, err)
	var keep []string
	for _, line := range strings.Split(string(dump), "\n") {
		// psql meta-commands (\restrict) are not SQL.
		if !strings.HasPrefix(line, `\`) {
			keep = append(keep, line)
		}
	}
	require.NoError(t, os.WriteFile(filepath.Join(out, "fixture.postgres.sql"), []byte(strings.Join(keep, "\n")), 0o644))
}
