package notice

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/internal/mxid"
	"github.com/gavel-bot/gavel/policy"
)

// Alert is a message to the moderators about Gavel itself: m.text, so
// that it notifies.
func Alert(msg string) json.RawMessage { return New().Raw(msg).Content(event.MsgText, nil) }

// FeedDown says that reports cannot be read since since.
func FeedDown(since time.Time, err error) json.RawMessage {
	return Alert(fmt.Sprintf("Gavel cannot read reports from Synapse since %s (%s). It keeps trying; reports filed meanwhile will be posted once it can.",
		since.UTC().Format("15:04 UTC"), pollFailure(err)))
}

// KindUnsupported says that Synapse cannot list reports of kind.
func KindUnsupported(kind mxid.ReportKind, prefix string) json.RawMessage {
	return New().Raw(fmt.Sprintf("This Synapse has no admin API for %s reports (%s): Gavel posts the other reports, and checks again every 10 minutes. ", kind, KindNeeds(kind))).
		Syntax(prefix+"status").Raw(" says whether this still holds.").Content(event.MsgText, nil)
}

// ExplainKind says why reports of kind cannot be listed.
func ExplainKind(kind mxid.ReportKind, err error) string {
	if errors.Is(err, adminapi.ErrUnsupported) {
		return "this Synapse has no admin API for " + string(kind) + " reports: " + KindNeeds(kind) + "."
	}
	return Explain(err, "the "+string(kind)+" report list")
}

// KindNeeds names the Synapse version reports of kind need.
func KindNeeds(kind mxid.ReportKind) string {
	switch kind {
	case mxid.KindUser:
		return "they need Synapse 1.152 or newer"
	case mxid.KindRoom:
		return "until it has one, set synapse.database to read them from Synapse's database, as docs/how-it-works.md (\"Room reports\") says"
	}
	return "Synapse has no API for them"
}

// FeedBack says that reports can be read again.
func FeedBack(since, now time.Time) json.RawMessage {
	return Alert(fmt.Sprintf("Gavel reads reports from Synapse again (it could not from %s to %s).",
		since.UTC().Format("15:04"), now.UTC().Format("15:04 UTC")))
}

// Unreadable says that the report at offset (counting from the newest or
// oldest, as dir says) is too large to read.
func Unreadable(offset int64, oldestFirst bool) json.RawMessage {
	order, dir := "newest", "b"
	if oldestFirst {
		order, dir = "oldest", "f"
	}
	return Alert(fmt.Sprintf("A report is too large for Gavel to read (Synapse's answer for it is over %d MiB, so its reason must be huge); it is number %d counting from the %s of the open reports. Gavel skips it and posts the others. Look at it with the admin API: GET /_synapse/admin/v1/event_reports?from=%d&limit=1&dir=%s",
		adminapi.MaxAnswerSize>>20, offset+1, order, offset, dir))
}

// FirstStart sums up the reports of kind open when Gavel first read them:
// event reports at the very first start, user reports when Gavel first
// could.
func FirstStart(kind mxid.ReportKind, open int, prefix string) json.RawMessage {
	t := New()
	if kind == mxid.KindUser {
		// Posted only when some were open, when Gavel first reads them.
		return t.Raw(Count(open, "user report was", "user reports were")+" already open: ").
			Syntax(prefix+"reports --kind user").Raw(" lists them.").Content(event.MsgText, nil)
	}
	switch open {
	case 0:
		t.Raw("Gavel is watching for reports. None were open; new ones will be posted here.")
	case 1:
		t.Raw("1 report was already open: ").Syntax(prefix + "reports").Raw(" lists it.")
	default:
		t.Raw(fmt.Sprintf("%d reports were already open: ", open)).Syntax(prefix + "reports").Raw(" lists them.")
	}
	return t.Content(event.MsgText, nil)
}

// Refused replaces a message the homeserver refused for good. report is
// the report whose notice it was, or zero.
func Refused(reason string, report mxid.ReportRef, prefix string) json.RawMessage {
	t := New().Raw("Gavel could not post one of its messages: the homeserver refused it (" + reason + ").")
	if !report.IsZero() {
		id := report.String()
		t.Raw(" It was the notice of report " + id + "; ").Raw(prefix + "report " + id).Raw(" shows the report.")
	}
	return t.Content(event.MsgText, nil)
}

