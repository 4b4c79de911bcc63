package casestest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/internal/testkit/faultproxy"
)

// adminWrites returns the requests since mark that could change something
// through Synapse's admin API: any but a GET.
func adminWrites(p *faultproxy.Proxy, mark int) []string {
	var out []string
	for _, r := range p.Since(mark) {
		if r.IsAdmin() && r.Method != http.MethodGet {
			out = append(out, r.String())
		}
	}
	return out
}

// TestRoles: each command needs its power level in the management room
// (commands.power_levels; destructive commands 100 by default) however it
// comes. A member at 50 cannot !deactivate, typed or structured, nor confirm a preview with ✅
// (which leaves it open for a moderator at 100 to confirm), nor press a
// card's button whose command needs more; commands.power_levels raises a
// command (suspend: 100); !help marks what is out of reach and says why.
// Nothing refused reaches the admin API as a write.
func TestRoles(t *testing.T) {
	e := newEnv(t, nil)
	e.Cfg.Reports.OnFirstStart = config.FirstStartSkip
	e.Cfg.Commands.PowerLevels = map[string]int{"suspend": 100}
	require.NoError(t, e.Cfg.Validate())
	p := e.ViaProxy()
	e.Start()
	e.SetPowerLevel(e.Member.UserID, 50)
	victim := e.Srv.User(t, "victim", false).UserID
	assert.Contains(t, e.Command(e.Member, "!help").Body, "Gavel's commands", "the member at 50 is a moderator")

	// A typed destructive command needs 100.
	{
		mark := p.Mark()
		assert.Equal(t, "Not done: deactivate needs power 100 here; yours is 50.", e.Command(e.Member, "!deactivate "+string(victim)).Body)
		assert.Equal(t, "Not done: deactivate needs power 100 here; yours is 50.", e.Command(e.Member, "!deactivate "+string(victim)+" --yes").Body)
		// The same, structured (MSC4391), as a client builds it.
		content, err := commands.ByName("deactivate").Description().ParseInput(e.BotCli.UserID, []string{"/"}, "/deactivate --yes "+string(victim))
		require.NoError(t, err)
		require.NotNil(t, content)
		resp, err := e.Member.SendMessageEvent(bg, e.Room, event.EventMessage, content)
		require.NoError(t, err)
		assert.Equal(t, "Not done: deactivate needs power 100 here; yours is 50.", e.WaitReply(resp.EventID).Content.AsMessage().Body)
		assert.Empty(t, adminWrites(p, mark))
		assert.False(t, e.deactivated(victim))
	}

	// A ✅ below the command's level decides nothing.
	{
		preview := e.WaitReply(e.Say(e.Mod, "!deactivate "+string(victim)))
		require.Contains(t, preview.Content.AsMessage().Body, "React ✅ to this message")
		mark := p.Mark()
		low := e.react(e.Member, preview.ID, "✅")
		assert.Equal(t, "Not done: deactivate needs power 100 here; yours is 50.", e.answer(low))
		assert.Empty(t, adminWrites(p, mark))
		assert.False(t, e.deactivated(victim))

		confirm := e.react(e.Mod, preview.ID, "✅")
		assert.Equal(t, "Deactivated "+string(victim)+".", e.answer(confirm), "the preview was still open for a moderator at 100")
		assert.True(t, e.deactivated(victim))
		assert.Contains(t, e.answer(e.react(e.Member, preview.ID, "✅️")), "Already confirmed by "+string(e.Mod.UserID), "once decided, everyone hears who decided")
	}

	// ❌ needs min_power_level only.
	{
		other := e.Srv.User(t, "other", false).UserID
		preview := e.WaitReply(e.Say(e.Mod, "!deactivate "+string(other)))
		assert.Equal(t, "Cancelled by "+string(e.Member.UserID)+": nothing was done.", e.answer(e.react(e.Member, preview.ID, "❌")))
		assert.False(t, e.deactivated(other))
	}

	// Commands.power_levels raises a command.
	{
		mark := p.Mark()
		assert.Equal(t, "Not done: suspend needs power 100 here; yours is 50.", e.Command(e.Member, "!suspend "+string(e.Spammer.UserID)).Body)
		assert.Empty(t, adminWrites(p, mark))
		unsuspend := e.Command(e.Member, "!unsuspend "+string(e.Spammer.UserID)).Body
		assert.NotContains(t, unsuspend, "needs power", "the rest of the server group still needs 50")
		assert.Contains(t, unsuspend, string(e.Spammer.UserID))
	}

	// !help marks what is out of reach.
	{
		help := e.Command(e.Member, "!help").Body
		assert.Contains(t, help, "Your power level here is 50: the commands marked need more:")
		var marked []string
		for _, line := range strings.Split(help, "\n") {
			if strings.HasSuffix(line, " — needs power 100 here") {
				marked = append(marked, line)
			}
		}
		require.Len(t, marked, 4, help)
		for i, usage := range []string{"!suspend ", "!deactivate ", "!room delete ", "!redact user "} {
			assert.True(t, strings.HasPrefix(marked[i], "• `"+usage), marked[i])
		}
		assert.Equal(t, 4, strings.Count(help, "needs power"), "nothing else is marked")
		assert.Contains(t, e.Command(e.Member, "!help room delete").Body, "\n  Needs power 100 here; yours is 50.")
		assert.Contains(t, e.Command(e.Member, "!help unsuspend").Body, "\n  Needs power 50 here.")

		modHelp := e.Command(e.Mod, "!help").Body
		assert.NotContains(t, modHelp, "needs power", "nothing is out of a room admin's reach")
		assert.Contains(t, e.Command(e.Mod, "!help deactivate").Body, "\n  Needs power 100 here.")
	}

	// A card's button needs its command's level.
	{
		spam := e.Spam("role spam")
		e.Report(spam, "spam")
		card := e.WaitNotices(1)[0]
		answers := len(e.Replies(card.ID))
		press := func(cli *mautrix.Client, key string) string {
			t.Helper()
			e.react(cli, card.ID, key)
			body := e.waitAnswerOn(card.ID, answers)
			answers++
			return body
		}
		mark := p.Mark()
		assert.Equal(t, "Not done: redact user needs power 100 here; yours is 50.", press(e.Member, "🧹"))
		assert.Equal(t, "Not done: suspend needs power 100 here; yours is 50.", press(e.Member, "⛔"))
		assert.Empty(t, adminWrites(p, mark))
		acc, err := e.Admin.Account(bg, e.Spammer.UserID)
		require.NoError(t, err)
		assert.False(t, bool(acc.Suspended))
		assert.Contains(t, press(e.Member, "👀"), "Claimed by "+string(e.Member.UserID), "a button within reach works")
		assert.Contains(t, press(e.Mod, "🧹"), "React ✅ to this message", "at 100 the button asks for confirmation")
	}
}
