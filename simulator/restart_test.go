package simulator

import (
	"context"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mqttspec/mqttspec/brokers"
)

// startReferenceContainer starts the reference broker's container profile
// with persistence switched on, or skips when Docker or the image
// (`make images`) is missing, unless MQTTSPEC_REQUIRE_DOCKER=1 (the
// pattern of brokers' container tests).
func startReferenceContainer(t *testing.T, ctx context.Context) *brokers.Target {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a container")
	}
	p, err := brokers.LoadProfile("reference")
	if err != nil {
		t.Fatal(err)
	}
	// The profile's configuration keeps no state across a restart; a
	// persistence file does (docs/broker-config.md: a snapshot at
	// shutdown, restored at start), so that persistent sessions and the
	// messages queued and in flight for them survive.
	if len(p.Files) == 0 || !strings.HasSuffix(p.Files[0].Path, "broker.yaml") {
		t.Fatalf("the reference profile's first file is not its configuration: %+v", p.Files)
	}
	p.Files[0].Template = strings.TrimRight(p.Files[0].Template, "\n") + "\npersistence:\n  path: /broker.db\n  autosave_interval: 1h\n"
	tg, err := brokers.StartContainer(ctx, p)
	if err != nil {
		if os.Getenv("MQTTSPEC_REQUIRE_DOCKER") == "1" {
			t.Fatalf("MQTTSPEC_REQUIRE_DOCKER=1 and the reference container cannot start: %v", err)
		}
		t.Skipf("needs the Docker engine and `make images` (MQTTSPEC_REQUIRE_DOCKER=1 makes this a failure): %v", err)
	}
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		tg.Close(cctx)
	})
	return tg
}

// The broker's container is restarted in the middle of a run: its mapped
// port changes, and the fleet follows it through Options.Resolve. Devices
// and the observer reconnect with backoff and jitter and resume their
// persistent sessions, so no QoS 1/2 message is lost; while the broker is
// down, publishes that fall due are skipped and counted, not queued, so
// the simulator's memory stays bounded.
func TestFleetSurvivesBrokerRestart(t *testing.T) {
	t.Parallel() // waits on timers and a container more than it computes
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tg := startReferenceContainer(t, ctx)
	var url atomic.Pointer[string]
	first := tg.Endpoint.URL
	url.Store(&first)

	src := `
name: restart
duration: 60s
homes: {count: 6, names: [Long-Home]}
rooms: [Küche, Bad]
connection:
  ramp_rate: 1000
  clean_session: false
  reconnect: {initial: 100ms, max: 1s}
devices:
  - class: Temperatur
    count: 2
    topic: "{home}/{room}/Temperatur/{k}"
    interval: 50ms
    jitter: 10ms
    messages: 120
    qos: {0: 1, 1: 2, 2: 2}
    model: {kind: random_walk, min: 15, max: 25, step: 0.5}
observers:
  - filters: ["{home}/#"]
    qos: 2
`
	s, err := ParseScenario(strings.NewReader(src), "restart")
	if err != nil {
		t.Fatal(err)
	}
	const nodes = 6 * 2 * 2

	// Each device publishes 120 readings (6 s), then the run drains. The
	// restart starts once every device is up and messages flow.
	var (
		mu               sync.Mutex
		restarting, back bool
		restartErr       error
		maxInFlightDown  int64
		skippedAtDown    uint64
		skippedWhileDown uint64
		restartDone      = make(chan struct{})
		startedRestart   atomic.Bool
	)
	progress := func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case !restarting && p.Connected == nodes && p.Received > 200 && startedRestart.CompareAndSwap(false, true):
			restarting, skippedAtDown = true, p.Skipped
			go func() {
				defer close(restartDone)
				err := tg.Restart(ctx)
				mu.Lock()
				defer mu.Unlock()
				restartErr, back = err, true
				if err == nil {
					next := tg.Endpoint.URL
					url.Store(&next)
				}
			}()
		case restarting && !back:
			maxInFlightDown = max(maxInFlightDown, p.InFlight)
			skippedWhileDown = p.Skipped - skippedAtDown
		}
	}
	res, err := Run(ctx, Options{Scenario: s, Target: first, Seed: 5, Drain: 20 * time.Second,
		ProgressInterval: 200 * time.Millisecond, Progress: progress,
		Resolve: func() (string, error) { return *url.Load(), nil }})
	if !startedRestart.Load() {
		t.Fatalf("the fleet never got going (run error: %v)", err)
	}
	<-restartDone
	mu.Lock()
	defer mu.Unlock()
	if restartErr != nil {
		t.Fatalf("restarting the container: %v", restartErr)
	}
	if res == nil {
		t.Fatalf("no result: %v", err)
	}
	var sb strings.Builder
	res.WriteSummary(&sb)
	t.Log(sb.String())
	if err != nil || !res.Complete || !res.Drained {
		t.Fatalf("run: %v (complete %v, drained %v)", err, res.Complete, res.Drained)
	}
	if first == *url.Load() {
		t.Logf("the restarted container kept its port %s", first)
	}

	c := res.Connections
	if c.Disconnects < nodes || c.Connects != int64(nodes)+c.Disconnects {
		t.Errorf("every device should have lost its connection once and come back: %+v", c)
	}
	if c.Failures == 0 {
		t.Error("no reconnect attempt failed while the broker was down: the backoff was never exercised")
	}
	if c.ObserverReconnects == 0 {
		t.Error("the observer did not reconnect")
	}
	if c.SessionsLost != 0 {
		t.Errorf("the broker did not keep %d persistent sessions across the restart (persistence is on)", c.SessionsLost)
	}
	for q := 1; q <= 2; q++ {
		a := res.Accounting[q]
		if a.Sent == 0 || a.Lost != 0 || a.Unacked != 0 || a.Abandoned != 0 || a.Received != a.Sent {
			t.Errorf("QoS %d after the restart: %+v", q, a)
		}
	}
	if a := res.Accounting[2]; a.Duplicates != 0 {
		t.Errorf("QoS 2 duplicates: %d", a.Duplicates)
	}
	// Memory bound: nothing is queued for a disconnected device; only the
	// in-flight window (at most maxInflight messages per device) waits.
	if skippedWhileDown == 0 || res.Publishing.SkippedDisconnected < skippedWhileDown {
		t.Errorf("publishes due while the broker was down: %d seen, %d in the result", skippedWhileDown, res.Publishing.SkippedDisconnected)
	}
	if maxInFlightDown > nodes*maxInflight {
		t.Errorf("%d messages held in flight while the broker was down, bound %d", maxInFlightDown, nodes*maxInflight)
	}
	t.Logf("while down: %d publishes skipped, at most %d in flight", skippedWhileDown, maxInFlightDown)
}
