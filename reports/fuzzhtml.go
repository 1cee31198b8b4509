package reports

import (
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
	"time"
)

// Fuzz is what the HTML summary of a network fuzzing run (mqttspec fuzz)
// shows. The fuzzer fills it from its summary and findings, so that this
// package renders a model and knows nothing of mutators or oracles.
type Fuzz struct {
	Tool    ToolInfo
	Target  string
	Seed    uint64
	Shard   string // "i/n" for one shard of a campaign
	Workers int
	Started time.Time
	Seconds float64

	Executions     int64
	ExecsPerSecond float64
	Corpus         int // inputs kept
	Behaviours     int // distinct broker behaviours seen
	StoppedBecause string
	Restarts       int

	// ExecsByPacketType counts the executions that sent each packet type;
	// Mutations the executions each mutated field (mutator) changed;
	// PacketsSent, Responses and Ends are further counters.
	ExecsByPacketType []FuzzCount
	Mutations         []FuzzCount
	PacketsSent       []FuzzCount
	Responses         []FuzzCount
	Ends              []FuzzCount

	Memory   *FuzzMemory
	Findings []FuzzFinding
}

// FuzzCount is one counter.
type FuzzCount struct {
	Name  string
	Count int64
}

// FuzzCounts turns a counter map into rows, the largest first.
func FuzzCounts(m map[string]int64) []FuzzCount {
	out := make([]FuzzCount, 0, len(m))
	for k, v := range m {
		out = append(out, FuzzCount{Name: k, Count: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// FuzzMemory is a container's memory over the run.
type FuzzMemory struct {
	BoundBytes uint64
	Note       string
	Samples    []FuzzMemorySample
}

// FuzzMemorySample is one reading.
type FuzzMemorySample struct {
	AtSeconds float64
	Bytes     uint64
	Restarts  int
}

// FuzzFinding is one finding with its evidence.
type FuzzFinding struct {
	ID, Oracle string
	Statement  string // the rule a spec violation breaks
	Detail     string
	// File is the reproducer, as a link relative to the report.
	File        string
	Execution   int64
	Worker      int
	Version     string
	Mutations   []string
	Occurrences int
	// Preceding counts the connections the reproducer sends first.
	Preceding   int
	Packets     []FuzzPacket
	Responses   []FuzzPacket
	End         string
	Health      string
	TargetState string
	Restart     string
	LogTail     string
	Memory      *FuzzMemory
}

// FuzzPacket is one packet: its bytes and the codec's reading of them.
type FuzzPacket struct {
	Hex     string
	Summary string
	Fields  string // the decoded fields (JSON)
	Error   string // why the codec rejects it
	At      string // responses: when it came, after the input was written
}

var fuzzTmpl = template.Must(template.New("fuzz.html.tmpl").Funcs(tmplFuncs).Funcs(template.FuncMap{
	"bytes":  fuzzBytes,
	"pct":    func(n, of int64) string { return fuzzPct(n, of) },
	"num":    func(n int64) string { return fuzzNum(n) },
	"secs":   func(s float64) string { return fmt.Sprintf("%.1f s", s) },
	"memory": fuzzMemoryChart,
}).ParseFS(templatesFS, "templates/common.html.tmpl", "templates/fuzz.html.tmpl"))

// WriteFuzzHTML writes the fuzzing summary as one self-contained HTML page
// (inline CSS and SVG, no script, no network access): the run's figures,
// executions per packet type and per mutated field, the memory samples, and
// the findings table linking to each finding's evidence (packets as hex and
// decoded, the broker's answers, the oracle's verdict, the log tail) and to
// its reproducer file.
//
// Stable hooks for tools: <body data-report="fuzz">, #figures
// [data-executions], tr.finding[data-oracle] with id "finding-<ID>" linking
// to section#detail-<ID>.
func WriteFuzzHTML(w io.Writer, f *Fuzz) error {
	if err := fuzzTmpl.Execute(w, fuzzView{Fuzz: f, Title: "mqttspec fuzz: " + f.Target}); err != nil {
		return fmt.Errorf("reports: writing the fuzzing HTML summary: %w", err)
	}
	return nil
}

type fuzzView struct {
	*Fuzz
	Title string
}

// Result is the headline verdict.
func (v fuzzView) Result() (string, string) {
	if len(v.Findings) > 0 {
		return fmt.Sprintf("%d FINDING(S)", len(v.Findings)), "fail"
	}
	return "NO FINDINGS", "pass"
}

func (v fuzzView) ResultText() string  { s, _ := v.Result(); return s }
func (v fuzzView) ResultClass() string { _, c := v.Result(); return c }

func fuzzBytes(b uint64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%d B", b)
	}
	div, exp := uint64(unit), 0
	for n := b / unit; n >= unit && exp < 4; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(b)/float64(div), "KMGTP"[exp])
}

func fuzzPct(n, of int64) string {
	if of <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f %%", 100*float64(n)/float64(of))
}

// fuzzNum groups digits by thousands: 1,234,567.
func fuzzNum(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// fuzzMemoryChart draws the samples as an inline SVG line (MiB over
// seconds). Only numbers formatted here go into the markup.
func fuzzMemoryChart(m *FuzzMemory) template.HTML {
	if m == nil || len(m.Samples) < 2 {
		return ""
	}
	const w, h, left, bottom = 640.0, 160.0, 56.0, 24.0
	var maxX, maxY float64
	for _, s := range m.Samples {
		maxX = max(maxX, s.AtSeconds)
		maxY = max(maxY, float64(s.Bytes)/(1<<20))
	}
	if maxX <= 0 {
		maxX = 1
	}
	if maxY <= 0 {
		maxY = 1
	}
	px := func(x float64) float64 { return left + x/maxX*(w-left-8) }
	py := func(y float64) float64 { return 8 + (h-bottom-8)*(1-y/maxY) }
	var pts strings.Builder
	for _, s := range m.Samples {
		fmt.Fprintf(&pts, "%.1f,%.1f ", px(s.AtSeconds), py(float64(s.Bytes)/(1<<20)))
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<figure class="chart"><svg viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="memory over the run">`, w, h, w, h)
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="currentColor" stroke-opacity=".4"/>`, left, py(0), w-8, py(0))
	fmt.Fprintf(&b, `<line x1="%.0f" y1="8" x2="%.0f" y2="%.1f" stroke="currentColor" stroke-opacity=".4"/>`, left, left, py(0))
	fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" font-size="11" text-anchor="end" fill="currentColor">%.1f MiB</text>`, left-4, py(maxY)+4, maxY)
	fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" font-size="11" text-anchor="end" fill="currentColor">0</text>`, left-4, py(0)+4)
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-size="11" text-anchor="end" fill="currentColor">%.0f s</text>`, w-8, h-6, maxX)
	fmt.Fprintf(&b, `<polyline fill="none" stroke="#0969da" stroke-width="2" points="%s"/>`, strings.TrimSpace(pts.String()))
	b.WriteString(`</svg><figcaption>Memory (MiB) over the run's seconds</figcaption></figure>`)
	return template.HTML(b.String())
}
