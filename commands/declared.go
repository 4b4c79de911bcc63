package commands

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/internal/mxid"
)

// Every command, one declaration each, in the order help shows them. To
// add one: declare its type and spec here, and register its handler in
// package moderation.

// Help asks for the list of commands, or the details of one.
type Help struct{ Topic string }

var _ = declare(Spec{
	Name: "help", Usage: "help [command]", ReadOnly: true,
	Summary: "list the commands, or explain one",
	Details: "With a command name (help quarantine, help report delete) shows how that command is used.",
	Args:    []Arg{restText("command", "a command to explain, like quarantine or report delete")},
}, func(args []string) (Help, error) {
	return Help{Topic: strings.ToLower(strings.Join(args, " "))}, nil
})

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
	Name: "reports", Usage: "reports [--kind event|user|room|all] [--state open|claimed|resolved|dismissed|deleted|all] [--mine] [--older-than 2h] [--user @reporter] [--room !room|#alias] [--sender @user] [--limit N]", ReadOnly: true,
	Summary: "list reports, newest first: open and claimed ones, or by state",
	Details: fmt.Sprintf("Lists the reports open in Synapse, newest first, %d by default and at most %d (--limit), with their case state; resolved and dismissed ones are left out. "+
		"--kind lists event reports (ids like 12), user reports (u12) or room reports (r12, with synapse.database) only; by default all. "+
		"--state lists the cases in that state instead (several: --state open,claimed; deleted: deleted in Synapse outside Gavel; all: every state), --mine the cases you changed last, --older-than reports received longer ago than that. "+
		"--user keeps reports filed by that user, --sender reports about that user (their events, or their account), --room reports of events in that room. "+
		"Users and rooms may be given as ids, aliases or matrix.to links.", DefaultReportsLimit, MaxReportsLimit),
	Args: []Arg{
		choice("kind", "the kind of report to list", "event", "user", "room", "all"),
		option("state", ArgText, "list the cases in these states: open, claimed, resolved, dismissed, deleted or all; several with commas"),
		flag("mine", "the cases you changed last"),
		option("older-than", ArgDuration, "reports received longer ago than this, like 2h or 7d"),
		option("user", ArgUser, "reports filed by this user"),
		option("room", ArgRoom, "reports of events in this room"),
		option("sender", ArgUser, "reports about this user"),
		option("limit", ArgNumber, "how many to show"),
	},
}, parseReportsFlags)

// ShowReport shows one report with the reported content.
type ShowReport struct{ ID ReportRef }

var _ = declare(Spec{
	Name: "report show", Usage: "report [show] <id>", ReadOnly: true, Default: true,
	Summary: "show one report with the reported content",
	Details: "Shows the report, who filed it and why, and the reported event's content (as inert text).",
	Args:    []Arg{arg("id", ArgReport, "the report: 12, u12 or r12")},
}, func(args []string) (ShowReport, error) {
	id, err := oneReportID(args)
	return ShowReport{ID: id}, err
})

// DeleteReport deletes one report in Synapse.
type DeleteReport struct{ ID ReportRef }

var _ = declare(Spec{
	Name: "report delete", Usage: "report delete <id>",
	Summary: "delete a report in Synapse",
	Details: "Deletes the report from Synapse's list of open reports. The reported event is not touched.",
	Args:    []Arg{arg("id", ArgReport, "the report: 12, u12 or r12")},
}, func(args []string) (DeleteReport, error) {
	id, err := oneReportID(args)
	return DeleteReport{ID: id}, err
})

// ClaimReport makes a report's case the moderator's.
type ClaimReport struct{ ID ReportRef }

var _ = declare(Spec{
	Name: "report claim", Usage: "report claim <id>",
	Summary: "take a report: its card says you are on it",
	Details: "Marks the report as claimed by you, on its card and in !report. Someone else's claim is not taken over; they (or anyone) can unclaim it first.",
	Args:    []Arg{arg("id", ArgReport, "the report: 12, u12 or r12")},
}, func(args []string) (ClaimReport, error) {
	id, err := oneReportID(args)
	return ClaimReport{ID: id}, err
})