// Undecryptable says that a message could not be decrypted: its keys did
// not arrive in waited, or the sender's client withheld them (withheld is
// its code, or "").
func Undecryptable(sender id.UserID, sent time.Time, waited time.Duration, withheld string, device id.DeviceID) json.RawMessage {
	t := New().Raw("Gavel could not decrypt a message from ").User(string(sender)).
		Raw(fmt.Sprintf(" sent at %s: its keys did not arrive in %s", sent.UTC().Format("15:04 UTC"), Duration(waited)))
	if withheld != "" {
		t.Raw(" (the sender's client withheld them: ").User(withheld).Raw(")")
	}
	t.Raw(". If it was a command, it was not run; send it again. ").
		Raw("If this keeps happening, check that the sender's client shares keys with Gavel's device ").Code(string(device)).Raw(".")
	return t.Content(event.MsgNotice, nil)
}

// Status is what !status shows.
type Status struct {
	Version, SynapseVersion, Database string
	// LastPoll is when reports were last read (zero: not yet), and
	// LastPollErr why that failed.
	LastPoll    time.Time
	LastPollErr error
	// OpenReports is Synapse's count, unless OpenErr says why it is
	// unknown.
	OpenReports int64
	OpenErr     error
	// OpenUserReports is Synapse's count of user reports, unless
	// UserReportsErr says why it is unknown (for one, a Synapse older
	// than 1.152).
	OpenUserReports int64
	UserReportsErr  error
	// OpenRoomReports is the count of room reports, unless RoomReportsErr
	// says why it is unknown; RoomReportsFromDB says they are read from
	// Synapse's database.
	OpenRoomReports   int64
	RoomReportsErr    error
	RoomReportsFromDB bool
	// Waiting counts the messages in the outbox.
	Waiting int
	// Device and MinTrust are set when encryption is on; EncryptedNoKey
	// when the room is encrypted but Gavel has no pickle key.
	Device         id.DeviceID
	MinTrust       string
	EncryptedNoKey bool
	// DryRun is commands.dry_run.
	DryRun bool
	// Instances are the Gavels sharing a PostgreSQL database, the active
	// one first; empty on SQLite.
	Instances []Instance
	// Desks are the desks !status names: in the server desk every desk,
	// in a community desk that one; empty without community desks.
	Desks []DeskStatus
	// PolicyLists are the followed policy lists' counts.
	PolicyLists []policy.ListStats
}

// DeskStatus is a desk as !status shows it.
type DeskStatus struct {
	// Name is the community desk's name, "" for the server desk; Here
	// marks the desk !status was asked in.
	Name string
	Room id.RoomID
	Here bool
	// Joined: Gavel is in the desk's room (else its cards wait).
	Joined bool
	// Rooms in scope, read at RefreshedAt; Err is why the last reading
	// failed (community desks only).
	Rooms       int
	RefreshedAt time.Time
	Err         error
	// Roles are the levels the desk's commands need (community desks).
	Roles commands.Levels
}

// Instance is one Gavel sharing the database, for !status.
type Instance struct {
	Name, Version string
	Active        bool
	SeenAt        time.Time
}

