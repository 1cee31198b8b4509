package reports

import (
	"bytes"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		old, new Verdict
		want     string
	}{
		{VerdictPass, VerdictFail, DiffRegression},
		{VerdictPass, VerdictNonStrict, DiffRegression},
		{VerdictPass, VerdictBrokerDown, DiffRegression},
		{VerdictNonStrict, VerdictFail, DiffRegression},
		{VerdictUnsupported, VerdictFail, DiffRegression},
		{"", VerdictFail, DiffRegression},
		{VerdictPass, "", DiffRegression},
		{VerdictInformational, "", DiffRegression},
		{VerdictFail, VerdictPass, DiffFix},
		{VerdictFail, VerdictNonStrict, DiffFix},
		{VerdictBrokerDown, VerdictPass, DiffFix},
		{VerdictFail, VerdictUnsupported, DiffChanged},
		{VerdictFail, VerdictBrokerDown, DiffChanged}, // down says nothing about the fix
		{VerdictPass, VerdictUnsupported, DiffChanged},
		{VerdictUnsupported, "", DiffChanged},
		{VerdictFail, "", DiffChanged},
		{"", VerdictPass, DiffNew},
		{"", VerdictUnsupported, DiffNew},
	}
	for _, tc := range tests {
		if got := classify(tc.old, tc.new); got != tc.want {
			t.Errorf("classify(%q, %q) = %s, want %s", tc.old, tc.new, got, tc.want)
		}
	}
}

func TestDiff(t *testing.T) {
	spec := func(name, version string, v Verdict, stmts ...string) Spec {
		sp := Spec{Name: name, MQTTVersion: version, Verdict: v, Message: "why " + name}
		for _, s := range stmts {
			sp.Statements = append(sp.Statements, StatementRef{ID: s})
		}
		return sp
	}
	old := &Conformance{Target: TargetInfo{Name: "mosquitto 2.0.11", Profile: "mosquitto"}, Specs: []Spec{
		spec("A", MQTT50, VerdictPass, "MQTT-1"),
		spec("A", MQTT311, VerdictPass, "MQTT-1"),
		spec("B", MQTT50, VerdictFail),
		spec("C", MQTT50, VerdictPass),
		spec("same", MQTT50, VerdictFail),
	}}
	cur := &Conformance{Target: TargetInfo{Name: "mosquitto 2.0.12", Profile: "mosquitto"}, Specs: []Spec{
		spec("A", MQTT50, VerdictFail, "MQTT-1"), // regression
		spec("A", MQTT311, VerdictPass, "MQTT-1"),
		spec("B", MQTT50, VerdictPass), // fix
		// C gone: regression
		spec("D", MQTT311, VerdictPass), // new
		spec("same", MQTT50, VerdictFail),
	}}
	d := Diff(old, cur)
	if !d.SameTarget {
		t.Error("two versions of one profile are the same target")
	}
	var got []string
	for _, c := range d.Changes {
		got = append(got, c.Kind+" "+c.Key)
	}
	want := []string{"regression 5.0 | A", "regression 5.0 | C", "fix 5.0 | B", "new 3.1.1 | D"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if d.Regressions() != 2 {
		t.Errorf("Regressions() = %d", d.Regressions())
	}
	if st := d.Changes[0].Statements; len(st) != 1 || st[0] != "MQTT-1" {
		t.Errorf("statements of the first change: %v", st)
	}
	var buf bytes.Buffer
	if err := d.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"4 changes: 2 regressions, 1 fixes, 1 new, 0 other", "REGRESSION 5.0 | A [MQTT-1]: pass -> fail (why A)", "5.0 | C: pass -> (absent)"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "REGRESSION") > strings.Index(out, "FIX") {
		t.Error("regressions are not listed first")
	}

	other := Diff(old, &Conformance{Target: TargetInfo{Profile: "nats"}, Specs: old.Specs})
	if other.SameTarget || len(other.Changes) != 0 {
		t.Errorf("diff against another broker with the same verdicts: same=%v, %d changes", other.SameTarget, len(other.Changes))
	}
	buf.Reset()
	other.WriteText(&buf)
	if !strings.Contains(buf.String(), "different targets") || !strings.Contains(buf.String(), "no verdict changed") {
		t.Errorf("text: %s", buf.String())
	}
}
