package casestest

import (
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"

	"github.com/gavel-bot/gavel/internal/testkit/faultproxy"
)

// TestLongActionsEditTheirReply: !room delete and !redact user reply at
// once that Synapse is at it, then edit that reply (m.replace) with the
// result when Synapse's task ends, also when the action was confirmed
// with ✅.
func TestLongActionsEditTheirReply(t *testing.T) {
	e := newEnv(t, nil)
	e.Start()

	doomed, err := e.Spammer.CreateRoom(bg, &mautrix.ReqCreateRoom{Name: "doomed"})
	require.NoError(t, err)
	cmd := e.Say(e.Mod, "!room delete "+string(doomed.RoomID)+" --yes")
	reply := e.WaitReply(cmd)
	assert.Regexp(t, `^Deleting doomed: Synapse has it queued \(task \w+\)\. This message is updated as it goes\.$`,
		reply.Content.AsMessage().Body)
	edits := e.WaitEdited(reply.ID, "Deleted ")
	assert.Equal(t, "Deleted doomed: 1 local user removed.", edits[len(edits)-1])
	info, err := e.Admin.RoomInfo(bg, doomed.RoomID)
	if err == nil {
		assert.Zero(t, info.JoinedMembers, "everyone was removed")
	}

	spam := e.Spam("spam to redact")
	cmd = e.Say(e.Mod, "!redact user "+string(e.Spammer.UserID)+" --since 1h")
	preview := e.WaitReply(cmd)
	require.Contains(t, preview.Content.AsMessage().Body, "Redact "+string(e.Spammer.UserID)+"'s messages since ")
	answer := e.AnswerEvent(e.react(e.Mod, preview.ID, "✅"))
	assert.True(t, strings.HasPrefix(answer.Content.AsMessage().Body, "Redacting "+string(e.Spammer.UserID)+"'s messages since "), answer.Content.AsMessage().Body)
	edits = e.WaitEdited(answer.ID, "Redacted ")
	assert.Regexp(t, `^Redacted `+regexp.QuoteMeta(string(e.Spammer.UserID))+`'s messages since .* in every room they are in\.$`, edits[len(edits)-1])
	assert.True(t, e.Redacted(spam))
}

// TestTaskIsFollowedAfterARestart: a redaction still running (as far as
// Gavel can tell: Synapse's status could not be read) when Gavel stops is
// followed again after the restart, and its reply edited once with the
// result.
func TestTaskIsFollowedAfterARestart(t *testing.T) {
	e := newEnv(t, nil)
	p := e.ViaProxy()
	p.SetRule(func(r *http.Request) faultproxy.Fault {
		if strings.Contains(r.URL.Path, "/redact_status/") {
			return faultproxy.Status(http.StatusBadGateway, "")
		}
		return nil
	})
	gavel := e.Start()
	spam := e.Spam("spam to redact")
	cmd := e.Say(e.Mod, "!redact user "+string(e.Spammer.UserID)+" --yes")
	reply := e.WaitReply(cmd)
	require.Contains(t, reply.Content.AsMessage().Body, "Synapse is at it")
	statusAsked := func() bool {
		for _, r := range p.Requests() {
			if strings.Contains(r.Path, "/redact_status/") {
				return true
			}
		}
		return false
	}
	require.Eventually(t, statusAsked, 10*time.Second, 50*time.Millisecond, "Gavel follows the task")
	require.NoError(t, gavel.Stop())
	assert.Empty(t, e.Edits(reply.ID), "nothing to show while the status cannot be read")

	p.SetRule(nil)
	e.Start()
	edits := e.WaitEdited(reply.ID, "Redacted ")
	assert.Len(t, edits, 1, "one edit: the result")
	assert.True(t, e.Redacted(spam))
}

// TestSIGKILLBetweenConfirmationAndAction kills the real gavel process
// right after Synapse answered the deletion a moderator confirmed, before
// Gavel could record it. After the restart the confirmation is answered
// as of unknown outcome, and the room is not deleted a second time.
func TestSIGKILLBetweenConfirmationAndAction(t *testing.T) {
	e := newEnv(t, nil)
	p := e.ViaProxy()
	log := e.ProcessLog()
	gavel := e.StartProcess(log)
	e.WaitStarted(log, 1)

	doomed, err := e.Spammer.CreateRoom(bg, &mautrix.ReqCreateRoom{Name: "doomed"})
	require.NoError(t, err)
	deletes := func() int {
		n := 0
		for _, r := range p.Requests() {
			if r.Method == http.MethodDelete && strings.HasSuffix(r.Path, "/rooms/"+string(doomed.RoomID)) {
				n++
			}
		}
		return n
	}
	preview := e.WaitReply(e.Say(e.Mod, "!room delete "+string(doomed.RoomID)))
	p.AfterResponse(func(r faultproxy.Request, status int) {
		if r.Method == http.MethodDelete && status == http.StatusOK {
			_ = gavel.Signal(syscall.SIGKILL)
		}
	})
	confirm := e.react(e.Mod, preview.ID, "✅")
	select {
	case <-gavel.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("gavel was not killed within 30 s of the confirmation")
	}
	p.AfterResponse(nil)
	require.Equal(t, 1, deletes())

	e.StartProcess(log)
	e.WaitStarted(log, 2)
	answer := e.AnswerEvent(confirm)
	assert.Equal(t, "Gavel stopped while running this command, so it may or may not have taken effect. Check, then send it again if needed.",
		answer.Content.AsMessage().Body)
	e.Command(e.Mod, "!help") // the replayed sync is handled
	assert.Equal(t, 1, deletes(), "the deletion is not run twice")
}
