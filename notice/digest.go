package notice

import (
	"encoding/json"
	"strconv"

	"maunium.net/go/mautrix/event"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/internal/textcut"
)

// DigestSize is how many reports one digest lists.
const DigestSize = 50

// Digest builds a digest: a table of reports, for when there are too many
// to post one by one. part counts from 1; parts and total are 0 while not
// yet known (a scan still going). Cells are cut short, and shorter still if
// the digest would not fit maxDigestBytes.
func Digest(reports []adminapi.EventReport, part, parts, total int, prefix string) json.RawMessage {
	var raw json.RawMessage
	for _, cut := range digestCuts {
		if raw = renderDigest(reports, part, parts, total, prefix, cut); len(raw) <= maxDigestBytes {
			break
		}
	}
	return raw
}

// maxDigestBytes keeps a digest well inside Synapse's 64 KiB event limit,
// which counts the whole event with its signatures and hashes.
const maxDigestBytes = 56 << 10

type digestCut struct{ sender, room, reason int }

// digestCuts are the lengths, in characters, of a digest's reported user,
// room and reason cells: the first that fits is used. The last fits 50
// rows of the worst text (4-byte characters and quotes).
var digestCuts = []digestCut{{60, 40, 80}, {40, 30, 40}, {30, 20, 20}}

func renderDigest(reports []adminapi.EventReport, part, parts, total int, prefix string, cut digestCut) json.RawMessage {
	t := New()
	digestHeading(t, "reports", part, parts, total, prefix)
	ids := make([]int64, len(reports))
	keys := make([][2]int64, len(reports))
	rows := make([][]string, len(reports))
	for i, r := range reports {
		ids[i], keys[i] = r.ID, [2]int64{r.ID, r.ReceivedTS}
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
		reason := "(none given)"
		if r.Reason != "" {
			reason = textcut.Runes(r.Reason, cut.reason)
		}
		rows[i] = []string{strconv.FormatInt(r.ID, 10), sender, room, reason}
	}
	t.Table([]string{"id", "reported user", "room", "reason"}, rows)
	return t.Content(event.MsgText, map[string]any{"gavel.reports": ids, "gavel.report_keys": keys})
}
