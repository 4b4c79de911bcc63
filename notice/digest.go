package notice

import (
	"encoding/json"
	"fmt"
	"strconv"

	"maunium.net/go/mautrix/event"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/internal/textcut"
)

// DigestSize is how many reports one digest lists in a flood, and
// BacklogDigestSize how many once one wave has more than BacklogAfter
// (a first start on a large backlog, say): there one long digest reads
// no worse than three, and Synapse stores a third as many events.
const (
	DigestSize        = 50
	BacklogDigestSize = 150
	BacklogAfter      = 1000
)

// DigestFits reports whether a rendered digest is small enough to post;
// one of more than DigestSize reports may not be, and is then split.
func DigestFits(content json.RawMessage) bool { return len(content) <= maxDigestBytes }

// maxDigestBytes keeps a digest well inside Synapse's 64 KiB event limit,
// which counts the whole event with its signatures and hashes.
const maxDigestBytes = 56 << 10

type digestCut struct{ sender, room, reason int }

// digestCuts are the lengths, in characters, of a digest's user, room and
// reason cells: the first that fits is used. The last fits 50 rows of the
// worst text (4-byte characters and quotes).
var digestCuts = []digestCut{{60, 40, 80}, {40, 30, 40}, {30, 20, 20}}

// digest is a digest of one kind of report: what the reports are called
// ("reports", "user reports"), the table's header, each report's id and
// received_ts, its row as cut, and extra fields.
type digest struct {
	what   string
	header []string
	keys   [][2]int64
	row    func(i int, cut digestCut) []string
	extra  map[string]any
}

// render builds the digest: a table of reports, for when there are too
// many to post one by one. part counts from 1; parts and total are 0
// while not yet known (a scan still going). Cells are cut short, and
// shorter still if the digest would not fit maxDigestBytes. It carries
// "gavel.reports" (the ids) and "gavel.report_keys" (ids and received_ts).
func (d digest) render(part, parts, total int, prefix string) json.RawMessage {
	ids := make([]int64, len(d.keys))
	for i, k := range d.keys {
		ids[i] = k[0]
	}
	extra := map[string]any{"gavel.reports": ids, "gavel.report_keys": d.keys}
	for k, v := range d.extra {
		extra[k] = v
	}
	var raw json.RawMessage
	for _, cut := range digestCuts {
		t := New()
		if parts > 0 {
			t.Bold(strconv.Itoa(total) + " new " + d.what).Raw(fmt.Sprintf(", digest %d of %d. ", part, parts))
		} else {
			t.Bold(fmt.Sprintf("New %s, digest %d", d.what, part)).Raw(" (more follow). ")
		}
		t.Raw("Too many to post one by one: ").Syntax(prefix + "report <id>").Raw(" shows one, ").Syntax(prefix + "reports").Raw(" lists the open ones.")
		rows := make([][]string, len(d.keys))
		for i := range rows {
			rows[i] = d.row(i, cut)
		}
		t.Table(d.header, rows)
		if raw = t.Content(event.MsgText, extra); len(raw) <= maxDigestBytes {
			break
		}
	}
	return raw
}

// orNone is s cut to n characters, or "(none given)".
func orNone(s string, n int) string {
	if s == "" {
		return "(none given)"
	}
	return textcut.Runes(s, n)
}

// Digest is the digest of event reports.
func Digest(reports []adminapi.EventReport, part, parts, total int, prefix string) json.RawMessage {
	keys := make([][2]int64, len(reports))
	for i, r := range reports {
		keys[i] = [2]int64{r.ID, r.ReceivedTS}
	}
	return digest{what: "reports", header: []string{"id", "reported user", "room", "reason"}, keys: keys,
		row: func(i int, cut digestCut) []string {
			r := reports[i]
			sender := "(unknown)"
			if r.Sender != "" {
				sender = textcut.Runes(string(r.Sender), cut.sender)
			}
			room := textcut.Runes(string(r.RoomID), cut.room)
			if r.Name != "" {
				room = textcut.Runes(r.Name, cut.room)
			} else if r.CanonicalAlias != "" {
				room = textcut.Runes(string(r.CanonicalAlias), cut.room)
			}
			return []string{strconv.FormatInt(r.ID, 10), sender, room, orNone(r.Reason, cut.reason)}
		}}.render(part, parts, total, prefix)
}

// UserDigest is the digest of user reports.
func UserDigest(reports []adminapi.UserReport, part, parts, total int, prefix string) json.RawMessage {
	keys := make([][2]int64, len(reports))
	for i, r := range reports {
		keys[i] = [2]int64{r.ID, r.ReceivedTS}
	}
	return digest{what: "user reports", header: []string{"id", "reported user", "reporter", "reason"}, keys: keys,
		extra: map[string]any{"gavel.kind": "user"},
		row: func(i int, cut digestCut) []string {
			r := reports[i]
			return []string{UserReportRef(r.ID), textcut.Runes(string(r.TargetUserID), cut.sender),
				textcut.Runes(string(r.UserID), cut.sender), orNone(r.Reason, cut.reason)}
		}}.render(part, parts, total, prefix)
}

// RoomDigest is the digest of room reports.
func RoomDigest(reports []adminapi.RoomReport, part, parts, total int, prefix string) json.RawMessage {
	keys := make([][2]int64, len(reports))
	for i, r := range reports {
		keys[i] = [2]int64{r.ID, r.ReceivedTS}
	}
	return digest{what: "room reports", header: []string{"id", "room", "reporter", "reason"}, keys: keys,
		extra: map[string]any{"gavel.kind": "room"},
		row: func(i int, cut digestCut) []string {
			r := reports[i]
			return []string{RoomReportRef(r.ID), textcut.Runes(string(r.RoomID), cut.room),
				textcut.Runes(string(r.UserID), cut.sender), orNone(r.Reason, cut.reason)}
		}}.render(part, parts, total, prefix)
}
