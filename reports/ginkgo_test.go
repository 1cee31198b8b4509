package reports

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"
)

func TestFromGinkgoVerdicts(t *testing.T) {
	failed := func(state types.SpecState, labels ...string) types.SpecReport {
		return withFailure(itReport("PUBLISH", "does the thing", state, labels...), "it went wrong")
	}
	skipped := func(msg string, labels ...string) types.SpecReport {
		sr := itReport("PUBLISH", "does the thing", types.SpecStateSkipped, labels...)
		sr.Failure = types.Failure{Message: msg}
		return sr
	}
	inBeforeEach := failed(types.SpecStateFailed, "MQTT-3.3.1-4")
	inBeforeEach.Failure.FailureNodeContext = types.FailureNodeInContainer
	inBeforeEach.Failure.FailureNodeType = types.NodeTypeBeforeEach
	inBeforeEach.Failure.FailureNodeLocation = types.CodeLocation{FileName: "/src/specs/publish_test.go", LineNumber: 7}
	panicked := failed(types.SpecStatePanicked, "MQTT-3.3.1-4")
	panicked.Failure.ForwardedPanic = "runtime error: index out of range"

	tests := []struct {
		name      string
		sr        types.SpecReport
		noLevels  bool
		want      Verdict
		message   string   // substring of Message ("" = Message must be empty)
		notes     []string // substrings, one per note, in order
		levels    []string // levels of the statements, in order
		mqttLevel string   // MQTTVersion
	}{
		{name: "passed MUST", sr: itReport("PUBLISH", "x", types.SpecStatePassed, "MQTT-3.3.1-4", LabelMQTT50),
			want: VerdictPass, levels: []string{"MUST"}, mqttLevel: MQTT50},
		{name: "failed MUST", sr: failed(types.SpecStateFailed, "MQTT-3.3.1-4"),
			want: VerdictFail, message: "it went wrong", levels: []string{"MUST"}},
		{name: "panicked", sr: panicked, want: VerdictFail, message: "[panicked] it went wrong\nruntime error: index out of range"},
		{name: "timedout", sr: failed(types.SpecStateTimedout, "MQTT-3.3.1-4"), want: VerdictFail, message: "[timedout] it went wrong"},
		{name: "interrupted", sr: failed(types.SpecStateInterrupted, "MQTT-3.3.1-4"), want: VerdictFail, message: "[interrupted]"},
		{name: "aborted", sr: failed(types.SpecStateAborted, "MQTT-3.3.1-4"), want: VerdictFail, message: "[aborted]"},
		{name: "failed in BeforeEach", sr: inBeforeEach, want: VerdictFail, message: "(in BeforeEach at /src/specs/publish_test.go:7)"},
		{name: "skipped unsupported", sr: skipped("unsupported: no shared subscriptions", "MQTT-3.3.1-4"),
			want: VerdictUnsupported, message: "no shared subscriptions"},
		{name: "skipped unsupported with spaces", sr: skipped("  unsupported:x"), want: VerdictUnsupported, message: "x"},
		{name: "skipped broker-down", sr: skipped("broker-down: EOF after CONNECT", "MQTT-3.3.1-4"),
			want: VerdictBrokerDown, message: "EOF after CONNECT"},
		{name: "skipped other", sr: skipped("needs TLS", "MQTT-3.3.1-4"), want: VerdictSkipped, message: "needs TLS"},
		{name: "skipped prefix is case-sensitive", sr: skipped("Unsupported: x"), want: VerdictSkipped, message: "Unsupported: x"},
		{name: "skipped by filter", sr: itReport("PUBLISH", "x", types.SpecStateSkipped), want: VerdictSkipped},
		{name: "pending", sr: itReport("PUBLISH", "x", types.SpecStatePending, "MQTT-3.3.1-4"), want: VerdictSkipped, message: "pending"},
		{name: "invalid state", sr: itReport("PUBLISH", "x", types.SpecStateInvalid), want: VerdictSkipped, message: "not run"},

		{name: "failed SHOULD", sr: failed(types.SpecStateFailed, "MQTT-4.7.3-1"),
			want: VerdictNonStrict, message: "it went wrong", levels: []string{"SHOULD"}},
		{name: "failed SHOULD and SHOULD NOT", sr: failed(types.SpecStateFailed, "MQTT-4.7.3-1", "MQTT-4.7.3-2"),
			want: VerdictNonStrict, levels: []string{"SHOULD", "SHOULD NOT"}, message: "it went wrong"},
		{name: "failed SHOULD and MUST", sr: failed(types.SpecStateFailed, "MQTT-4.7.3-1", "MQTT-3.3.1-5"),
			want: VerdictFail, levels: []string{"SHOULD", "MUST NOT"}, message: "it went wrong"},
		{name: "failed SHOULD and MAY", sr: failed(types.SpecStateFailed, "MQTT-4.7.3-1", "MQTT-3.1.4-5"),
			want: VerdictNonStrict, levels: []string{"SHOULD", "may"}, message: "it went wrong"},
		{name: "timed out SHOULD", sr: failed(types.SpecStateTimedout, "MQTT-4.7.3-1"), want: VerdictNonStrict, message: "[timedout]"},
		{name: "passed SHOULD", sr: itReport("PUBLISH", "x", types.SpecStatePassed, "MQTT-4.7.3-1"), want: VerdictPass, levels: []string{"SHOULD"}},
		{name: "failed MAY", sr: failed(types.SpecStateFailed, "MQTT-3.1.4-5"),
			want: VerdictInformational, message: "it went wrong", notes: []string{"optional (MAY) behaviour not observed: it went wrong"}},
		{name: "passed MAY and OPTIONAL", sr: itReport("PUBLISH", "x", types.SpecStatePassed, "MQTT-3.1.4-5", "MQTT-3.2.2-15"),
			want: VerdictInformational, notes: []string{"optional (MAY) behaviour observed"}, levels: []string{"may", "OPTIONAL"}},
		{name: "unsupported MAY stays unsupported", sr: skipped("unsupported: nope", "MQTT-3.1.4-5"), want: VerdictUnsupported, message: "nope"},
		{name: "broker-down SHOULD stays broker-down", sr: skipped("broker-down: gone", "MQTT-4.7.3-1"), want: VerdictBrokerDown, message: "gone"},
		{name: "failed, level unknown to catalogue", sr: failed(types.SpecStateFailed, "MQTT-9.9.9-9"), want: VerdictFail, message: "it went wrong", levels: []string{""}},
		{name: "failed, ID unknown to catalogue", sr: failed(types.SpecStateFailed, "MQTT-0.0.0-0"), want: VerdictFail, message: "it went wrong", levels: []string{""}},
		{name: "failed, no statements", sr: failed(types.SpecStateFailed), want: VerdictFail, message: "it went wrong"},
		{name: "failed SHOULD without LevelOf", sr: failed(types.SpecStateFailed, "MQTT-4.7.3-1"), noLevels: true,
			want: VerdictFail, message: "it went wrong", levels: []string{""}},
		{name: "level depends on version: 5.0 MAY", sr: failed(types.SpecStateFailed, "MQTT-3.1.2-24", LabelMQTT50),
			want: VerdictInformational, message: "it went wrong", levels: []string{"MAY"}, mqttLevel: MQTT50,
			notes: []string{"not observed"}},
		{name: "level depends on version: 3.1.1 MUST", sr: failed(types.SpecStateFailed, "MQTT-3.1.2-24", LabelMQTT311),
			want: VerdictFail, message: "it went wrong", levels: []string{"MUST"}, mqttLevel: MQTT311},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := AdapterOptions{LevelOf: levelOf}
			if tc.noLevels {
				opts.LevelOf = nil
			}
			c := FromGinkgo(types.Report{SpecReports: types.SpecReports{tc.sr}}, opts)
			if len(c.Specs) != 1 {
				t.Fatalf("got %d specs, want 1", len(c.Specs))
			}
			sp := c.Specs[0]
			if sp.Verdict != tc.want {
				t.Errorf("verdict = %q, want %q", sp.Verdict, tc.want)
			}
			if tc.message == "" && sp.Message != "" {
				t.Errorf("message = %q, want none", sp.Message)
			}
			if !strings.Contains(sp.Message, tc.message) {
				t.Errorf("message = %q, want it to contain %q", sp.Message, tc.message)
			}
			if len(sp.Notes) != len(tc.notes) {
				t.Fatalf("notes = %q, want %d", sp.Notes, len(tc.notes))
			}
			for i, n := range tc.notes {
				if !strings.Contains(sp.Notes[i], n) {
					t.Errorf("note %d = %q, want it to contain %q", i, sp.Notes[i], n)
				}
			}
			if tc.levels != nil {
				var got []string
				for _, st := range sp.Statements {
					got = append(got, st.Level)
				}
				if !slices.Equal(got, tc.levels) {
					t.Errorf("levels = %q, want %q", got, tc.levels)
				}
			}
			if sp.MQTTVersion != tc.mqttLevel {
				t.Errorf("MQTTVersion = %q, want %q", sp.MQTTVersion, tc.mqttLevel)
			}
		})
	}
}

