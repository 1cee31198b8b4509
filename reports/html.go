package reports

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"
)

//go:embed templates/*.tmpl
var templatesFS embed.FS

// The page's CSS and script are shared by the conformance report and the
// matrix, so both are defined once in templates/common.html.tmpl.
var (
	conformanceTmpl = template.Must(template.New("conformance.html.tmpl").Funcs(tmplFuncs).
			ParseFS(templatesFS, "templates/common.html.tmpl", "templates/conformance.html.tmpl"))
	matrixTmpl = template.Must(template.New("matrix.html.tmpl").Funcs(tmplFuncs).
			ParseFS(templatesFS, "templates/common.html.tmpl", "templates/matrix.html.tmpl"))
)

var tmplFuncs = template.FuncMap{
	"verdictTitle": func(v Verdict) string { return verdictTitles[v] },
}

// verdictTitles explain each verdict in a tooltip.
var verdictTitles = map[Verdict]string{
	VerdictPass:          "every statement the spec checks held",
	VerdictFail:          "a MUST-level statement is broken",
	VerdictNonStrict:     "a SHOULD-level statement is broken (fails only with --strict)",
	VerdictInformational: "an optional (MAY) behaviour, recorded",
	VerdictUnsupported:   "the target does not offer the feature",
	VerdictBrokerDown:    "the target was down",
	VerdictSkipped:       "not run",
	"":                   "not in this run",
}

// Limits that keep a report light enough for a CI artifact viewer. The JSON
// report keeps everything.
const (
	// htmlRunLogLines bounds the run's broker log shown at the end of the
	// page (its tail).
	htmlRunLogLines = 800
	// htmlTraceEntries bounds the wire trace shown per spec (its start and
	// its end are kept).
	htmlTraceEntries = 200
)

// WriteHTML writes c as one self-contained HTML page: inline CSS and a small
// inline script, no network access. Without JavaScript the page is complete:
// the header with the target, the counts per verdict, version and area, the
// statement coverage, the failures recap, the specs grouped by area (every
// failing spec expanded with its requirement, expected and observed
// behaviour, decoded wire trace and the broker's log lines of its time
// window), the by-statement view and the broker's log. With JavaScript,
// filters (verdict, version, area, free text) narrow the spec table.
//
// Wire traces are embedded for specs that did not pass only; long logs are
// cut to their latest lines (the JSON report keeps them whole). Everything is
// escaped by html/template.
//
// Stable hooks for tools (and the browser test): <body data-report=
// "conformance">, #counts li[data-verdict][data-count], #counts[data-total],
// tr.spec[data-verdict][data-version][data-area] with id "spec-<ID>",
// #visible-count[data-visible], the filter controls #f-verdict, #f-version,
// #f-area, #f-text, and body[data-ready] once the script has run.
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
	Coverage     []htmlCoverage
	CoverageNote string
	Capabilities []htmlKV
	Observed     []htmlCapability
	Failing      []htmlSpec // fail (and non-strict) specs, for the recap links
	Areas        []htmlArea
	Statements   []htmlStatement
	Uncovered    []htmlStatement // catalogue statements no spec cites (wire-testable only)
	Specs        int
	Logs         string
	LogsOmitted  int
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

type htmlCapability struct {
	Name, Value, Source, Version string
}

// htmlCoverage is the statement coverage of one MQTT version.
type htmlCoverage struct {
	Version string
	// Cited: distinct statements the run's specs cite.
	Cited int
	// Catalogue figures; zero without a catalogue in the model.
	Catalogue, Wire, WireCited int
	Percent                    string
	// ByVerdict: the cited statements per worst verdict of their specs.
	ByVerdict []htmlCount
}

type htmlArea struct {
	Key    string // data-area value
	Label  string
	Counts []htmlCount // non-zero verdicts only
	Specs  []htmlSpec
}

type htmlStatement struct {
	Anchor       string
	ID           string
	Version      string
	VersionKey   string
	Level        string
	Section      string
	Text         string
	Verdict      Verdict // worst verdict of the citing specs
	Specs        []htmlSpecLink
	WireTestable bool
}

type htmlSpecLink struct {
	Anchor  string
	Verdict Verdict
	Name    string
}

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
	StmtLinks    []htmlStmtLink
	TraceRows    []htmlTraceRow
	TraceOmitted int
	Excerpt      *htmlExcerpt
}

type htmlStmtLink struct {
	Anchor, ID, Level string
}

type htmlTraceRow struct {
	Offset, Dir, Arrow, Client, Summary, Hex string
}