// UnclaimReport gives a claimed report back.
type UnclaimReport struct{ ID ReportRef }

var _ = declare(Spec{
	Name: "report unclaim", Usage: "report unclaim <id>",
	Summary: "give a claimed report back: it is open again",
	Args:    []Arg{arg("id", ArgReport, "the report: 12, u12 or r12")},
}, func(args []string) (UnclaimReport, error) {
	id, err := oneReportID(args)
	return UnclaimReport{ID: id}, err
})

// ResolveReport closes a report's case: something was done.
type ResolveReport struct {
	ID   ReportRef
	Note string // --note
}

var _ = declare(Spec{
	Name: "report resolve", Usage: `report resolve <id> [--note "text"]`,
	Summary: "close a report: it was acted on",
	Details: "Marks the report as resolved by you, with the note if given, on its card and in !report. The report stays in Synapse's list.",
	Args:    []Arg{arg("id", ArgReport, "the report: 12, u12 or r12"), option("note", ArgText, "a note for the case")},
}, func(args []string) (ResolveReport, error) {
	id, note, err := reportAndNote(args)
	return ResolveReport{ID: id, Note: note}, err
})

// DismissReport closes a report's case: nothing to do.
type DismissReport struct {
	ID   ReportRef
	Note string // --note
}

var _ = declare(Spec{
	Name: "report dismiss", Usage: `report dismiss <id> [--note "text"]`,
	Summary: "close a report: no violation",
	Details: "Marks the report as dismissed by you, with the note if given (\"not spam\"), on its card and in !report. The report stays in Synapse's list.",
	Args:    []Arg{arg("id", ArgReport, "the report: 12, u12 or r12"), option("note", ArgText, "a note for the case")},
}, func(args []string) (DismissReport, error) {
	id, note, err := reportAndNote(args)
	return DismissReport{ID: id, Note: note}, err
})

// ReopenReport opens a closed report's case again.
type ReopenReport struct{ ID ReportRef }

var _ = declare(Spec{
	Name: "report reopen", Usage: "report reopen <id>",
	Summary: "open a resolved or dismissed report again",
	Args:    []Arg{arg("id", ArgReport, "the report: 12, u12 or r12")},
}, func(args []string) (ReopenReport, error) {
	id, err := oneReportID(args)
	return ReopenReport{ID: id}, err
})

// QuarantineMedia quarantines one media item.
type QuarantineMedia struct {
	Media  MediaRef
	Report ReportRef // --report: the report this is for
}

var _ = declare(Spec{
	Name: "quarantine media", Usage: "quarantine media <mxc://server/media_id | server media_id | media_id>",
	Summary: "quarantine one media item",
	Details: "Quarantined media can no longer be downloaded from this homeserver. A bare media id means this server's media.",
	Args:    []Arg{arg("media", ArgMedia, "mxc://server/media_id, or a media id of this server")},
}, func(args []string) (QuarantineMedia, error) {
	m, err := mxid.ParseMedia(args)
	return QuarantineMedia{Media: m}, err
})

// UnquarantineMedia lifts the quarantine of one media item.
type UnquarantineMedia struct{ Media MediaRef }

var _ = declare(Spec{
	Name: "unquarantine media", Usage: "unquarantine media <mxc://server/media_id>",
	Summary: "lift the quarantine of one media item",
	Args:    []Arg{arg("media", ArgMedia, "mxc://server/media_id, or a media id of this server")},
}, func(args []string) (UnquarantineMedia, error) {
	m, err := mxid.ParseMedia(args)
	return UnquarantineMedia{Media: m}, err
})

// QuarantineRoom quarantines all media in a room.
type QuarantineRoom struct {
	Room   RoomRef
	Report ReportRef // --report: the report this is for
}

var _ = declare(Spec{
	Name: "quarantine room", Usage: "quarantine room <!room:server | #alias:server>",
	Summary: "quarantine all media in a room",
	Details: "Quarantines every media item referenced by the room's unencrypted events, except protected media.",
	Args:    []Arg{arg("room", ArgRoom, "a room id or alias")},
}, func(args []string) (QuarantineRoom, error) {
	r, err := oneRoom(args)
	return QuarantineRoom{Room: r}, err
})

