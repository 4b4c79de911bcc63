package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/mxid"
	"github.com/gavel-bot/gavel/store"
)

// TestAuditCommand: gavel audit writes the recorded actions oldest first,
// as CSV (text a spreadsheet would read as a formula defused) or JSON,
// -since leaves older ones out, and bad flags are refused.
func TestAuditCommand(t *testing.T) {
	t.Setenv("GAVEL_ACCESS_TOKEN", "syt_test")
	t.Setenv("GAVEL_ADMIN_ACCESS_TOKEN", "")
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "gavel.db")
	cfgPath := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte("matrix:\n  homeserver: http://127.0.0.1:9\n  user_id: \"@gavel:localhost\"\n"+
		"  management_room: \"!mods:localhost\"\ndatabase:\n  uri: "+dbPath+"\n"), 0o600))
	st, err := store.Open(context.Background(), dbPath, zerolog.Nop())
	require.NoError(t, err)
	now := time.Now()
	for i, a := range []store.Action{
		{Time: now.Add(-48 * time.Hour), Sender: "@old:x", Command: "!room block !r:x", OK: true, Result: "Blocked !r:x.", Target: "!r:x"},
		{Time: now.Add(-time.Hour), Sender: "@mod:x", Command: "!suspend @s:x --report 12", OK: true, Result: "Suspended @s:x.", Target: "@s:x", Report: mxid.EventReport(12)},
		{Time: now, Sender: "@mod:x", Command: "!report dismiss 13 --note =cmd|calc", OK: false, Result: "Report 13 is already resolved.", Target: "report 13", Reason: "=cmd|calc", Report: mxid.ReportRef{Kind: mxid.KindUser, ID: 13}},
	} {
		a.EventID = id.EventID("$" + string(rune('a'+i)))
		_, err := st.Commands.Finish(context.Background(), a.EventID, store.Finished{Action: &a,
			Reply: store.Message{Key: store.ReplyKey(a.EventID), RoomID: "!mods:localhost", Content: json.RawMessage(`{}`)}})
		require.NoError(t, err)
	}
	require.NoError(t, st.Close())

	var out, errOut syncBuffer
	require.Equal(t, 0, run([]string{"audit", "-config", cfgPath, "-since", "1d"}, &out, &errOut), errOut.String())
	rows, err := csv.NewReader(strings.NewReader(out.String())).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 3, "a header and the two entries of the last day")
	assert.Equal(t, []string{"time", "moderator", "command", "target", "reason", "report_id", "ok", "result", "event_id", "report_kind"}, rows[0])
	assert.Equal(t, []string{"@mod:x", "!suspend @s:x --report 12", "@s:x", "", "12", "true", "Suspended @s:x.", "$b", "event"}, rows[1][1:])
	assert.Equal(t, "'=cmd|calc", rows[2][4], "a formula is defused")

	out = syncBuffer{}
	require.Equal(t, 0, run([]string{"audit", "-config", cfgPath, "-format", "json"}, &out, &errOut), errOut.String())
	var records []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out.String()), &records))
	require.Len(t, records, 3)
	assert.Equal(t, "@old:x", records[0]["moderator"], "oldest first")
	assert.Equal(t, "=cmd|calc", records[2]["reason"], "JSON keeps the text as it was")
	assert.Equal(t, false, records[2]["ok"])
	assert.Equal(t, "user", records[2]["report_kind"], "a user report's id is told apart")
	assert.Equal(t, float64(13), records[2]["report_id"])

	errOut = syncBuffer{}
	assert.Equal(t, 2, run([]string{"audit", "-config", cfgPath, "-format", "xml"}, &out, &errOut))
	assert.Contains(t, errOut.String(), "-format must be csv or json")
	assert.Equal(t, 2, run([]string{"audit", "-since", "forever"}, &out, &errOut))
	assert.Contains(t, errOut.String(), `"forever" is not a duration like 90m, 6h or 30d`)
}
