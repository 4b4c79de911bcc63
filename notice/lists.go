package notice

import (
	"fmt"
	"time"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/internal/textcut"
)

// maxListSize caps the size of a listing (plain and HTML together), far
// below Synapse's 64 KiB event limit whatever the reports hold.
const maxListSize = 30000

// Listed is a report as a listing shows it: an event, user or room report
// (exactly one is set), with its case when it has one.
type Listed struct {
	Event *adminapi.EventReport
	User  *adminapi.UserReport
	Room  *adminapi.RoomReport
	Case  *Case
}

// Received is when Synapse received the report.
func (l Listed) Received() time.Time {
	switch {
	case l.User != nil:
		return l.User.Received()
	case l.Room != nil:
		return l.Room.Received()
	}
	return l.Event.Received()
}

// ReportList lists open reports, newest first: items of total. filtered
// says whether the moderator asked for some reports only, and hidden how
// many reports were left out because their case is closed.
func ReportList(items []Listed, total int64, filtered bool, prefix string, now time.Time, hidden int) *Text {
	t := New()
	switch {
	case len(items) == 0 && filtered:
		t.Raw("No open reports match.")
	case len(items) == 0:
		t.Raw("No open reports.")
	case int64(len(items)) < total:
		t.Bold(Count(int(total), "open report", "open reports")).Raw(fmt.Sprintf(", newest %d:", len(items)))
	default:
		t.Bold(Count(int(total), "open report", "open reports")).Raw(", newest first:")
	}
	return reportItems(t, items, prefix, now, hidden)
}

// CaseList lists reports selected by their case (!reports --state),
// newest first, each with its case; more says whether there are more.
func CaseList(items []Listed, more bool, prefix string, now time.Time) *Text {
	t := New()
	switch {
	case len(items) == 0:
		t.Raw("No reports match.")
	case more:
		t.Bold(Count(len(items), "report", "reports")).Raw(", the newest (").Syntax("--limit").Raw(" shows more):")
	default:
		t.Bold(Count(len(items), "report", "reports")).Raw(", newest first:")
	}
	return reportItems(t, items, prefix, now, 0)
}

// reportItems adds reports to the listing t, each with its case if it has
// one, and says how many closed ones were hidden.
func reportItems(t *Text, items []Listed, prefix string, now time.Time, hidden int) *Text {
	if len(items) > 0 {
		t.StartList()
		for i, l := range items {
			if t.Size() > maxListSize {
				t.LastItem(fmt.Sprintf("… and %d more", len(items)-i))
				break
			}
			reason := ""
			if r := l.User; r != nil {
				t.Item().Bold(UserReportRef(r.ID)).Raw(" · ")
				userLink(t, r.UserID).Raw(" reported the account ")
				userLink(t, r.TargetUserID).Raw(" · ")
				reason = r.Reason
			} else if r := l.Room; r != nil {
				t.Item().Bold(RoomReportRef(r.ID)).Raw(" · ")
				userLink(t, r.UserID).Raw(" reported the room ")
				t.Link(string(r.RoomID), r.RoomID.URI().MatrixToURL()).Raw(" · ")
				reason = r.Reason
			} else {
				r := l.Event
				t.Item().Bold(fmt.Sprintf("%d", r.ID)).Raw(" · ")
				userLink(t, r.UserID).Raw(" reported ")
				userLink(t, r.Sender).Raw(" in ")
				roomLink(t, *r).Raw(" · ")
				reason = r.Reason
			}
			if reason != "" {
				t.Code(textcut.Runes(reason, 80)).Raw(" · ")
			}
			t.Raw(Ago(l.Received(), now))
			if c := l.Case; c != nil && (c.State != "open" || c.By != "") {
				t.Raw(" · ").Append(CaseLine(*c))
			}
		}
		t.EndList()
	}
	if hidden > 0 {
		if len(items) == 0 {
			t.Raw(" ")
		}
		t.Raw(Count(hidden, "resolved or dismissed report is", "resolved or dismissed reports are") + " not shown; ").
			Syntax(prefix + "reports --state all").Raw(" shows them.")
		if len(items) == 0 {
			return t
		}
		t.Raw(" ")
	}
	if len(items) == 0 {
		return t
	}
	return t.Syntax(prefix + "report <id>").Raw(" shows one.")
}

// Roles is what !help says about power levels: the level each command
// needs in the management room, and the asking member's.
type Roles struct {
	Levels commands.Levels
	// Have is the asking member's power level; nil when it is not known,
	// and nothing is marked.
	Have *int
	// Desk, in a community desk, is its label ("#gaming"), and Offers
	// says which commands it runs: the others are the server desk's, and
	// marked so.
	Desk   string
	Offers func(*commands.Spec) bool
}

// elsewhere reports whether s is a command only the server desk runs.
func (r *Roles) elsewhere(s *commands.Spec) bool {
	return r != nil && r.Offers != nil && !r.Offers(s)
}

// beyond reports whether the member cannot run s, and the level s needs
// (-1 when r is nil: not known).
func (r *Roles) beyond(s *commands.Spec) (bool, int) {
	if r == nil {
		return false, -1
	}
	need := r.Levels.Of(s)
	return r.Have != nil && *r.Have < need, need
}

// Help lists the commands by section, one line each, marking those the
// asking member's power level is too low for; or with a topic the
// commands it names with their details, arguments and the level each
// needs. Without roles, levels are not mentioned.
func Help(topic, prefix string, roles *Roles) *Text {
	t := New()
	if topic == "" {
		t.Bold("Gavel's commands").Raw(" (").Syntax(prefix + "help <command>").Raw(" explains one)")
		for _, s := range commands.All() {
			if out, _ := roles.beyond(s); out {
				t.Raw(fmt.Sprintf(". Your power level here is %d: the commands marked need more", *roles.Have))
				break
			}
		}
		t.Raw(":").Newline()
		for _, section := range commands.Sections() {
			specs := commands.InSection(section)
			if len(specs) == 0 {
				continue
			}
			t.Bold(string(section)).StartList()
			for _, s := range specs {
				t.Item().Syntax(prefix + s.Usage).Raw(" — " + s.Summary)
				if roles.elsewhere(s) {
					t.Raw(" — ").Bold("server desk only")
				} else if out, need := roles.beyond(s); out {
					t.Raw(" — ").Bold(fmt.Sprintf("needs power %d here", need))
				}
			}
			t.EndList()
		}
		return t
	}
	specs := commands.Lookup(topic)
	if len(specs) == 0 {
		return t.Raw("There is no command ").Code(prefix + topic).Raw(". ").Syntax(prefix + "help").Raw(" lists them.")
	}
	t.StartList()
	for _, s := range specs {
		t.Item().Syntax(prefix + s.Usage).Raw(" — " + s.Summary)
		if s.Details != "" {
			t.ItemLine().Raw(s.Details)
		}
		for i := range s.Args {
			a := &s.Args[i]
			t.ItemLine().Syntax(a.Usage()).Raw(": " + a.Doc)
		}
		if roles == nil {
			continue
		}
		if roles.elsewhere(s) {
			t.ItemLine().Raw("Not in desk " + roles.Desk + ": it acts beyond this desk's rooms. The server desk runs it; ").
				Syntax(prefix + "report escalate <id>").Raw(" hands a report there.")
			continue
		}
		out, need := roles.beyond(s)
		t.ItemLine().Raw(fmt.Sprintf("Needs power %d here", need))
		if out {
			t.Raw(fmt.Sprintf("; yours is %d", *roles.Have))
		}
		t.Raw(".")
	}
	return t.EndList()
}