// QuarantineUser quarantines all media a local user uploaded.
type QuarantineUser struct {
	User   id.UserID
	Report ReportRef // --report: the report this is for
}

var _ = declare(Spec{
	Name: "quarantine user", Usage: "quarantine user <@user:server>",
	Summary: "quarantine all media a local user uploaded",
	Details: "Quarantines every media item the user uploaded to this homeserver, except protected media.",
	Args:    []Arg{arg("user", ArgUser, "a local user")},
}, func(args []string) (QuarantineUser, error) {
	u, err := oneUser(args)
	return QuarantineUser{User: u}, err
})

// ProtectMedia protects one local media item from quarantine.
type ProtectMedia struct{ Media MediaRef }

var _ = declare(Spec{
	Name: "protect media", Usage: "protect media <mxc://server/media_id | media_id>",
	Summary: "protect one local media item from quarantine",
	Details: "Protected media is skipped by quarantine room and quarantine user. Only this server's media can be protected.",
	Args:    []Arg{arg("media", ArgMedia, "mxc://server/media_id, or a media id of this server")},
}, func(args []string) (ProtectMedia, error) {
	m, err := mxid.ParseMedia(args)
	return ProtectMedia{Media: m}, err
})

// UnprotectMedia removes that protection.
type UnprotectMedia struct{ Media MediaRef }

var _ = declare(Spec{
	Name: "unprotect media", Usage: "unprotect media <mxc://server/media_id | media_id>",
	Summary: "remove the protection again",
	Args:    []Arg{arg("media", ArgMedia, "mxc://server/media_id, or a media id of this server")},
}, func(args []string) (UnprotectMedia, error) {
	m, err := mxid.ParseMedia(args)
	return UnprotectMedia{Media: m}, err
})

// ShowUser shows an account at a glance.
type ShowUser struct{ User id.UserID }

var _ = declare(Spec{
	Name: "user", Usage: "user <@user:server>", ReadOnly: true,
	Summary: "an account at a glance: its state, rooms and open reports",
	Details: "Shows whether the account is local, when it was created, whether it is an admin, deactivated, suspended, locked or shadow-banned, how many rooms it is in, and how many open reports are about its events.",
	Args:    []Arg{arg("user", ArgUser, "the account")},
}, func(args []string) (ShowUser, error) {
	u, err := oneUser(args)
	return ShowUser{User: u}, err
})

// Suspend suspends a local account (MSC3823): it can read but not send.
type Suspend struct {
	User   id.UserID
	Yes    bool      // --yes: also when the account is a server admin
	Report ReportRef // --report: the report this is for
}

var _ = declare(Spec{
	Name: "suspend", Usage: "suspend <@user:server> [--yes]",
	Summary: "suspend a local account: it can still read, but not send, join or invite",
	Args:    []Arg{arg("user", ArgUser, "a local user"), flag("yes", "also when the account is a server admin")},
}, func(args []string) (Suspend, error) {
	u, yes, err := userAndYes(args)
	return Suspend{User: u, Yes: yes}, err
})

// Unsuspend lifts a suspension.
type Unsuspend struct {
	User id.UserID
	Yes  bool // --yes: also when the account is a server admin
}

var _ = declare(Spec{
	Name: "unsuspend", Usage: "unsuspend <@user:server> [--yes]",
	Summary: "lift the suspension of a local account",
	Args:    []Arg{arg("user", ArgUser, "a local user"), flag("yes", "also when the account is a server admin")},
}, func(args []string) (Unsuspend, error) {
	u, yes, err := userAndYes(args)
	return Unsuspend{User: u, Yes: yes}, err
})

// Lock locks a local account: logged out everywhere, no new logins.
type Lock struct {
	User   id.UserID
	Yes    bool      // --yes: also when the account is a server admin
	Report ReportRef // --report: the report this is for
}

var _ = declare(Spec{
	Name: "lock", Usage: "lock <@user:server> [--yes]",
	Summary: "lock a local account: its sessions end and it cannot log in",
	Args:    []Arg{arg("user", ArgUser, "a local user"), flag("yes", "also when the account is a server admin")},
}, func(args []string) (Lock, error) {
	u, yes, err := userAndYes(args)
	return Lock{User: u, Yes: yes}, err
})

