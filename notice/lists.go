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
// whether the moderator asked for some reports only.
func ReportList(page *adminapi.Page[adminapi.EventReport], filtered bool, prefix string, now time.Time) *Text {
	t := New()
	if len(page.Items) == 0 {
		t.Raw("No open reports")
		if filtered {
			t.Raw(" match")
		}
		return t.Raw(".")
	}
	t.Bold(Count(int(page.Total), "open report", "open reports"))
	if int64(len(page.Items)) < page.Total {
		t.Raw(fmt.Sprintf(", newest %d:", len(page.Items)))
	} else {
		t.Raw(", newest first:")
	}
	t.StartList()
	for i, r := range page.Items {
		if t.Size() > maxListSize {
			t.LastItem(fmt.Sprintf("… and %d more", len(page.Items)-i))
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
	}
	t.EndList()
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
