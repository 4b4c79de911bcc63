package moderation

import (
	"context"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/store"
)

func (m *Moderator) showUser(ctx context.Context, c commands.ShowUser) Outcome {
	open := m.openReports(ctx, adminapi.EventReportsQuery{EventSenderUserID: c.User})
	if c.User.Homeserver() != m.serverName() {
		return Done(notice.RemoteUserGlance(c.User, open))
	}
	acc, err := m.Admin.Account(ctx, c.User)
	if err != nil {
		return Done(notice.New().User(m.explain(err, "user "+string(c.User))))
	}
	rooms, err := m.Admin.JoinedRoomCount(ctx, c.User)
	return Done(notice.UserGlance(acc, notice.Known{N: int64(rooms), Err: err}, open, time.Now()))
}

// openReports counts the open event reports q selects.
func (m *Moderator) openReports(ctx context.Context, q adminapi.EventReportsQuery) notice.Known {
	q.Limit = 1
	page, err := m.Admin.ListEventReports(ctx, q)
	if err != nil {
		return notice.Known{Err: err}
	}
	return notice.Known{N: page.Total}
}

// accountChange is one of the moderation states of a local account, and
// the words for setting and clearing it.
type accountChange struct {
	is      func(*adminapi.Account) adminapi.Bool
	set     func(ctx context.Context, userID id.UserID, on bool) error
	verb    string // "suspended": "only local accounts can be suspended"
	did     string // "Suspended %s: they can still read, but not send, join or invite."
	undid   string // "Lifted the suspension of %s."
	undo    string // the command that reverses it: "unsuspend"
	already string // "%s is already suspended."
	not     string // "%s is not suspended."
}

// changeAccount sets (on) or clears a moderation state of a local account,
// after checking that the account exists here and is not in that state
// already.
func (m *Moderator) changeAccount(ctx context.Context, user id.UserID, ch accountChange, on, yes bool) Outcome {
	if server := user.Homeserver(); server != m.serverName() {
		t := sentence("%s is on another server, not on this one ("+m.serverName()+"): only local accounts can be "+ch.verb+". For remote users, ", string(user)).
			Code(m.Prefix + "redact").Raw(", ").Code(m.Prefix + "kick").Raw(", ").Code(m.Prefix + "ban").Raw(" and ").Code(m.Prefix + "quarantine media").Raw(" work.")
		return NotDone(t)
	}
	if refused := m.protected(user); refused != nil {
		return *refused
	}
	acc, err := m.Admin.Account(ctx, user)
	if err != nil {
		return Failed("%s", m.explain(err, "user "+string(user)))
	}
	switch {
	case bool(acc.Admin) && !yes:
		t := sentence("Not done: %s is a server admin. Add ", string(user)).Code("--yes").Raw(" to act on them anyway.")
		return NotDone(t)
	case on && bool(ch.is(acc)):
		return Done(sentence(ch.already, string(user)))
	case !on && !bool(ch.is(acc)):
		return Done(sentence(ch.not, string(user)))
	}
	if err := ch.set(ctx, user, on); err != nil {
		return Failed("%s", m.explain(err, "user "+string(user)))
	}
	if !on {
		return Done(sentence(ch.undid, string(user)))
	}
	return Done(sentence(ch.did, string(user)).Raw(" ").Code(m.Prefix + ch.undo + " " + string(user)).Raw(" undoes it."))
}

// sentence fills Gavel's one-%s sentence with a name it did not choose (a
// user id or room alias can read "@room"), made inert.
func sentence(format, name string) *notice.Text {
	before, after, _ := strings.Cut(format, "%s")
	return notice.New().Raw(before).User(name).Raw(after)
}

func (m *Moderator) suspension() accountChange {
	return accountChange{
		is: func(a *adminapi.Account) adminapi.Bool { return a.Suspended }, set: m.Admin.SuspendAccount,
		verb: "suspended", did: "Suspended %s: they can still read, but not send, join or invite.", undid: "Lifted the suspension of %s.",
		undo: "unsuspend", already: "%s is already suspended.", not: "%s is not suspended.",
	}
}

