package reports

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

func byID(doc *html.Node, id string) *html.Node {
	for _, n := range find(doc, func(n *html.Node) bool { v, ok := attr(n, "id"); return ok && v == id }) {
		return n
	}
	return nil
}

func TestWriteHTMLViews(t *testing.T) {
	start := time.Date(2026, 11, 26, 0, 13, 4, 0, time.UTC)
	tr := func(summary string) []TraceEntry {
		return []TraceEntry{
			{At: start, Dir: DirSend, Client: "c1", Hex: "10ff", Summary: summary},
			{At: start.Add(time.Millisecond), Dir: DirRecv, Client: "c1", Hex: "2002beef", Summary: "CONNACK"},
		}
	}
	c := &Conformance{
		Target:   TargetInfo{Name: "mosquitto"},
		Versions: []string{MQTT50},
		Catalogue: []CatalogueStatement{
			{ID: "MQTT-3.3.1-4", MQTTVersion: MQTT50, Section: "3.3.1", Level: "MUST", WireTestable: true, Text: "QoS 3 is malformed"},
			{ID: "MQTT-3.1.0-1", MQTTVersion: MQTT50, Section: "3.1", Level: "MUST", WireTestable: true, Text: "CONNECT comes first"},
			{ID: "MQTT-4.7.3-1", MQTTVersion: MQTT50, Section: "4.7.3", Level: "MUST", WireTestable: true, Text: "never checked"},
			{ID: "MQTT-1.5.4-1", MQTTVersion: MQTT50, Section: "1.5.4", Level: "MUST", WireTestable: false, Text: "not on the wire"},
		},
		Observed: []Capability{{Name: "Maximum QoS", Value: float64(2), Source: CapabilityFromCONNACK, MQTTVersion: MQTT50}},
		Logs:     "1795651983: earlier\n1795651984: New client connected as mqttspec-x-c357\n1795651984: another client\n",
		Specs: []Spec{
			{ID: "p1", Name: "PUBLISH passes", Area: "PUBLISH", MQTTVersion: MQTT50, Verdict: VerdictPass, Start: start, Duration: time.Millisecond,
				Statements: []StatementRef{{ID: "MQTT-3.3.1-4", Level: "MUST"}}, Trace: tr(`CONNECT client="mqttspec-x-c1"`)},
			{ID: "f1", Name: "PUBLISH fails", Area: "PUBLISH", MQTTVersion: MQTT50, Verdict: VerdictFail, Start: start, Duration: time.Millisecond,
				Statements: []StatementRef{{ID: "MQTT-3.3.1-4", Level: "MUST"}}, Trace: tr(`CONNECT client="mqttspec-x-c357"`),
				Requirement: "req", Expected: "exp", Observed: "obs"},
			{ID: "c1", Name: "CONNECT passes", Area: "CONNECT", MQTTVersion: MQTT50, Verdict: VerdictPass,
				Statements: []StatementRef{{ID: "MQTT-3.1.0-1", Level: "MUST"}}},
		},
	}
	out, doc := renderHTML(t, c)
	checkSelfContained(t, out, doc)
	checkLinks(t, doc)

	// Traces only for specs that did not pass.
	if strings.Contains(out, "mqttspec-x-c1&#34;") || strings.Count(out, "20 02 be ef") != 1 {
		t.Error("a passing spec's trace is in the page, or the failing one's is not")
	}
	// Specs grouped by area, in tbody groups.
	groups := find(byID(doc, "specs"), func(n *html.Node) bool { return n.DataAtom == atom.Tbody && hasClass(n, "group") })
	if len(groups) != 2 {
		t.Fatalf("%d area groups, want 2", len(groups))
	}
	if g, _ := attr(groups[0], "data-group"); g != "PUBLISH" {
		t.Errorf("first group %q", g)
	}
	for _, r := range find(groups[0], func(n *html.Node) bool { return hasClass(n, "spec") }) {
		if a, _ := attr(r, "data-area"); a != "PUBLISH" {
			t.Errorf("row in PUBLISH group has data-area %q", a)
		}
	}
	// By statement: the worst verdict, links to both specs.
	st := byID(doc, "st-5.0-MQTT-3.3.1-4")
	if st == nil {
		t.Fatal("no statement row for MQTT-3.3.1-4")
	}
	if v, _ := attr(st, "data-verdict"); v != "fail" {
		t.Errorf("statement verdict %q, want fail (the worst of pass and fail)", v)
	}
	if hrefs := linkTargets(st); strings.Join(hrefs, ",") != "#spec-p1,#spec-f1" || !strings.Contains(text(st), "QoS 3 is malformed") {
		t.Errorf("statement row links %q, text %q", hrefs, text(st))
	}
	// Coverage from the catalogue: 2 of 3 wire-testable statements checked.
	cov := byID(doc, "coverage")
	if cov == nil || !strings.Contains(text(cov), "2 (66.7%)") {
		t.Errorf("coverage table: %q", text(cov))
	}
	if un := byID(doc, "uncovered"); un == nil || !strings.Contains(text(un), "MQTT-4.7.3-1") || strings.Contains(text(un), "MQTT-1.5.4-1") {
		t.Error("uncovered statements: want the wire-testable one only")
	}
	// The failing spec's log excerpt: the lines of its second, its own client marked.
	mine := find(doc, func(n *html.Node) bool { return hasClass(n, "mine") })
	if len(mine) != 1 || text(mine[0]) != "1795651984: New client connected as mqttspec-x-c357" {
		t.Errorf("marked log lines: %d", len(mine))
	}
	logs := find(doc, func(n *html.Node) bool { return hasClass(n, "log") })
	if len(logs) != 1 || strings.Contains(text(logs[0]), "earlier") || !strings.Contains(text(logs[0]), "another client") {
		t.Errorf("log excerpt: %q", text(logs[0]))
	}
	if caps := byID(doc, "capabilities"); caps == nil || !strings.Contains(text(caps), "Maximum QoS2connack5.0") {
		t.Errorf("observed capabilities: %q", text(caps))
	}
	// The filter controls exist (hidden until the script runs).
	for _, id := range []string{"filter", "f-verdict", "f-version", "f-area", "f-text", "visible-count"} {
		if byID(doc, id) == nil {
			t.Errorf("no #%s", id)
		}
	}
	if f := byID(doc, "filter"); f != nil {
		if _, hidden := attr(f, "hidden"); !hidden {
			t.Error("the filter is visible without JavaScript")
		}
	}
}

