package store

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"
)

// OutboxKey is the key of an outbox message, which is also the transaction
// id of its send: the same message must get the same key after a restart.
// Changing what a constructor returns makes messages queued by an older
// Gavel get posted twice.
type OutboxKey string

// FirstStartSummaryKey is the key of the summary posted at the first start
// in place of the reports of kind open then: "gavel-first-start-summary",
// and for the kinds other than event "…-<kind>" (they start later on an
// existing database).
func FirstStartSummaryKey(kind ReportKind) OutboxKey {
	if kind == KindEvent || kind == "" {
		return "gavel-first-start-summary"
	}
	return OutboxKey("gavel-first-start-summary-" + string(kind))
}

const (
	outboxPrefix = "gavel-"
	failedSuffix = "-failed"
)

// reportPart is "report-12-34", "digest-12-34", "user-report-12-34", …
func reportPart(what string, k ReportKey) string {
	k = k.normal()
	s := what + "-" + strconv.FormatInt(k.ID, 10) + "-" + strconv.FormatInt(k.ReceivedTS, 10)
	if k.Kind != KindEvent {
		s = string(k.Kind) + "-" + s
	}
	return s
}

// NoticeKey is the key of a report's notice: "gavel-report-<id>-<received
// ts>" for an event report, "gavel-<kind>-report-<id>-<received ts>" for
// the other kinds.
func NoticeKey(k ReportKey) OutboxKey {
	return OutboxKey(outboxPrefix + reportPart("report", k))
}

// DeskCardKey is the key of report k's card in the community desk named
// desk: "gavel-desk-<desk>-" and the report's part of its notice key
// ("gavel-desk-gaming-report-12-34"). The server desk's card is under
// NoticeKey.
func DeskCardKey(k ReportKey, desk string) OutboxKey {
	return OutboxKey(outboxPrefix + "desk-" + desk + "-" + reportPart("report", k))
}

// EscalationKey is the key of the note, in the server desk's card of
// report k, that desk handed it over at at: "gavel-escalate-<desk>-",
// the report's part of a notice key and the time in Unix milliseconds. A
// command runs once (package intake), so its time is its own.
func EscalationKey(k ReportKey, desk string, at time.Time) OutboxKey {
	return OutboxKey(outboxPrefix + "escalate-" + desk + "-" + reportPart("report", k) + "-" + strconv.FormatInt(at.UnixMilli(), 10))
}

// DigestKey is the key of a digest, named after the first report it
// covers: "gavel-digest-<id>-<received ts>" (for a report of another kind
// than event, "gavel-<kind>-digest-…").
func DigestKey(first ReportKey) OutboxKey {
	return OutboxKey(outboxPrefix + reportPart("digest", first))
}

// ReplyKey is the key of the reply to a command: "gavel-reply-" and the
// hex of the first 12 bytes of the SHA-256 of the command's event id.
func ReplyKey(eventID id.EventID) OutboxKey {
	sum := sha256.Sum256([]byte(eventID))
	return OutboxKey(outboxPrefix + "reply-" + hex.EncodeToString(sum[:12]))
}

// EditKey is the key of the n-th edit (from 1) of the reply to a command:
// the reply's key with "-edit-<n>".
func EditKey(eventID id.EventID, n int) OutboxKey {
	return OutboxKey(string(ReplyKey(eventID)) + "-edit-" + strconv.Itoa(n))
}

// CaseEditKey is the key of the edit of a card for version n of its
// case: the card's key with "-case-<n>".
func CaseEditKey(card OutboxKey, n int) OutboxKey {
	return OutboxKey(string(card) + "-case-" + strconv.Itoa(n))
}

// ButtonKey is the key of the n-th button (from 1) Gavel puts on a card:
// the card's key with "-button-<n>".
func ButtonKey(card OutboxKey, n int) OutboxKey {
	return OutboxKey(string(card) + "-button-" + strconv.Itoa(n))
}

// DuplicateKey is the key of the line, in the thread of another report's
// card, that says report k reported the same event: "gavel-duplicate-"
// and the report's part of a notice key.
func DuplicateKey(k ReportKey) OutboxKey {
	return OutboxKey(outboxPrefix + reportPart("duplicate", k))
}

// FeedAlertKey is the key of the alert that the report feed has been
// failing since since ("gavel-alert-feed-<unix ms>"), or with recovered,
// of the all-clear that follows it ("…-ok").
func FeedAlertKey(since time.Time, recovered bool) OutboxKey {
	k := outboxPrefix + "alert-feed-" + strconv.FormatInt(since.UnixMilli(), 10)
	if recovered {
		k += "-ok"
	}
	return OutboxKey(k)
}

// UnreadableAlertKey is the key of the alert, once per run started at
// started, that reports could not be read: "gavel-alert-unreadable-<unix
// ms>".
func UnreadableAlertKey(started time.Time) OutboxKey {
	return OutboxKey(outboxPrefix + "alert-unreadable-" + strconv.FormatInt(started.UnixMilli(), 10))
}

