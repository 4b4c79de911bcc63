package bot

import (
	"context"
	"fmt"
	"time"

	"maunium.net/go/mautrix"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/internal/textcut"
)

// The commands here only read; they are not logged as actions.

// maxListSize caps the size of a listing reply (plain and HTML together).
const maxListSize = 30000

func (b *Bot) help(topic string) outcome {
	prefix := b.cfg.Commands.Prefix
	specs := commands.Specs
	if topic != "" {
		specs = commands.Lookup(topic)
		if len(specs) == 0 {
			return answer((&text{}).raw("There is no command ").code(prefix + topic).raw(". ").code(prefix + "help").raw(" lists them."))
		}
	}
	t := &text{}
	if topic == "" {
		t.bold("Gavel's commands").raw(" (").code(prefix + "help <command>").raw(" explains one):")
	}
	t.html.WriteString("<ul>")
	for _, s := range specs {
		t.plain.WriteString("\n• ")
		t.html.WriteString("<li>")
		t.code(prefix + s.Usage).raw(" — " + s.Summary)
		if topic != "" && s.Details != "" {
			t.plain.WriteString("\n  ")
			t.html.WriteString("<br>")
			t.raw(s.Details)
		}
		t.html.WriteString("</li>")
	}
	t.html.WriteString("</ul>")
	return answer(t)
}

func (b *Bot) status(ctx context.Context) outcome {
	b.mu.Lock()
	version, lastPoll, lastErr := b.synapseVersion, b.lastPoll, b.lastPollErr
	b.mu.Unlock()
	if v, err := b.admin.ServerVersion(ctx); err == nil {
		version = v
	}
	t := (&text{}).bold("Gavel " + b.version).raw(" · Synapse " + version).raw(" · database " + b.store.Dialect()).newline()
	switch {
	case lastPoll.IsZero():
		t.raw("Reports: not polled yet.")
	case lastErr != nil:
		t.raw("Reports: the last poll, " + ago(lastPoll, time.Now()) + ", failed: ").user(b.explain(lastErr, "the report list"))
	default:
		t.raw("Reports: last polled " + ago(lastPoll, time.Now()) + ".")
	}
	if page, err := b.admin.ListEventReports(ctx, adminapi.EventReportsQuery{PageQuery: adminapi.PageQuery{Limit: 1}}); err == nil {
		t.raw(fmt.Sprintf(" %d open in Synapse.", page.Total))
	} else {
		t.raw(" Open reports unknown: ").user(b.explain(err, "the report list"))
	}
	if unsent, err := b.store.Unsent(ctx, 1000); err == nil && len(unsent) > 0 {
		// This reply itself is not in the outbox yet; anything there waits.
		t.raw(fmt.Sprintf(" %d messages waiting to be posted.", len(unsent)))
	}
	switch {
	case b.crypto != nil:
		t.newline().raw("Encryption: on, device ").code(string(b.client.DeviceID)).
			raw(", commands from " + b.cfg.Encryption.MinCommandTrust + " devices.")
	case b.encrypted.Load():
		t.newline().raw("Encryption: the room is encrypted, but encryption.pickle_key is empty.")
	}
	return answer(t)
}

func (b *Bot) listOpenReports(ctx context.Context, c commands.ListReports) outcome {
	q := adminapi.EventReportsQuery{
		PageQuery:         adminapi.PageQuery{Limit: c.Limit, Dir: mautrix.DirectionBackward},
		UserID:            c.Reporter,
		EventSenderUserID: c.Sender,
	}
	if !c.Room.IsZero() {
		roomID, err := b.resolveRoom(ctx, c.Room)
		if err != nil {
			return answer((&text{}).user(capitalize(err.Error()) + "."))
		}
		q.RoomID = roomID
	}
	page, err := b.admin.ListEventReports(ctx, q)
	if err != nil {
		return answer((&text{}).user(b.explain(err, "the report list")))
	}
	t := &text{}
	if len(page.Items) == 0 {
		t.raw("No open reports")
		if c.Reporter != "" || c.Sender != "" || !c.Room.IsZero() {
			t.raw(" match")
		}
		t.raw(".")
		return answer(t)
	}
	t.bold(fmt.Sprintf("%d open reports", page.Total))
	if int64(len(page.Items)) < page.Total {
		t.raw(fmt.Sprintf(", newest %d:", len(page.Items)))
	} else {
		t.raw(", newest first:")
	}
	t.html.WriteString("<ul>")
	now := time.Now()
	for i, r := range page.Items {
		// Stay far below Synapse's 64 KiB event limit, whatever the
		// reports hold.
		if t.size() > maxListSize {
			t.plain.WriteString(fmt.Sprintf("\n… and %d more", len(page.Items)-i))
			t.html.WriteString(fmt.Sprintf("<li>… and %d more</li>", len(page.Items)-i))
			break
		}
		t.plain.WriteString("\n• ")
		t.html.WriteString("<li>")
		t.bold(fmt.Sprintf("%d", r.ID)).raw(" · ")
		userLink(t, r.UserID).raw(" reported ")
		userLink(t, r.Sender).raw(" in ")
		roomLink(t, r).raw(" · ")
		if r.Reason != "" {
			t.code(textcut.Runes(r.Reason, 80)).raw(" · ")
		}
		t.raw(ago(r.Received(), now))
		t.html.WriteString("</li>")
	}
	t.html.WriteString("</ul>")
	t.code(b.cfg.Commands.Prefix + "report <id>").raw(" shows one.")
	return answer(t)
}

func (b *Bot) showReport(ctx context.Context, reportID int64) outcome {
	detail, err := b.admin.EventReport(ctx, reportID)
	if err != nil {
		return answer((&text{}).user(b.explain(err, fmt.Sprintf("report %d", reportID))))
	}
	t := &text{}
	renderReport(t, detail.EventReport, detail)
	return answer(t)
}
