package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// WriteJUnit writes c as JUnit XML in the form Jenkins, GitLab, GitHub
// Actions test reporters and most other CI systems read:
//
//   - one <testsuites> holding one <testsuite> per (MQTT version, area),
//     named "MQTT 5.0 / PUBLISH" ("PUBLISH" for version-independent specs),
//     with the target and tool as <properties>;
//   - one <testcase> per spec, named by its statement IDs and its text,
//     e.g. "[MQTT-3.3.1-4] PUBLISH with QoS 3 closes the connection", with
//     classname "mqttspec.<area>" and time in seconds;
//   - fail: a <failure> whose text gives Requirement, Expected, Observed,
//     the message and the location; the wire trace goes to <system-out> and
//     the broker's log excerpt (else the captured log) to <system-err>;
//   - non-strict: a <failure> (type "non-strict") when c.Strict, otherwise a
//     passing testcase whose <system-out> says which SHOULD was not met;
//   - informational: a passing testcase with its notes in <system-out>;
//   - unsupported, broker-down, skipped: <skipped message="verdict: why">.
//
// The failures and skipped counts follow the same rules, so a CI system
// marks the run failed exactly when ExitCode(c.Strict) is 1. No <error> is
// ever written.
func WriteJUnit(w io.Writer, c *Conformance) error {
	doc := junitSuites{Name: "mqttspec conformance"}
	if c.Target.Name != "" {
		doc.Name += ": " + c.Target.Name
	}

	type groupKey struct{ version, area string }
	groups := map[groupKey]*junitSuite{}
	var order []groupKey
	for _, sp := range c.Specs {
		k := groupKey{sp.MQTTVersion, sp.Area}
		g := groups[k]
		if g == nil {
			g = &junitSuite{Name: suiteName(sp.MQTTVersion, sp.Area), Properties: junitProperties(c)}
			if !c.Start.IsZero() {
				g.Timestamp = c.Start.UTC().Format("2006-01-02T15:04:05")
			}
			groups[k] = g
			order = append(order, k)
		}
		tc := junitCase(sp, c.Strict)
		g.Tests++
		g.duration += sp.Duration
		switch {
		case tc.Failure != nil:
			g.Failures++
		case tc.Skipped != nil:
			g.Skipped++
		}
		g.Cases = append(g.Cases, tc)
	}
	// Versions in order ("" last), then areas; AreaSuite first within a version.
	slices.SortStableFunc(order, func(a, b groupKey) int {
		if a.version != b.version {
			switch {
			case a.version == "":
				return 1
			case b.version == "":
				return -1
			}
			return strings.Compare(a.version, b.version)
		}
		if (a.area == AreaSuite) != (b.area == AreaSuite) {
			if a.area == AreaSuite {
				return -1
			}
			return 1
		}
		return strings.Compare(a.area, b.area)
	})
	var total time.Duration
	for i, k := range order {
		g := groups[k]
		g.ID = i
		g.Time = seconds(g.duration)
		total += g.duration
		doc.Tests += g.Tests
		doc.Failures += g.Failures
		doc.Skipped += g.Skipped
		doc.Suites = append(doc.Suites, *g)
	}
	if !c.Start.IsZero() && !c.End.IsZero() && c.End.After(c.Start) {
		total = c.End.Sub(c.Start)
	}
	doc.Time = seconds(total)

	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("reports: writing JUnit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("reports: writing JUnit: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("reports: writing JUnit: %w", err)
	}
	return nil
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	ID         int             `xml:"id,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitTestCase `xml:"testcase"`

	duration time.Duration
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitTestCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut *junitText    `xml:"system-out,omitempty"`
	SystemErr *junitText    `xml:"system-err,omitempty"`
}

// junitText is element text written as CDATA, so that multi-line evidence
// stays readable in the file; cdata() makes it safe first.
type junitText struct {
	Text string `xml:",cdata"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

func suiteName(version, area string) string {
	if area == "" {
		area = "(no area)"
	}
	if version == "" {
		return area
	}
	return "MQTT " + version + " / " + area
}

func junitProperties(c *Conformance) []junitProperty {
	var ps []junitProperty
	add := func(name, value string) {
		if value != "" {
			ps = append(ps, junitProperty{name, value})
		}
	}
	add("tool", strings.TrimSpace(c.Tool.Name+" "+c.Tool.Version))
	add("target.name", c.Target.Name)
	add("target.url", RedactURL(c.Target.URL))
	add("target.profile", c.Target.Profile)
	add("target.brokerVersion", c.Target.BrokerVersion)
	add("mqtt.versions", strings.Join(c.Versions, ","))
	add("strict", fmt.Sprint(c.Strict))
	return ps
}

// CaseName is the name a spec gets in JUnit and in the HTML report: its
// statement IDs in brackets, then its full text.
func CaseName(sp Spec) string {
	var b strings.Builder
	for _, st := range sp.Statements {
		b.WriteString("[" + st.ID + "] ")
	}
	b.WriteString(sp.Name)
	return b.String()
}

func junitCase(sp Spec, strict bool) junitTestCase {
	classname := "mqttspec"
	if sp.Area != "" {
		classname += "." + sp.Area
	}
	tc := junitTestCase{Name: CaseName(sp), Classname: classname, Time: seconds(sp.Duration)}
	var out []string
	switch sp.Verdict {
	case VerdictFail, VerdictNonStrict:
		if sp.Verdict == VerdictFail || strict {
			tc.Failure = &junitFailure{
				Message: failureHeadline(sp),
				Type:    string(sp.Verdict),
				Text:    xmlSafe(evidenceText(sp)),
			}
		} else {
			out = append(out, "non-strict: a SHOULD-level statement was not met; this fails the run only with --strict.\n"+evidenceText(sp))
		}
		if len(sp.Trace) > 0 {
			out = append(out, "Wire trace:\n"+traceText(sp.Trace))
		}
		tc.SystemErr = cdata(logText(sp))
	case VerdictUnsupported, VerdictBrokerDown, VerdictSkipped:
		msg := string(sp.Verdict)
		if sp.Message != "" {
			msg += ": " + sp.Message
		}
		tc.Skipped = &junitSkipped{Message: msg}
	case VerdictInformational:
		out = append(out, "informational: this spec records an optional (MAY) behaviour and never fails the run.")
	}
	if len(sp.Notes) > 0 {
		out = append(out, "Notes:\n- "+strings.Join(sp.Notes, "\n- "))
	}
	tc.SystemOut = cdata(strings.Join(out, "\n\n"))
	return tc
}

// logText is the broker log a CI system shows with a failure: the spec's
// excerpt (its time window) when there is one, else the harness's capture.
func logText(sp Spec) string {
	ex := sp.LogExcerpt
	switch {
	case ex == nil:
		return sp.Logs
	case ex.Method == LogWindow && ex.Text == "":
		return fmt.Sprintf("The broker logged nothing between %s and %s.", ex.From.UTC().Format(time.RFC3339Nano), ex.To.UTC().Format(time.RFC3339Nano))
	case ex.Method == LogWindow:
		return fmt.Sprintf("Broker log between %s and %s:\n%s", ex.From.UTC().Format(time.RFC3339Nano), ex.To.UTC().Format(time.RFC3339Nano), ex.Text)
	}
	return "Broker log (last lines):\n" + ex.Text
}

func cdata(s string) *junitText {
	if s == "" {
		return nil
	}
	return &junitText{xmlSafe(s)}
}

// xmlSafe replaces what XML 1.0 cannot carry even in CDATA (control
// characters, invalid UTF-8, U+FFFE/U+FFFF) with U+FFFD. encoding/xml escapes
// attributes and character data itself, but not CDATA sections.
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r',
			r >= 0x20 && r <= 0xD7FF,
			r >= 0xE000 && r <= 0xFFFD,
			r >= 0x10000 && r <= 0x10FFFF:
			return r
		}
		return '\uFFFD'
	}, s)
}

