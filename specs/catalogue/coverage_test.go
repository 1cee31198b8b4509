package catalogue

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
)

// synthetic is a small catalogue whose coverage is easy to work out by hand.
func synthetic() *Catalogue {
	st := func(v, id, section string, b Binds, tst Testable) Statement {
		return Statement{ID: id, Version: v, Section: section, Level: Must, Binds: b, Testable: tst, Text: "t"}
	}
	return build(map[string][]Statement{
		V5: {
			st(V5, "MQTT-1.5.4-1", "1.5.4", BindsServer, TestableYes),   // wire
			st(V5, "MQTT-1.5.4-2", "1.5.4", BindsBoth, TestablePartly),  // wire
			st(V5, "MQTT-1.5.4-3", "1.5.4", BindsClient, TestableNo),    // not wire
			st(V5, "MQTT-3.3.1-1", "3.3.1.1", BindsServer, TestableYes), // wire
			st(V5, "MQTT-3.3.2-1", "3.3.2.1", BindsServer, TestableNo),  // not wire: untestable
			st(V5, "MQTT-3.3.2-2", "3.3.2.1", BindsClient, TestableYes), // not wire: binds the client
		},
		V311: {
			st(V311, "MQTT-2.3.1-1", "2.3.1", BindsBoth, TestableYes),
			st(V311, "MQTT-3-8.3-4", "3.8.3", BindsServer, TestableYes),
		},
	})
}

func counts(total, wire, covered, wireCovered int, pct float64) Counts {
	return Counts{Total: total, Wire: wire, Covered: covered, WireCovered: wireCovered, Percent: pct}
}

func sameCounts(a, b Counts) bool {
	p := a.Percent - b.Percent
	a.Percent, b.Percent = 0, 0
	return a == b && math.Abs(p) < 1e-9
}

func TestComputeSynthetic(t *testing.T) {
	cat := synthetic()
	citations := []Citation{
		{V5, "MQTT-1.5.4-1", "s1"},
		{V5, "MQTT-1.5.4-1", "s2"},
		{V5, "MQTT-1.5.4-1", "s1"}, // repeated: counts once
		{V5, "MQTT-1.5.4-3", "s1"}, // covered, but not wire-testable
		{"5", "MQTT-3.3.1-1", "s3"},
		{V5, "MQTT-3.3.2-1", "s2"},
		{V311, "MQTT-3-8.3-4", "s4"},
		// Invalid:
		{V5, "MQTT-9.9.9-9", "bad1"},
		{"4", "MQTT-1.5.4-1", "bad2"},
		{V5, "MQTT-1.5.4-2", " "},
		{V311, "MQTT-3.8.3-4", "bad3"},
		{V5, "MQTT-2.3.1-1", "bad4"},
	}
	cov := Compute(cat, citations)

	if cov.Format != CoverageFormat || cov.Citations != len(citations) || cov.Specs != 4 {
		t.Errorf("format %q, citations %d, specs %d; want %q, %d, 4", cov.Format, cov.Citations, cov.Specs, CoverageFormat, len(citations))
	}
	if got := cov.CitedBy(V5, "MQTT-1.5.4-1"); !slices.Equal(got, []string{"s1", "s2"}) {
		t.Errorf("CitedBy(MQTT-1.5.4-1) = %q, want [s1 s2]", got)
	}
	if got := cov.CitedBy(V5, "MQTT-3.3.1-1"); !slices.Equal(got, []string{"s3"}) {
		t.Errorf(`CitedBy(MQTT-3.3.1-1) = %q, want [s3] (cited as version "5")`, got)
	}
	if got := cov.CitedBy(V5, "MQTT-1.5.4-2"); got != nil {
		t.Errorf("CitedBy(MQTT-1.5.4-2) = %q, want nil (its only citation has no spec name)", got)
	}

	v5, ok := cov.Version(V5)
	if !ok {
		t.Fatal("no 5.0 coverage")
	}
	if want := counts(6, 3, 4, 2, 200.0/3); !sameCounts(v5.Counts, want) {
		t.Errorf("5.0 counts %+v, want %+v", v5.Counts, want)
	}
	wantTop := []SectionCoverage{
		{"1.5", counts(3, 2, 2, 1, 50)},
		{"3.3", counts(3, 1, 2, 1, 100)},
	}
	wantFull := []SectionCoverage{
		{"1.5.4", counts(3, 2, 2, 1, 50)},
		{"3.3.1.1", counts(1, 1, 1, 1, 100)},
		{"3.3.2.1", counts(2, 0, 1, 0, 0)},
	}
	for _, tc := range []struct {
		name      string
		got, want []SectionCoverage
	}{{"top sections", v5.TopSections, wantTop}, {"sections", v5.Sections, wantFull}} {
		if len(tc.got) != len(tc.want) {
			t.Errorf("%s: %+v, want %+v", tc.name, tc.got, tc.want)
			continue
		}
		for i := range tc.want {
			if tc.got[i].Section != tc.want[i].Section || !sameCounts(tc.got[i].Counts, tc.want[i].Counts) {
				t.Errorf("%s[%d] = %+v, want %+v", tc.name, i, tc.got[i], tc.want[i])
			}
		}
	}
	if !slices.Equal(v5.Uncovered, []string{"MQTT-1.5.4-2"}) {
		t.Errorf("5.0 uncovered %q, want [MQTT-1.5.4-2]", v5.Uncovered)
	}
	if v5.MeetsTarget() {
		t.Error("5.0 at 66.7% meets the target")
	}

	v311, _ := cov.Version(V311)
	if want := counts(2, 2, 1, 1, 50); !sameCounts(v311.Counts, want) {
		t.Errorf("3.1.1 counts %+v, want %+v", v311.Counts, want)
	}
	if !slices.Equal(v311.Uncovered, []string{"MQTT-2.3.1-1"}) {
		t.Errorf("3.1.1 uncovered %q", v311.Uncovered)
	}
	if _, ok := cov.Version("9"); ok {
		t.Error("Version(9) found")
	}
}