// A run with 70 failures stays light: traces of passing specs and long logs
// are left out.
func TestWriteHTMLSize(t *testing.T) {
	start := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	var c Conformance
	var runLog strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&runLog, "time=%s level=DEBUG msg=\"client connected\" client=mqttspec-x-c%d remote=172.17.0.1:%d listener=tcp\n",
			start.Add(time.Duration(i)*20*time.Millisecond).Format("2006-01-02T15:04:05.000Z"), i, 30000+i)
	}
	c.Logs = runLog.String()
	for i := range 530 {
		sp := Spec{ID: fmt.Sprintf("%012d", i), Name: fmt.Sprintf("Area %d MQTT 5.0 spec number %d does what the statement says", i%25, i),
			Area: fmt.Sprintf("Area %d", i%25), MQTTVersion: MQTT50, Verdict: VerdictPass, Start: start.Add(time.Duration(i) * 100 * time.Millisecond),
			Duration: 50 * time.Millisecond, Statements: []StatementRef{{ID: fmt.Sprintf("MQTT-3.%d.1-%d", i%15, i%7), Level: "MUST"}},
			Requirement: strings.Repeat("The server does this and that. ", 5)}
		for j := range 12 {
			sp.Trace = append(sp.Trace, TraceEntry{At: sp.Start.Add(time.Duration(j) * time.Millisecond), Dir: DirSend, Client: "c1",
				Hex: strings.Repeat("ab", 40), Summary: `PUBLISH qos=1 topic="mqttspec/x/y/z" payload="hello"`})
		}
		if i%7 == 0 && i < 7*70 {
			sp.Verdict = VerdictFail
			sp.Expected, sp.Observed, sp.Message = "the server closes the connection", "PINGRESP", "expected close; observed PINGRESP"
			sp.Logs = strings.Repeat("a broker log line that the harness captured at the failure\n", 1100) // 64 KB
		}
		c.Specs = append(c.Specs, sp)
	}
	if n := c.Summary().ByVerdict[VerdictFail]; n != 70 {
		t.Fatalf("%d failures, want 70", n)
	}
	var buf bytes.Buffer
	if err := WriteHTML(&buf, &c); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > 1_500_000 {
		t.Errorf("report of 530 specs with 70 failures is %d bytes, want < 1.5 MB", buf.Len())
	}
	t.Logf("%d bytes", buf.Len())
}

