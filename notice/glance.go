package notice

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/synapseadmin"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/internal/textcut"
)

// Known is a count that may be unknown: Err says why.
type Known struct {
	N   int64
	Err error
}

func (k Known) words(one, many string) string {
	if k.Err != nil {
		return many + " unknown (" + Explain(k.Err, "the count") + ")"
	}
	return Count(int(k.N), one, many)
}

// UserGlance is !user for a local account.
func UserGlance(acc *adminapi.Account, rooms, openReports Known, now time.Time) *Text {
	t := New()
	userLink(t, acc.UserID).Raw(" · local account, created " + acc.Created().UTC().Format("2006-01-02") + " (" + Ago(acc.Created(), now) + ")")
	if acc.DisplayName != "" {
		t.Raw(" · display name ").Code(textcut.Runes(acc.DisplayName, RoomNameShown))
	}
	t.Newline()
	var states []string
	if acc.Admin {
		states = append(states, "server admin")
	}
	for _, s := range []struct {
		on   adminapi.Bool
		name string
	}{{acc.Deactivated, "deactivated"}, {acc.Erased, "erased"}, {acc.Suspended, "suspended"}, {acc.Locked, "locked"}, {acc.ShadowBanned, "shadow-banned"}} {
		if s.on {
			states = append(states, s.name)
		}
	}
	if len(states) == 0 {
		states = []string{"active, no restriction"}
	}
	t.Raw("State: " + strings.Join(states, ", ")).Newline()
	return t.Raw("In " + rooms.words("room", "rooms") + " · " + openReports.words("open report", "open reports") + " about their events")
}

// RemoteUserGlance is !user for a user of another server, of whom this
// server keeps no account.
func RemoteUserGlance(userID id.UserID, openReports Known) *Text {
	t := New()
	userLink(t, userID).Raw(" · remote user (server ").User(userID.Homeserver()).Raw("): this server keeps no account for them.").Newline()
	return t.Raw(Capitalize(openReports.words("open report", "open reports")) + " about their events.")
}

// RoomOf is the room that info describes, as replies name it.
func RoomOf(info *synapseadmin.RoomInfo) Room {
	return Room{ID: info.RoomID, Name: info.Name, Alias: info.CanonicalAlias}
}

// RoomGlance is !room.
func RoomGlance(info *synapseadmin.RoomInfo, block synapseadmin.RoomsBlockResponse, openReports Known) *Text {
	t := RoomName(RoomOf(info))
	if info.Name != "" || info.CanonicalAlias != "" {
		t.Raw(" · " + string(info.RoomID))
	}
	t.Newline().Raw("Created by ")
	userLink(t, info.Creator).Raw(fmt.Sprintf(" · %s, %d of them local",
		Count(info.JoinedMembers, "member", "members"), info.JoinedLocalMembers)).Newline()
	var traits []string
	if info.Public {
		traits = append(traits, "public (in the room directory)")
	} else {
		traits = append(traits, "not in the room directory")
	}
	if info.Encryption != "" {
		traits = append(traits, "encrypted")
	} else {
		traits = append(traits, "not encrypted")
	}
	if block.Block {
		traits = append(traits, "blocked on this server by "+string(block.UserID))
	} else {
		traits = append(traits, "not blocked")
	}
	t.Raw(Capitalize(strings.Join(traits, ", ")) + " · ")
	return t.Raw(openReports.words("open report", "open reports") + " about its events")
}

// DeactivatePreview is the preview of !deactivate.
func DeactivatePreview(acc *adminapi.Account, rooms, openReports Known, erase bool, now time.Time) *Text {
	t := New().Bold("Deactivate ").User(string(acc.UserID)).Raw("? A local account created " + Ago(acc.Created(), now) +
		", in " + rooms.words("room", "rooms") + ", " + openReports.words("open report", "open reports") + " about their events")
	if acc.Admin {
		t.Raw("; a server admin")
	}
	t.Raw(". Deactivation cannot be undone")
	if erase {
		t.Raw("; --erase also erases their profile and hides their messages from people who join later")
	}
	return t.Raw(".")
}

// DeleteRoomPreview is the preview of !room delete.
func DeleteRoomPreview(info *synapseadmin.RoomInfo, openReports Known, block, purge, message bool) *Text {
	t := New().Bold("Delete ").Append(RoomName(RoomOf(info)))
	t.Raw(fmt.Sprintf("? %s, %d of them local, will be removed; %s about its events.",
		Count(info.JoinedMembers, "member", "members"), info.JoinedLocalMembers, openReports.words("open report", "open reports")))
	var then []string
	if block {
		then = append(then, "blocked, so local users cannot join it again")
	}
	if purge {
		then = append(then, "purged from the database")
	}
	if len(then) > 0 {
		t.Raw(" It will be " + strings.Join(then, " and ") + ".")
	}
	if message {
		t.Raw(" Its local members are moved to a new room with your message.")
	}
	return t.Raw(" This cannot be undone.")
}

// RoomDeleted says what a room deletion did.
func RoomDeleted(room Room, r synapseadmin.RespDeleteRoomResult, block, purge bool) *Text {
	t := New().Raw("Deleted ").Append(RoomName(room))
	t.Raw(": " + Count(len(r.KickedUsers), "local user removed", "local users removed"))
	if n := len(r.FailedToKickUsers); n > 0 {
		t.Raw(fmt.Sprintf(", %d could not be", n))
	}
	if block {
		t.Raw(", blocked")
	}
	if purge {
		t.Raw(", purged")
	}
	return t.Raw(".")
}

// RedactUserPreview is the preview of !redact user.
func RedactUserPreview(user id.UserID, where string, rooms Known, since time.Time, limit int) *Text {
	t := New().Bold("Redact ").User(string(user)).Raw("'s messages since " + since.UTC().Format("2006-01-02 15:04 UTC") + " in ").User(where)
	if rooms.Err == nil && where == "every room they are in" {
		t.Raw(" (" + rooms.words("room", "rooms") + ")")
	}
	return t.Raw(fmt.Sprintf("? At most their %d newest events per room are looked at. This cannot be undone.", limit))
}

// UserRedacted says what a user redaction did. failed maps the events
// Synapse could not redact to its reason.
func UserRedacted(user id.UserID, where string, since time.Time, failed map[id.EventID]string) *Text {
	t := New().Raw("Redacted ").User(string(user)).Raw("'s messages since " + since.UTC().Format("2006-01-02 15:04 UTC") + " in ").User(where)
	if len(failed) == 0 {
		return t.Raw(".")
	}
	t.Raw(fmt.Sprintf("; %d could not be:", len(failed)))
	ids := make([]string, 0, len(failed))
	for evt := range failed {
		ids = append(ids, string(evt))
	}
	slices.Sort(ids)
	t.StartList()
	for i, evt := range ids {
		if i == 10 {
			t.LastItem(fmt.Sprintf("… and %d more", len(ids)-i))
			break
		}
		t.Item().Raw(evt + ": ").User(textcut.Runes(failed[id.EventID(evt)], 100))
	}
	return t.EndList()
}
