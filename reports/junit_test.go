package reports

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
)

// The JUnit form as CI systems read it (decoded independently of junit.go's types).
type xSuites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Name     string   `xml:"name,attr"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Time     string   `xml:"time,attr"`
	Suites   []struct {
		Name       string `xml:"name,attr"`
		Tests      int    `xml:"tests,attr"`
		Failures   int    `xml:"failures,attr"`
		Errors     int    `xml:"errors,attr"`
		Skipped    int    `xml:"skipped,attr"`
		Timestamp  string `xml:"timestamp,attr"`
		Properties []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"properties>property"`
		Cases []xCase `xml:"testcase"`
	} `xml:"testsuite"`
}

type xCase struct {
	Name      string `xml:"name,attr"`
	Classname string `xml:"classname,attr"`
	Time      string `xml:"time,attr"`
	Failure   *struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	} `xml:"failure"`
	Skipped *struct {
		Message string `xml:"message,attr"`
	} `xml:"skipped"`
	SystemOut string `xml:"system-out"`
	SystemErr string `xml:"system-err"`
}

func parseJUnit(t *testing.T, c *Conformance) (xSuites, map[string]xCase) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, c); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Errorf("no XML declaration")
	}
	var doc xSuites
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("JUnit does not parse: %v\n%s", err, buf.String())
	}
	cases := map[string]xCase{}
	for _, s := range doc.Suites {
		for _, tc := range s.Cases {
			cases[s.Name+" :: "+tc.Name] = tc
		}
	}
	return doc, cases
}

func TestWriteJUnit(t *testing.T) {
	c := sampleConformance()
	doc, cases := parseJUnit(t, c)

	if doc.Tests != 10 || doc.Failures != 2 || doc.Errors != 0 || doc.Skipped != 3 || doc.Time != "3.000" {
		t.Errorf("testsuites counts: tests=%d failures=%d errors=%d skipped=%d time=%s", doc.Tests, doc.Failures, doc.Errors, doc.Skipped, doc.Time)
	}
	if doc.Name != "mqttspec conformance: reference" {
		t.Errorf("testsuites name = %q", doc.Name)
	}
	var names []string
	sum := 0
	for _, s := range doc.Suites {
		names = append(names, s.Name)
		sum += s.Tests
		if len(s.Cases) != s.Tests {
			t.Errorf("suite %q: tests=%d but %d testcases", s.Name, s.Tests, len(s.Cases))
		}
		if s.Timestamp != "2025-03-14T15:09:26" {
			t.Errorf("suite %q: timestamp %q", s.Name, s.Timestamp)
		}
		props := map[string]string{}
		for _, p := range s.Properties {
			props[p.Name] = p.Value
		}
		if props["target.name"] != "reference" || props["target.url"] != "tcp://127.0.0.1:1883" || props["tool"] != "mqttspec v0.1.0" {
			t.Errorf("suite %q: properties %v", s.Name, props)
		}
	}
	if sum != doc.Tests {
		t.Errorf("suites hold %d tests, testsuites says %d", sum, doc.Tests)
	}
	wantSuites := []string{
		"MQTT 3.1.1 / CONNECT", "MQTT 3.1.1 / Keep alive", "MQTT 3.1.1 / Retained messages", "MQTT 3.1.1 / Topics",
		"MQTT 5.0 / CONNECT", "MQTT 5.0 / PUBLISH", "MQTT 5.0 / Shared subscriptions",
		AreaSuite, "Topics",
	}
	if strings.Join(names, "|") != strings.Join(wantSuites, "|") {
		t.Errorf("suites %q\nwant %q", names, wantSuites)
	}

	fail, ok := cases["MQTT 5.0 / PUBLISH :: [MQTT-3.3.1-4] PUBLISH with QoS 3 closes the connection"]
	if !ok {
		t.Fatalf("failing case missing; have %v", keys(cases))
	}
	if fail.Classname != "mqttspec.PUBLISH" || fail.Time != "0.025" || fail.Failure == nil || fail.Skipped != nil {
		t.Errorf("failing case = %+v", fail)
	}
	if fail.Failure.Message != "Expected the connection to be closed" || fail.Failure.Type != "fail" {
		t.Errorf("failure attrs = %q %q", fail.Failure.Message, fail.Failure.Type)
	}
	for _, want := range []string{
		"Statements:  MQTT-3.3.1-4 (MUST)",
		"Requirement: A PUBLISH with both QoS bits set is malformed",
		"Expected:    connection closed (or DISCONNECT 0x81)",
		"Observed:    PUBACK received; connection open",
		"Message:     Expected the connection to be closed\n    but it stayed open",
		"Location:    /src/specs/publish_test.go:42",
	} {
		if !strings.Contains(fail.Failure.Text, want) {
			t.Errorf("failure text lacks %q:\n%s", want, fail.Failure.Text)
		}
	}
	if !strings.Contains(fail.SystemOut, "+0.000ms send c1       PUBLISH qos=3 topic=a/b  [36070003612f62000178]") ||
		!strings.Contains(fail.SystemOut, "+3.000ms recv c1       PUBACK id=1") {
		t.Errorf("trace not in system-out:\n%s", fail.SystemOut)
	}
	if !strings.HasPrefix(fail.SystemErr, "Broker log between 2025-03-14T15:09:26Z and ") ||
		!strings.HasSuffix(fail.SystemErr, "\n1741964966: Client c1 sent PUBLISH (q3)") {
		t.Errorf("logs not in system-err: %q", fail.SystemErr)
	}

	nonStrict := cases["MQTT 3.1.1 / Keep alive :: [MQTT-4.7.3-1] Keep alive closes idle connections promptly"]
	if nonStrict.Failure != nil || nonStrict.Skipped != nil || !strings.Contains(nonStrict.SystemOut, "non-strict: a SHOULD-level statement was not met") ||
		!strings.Contains(nonStrict.SystemOut, "Message:     took 2.4 s") {
		t.Errorf("non-strict (not strict) case = %+v", nonStrict)
	}

	skips := map[string]string{
		"MQTT 5.0 / Shared subscriptions :: [MQTT-4.8.2-1] Shared subscriptions delivers to one member": "unsupported: CONNACK Shared Subscription Available = 0",
		"MQTT 3.1.1 / Retained messages :: [MQTT-3.3.1-5] Retained messages keeps the last message":     "broker-down: connection refused after 3 attempts",
		`MQTT 3.1.1 / Topics :: Topics <script>alert("x")</script> & friends`:                           "skipped: pending",
	}
	for name, msg := range skips {
		tc, ok := cases[name]
		if !ok || tc.Skipped == nil || tc.Skipped.Message != msg || tc.Failure != nil {
			t.Errorf("%s: %+v (present %v), want skipped %q", name, tc, ok, msg)
		}
	}
	info := cases["MQTT 3.1.1 / CONNECT :: [MQTT-3.1.4-5] CONNECT accepts a zero-length client ID"]
	if info.Failure != nil || info.Skipped != nil || !strings.Contains(info.SystemOut, "informational") ||
		!strings.Contains(info.SystemOut, "- assigned client ID auto-1") {
		t.Errorf("informational case = %+v", info)
	}
	suite := cases[AreaSuite+" :: SynchronizedBeforeSuite"]
	if suite.Failure == nil || suite.Classname != "mqttspec."+AreaSuite || suite.Failure.Message != "could not start the broker" {
		t.Errorf("suite case = %+v", suite)
	}
	plain := cases["Topics :: Topics matches wildcards"]
	if plain.Classname != "mqttspec.Topics" || plain.Failure != nil || plain.Skipped != nil || plain.SystemOut != "" {
		t.Errorf("plain passing case = %+v", plain)
	}
}

