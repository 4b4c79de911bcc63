package commands

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/mxid"
)

// Every command, one declaration each, in the order help shows them within
// their sections. To add one: declare its type and spec here, register its
// handler in package moderation, and run `go run ./cmd/gavel-docs`.

// Help asks for the list of commands, or the details of one.
type Help struct{ Topic string }

var _ = declare(Spec{
	Name: "help", Group: GroupRead, Section: SectionGavel,
	Summary: "list the commands, or explain one",
	Details: "With a command name (help quarantine, help report delete) shows how that command is used.",
}, func(c *Help) []Arg {
	return []Arg{readBy(rest("command", &c.Topic, "a command to explain, like quarantine or report delete"), lower)}
})

// lower reads a help topic: command names are lowercase.
func lower(s string) (string, error) { return strings.ToLower(s), nil }

// ListReports lists event reports, newest first.
type ListReports struct {
	Reporter id.UserID // --user: reports filed by this user
	Room     RoomRef   // --room: reports about events in this room
	Sender   id.UserID // --sender: reports about events sent by this user
	Limit    int       // --limit: how many to show
	// --state: the case states to list (open, claimed, resolved,
	// dismissed); empty for open and claimed, as Synapse lists them.
	States []string
	// --mine: cases whose last change was the moderator's own.
	Mine bool
	// --older-than: reports received longer ago than this.
	OlderThan time.Duration
	// --kind: the kinds of report to list; empty for every kind.
	Kinds []mxid.ReportKind
}

// Lists reports whether the listing includes reports of kind.
func (l ListReports) Lists(kind mxid.ReportKind) bool {
	return len(l.Kinds) == 0 || slices.Contains(l.Kinds, kind)
}

// Cases reports whether the listing is by case (--state, --mine,
// --older-than): from Gavel's database rather than Synapse's list.
func (l ListReports) Cases() bool { return len(l.States) > 0 || l.Mine || l.OlderThan > 0 }

// Limits of !reports.
const (
	DefaultReportsLimit = 10
	MaxReportsLimit     = 50
)

var _ = declare(Spec{
	Name: "reports", Group: GroupRead, Section: SectionReports,
	Summary: "list reports, newest first: open and claimed ones, or by state",
	Details: fmt.Sprintf("Lists the reports open in Synapse, newest first, %d by default and at most %d (--limit), with their case state; resolved and dismissed ones are left out. "+
		"--kind lists event reports (ids like 12), user reports (u12) or room reports (r12, with synapse.database) only; by default all. "+
		"--state lists the cases in that state instead (several: --state open,claimed; deleted: deleted in Synapse outside Gavel; all: every state), --mine the cases you changed last, --older-than reports received longer ago than that. "+
		"--user keeps reports filed by that user, --sender reports about that user (their events, or their account), --room reports of events in that room. "+
		"Users and rooms may be given as ids, aliases or matrix.to links.", DefaultReportsLimit, MaxReportsLimit),
}, func(c *ListReports) []Arg {
	c.Limit = DefaultReportsLimit
	return []Arg{
		oneOf(opt("kind", &c.Kinds, "the kind of report to list"), parseKinds, "event", "user", "room", "all"),
		readBy(opt("state", &c.States, "list the cases in these states: open, claimed, resolved, dismissed, deleted or all; several with commas"), parseStates).
			shown(strings.Join(caseStates, "|") + "|all"),
		opt("mine", &c.Mine, "the cases you changed last"),
		opt("older-than", &c.OlderThan, "reports received longer ago than this, like 2h or 7d").shown("2h"),
		opt("user", &c.Reporter, "reports filed by this user").shown("@reporter"),
		opt("room", &c.Room, "reports of events in this room").shown("!room|#alias"),
		opt("sender", &c.Sender, "reports about this user"),
		opt("limit", &c.Limit, "how many to show").upTo(MaxReportsLimit),
	}
})

