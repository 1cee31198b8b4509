package reports

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

func renderHTML(t *testing.T, c *Conformance) (string, *html.Node) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteHTML(&buf, c); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("HTML does not parse: %v", err)
	}
	return buf.String(), doc
}

func walk(n *html.Node, f func(*html.Node)) {
	f(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, f)
	}
}

func find(doc *html.Node, pred func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	walk(doc, func(n *html.Node) {
		if n.Type == html.ElementNode && pred(n) {
			out = append(out, n)
		}
	})
	return out
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func hasClass(n *html.Node, class string) bool {
	v, _ := attr(n, "class")
	for _, c := range strings.Fields(v) {
		if c == class {
			return true
		}
	}
	return false
}

func text(n *html.Node) string {
	var b strings.Builder
	walk(n, func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
	})
	return b.String()
}

func TestWriteHTML(t *testing.T) {
	c := sampleConformance()
	out, doc := renderHTML(t, c)

	if !strings.HasPrefix(out, "<!DOCTYPE html>") {
		t.Error("no doctype")
	}
	if len(find(doc, func(n *html.Node) bool { return n.DataAtom == atom.Style })) != 1 {
		t.Error("want one inline <style>")
	}

	// The spec name with markup is escaped, not interpreted.
	if strings.Contains(out, `<script>alert(`) {
		t.Error("spec name injected a script element")
	}
	if !strings.Contains(out, `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; friends`) {
		t.Error("escaped spec name not found")
	}
	if strings.Contains(out, "broker <stopped>") || !strings.Contains(out, "broker &lt;stopped&gt;") {
		t.Error("run logs not escaped")
	}

	// Header: target, result, counts per verdict and per version.
	title := find(doc, func(n *html.Node) bool { return n.DataAtom == atom.Title })
	if len(title) != 1 || text(title[0]) != "MQTT conformance: reference — FAIL" {
		t.Errorf("title = %q", text(title[0]))
	}
	counts := map[string]string{}
	for _, a := range find(doc, func(n *html.Node) bool { _, ok := attr(n, "data-filter-verdict"); return ok }) {
		v, _ := attr(a, "data-filter-verdict")
		counts[v] = strings.TrimSuffix(text(a), v)
	}
	want := map[string]string{"pass": "3", "fail": "2", "non-strict": "1", "informational": "1", "unsupported": "1", "broker-down": "1", "skipped": "1"}
	for v, n := range want {
		if counts[v] != n {
			t.Errorf("header count %s = %q, want %q", v, counts[v], n)
		}
	}
	byVersion := find(doc, func(n *html.Node) bool { id, _ := attr(n, "id"); return id == "counts-by-version" })
	if len(byVersion) != 1 || !strings.Contains(text(byVersion[0]), "3.1.1") || !strings.Contains(text(byVersion[0]), "5.0") {
		t.Error("no per-version table")
	}
	for _, li := range find(doc, func(n *html.Node) bool { _, ok := attr(n, "data-count"); return ok && n.DataAtom == atom.Li }) {
		v, _ := attr(li, "data-verdict")
		if n, _ := attr(li, "data-count"); n != want[v] {
			t.Errorf("data-count of %s = %q, want %q", v, n, want[v])
		}
	}
	checkSelfContained(t, out, doc)
	checkLinks(t, doc)

	// The spec table: one row per spec, usable without JavaScript.
	rows := find(doc, func(n *html.Node) bool { return n.DataAtom == atom.Tr && hasClass(n, "spec") })
	if len(rows) != len(c.Specs) {
		t.Fatalf("%d spec rows, want %d", len(rows), len(c.Specs))
	}
	for i, r := range rows {
		sp := c.Specs[i]
		if id, _ := attr(r, "id"); id != "spec-"+sp.ID {
			t.Errorf("row %d id = %q", i, id)
		}
		if v, _ := attr(r, "data-verdict"); v != string(sp.Verdict) {
			t.Errorf("row %d data-verdict = %q, want %q", i, v, sp.Verdict)
		}
		if !strings.Contains(text(r), sp.Name) {
			t.Errorf("row %d lacks its name %q", i, sp.Name)
		}
	}

	// Failing specs are expanded with evidence and the decoded trace.
	var publish *html.Node
	for _, d := range find(doc, func(n *html.Node) bool { return n.DataAtom == atom.Tr && hasClass(n, "detail") }) {
		if v, _ := attr(d, "data-spec"); strings.HasPrefix(v, "spec-") {
			det := find(d, func(n *html.Node) bool { return n.DataAtom == atom.Details })[0]
			_, open := attr(det, "open")
			sp := specByAnchor(c, v)
			wantOpen := sp.Verdict == VerdictFail || sp.Verdict == VerdictNonStrict || sp.Verdict == VerdictBrokerDown
			if open != wantOpen {
				t.Errorf("%s (%s): open=%v, want %v", sp.Name, sp.Verdict, open, wantOpen)
			}
			if sp.Area == "PUBLISH" {
				publish = d
			}
		}
	}
	if publish == nil {
		t.Fatal("no detail row for the failing PUBLISH spec")
	}
	pt := text(publish)
	for _, want := range []string{
		"Requirement", "A PUBLISH with both QoS bits set is malformed",
		"Expected", "connection closed (or DISCONNECT 0x81)",
		"Observed", "PUBACK received; connection open",
		"Expected the connection to be closed\nbut it stayed open",
		"/src/specs/publish_test.go:42",
		"Broker logs around this spec", "1741964966: Client c1 sent PUBLISH (q3)",
	} {
		if !strings.Contains(pt, want) {
			t.Errorf("failing spec detail lacks %q", want)
		}
	}
	trace := find(publish, func(n *html.Node) bool { return n.DataAtom == atom.Table && hasClass(n, "trace") })
	if len(trace) != 1 {
		t.Fatal("no trace table")
	}
	trows := find(trace[0], func(n *html.Node) bool { return n.DataAtom == atom.Tr })
	if len(trows) != 3 { // header + 2 packets
		t.Fatalf("trace has %d rows, want 3", len(trows))
	}
	cells := func(r *html.Node) []string {
		var out []string
		for _, td := range find(r, func(n *html.Node) bool { return n.DataAtom == atom.Td }) {
			out = append(out, text(td))
		}
		return out
	}
	if got := strings.Join(cells(trows[1]), "|"); got != "+0.000ms|→ send|c1|PUBLISH qos=3 topic=a/b|36 07 00 03 61 2f 62 00 01 78" {
		t.Errorf("trace row 1 = %q", got)
	}
	if got := strings.Join(cells(trows[2]), "|"); got != "+3.000ms|← recv|c1|PUBACK id=1|40 02 00 01" {
		t.Errorf("trace row 2 = %q", got)
	}

	// Failures recap links to the rows; broker logs are in a <details>.
	recap := find(doc, func(n *html.Node) bool { id, _ := attr(n, "id"); return id == "failures" })
	if len(recap) != 1 || len(find(recap[0], func(n *html.Node) bool { return n.DataAtom == atom.A })) != 3 {
		t.Error("failures recap should link the 2 fail and 1 non-strict specs")
	}
	logs := find(doc, func(n *html.Node) bool { id, _ := attr(n, "id"); return id == "logs" })
	if len(logs) != 1 || len(find(logs[0], func(n *html.Node) bool { return n.DataAtom == atom.Details })) != 1 ||
		!strings.Contains(text(logs[0]), "broker <stopped>") {
		t.Error("broker logs not in a <details>")
	}
	caps := strings.Contains(out, "retainAvailable") && strings.Contains(out, "<code>true</code>") && strings.Contains(out, "<code>auto</code>")
	if !caps {
		t.Error("capabilities missing")
	}
}

