package desk

import (
	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/internal/mxid"
	"github.com/gavel-bot/gavel/notice"
)

// Buttons returns the buttons of report ref's card in desk d: in the
// server desk, buttons as they are; in a community desk, those whose
// command the desk offers, and ⏫ to hand the report to the server desk.
func (d *Desk) Buttons(buttons []notice.Button, ref mxid.ReportRef, prefix string) []notice.Button {
	if d == nil || d.IsServer() {
		return buttons
	}
	out := make([]notice.Button, 0, len(buttons)+1)
	for _, b := range buttons {
		if d.Offers(commands.SpecOf(b.Command)) {
			out = append(out, b)
		}
	}
	return append(out, notice.EscalateButton(ref, prefix))
}