func failureHeadline(sp Spec) string {
	msg := sp.Message
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	if msg == "" {
		msg = sp.Observed
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
	}
	if msg == "" {
		msg = string(sp.Verdict)
	}
	return msg
}

// evidenceText is a spec's Requirement / Expected / Observed recap, h2spec
// style, followed by its message and location.
func evidenceText(sp Spec) string {
	var b strings.Builder
	field := func(name, value string) {
		if value == "" {
			return
		}
		value = strings.ReplaceAll(value, "\n", "\n    ")
		fmt.Fprintf(&b, "%-12s %s\n", name+":", value)
	}
	if len(sp.Statements) > 0 {
		var ids []string
		for _, st := range sp.Statements {
			if st.Level != "" {
				ids = append(ids, st.ID+" ("+st.Level+")")
			} else {
				ids = append(ids, st.ID)
			}
		}
		field("Statements", strings.Join(ids, ", "))
	}
	if sp.MQTTVersion != "" {
		field("MQTT", sp.MQTTVersion)
	}
	field("Requirement", sp.Requirement)
	field("Expected", sp.Expected)
	field("Observed", sp.Observed)
	field("Message", sp.Message)
	field("Location", sp.Location)
	return b.String()
}

// traceText renders a wire trace one entry per line: offset from the first
// entry, direction, client, summary and hex.
func traceText(tr []TraceEntry) string {
	var b strings.Builder
	for _, e := range tr {
		fmt.Fprintf(&b, "%10s %-4s %-8s %s", traceOffset(tr[0].At, e.At), e.Dir, e.Client, e.Summary)
		if e.Hex != "" {
			fmt.Fprintf(&b, "  [%s]", e.Hex)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// traceOffset formats at relative to start as "+12.345ms".
func traceOffset(start, at time.Time) string {
	if start.IsZero() || at.IsZero() {
		return ""
	}
	d := at.Sub(start)
	return fmt.Sprintf("+%.3fms", float64(d)/float64(time.Millisecond))
}

func seconds(d time.Duration) string {
	return fmt.Sprintf("%.3f", d.Seconds())
}