// reportID is the report a case command is about.
func reportID(field *ReportRef) Arg { return pos("id", field, "the report: 12, u12 or r12") }

// note is a case change's note, logged as its reason.
func note(field *string) Arg {
	return opt("note", field, "a note for the case").shown(`"text"`).as(RoleReason)
}

// ShowReport shows one report with the reported content.
type ShowReport struct{ ID ReportRef }

var _ = declare(Spec{
	Name: "report show", Group: GroupRead, Section: SectionReports, Default: true,
	Summary: "show one report with the reported content",
	Details: "Shows the report, who filed it and why, and the reported event's content (as inert text).",
}, func(c *ShowReport) []Arg { return []Arg{reportID(&c.ID)} })

// DeleteReport deletes one report in Synapse.
type DeleteReport struct{ ID ReportRef }

var _ = declare(Spec{
	Name: "report delete", Group: GroupCases, Section: SectionReports,
	Summary: "delete a report in Synapse",
	Details: "Deletes the report from Synapse's list of open reports. The reported event is not touched.",
}, func(c *DeleteReport) []Arg { return []Arg{reportID(&c.ID)} })

// ClaimReport makes a report's case the moderator's.
type ClaimReport struct{ ID ReportRef }

var _ = declare(Spec{
	Name: "report claim", Group: GroupCases, Section: SectionReports,
	Summary: "take a report: its card says you are on it",
	Details: "Marks the report as claimed by you, on its card and in !report. Someone else's claim is not taken over; they (or anyone) can unclaim it first.",
}, func(c *ClaimReport) []Arg { return []Arg{reportID(&c.ID)} })

// UnclaimReport gives a claimed report back.
type UnclaimReport struct{ ID ReportRef }

var _ = declare(Spec{
	Name: "report unclaim", Group: GroupCases, Section: SectionReports,
	Summary: "give a claimed report back: it is open again",
}, func(c *UnclaimReport) []Arg { return []Arg{reportID(&c.ID)} })

// ResolveReport closes a report's case: something was done.
type ResolveReport struct {
	ID   ReportRef
	Note string // --note
}

var _ = declare(Spec{
	Name: "report resolve", Group: GroupCases, Section: SectionReports,
	Summary: "close a report: it was acted on",
	Details: "Marks the report as resolved by you, with the note if given, on its card and in !report. The report stays in Synapse's list.",
}, func(c *ResolveReport) []Arg { return []Arg{reportID(&c.ID), note(&c.Note)} })

// DismissReport closes a report's case: nothing to do.
type DismissReport struct {
	ID   ReportRef
	Note string // --note
}

var _ = declare(Spec{
	Name: "report dismiss", Group: GroupCases, Section: SectionReports,
	Summary: "close a report: no violation",
	Details: "Marks the report as dismissed by you, with the note if given (\"not spam\"), on its card and in !report. The report stays in Synapse's list.",
}, func(c *DismissReport) []Arg { return []Arg{reportID(&c.ID), note(&c.Note)} })

// ReopenReport opens a closed report's case again.
type ReopenReport struct{ ID ReportRef }

var _ = declare(Spec{
	Name: "report reopen", Group: GroupCases, Section: SectionReports,
	Summary: "open a resolved or dismissed report again",
}, func(c *ReopenReport) []Arg { return []Arg{reportID(&c.ID)} })

// EscalateReport hands a report to the server desk: from a community
// desk, for what only server admins may do.
type EscalateReport struct {
	ID   ReportRef
	Note string // --note
}

var _ = declare(Spec{
	Name: "report escalate", Group: GroupCases, Section: SectionReports,
	Summary: "hand a report to the server desk, for what this desk may not do",
	Details: "The server desk gets the report's card if it had none, and a message in the card's thread naming this desk, you and the note; the case's history records it. For account-wide and server-wide actions (suspend, deactivate, room block or delete, quarantine), which a community desk may not take.",
}, func(c *EscalateReport) []Arg { return []Arg{reportID(&c.ID), note(&c.Note)} })