// UnsupportedKindKey is the key of the note, posted once per database,
// that this Synapse cannot list reports of kind:
// "gavel-unsupported-<kind>-reports".
func UnsupportedKindKey(kind ReportKind) OutboxKey {
	return OutboxKey(outboxPrefix + "unsupported-" + string(kind) + "-reports")
}

// UndecryptableKey is the key of the note that messages encrypted with
// session cannot be decrypted: "gavel-undecryptable-<session>".
func UndecryptableKey(session id.SessionID) OutboxKey {
	return OutboxKey(outboxPrefix + "undecryptable-" + string(session))
}

// FailedNote is the key of the short note that replaces message k when
// the homeserver refuses it for good.
func (k OutboxKey) FailedNote() OutboxKey { return k + failedSuffix }

// IsFailedNote reports whether k is the key of such a note.
func (k OutboxKey) IsFailedNote() bool { return strings.HasSuffix(string(k), failedSuffix) }

// Type names what the message under k is, for metrics: card, digest,
// duplicate, reply, reply_edit, card_edit, button, alert, failed_note or
// other. It is one of these fixed words, never part of the key.
func (k OutboxKey) Type() string {
	rest, ok := strings.CutPrefix(string(k), outboxPrefix)
	switch {
	case k.IsFailedNote():
		return "failed_note"
	case !ok:
		return "other"
	case strings.Contains(rest, "-button-"):
		return "button"
	case strings.Contains(rest, "-case-"):
		return "card_edit"
	case strings.HasPrefix(rest, "reply-") && strings.Contains(rest, "-edit-"):
		return "reply_edit"
	case strings.HasPrefix(rest, "reply-"):
		return "reply"
	case strings.HasPrefix(rest, "alert-"):
		return "alert"
	case strings.HasPrefix(rest, "desk-"):
		return "card"
	}
	// As reportPart spells them: no kind for an event report.
	for _, kind := range []string{"", string(KindUser) + "-", string(KindRoom) + "-"} {
		if strings.HasPrefix(rest, kind+"report-") {
			return "card"
		}
		if strings.HasPrefix(rest, kind+"digest-") {
			return "digest"
		}
		if strings.HasPrefix(rest, kind+"duplicate-") {
			return "duplicate"
		}
	}
	return "other"
}

// WeeklyStatsKey is the key of the weekly picture's message for the ISO
// week week ("2026-W50"): "gavel-stats-weekly-2026-W50", and its chart's
// with chart set ("…-chart").
func WeeklyStatsKey(week string, chart bool) OutboxKey {
	k := OutboxKey(outboxPrefix + "stats-weekly-" + week)
	if chart {
		k += "-chart"
	}
	return k
}

// KVKey names a value in the kv table.
type KVKey string

// Keys of the kv table.
const (
	// KVInitialized is set once the first start's event reports are
	// handled (see KVInitializedKind).
	KVInitialized KVKey = "feed.initialized"
	// KVNextBatch is the sync token to resume from.
	KVNextBatch KVKey = "sync.next_batch"
	// KVDeviceID is the device the encryption keys belong to.
	KVDeviceID KVKey = "encryption.device_id"
	// KVWeeklyStats is the last week whose weekly picture was queued, as
	// WeeklyStatsKey names it ("2026-W50").
	KVWeeklyStats KVKey = "stats.weekly_posted"
)

// KVInitializedKind is set once the first start's reports of kind are
// handled: KVInitialized for event reports, "feed.initialized.<kind>" for
// the others.
func KVInitializedKind(kind ReportKind) KVKey {
	if kind == KindEvent || kind == "" {
		return KVInitialized
	}
	return KVInitialized + KVKey("."+string(kind))
}

// KVFilterID is the key of the sync filter's id for the desks' rooms:
// "sync.filter_id.v3:" + the rooms, comma-separated (the management room
// alone before desks, so an existing database keeps its filter). The
// version goes up whenever the filter changes (v3: reactions, for
// confirmations), so that an existing database makes the new filter.
func KVFilterID(rooms ...id.RoomID) KVKey {
	names := make([]string, len(rooms))
	for i, r := range rooms {
		names[i] = string(r)
	}
	return KVKey("sync.filter_id.v3:" + strings.Join(names, ","))
}

// The prefixes of a desk's keys, the desk's name following.
const (
	kvDeskRefreshed KVKey = "desk.refreshed."
	kvDeskSource    KVKey = "desk.source."
)

// KVDeskRefreshed is the key of when desk's scope was last read (Unix
// milliseconds): "desk.refreshed.<desk>".
func KVDeskRefreshed(desk string) KVKey { return kvDeskRefreshed + KVKey(desk) }

// KVDeskSource is the key of what desk's stored scope was read from (see
// DeskScope.Source): "desk.source.<desk>".
func KVDeskSource(desk string) KVKey { return kvDeskSource + KVKey(desk) }
