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

// ReportList lists a page of open reports, newest first. filtered says
// whether the moderator asked for some reports only; cases, when not nil,
// holds each listed report's case by report id, and hidden says how many
// reports of the page were left out because their case is closed.
func ReportList(page *adminapi.Page[adminapi.EventReport], filtered bool, prefix string, now time.Time, cases map[int64]Case, hidden int) *Text {
	t := New()
	switch {
	case len(page.Items) == 0 && filtered:
		t.Raw("No open reports match.")
	case len(page.Items) == 0:
		t.Raw("No open reports.")
	case int64(len(page.Items)) < page.Total:
		t.Bold(Count(int(page.Total), "open report", "open reports")).Raw(fmt.Sprintf(", newest %d:", len(page.Items)))
	default:
		t.Bold(Count(int(page.Total), "open report", "open reports")).Raw(", newest first:")
	}
	return reportItems(t, page.Items, prefix, now, cases, hidden)
}

// CaseList lists reports selected by their case (!reports --state),
// newest first, each with its case; more says whether there are more.
func CaseList(reports []adminapi.EventReport, cases map[int64]Case, more bool, prefix string, now time.Time) *Text {
	t := New()
	switch {
	case len(reports) == 0:
		t.Raw("No reports match.")
	case more:
		t.Bold(Count(len(reports), "report", "reports")).Raw(", the newest (").Syntax("--limit").Raw(" shows more):")
	default:
		t.Bold(Count(len(reports), "report", "reports")).Raw(", newest first:")
	}
	return reportItems(t, reports, prefix, now, cases, 0)
}

// reportItems adds reports to the listing t, each with its case if cases
// has it, and says how many closed ones were hidden.
func reportItems(t *Text, reports []adminapi.EventReport, prefix string, now time.Time, cases map[int64]Case, hidden int) *Text {
	if len(reports) > 0 {
		t.StartList()
		for i, r := range reports {
			if t.Size() > maxListSize {
				t.LastItem(fmt.Sprintf("… and %d more", len(reports)-i))
				break
			}
			t.Item().Bold(fmt.Sprintf("%d", r.ID)).Raw(" · ")
			userLink(t, r.UserID).Raw(" reported ")
			userLink(t, r.Sender).Raw(" in ")
			roomLink(t, r).Raw(" · ")
			if r.Reason != "" {
				t.Code(textcut.Runes(r.Reason, 80)).Raw(" · ")
			}
			t.Raw(Ago(r.Received(), now))
			if c, ok := cases[r.ID]; ok && (c.State != "open" || c.By != "") {
				t.Raw(" · ").Append(CaseLine(c))
			}
		}
		t.EndList()
	}
	if hidden > 0 {
		if len(reports) == 0 {
			t.Raw(" ")
		}
		t.Raw(Count(hidden, "resolved or dismissed report is", "resolved or dismissed reports are") + " not shown; ").
			Syntax(prefix + "reports --state all").Raw(" shows them.")
		if len(reports) == 0 {
			return t
		}
		t.Raw(" ")
	}
	if len(reports) == 0 {
		return t
	}
	return t.Syntax(prefix + "report <id>").Raw(" shows one.")
}

// Help lists the commands, or with a topic the commands it names with
// their details.
func Help(topic, prefix string) *Text {
	specs := commands.All()
	if topic != "" {
		specs = commands.Lookup(topic)
		if len(specs) == 0 {
			return New().Raw("There is no command ").Code(prefix + topic).Raw(". ").Syntax(prefix + "help").Raw(" lists them.")
		}
	}
	t := New()
	if topic == "" {
		t.Bold("Gavel's commands").Raw(" (").Syntax(prefix + "help <command>").Raw(" explains one):")
	}
	t.StartList()
	for _, s := range specs {
		t.Item().Syntax(prefix + s.Usage).Raw(" — " + s.Summary)
		if topic != "" && s.Details != "" {
			t.ItemLine().Raw(s.Details)
		}
	}
	return t.EndList()
}