// media is a media item.
func media(field *MediaRef) Arg {
	return pos("media", field, "mxc://server/media_id, or a media id of this server")
}

// QuarantineMedia quarantines one media item.
type QuarantineMedia struct {
	Media  MediaRef
	Report ReportRef // --report: the report this is for
}

var _ = declare(Spec{
	Name: "quarantine media", Group: GroupServer, Section: SectionMedia,
	Summary: "quarantine one media item",
	Details: "Quarantined media can no longer be downloaded from this homeserver. A bare media id means this server's media.",
}, func(c *QuarantineMedia) []Arg { return []Arg{media(&c.Media), forReport(&c.Report)} })

// UnquarantineMedia lifts the quarantine of one media item.
type UnquarantineMedia struct{ Media MediaRef }

var _ = declare(Spec{
	Name: "unquarantine media", Group: GroupServer, Section: SectionMedia,
	Summary: "lift the quarantine of one media item",
}, func(c *UnquarantineMedia) []Arg { return []Arg{media(&c.Media)} })

// QuarantineRoom quarantines all media in a room.
type QuarantineRoom struct {
	Room   RoomRef
	Report ReportRef // --report: the report this is for
}

var _ = declare(Spec{
	Name: "quarantine room", Group: GroupServer, Section: SectionMedia,
	Summary: "quarantine all media in a room",
	Details: "Quarantines every media item referenced by the room's unencrypted events, except protected media.",
}, func(c *QuarantineRoom) []Arg {
	return []Arg{pos("room", &c.Room, "a room id or alias"), forReport(&c.Report)}
})

// QuarantineUser quarantines all media a local user uploaded.
type QuarantineUser struct {
	User   id.UserID
	Report ReportRef // --report: the report this is for
}

var _ = declare(Spec{
	Name: "quarantine user", Group: GroupServer, Section: SectionMedia,
	Summary: "quarantine all media a local user uploaded",
	Details: "Quarantines every media item the user uploaded to this homeserver, except protected media.",
}, func(c *QuarantineUser) []Arg {
	return []Arg{pos("user", &c.User, "a local user"), forReport(&c.Report)}
})

// ProtectMedia protects one local media item from quarantine.
type ProtectMedia struct{ Media MediaRef }

var _ = declare(Spec{
	Name: "protect media", Group: GroupServer, Section: SectionMedia,
	Summary: "protect one local media item from quarantine",
	Details: "Protected media is skipped by quarantine room and quarantine user. Only this server's media can be protected.",
}, func(c *ProtectMedia) []Arg { return []Arg{media(&c.Media)} })

// UnprotectMedia removes that protection.
type UnprotectMedia struct{ Media MediaRef }

var _ = declare(Spec{
	Name: "unprotect media", Group: GroupServer, Section: SectionMedia,
	Summary: "remove the protection again",
}, func(c *UnprotectMedia) []Arg { return []Arg{media(&c.Media)} })

// ShowUser shows an account at a glance.
type ShowUser struct{ User id.UserID }

var _ = declare(Spec{
	Name: "user", Group: GroupRead, Section: SectionAccounts,
	Summary: "an account at a glance: its state, rooms and open reports",
	Details: "Shows whether the account is local, when it was created, whether it is an admin, deactivated, suspended, locked or shadow-banned, how many rooms it is in, and how many open reports are about its events.",
}, func(c *ShowUser) []Arg { return []Arg{pos("user", &c.User, "the account")} })

// localUser is the account an account action is on.
func localUser(field *id.UserID) Arg { return pos("user", field, "a local user") }

// Suspend suspends a local account (MSC3823): it can read but not send.
type Suspend struct {
	User        id.UserID
	EvenIfAdmin bool      // --yes: also when the account is a server admin
	Report      ReportRef // --report: the report this is for
}

