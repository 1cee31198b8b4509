package reports

import (
	"bytes"
	"testing"
)

func TestExpectationsRoundTripAndCompare(t *testing.T) {
	run := &Conformance{Target: TargetInfo{Name: "b"}, Specs: []Spec{
		{Name: "A passes", MQTTVersion: "5.0", Verdict: VerdictPass, Statements: []StatementRef{{ID: "MQTT-1"}}},
		{Name: "B fails", MQTTVersion: "5.0", Verdict: VerdictFail, Message: "observed X\nmore"},
	}}
	exp := ExpectationsFrom(run, nil)
	if exp.Specs[1].Note != "observed X" {
		t.Fatalf("note %q", exp.Specs[1].Note)
	}
	exp.Specs[1].Note = "explained by hand"
	var buf bytes.Buffer
	if err := exp.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ReadExpectations(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if again := ExpectationsFrom(run, back); again.Specs[1].Note != "explained by hand" {
		t.Fatal("a hand-written note was lost on rewrite")
	}
	if ch := Compare(back, run); len(ch) != 0 {
		t.Fatalf("identical run reports changes: %v", ch)
	}
	run.Specs[0].Verdict = VerdictFail
	run.Specs[1].Verdict = VerdictPass
	run.Specs = append(run.Specs, Spec{Name: "C new", MQTTVersion: "3.1.1", Verdict: VerdictPass})
	ch := Compare(back, run)
	if len(ch) != 3 || !ch[0].Regression() || ch[0].Key != "5.0 | A passes" {
		t.Fatalf("changes %v: want 3 with the regression first", ch)
	}
}
