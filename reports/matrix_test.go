package reports

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

func matrixRuns() []*Conformance {
	a := &Conformance{Target: TargetInfo{Name: "alpha 1.0 (container)", Profile: "alpha"}, Versions: []string{MQTT311, MQTT50}, Specs: []Spec{
		{ID: "s1", Name: "PUBLISH one", Area: "PUBLISH", MQTTVersion: MQTT50, Verdict: VerdictPass, Statements: []StatementRef{{ID: "MQTT-3.3.1-4", Level: "MUST"}}},
		{ID: "s2", Name: "PUBLISH two", Area: "PUBLISH", MQTTVersion: MQTT50, Verdict: VerdictFail, Statements: []StatementRef{{ID: "MQTT-3.3.1-4", Level: "MUST"}},
			Requirement: "req two", Expected: "exp two", Observed: "obs two",
			Trace: []TraceEntry{{At: t0, Dir: DirSend, Client: "c1", Hex: "c000", Summary: "PINGREQ"}}},
		{ID: "s3", Name: "CONNECT three", Area: "CONNECT", MQTTVersion: MQTT311, Verdict: VerdictPass, Statements: []StatementRef{{ID: "MQTT-3.1.0-1", Level: "MUST"}}},
	}}
	b := &Conformance{Target: TargetInfo{Name: "beta"}, Versions: []string{MQTT311}, Specs: []Spec{
		{ID: "s3", Name: "CONNECT three", Area: "CONNECT", MQTTVersion: MQTT311, Verdict: VerdictUnsupported, Statements: []StatementRef{{ID: "MQTT-3.1.0-1", Level: "MUST"}}},
		{ID: "s4", Name: "CONNECT four", Area: "CONNECT", MQTTVersion: MQTT311, Verdict: VerdictPass},
	}}
	c := &Conformance{Target: TargetInfo{Profile: "alpha"}, Specs: []Spec{
		{ID: "s1", Name: "PUBLISH one", Area: "PUBLISH", MQTTVersion: MQTT50, Verdict: VerdictBrokerDown, Statements: []StatementRef{{ID: "MQTT-3.3.1-4", Level: "MUST"}}},
	}}
	return []*Conformance{a, b, c}
}

