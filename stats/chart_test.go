package stats

import (
	"bytes"
	"image/png"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gavel-bot/gavel/internal/mxid"
	"github.com/gavel-bot/gavel/notice"
	"github.com/gavel-bot/gavel/store"
)

// month is a window of 30 days with a spam wave in its middle and
// quiet days, as a chart would show.
func month() notice.Stats {
	since := now.Add(-30 * 24 * time.Hour)
	w := NewWindow(since, now, time.UTC)
	id := int64(0)
	for day := range 30 {
		n := 3 + day%5
		if day >= 12 && day <= 14 {
			n = 40 - (day-12)*12 // the wave
		}
		if day == 20 {
			n = 0
		}
		for i := range n {
			id++
			kind := []mxid.ReportKind{mxid.KindEvent, mxid.KindEvent, mxid.KindUser, mxid.KindRoom}[i%4]
			k := store.ReportKey{Kind: kind, ID: id, ReceivedTS: since.Add(time.Duration(day)*24*time.Hour + time.Duration(i)*17*time.Minute).UnixMilli()}
			w.Report(k, false)
			took := time.Duration(20+(i*37+day*11)%300) * time.Minute
			if day >= 12 && day <= 14 {
				took *= 3
			}
			if i%6 != 5 {
				w.Case(store.Case{Report: k, State: store.CaseResolved, At: time.UnixMilli(k.ReceivedTS).Add(took)})
			}
		}
	}
	return w.Stats()
}

// TestChart: the chart is a PNG of the size its info says, 800 pixels
// wide, for a month and for a week with nothing resolved. GAVEL_CHART_OUT
// names a directory to write them to, to look at.
func TestChart(t *testing.T) {
	week := NewWindow(now.Add(-7*24*time.Hour), now, time.UTC)
	week.Report(store.ReportKey{Kind: mxid.KindUser, ID: 1, ReceivedTS: now.Add(-time.Hour).UnixMilli()}, false)
	for name, s := range map[string]notice.Stats{"month": month(), "week": week.Stats()} {
		c, err := Draw(s)
		require.NoError(t, err)
		img, err := png.Decode(bytes.NewReader(c.PNG))
		require.NoError(t, err, name)
		assert.Equal(t, ChartWidth, img.Bounds().Dx(), name)
		assert.Equal(t, ChartHeight, img.Bounds().Dy(), name)
		assert.Equal(t, ChartWidth, c.Width, name)
		assert.Equal(t, ChartHeight, c.Height, name)
		if dir := os.Getenv("GAVEL_CHART_OUT"); dir != "" {
			require.NoError(t, os.WriteFile(dir+"/"+name+".png", c.PNG, 0o644))
		}
		t.Logf("%s: %d bytes", name, len(c.PNG))
	}
	_, err := Draw(notice.Stats{})
	assert.Error(t, err, "no day")
}