func TestWriteJUnitStrict(t *testing.T) {
	c := sampleConformance()
	c.Strict = true
	doc, cases := parseJUnit(t, c)
	if doc.Failures != 3 {
		t.Errorf("strict: failures = %d, want 3", doc.Failures)
	}
	nonStrict := cases["MQTT 3.1.1 / Keep alive :: [MQTT-4.7.3-1] Keep alive closes idle connections promptly"]
	if nonStrict.Failure == nil || nonStrict.Failure.Type != "non-strict" || nonStrict.Failure.Message != "took 2.4 s" {
		t.Errorf("strict non-strict case = %+v", nonStrict)
	}
	// The failure count agrees with the exit code.
	if (doc.Failures > 0) != (c.ExitCode(c.Strict) == 1) {
		t.Errorf("failures %d but exit code %d", doc.Failures, c.ExitCode(c.Strict))
	}
}

func TestWriteJUnitHostileText(t *testing.T) {
	c := &Conformance{Target: TargetInfo{URL: "tcp://u:pw@h:1"}, Specs: []Spec{{
		Name: "]]> <x> & \"quotes\" \x00\x1b control", Area: "A&B", Verdict: VerdictFail,
		Message: "bad \x07 bytes\nline 2 ]]> <![CDATA[ x", Observed: "payload \xff\xfe \ufffe",
		Logs:  "log \x00 ]]>",
		Trace: []TraceEntry{{At: t0, Dir: DirRecv, Summary: "]]>\x01"}},
	}}}
	doc, _ := parseJUnit(t, c)
	tc := doc.Suites[0].Cases[0]
	if tc.Failure == nil || !strings.Contains(tc.Failure.Text, "line 2 ]]> <![CDATA[ x") ||
		!strings.Contains(tc.Failure.Text, "bad \ufffd bytes") || !strings.Contains(tc.Failure.Text, "payload \ufffd\ufffd \ufffd") {
		t.Errorf("failure text = %q", tc.Failure)
	}
	if tc.SystemErr != "log \ufffd ]]>" || !strings.Contains(tc.SystemOut, "]]>\ufffd") {
		t.Errorf("system-out/err = %q / %q", tc.SystemOut, tc.SystemErr)
	}
	if !strings.Contains(tc.Name, `]]> <x> & "quotes"`) || tc.Classname != "mqttspec.A&B" {
		t.Errorf("name/classname = %q / %q", tc.Name, tc.Classname)
	}
	if p := doc.Suites[0].Properties; len(p) == 0 || strings.Contains(p[0].Value+p[1].Value, "pw") {
		t.Errorf("properties %v (password must be redacted)", p)
	}
}