var _ = declare(Spec{
	Name: "suspend", Group: GroupServer, Section: SectionAccounts,
	Summary: "suspend a local account: it can still read, but not send, join or invite",
}, func(c *Suspend) []Arg {
	return []Arg{localUser(&c.User), evenIfAdmin(&c.EvenIfAdmin), forReport(&c.Report)}
})

// Unsuspend lifts a suspension.
type Unsuspend struct {
	User        id.UserID
	EvenIfAdmin bool // --yes: also when the account is a server admin
}

var _ = declare(Spec{
	Name: "unsuspend", Group: GroupServer, Section: SectionAccounts,
	Summary: "lift the suspension of a local account",
}, func(c *Unsuspend) []Arg { return []Arg{localUser(&c.User), evenIfAdmin(&c.EvenIfAdmin)} })

// Lock locks a local account: logged out everywhere, no new logins.
type Lock struct {
	User        id.UserID
	EvenIfAdmin bool      // --yes: also when the account is a server admin
	Report      ReportRef // --report: the report this is for
}

var _ = declare(Spec{
	Name: "lock", Group: GroupServer, Section: SectionAccounts,
	Summary: "lock a local account: its sessions end and it cannot log in",
}, func(c *Lock) []Arg {
	return []Arg{localUser(&c.User), evenIfAdmin(&c.EvenIfAdmin), forReport(&c.Report)}
})

// Unlock unlocks a locked account.
type Unlock struct {
	User        id.UserID
	EvenIfAdmin bool // --yes: also when the account is a server admin
}

var _ = declare(Spec{
	Name: "unlock", Group: GroupServer, Section: SectionAccounts,
	Summary: "unlock a local account",
}, func(c *Unlock) []Arg { return []Arg{localUser(&c.User), evenIfAdmin(&c.EvenIfAdmin)} })

// ShadowBan shadow-bans a local account.
type ShadowBan struct {
	User        id.UserID
	EvenIfAdmin bool      // --yes: also when the account is a server admin
	Report      ReportRef // --report: the report this is for
}

var _ = declare(Spec{
	Name: "shadowban", Group: GroupServer, Section: SectionAccounts,
	Summary: "shadow-ban a local account: what it sends seems to go out but reaches nobody",
}, func(c *ShadowBan) []Arg {
	return []Arg{localUser(&c.User), evenIfAdmin(&c.EvenIfAdmin), forReport(&c.Report)}
})

// UnshadowBan lifts a shadow-ban.
type UnshadowBan struct {
	User        id.UserID
	EvenIfAdmin bool // --yes: also when the account is a server admin
}

var _ = declare(Spec{
	Name: "unshadowban", Group: GroupServer, Section: SectionAccounts,
	Summary: "lift the shadow-ban of a local account",
}, func(c *UnshadowBan) []Arg { return []Arg{localUser(&c.User), evenIfAdmin(&c.EvenIfAdmin)} })

// Deactivate deactivates a local account, for good.
type Deactivate struct {
	User   id.UserID
	Erase  bool      // --erase: also erase the profile and hide the messages from new members
	Yes    bool      // --yes: no preview
	Report ReportRef // --report: the report this is for
}

var _ = declare(Spec{
	Name: "deactivate", Group: GroupDestructive, Section: SectionAccounts,
	Summary: "deactivate a local account for good (a preview first, to confirm with ✅)",
	Details: "Replies with what it would do: the account's age, rooms and open reports. A moderator confirms with a ✅ reaction to that preview, or cancels with ❌; --yes skips the preview. --erase also erases the profile and hides the account's messages from people who join later.",
}, func(c *Deactivate) []Arg {
	return []Arg{
		localUser(&c.User),
		opt("erase", &c.Erase, "also erase the profile and hide the messages from new members"),
		skipPreview(&c.Yes, "no preview: deactivate at once"),
		forReport(&c.Report),
	}
})

// room is the room a room command is about.
func room(field *RoomRef) Arg { return pos("room", field, "a room id or alias") }

