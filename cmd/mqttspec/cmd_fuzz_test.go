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
	growth := filepath.Join(t.TempDir(), "resource-growth.json")
	g := &fuzz.Finding{Format: fuzz.FindingFormat, ID: "0123456789ab", Oracle: fuzz.OracleResourceGrowth, Seed: 4}
	if err := g.WriteFile(growth); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"fuzz", "replay", growth},
		{"fuzz", "minimize", growth},
		{"fuzz", "--duration", "0"},
		{"fuzz", "--target", "tcp://127.0.0.1:1", "--broker", "reference"},
		{"fuzz", "--workers", "0"},
		{"fuzz", "--mqtt", "7"},
		{"fuzz", "--target", "http://127.0.0.1:1"},
		{"fuzz", "replay"},
		{"fuzz", "replay", filepath.Join(t.TempDir(), "missing.json")},
		{"fuzz", "minimize", filepath.Join(t.TempDir(), "missing.json")},
		{"fuzz", "--shard", "2/2"},
		{"fuzz", "--shard", "one/two"},
		{"fuzz", "--max-memory-growth", "12XB"},
		{"fuzz", "--max-memory-growth", "-5MiB"},
		{"fuzz", "--max-restarts", "-1"},
		{"fuzz", "--memory-every", "0s"},
		{"fuzz", "--target", "tcp://127.0.0.1:1", "--password", "x"},
		{"fuzz", "merge", t.TempDir()},
		{"fuzz", "merge", filepath.Join(t.TempDir(), "missing"), "-o", t.TempDir()},
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

// A shard's bounded run writes an HTML summary next to its JSON summary.
func TestFuzzHTMLReportOfAShard(t *testing.T) {
	dir := t.TempDir()
	htmlPath, sumPath := filepath.Join(dir, "fuzz.html"), filepath.Join(dir, "summary.json")
	r := runArgs("fuzz", "--max-execs", "200", "--workers", "1", "--seed", "3", "--shard", "1/2",
		"--findings", filepath.Join(dir, "findings"), "--json", sumPath, "--html-report", htmlPath)
	if r.code != exitOK && r.code != exitFail {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var sum fuzz.Summary
	b, err := os.ReadFile(sumPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Shard != "1/2" || sum.ExecsByPacketType["CONNECT"] == 0 {
		t.Errorf("summary shard %q, executions by packet type %v", sum.Shard, sum.ExecsByPacketType)
	}
	page, err := os.ReadFile(htmlPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`data-report="fuzz"`, `data-executions="200"`, "shard <code>1/2</code>", `data-type="CONNECT"`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("HTML summary lacks %q", want)
		}
	}
	if !strings.Contains(r.stderr, "shard 1/2") {
		t.Errorf("stderr does not name the shard: %q", r.stderr)
	}
}

// merge keeps one reproducer per signature, the smallest.
func TestFuzzMerge(t *testing.T) {
	a, b, out := t.TempDir(), t.TempDir(), t.TempDir()
	base := fuzz.Finding{Format: fuzz.FindingFormat, ID: "aaaaaaaaaaaa", Oracle: fuzz.OracleCrash, Signature: "crash|PUBLISH|x",
		Version: "3.1.1", Packets: []fuzz.PacketRecord{{Hex: "101100044d5154540402003c0005666f6f2d31"}, {Hex: "30020000"}}}
	big := base
	big.Preceding = []fuzz.Connection{{Version: "3.1.1", Packets: []fuzz.PacketRecord{{Hex: "c000"}}}}
	other := base
	other.ID, other.Oracle, other.Signature = "bbbbbbbbbbbb", fuzz.OracleHang, "hang|UNSUBSCRIBE|y"
	for dir, fs := range map[string][]fuzz.Finding{a: {big}, b: {base, other}} {
		for _, f := range fs {
			if _, err := f.Save(dir); err != nil {
				t.Fatal(err)
			}
		}
	}
	r := runArgs("fuzz", "merge", a, b, "-o", out)
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "merged 3 reproducer(s)") || !strings.Contains(r.stdout, "into 2 finding(s)") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	f, err := fuzz.LoadFinding(filepath.Join(out, "crash-aaaaaaaaaaaa.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Preceding) != 0 || f.Occurrences != 2 {
		t.Errorf("kept a reproducer with %d preceding connections, %d occurrences; want the smaller (0), 2", len(f.Preceding), f.Occurrences)
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 2 {
		t.Errorf("%d files in the merged directory, want 2", len(entries))
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]uint64{"256MiB": 256 << 20, "1GiB": 1 << 30, "500MB": 500e6, "1048576": 1 << 20, "1.5 KiB": 1536, "64m": 64 << 20} {
		got, err := parseBytes(in)
		if err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "12XB", "-1MiB", "0"} {
		if _, err := parseBytes(in); err == nil {
			t.Errorf("parseBytes(%q) accepted", in)
		}
	}
}
