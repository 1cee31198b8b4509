package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mqttspec/mqttspec/reports"
)

// Real results (cut down) of runs against Mosquitto and NATS.
var (
	mosquittoResults = filepath.Join("..", "..", "reports", "testdata", "mosquitto.json")
	natsResults      = filepath.Join("..", "..", "reports", "testdata", "nats.json")
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestReportRender(t *testing.T) {
	dir := t.TempDir()
	htmlPath, junitPath := filepath.Join(dir, "r.html"), filepath.Join(dir, "r.xml")
	r := runArgs("report", "render", mosquittoResults, "--html-report", htmlPath, "--junit-report", junitPath)
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if h := readFile(t, htmlPath); !strings.HasPrefix(h, "<!DOCTYPE html>") || !strings.Contains(h, `data-report="conformance"`) {
		t.Error("no HTML report written")
	}
	if x := readFile(t, junitPath); !strings.Contains(x, "<testsuites") || !strings.Contains(x, "[MQTT-2.2.2-2]") {
		t.Error("no JUnit written")
	}

	if r := runArgs("report", "render", mosquittoResults); r.code != exitUsage || !strings.Contains(r.stderr, "nothing to write") {
		t.Errorf("no output flag: exit %d, %q", r.code, r.stderr)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"schema":"something/else"}`), 0o644)
	if r := runArgs("report", "render", bad, "--html-report", htmlPath); r.code != exitUsage || !strings.Contains(r.stderr, "bad.json") ||
		!strings.Contains(r.stderr, "unknown report schema") {
		t.Errorf("bad file: exit %d, %q", r.code, r.stderr)
	}
	if r := runArgs("report", "render", filepath.Join(dir, "missing.json"), "--html-report", htmlPath); r.code != exitUsage || !strings.Contains(r.stderr, "missing.json") {
		t.Errorf("missing file: exit %d, %q", r.code, r.stderr)
	}
}

func TestReportMerge(t *testing.T) {
	dir := t.TempDir()
	htmlPath, jsonPath := filepath.Join(dir, "m.html"), filepath.Join(dir, "m.json")
	r := runArgs("report", "merge", mosquittoResults, natsResults, "--html-report", htmlPath, "--json", jsonPath)
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"mosquitto", "nats", "FAIL"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.stdout)
		}
	}
	if h := readFile(t, htmlPath); !strings.Contains(h, `data-report="matrix"`) || !strings.Contains(h, `data-broker="nats"`) {
		t.Error("no matrix HTML written")
	}
	f, err := os.Open(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	m, err := reports.ReadMatrixJSON(f)
	f.Close()
	if err != nil || len(m.Brokers) != 2 {
		t.Fatalf("matrix JSON: %v, %+v", err, m)
	}
	if r := runArgs("report", "merge", mosquittoResults); r.code != exitUsage {
		t.Errorf("merge without output: exit %d", r.code)
	}
	if r := runArgs("report", "merge", "--html-report", htmlPath); r.code != exitUsage {
		t.Errorf("merge without files: exit %d", r.code)
	}
}

func TestReportDiff(t *testing.T) {
	r := runArgs("report", "diff", mosquittoResults, mosquittoResults)
	if r.code != exitOK || !strings.Contains(r.stdout, "no verdict changed") {
		t.Errorf("same run: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}

	// A newer run in which one passing spec fails and one failing spec passes.
	f, err := os.Open(mosquittoResults)
	if err != nil {
		t.Fatal(err)
	}
	c, err := reports.ReadJSON(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	var broke, fixed string
	for i := range c.Specs {
		switch {
		case broke == "" && c.Specs[i].Verdict == reports.VerdictPass:
			c.Specs[i].Verdict, broke = reports.VerdictFail, c.Specs[i].Name
		case fixed == "" && c.Specs[i].Verdict == reports.VerdictFail:
			c.Specs[i].Verdict, fixed = reports.VerdictPass, c.Specs[i].Name
		}
	}
	newer := filepath.Join(t.TempDir(), "new.json")
	out, err := os.Create(newer)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WriteJSON(out); err != nil {
		t.Fatal(err)
	}
	out.Close()

	r = runArgs("report", "diff", mosquittoResults, newer)
	if r.code != exitFail || !strings.Contains(r.stderr, "regressions: 1") {
		t.Errorf("regression: exit %d, stderr %q", r.code, r.stderr)
	}
	reg, fix := strings.Index(r.stdout, "REGRESSION"), strings.Index(r.stdout, "FIX")
	if reg < 0 || fix < reg || !strings.Contains(r.stdout, broke) || !strings.Contains(r.stdout, fixed) {
		t.Errorf("diff output, want the regression first:\n%s", r.stdout)
	}
	// The other way round it is a fix and a regression again.
	if r := runArgs("report", "diff", newer, mosquittoResults); r.code != exitFail {
		t.Errorf("reverse diff: exit %d", r.code)
	}
	if r := runArgs("report", "diff", mosquittoResults); r.code != exitUsage {
		t.Errorf("one file: exit %d", r.code)
	}
}