// ShowRoom shows a room at a glance.
type ShowRoom struct{ Room RoomRef }

var _ = declare(Spec{
	Name: "room show", Group: GroupRead, Section: SectionRooms, Default: true,
	Summary: "a room at a glance: name, creator, members, whether it is blocked, open reports",
	Details: "Shows the room's name and alias, its creator, its members (local and in all), whether it is public, encrypted or blocked on this server, and how many open reports are about its events.",
}, func(c *ShowRoom) []Arg { return []Arg{room(&c.Room)} })

// BlockRoom blocks a room on this server.
type BlockRoom struct {
	Room   RoomRef
	Report ReportRef // --report: the report this is for
}

var _ = declare(Spec{
	Name: "room block", Group: GroupServer, Section: SectionRooms,
	Summary: "block a room on this server: local users can no longer join it",
}, func(c *BlockRoom) []Arg { return []Arg{room(&c.Room), forReport(&c.Report)} })

// UnblockRoom lifts the block.
type UnblockRoom struct{ Room RoomRef }

var _ = declare(Spec{
	Name: "room unblock", Group: GroupServer, Section: SectionRooms,
	Summary: "lift the block of a room",
}, func(c *UnblockRoom) []Arg { return []Arg{room(&c.Room)} })

// DeleteRoom deletes a room on this server.
type DeleteRoom struct {
	Room    RoomRef
	Block   bool      // --block: local users cannot join it again
	Purge   bool      // --purge: its events and state leave the database
	Message string    // --message: posted in a new room its local members are moved to
	Yes     bool      // --yes: no preview
	Report  ReportRef // --report: the report this is for
}

var _ = declare(Spec{
	Name: "room delete", Group: GroupDestructive, Section: SectionRooms,
	Summary: "delete a room on this server (a preview first, to confirm with ✅)",
	Details: "Removes every local member from the room and deletes it on this server; --block keeps local users from joining it again, --purge also removes its history from the database, --message moves its local members to a new room with that message. Replies with a preview first (members, open reports); a moderator confirms with ✅ or cancels with ❌; --yes skips the preview. Synapse does it in the background; Gavel edits its reply as the task goes and when it ends.",
}, func(c *DeleteRoom) []Arg {
	return []Arg{
		room(&c.Room),
		opt("block", &c.Block, "local users cannot join it again"),
		opt("purge", &c.Purge, "remove its history from the database"),
		opt("message", &c.Message, "move its local members to a new room with this message"),
		skipPreview(&c.Yes, "no preview: delete at once"),
		forReport(&c.Report),
	}
})

// RedactUser redacts a user's recent messages.
type RedactUser struct {
	User   id.UserID
	Room   RoomRef       // --room: only there; else every room they are in
	Since  time.Duration // --since: how far back (default 24h)
	Limit  int           // --limit: at most this many of their newest events per room
	Yes    bool          // --yes: no preview
	Report ReportRef     // --report: the report this is for
}

// Defaults and bounds of !redact user.
const (
	DefaultRedactSince = 24 * time.Hour
	DefaultRedactLimit = 1000
	MaxRedactLimit     = 10000
)

var _ = declare(Spec{
	Name: "redact user", Group: GroupDestructive, Section: SectionRooms, InScope: true,
	Summary: "redact a user's recent messages, in every room or one (a preview first, to confirm with ✅)",
	Details: fmt.Sprintf("Redacts the user's messages (and joins) sent within --since (default 24h; like 90m, 6h or 7d), in --room or in every room they are in, at most --limit (default %d, at most %d) of their newest events per room. Replies with a preview first; a moderator confirms with ✅ or cancels with ❌; --yes skips the preview. Synapse does it in the background; Gavel edits its reply as the task goes and when it ends.", DefaultRedactLimit, MaxRedactLimit),
}, func(c *RedactUser) []Arg {
	c.Since, c.Limit = DefaultRedactSince, DefaultRedactLimit
	return []Arg{
		pos("user", &c.User, "whose messages to redact"),
		opt("room", &c.Room, "only in this room"),
		opt("since", &c.Since, "how far back, like 90m, 6h or 7d (default 24h)").shown("24h"),
		opt("limit", &c.Limit, "at most this many of their newest events per room").upTo(MaxRedactLimit),
		skipPreview(&c.Yes, "no preview: redact at once"),
		forReport(&c.Report),
	}
})