func TestComputeCitationErrors(t *testing.T) {
	cov := Compute(synthetic(), []Citation{
		{V5, "MQTT-9.9.9-9", "bad1"},
		{"4", "MQTT-1.5.4-1", "bad2"},
		{V5, "MQTT-1.5.4-2", ""},
		{V311, "MQTT-3.8.3-4", "bad3"},
		{V5, "MQTT-2.3.1-1", "bad4"},
		{V5, "MQTT-1.5.4-1", "good"},
	})
	want := []struct{ spec, reason string }{
		{"bad1", "no such statement in MQTT 5.0"},
		{"bad2", `unknown MQTT version "4"`},
		{"", "the spec name is empty"},
		{"bad3", "the standard prints this ID as MQTT-3-8.3-4"},
		{"bad4", "(MQTT 3.1.1 has it)"},
	}
	if len(cov.Errors) != len(want) {
		t.Fatalf("errors %+v, want %d", cov.Errors, len(want))
	}
	for i, w := range want {
		e := cov.Errors[i]
		if e.Spec != w.spec || !strings.Contains(e.Reason, w.reason) {
			t.Errorf("error %d = %+v, want spec %q and reason containing %q", i, e, w.spec, w.reason)
		}
	}
	err := cov.Err()
	if err == nil || !strings.Contains(err.Error(), `spec "bad1" cites MQTT-9.9.9-9 (MQTT 5.0)`) {
		t.Errorf("Err() = %v", err)
	}
	if cov.Specs != 1 {
		t.Errorf("specs %d, want 1 (only valid citations count)", cov.Specs)
	}
	if Compute(synthetic(), nil).Err() != nil {
		t.Error("Err() without citations is not nil")
	}
}

func TestComputeRealCatalogue(t *testing.T) {
	cat := MustLoad()
	none := Compute(cat, nil)
	var all []Citation
	for _, v := range cat.Versions() {
		vc, _ := none.Version(v)
		if vc.Total != len(cat.Statements(v)) || vc.Wire == 0 || vc.Covered != 0 || vc.Percent != 0 {
			t.Errorf("MQTT %s without citations: %+v", v, vc.Counts)
		}
		if len(vc.Uncovered) != vc.Wire {
			t.Errorf("MQTT %s: %d uncovered, want all %d wire-testable", v, len(vc.Uncovered), vc.Wire)
		}
		sum := 0
		for _, s := range vc.Sections {
			sum += s.Total
		}
		if sum != vc.Total {
			t.Errorf("MQTT %s: sections add up to %d, want %d", v, sum, vc.Total)
		}
		for _, id := range vc.Uncovered {
			all = append(all, Citation{v, id, "every/" + id})
		}
	}
	full := Compute(cat, all)
	if full.Err() != nil {
		t.Fatalf("citing every wire-testable statement: %v", full.Err())
	}
	for _, vc := range full.Versions {
		if vc.WireCovered != vc.Wire || vc.Percent != 100 || !vc.MeetsTarget() || len(vc.Uncovered) != 0 {
			t.Errorf("MQTT %s fully cited: %+v, uncovered %q", vc.Version, vc.Counts, vc.Uncovered)
		}
	}
}

func TestCoverageJSONShape(t *testing.T) {
	cov := Compute(synthetic(), []Citation{{V5, "MQTT-1.5.4-1", "s1"}, {V5, "MQTT-0.0.0-1", "s2"}})
	data, err := json.Marshal(cov)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Format    string `json:"format"`
		Citations int    `json:"citations"`
		Specs     int    `json:"specs"`
		Versions  []map[string]json.RawMessage
		Errors    []map[string]any
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Format != "mqttspec.coverage/v1" || doc.Citations != 2 || doc.Specs != 1 || len(doc.Versions) != 2 {
		t.Fatalf("coverage JSON %s", data)
	}
	for _, key := range []string{"version", "total", "wire_testable", "covered", "wire_covered", "wire_covered_percent", "top_sections", "sections", "uncovered"} {
		if _, ok := doc.Versions[0][key]; !ok {
			t.Errorf("versions[0] lacks %q: %s", key, data)
		}
	}
	if v := string(doc.Versions[0]["version"]); v != `"3.1.1"` {
		t.Errorf("versions[0].version = %s, want 3.1.1 first", v)
	}
	if len(doc.Errors) != 1 || doc.Errors[0]["statement_id"] != "MQTT-0.0.0-1" || doc.Errors[0]["reason"] == "" {
		t.Errorf("errors %v", doc.Errors)
	}
	// Empty lists are [] rather than null.
	empty, _ := json.Marshal(Compute(build(map[string][]Statement{V5: {}}), nil))
	if !bytes.Contains(empty, []byte(`"errors":[]`)) || !bytes.Contains(empty, []byte(`"uncovered":[]`)) {
		t.Errorf("empty coverage JSON %s", empty)
	}
}