func TestFromGinkgoFields(t *testing.T) {
	sr := withFailure(itReport("PUBLISH", "rejects QoS 3", types.SpecStateFailed, "MQTT-3.3.1-4", "slow"), "boom")
	sr.ContainerHierarchyTexts = []string{"PUBLISH", "QoS"}
	sr.ContainerHierarchyLabels = [][]string{{LabelMQTT311, "MQTT-3.3.1-5"}, {"MQTT-3.3.1-4"}}
	sr.LeafNodeLabels = []string{"MQTT-3.3.1-4", LabelMQTT50, "mqtt-5"}
	tr1 := TraceEntry{At: t0.Add(2 * time.Millisecond), Dir: DirRecv, Client: "sub", Hex: "d000", Summary: "PINGRESP"}
	tr2 := TraceEntry{At: t0, Dir: DirSend, Client: "pub", Hex: "c000", Summary: "PINGREQ"}
	tr3 := TraceEntry{At: t0.Add(time.Millisecond), Dir: DirNote, Client: "pub", Summary: "waiting"}
	sr.ReportEntries = types.ReportEntries{
		entry(EntryRequirement, "first"),
		entry(EntryRequirement, "second"),
		entry(EntryExpected, "closed"),
		entry(EntryObserved, stringer("still open")),
		entry(EntryTrace, traceJSON(tr1)),
		entry(EntryTrace, []TraceEntry{tr2}), // a value, not a string
		// A hand-built value as found in a report rehydrated by other means.
		{Name: EntryTrace, Value: types.ReportEntryValue{AsJSON: mustJSON(traceJSON(tr3))}},
		{Name: EntryNote, Value: types.ReportEntryValue{AsJSON: `"hand-built note"`, Representation: "hand-built note"}},
		entry(EntryNote, "second note"),
		entry(EntryNote, ""),
		entry(EntryTrace, "not json"),
		entry(EntryLogs, "log line 1"),
		entry(EntryLogs, "log line 2"),
		entry(EntryObserved, 42),
	}
	c := FromGinkgo(types.Report{SpecReports: types.SpecReports{sr}}, AdapterOptions{LevelOf: levelOf})
	sp := c.Specs[0]
	checks := []struct{ name, got, want string }{
		{"Name", sp.Name, "PUBLISH QoS rejects QoS 3"},
		{"Area", sp.Area, "PUBLISH"},
		{"MQTTVersion", sp.MQTTVersion, MQTT50},
		{"Requirement", sp.Requirement, "first\nsecond"},
		{"Expected", sp.Expected, "closed"},
		{"Observed", sp.Observed, "still open\n42"},
		{"Logs", sp.Logs, "log line 1\nlog line 2"},
		{"Location", sp.Location, "/src/specs/publish_test.go:42"},
		{"Message", sp.Message, "boom"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %q, want %q", ch.name, ch.got, ch.want)
		}
	}
	if want := []StatementRef{{"MQTT-3.3.1-5", "MUST NOT"}, {"MQTT-3.3.1-4", "MUST"}}; !reflect.DeepEqual(sp.Statements, want) {
		t.Errorf("Statements = %v, want %v", sp.Statements, want)
	}
	if want := []TraceEntry{tr2, tr3, tr1}; !reflect.DeepEqual(sp.Trace, want) {
		t.Errorf("Trace = %+v, want %+v (sorted by time)", sp.Trace, want)
	}
	if len(sp.Notes) != 3 || sp.Notes[0] != "hand-built note" || sp.Notes[1] != "second note" ||
		!strings.Contains(sp.Notes[2], "mqttspec.trace report entry could not be decoded") {
		t.Errorf("Notes = %q", sp.Notes)
	}
	if sp.Duration != 25*time.Millisecond {
		t.Errorf("Duration = %v", sp.Duration)
	}
	if !slices.Equal(c.Versions, []string{MQTT50}) {
		t.Errorf("Versions = %q, want derived [5.0]", c.Versions)
	}
}