func TestWriteHTMLLongTraceAndLog(t *testing.T) {
	sp := Spec{ID: "x", Name: "long", Verdict: VerdictFail}
	for i := range 250 {
		sp.Trace = append(sp.Trace, TraceEntry{At: t0.Add(time.Duration(i) * time.Millisecond), Dir: DirRecv, Summary: fmt.Sprintf("PUBLISH #%d", i)})
	}
	c := &Conformance{Specs: []Spec{sp}, Logs: strings.Repeat("line\n", htmlRunLogLines+25) + "last line"}
	out, doc := renderHTML(t, c)
	rows := find(doc, func(n *html.Node) bool {
		return n.DataAtom == atom.Tr && (hasClass(n, "d-recv") || hasClass(n, "d-note"))
	})
	if len(rows) != htmlTraceEntries+1 {
		t.Errorf("%d trace rows, want %d and a note", len(rows), htmlTraceEntries)
	}
	for _, want := range []string{"PUBLISH #0<", "PUBLISH #249<", "50 packets left out here", "26 earlier lines are in the JSON report", "last line"} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(out, "PUBLISH #75<") {
		t.Error("the middle of a long trace should be left out")
	}
}

// A report written before the optional fields existed (no spec start, no
// excerpt, no catalogue) renders, with the excerpt cut from the trace's span.
func TestWriteHTMLFromRealV1Fixture(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "mosquitto.json"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := ReadJSON(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, doc := renderHTML(t, c)
	checkSelfContained(t, out, doc)
	checkLinks(t, doc)
	rows := find(doc, func(n *html.Node) bool { return n.DataAtom == atom.Tr && hasClass(n, "spec") })
	if len(rows) != len(c.Specs) {
		t.Errorf("%d rows for %d specs", len(rows), len(c.Specs))
	}
	// Mosquitto's real failure: PINGREQ with flags 0001 is answered instead of closing.
	var found bool
	for _, d := range find(doc, func(n *html.Node) bool { return n.DataAtom == atom.Tr && hasClass(n, "detail") }) {
		tx := text(d)
		if strings.Contains(tx, "PINGREQ's reserved flag bits are 0000") && strings.Contains(tx, "received PINGRESP") {
			found = true
			for _, want := range []string{"Wire trace", "c1 00", "Broker logs around this spec", "Received PINGREQ from mqttspec-"} {
				if !strings.Contains(tx, want) {
					t.Errorf("PINGREQ failure detail lacks %q", want)
				}
			}
			if len(find(d, func(n *html.Node) bool { return hasClass(n, "mine") })) == 0 {
				t.Error("no log line of the spec's own client is marked")
			}
			break
		}
	}
	if !found {
		t.Error("the PINGREQ failure is not in the report")
	}
}