// Unlock unlocks a locked account.
type Unlock struct {
	User id.UserID
	Yes  bool // --yes: also when the account is a server admin
}

var _ = declare(Spec{
	Name: "unlock", Usage: "unlock <@user:server> [--yes]",
	Summary: "unlock a local account",
	Args:    []Arg{arg("user", ArgUser, "a local user"), flag("yes", "also when the account is a server admin")},
}, func(args []string) (Unlock, error) {
	u, yes, err := userAndYes(args)
	return Unlock{User: u, Yes: yes}, err
})

// ShadowBan shadow-bans a local account.
type ShadowBan struct {
	User   id.UserID
	Yes    bool      // --yes: also when the account is a server admin
	Report ReportRef // --report: the report this is for
}

var _ = declare(Spec{
	Name: "shadowban", Usage: "shadowban <@user:server> [--yes]",
	Summary: "shadow-ban a local account: what it sends seems to go out but reaches nobody",
	Args:    []Arg{arg("user", ArgUser, "a local user"), flag("yes", "also when the account is a server admin")},
}, func(args []string) (ShadowBan, error) {
	u, yes, err := userAndYes(args)
	return ShadowBan{User: u, Yes: yes}, err
})

// UnshadowBan lifts a shadow-ban.
type UnshadowBan struct {
	User id.UserID
	Yes  bool // --yes: also when the account is a server admin
}

var _ = declare(Spec{
	Name: "unshadowban", Usage: "unshadowban <@user:server> [--yes]",
	Summary: "lift the shadow-ban of a local account",
	Args:    []Arg{arg("user", ArgUser, "a local user"), flag("yes", "also when the account is a server admin")},
}, func(args []string) (UnshadowBan, error) {
	u, yes, err := userAndYes(args)
	return UnshadowBan{User: u, Yes: yes}, err
})

// Deactivate deactivates a local account, for good.
type Deactivate struct {
	User   id.UserID
	Erase  bool      // --erase: also erase the profile and hide the messages from new members
	Yes    bool      // --yes: no preview
	Report ReportRef // --report: the report this is for
}

var _ = declare(Spec{
	Name: "deactivate", Usage: "deactivate <@user:server> [--erase] [--yes]", Confirm: true,
	Summary: "deactivate a local account for good (a preview first, to confirm with ✅)",
	Details: "Replies with what it would do: the account's age, rooms and open reports. A moderator confirms with a ✅ reaction to that preview, or cancels with ❌; --yes skips the preview. --erase also erases the profile and hides the account's messages from people who join later.",
	Args: []Arg{
		arg("user", ArgUser, "a local user"),
		flag("erase", "also erase the profile and hide the messages from new members"),
		flag("yes", "no preview: deactivate at once"),
	},
}, func(args []string) (Deactivate, error) {
	var d Deactivate
	var rest []string
	for _, a := range args {
		switch a {
		case "--erase":
			d.Erase = true
		case "--yes":
			d.Yes = true
		default:
			rest = append(rest, a)
		}
	}
	u, err := oneUser(rest)
	d.User = u
	return d, err
})

// ShowRoom shows a room at a glance.
type ShowRoom struct{ Room RoomRef }

var _ = declare(Spec{
	Name: "room show", Usage: "room [show] <!room:server | #alias:server>", ReadOnly: true, Default: true,
	Summary: "a room at a glance: name, creator, members, whether it is blocked, open reports",
	Details: "Shows the room's name and alias, its creator, its members (local and in all), whether it is public, encrypted or blocked on this server, and how many open reports are about its events.",
	Args:    []Arg{arg("room", ArgRoom, "a room id or alias")},
}, func(args []string) (ShowRoom, error) {
	r, err := oneRoom(args)
	return ShowRoom{Room: r}, err
})

// BlockRoom blocks a room on this server.
type BlockRoom struct {
	Room   RoomRef
	Report ReportRef // --report: the report this is for
}