func TestCaseName(t *testing.T) {
	sp := Spec{Name: "PUBLISH x", Statements: []StatementRef{{ID: "MQTT-3.3.1-4"}, {ID: "MQTT-3.3.1-5"}}}
	if got := CaseName(sp); got != "[MQTT-3.3.1-4] [MQTT-3.3.1-5] PUBLISH x" {
		t.Errorf("CaseName = %q", got)
	}
	if got := CaseName(Spec{Name: "plain"}); got != "plain" {
		t.Errorf("CaseName = %q", got)
	}
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// TestJUnitSchemaConventions checks the document against the structure the
// common JUnit schema (Ant's, as Jenkins, GitLab and GitHub reporters read
// it) allows: which elements nest where, in which order, with which
// attributes, and that the counts add up.
func TestJUnitSchemaConventions(t *testing.T) {
	c := sampleConformance()
	c.Specs = append(c.Specs, Spec{ID: "z", Name: "control \x01 char ]]> end", Area: "Odd", Verdict: VerdictFail, Message: "]]> in CDATA"})
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, c); err != nil {
		t.Fatal(err)
	}
	type rule struct {
		children      []string // allowed, in this order (each may repeat)
		attrs         []string // allowed
		required      []string
		text          bool
		countChildren bool
	}
	rules := map[string]rule{
		"testsuites": {children: []string{"testsuite"}, attrs: []string{"name", "tests", "failures", "errors", "skipped", "time"}, required: []string{"tests", "failures", "errors"}},
		"testsuite": {children: []string{"properties", "testcase", "system-out", "system-err"},
			attrs:    []string{"name", "tests", "failures", "errors", "skipped", "time", "timestamp", "hostname", "id", "package"},
			required: []string{"name", "tests", "failures", "errors", "time"}},
		"properties": {children: []string{"property"}},
		"property":   {attrs: []string{"name", "value"}, required: []string{"name", "value"}},
		"testcase":   {children: []string{"skipped", "failure", "error", "system-out", "system-err"}, attrs: []string{"name", "classname", "time"}, required: []string{"name", "classname", "time"}},
		"failure":    {attrs: []string{"message", "type"}, text: true},
		"skipped":    {attrs: []string{"message"}},
		"system-out": {text: true},
		"system-err": {text: true},
	}
	type frame struct {
		name   string
		lastAt int
		kids   map[string]int
		attrs  map[string]string
	}
	dec := xml.NewDecoder(&buf)
	var stack []*frame
	suites := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("not well-formed XML: %v", err)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			name := x.Name.Local
			r, ok := rules[name]
			if !ok {
				t.Fatalf("element <%s> is not in the JUnit schema", name)
			}
			if len(stack) == 0 && name != "testsuites" {
				t.Fatalf("root is <%s>", name)
			}
			if len(stack) > 0 {
				parent := stack[len(stack)-1]
				pr := rules[parent.name]
				at := slices.Index(pr.children, name)
				if at < 0 {
					t.Fatalf("<%s> inside <%s>", name, parent.name)
				}
				if at < parent.lastAt {
					t.Errorf("<%s> after a later sibling in <%s>", name, parent.name)
				}
				parent.lastAt = at
				parent.kids[name]++
			}
			f := &frame{name: name, kids: map[string]int{}, attrs: map[string]string{}}
			for _, a := range x.Attr {
				if !slices.Contains(r.attrs, a.Name.Local) {
					t.Errorf("<%s %s=...>: attribute not in the schema", name, a.Name.Local)
				}
				f.attrs[a.Name.Local] = a.Value
			}
			for _, req := range r.required {
				if _, ok := f.attrs[req]; !ok {
					t.Errorf("<%s> lacks %s", name, req)
				}
			}
			stack = append(stack, f)
		case xml.EndElement:
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if f.name == "testcase" && f.kids["failure"]+f.kids["skipped"]+f.kids["error"] > 1 {
				t.Errorf("testcase %q has more than one outcome", f.attrs["name"])
			}
			if f.name == "testsuite" {
				suites++
				if f.attrs["tests"] != fmt.Sprint(f.kids["testcase"]) {
					t.Errorf("suite %q: tests=%s but %d testcases", f.attrs["name"], f.attrs["tests"], f.kids["testcase"])
				}
			}
		case xml.CharData:
			if len(stack) > 0 && strings.TrimSpace(string(x)) != "" && !rules[stack[len(stack)-1].name].text {
				t.Errorf("text inside <%s>", stack[len(stack)-1].name)
			}
		}
	}
	if suites == 0 {
		t.Error("no testsuite")
	}
	// Statement IDs lead the test names, which is what CI systems list.
	_, cases := parseJUnit(t, c)
	if _, ok := cases["MQTT 5.0 / PUBLISH :: [MQTT-3.3.1-4] PUBLISH with QoS 3 closes the connection"]; !ok {
		var names []string
		for n := range cases {
			names = append(names, n)
		}
		t.Errorf("no test named by its statement; names: %q", names)
	}
}