// Kick removes a user from a room, through Gavel's own account.
type Kick struct {
	User   id.UserID
	Room   RoomRef
	Reason string
	Report ReportRef // --report: the report this is for
}

var _ = declare(Spec{
	Name: "kick", Group: GroupRoom, Section: SectionRooms,
	Summary: "kick a user from a room where Gavel's account has the power to",
	Details: "A room member's action, not an admin one: Gavel's account must be in the room with a power level that allows kicking. The reason is shown to the user.",
}, func(c *Kick) []Arg {
	return []Arg{pos("user", &c.User, "the user"), pos("room", &c.Room, "the room"), rest("reason", &c.Reason, "shown to the user").as(RoleReason), forReport(&c.Report)}
})

// Ban bans a user from a room, through Gavel's own account.
type Ban struct {
	User   id.UserID
	Room   RoomRef
	Reason string
	Report ReportRef // --report: the report this is for
}

var _ = declare(Spec{
	Name: "ban", Group: GroupRoom, Section: SectionRooms,
	Summary: "ban a user from a room where Gavel's account has the power to",
	Details: "A room member's action, not an admin one: Gavel's account must be in the room with a power level that allows banning. The reason is shown to the user.",
}, func(c *Ban) []Arg {
	return []Arg{pos("user", &c.User, "the user"), pos("room", &c.Room, "the room"), rest("reason", &c.Reason, "shown to the user").as(RoleReason), forReport(&c.Report)}
})

// Unban lifts a ban.
type Unban struct {
	User id.UserID
	Room RoomRef
}

var _ = declare(Spec{
	Name: "unban", Group: GroupRoom, Section: SectionRooms,
	Summary: "lift a ban in a room where Gavel's account has the power to",
}, func(c *Unban) []Arg { return []Arg{pos("user", &c.User, "the user"), pos("room", &c.Room, "the room")} })

// RedactEvent redacts one event.
type RedactEvent struct {
	Room   RoomRef
	Event  id.EventID
	Reason string
	Report ReportRef // --report: the report this is for
}

var _ = declare(Spec{
	Name: "redact event", Group: GroupRoom, Section: SectionRooms, Default: true,
	Summary: "redact one event, in any room of this server",
	Details: "Give a matrix.to or matrix: link to the event, or its room and its event id. Gavel redacts it through Synapse's admin API (as the sender when the sender is local), without being in the room, and waits for Synapse to finish.",
}, func(c *RedactEvent) []Arg {
	return []Arg{eventArg("event", &c.Room, &c.Event, "a link to the event"), opt("reason", &c.Reason, "why").as(RoleReason), forReport(&c.Report)}
})

// PolicyCheck asks what the followed policy lists say about an entity.
type PolicyCheck struct{ Entity string }

var _ = declare(Spec{
	Name: "policy check", Group: GroupRead, Section: SectionPolicy,
	Summary: "what every followed policy list says about a user, room or server, glob matches included",
	Details: "Gavel follows the lists in policy_lists from their rooms' state, so this asks nothing of Synapse. For a user, the rules about their server are shown too.",
}, func(c *PolicyCheck) []Arg {
	return []Arg{pos("entity", &c.Entity, "a user id, room id or alias, or server name").shown("@user|!room|#alias|server")}
})

