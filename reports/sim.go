package reports

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Sim is what the HTML report of a fleet simulation (mqttspec sim) shows:
// the simulator fills it from its result (one shard or shards merged), so
// that this package renders a model and knows nothing of the simulator's
// sockets or accounting. Latencies are in microseconds from the intended
// send time.
type Sim struct {
	Tool     ToolInfo
	Scenario string
	Target   string
	MQTT     string
	Seed     uint64
	// Shard is "i/n", or for merged results the shards held ("0,1,2/3");
	// MissingShards lists the fleet's shards the result lacks.
	Shard         string
	MissingShards []string
	Runs          []string
	Started       time.Time
	// PublishSeconds is the publishing phase, ElapsedSeconds the whole run.
	PublishSeconds, ElapsedSeconds float64
	Nodes, FleetNodes, Homes       int
	Observers                      int
	// Complete: the accounting covers the whole run; Failure says why not.
	Complete bool
	Failure  string
	// Drained: every QoS 1/2 message was acknowledged and delivered before
	// the drain's bound.
	Drained bool
	// Verdict is the one-line conclusion; Violations > 0 marks it failed.
	Verdict    string
	Violations uint64

	Connects, ConnectFailures, Disconnects int64
	AllConnectedSeconds                    float64

	Accounting []SimTally
	// Latency has one row per QoS and, last, one for all of them.
	Latency []SimLatency
	// Notes are further counts worth a line each ("12 publishes skipped
	// while disconnected").
	Notes    []string
	Errors   []SimError
	Timeline []SimSample
}

// SimTally is the accounting of one QoS level.
type SimTally struct {
	QoS                                             int
	Sent, Expected, Received, Lost                  uint64
	Duplicates, Reordered, Abandoned, Unacked, Late uint64
}

// SimLatency is a latency distribution (µs).
type SimLatency struct {
	Label                           string // "QoS 1", "all"
	Count                           int64
	P50, P90, P99, P999, P9999, Max int64
}

// SimError is an error message and how often it happened.
type SimError struct {
	Message string
	Count   int64
}

// SimSample is one point of the timeline.
type SimSample struct {
	T              float64 // seconds since the start
	Connected      int64
	SentPerSec     float64
	ReceivedPerSec float64
	P99us          int64
}

var simTmpl = template.Must(template.New("sim.html.tmpl").Funcs(tmplFuncs).
	ParseFS(templatesFS, "templates/common.html.tmpl", "templates/sim.html.tmpl"))

// WriteSimHTML writes the simulation report as one self-contained HTML page:
// inline CSS, plots as inline SVG, no script and no network access.
func WriteSimHTML(w io.Writer, s *Sim) error {
	if err := simTmpl.Execute(w, newSimView(s)); err != nil {
		return fmt.Errorf("reports: writing the simulation HTML report: %w", err)
	}
	return nil
}

type simView struct {
	*Sim
	Title       string
	ResultClass string
	Result      string
	Percentiles []simPercentileRow
	Rows        []simTallyRow
	QoS0Lost    uint64
	QoS12Lost   uint64
	RateChart   template.HTML
	LatChart    template.HTML
	ConnChart   template.HTML
}

type simPercentileRow struct {
	Label string
	Count int64
	Cells []string // ms
}

type simTallyRow struct {
	SimTally
	LostClass string // "ok", "allowed" or "violation"
}

func newSimView(s *Sim) simView {
	v := simView{Sim: s, Title: fmt.Sprintf("mqttspec sim: %s, %d devices against %s", s.Scenario, s.Nodes, s.Target)}
	switch {
	case !s.Complete:
		v.Result, v.ResultClass = "INCOMPLETE", "fail"
	case s.Violations > 0:
		v.Result, v.ResultClass = "VIOLATIONS", "fail"
	default:
		v.Result, v.ResultClass = "OK", "pass"
	}
	for _, l := range s.Latency {
		row := simPercentileRow{Label: l.Label, Count: l.Count}
		for _, us := range []int64{l.P50, l.P90, l.P99, l.P999, l.P9999, l.Max} {
			if l.Count == 0 {
				row.Cells = append(row.Cells, "–")
				continue
			}
			row.Cells = append(row.Cells, millis(us))
		}
		v.Percentiles = append(v.Percentiles, row)
	}
	for _, t := range s.Accounting {
		r := simTallyRow{SimTally: t, LostClass: "ok"}
		if t.QoS == 0 {
			v.QoS0Lost += t.Lost
			if t.Lost > 0 {
				r.LostClass = "allowed"
			}
		} else {
			v.QoS12Lost += t.Lost
			if t.Lost > 0 {
				r.LostClass = "violation"
			}
		}
		v.Rows = append(v.Rows, r)
	}
	var sent, recv, p99, conn []chartPoint
	for _, p := range s.Timeline {
		sent = append(sent, chartPoint{p.T, p.SentPerSec})
		recv = append(recv, chartPoint{p.T, p.ReceivedPerSec})
		conn = append(conn, chartPoint{p.T, float64(p.Connected)})
		if p.P99us > 0 { // 0: nothing arrived in the interval, no latency to show
			p99 = append(p99, chartPoint{p.T, float64(p.P99us) / 1000})
		}
	}
	v.RateChart = lineChart("Message rate", "messages/s", []chartSeries{
		{Name: "sent", Class: "s-sent", Points: sent}, {Name: "received by observers", Class: "s-recv", Points: recv}})
	v.LatChart = lineChart("Latency, 99th percentile of each interval", "ms", []chartSeries{
		{Name: "p99 latency", Class: "s-lat", Points: p99}})
	v.ConnChart = lineChart("Connected devices", "devices", []chartSeries{
		{Name: "connected", Class: "s-conn", Points: conn}})
	return v
}

