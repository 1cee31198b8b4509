package fuzz

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mqttspec/mqttspec/brokers"
)

// startReferenceContainer starts the reference broker's image as a
// container target. Without a Docker engine or the image of `make images`
// the test is skipped, except with MQTTSPEC_REQUIRE_DOCKER=1 (CI), where
// their absence fails it.
func startReferenceContainer(t *testing.T) *brokers.Target {
	t.Helper()
	for k, v := range map[string]string{"TESTCONTAINERS_RYUK_DISABLED": "true", "TESTCONTAINERS_HOST_OVERRIDE": "127.0.0.1"} {
		if _, ok := os.LookupEnv(k); !ok {
			t.Setenv(k, v)
		}
	}
	p, err := brokers.LoadProfile("reference")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tg, err := brokers.StartContainer(ctx, p)
	if errors.Is(err, brokers.ErrNoDocker) || errors.Is(err, brokers.ErrImageMissing) {
		if os.Getenv("MQTTSPEC_REQUIRE_DOCKER") == "1" {
			t.Fatalf("MQTTSPEC_REQUIRE_DOCKER=1 and the container cannot run: %v", err)
		}
		t.Skipf("needs the Docker engine and `make images` (MQTTSPEC_REQUIRE_DOCKER=1 makes this a failure): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := tg.Close(ctx); err != nil {
			t.Errorf("removing the container: %v", err)
		}
	})
	return tg
}

// A container target that dies mid-run is reported as a crash with its
// state and logs, restarted at its new address, and fuzzed on until the
// budget is spent; its memory is sampled from start to end.
func TestContainerCrashRestartsAndGoesOn(t *testing.T) {
	tg := startReferenceContainer(t)
	before := tg.Endpoint.URL
	const stopAt, budget = 200, 800
	stopped := make(chan error, 1)
	cfg := Config{Target: tg, MaxExecs: budget, Duration: 3 * time.Minute, Seed: 5, Workers: 1, MaxRestarts: 2,
		FindingsDir: t.TempDir(), ExecTimeout: 2 * time.Second, HangTimeout: 10 * time.Second,
		// A bound no broker reaches: the samples are what is checked.
		MaxMemoryGrowth: 1 << 40, MemoryEvery: time.Hour}
	// The "crash": the only worker stops the container itself before its
	// execution stopAt, so nothing races with the fuzzer's own restart.
	cfg.observe = func(_ int, n int64, _ *Input) {
		if n == stopAt {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			stopped <- tg.Stop(ctx)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	sum, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("stopping the container: %v", err)
		}
	default:
		t.Fatalf("the run never reached execution %d (%d executions, stopped: %s)", stopAt, sum.Executions, sum.StoppedBecause)
	}
	if sum.Restarts != 1 {
		t.Errorf("%d restarts, want 1", sum.Restarts)
	}
	if sum.Executions != budget || sum.StoppedBecause != "execution budget spent" {
		t.Errorf("%d executions, stopped: %q; want the whole budget of %d spent after the restart", sum.Executions, sum.StoppedBecause, budget)
	}
	var crash *Finding
	for _, f := range sum.FindingDetails() {
		if f.Oracle == OracleCrash {
			crash = f
		} else if f.Oracle == OracleHang {
			t.Errorf("unexpected hang: %s", f.Detail)
		}
	}
	if crash == nil {
		t.Fatalf("no crash finding: %+v", sum.Findings)
	}
	if !strings.Contains(crash.TargetState, "exited") {
		t.Errorf("target state %q, want the container's exited state", crash.TargetState)
	}
	if !strings.Contains(crash.Restart, "restarted") || strings.Contains(crash.Restart, "not restarted") {
		t.Errorf("restart note %q", crash.Restart)
	}
	if strings.TrimSpace(crash.LogTail) == "" {
		t.Error("a crash finding without the container's log tail")
	}
	if _, err := LoadFinding(sum.Findings[0].File); err != nil {
		t.Errorf("the saved reproducer does not load: %v", err)
	}
	if err := tg.Alive(ctx); err != nil {
		t.Errorf("the restarted container is not alive at %s (was %s): %v", tg.Endpoint.URL, before, err)
	}
	m := sum.Memory
	if m == nil || len(m.Samples) < 2 {
		t.Fatalf("memory samples: %+v, want at least the first and the last", m)
	}
	for _, s := range m.Samples {
		if s.Bytes == 0 {
			t.Errorf("a memory sample of 0 bytes: %+v", m.Samples)
		}
	}
	if last := m.Samples[len(m.Samples)-1]; last.Restarts != 1 {
		t.Errorf("the last sample counts %d restarts, want 1", last.Restarts)
	}
	t.Logf("crash: %s; %s; memory %s → %s", crash.TargetState, crash.Restart,
		FormatBytes(m.Samples[0].Bytes), FormatBytes(m.Samples[len(m.Samples)-1].Bytes))
}
