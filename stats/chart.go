package stats

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/gavel-bot/gavel/internal/mxid"
	"github.com/gavel-bot/gavel/notice"
)

// The chart's size: Element shows an image at most about 800 pixels wide
// in its timeline, so it is drawn that wide, at 96 dots per inch, and
// never scaled down.
const (
	ChartWidth  = 800
	ChartHeight = 640
	chartDPI    = 96
)

// Chart is a PNG image and its size, for an m.image's info.
type Chart struct {
	PNG           []byte
	Width, Height int
}

// kindColors are the bars' colours, one per kind of report, apart for
// the colour-blind (Okabe and Ito's palette).
var kindColors = map[mxid.ReportKind]color.Color{
	mxid.KindEvent: color.RGBA{0, 114, 178, 255},   // blue
	mxid.KindUser:  color.RGBA{230, 159, 0, 255},   // orange
	mxid.KindRoom:  color.RGBA{204, 121, 167, 255}, // purple
}

// Draw renders the chart of s's days: above, the reports received per
// day, stacked by kind; below, the median and 90th percentile time to
// resolve the cases received each day.
func Draw(s notice.Stats) (Chart, error) {
	days := len(s.Days)
	if days == 0 {
		return Chart{}, fmt.Errorf("stats: no day to chart")
	}
	received, err := receivedPlot(s)
	if err != nil {
		return Chart{}, err
	}
	resolve, err := resolvePlot(s)
	if err != nil {
		return Chart{}, err
	}
	ticks := dayTicks(s.Days)
	for _, p := range []*plot.Plot{received, resolve} {
		p.X.Min, p.X.Max = -0.6, float64(days)-0.4
		p.X.Tick.Marker = ticks
		p.Y.Min = 0
		p.Add(plotter.NewGrid())
		p.Title.TextStyle.Font.Size = vg.Points(13)
		p.Legend.Top, p.Legend.Left = true, true
		p.Legend.TextStyle.Font.Size = vg.Points(11)
	}
	w, h := vg.Length(ChartWidth)*vg.Inch/chartDPI, vg.Length(ChartHeight)*vg.Inch/chartDPI
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(chartDPI), vgimg.UseBackgroundColor(color.White))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadTop: vg.Points(6), PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(12), PadY: vg.Points(14)}
	plots := [][]*plot.Plot{{received}, {resolve}}
	canvases := plot.Align(plots, tiles, dc)
	for i, row := range plots {
		row[0].Draw(canvases[i][0])
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return Chart{}, err
	}
	b := img.Image().Bounds()
	return Chart{PNG: buf.Bytes(), Width: b.Dx(), Height: b.Dy()}, nil
}

// receivedPlot is the reports received per day, a bar per day with a
// part per kind.
func receivedPlot(s notice.Stats) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Reports received per day"
	p.Y.Label.Text = "reports"
	width := min(vg.Points(24), vg.Points(440/float64(len(s.Days))))
	var below *plotter.BarChart
	most := 0
	for i := range s.Days {
		n := 0
		for _, c := range s.Days[i].Received {
			n += c
		}
		most = max(most, n)
	}
	for _, kind := range []mxid.ReportKind{mxid.KindEvent, mxid.KindUser, mxid.KindRoom} {
		values := make(plotter.Values, len(s.Days))
		for i, d := range s.Days {
			values[i] = float64(d.Received[kind])
		}
		bars, err := plotter.NewBarChart(values, width)
		if err != nil {
			return nil, err
		}
		bars.Color, bars.LineStyle.Width = kindColors[kind], 0
		if below != nil {
			bars.StackOn(below)
		}
		below = bars
		p.Add(bars)
		p.Legend.Add(string(kind)+" reports", bars)
	}
	// Room for the legend above the highest bar, and whole reports only.
	p.Y.Max = float64(max(most, 4)) * 1.3
	p.Y.Tick.Marker = wholeTicks{}
	return p, nil
}

// resolvePlot is the median and 90th percentile time to resolve, per day
// the cases were received, in hours or minutes; days without a closed
// case have no point.
func resolvePlot(s notice.Stats) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Time to resolve, by day received"
	var longest time.Duration
	for _, d := range s.Days {
		longest = max(longest, d.Resolve.P90)
	}
	unit, name := time.Hour, "hours"
	if longest < 2*time.Hour {
		unit, name = time.Minute, "minutes"
	}
	p.Y.Label.Text = name
	var median, p90 plotter.XYs
	for i, d := range s.Days {
		if d.Resolve.N == 0 {
			continue
		}
		median = append(median, plotter.XY{X: float64(i), Y: float64(d.Resolve.Median) / float64(unit)})
		p90 = append(p90, plotter.XY{X: float64(i), Y: float64(d.Resolve.P90) / float64(unit)})
	}
	p.Y.Max = max(float64(longest)/float64(unit)*1.3, 1)
	p.Y.Tick.Marker = wholeTicks{}
	if len(median) == 0 {
		p.Title.Text += " (no case resolved)"
		return p, nil
	}
	for _, l := range []struct {
		xys   plotter.XYs
		label string
		color color.Color
		dash  []vg.Length
	}{
		{p90, "90% of cases within", color.RGBA{213, 94, 0, 255}, []vg.Length{vg.Points(4), vg.Points(3)}},
		{median, "median", color.RGBA{0, 158, 115, 255}, nil},
	} {
		line, points, err := plotter.NewLinePoints(l.xys)
		if err != nil {
			return nil, err
		}
		line.Color, line.Width, line.Dashes = l.color, vg.Points(2), l.dash
		points.Color, points.Shape, points.Radius = l.color, draw.CircleGlyph{}, vg.Points(2.5)
		p.Add(line, points)
		p.Legend.Add(l.label, line, points)
	}
	return p, nil
}

// dayTicks labels the days: every one in a week, fewer in a longer
// window (at most about 10 labels), each day still marked.
func dayTicks(days []notice.StatsDay) plot.ConstantTicks {
	every := max(1, (len(days)+9)/10)
	var ticks plot.ConstantTicks
	for i, d := range days {
		label := ""
		if i%every == 0 {
			label = d.Day.Format("Mon 2 Jan")
			if every > 1 {
				label = d.Day.Format("2 Jan")
			}
		}
		ticks = append(ticks, plot.Tick{Value: float64(i), Label: label})
	}
	return ticks
}

// wholeTicks marks whole numbers only: reports come whole.
type wholeTicks struct{}

func (wholeTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for _, t := range (plot.DefaultTicks{}).Ticks(lo, hi) {
		if t.Label == "" {
			ticks = append(ticks, t)
		} else if t.Value == math.Trunc(t.Value) {
			t.Label = strconv.Itoa(int(t.Value))
			ticks = append(ticks, t)
		}
	}
	return ticks
}
