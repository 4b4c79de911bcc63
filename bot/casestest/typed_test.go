package casestest

import (
	"database/sql"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConfirmationAfterARestart: a preview confirmed after Gavel restarted
// runs the command stored with it (its name and arguments), not its text,
// which Gavel never parses again; a preview an older Gavel left (text
// only) is refused with the advice to send the command again.
func TestConfirmationAfterARestart(t *testing.T) {
	e := newEnv(t, nil)
	r := e.Start()
	target := e.Srv.User(t, "victim", false).UserID
	preview := e.WaitReply(e.Say(e.Mod, "!deactivate "+string(target)))
	other := e.Srv.User(t, "victim", false).UserID
	old := e.WaitReply(e.Say(e.Mod, "!deactivate "+string(other)))
	require.NoError(t, r.Stop())

	db, err := sql.Open("sqlite", "file:"+e.Cfg.Database.URI+"?_pragma=busy_timeout(10000)")
	require.NoError(t, err)
	// The second is made as a Gavel before schema v9 left it; the text
	// of the first then says someone else: only the stored command counts.
	for _, step := range []struct {
		query string
		args  []any
	}{
		{`UPDATE pending SET command_name=NULL, args=NULL WHERE command=?`, []any{"!deactivate " + string(other)}},
		{`UPDATE pending SET command=? WHERE command=?`, []any{"!deactivate " + string(other), "!deactivate " + string(target)}},
	} {
		res, err := db.Exec(step.query, step.args...)
		require.NoError(t, err)
		n, err := res.RowsAffected()
		require.NoError(t, err)
		require.EqualValues(t, 1, n, step.query)
	}
	require.NoError(t, db.Close())

	e.Start()
	assert.Equal(t, "Deactivated "+string(target)+".", e.answer(e.react(e.Mod, preview.ID, "✅")))
	assert.True(t, e.deactivated(target))
	assert.Equal(t, "Not done: this preview was made by an older Gavel, before an upgrade, and cannot be confirmed. Send the command again.",
		e.answer(e.react(e.Mod, old.ID, "✅")))
	assert.False(t, e.deactivated(other))
}