type htmlExcerpt struct {
	Method  string
	Range   string // "00:12:01.123 – 00:12:01.456 UTC" for a window
	Lines   []htmlLogLine
	Omitted int
}

// htmlLogLine is one log line; Mine marks a line naming one of the spec's
// own MQTT clients, so that a reader finds them among a busy broker's lines.
type htmlLogLine struct {
	Text string
	Mine bool
}

func newHTMLView(c *Conformance) htmlView {
	sum := c.Summary()
	v := htmlView{
		Tool:     c.Tool,
		Target:   c.Target,
		Versions: strings.Join(c.Versions, ", "),
		Strict:   c.Strict,
		Total:    sum.Total,
		Specs:    len(c.Specs),
	}
	v.Logs, v.LogsOmitted = tailLines(c.Logs, htmlRunLogLines)
	v.Target.URL = RedactURL(v.Target.URL)
	if v.Tool.Name == "" {
		v.Tool.Name = "mqttspec"
	}
	v.Title = "MQTT conformance"
	if t := targetLabel(c); t != "" {
		v.Title += ": " + t
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
	v.Capabilities, v.Observed = capabilityViews(c)

	areaIndex := map[string]int{}
	for _, sp := range c.Specs {
		hs := newHTMLSpec(sp, c.Strict, c.Logs)
		if sp.Verdict == VerdictFail || sp.Verdict == VerdictNonStrict {
			v.Failing = append(v.Failing, hs)
		}
		i, ok := areaIndex[sp.Area]
		if !ok {
			i = len(v.Areas)
			areaIndex[sp.Area] = i
			v.Areas = append(v.Areas, htmlArea{Key: areaKey(sp.Area), Label: areaLabel(sp.Area)})
		}
		v.Areas[i].Specs = append(v.Areas[i].Specs, hs)
	}
	for i := range v.Areas {
		for _, vd := range Verdicts {
			if n := sum.ByArea[v.Areas[i].Specs[0].Area][vd]; n > 0 {
				v.Areas[i].Counts = append(v.Areas[i].Counts, htmlCount{vd, n})
			}
		}
	}
	v.Statements, v.Uncovered, v.Coverage = statementViews(c)
	if len(c.Catalogue) == 0 {
		v.CoverageNote = "This report carries no statement catalogue: coverage counts the statements the specs cite."
	}
	return v
}

// targetLabel is the short name of a run's target for titles and columns.
func targetLabel(c *Conformance) string {
	switch {
	case c.Target.Name != "":
		return c.Target.Name
	case c.Target.Profile != "":
		return c.Target.Profile
	}
	return RedactURL(c.Target.URL)
}

func capabilityViews(c *Conformance) ([]htmlKV, []htmlCapability) {
	capKeys := make([]string, 0, len(c.Capabilities))
	for k := range c.Capabilities {
		capKeys = append(capKeys, k)
	}
	slices.Sort(capKeys)
	var kv []htmlKV
	for _, k := range capKeys {
		kv = append(kv, htmlKV{k, capabilityText(c.Capabilities[k])})
	}
	var obs []htmlCapability
	for _, o := range c.Observed {
		obs = append(obs, htmlCapability{Name: o.Name, Value: capabilityText(o.Value), Source: o.Source, Version: o.MQTTVersion})
	}
	return kv, obs
}

// verdictRank orders verdicts from worst to best for summarising several
// specs (a statement, a matrix cell): one failure makes the whole fail.
func verdictRank(v Verdict) int {
	switch v {
	case VerdictFail:
		return 0
	case VerdictBrokerDown:
		return 1
	case VerdictNonStrict:
		return 2
	case VerdictPass:
		return 3
	case VerdictInformational:
		return 4
	case VerdictUnsupported:
		return 5
	case VerdictSkipped:
		return 6
	}
	return 7
}

// worse returns the worse of two verdicts ("" counts as nothing).
func worse(a, b Verdict) Verdict {
	if a == "" {
		return b
	}
	if b == "" {
		return a
	}
	if verdictRank(b) < verdictRank(a) {
		return b
	}
	return a
}

func statementAnchor(version, id string) string {
	return "st-" + versionLabel(version) + "-" + id
}

// statementViews builds the by-statement view, the uncovered catalogue
// statements and the coverage figures per version.
func statementViews(c *Conformance) (stmts, uncovered []htmlStatement, cov []htmlCoverage) {
	type key struct{ version, id string }
	idx := map[key]int{}
	for _, sp := range c.Specs {
		for _, st := range sp.Statements {
			k := key{sp.MQTTVersion, st.ID}
			i, ok := idx[k]
			if !ok {
				i = len(stmts)
				idx[k] = i
				stmts = append(stmts, htmlStatement{
					Anchor: statementAnchor(sp.MQTTVersion, st.ID), ID: st.ID,
					Version: versionLabel(sp.MQTTVersion), VersionKey: versionLabel(sp.MQTTVersion), Level: st.Level,
				})
			}
			stmts[i].Verdict = worse(stmts[i].Verdict, sp.Verdict)
			stmts[i].Specs = append(stmts[i].Specs, htmlSpecLink{Anchor: "spec-" + sp.ID, Verdict: sp.Verdict, Name: sp.Name})
		}
	}
	catPos := map[key]int{}
	for i, cs := range c.Catalogue {
		k := key{cs.MQTTVersion, cs.ID}
		catPos[k] = i
		if j, ok := idx[k]; ok {
			stmts[j].Section, stmts[j].Text, stmts[j].WireTestable = cs.Section, cs.Text, cs.WireTestable
			if stmts[j].Level == "" {
				stmts[j].Level = cs.Level
			}
		} else if cs.WireTestable {
			uncovered = append(uncovered, htmlStatement{
				Anchor: statementAnchor(cs.MQTTVersion, cs.ID), ID: cs.ID, Version: versionLabel(cs.MQTTVersion),
				VersionKey: versionLabel(cs.MQTTVersion), Level: cs.Level, Section: cs.Section, Text: cs.Text, WireTestable: true,
			})
		}
	}
	// Catalogue order when known (spec order), else by version and ID.
	slices.SortStableFunc(stmts, func(a, b htmlStatement) int {
		if a.Version != b.Version {
			return strings.Compare(a.Version, b.Version)
		}
		pa, oka := catPos[key{versionKeyBack(a.Version), a.ID}]
		pb, okb := catPos[key{versionKeyBack(b.Version), b.ID}]
		switch {
		case oka && okb:
			return pa - pb
		case oka != okb:
			if oka {
				return -1
			}
			return 1
		}
		return compareStatementIDs(a.ID, b.ID)
	})

	versions := []string{}
	for _, s := range stmts {
		if !slices.Contains(versions, s.Version) {
			versions = append(versions, s.Version)
		}
	}
	for _, cs := range c.Catalogue {
		if vl := versionLabel(cs.MQTTVersion); !slices.Contains(versions, vl) && slices.Contains(c.Versions, cs.MQTTVersion) {
			versions = append(versions, vl)
		}
	}
	slices.Sort(versions)
	for _, ver := range versions {
		hc := htmlCoverage{Version: ver}
		byVerdict := Counts{}
		for _, s := range stmts {
			if s.Version == ver {
				hc.Cited++
				byVerdict[s.Verdict]++
			}
		}
		for _, cs := range c.Catalogue {
			if versionLabel(cs.MQTTVersion) != ver {
				continue
			}
			hc.Catalogue++
			if cs.WireTestable {
				hc.Wire++
				if _, ok := idx[key{cs.MQTTVersion, cs.ID}]; ok {
					hc.WireCited++
				}
			}
		}
		if hc.Wire > 0 {
			hc.Percent = fmt.Sprintf("%.1f%%", 100*float64(hc.WireCited)/float64(hc.Wire))
		}
		for _, vd := range Verdicts {
			if byVerdict[vd] > 0 {
				hc.ByVerdict = append(hc.ByVerdict, htmlCount{vd, byVerdict[vd]})
			}
		}
		cov = append(cov, hc)
	}
	return stmts, uncovered, cov
}

func versionKeyBack(label string) string {
	if label == "any" {
		return ""
	}
	return label
}

// compareStatementIDs orders "MQTT-3.3.1-10" after "MQTT-3.3.1-9".
func compareStatementIDs(a, b string) int {
	pa, pb := strings.FieldsFunc(a, isIDSep), strings.FieldsFunc(b, isIDSep)
	for i := 0; i < len(pa) && i < len(pb); i++ {
		if pa[i] == pb[i] {
			continue
		}
		if isDigits(pa[i]) && isDigits(pb[i]) {
			if len(pa[i]) != len(pb[i]) {
				return len(pa[i]) - len(pb[i])
			}
		}
		return strings.Compare(pa[i], pb[i])
	}
	return len(pa) - len(pb)
}

func isIDSep(r rune) bool { return r == '-' || r == '.' }

func newHTMLSpec(sp Spec, strict bool, runLog string) htmlSpec {
	hs := htmlSpec{
		Spec:         sp,
		Anchor:       "spec-" + sp.ID,
		VersionKey:   versionLabel(sp.MQTTVersion),
		VersionLabel: versionLabel(sp.MQTTVersion),
		AreaLabel:    areaLabel(sp.Area),
		CaseName:     CaseName(sp),
		DurationText: humanDuration(sp.Duration),
		Failing:      sp.Verdict.Failing(strict),
	}
	for _, st := range sp.Statements {
		hs.StmtLinks = append(hs.StmtLinks, htmlStmtLink{Anchor: statementAnchor(sp.MQTTVersion, st.ID), ID: st.ID, Level: st.Level})
	}
	hs.Open = sp.Verdict == VerdictFail || sp.Verdict == VerdictNonStrict || sp.Verdict == VerdictBrokerDown
	if sp.Verdict != VerdictPass {
		hs.TraceRows, hs.TraceOmitted = traceRows(sp.Trace)
		ex := sp.LogExcerpt
		if ex == nil && needsLogExcerpt(sp.Verdict) {
			// A report written before excerpts existed: cut one now.
			ex = excerptFor(sp, runLog, DefaultExcerptLines)
		}
		hs.Excerpt = newHTMLExcerpt(ex, clientIDs(sp.Trace))
	}
	hs.HasDetail = hs.Open || sp.Requirement != "" || sp.Expected != "" || sp.Observed != "" ||
		sp.Message != "" || len(hs.TraceRows) > 0 || hs.Excerpt != nil || len(sp.Notes) > 0
	return hs
}

func traceRows(tr []TraceEntry) ([]htmlTraceRow, int) {
	omitted := 0
	shown := tr
	if len(tr) > htmlTraceEntries {
		// Keep the start (the setup that leads to the failure) and the end
		// (where it failed).
		head := htmlTraceEntries / 4
		omitted = len(tr) - htmlTraceEntries
		shown = append(slices.Clip(tr[:head]), tr[len(tr)-(htmlTraceEntries-head):]...)
	}
	var rows []htmlTraceRow
	for i, e := range shown {
		row := htmlTraceRow{
			Offset:  traceOffset(tr[0].At, e.At),
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
		if omitted > 0 && i == htmlTraceEntries/4 {
			rows = append(rows, htmlTraceRow{Dir: DirNote, Arrow: "…", Summary: fmt.Sprintf("%d packets left out here (the JSON report has them all)", omitted)})
		}
		rows = append(rows, row)
	}
	return rows, omitted
}

// clientIDRe finds the client identifier in a CONNECT's trace summary, as
// the harness writes it: client="mqttspec-…".
var clientIDRe = regexp.MustCompile(`client="([^"]+)"`)

func clientIDs(tr []TraceEntry) []string {
	var ids []string
	for _, e := range tr {
		if e.Dir != DirSend {
			continue
		}
		for _, m := range clientIDRe.FindAllStringSubmatch(e.Summary, -1) {
			if len(m[1]) >= 4 && !slices.Contains(ids, m[1]) {
				ids = append(ids, m[1])
			}
		}
	}
	return ids
}

func newHTMLExcerpt(ex *LogExcerpt, clients []string) *htmlExcerpt {
	if ex == nil {
		return nil
	}
	he := &htmlExcerpt{Method: ex.Method, Omitted: ex.Omitted}
	if ex.Method == LogWindow && !ex.From.IsZero() {
		he.Range = ex.From.UTC().Format("15:04:05.000") + " – " + ex.To.UTC().Format("15:04:05.000") + " UTC"
	}
	if ex.Text == "" {
		return he
	}
	for _, l := range strings.Split(ex.Text, "\n") {
		mine := false
		for _, id := range clients {
			if strings.Contains(l, id) {
				mine = true
				break
			}
		}
		he.Lines = append(he.Lines, htmlLogLine{Text: l, Mine: mine})
	}
	return he
}

// tailLines keeps the last n lines of s and says how many it dropped.
func tailLines(s string, n int) (string, int) {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return "", 0
	}
	count := strings.Count(s, "\n") + 1
	if count <= n {
		return s, 0
	}
	cut := len(s)
	for i := 0; i < n; i++ {
		cut = strings.LastIndexByte(s[:cut], '\n')
	}
	return s[cut+1:], count - n
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

// areaKey is an area's data-area value: its label, which is unique.
func areaKey(a string) string { return areaLabel(a) }

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