func millis(us int64) string { return strconv.FormatFloat(float64(us)/1000, 'f', 2, 64) }

type chartPoint struct{ X, Y float64 }

type chartSeries struct {
	Name, Class string
	Points      []chartPoint
}

// Chart geometry (SVG user units).
const (
	chartW, chartH                 = 760, 240
	chartLeft, chartRight          = 64, 16
	chartTop, chartBottom          = 26, 40
	chartPlotW, chartPlotH float64 = chartW - chartLeft - chartRight, chartH - chartTop - chartBottom
)

// lineChart draws series over time (x in seconds) as an inline SVG with
// axes, gridlines and a legend. Every value is a number formatted here, so
// the markup cannot carry anything from the input but the escaped names.
func lineChart(title, unit string, series []chartSeries) template.HTML {
	var maxX, maxY float64
	n := 0
	for _, s := range series {
		for _, p := range s.Points {
			if math.IsNaN(p.Y) || math.IsInf(p.Y, 0) {
				continue
			}
			maxX, maxY = math.Max(maxX, p.X), math.Max(maxY, p.Y)
			n++
		}
	}
	var b strings.Builder
	esc := template.HTMLEscapeString
	fmt.Fprintf(&b, `<figure class="chart"><svg viewBox="0 0 %d %d" role="img" aria-label="%s">`,
		chartW, chartH, esc(title+" ("+unit+") over time"))
	fmt.Fprintf(&b, `<title>%s</title>`, esc(title))
	if n == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="axis">no samples</text></svg><figcaption>%s</figcaption></figure>`,
			chartW/2-30, chartH/2, esc(title))
		return template.HTML(b.String())
	}
	xStep := niceStep(maxX / 6)
	xMax := math.Max(xStep, math.Ceil(maxX/xStep)*xStep)
	yStep := niceStep(maxY / 4)
	yMax := math.Max(yStep, math.Ceil(maxY/yStep)*yStep)
	px := func(x float64) float64 { return chartLeft + x/xMax*chartPlotW }
	py := func(y float64) float64 { return chartTop + chartPlotH - y/yMax*chartPlotH }
	for y := 0.0; y <= yMax+yStep/2; y += yStep {
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%.1f" y1="%.1f" y2="%.1f"/>`, chartLeft, chartLeft+chartPlotW, py(y), py(y))
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%.1f" text-anchor="end">%s</text>`, chartLeft-6, py(y)+4, tickLabel(y))
	}
	for x := 0.0; x <= xMax+xStep/2; x += xStep {
		fmt.Fprintf(&b, `<line class="tick" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>`, px(x), px(x), py(0), py(0)+4)
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%.1f" text-anchor="middle">%ss</text>`, px(x), py(0)+17, tickLabel(x))
	}
	fmt.Fprintf(&b, `<text class="axis unit" x="%d" y="%d">%s</text>`, 4, 12, esc(unit))
	fmt.Fprintf(&b, `<line class="axisline" x1="%d" x2="%d" y1="%d" y2="%.1f"/>`, chartLeft, chartLeft, chartTop, py(0))
	fmt.Fprintf(&b, `<line class="axisline" x1="%d" x2="%.1f" y1="%.1f" y2="%.1f"/>`, chartLeft, chartLeft+chartPlotW, py(0), py(0))
	lx := float64(chartLeft + 8)
	for _, s := range series {
		var path strings.Builder
		for i, p := range s.Points {
			if math.IsNaN(p.Y) || math.IsInf(p.Y, 0) {
				continue
			}
			cmd := 'L'
			if i == 0 || path.Len() == 0 {
				cmd = 'M'
			}
			fmt.Fprintf(&path, "%c%.1f %.1f", cmd, px(p.X), py(p.Y))
		}
		fmt.Fprintf(&b, `<path class="series %s" d="%s"><title>%s</title></path>`, esc(s.Class), path.String(), esc(s.Name))
		if len(s.Points) == 1 {
			p := s.Points[0]
			fmt.Fprintf(&b, `<circle class="series %s" cx="%.1f" cy="%.1f" r="3"/>`, esc(s.Class), px(p.X), py(p.Y))
		}
		ly := float64(chartH - 8)
		fmt.Fprintf(&b, `<line class="series %s" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>`, esc(s.Class), lx, lx+20, ly-4, ly-4)
		fmt.Fprintf(&b, `<text class="legend" x="%.1f" y="%.1f">%s</text>`, lx+24, ly, esc(s.Name))
		lx += 24 + 7*float64(len([]rune(s.Name))) + 24
	}
	fmt.Fprintf(&b, `</svg><figcaption>%s</figcaption></figure>`, esc(title))
	return template.HTML(b.String())
}

// niceStep rounds a raw axis step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 || math.IsNaN(raw) || math.IsInf(raw, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func tickLabel(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 4, 64) + "M"
	case v >= 1e4:
		return strconv.FormatFloat(v/1e3, 'g', 4, 64) + "k"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}
