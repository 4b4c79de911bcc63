package bottest

import (
	"strings"
	"testing"
	"time"

	"github.com/gavel-bot/gavel/outbox"
	"github.com/gavel-bot/gavel/store"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// Gavel's answers, edits and redactions, and a few more moves of the test's clients.

// Edits returns the new bodies of Gavel's edits of its message msg,
// oldest first.
func (e *Env) Edits(msg id.EventID) []string {
	var out []string
	for _, evt := range e.BotMessages() {
		c := evt.Content.AsMessage()
		if c.RelatesTo != nil && c.RelatesTo.Type == event.RelReplace && c.RelatesTo.EventID == msg && c.NewContent != nil {
			out = append(out, c.NewContent.Body)
		}
	}
	return out
}

// WaitEdited waits until Gavel's latest edit of msg starts with prefix,
// and returns all its edits.
func (e *Env) WaitEdited(msg id.EventID, prefix string) []string {
	e.T.Helper()
	var edits []string
	require.Eventuallyf(e.T, func() bool {
		edits = e.Edits(msg)
		return len(edits) > 0 && strings.HasPrefix(edits[len(edits)-1], prefix)
	}, 30*time.Second, 100*time.Millisecond, "waiting for an edit of %s to %q (edits so far: %q)", msg, prefix, edits)
	return edits
}

// AnswerEvent waits for Gavel's answer to a reaction and returns it.
func (e *Env) AnswerEvent(reaction id.EventID) *event.Event {
	e.T.Helper()
	key := string(store.ReplyKey(reaction))
	var answer *event.Event
	require.Eventuallyf(e.T, func() bool {
		for _, evt := range e.BotMessages() {
			if evt.Content.Raw[outbox.KeyField] == key {
				answer = evt
				return true
			}
		}
		return false
	}, 30*time.Second, 100*time.Millisecond, "waiting for the answer to %s", reaction)
	return answer
}

// Redacted reports whether the spammer's event in the public room is
// redacted.
func (e *Env) Redacted(evt id.EventID) bool {
	e.T.Helper()
	got, err := e.Spammer.GetEvent(bg, e.Public, evt)
	require.NoError(e.T, err)
	return len(got.Content.Raw) == 0
}

// SayInThread sends body as cli into the thread rooted at root.
func (e *Env) SayInThread(cli *mautrix.Client, root id.EventID, body string) id.EventID {
	e.T.Helper()
	content := &event.MessageEventContent{MsgType: event.MsgText, Body: body,
		RelatesTo: (&event.RelatesTo{}).SetThread(root, root)}
	resp, err := cli.SendMessageEvent(bg, e.Room, event.EventMessage, content)
	require.NoError(e.T, err)
	return resp.EventID
}

// NewDevice logs Gavel's account in again and has the next start use that
// token: a new device, which the homeserver's transaction ids do not know.
func (e *Env) NewDevice() {
	e.T.Helper()
	relogin, err := e.Srv.Client("").Login(bg, &mautrix.ReqLogin{
		Type: mautrix.AuthTypePassword, Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: e.BotCli.UserID.Localpart()},
		Password: e.BotPassword,
	})
	require.NoError(e.T, err)
	e.Cfg.Matrix.AccessToken = relogin.AccessToken
}

// StillRunning fails the test if Gavel has stopped.
func (r *Running) StillRunning(t *testing.T) {
	t.Helper()
	select {
	case err := <-r.Done:
		r.Done <- err // for the cleanup's stop()
		t.Fatalf("Gavel stopped: %v", err)
	default:
	}
}
