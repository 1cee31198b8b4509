package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mqttspec/mqttspec/fuzz"
)

func TestFuzzUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"fuzz", "--duration", "0"},
		{"fuzz", "--target", "tcp://127.0.0.1:1", "--broker", "reference"},
		{"fuzz", "--workers", "0"},
		{"fuzz", "--mqtt", "7"},
		{"fuzz", "--target", "http://127.0.0.1:1"},
		{"fuzz", "replay"},
		{"fuzz", "replay", filepath.Join(t.TempDir(), "missing.json")},
		{"fuzz", "minimize", filepath.Join(t.TempDir(), "missing.json")},
	} {
		r := runArgs(args...)
		if r.code != exitUsage {
			t.Errorf("%q: exit %d, want %d; stderr %q", args, r.code, exitUsage, r.stderr)
		}
	}
}

// A bounded run against the in-process reference broker stops by itself
// and writes a summary whose figures agree with the exit status.
func TestFuzzBoundedRunAgainstReference(t *testing.T) {
	dir := t.TempDir()
	sumPath := filepath.Join(dir, "summary.json")
	r := runArgs("fuzz", "--max-execs", "400", "--duration", "60s", "--workers", "1", "--seed", "3",
		"--findings", filepath.Join(dir, "findings"), "--json", sumPath)
	var sum fuzz.Summary
	b, err := os.ReadFile(sumPath)
	if err != nil {
		t.Fatalf("no summary (exit %d, stderr %q): %v", r.code, r.stderr, err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Executions != 400 || sum.StoppedBecause != "execution budget spent" {
		t.Errorf("executions %d, stopped %q; want 400, budget spent", sum.Executions, sum.StoppedBecause)
	}
	if sum.PacketTypes["CONNECT"] == 0 || sum.PacketTypes["PUBLISH"] == 0 {
		t.Errorf("packet types sent: %v", sum.PacketTypes)
	}
	want := exitOK
	if len(sum.Findings) > 0 {
		want = exitFail
		for _, f := range sum.Findings {
			if f.Oracle == fuzz.OracleCrash || f.Oracle == fuzz.OracleHang {
				t.Errorf("reference broker: %s: %s", f.Oracle, f.Detail)
			}
		}
	}
	if r.code != want {
		t.Errorf("exit %d with %d findings, want %d; stderr %q", r.code, len(sum.Findings), want, r.stderr)
	}
	if !strings.Contains(r.stdout, "400 executions") {
		t.Errorf("stdout lacks the execution count:\n%s", r.stdout)
	}
}

// Replaying a crash reproducer whose input is harmless reports that it does
// not reproduce, with exit status 0.
func TestFuzzReplayDoesNotReproduce(t *testing.T) {
	f := &fuzz.Finding{Format: fuzz.FindingFormat, ID: "000000000000", Oracle: fuzz.OracleCrash, Version: "3.1.1",
		Packets: []fuzz.PacketRecord{{Hex: "101100044d5154540402003c0005666f6f2d31"}, {Hex: "c000"}}}
	path := filepath.Join(t.TempDir(), "crash.json")
	if err := f.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	r := runArgs("fuzz", "replay", path, "--count", "2")
	if r.code != exitOK {
		t.Fatalf("exit %d, want 0; stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "does not reproduce") || !strings.Contains(r.stdout, "reproduced 0 of 2") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
}