var _ = declare(Spec{
	Name: "room block", Usage: "room block <!room:server | #alias:server>",
	Summary: "block a room on this server: local users can no longer join it",
	Args:    []Arg{arg("room", ArgRoom, "a room id or alias")},
}, func(args []string) (BlockRoom, error) {
	r, err := oneRoom(args)
	return BlockRoom{Room: r}, err
})

// UnblockRoom lifts the block.
type UnblockRoom struct{ Room RoomRef }

var _ = declare(Spec{
	Name: "room unblock", Usage: "room unblock <!room:server | #alias:server>",
	Summary: "lift the block of a room",
	Args:    []Arg{arg("room", ArgRoom, "a room id or alias")},
}, func(args []string) (UnblockRoom, error) {
	r, err := oneRoom(args)
	return UnblockRoom{Room: r}, err
})

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
	Name: "room delete", Usage: "room delete <!room:server | #alias:server> [--block] [--purge] [--message text] [--yes]", Confirm: true,
	Summary: "delete a room on this server (a preview first, to confirm with ✅)",
	Details: "Removes every local member from the room and deletes it on this server; --block keeps local users from joining it again, --purge also removes its history from the database, --message moves its local members to a new room with that message. Replies with a preview first (members, open reports); a moderator confirms with ✅ or cancels with ❌; --yes skips the preview. Synapse does it in the background; Gavel edits its reply as the task goes and when it ends.",
	Args: []Arg{
		arg("room", ArgRoom, "a room id or alias"),
		flag("block", "local users cannot join it again"),
		flag("purge", "remove its history from the database"),
		option("message", ArgText, "move its local members to a new room with this message"),
		flag("yes", "no preview: delete at once"),
	},
}, func(args []string) (DeleteRoom, error) {
	var d DeleteRoom
	if len(args) == 0 {
		return d, fmt.Errorf("give exactly one room")
	}
	r, err := mxid.ParseRoom(args[0])
	if err != nil {
		return d, err
	}
	d.Room = r
	for i := 1; i < len(args); i++ {
		switch args[i] {
		case "--block":
			d.Block = true
		case "--purge":
			d.Purge = true
		case "--yes":
			d.Yes = true
		case "--message":
			var words []string
			for i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
				i++
				words = append(words, args[i])
			}
			d.Message = strings.Trim(strings.Join(words, " "), `"“”'`)
			if d.Message == "" {
				return d, fmt.Errorf("--message needs a text")
			}
			if n := utf8.RuneCountInString(d.Message); n > maxReason {
				return d, fmt.Errorf("the message is %d characters long; at most %d", n, maxReason)
			}
		default:
			return d, fmt.Errorf("unexpected %s: options are --block, --purge, --message and --yes", mxid.Shown(args[i]))
		}
	}
	return d, nil
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
	Name: "redact user", Usage: "redact user <@user:server> [--room <room>] [--since 24h] [--limit N] [--yes]", Confirm: true,
	Summary: "redact a user's recent messages, in every room or one (a preview first, to confirm with ✅)",
	Details: fmt.Sprintf("Redacts the user's messages (and joins) sent within --since (default 24h; like 90m, 6h or 7d), in --room or in every room they are in, at most --limit (default %d, at most %d) of their newest events per room. Replies with a preview first; a moderator confirms with ✅ or cancels with ❌; --yes skips the preview. Synapse does it in the background; Gavel edits its reply as the task goes and when it ends.", DefaultRedactLimit, MaxRedactLimit),
	Args: []Arg{
		arg("user", ArgUser, "whose messages to redact"),
		option("room", ArgRoom, "only in this room"),
		option("since", ArgDuration, "how far back, like 90m, 6h or 7d (default 24h)"),
		option("limit", ArgNumber, "at most this many of their newest events per room"),
		flag("yes", "no preview: redact at once"),
	},
}, func(args []string) (RedactUser, error) {
	r := RedactUser{Since: DefaultRedactSince, Limit: DefaultRedactLimit}
	if len(args) == 0 {
		return r, fmt.Errorf("give exactly one user")
	}
	u, err := mxid.ParseUser(args[0])
	if err != nil {
		return r, err
	}
	r.User = u
	for i := 1; i < len(args); i++ {
		name := args[i]
		if name == "--yes" {
			r.Yes = true
			continue
		}
		if name != "--room" && name != "--since" && name != "--limit" {
			return r, fmt.Errorf("unexpected %s: options are --room, --since, --limit and --yes", mxid.Shown(name))
		}
		if i+1 >= len(args) {
			return r, fmt.Errorf("%s needs a value", name)
		}
		i++
		value := args[i]
		switch name {
		case "--room":
			r.Room, err = mxid.ParseRoom(value)
		case "--since":
			r.Since, err = parseSince(value)
		case "--limit":
			r.Limit, err = strconv.Atoi(value)
			if err != nil || r.Limit < 1 || r.Limit > MaxRedactLimit {
				err = fmt.Errorf("--limit must be a number from 1 to %d (got %s)", MaxRedactLimit, mxid.Shown(value))
			}
		}
		if err != nil {
			return r, err
		}
	}
	return r, nil
})