type stringer string

func (s stringer) String() string { return string(s) }

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestFromGinkgoVersionLabels(t *testing.T) {
	tests := []struct {
		container, leaf []string
		want            string
	}{
		{nil, nil, ""},
		{nil, []string{LabelMQTT311}, MQTT311},
		{[]string{LabelMQTT311}, nil, MQTT311},
		{[]string{LabelMQTT311}, []string{LabelMQTT50}, MQTT50},
		{[]string{LabelMQTT50, LabelMQTT311}, []string{LabelMQTT50}, MQTT50}, // leaf wins even if deduplicated
		{nil, []string{"mqtt-5", "MQTT-5.0", "5.0"}, ""},                     // only the exact labels count
	}
	for _, tc := range tests {
		sr := itReport("CONNECT", "x", types.SpecStatePassed, tc.leaf...)
		sr.ContainerHierarchyLabels = [][]string{tc.container}
		c := FromGinkgo(types.Report{SpecReports: types.SpecReports{sr}}, AdapterOptions{})
		if got := c.Specs[0].MQTTVersion; got != tc.want {
			t.Errorf("container %q, leaf %q: version %q, want %q", tc.container, tc.leaf, got, tc.want)
		}
	}
}

func TestFromGinkgoSuiteNodesAndOrder(t *testing.T) {
	c := sampleConformance()
	if c.Schema != SchemaV1 || c.Tool.Version != "v0.1.0" || c.Target.Name != "reference" {
		t.Errorf("header not copied: %+v %+v %+v", c.Schema, c.Tool, c.Target)
	}
	if !c.Start.Equal(t0) || !c.End.Equal(t0.Add(3*time.Second)) {
		t.Errorf("Start/End = %v/%v", c.Start, c.End)
	}
	// 9 Its + 1 failed suite node; the passed AfterSuite and ReportAfterSuite are dropped.
	if len(c.Specs) != 10 {
		for _, sp := range c.Specs {
			t.Logf("%s %s %s", sp.Area, sp.Name, sp.Verdict)
		}
		t.Fatalf("got %d specs, want 10", len(c.Specs))
	}
	first := c.Specs[0]
	if first.Area != AreaSuite || first.Name != "SynchronizedBeforeSuite" || first.Verdict != VerdictFail ||
		first.Message != "could not start the broker" || first.Location != "/src/specs/suite_test.go:22" ||
		!strings.HasPrefix(first.ID, "suite-") {
		t.Errorf("synthetic suite spec = %+v", first)
	}
	var areas []string
	ids := map[string]bool{}
	for _, sp := range c.Specs {
		areas = append(areas, sp.Area)
		if ids[sp.ID] {
			t.Errorf("duplicate ID %q", sp.ID)
		}
		ids[sp.ID] = true
	}
	if want := []string{AreaSuite, "CONNECT", "CONNECT", "CONNECT", "Keep alive", "PUBLISH", "Retained messages", "Shared subscriptions", "Topics", "Topics"}; !slices.Equal(areas, want) {
		t.Errorf("areas in order %q, want %q", areas, want)
	}
	if !slices.Equal(c.Versions, []string{MQTT311, MQTT50}) {
		t.Errorf("Versions = %q", c.Versions)
	}

	// IDs are stable from run to run and differ by version.
	again := sampleConformance()
	for i := range c.Specs {
		if c.Specs[i].ID != again.Specs[i].ID {
			t.Errorf("spec %d: ID %q then %q", i, c.Specs[i].ID, again.Specs[i].ID)
		}
	}

	// Explicit versions win over derived ones.
	c2 := FromGinkgo(sampleReport(), AdapterOptions{Versions: []string{MQTT50}})
	if !slices.Equal(c2.Versions, []string{MQTT50}) {
		t.Errorf("Versions = %q, want the given [5.0]", c2.Versions)
	}
	if c2.Tool.Name != "mqttspec" {
		t.Errorf("default tool name = %q", c2.Tool.Name)
	}
}

