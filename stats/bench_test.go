package stats

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gavel-bot/gavel/store"
)

// BenchmarkGather100k is the database side of !stats over a week of
// 100,000 cases, 3 in 4 of them closed, each with an action: the target is
// 500 ms.
func BenchmarkGather100k(b *testing.B) {
	st := benchStore(b)
	start := now.Add(-7 * 24 * time.Hour)
	b.ResetTimer()
	for b.Loop() {
		s, err := Gather(ctx, st, start, now, time.UTC)
		if err != nil || s.Cases["open"] != benchCases/5 || s.Claim.N != benchCases*4/5 {
			b.Fatal(err, s.Cases, s.Claim.N)
		}
	}
}

// benchCases is how many cases benchStore holds.
const benchCases = 100000

// benchStore returns a store of benchCases cases received over the week
// before now, 3 in 4 of them closed and 1 in 5 open, each but the open
// ones with an action.
func benchStore(b *testing.B) *store.Store {
	st := openStore(b)
	const n = benchCases
	start := now.Add(-7 * 24 * time.Hour)
	kinds := []string{"event", "event", "event", "user", "room"}
	states := []store.CaseState{store.CaseResolved, store.CaseDismissed, store.CaseResolved, store.CaseClaimed, store.CaseOpen}
	err := st.DB().DoTxn(ctx, nil, func(ctx context.Context) error {
		for i := range n {
			kind := kinds[i%len(kinds)]
			received := start.Add(time.Duration(i) * 6 * time.Second).UnixMilli()
			if _, err := st.DB().Exec(ctx, `INSERT INTO report (kind, report_id, received_ts, room_id, event_id, state, seen_at) VALUES ($1, $2, $3, '!r:x', '$e', 'notice', $3)`,
				kind, i, received); err != nil {
				return err
			}
			state := states[i%len(states)]
			if state == store.CaseOpen {
				continue
			}
			at := received + int64(i%97)*60000
			if _, err := st.DB().Exec(ctx, `INSERT INTO report_case (kind, report_id, received_ts, state, changed_by, changed_at, note, version) VALUES ($1, $2, $3, $4, $5, $6, '', 1)`,
				kind, i, received, state, fmt.Sprintf("@mod%d:x", i%7), at); err != nil {
				return err
			}
			var reportKind any = kind
			if kind == "event" {
				reportKind = nil
			}
			if _, err := st.DB().Exec(ctx, `INSERT INTO action (ts, sender, event_id, command, ok, result, report_id, report_kind, name) VALUES ($1, $2, $3, '!report claim', true, '', $4, $5, 'report claim')`,
				at-30000, fmt.Sprintf("@mod%d:x", i%7), fmt.Sprintf("$a%d", i), i, reportKind); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return st
}