// Kick removes a user from a room, through Gavel's own account.
type Kick struct {
	User   id.UserID
	Room   RoomRef
	Reason string
	Report ReportRef // --report: the report this is for
}

var _ = declare(Spec{
	Name: "kick", Usage: "kick <@user:server> <!room:server | #alias:server> [reason]",
	Summary: "kick a user from a room where Gavel's account has the power to",
	Details: "A room member's action, not an admin one: Gavel's account must be in the room with a power level that allows kicking. The reason is shown to the user.",
	Args:    []Arg{arg("user", ArgUser, "the user"), arg("room", ArgRoom, "the room"), restText("reason", "shown to the user")},
}, func(args []string) (Kick, error) {
	u, r, reason, err := userRoomReason(args, true)
	return Kick{User: u, Room: r, Reason: reason}, err
})

// Ban bans a user from a room, through Gavel's own account.
type Ban struct {
	User   id.UserID
	Room   RoomRef
	Reason string
	Report ReportRef // --report: the report this is for
}

var _ = declare(Spec{
	Name: "ban", Usage: "ban <@user:server> <!room:server | #alias:server> [reason]",
	Summary: "ban a user from a room where Gavel's account has the power to",
	Details: "A room member's action, not an admin one: Gavel's account must be in the room with a power level that allows banning. The reason is shown to the user.",
	Args:    []Arg{arg("user", ArgUser, "the user"), arg("room", ArgRoom, "the room"), restText("reason", "shown to the user")},
}, func(args []string) (Ban, error) {
	u, r, reason, err := userRoomReason(args, true)
	return Ban{User: u, Room: r, Reason: reason}, err
})

// Unban lifts a ban.
type Unban struct {
	User id.UserID
	Room RoomRef
}

var _ = declare(Spec{
	Name: "unban", Usage: "unban <@user:server> <!room:server | #alias:server>",
	Summary: "lift a ban in a room where Gavel's account has the power to",
	Args:    []Arg{arg("user", ArgUser, "the user"), arg("room", ArgRoom, "the room")},
}, func(args []string) (Unban, error) {
	u, r, _, err := userRoomReason(args, false)
	return Unban{User: u, Room: r}, err
})

// RedactEvent redacts one event.
type RedactEvent struct {
	Room   RoomRef
	Event  id.EventID
	Reason string
	Report ReportRef // --report: the report this is for
}

var _ = declare(Spec{
	Name: "redact event", Usage: "redact <event link | room $event> [--reason text]", Default: true,
	Summary: "redact one event, in any room of this server",
	Details: "Give a matrix.to or matrix: link to the event, or its room and its event id. Gavel redacts it through Synapse's admin API (as the sender when the sender is local), without being in the room, and waits for Synapse to finish.",
	Args:    []Arg{arg("event", ArgEvent, "a link to the event"), option("reason", ArgText, "why")},
}, func(args []string) (RedactEvent, error) {
	room, eventID, rest, err := mxid.ParseEvent(args)
	if err != nil {
		return RedactEvent{}, err
	}
	reason, err := reasonOption(rest)
	return RedactEvent{Room: room, Event: eventID, Reason: reason}, err
})

// Status asks for Gavel's and Synapse's state.
type Status struct{}