// PolicyList lists a followed list's rules.
type PolicyList struct {
	List   string // --list: the list's shortcode; the first list when empty
	User   string // --user: the rules about this user (globs matching it included)
	Room   string // --room: the same for a room
	Server string // --server: the same for a server
	Limit  int    // --limit
}

// Limits of !policy list.
const (
	DefaultPolicyListLimit = 20
	MaxPolicyListLimit     = 100
)

var _ = declare(Spec{
	Name: "policy list", Group: GroupRead, Section: SectionPolicy,
	Summary: "a followed policy list's rules, or those about a user, room or server",
	Details: fmt.Sprintf("Lists the rules of the list named by --list (by default the first in policy_lists), %d by default and at most %d (--limit); with --user, --room or --server only the rules of that kind whose entity is it or a glob matching it.", DefaultPolicyListLimit, MaxPolicyListLimit),
}, func(c *PolicyList) []Arg {
	c.Limit = DefaultPolicyListLimit
	return []Arg{
		opt("list", &c.List, "the list's shortcode").shown("shortcode"),
		opt("user", &c.User, "the rules about this user").shown("@user"),
		opt("room", &c.Room, "the rules about this room").shown("!room|#alias"),
		opt("server", &c.Server, "the rules about this server").shown("server"),
		opt("limit", &c.Limit, "how many to show").upTo(MaxPolicyListLimit),
	}
})

// policyEntity is the entity a rule is about.
func policyEntity(field *string) Arg {
	return pos("entity", field, "a user id, room id or alias, server name, or a glob of one (* and ?)").shown("@user|!room|#alias|server|glob")
}

// policyListArg is the list to write to.
func policyListArg(field *string) Arg {
	return opt("list", field, "the list's shortcode (by default the first with write: true)").shown("shortcode")
}

// PolicyBan writes a rule recommending a ban to a list.
type PolicyBan struct {
	Entity string
	List   string    // --list: the list's shortcode; the first writable list when empty
	Reason string    // --reason: the rule's reason, before the case reference
	Yes    bool      // --yes: no preview (a glob's)
	Report ReportRef // --report: the report this is for
}

var _ = declare(Spec{
	Name: "policy ban", Group: GroupServer, Section: SectionPolicy,
	Summary: "ban a user, room or server on a policy list Gavel writes to, for the bots that follow it to enforce (a preview first, to confirm with ✅)",
	Details: "Writes an m.policy.rule.user, .room or .server state event recommending m.ban to the list (--list, by default the first with write: true), through Gavel's own account. " +
		"Its reason is --reason followed by the case (policy_reason_template, \"{reason} (case {report_id})\" by default); the reporter is never named. " +
		"Gavel bans no one itself: Draupnir, Mjolnir, Meowlnir and the other bots following the list do. Replies with a preview first (a glob's says that it reaches every match, now and later); a moderator confirms with ✅ or cancels with ❌; --yes skips the preview. " +
		"A glob (@*:spam.example, *.spam.example) or id that would match Gavel's own account, server or rooms, or every user, room or server, is refused.",
}, func(c *PolicyBan) []Arg {
	return []Arg{
		policyEntity(&c.Entity), policyListArg(&c.List),
		opt("reason", &c.Reason, "why, written in the rule").shown(`"text"`).as(RoleReason),
		skipPreview(&c.Yes, "no preview: write at once"),
		forReport(&c.Report),
	}
})

// PolicyUnban removes the rules about an entity from a list.
type PolicyUnban struct {
	Entity string
	List   string    // --list
	Report ReportRef // --report: the report this is for
}

var _ = declare(Spec{
	Name: "policy unban", Group: GroupServer, Section: SectionPolicy,
	Summary: "remove a list's rules about a user, room or server (this unbans no one by itself)",
	Details: "Empties the state event of each rule about exactly this entity in the list (--list, by default the first with write: true), as the spec says a rule is removed. Whether anyone is unbanned is up to the bots that follow the list.",
}, func(c *PolicyUnban) []Arg {
	return []Arg{policyEntity(&c.Entity), policyListArg(&c.List), forReport(&c.Report)}
})

