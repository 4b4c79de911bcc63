package notice

import (
	"encoding/json"
	"time"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/dossier"
	"github.com/gavel-bot/gavel/internal/mxid"
)

// Reports about user accounts (Synapse 1.152 and later): moderators name
// them u12.

// UserReportRef is user report id as moderators type it: "u12".
func UserReportRef(id int64) string { return mxid.ReportRef{Kind: mxid.KindUser, ID: id}.String() }

// UserReport writes a user report: who reported whom, why and when.
func UserReport(r adminapi.UserReport) *Text {
	t := New()
	t.Bold("User report " + UserReportRef(r.ID)).Raw(": ")
	userLink(t, r.UserID).Raw(" reported the account ")
	userLink(t, r.TargetUserID).Newline()
	reasonOf(t, r.Reason)
	return t.Raw(" · " + r.Received().UTC().Format("2006-01-02 15:04:05 UTC"))
}

// UserCardButtons are the buttons that fit user report r: claim, resolve
// and dismiss; suspending the reported user when they are local (server
// is this homeserver); redacting their last day of messages.
func UserCardButtons(r adminapi.UserReport, prefix, server string) []Button {
	ref := mxid.ReportRef{Kind: mxid.KindUser, ID: r.ID}
	b := caseButtons(ref, prefix)
	if r.TargetUserID == "" {
		return b
	}
	if r.TargetUserID.Homeserver() == server {
		b = append(b, Button{"⛔", commands.Suspend{User: r.TargetUserID, Report: ref},
			prefix + "suspend " + string(r.TargetUserID) + " --report " + ref.String(), "suspend the user"})
	}
	return append(b, redactUserButton(r.TargetUserID, ref, prefix, "redact the user's last 24 h (asks first)"))
}

// UserCard is a user report's notice with its context (d, nil for none)
// and its buttons.
func UserCard(r adminapi.UserReport, d *dossier.Dossier, buttons []Button) json.RawMessage {
	return withButtons(Dossier(UserReport(r), d, time.Now()), ReportFields{
		Kind: "user", ReportID: r.ID, ReceivedTS: r.ReceivedTS, TargetUserID: r.TargetUserID, Reporter: r.UserID,
	}, buttons)
}
