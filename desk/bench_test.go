package desk_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/config"
)

// BenchmarkRefreshSpace1000 reads the scope of a space of 1,000 rooms
// from a real Synapse, as Gavel does every 10 minutes (issue 24's target:
// 2 s and 5 MB of extra RSS): the first reading (Synapse's caches cold),
// then again with the admin account's rate limit as Synapse sets it and
// lifted. It reports the extra RSS one refresh takes (the peak during it,
// less the RSS before it). Creating the rooms takes minutes: run it with
// -benchtime 1x.
func BenchmarkRefreshSpace1000(b *testing.B) {
	c := newCommunity(b)
	rooms := c.manyRooms(b, 1000)
	state := make([]*event.Event, len(rooms))
	for i, r := range rooms {
		key := string(r)
		state[i] = &event.Event{Type: event.StateSpaceChild, StateKey: &key,
			Content: event.Content{Parsed: &event.SpaceChildEventContent{Via: []string{c.srv.ServerName}}}}
	}
	resp, err := c.mod.CreateRoom(ctx, &mautrix.ReqCreateRoom{Name: "Big", Preset: "private_chat",
		CreationContent: map[string]any{"type": event.RoomTypeSpace}, InitialState: state})
	require.NoError(b, err)
	space := resp.RoomID

	run := func(warm bool) func(b *testing.B) {
		return func(b *testing.B) {
			ds := c.desks(config.Desk{Name: "big", Room: id.RoomID("!big-mods:" + c.srv.ServerName), Spaces: []string{string(space)}})
			d := ds.ByName("big")
			if warm {
				// Synapse's caches hold the rooms now; its rate limit's
				// bucket (10 pages, 5 a second) fills again meanwhile.
				require.NoError(b, ds.Refresh(ctx, d))
				time.Sleep(3 * time.Second)
			}
			var extra float64
			b.ResetTimer()
			for range b.N {
				before := rss(b)
				require.NoError(b, ds.Refresh(ctx, d))
				extra = max(extra, float64(peakRSS(b)-before)/(1<<20))
			}
			b.StopTimer()
			require.Equal(b, len(rooms)+1, ds.ScopeOf(d).Rooms)
			b.ReportMetric(extra, "MB-extra-rss")
		}
	}
	b.Run("first", run(false))
	b.Run("rate-limited", run(true))
	url := c.gavel.BuildURL(mautrix.SynapseAdminURLPath{"v1", "users", c.gavel.UserID, "override_ratelimit"})
	_, err = c.gavel.MakeRequest(ctx, "POST", url, map[string]int{"messages_per_second": 0, "burst_count": 0}, nil)
	require.NoError(b, err)
	b.Run("rate-limit-lifted", run(true))
}

// manyRooms creates n rooms, a few at a time.
func (c *community) manyRooms(b *testing.B, n int) []id.RoomID {
	rooms := make([]id.RoomID, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	next := make(chan int)
	for range 4 {
		wg.Go(func() {
			for i := range next {
				resp, err := c.mod.CreateRoom(ctx, &mautrix.ReqCreateRoom{Name: fmt.Sprintf("room %d", i), Preset: "private_chat"})
				if err != nil {
					errs <- err
					continue
				}
				rooms[i] = resp.RoomID
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	require.NoError(b, <-errs)
	return rooms
}

// rss returns the process's resident set size and resets its peak
// (VmHWM) to it, so that peakRSS measures from here.
func rss(b *testing.B) int64 {
	require.NoError(b, os.WriteFile("/proc/self/clear_refs", []byte("5"), 0))
	return procStatus(b, "VmRSS")
}

// peakRSS returns the peak resident set size since rss.
func peakRSS(b *testing.B) int64 { return procStatus(b, "VmHWM") }

func procStatus(b *testing.B, field string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	require.NoError(b, err)
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			require.NoError(b, err)
			return kb << 10
		}
	}
	b.Fatalf("/proc/self/status has no %s", field)
	return 0
}
