package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// The keys are transaction ids and kv names already in databases: they
// must not change.
func TestKeysAreTheSameStrings(t *testing.T) {
	at := time.UnixMilli(1700000000123)
	for _, c := range []struct{ got, want OutboxKey }{
		{NoticeKey(ReportKey{ID: 12, ReceivedTS: 1700000000000}), "gavel-report-12-1700000000000"},
		{NoticeKey(ReportKey{ID: 12, ReceivedTS: 1700000000000, Kind: KindEvent}), "gavel-report-12-1700000000000"},
		{NoticeKey(ReportKey{ID: 12, ReceivedTS: 1700000000000, Kind: KindUser}), "gavel-user-report-12-1700000000000"},
		{NoticeKey(ReportKey{ID: 3, ReceivedTS: 4, Kind: KindRoom}), "gavel-room-report-3-4"},
		{DigestKey(ReportKey{ID: 5, ReceivedTS: 1700000000001}), "gavel-digest-5-1700000000001"},
		{DigestKey(ReportKey{ID: 5, ReceivedTS: 6, Kind: KindUser}), "gavel-user-digest-5-6"},
		// printf '$cmd:example.org' | sha256sum | cut -c1-24
		{ReplyKey("$cmd:example.org"), "gavel-reply-47621427b87b765472bd5307"},
		{FeedAlertKey(at, false), "gavel-alert-feed-1700000000123"},
		{FeedAlertKey(at, true), "gavel-alert-feed-1700000000123-ok"},
		{UnreadableAlertKey(at), "gavel-alert-unreadable-1700000000123"},
		{FirstStartSummaryKey(KindEvent), "gavel-first-start-summary"},
		{FirstStartSummaryKey(KindUser), "gavel-first-start-summary-user"},
		{UnsupportedKindKey(KindUser), "gavel-unsupported-user-reports"},
		{UndecryptableKey("sess1"), "gavel-undecryptable-sess1"},
		{NoticeKey(ReportKey{ID: 12, ReceivedTS: 34}).FailedNote(), "gavel-report-12-34-failed"},
	} {
		assert.Equal(t, c.want, c.got)
	}
	for _, c := range []struct{ got, want KVKey }{
		{KVInitialized, "feed.initialized"},
		{KVInitializedKind(KindEvent), "feed.initialized"},
		{KVInitializedKind(KindUser), "feed.initialized.user"},
		{KVNextBatch, "sync.next_batch"},
		{KVDeviceID, "encryption.device_id"},
		{KVFilterID("!mods:example.org"), "sync.filter_id.v3:!mods:example.org"},
		{KVDeskRefreshed("gaming"), "desk.refreshed.gaming"},
		{KVDeskSource("gaming"), "desk.source.gaming"},
	} {
		assert.Equal(t, c.want, c.got)
	}
	assert.Equal(t, "12@1700000000000", ReportKey{ID: 12, ReceivedTS: 1700000000000}.String())
	assert.Equal(t, "12@1700000000000", ReportKey{ID: 12, ReceivedTS: 1700000000000, Kind: KindEvent}.String())
	assert.Equal(t, "user:12@1700000000000", ReportKey{ID: 12, ReceivedTS: 1700000000000, Kind: KindUser}.String())
}

func TestFailedNote(t *testing.T) {
	k := NoticeKey(ReportKey{ID: 12, ReceivedTS: 34})
	assert.False(t, k.IsFailedNote())
	assert.True(t, k.FailedNote().IsFailedNote())
	assert.True(t, OutboxKey("gavel-report-12-34-failed").IsFailedNote())
	assert.False(t, FeedAlertKey(time.UnixMilli(1), true).IsFailedNote())
}

// TestKeyTypes: every key constructor's messages get their type, for the
// metrics; a key Gavel never made is other.
func TestKeyTypes(t *testing.T) {
	card := NoticeKey(ReportKey{ID: 12, ReceivedTS: 34})
	userCard := NoticeKey(ReportKey{ID: 12, ReceivedTS: 34, Kind: KindUser})
	for key, want := range map[OutboxKey]string{
		card:     "card",
		userCard: "card",
		NoticeKey(ReportKey{ID: 3, ReceivedTS: 4, Kind: KindRoom}): "card",
		DigestKey(ReportKey{ID: 5, ReceivedTS: 6}):                 "digest",
		DigestKey(ReportKey{ID: 5, ReceivedTS: 6, Kind: KindUser}): "digest",
		DigestKey(ReportKey{ID: 5, ReceivedTS: 6, Kind: KindRoom}): "digest",
		DuplicateKey(ReportKey{ID: 7, ReceivedTS: 8}):              "duplicate",
		ReplyKey("$cmd:example.org"):                               "reply",
		EditKey("$cmd:example.org", 2):                             "reply_edit",
		CaseEditKey(card, 3):                                       "card_edit",
		CaseEditKey(userCard, 1):                                   "card_edit",
		ButtonKey(card, 1):                                         "button",
		FeedAlertKey(time.UnixMilli(1), false):                     "alert",
		FeedAlertKey(time.UnixMilli(1), true):                      "alert",
		UnreadableAlertKey(time.UnixMilli(1)):                      "alert",
		card.FailedNote():                                          "failed_note",
		ReplyKey("$cmd:example.org").FailedNote():                  "failed_note",
		FirstStartSummaryKey(KindEvent):                            "other",
		UnsupportedKindKey(KindUser):                               "other",
		UndecryptableKey("sess1"):                                  "other",
		WeeklyStatsKey("2026-W50", true):                           "other",
		"something-else":                                           "other",
		"gavel-event-report-1-2":                                   "other",
	} {
		assert.Equal(t, want, key.Type(), string(key))
	}
}