var _ = declare(Spec{
	Name: "status", Usage: "status", ReadOnly: true,
	Summary: "Gavel's and Synapse's versions, the last poll, open reports",
}, func(args []string) (Status, error) {
	if len(args) > 0 {
		return Status{}, fmt.Errorf("status takes no arguments")
	}
	return Status{}, nil
})

// Audit lists what moderators did, newest first.
type Audit struct {
	User   id.UserID     // the user acted on
	Report ReportRef     // report <id>, or --report: actions and changes for it
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
	Name: "audit", Usage: "audit [@user | report <id>] [--by @moderator] [--since 7d] [--limit N]", ReadOnly: true,
	Summary: "what moderators did, newest first: when, who, what, on what, why, the result",
	Details: fmt.Sprintf("Lists the actions and case changes Gavel recorded, newest first, %d by default and at most %d (--limit): those on a user, those for a report (in a card's thread: that report's), those by one moderator (--by), within --since (like 90m, 6h or 7d). "+
		"`gavel audit -config config.yaml` writes the whole trail as CSV or JSON.", DefaultAuditLimit, MaxAuditLimit),
	Args: []Arg{
		{Key: "user", Kind: ArgUser, Optional: true, Rest: true, Doc: "the user acted on"},
		{Key: "report", Kind: ArgReport, Named: true, Word: "report", Optional: true, Doc: "actions and changes for this report"},
		option("by", ArgUser, "the moderator"),
		option("since", ArgDuration, "how far back, like 90m, 6h or 7d"),
		option("limit", ArgNumber, "how many to show"),
	},
}, parseAudit)

func parseAudit(args []string) (Audit, error) {
	a := Audit{Limit: DefaultAuditLimit}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		value := func() (string, error) {
			if i+1 >= len(args) {
				return "", fmt.Errorf("%s needs a value", mxid.Clip(arg))
			}
			i++
			return args[i], nil
		}
		var err error
		var v string
		switch strings.ToLower(arg) {
		case "report":
			if v, err = value(); err == nil {
				a.Report, err = mxid.ParseReportRef(v)
			}
		case "--by":
			if v, err = value(); err == nil {
				a.By, err = mxid.ParseUser(v)
			}
		case "--since":
			if v, err = value(); err == nil {
				a.Since, err = parseSince(v)
			}
		case "--limit":
			if v, err = value(); err == nil {
				a.Limit, err = strconv.Atoi(v)
				if err != nil || a.Limit < 1 || a.Limit > MaxAuditLimit {
					err = fmt.Errorf("--limit must be a number from 1 to %d (got %s)", MaxAuditLimit, mxid.Shown(v))
				}
			}
		default:
			if a.User != "" || strings.HasPrefix(arg, "--") {
				return a, fmt.Errorf("unexpected %s: give one user or report <id>, and --by, --since or --limit", mxid.Shown(arg))
			}
			a.User, err = mxid.ParseUser(arg)
		}
		if err != nil {
			return a, err
		}
	}
	return a, nil
}

func oneReportID(args []string) (ReportRef, error) {
	if len(args) != 1 {
		return ReportRef{}, fmt.Errorf("give exactly one report id, like 12 or u12")
	}
	return mxid.ParseReportRef(args[0])
}

// reportAndNote reads `<id> [--note "text"]`.
func reportAndNote(args []string) (ReportRef, string, error) {
	if len(args) == 0 {
		return ReportRef{}, "", fmt.Errorf("give a report id, like 12 or u12")
	}
	report, err := mxid.ParseReportRef(args[0])
	if err != nil {
		return ReportRef{}, "", err
	}
	note, err := textOption(args[1:], "--note", "note")
	return report, note, err
}

func oneUser(args []string) (id.UserID, error) {
	if len(args) != 1 {
		return "", fmt.Errorf("give exactly one user")
	}
	return mxid.ParseUser(args[0])
}

func oneRoom(args []string) (RoomRef, error) {
	if len(args) != 1 {
		return RoomRef{}, fmt.Errorf("give exactly one room")
	}
	return mxid.ParseRoom(args[0])
}