// DeskRefresh reads the desks' spaces again now.
type DeskRefresh struct{}

var _ = declare(Spec{
	Name: "desk refresh", Group: GroupRead, Section: SectionGavel,
	Summary: "read the desks' spaces again now: rooms added or removed are in or out of scope at once",
	Details: "Gavel reads each desk's spaces every 10 minutes on its own. In a community desk this refreshes that desk; in the server desk, every desk.",
}, func(c *DeskRefresh) []Arg { return nil })

// Status asks for Gavel's and Synapse's state.
type Status struct{}

var _ = declare(Spec{
	Name: "status", Group: GroupRead, Section: SectionGavel,
	Summary: "Gavel's and Synapse's versions, the last poll, open reports",
}, func(*Status) []Arg { return nil })

// Audit lists what moderators did, newest first.
type Audit struct {
	User   id.UserID     // the user acted on
	Report ReportRef     // report <id>, or in a card's thread: actions and changes for it
	By     id.UserID     // --by: the moderator
	Since  time.Duration // --since: how far back
	Limit  int           // --limit
}

// Limits of !audit.
const (
	DefaultAuditLimit = 20
	MaxAuditLimit     = 100
)

var _ = declare(Spec{
	Name: "audit", Group: GroupRead, Section: SectionGavel,
	Summary: "what moderators did, newest first: when, who, what, on what, why, the result",
	Details: fmt.Sprintf("Lists the actions and case changes Gavel recorded, newest first, %d by default and at most %d (--limit): those on a user, those for a report (in a card's thread: that report's), those by one moderator (--by), within --since (like 90m, 6h or 7d). "+
		"`gavel audit -config config.yaml` writes the whole trail as CSV or JSON.", DefaultAuditLimit, MaxAuditLimit),
}, func(c *Audit) []Arg {
	c.Limit = DefaultAuditLimit
	return []Arg{
		optPos("user", &c.User, "the user acted on").shown("@user"),
		introduced("report", "report", &c.Report, "actions and changes for this report").as(RoleReport),
		opt("by", &c.By, "the moderator").shown("@moderator"),
		opt("since", &c.Since, "how far back, like 90m, 6h or 7d"),
		opt("limit", &c.Limit, "how many to show").upTo(MaxAuditLimit),
	}
})

// Stats asks for the team's picture over a window: the figures, or the
// chart (--chart).
type Stats struct {
	Since time.Duration // --since: how far back; 0 for the default
	Chart bool          // --chart: the chart rather than the figures
}

// Windows of !stats when --since is not given.
const (
	DefaultStatsSince      = 7 * 24 * time.Hour
	DefaultStatsChartSince = 30 * 24 * time.Hour
	MaxStatsSince          = 366 * 24 * time.Hour
)

// Window is how far back the figures go: --since, or the default.
func (s Stats) Window() time.Duration {
	switch {
	case s.Since > 0:
		return min(s.Since, MaxStatsSince)
	case s.Chart:
		return DefaultStatsChartSince
	}
	return DefaultStatsSince
}

var _ = declare(Spec{
	Name: "stats", Group: GroupRead, Section: SectionGavel,
	Summary: "the team's picture: reports received, cases by outcome, time to claim and to resolve, actions by command and by moderator",
	Details: "From Gavel's own database, over the reports received within --since (7d by default, 30d with --chart, at most a year): " +
		"reports by kind, their cases by where they stand, median and 90th percentile time to claim (to the first action for the report) and to resolve, the oldest open case, actions by command and by moderator. " +
		"--chart posts a chart of the reports received per day by kind and the time to resolve per day instead.",
}, func(c *Stats) []Arg {
	return []Arg{
		opt("since", &c.Since, "how far back, like 36h, 7d or 30d"),
		opt("chart", &c.Chart, "a chart instead of the figures"),
	}
})
