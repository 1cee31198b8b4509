package fuzz

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// startReference serves the in-process reference broker on loopback for
// one test.
func startReference(t *testing.T) *Config {
	t.Helper()
	_, tg := startReferenceTarget(t)
	return &Config{Target: tg}
}

// Memory that grows beyond the bound makes a resource-growth finding with
// the samples; it does not end the run.
func TestMemoryGrowthFinding(t *testing.T) {
	cfg := startReference(t)
	var calls atomic.Int64
	const mib = 1 << 20
	// The first sample is the baseline; every later one is 300 MiB more.
	// The run always takes a last sample, so the growth shows however
	// short the run is.
	cfg.memoryUsage = func(context.Context) (uint64, error) {
		if calls.Add(1) == 1 {
			return 100 * mib, nil
		}
		return 400 * mib, nil
	}
	cfg.MaxExecs, cfg.Seed, cfg.Workers = 300, 1, 1
	cfg.MaxMemoryGrowth, cfg.MemoryEvery = 256*mib, time.Hour
	cfg.FindingsDir = t.TempDir()
	sum, err := Run(context.Background(), *cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Executions != 300 {
		t.Errorf("%d executions: the growth finding must not stop the run", sum.Executions)
	}
	var growth *Finding
	for _, f := range sum.FindingDetails() {
		if f.Oracle == OracleResourceGrowth {
			growth = f
		}
	}
	if growth == nil {
		t.Fatalf("no resource-growth finding: %+v", sum.Findings)
	}
	if growth.Memory == nil || len(growth.Memory.Samples) < 2 || growth.Memory.Samples[0].Bytes != 100*mib {
		t.Errorf("finding samples: %+v", growth.Memory)
	}
	if !strings.Contains(growth.Detail, "100.0 MiB to 400.0 MiB") || !strings.Contains(growth.Detail, "256.0 MiB") {
		t.Errorf("detail %q", growth.Detail)
	}
	f, err := LoadFinding(sum.Findings[0].File)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Replay(context.Background(), cfg.Target, f, ReplayOptions{}); err == nil || !strings.Contains(err.Error(), "--seed 1") {
		t.Errorf("replaying a resource-growth finding: %v, want an error that says how to see it again", err)
	}
}

// Growth within the bound is no finding; a target that cannot report its
// memory says so in the summary.
func TestMemoryWithinBoundAndUnsupported(t *testing.T) {
	cfg := startReference(t)
	cfg.memoryUsage = func(context.Context) (uint64, error) { return 100 << 20, nil }
	cfg.MaxExecs, cfg.Workers, cfg.MaxMemoryGrowth, cfg.MemoryEvery = 100, 1, 1, time.Hour
	sum, err := Run(context.Background(), *cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range sum.Findings {
		if f.Oracle == OracleResourceGrowth {
			t.Errorf("growth reported for a constant memory: %s", f.Detail)
		}
	}
	if sum.Memory == nil || len(sum.Memory.Samples) < 2 {
		t.Errorf("samples %+v, want the first and the last", sum.Memory)
	}

	cfg.memoryUsage = nil // the in-process broker is no container
	sum, err = Run(context.Background(), *cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Memory == nil || len(sum.Memory.Samples) != 0 || !strings.Contains(sum.Memory.Note, "container") {
		t.Errorf("memory report for a non-container target: %+v", sum.Memory)
	}
}

func TestFormatBytes(t *testing.T) {
	for b, want := range map[uint64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 256 << 20: "256.0 MiB", 3 << 30: "3.0 GiB"} {
		if got := FormatBytes(b); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", b, got, want)
		}
	}
}