// maxReason is the longest reason a kick or ban takes, in characters.
const maxReason = 500

// userRoomReason reads "<user> <room> [reason...]"; the reason only when
// withReason is set.
func userRoomReason(args []string, withReason bool) (id.UserID, RoomRef, string, error) {
	switch {
	case len(args) < 2:
		return "", RoomRef{}, "", fmt.Errorf("give a user and a room")
	case len(args) > 2 && !withReason:
		return "", RoomRef{}, "", fmt.Errorf("give exactly one user and one room")
	}
	u, err := mxid.ParseUser(args[0])
	if err != nil {
		return "", RoomRef{}, "", err
	}
	r, err := mxid.ParseRoom(args[1])
	if err != nil {
		return "", RoomRef{}, "", err
	}
	reason := strings.Join(args[2:], " ")
	if n := utf8.RuneCountInString(reason); n > maxReason {
		return "", RoomRef{}, "", fmt.Errorf("the reason is %d characters long; at most %d", n, maxReason)
	}
	return u, r, reason, nil
}

// reasonOption reads "--reason text…", the rest of the arguments, quotes
// around the text dropped; no arguments give no reason.
func reasonOption(args []string) (string, error) { return textOption(args, "--reason", "reason") }

// textOption reads "<flag> text…" (or "<flag>=text…"), the rest of the
// arguments, quotes around the text dropped; no arguments give "".
func textOption(args []string, flag, what string) (string, error) {
	if len(args) == 0 {
		return "", nil
	}
	name, value, hasValue := strings.Cut(args[0], "=")
	if name != flag {
		return "", fmt.Errorf("unexpected %s: the only option is %s", mxid.Shown(args[0]), flag)
	}
	words := args[1:]
	if hasValue {
		words = append([]string{value}, words...)
	}
	text := strings.Trim(strings.Join(words, " "), `"“”'`)
	if text == "" {
		return "", fmt.Errorf("%s needs a text", flag)
	}
	if n := utf8.RuneCountInString(text); n > maxReason {
		return "", fmt.Errorf("the %s is %d characters long; at most %d", what, n, maxReason)
	}
	return text, nil
}

// userAndYes reads "<user> [--yes]".
func userAndYes(args []string) (id.UserID, bool, error) {
	yes := false
	if n := len(args); n > 0 && args[n-1] == "--yes" {
		yes, args = true, args[:n-1]
	}
	u, err := oneUser(args)
	return u, yes, err
}

// parseSince reads a duration back from now: Go's (90m, 6h) or days (7d),
// at most a year.
func parseSince(s string) (time.Duration, error) {
	d, ok := ParseDuration(s)
	if !ok || d > 366*24*time.Hour {
		return 0, fmt.Errorf("--since must be a duration like 90m, 6h or 7d, at most a year (got %s)", mxid.Shown(s))
	}
	return d, nil
}

// ParseDuration reads a positive duration the way moderators write one:
// Go's (90m, 6h) or days (7d).
func ParseDuration(s string) (time.Duration, bool) {
	d, err := time.ParseDuration(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		n, err = strconv.Atoi(days)
		d = time.Duration(n) * 24 * time.Hour
	}
	return d, err == nil && d > 0
}

// Shorthands for Args.

// arg is a required positional argument.
func arg(key string, kind ArgKind, doc string) Arg { return Arg{Key: key, Kind: kind, Doc: doc} }

// option is an optional --key value.
func option(key string, kind ArgKind, doc string) Arg {
	return Arg{Key: key, Kind: kind, Named: true, Optional: true, Doc: doc}
}

// flag is an optional --key without a value.
func flag(key, doc string) Arg {
	return Arg{Key: key, Kind: ArgSwitch, Named: true, Optional: true, Doc: doc}
}

// choice is an optional --key with one of choices.
func choice(key, doc string, choices ...string) Arg {
	return Arg{Key: key, Kind: ArgChoice, Named: true, Optional: true, Choices: choices, Doc: doc}
}

// restText is optional text that takes the rest of the words.
func restText(key, doc string) Arg {
	return Arg{Key: key, Kind: ArgText, Optional: true, Rest: true, Doc: doc}
}
