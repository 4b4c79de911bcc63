package store

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"
)

// BenchmarkUnseenPage is the database side of one steady-state poll: a
// page of 100 reports, all already known, in a store of 10,000 reports.
func BenchmarkUnseenPage(b *testing.B) {
	s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"), zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for i := range 10000 {
		r := Report{ReportKey: ReportKey{ID: int64(i + 2), ReceivedTS: int64(1000 + i)}, RoomID: "!r:x", EventID: "$e"}
		if err := s.Reports.AddNotice(ctx, r, Message{Key: NoticeKey(r.ReportKey), RoomID: "!m:x", Content: json.RawMessage(`{}`)}); err != nil {
			b.Fatal(err)
		}
	}
	page := make([]ReportKey, 100)
	for i := range page {
		page[i] = ReportKey{ID: int64(9900 + i + 2), ReceivedTS: int64(1000 + 9900 + i)}
	}
	b.ResetTimer()
	for b.Loop() {
		unseen, err := s.Reports.Unseen(ctx, page)
		if err != nil || len(unseen) != 0 {
			b.Fatal(err, len(unseen))
		}
	}
}