func TestFromGinkgoDuplicateNames(t *testing.T) {
	a := itReport("CONNECT", "same", types.SpecStatePassed)
	b := itReport("CONNECT", "same", types.SpecStateFailed)
	b.LeafNodeLocation.LineNumber = 20
	c := FromGinkgo(types.Report{SpecReports: types.SpecReports{b, a}}, AdapterOptions{})
	if c.Specs[0].Verdict != VerdictPass || c.Specs[1].Verdict != VerdictFail {
		t.Errorf("not ordered by location: %v, %v", c.Specs[0].Verdict, c.Specs[1].Verdict)
	}
	if c.Specs[1].ID != c.Specs[0].ID+"-2" {
		t.Errorf("IDs %q, %q: want the second suffixed -2", c.Specs[0].ID, c.Specs[1].ID)
	}
}

// A report that went through Ginkgo's own JSON form (as with --json-report,
// or a ReportAfterSuite in a parallel run) gives the same model.
func TestFromGinkgoRehydratedReport(t *testing.T) {
	data, err := json.Marshal(sampleReport())
	if err != nil {
		t.Fatal(err)
	}
	var r types.Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	opts := AdapterOptions{LevelOf: levelOf}
	got, want := FromGinkgo(r, opts), FromGinkgo(sampleReport(), opts)
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("rehydrated report differs:\n%s\nwant\n%s", g, w)
	}
}

