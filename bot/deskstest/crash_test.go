package deskstest

import (
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"

	"github.com/gavel-bot/gavel/bot"
	"github.com/gavel-bot/gavel/config"
	"github.com/gavel-bot/gavel/internal/testkit/bottest"
	"github.com/gavel-bot/gavel/internal/testkit/faultproxy"
)

// TestCrashBetweenCardEdits: a claim in the community desk edits the
// report's card there and in the server desk. The real gavel binary is
// killed with SIGKILL right after Synapse answered the first of the two
// edits; after a restart each card has exactly one edit for the claim.
func TestCrashBetweenCardEdits(t *testing.T) {
	e := bottest.NewEnv(t, nil)
	e.Cfg.Reports.OnFirstStart = config.FirstStartSkip
	space := room(t, e.Mod, "Gaming", true)
	child(t, e.Mod, space, e.Public, true)
	gaming := room(t, e.Mod, "Gaming mods", false, e.Member, e.BotCli)
	ge := e.In(gaming)
	ge.SetPowerLevel(e.Member.UserID, 50)
	e.Cfg.Desks = []config.Desk{{Name: "gaming", Room: gaming, Spaces: []string{string(space)}}}
	require.NoError(t, e.Cfg.Validate())
	proxy := e.ViaProxy()
	logFile := e.ProcessLog()

	p := e.StartProcess(logFile)
	e.WaitStarted(logFile, 1)
	spam := e.Spam("buy followers")
	e.Report(spam, "spam")
	id1 := e.ReportID(spam)
	serverCard := waitCard(e, e.Public, id1)
	deskCard := waitCard(ge, e.Public, id1)

	// The desk's edit goes out beside the server desk's (a sender loop
	// per room): slowed down, it is still on its way when Gavel is killed.
	proxy.SetRule(func(r *http.Request) faultproxy.Fault {
		if faultproxy.IsSend(r) && strings.Contains(r.URL.Path, "desk-gaming") && strings.Contains(r.URL.Path, "-case-") {
			time.Sleep(time.Second)
		}
		return nil
	})
	var killed atomic.Bool
	proxy.AfterResponse(func(r faultproxy.Request, status int) {
		if r.Method == http.MethodPut && status == http.StatusOK && strings.Contains(r.String(), "-case-1") && killed.CompareAndSwap(false, true) {
			_ = p.Signal(syscall.SIGKILL)
		}
	})
	ge.Say(e.Member, "!report claim "+bottest.Itoa(id1))
	select {
	case <-p.Done():
	case <-time.After(time.Minute):
		t.Fatal("gavel was not killed after the first edit")
	}
	proxy.AfterResponse(nil)
	proxy.SetRule(nil)
	edited := len(e.Edits(serverCard.ID)) + len(ge.Edits(deskCard.ID))
	assert.Equal(t, 1, edited, "killed between the two edits")

	e.StartProcess(logFile)
	require.Eventually(t, func() bool {
		return len(e.Edits(serverCard.ID)) >= 1 && len(ge.Edits(deskCard.ID)) >= 1
	}, time.Minute, 100*time.Millisecond, "both cards edited after the restart")
	time.Sleep(2 * time.Second) // a duplicate would come within this
	for _, edits := range [][]string{e.Edits(serverCard.ID), ge.Edits(deskCard.ID)} {
		require.Len(t, edits, 1, "one edit per card for the claim")
		assert.Contains(t, edits[0], "Claimed in #gaming by "+string(e.Member.UserID))
	}
}

// TestDeskGavelCannotPostTo: Gavel kicked from one desk's room does not
// hold up the other desks: their cards go on, and the kicked desk's wait
// in the outbox until Gavel is invited back. !status and /readyz say
// which desk; a command sent there meanwhile is not run once Gavel is
// back.
func TestDeskGavelCannotPostTo(t *testing.T) {
	e := bottest.NewEnv(t, nil)
	e.Cfg.Reports.OnFirstStart = config.FirstStartSkip
	gaming := room(t, e.Mod, "Gaming mods", false, e.BotCli)
	e.Cfg.Desks = []config.Desk{{Name: "gaming", Room: gaming, Rooms: []string{string(e.Public)}}}
	require.NoError(t, e.Cfg.Validate())
	gavel := e.Start()
	ge := e.In(gaming)
	_, err := e.Mod.KickUser(bg, gaming, &mautrix.ReqKickUser{UserID: e.BotCli.UserID, Reason: "test"})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return strings.Contains(e.Command(e.Mod, "!status").Body, "Gavel is not in its room")
	}, 30*time.Second, 500*time.Millisecond, "!status names the desk Gavel was removed from")
	ready := bot.Current(func() *bot.Bot { return gavel.Bot }).Readiness(e.Cfg.Reports.PollInterval, gavel.Store, nil)
	assert.Contains(t, ready.Check(bg, time.Now()), "the bot is not in the room of desk #gaming", "/readyz says which desk")

	spam := e.Spam("buy followers")
	e.Report(spam, "spam")
	id1 := e.ReportID(spam)
	waitCard(e, e.Public, id1)
	assert.Contains(t, e.Command(e.Mod, "!report "+bottest.Itoa(id1)).Body, "Report "+bottest.Itoa(id1), "commands are answered meanwhile")
	assert.Empty(t, cards(ge, e.Public), "the desk's card waits")
	history := ge.Say(e.Mod, "!status")

	_, err = e.Mod.InviteUser(bg, gaming, &mautrix.ReqInviteUser{UserID: e.BotCli.UserID})
	require.NoError(t, err)
	waitCard(ge, e.Public, id1)
	assert.Contains(t, ge.Command(e.Mod, "!status").Body, "Desk #gaming (this room)")
	assert.Empty(t, ge.Replies(history), "a command sent while Gavel was out of the room is history, not run when it joins")
}