func specByAnchor(c *Conformance, anchor string) Spec {
	for _, sp := range c.Specs {
		if "spec-"+sp.ID == anchor {
			return sp
		}
	}
	return Spec{}
}

func TestWriteHTMLPassingAndEmpty(t *testing.T) {
	c := &Conformance{
		Target: TargetInfo{URL: "tcp://alice:hunter2@127.0.0.1:1883"},
		Start:  t0, End: t0.Add(1500 * time.Millisecond),
		Specs: []Spec{{ID: "a", Name: "ok", Area: "CONNECT", Verdict: VerdictPass, MQTTVersion: MQTT50}},
	}
	out, doc := renderHTML(t, c)
	if strings.Contains(out, "hunter2") {
		t.Error("password leaked into the HTML report")
	}
	if !strings.Contains(out, `class="result pass" id="result">PASS<`) || strings.Contains(out, `id="failures"`) {
		t.Error("passing run should show PASS and no failures recap")
	}
	if len(find(doc, func(n *html.Node) bool { return n.DataAtom == atom.Tr && hasClass(n, "detail") })) != 0 {
		t.Error("a spec without evidence should have no detail row")
	}
	if !strings.Contains(out, "<dd>1.50s</dd>") {
		t.Error("run duration missing")
	}

	out, _ = renderHTML(t, &Conformance{})
	if !strings.Contains(out, "No specs ran.") {
		t.Error("empty run not stated")
	}
}

func TestSpacedHex(t *testing.T) {
	for in, want := range map[string]string{
		"":         "",
		"c0":       "c0",
		"c000":     "c0 00",
		"C0FF10":   "C0 FF 10",
		"abc":      "abc",
		"c0 00":    "c0 00",
		"zz00":     "zz00",
		"30020000": "30 02 00 00",
	} {
		if got := spacedHex(in); got != want {
			t.Errorf("spacedHex(%q) = %q, want %q", in, got, want)
		}
	}
}
