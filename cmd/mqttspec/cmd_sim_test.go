package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSimSmallFleet(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sim.json")
	r := runArgs("sim", "--nodes", "30", "--duration", "1s", "--progress", "plain", "--json", out, "--seed", "9")
	if r.code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"scenario home, 30 devices", "latency from the intended send time", "OK: every acknowledged"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Schema      string `json:"schema"`
		Nodes       int    `json:"nodes"`
		Seed        uint64 `json:"seed"`
		Complete    bool   `json:"complete"`
		Connections struct {
			Connects int `json:"connects"`
		} `json:"connections"`
		Latency []struct {
			Histogram string `json:"hdr_histogram"`
		} `json:"latency"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if res.Schema != "mqttspec.sim/v1" || res.Nodes != 30 || res.Seed != 9 || !res.Complete || res.Connections.Connects != 30 {
		t.Errorf("result %+v", res)
	}
	if len(res.Latency) != 3 || res.Latency[0].Histogram == "" {
		t.Errorf("latency histograms missing: %+v", res.Latency)
	}
}

func TestSimUsageErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: x\nrooms: [A]\nhomes: {count: 1}\nwat: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"sim", "--shard", "3/2"}, "--shard"},
		{[]string{"sim", "--scenario", "nowhere"}, "neither a file nor a built-in scenario"},
		{[]string{"sim", "--scenario", bad}, "field wat not found"},
		{[]string{"sim", "--target", "tcp://127.0.0.1:1", "--broker", "reference"}, "exclude each other"},
		{[]string{"sim", "--target", "http://x"}, "unknown scheme"},
		{[]string{"sim", "--progress", "loud"}, "--progress"},
		{[]string{"sim", "--nodes", "-3"}, "--nodes"},
	} {
		r := runArgs(c.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d naming %q", c.args, r.code, r.stderr, exitUsage, c.want)
		}
	}
}

func TestSimShardFromIndexedJob(t *testing.T) {
	t.Setenv("JOB_COMPLETION_INDEX", "4")
	t.Setenv("JOB_COMPLETIONS", "3")
	r := runArgs("sim", "--nodes", "10")
	if r.code != exitUsage || !strings.Contains(r.stderr, "JOB_COMPLETION_INDEX=4") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// The printed built-in scenario is a valid scenario file.
func TestSimPrintScenario(t *testing.T) {
	r := runArgs("sim", "--print-scenario")
	if r.code != exitOK || !strings.Contains(r.stdout, "Long-Home") {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	path := filepath.Join(t.TempDir(), "home.yaml")
	if err := os.WriteFile(path, []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadSimScenario(path); err != nil {
		t.Errorf("printed scenario does not load: %v", err)
	}
}