func (m *Moderator) lock() accountChange {
	return accountChange{
		is: func(a *adminapi.Account) adminapi.Bool { return a.Locked }, set: m.Admin.LockAccount,
		verb: "locked", did: "Locked %s: their sessions end and they cannot log in.", undid: "Unlocked %s.",
		undo: "unlock", already: "%s is already locked.", not: "%s is not locked.",
	}
}

func (m *Moderator) shadowBan() accountChange {
	return accountChange{
		is: func(a *adminapi.Account) adminapi.Bool { return a.ShadowBanned }, set: m.Admin.ShadowBan,
		verb: "shadow-banned", did: "Shadow-banned %s: what they send seems to go out but reaches nobody.", undid: "Lifted the shadow-ban of %s.",
		undo: "unshadowban", already: "%s is already shadow-banned.", not: "%s is not shadow-banned.",
	}
}

func (m *Moderator) suspend(ctx context.Context, c commands.Suspend) Outcome {
	return m.changeAccount(ctx, c.User, m.suspension(), true, c.EvenIfAdmin)
}

func (m *Moderator) unsuspend(ctx context.Context, c commands.Unsuspend) Outcome {
	return m.changeAccount(ctx, c.User, m.suspension(), false, c.EvenIfAdmin)
}

func (m *Moderator) lockAccount(ctx context.Context, c commands.Lock) Outcome {
	return m.changeAccount(ctx, c.User, m.lock(), true, c.EvenIfAdmin)
}

func (m *Moderator) unlockAccount(ctx context.Context, c commands.Unlock) Outcome {
	return m.changeAccount(ctx, c.User, m.lock(), false, c.EvenIfAdmin)
}

func (m *Moderator) shadowBanAccount(ctx context.Context, c commands.ShadowBan) Outcome {
	return m.changeAccount(ctx, c.User, m.shadowBan(), true, c.EvenIfAdmin)
}

func (m *Moderator) unshadowBanAccount(ctx context.Context, c commands.UnshadowBan) Outcome {
	return m.changeAccount(ctx, c.User, m.shadowBan(), false, c.EvenIfAdmin)
}

// checkDeactivate refuses what deactivation must not touch and returns the
// account.
func (m *Moderator) checkDeactivate(ctx context.Context, user id.UserID) (*adminapi.Account, *Outcome) {
	refuse := func(t *notice.Text) (*adminapi.Account, *Outcome) {
		out := NotDone(t)
		return nil, &out
	}
	if server := user.Homeserver(); server != m.serverName() {
		return refuse(sentence("%s is on another server, not on this one ("+m.serverName()+"): only local accounts can be deactivated.", string(user)))
	}
	if refused := m.protected(user); refused != nil {
		return nil, refused
	}
	acc, err := m.Admin.Account(ctx, user)
	if err != nil {
		out := Failed("%s", m.explain(err, "user "+string(user)))
		return nil, &out
	}
	if acc.Deactivated {
		out := Done(sentence("%s is already deactivated.", string(user)))
		return nil, &out
	}
	return acc, nil
}

func (m *Moderator) previewDeactivate(ctx context.Context, c commands.Deactivate) Outcome {
	acc, refused := m.checkDeactivate(ctx, c.User)
	if refused != nil {
		return *refused
	}
	rooms, err := m.Admin.JoinedRoomCount(ctx, c.User)
	open := m.openReports(ctx, adminapi.EventReportsQuery{EventSenderUserID: c.User})
	t := notice.DeactivatePreview(acc, notice.Known{N: int64(rooms), Err: err}, open, c.Erase, time.Now())
	return Outcome{Reply: t, OK: true, Result: t.Plain(), Pending: &store.Pending{}}
}

func (m *Moderator) deactivate(ctx context.Context, c commands.Deactivate) Outcome {
	if _, refused := m.checkDeactivate(ctx, c.User); refused != nil {
		return *refused
	}
	if err := m.Admin.DeactivateAccount(ctx, c.User, c.Erase); err != nil {
		return Failed("%s", m.explain(err, "user "+string(c.User)))
	}
	if c.Erase {
		return Done(sentence("Deactivated and erased %s.", string(c.User)))
	}
	return Done(sentence("Deactivated %s.", string(c.User)))
}
