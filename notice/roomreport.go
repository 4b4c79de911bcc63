package notice

import (
	"encoding/json"
	"time"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/dossier"
	"github.com/gavel-bot/gavel/internal/mxid"
)

// Reports about rooms (MSC4151): moderators name them r12.

// RoomReportRef is room report id as moderators type it: "r12".
func RoomReportRef(id int64) string { return mxid.ReportRef{Kind: mxid.KindRoom, ID: id}.String() }

// RoomReport writes a room report: who reported which room, why and when.
func RoomReport(r adminapi.RoomReport) *Text {
	t := New()
	t.Bold("Room report " + RoomReportRef(r.ID)).Raw(": ")
	userLink(t, r.UserID).Raw(" reported the room ")
	t.Link(string(r.RoomID), r.RoomID.URI().MatrixToURL()).Newline()
	reasonOf(t, r.Reason)
	return t.Raw(" · " + r.Received().UTC().Format("2006-01-02 15:04:05 UTC"))
}

// RoomCardButtons are the buttons of a room report: claim, resolve and
// dismiss; quarantining the room's media, blocking the room, deleting it
// (asks first).
func RoomCardButtons(r adminapi.RoomReport, prefix string) []Button {
	ref := mxid.ReportRef{Kind: mxid.KindRoom, ID: r.ID}
	forReport := " --report " + ref.String()
	room, typed := string(r.RoomID), mxid.RoomRef{ID: r.RoomID}
	return append(caseButtons(ref, prefix),
		Button{"🖼️", commands.QuarantineRoom{Room: typed, Report: ref}, prefix + "quarantine room " + room + forReport, "quarantine the room's media"},
		Button{"🚧", commands.BlockRoom{Room: typed, Report: ref}, prefix + "room block " + room + forReport, "block the room"},
		Button{"💥", commands.DeleteRoom{Room: typed, Report: ref}, prefix + "room delete " + room + forReport, "delete the room (asks first)"},
	)
}

// RoomCard is a room report's notice with its context (d, nil for none)
// and its buttons.
func RoomCard(r adminapi.RoomReport, d *dossier.Dossier, buttons []Button) json.RawMessage {
	return withButtons(Dossier(RoomReport(r), d, time.Now()), ReportFields{
		Kind: "room", ReportID: r.ID, ReceivedTS: r.ReceivedTS, RoomID: r.RoomID, Reporter: r.UserID,
	}, buttons)
}