func TestNewMatrix(t *testing.T) {
	m, err := NewMatrix(matrixRuns()...)
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, b := range m.Brokers {
		labels = append(labels, b.Label)
	}
	if strings.Join(labels, ",") != "alpha,beta,alpha (2)" {
		t.Errorf("labels %q", labels)
	}
	if !m.Brokers[0].Failed || m.Brokers[1].Failed || m.Brokers[0].Counts[VerdictFail] != 1 {
		t.Errorf("broker results: %+v", m.Brokers)
	}
	rows := map[string][]Verdict{}
	var order []string
	for _, sp := range m.Specs {
		rows[sp.Key] = sp.Verdicts
		order = append(order, sp.Name)
	}
	want := map[string][]Verdict{
		"5.0 | PUBLISH one":     {VerdictPass, "", VerdictBrokerDown},
		"5.0 | PUBLISH two":     {VerdictFail, "", ""},
		"3.1.1 | CONNECT three": {VerdictPass, VerdictUnsupported, ""},
		"3.1.1 | CONNECT four":  {"", VerdictPass, ""},
	}
	for k, w := range want {
		if strings.Join(verdictStrings(rows[k]), ",") != strings.Join(verdictStrings(w), ",") {
			t.Errorf("%s: %q, want %q", k, rows[k], w)
		}
	}
	if strings.Join(order, ",") != "CONNECT three,CONNECT four,PUBLISH one,PUBLISH two" {
		t.Errorf("row order %q: want grouped by area", order)
	}
	if len(m.Statements) != 2 || m.Statements[0].ID != "MQTT-3.1.0-1" || m.Statements[1].ID != "MQTT-3.3.1-4" {
		t.Fatalf("statements %+v", m.Statements)
	}
	// The worst verdict per broker: fail beats pass, broker-down shows.
	if got := verdictStrings(m.Statements[1].Verdicts); strings.Join(got, ",") != "fail,,broker-down" {
		t.Errorf("MQTT-3.3.1-4 verdicts %q", got)
	}

	var buf bytes.Buffer
	if err := m.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"schema": "mqttspec.matrix/v1"`) || strings.Contains(buf.String(), "obs two") {
		t.Error("matrix JSON: wrong schema or evidence included")
	}
	back, err := ReadMatrixJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Specs) != len(m.Specs) || back.Brokers[2].Label != "alpha (2)" {
		t.Error("matrix JSON does not round-trip")
	}
	if err := WriteMatrixHTML(&bytes.Buffer{}, back); err == nil {
		t.Error("a matrix without runs rendered as HTML")
	}
	if _, err := ReadMatrixJSON(strings.NewReader(`{"schema":"other"}`)); !errors.Is(err, ErrUnknownSchema) {
		t.Errorf("unknown schema: %v", err)
	}
	if _, err := NewMatrix(); err == nil {
		t.Error("an empty matrix was built")
	}
}

func verdictStrings(vs []Verdict) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

func TestWriteMatrixHTML(t *testing.T) {
	m, err := NewMatrix(matrixRuns()...)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteMatrixHTML(&buf, m); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	checkSelfContained(t, buf.String(), doc)
	checkLinks(t, doc)

	byID := map[string]*html.Node{}
	walk(doc, func(n *html.Node) {
		if id, ok := attr(n, "id"); ok && n.Type == html.ElementNode {
			byID[id] = n
		}
	})
	// Broker counts, as data attributes.
	for _, tr := range find(byID["brokers"], func(n *html.Node) bool { _, ok := attr(n, "data-broker"); return ok }) {
		name, _ := attr(tr, "data-broker")
		if name == "alpha" {
			for _, td := range find(tr, func(n *html.Node) bool { _, ok := attr(n, "data-verdict"); return ok }) {
				v, _ := attr(td, "data-verdict")
				n, _ := attr(td, "data-count")
				if v == "fail" && n != "1" || v == "pass" && n != "2" {
					t.Errorf("alpha %s count %s", v, n)
				}
			}
		}
	}
	// One row per spec, one cell per broker; each filled cell links to its detail.
	rows := find(byID["matrix-specs"], func(n *html.Node) bool { _, ok := attr(n, "data-verdict"); return ok && n.DataAtom == atom.Tr })
	if len(rows) != len(m.Specs) {
		t.Fatalf("%d spec rows, want %d", len(rows), len(m.Specs))
	}
	for i, r := range rows {
		cells := find(r, func(n *html.Node) bool { return hasClass(n, "cell") })
		if len(cells) != len(m.Brokers) {
			t.Errorf("row %d: %d cells", i, len(cells))
		}
		for b, c := range cells {
			links := find(c, func(n *html.Node) bool { return n.DataAtom == atom.A })
			if want := m.Specs[i].Verdicts[b] != ""; (len(links) == 1) != want {
				t.Errorf("row %d broker %d: link %v, want %v", i, b, len(links) == 1, want)
			}
		}
	}
	if v, _ := attr(rows[2], "data-verdict"); v != "pass none broker-down" {
		t.Errorf("row PUBLISH one data-verdict %q", v)
	}
	// The failing cell's detail has the evidence and the trace; a passing one is a line.
	fail := byID["c-0-s2"]
	if fail == nil || !strings.Contains(text(fail), "obs two") || len(find(fail, func(n *html.Node) bool { return hasClass(n, "trace") })) != 1 {
		t.Error("the failing cell's detail lacks its evidence or trace")
	}
	if pass := byID["c-0-s1"]; pass == nil || len(find(pass, func(n *html.Node) bool { return n.DataAtom == atom.Details })) != 0 {
		t.Error("a passing cell should have a one-line detail")
	}
	st := byID["ms-5.0-MQTT-3.3.1-4"]
	if st == nil {
		t.Fatal("no statement row")
	}
	if hrefs := linkTargets(st); strings.Join(hrefs, ",") != "#c-0-s2,#c-2-s1" {
		t.Errorf("statement cells link to %q: want the worst spec of each broker", hrefs)
	}
}

func linkTargets(n *html.Node) []string {
	var out []string
	for _, a := range find(n, func(n *html.Node) bool { return n.DataAtom == atom.A }) {
		h, _ := attr(a, "href")
		out = append(out, h)
	}
	return out
}

// checkLinks asserts that every in-page link has a target.
func checkLinks(t *testing.T, doc *html.Node) {
	t.Helper()
	ids := map[string]bool{}
	walk(doc, func(n *html.Node) {
		if id, ok := attr(n, "id"); ok && n.Type == html.ElementNode {
			if ids[id] {
				t.Errorf("duplicate id %q", id)
			}
			ids[id] = true
		}
	})
	for _, a := range find(doc, func(n *html.Node) bool { return n.DataAtom == atom.A }) {
		h, _ := attr(a, "href")
		if strings.HasPrefix(h, "#") && len(h) > 1 && !ids[h[1:]] {
			t.Errorf("link %q leads nowhere", h)
		}
	}
}

// checkSelfContained asserts a page loads nothing and links nowhere outside.
func checkSelfContained(t *testing.T, out string, doc *html.Node) {
	t.Helper()
	if !strings.HasPrefix(out, "<!DOCTYPE html>") {
		t.Error("no doctype")
	}
	if n := len(find(doc, func(n *html.Node) bool { return n.DataAtom == atom.Script })); n != 1 {
		t.Errorf("%d <script> elements, want the one inline script", n)
	}
	for _, n := range find(doc, func(*html.Node) bool { return true }) {
		for _, a := range n.Attr {
			if a.Key == "src" || (a.Key == "href" && !strings.HasPrefix(a.Val, "#")) {
				t.Errorf("<%s %s=%q>: the page must not load or link anything", n.Data, a.Key, a.Val)
			}
		}
		if n.DataAtom == atom.Link {
			t.Error("<link> element found")
		}
	}
	if strings.Contains(out, "http://") || strings.Contains(out, "https://") {
		t.Error("page mentions a network URL")
	}
}
