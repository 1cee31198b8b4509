package reports

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"
)

//go:embed templates/conformance.html.tmpl
var templatesFS embed.FS

var conformanceTmpl = template.Must(template.New("conformance.html.tmpl").ParseFS(templatesFS, "templates/conformance.html.tmpl"))

// WriteHTML writes c as one self-contained HTML page: inline CSS and a small
// inline script, no network access. The page works without JavaScript: a
// header with the target and the counts per verdict and per MQTT version, a
// table of all specs in which every failing (and non-strict) spec is expanded
// with its evidence and decoded wire trace, and the broker logs in a
// <details>. With JavaScript, a filter box (verdict, version, free text)
// narrows the table. Everything is escaped by html/template.
func WriteHTML(w io.Writer, c *Conformance) error {
	if err := conformanceTmpl.Execute(w, newHTMLView(c)); err != nil {
		return fmt.Errorf("reports: writing HTML: %w", err)
	}
	return nil
}

type htmlView struct {
	Title        string
	Tool         ToolInfo
	Target       TargetInfo
	Versions     string
	Strict       bool
	Start, End   string
	Duration     string
	Result       string // "PASS" or "FAIL"
	ResultClass  string
	Total        int
	Verdicts     []htmlCount // every verdict, in order, with its count
	VersionRows  []htmlCountRow
	AreaRows     []htmlCountRow
	Capabilities []htmlKV
	Failing      []htmlSpec // fail (and non-strict) specs, for the recap links
	Specs        []htmlSpec
	Logs         string
}

type htmlCount struct {
	Verdict Verdict
	Count   int
}

type htmlCountRow struct {
	Label  string
	Counts []int // per Verdicts
	Total  int
}

type htmlKV struct{ Key, Value string }

type htmlSpec struct {
	Spec
	Anchor       string
	VersionKey   string // data-version value: "3.1.1", "5.0" or "any"
	VersionLabel string
	AreaLabel    string
	CaseName     string
	DurationText string
	Failing      bool // counts against the run (fail, or non-strict when strict)
	HasDetail    bool
	Open         bool // detail shown expanded
	TraceRows    []htmlTraceRow
}

type htmlTraceRow struct {
	Offset, Dir, Arrow, Client, Summary, Hex string
}

func newHTMLView(c *Conformance) htmlView {
	sum := c.Summary()
	v := htmlView{
		Tool:     c.Tool,
		Target:   c.Target,
		Versions: strings.Join(c.Versions, ", "),
		Strict:   c.Strict,
		Total:    sum.Total,
		Logs:     c.Logs,
	}
	v.Target.URL = RedactURL(v.Target.URL)
	if v.Tool.Name == "" {
		v.Tool.Name = "mqttspec"
	}
	target := c.Target.Name
	if target == "" {
		target = v.Target.URL
	}
	v.Title = "MQTT conformance"
	if target != "" {
		v.Title += ": " + target
	}
	if !c.Start.IsZero() {
		v.Start = c.Start.Format(time.RFC3339)
	}
	if !c.End.IsZero() {
		v.End = c.End.Format(time.RFC3339)
	}
	if !c.Start.IsZero() && !c.End.IsZero() {
		v.Duration = humanDuration(c.End.Sub(c.Start))
	}
	if c.ExitCode(c.Strict) == 0 {
		v.Result, v.ResultClass = "PASS", "pass"
	} else {
		v.Result, v.ResultClass = "FAIL", "fail"
	}
	for _, vd := range Verdicts {
		v.Verdicts = append(v.Verdicts, htmlCount{vd, sum.ByVerdict[vd]})
	}
	row := func(label string, cs Counts) htmlCountRow {
		r := htmlCountRow{Label: label, Total: cs.Total()}
		for _, vd := range Verdicts {
			r.Counts = append(r.Counts, cs[vd])
		}
		return r
	}
	for _, k := range sum.VersionKeys() {
		v.VersionRows = append(v.VersionRows, row(versionLabel(k), sum.ByVersion[k]))
	}
	for _, k := range sum.AreaKeys() {
		v.AreaRows = append(v.AreaRows, row(areaLabel(k), sum.ByArea[k]))
	}
	capKeys := make([]string, 0, len(c.Capabilities))
	for k := range c.Capabilities {
		capKeys = append(capKeys, k)
	}
	slices.Sort(capKeys)
	for _, k := range capKeys {
		v.Capabilities = append(v.Capabilities, htmlKV{k, capabilityText(c.Capabilities[k])})
	}
	for _, sp := range c.Specs {
		hs := newHTMLSpec(sp, c.Strict)
		v.Specs = append(v.Specs, hs)
		if sp.Verdict == VerdictFail || sp.Verdict == VerdictNonStrict {
			v.Failing = append(v.Failing, hs)
		}
	}
	return v
}

func newHTMLSpec(sp Spec, strict bool) htmlSpec {
	hs := htmlSpec{
		Spec:         sp,
		Anchor:       "spec-" + sp.ID,
		VersionKey:   sp.MQTTVersion,
		VersionLabel: versionLabel(sp.MQTTVersion),
		AreaLabel:    areaLabel(sp.Area),
		CaseName:     CaseName(sp),
		DurationText: humanDuration(sp.Duration),
		Failing:      sp.Verdict.Failing(strict),
	}
	if hs.VersionKey == "" {
		hs.VersionKey = "any"
	}
	hs.Open = sp.Verdict == VerdictFail || sp.Verdict == VerdictNonStrict
	hs.HasDetail = hs.Open || sp.Requirement != "" || sp.Expected != "" || sp.Observed != "" ||
		sp.Message != "" || len(sp.Trace) > 0 || sp.Logs != "" || len(sp.Notes) > 0
	for _, e := range sp.Trace {
		row := htmlTraceRow{
			Offset:  traceOffset(sp.Trace[0].At, e.At),
			Dir:     e.Dir,
			Client:  e.Client,
			Summary: e.Summary,
			Hex:     spacedHex(e.Hex),
		}
		switch e.Dir {
		case DirSend:
			row.Arrow = "→"
		case DirRecv:
			row.Arrow = "←"
		default:
			row.Arrow = "•"
		}
		hs.TraceRows = append(hs.TraceRows, row)
	}
	return hs
}

func versionLabel(v string) string {
	if v == "" {
		return "any"
	}
	return v
}

func areaLabel(a string) string {
	if a == "" {
		return "(no area)"
	}
	return a
}

func capabilityText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// spacedHex groups a hex string into bytes: "300d00" -> "30 0d 00". Strings
// that are not plain even-length hex are returned unchanged.
func spacedHex(h string) string {
	if len(h) < 4 || len(h)%2 != 0 || strings.ContainsFunc(h, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F')
	}) {
		return h
	}
	var b strings.Builder
	b.Grow(len(h) * 3 / 2)
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

func humanDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.2fs", d.Seconds())
	default:
		return d.Round(time.Second).String()
	}
}