func TestClassifyLevel(t *testing.T) {
	for level, want := range map[string]levelClass{
		"MUST": levelMust, "must not": levelMust, "SHALL": levelMust, "REQUIRED": levelMust, "": levelMust, "bogus": levelMust,
		"SHOULD": levelShould, "should not": levelShould, "SHOULD_NOT": levelShould, " Should-Not ": levelShould,
		"RECOMMENDED": levelShould, "NOT RECOMMENDED": levelShould,
		"MAY": levelMay, "may": levelMay, "OPTIONAL": levelMay,
	} {
		if got := classifyLevel(level); got != want {
			t.Errorf("classifyLevel(%q) = %d, want %d", level, got, want)
		}
	}
}

func ExampleFromGinkgo() {
	r := types.Report{SpecReports: types.SpecReports{{
		ContainerHierarchyTexts: []string{"PUBLISH"},
		LeafNodeType:            types.NodeTypeIt,
		LeafNodeText:            "with QoS 3 closes the connection",
		LeafNodeLabels:          []string{"MQTT-3.3.1-4", "mqtt-5.0"},
		State:                   types.SpecStateFailed,
		Failure:                 types.Failure{Message: "connection stayed open"},
	}}}
	c := FromGinkgo(r, AdapterOptions{LevelOf: func(version, id string) string { return "MUST" }})
	sp := c.Specs[0]
	fmt.Println(CaseName(sp), "|", sp.MQTTVersion, sp.Area, sp.Verdict, sp.Statements[0].Level, c.ExitCode(false))
	// Output: [MQTT-3.3.1-4] PUBLISH with QoS 3 closes the connection | 5.0 PUBLISH fail MUST 1
}
