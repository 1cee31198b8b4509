package catalogue

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestFilterMatch(t *testing.T) {
	cat := synthetic()
	cov := Compute(cat, []Citation{{V5, "MQTT-1.5.4-1", "s1"}})
	a, _ := cat.Lookup(V5, "MQTT-1.5.4-1")   // wire, covered
	b, _ := cat.Lookup(V5, "MQTT-1.5.4-2")   // wire, uncovered
	c, _ := cat.Lookup(V5, "MQTT-1.5.4-3")   // not wire
	d, _ := cat.Lookup(V311, "MQTT-2.3.1-1") // other version
	neg := a
	neg.Level = MustNot
	for _, tc := range []struct {
		name string
		f    Filter
		st   Statement
		want bool
	}{
		{"zero filter", Filter{}, d, true},
		{"version", Filter{Version: V5}, a, true},
		{"other version", Filter{Version: V5}, d, false},
		{"level MUST", Filter{Level: Must}, a, true},
		{"MUST NOT is MUST", Filter{Level: Must}, neg, true},
		{"level SHOULD", Filter{Level: Should}, a, false},
		{"uncovered: covered", Filter{Uncovered: true}, a, false},
		{"uncovered: uncovered", Filter{Uncovered: true}, b, true},
		{"uncovered: not wire-testable", Filter{Uncovered: true}, c, false},
	} {
		if got := tc.f.Match(tc.st, cov); got != tc.want {
			t.Errorf("%s: Match(%s) = %v, want %v", tc.name, tc.st.ID, got, tc.want)
		}
	}
}

func TestWriteText(t *testing.T) {
	cat := MustLoad()
	var b bytes.Buffer
	if err := WriteText(&b, cat, Compute(cat, nil), Filter{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"MQTT 3.1.1: 141 statements\n",
		"MQTT 5.0: 251 statements\n",
		"\n1.5.3\n  MQTT-1.5.3-1  ",
		"binds the client only",
		"note: ID printed with a hyphen instead of a dot (MQTT-3-8.3-4)",
		NoSpecsNotice,
		"\nMQTT 5.0: 0 of ",
		"  section ",
		"\n  3.3 ",
		"\n    3.3.1.1 ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q", want)
		}
	}
	if strings.Contains(out, "Citation errors") {
		t.Error("text output reports citation errors without any citation")
	}
}

func TestWriteTextFiltered(t *testing.T) {
	cat := synthetic()
	cov := Compute(cat, []Citation{{V5, "MQTT-1.5.4-1", "suite/one"}, {V5, "MQTT-7.7.7-7", "suite/bad"}})
	var b bytes.Buffer
	if err := WriteText(&b, cat, cov, Filter{Version: V5}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"covered by 1 spec\n",
		"      spec: suite/one\n",
		"1 valid citation from 1 conformance spec",
		"MQTT 5.0: 1 of 3 wire-testable statements covered (33.3%, target 95%)",
		"Citation errors (1)",
		`spec "suite/bad" cites MQTT-7.7.7-7`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "MQTT 3.1.1") || strings.Contains(out, NoSpecsNotice) {
		t.Errorf("filtered output mentions 3.1.1 or the no-specs notice:\n%s", out)
	}

	b.Reset()
	if err := WriteText(&b, cat, cov, Filter{Version: V5, Uncovered: true}); err != nil {
		t.Fatal(err)
	}
	out = b.String()
	if !strings.Contains(out, "MQTT 5.0: 6 statements, 2 shown (uncovered wire-testable only)") ||
		!strings.Contains(out, "  MQTT-1.5.4-2 ") || !strings.Contains(out, "  MQTT-3.3.1-1 ") || strings.Contains(out, "  MQTT-1.5.4-1 ") {
		t.Errorf("--uncovered output:\n%s", out)
	}

	b.Reset()
	if err := WriteText(&b, cat, cov, Filter{Level: May}); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); strings.Count(out, "(no statement matches)") != 2 {
		t.Errorf("level MAY output:\n%s", out)
	}
}

func TestWriteJSON(t *testing.T) {
	cat := MustLoad()
	for _, tc := range []struct {
		name       string
		citations  []Citation
		f          Filter
		statements int
		versions   []string
		notice     bool
	}{
		{"all, no specs", nil, Filter{}, 141 + 251, []string{V311, V5}, true},
		{"5.0 only", []Citation{{V5, "MQTT-3.3.1-1", "pub/dup"}}, Filter{Version: V5}, 251, []string{V5}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteJSON(&b, cat, Compute(cat, tc.citations), tc.f); err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Format     string `json:"format"`
				Notice     string `json:"notice"`
				Statements []struct {
					ID           string    `json:"id"`
					Version      string    `json:"version"`
					Level        string    `json:"level"`
					Text         string    `json:"text"`
					WireTestable *bool     `json:"wire_testable"`
					Specs        *[]string `json:"specs"`
				} `json:"statements"`
				Coverage struct {
					Format   string `json:"format"`
					Versions []struct {
						Version string `json:"version"`
					} `json:"versions"`
				} `json:"coverage"`
			}
			var top map[string]json.RawMessage
			if err := json.Unmarshal(b.Bytes(), &top); err != nil {
				t.Fatal(err)
			}
			for _, key := range []string{"format", "filter", "statements", "coverage"} {
				if _, ok := top[key]; !ok {
					t.Errorf("document lacks %q", key)
				}
			}
			if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Format != DocumentFormat || doc.Coverage.Format != CoverageFormat {
				t.Errorf("formats %q / %q", doc.Format, doc.Coverage.Format)
			}
			if (doc.Notice == NoSpecsNotice) != tc.notice {
				t.Errorf("notice %q", doc.Notice)
			}
			if len(doc.Statements) != tc.statements {
				t.Errorf("%d statements, want %d", len(doc.Statements), tc.statements)
			}
			var vs []string
			for _, v := range doc.Coverage.Versions {
				vs = append(vs, v.Version)
			}
			if strings.Join(vs, ",") != strings.Join(tc.versions, ",") {
				t.Errorf("coverage versions %q, want %q", vs, tc.versions)
			}
			for _, st := range doc.Statements {
				if st.ID == "" || st.Version == "" || st.Level == "" || st.Text == "" || st.WireTestable == nil || st.Specs == nil {
					t.Fatalf("incomplete statement %+v", st)
				}
				if st.ID == "MQTT-3.3.1-1" && st.Version == V5 && tc.citations != nil && (len(*st.Specs) != 1 || (*st.Specs)[0] != "pub/dup") {
					t.Errorf("MQTT-3.3.1-1 specs %q", *st.Specs)
				}
			}
		})
	}
}
