package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mqttspec/mqttspec/specs/catalogue"
)

// withCitations makes the catalogue command see citations for the rest of
// the test.
func withCitations(t *testing.T, citations ...catalogue.Citation) {
	t.Helper()
	old := specCitations
	specCitations = func() []catalogue.Citation { return citations }
	t.Cleanup(func() { specCitations = old })
}

func TestCatalogueJSON(t *testing.T) {
	r := runArgs("catalogue", "--json")
	if r.code != exitOK {
		t.Fatalf("exit %d, want 0; stderr %s", r.code, r.stderr)
	}
	var doc struct {
		Format     string `json:"format"`
		Notice     string `json:"notice"`
		Statements []struct {
			ID    string   `json:"id"`
			Specs []string `json:"specs"`
		} `json:"statements"`
		Coverage struct {
			Format   string `json:"format"`
			Versions []struct {
				Version string `json:"version"`
				Total   int    `json:"total"`
			} `json:"versions"`
		} `json:"coverage"`
	}
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
	}
	if dec.More() {
		t.Error("stdout holds more than one JSON document")
	}
	if doc.Format != catalogue.DocumentFormat || doc.Coverage.Format != catalogue.CoverageFormat {
		t.Errorf("formats %q, %q", doc.Format, doc.Coverage.Format)
	}
	// The specs built into this binary are listed: some statement is covered.
	covered := 0
	for _, st := range doc.Statements {
		if len(st.Specs) > 0 {
			covered++
		}
	}
	if doc.Notice != "" || covered == 0 {
		t.Errorf("notice %q and %d covered statements; want the built-in specs listed", doc.Notice, covered)
	}
	if len(doc.Statements) != 141+251 || len(doc.Coverage.Versions) != 2 {
		t.Errorf("%d statements, %d coverage versions; want 392, 2", len(doc.Statements), len(doc.Coverage.Versions))
	}
	if r.stderr != "" {
		t.Errorf("stderr %q, want empty", r.stderr)
	}
}

func TestCatalogueText(t *testing.T) {
	withCitations(t) // as a build without specs
	r := runArgs("catalogue", "--mqtt", "5", "--level", "must")
	if r.code != exitOK {
		t.Fatalf("exit %d, want 0; stderr %s", r.code, r.stderr)
	}
	wantContains(t, "stdout", r.stdout,
		"MQTT 5.0: 251 statements",
		"\n1.5.4\n  MQTT-1.5.4-1 ",
		catalogue.NoSpecsNotice,
		"wire-testable statements covered (0.0%, target 95%)",
	)
	if strings.Contains(r.stdout, "MQTT 3.1.1") {
		t.Errorf("--mqtt 5 output mentions 3.1.1")
	}
}

func TestCatalogueCitations(t *testing.T) {
	withCitations(t, catalogue.Citation{Version: "5.0", StatementID: "MQTT-3.3.1-1", Spec: "publish/dup on QoS 0"})
	r := runArgs("catalogue", "--mqtt", "5")
	if r.code != exitOK {
		t.Fatalf("exit %d, want 0; stderr %s", r.code, r.stderr)
	}
	wantContains(t, r.stdout, r.stdout, "spec: publish/dup on QoS 0", "1 valid citation from 1 conformance spec")
	if strings.Contains(r.stdout, catalogue.NoSpecsNotice) {
		t.Error("output says no specs are registered")
	}

	withCitations(t, catalogue.Citation{Version: "5.0", StatementID: "MQTT-9.9.9-1", Spec: "bogus"})
	r = runArgs("catalogue", "--json")
	if r.code != exitFail {
		t.Fatalf("unknown ID: exit %d, want %d", r.code, exitFail)
	}
	if !json.Valid([]byte(r.stdout)) || !strings.Contains(r.stdout, `"statement_id": "MQTT-9.9.9-1"`) {
		t.Errorf("unknown ID: stdout lacks the error:\n%.2000s", r.stdout)
	}
	wantContains(t, "stderr", r.stderr, "catalogue lacks")
}

func TestCatalogueUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"catalogue", "--mqtt", "9"},
		{"catalogue", "--mqtt", "3.1"},
		{"catalogue", "--level", "MUST NOT"},
		{"catalogue", "extra"},
		{"catalogue", "--bogus"},
	} {
		r := runArgs(args...)
		if r.code != exitUsage {
			t.Errorf("%q: exit %d, want %d; stderr %s", args, r.code, exitUsage, r.stderr)
		}
		if !strings.Contains(r.stderr, "Usage: mqttspec catalogue") {
			t.Errorf("%q: stderr lacks the usage hint: %s", args, r.stderr)
		}
		if r.stdout != "" {
			t.Errorf("%q: stdout %q, want empty", args, r.stdout)
		}
	}
}