// StatusReply renders !status.
func StatusReply(s Status, now time.Time) *Text {
	t := New().Bold("Gavel " + s.Version).Raw(" · Synapse " + s.SynapseVersion).Raw(" · database " + s.Database).Newline()
	switch {
	case s.LastPoll.IsZero():
		t.Raw("Reports: not polled yet.")
	case s.LastPollErr != nil:
		t.Raw("Reports: the last poll, " + Ago(s.LastPoll, now) + ", failed: ").User(Explain(s.LastPollErr, "the report list"))
	default:
		t.Raw("Reports: last polled " + Ago(s.LastPoll, now) + ".")
	}
	if s.OpenErr == nil {
		open := []string{Count(int(s.OpenReports), "event report", "event reports")}
		if s.UserReportsErr == nil {
			open = append(open, Count(int(s.OpenUserReports), "user report", "user reports"))
		}
		if s.RoomReportsErr == nil {
			room := Count(int(s.OpenRoomReports), "room report", "room reports")
			if s.RoomReportsFromDB {
				room += " (read from Synapse's database)"
			}
			open = append(open, room)
		}
		last := len(open) - 1
		if last > 0 {
			open[last-1] += " and " + open[last]
			open = open[:last]
		}
		t.Raw(" " + strings.Join(open, ", ") + " open in Synapse.")
	} else {
		t.Raw(" Open reports unknown: ").User(Explain(s.OpenErr, "the report list"))
	}
	if s.UserReportsErr != nil {
		t.Newline().Raw("User reports: not visible: ").User(ExplainKind(mxid.KindUser, s.UserReportsErr))
	}
	if s.RoomReportsErr != nil {
		t.Newline().Raw("Room reports: not visible: ").User(ExplainKind(mxid.KindRoom, s.RoomReportsErr))
	}
	if s.Waiting > 0 {
		t.Raw(fmt.Sprintf(" %d messages waiting to be posted.", s.Waiting))
	}
	if len(s.Instances) > 0 {
		t.Newline().Raw("Instances: ")
		for i, in := range s.Instances {
			if i > 0 {
				t.Raw(", ")
			}
			role := "standby, seen " + Ago(in.SeenAt, now)
			if in.Active {
				role = "active"
			}
			t.User(in.Name).Raw(" (").User(in.Version).Raw(", " + role + ")")
		}
		t.Raw(".")
	}
	for _, d := range s.Desks {
		deskLine(t.Newline(), d, now)
	}
	PolicyStatus(t, s.PolicyLists)
	if s.DryRun {
		t.Newline().Raw("Dry run: on (commands.dry_run). Commands that would change something only say what they would do.")
	}
	switch {
	case s.Device != "":
		t.Newline().Raw("Encryption: on, device ").Code(string(s.Device)).Raw(", commands from " + s.MinTrust + " devices.")
	case s.EncryptedNoKey:
		t.Newline().Raw("Encryption: the room is encrypted, but encryption.pickle_key is empty.")
	}
	return t
}

// deskLine is one desk's line of !status.
func deskLine(t *Text, d DeskStatus, now time.Time) {
	if d.Name == "" {
		t.Raw("Server desk")
	} else {
		t.Raw("Desk #" + d.Name)
	}
	if d.Here {
		t.Raw(" (this room)")
	} else {
		t.Raw(" (").User(string(d.Room)).Raw(")")
	}
	if d.Name == "" {
		t.Raw(": every report.")
	} else {
		t.Raw(": " + Count(d.Rooms, "room", "rooms") + " in scope")
		if d.RefreshedAt.IsZero() {
			t.Raw(", never read")
		} else {
			t.Raw(", read " + Ago(d.RefreshedAt, now))
		}
		if d.Err != nil {
			t.Raw("; the last reading failed: ").User(d.Err.Error())
		}
		t.Raw(". Roles: commands need power " + strconv.Itoa(d.Roles.Min))
		for _, name := range slices.Sorted(maps.Keys(d.Roles.Set)) {
			t.Raw(", " + name + " " + strconv.Itoa(d.Roles.Set[name]))
		}
		t.Raw(".")
	}
	if !d.Joined {
		t.Raw(" Gavel is not in its room: its messages wait in the outbox until Gavel is invited back.")
	}
}

// Media appends " (image/png, 12 KB, uploaded by @bob:example.org)".
func Media(t *Text, m *adminapi.MediaInfo) *Text {
	var parts []string
	if m.MediaType != "" {
		parts = append(parts, m.MediaType)
	}
	if m.MediaLength > 0 {
		parts = append(parts, Size(m.MediaLength))
	}
	if m.UserID != "" {
		parts = append(parts, "uploaded by "+string(m.UserID))
	}
	if len(parts) > 0 {
		t.Raw(" (").User(strings.Join(parts, ", ")).Raw(")")
	}
	return t
}
