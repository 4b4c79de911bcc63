package notice

import (
	"strings"
	"testing"
)

// BenchmarkReportNotice renders the notice of a report whose content is
// hostile HTML well past the excerpt limit.
func BenchmarkReportNotice(b *testing.B) {
	r := sampleReport()
	detail := detailWith(map[string]any{"msgtype": "m.text", "body": strings.Repeat(`<a href="https://evil.example">x</a> `, 100)}, "m.room.message")
	b.ReportAllocs()
	for b.Loop() {
		ReportNotice(r, detail)
	}
}
