package simulator

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// budgetScenario publishes a fixed number of readings per device: the
// publishing phase ends when all are out, so every run of it sends the
// same messages with the same QoS levels, whatever the timing. Eight
// messages stay below the in-flight window, so none can be blocked.
func budgetScenario(t *testing.T) *Scenario {
	t.Helper()
	src := `
name: budget
duration: 60s
homes: {count: 6, names: [Long-Home]}
rooms: [Küche, Bad]
connection: {ramp_rate: 2000}
devices:
  - class: Temperatur
    count: 2
    topic: "{home}/{room}/Temperatur/{k}"
    interval: 30ms
    jitter: 10ms
    messages: 8
    qos: {0: 1, 1: 1, 2: 1}
    model: {kind: random_walk, min: 15, max: 25, step: 0.5}
  - class: Strom
    topic: "{home}/{room}/Strom"
    interval: 40ms
    messages: 5
    qos: {1: 3, 2: 1}
    model: {kind: counter, inc_min: 0, inc_max: 3}
observers:
  - filters: ["{home}/#"]
    qos: 2
`
	s, err := ParseScenario(strings.NewReader(src), "budget")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func runOnce(ctx context.Context, s *Scenario, shard Shard, addr string) (*Result, error) {
	return Run(ctx, Options{Scenario: s, Shard: shard, Target: "tcp://" + addr, Seed: 11, Drain: 20 * time.Second})
}

// Three shards of a fleet, run side by side against one broker and merged,
// give exactly the totals of one run of the whole fleet: the device space
// and every device's choices follow from the seed and the device's index.
func TestMergedShardsEqualOneRun(t *testing.T) {
	t.Parallel() // waits on timers and a container more than it computes
	addr := startBroker(t)
	s := budgetScenario(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	const n = 3
	shards := make([]*Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			shards[i], errs[i] = runOnce(ctx, s, Shard{I: i, N: n}, addr)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("shard %d: %v", i, err)
		}
		checkDelivery(t, shards[i])
		if shards[i].Publish >= 30 {
			t.Errorf("shard %d published for %.1fs: the messages budget did not end the run", i, shards[i].Publish)
		}
	}
	whole, err := runOnce(ctx, s, Shard{}, addr)
	if err != nil {
		t.Fatal(err)
	}
	checkDelivery(t, whole)

	// Shuffled order: the merge does not depend on it.
	merged, err := Merge(shards[2], shards[0], shards[1])
	if err != nil {
		t.Fatal(err)
	}
	if merged.Nodes != whole.Nodes || merged.Nodes != 6*2*3 {
		t.Errorf("merged %d devices, one run %d, want 36", merged.Nodes, whole.Nodes)
	}
	if merged.Shard != "0,1,2/3" || len(merged.Shards) != 3 || len(merged.Runs) != 3 || len(merged.MissingShards()) != 0 {
		t.Errorf("merged shard %q, shards %v, runs %v, missing %v", merged.Shard, merged.Shards, merged.Runs, merged.MissingShards())
	}
	if !merged.Complete || !merged.Drained || merged.Violations() != 0 {
		t.Errorf("merged: complete %v drained %v violations %d", merged.Complete, merged.Drained, merged.Violations())
	}
	if merged.Connections.Connects != whole.Connections.Connects {
		t.Errorf("connects: merged %d, one run %d", merged.Connections.Connects, whole.Connections.Connects)
	}
	for q := range 3 {
		m, w := merged.Accounting[q], whole.Accounting[q]
		if m.Sent == 0 || m.Sent != w.Sent || m.Received != w.Received || m.Expected != w.Expected {
			t.Errorf("QoS %d: merged %+v, one run %+v", q, m, w)
		}
		var sum int64
		for _, sh := range shards {
			sum += sh.Latency[q].Count
		}
		if merged.Latency[q].Count != whole.Latency[q].Count || merged.Latency[q].Count != sum {
			t.Errorf("QoS %d histogram count: merged %d, shards %d, one run %d", q, merged.Latency[q].Count, sum, whole.Latency[q].Count)
		}
		if merged.Latency[q].Max < max(shards[0].Latency[q].Max, shards[1].Latency[q].Max, shards[2].Latency[q].Max) {
			t.Errorf("QoS %d: merged max %d below a shard's", q, merged.Latency[q].Max)
		}
	}
	if len(merged.Timeline) == 0 {
		t.Error("no merged timeline")
	}

	// A merged result survives JSON and merges on with nothing new.
	var buf bytes.Buffer
	if err := merged.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ReadResult(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Merge(back, shards[1]); err == nil || !strings.Contains(err.Error(), "shard 1/3 is given twice") {
		t.Errorf("merging a shard twice: %v", err)
	}
	partial, err := Merge(shards[0], shards[2])
	if err != nil {
		t.Fatal(err)
	}
	if got := partial.MissingShards(); len(got) != 1 || got[0] != "1/3" {
		t.Errorf("missing shards %v, want [1/3]", got)
	}
	again, err := Merge(partial, shards[1])
	if err != nil {
		t.Fatal(err)
	}
	if again.Accounting != merged.Accounting || again.Latency != merged.Latency {
		t.Errorf("merging in two steps differs:\n%+v\n%+v", again.Accounting, merged.Accounting)
	}
}

func TestMergeRefusesOtherRuns(t *testing.T) {
	base := func(shard string) *Result {
		return &Result{Schema: ResultSchema, Scenario: "home", MQTT: "3.1.1", Seed: 1, Shard: shard, Fleet: 100}
	}
	other := base("1/2")
	other.Seed = 2
	otherN := base("1/3")
	otherScenario := base("1/2")
	otherScenario.Scenario = "factory"
	wrongSchema := base("1/2")
	wrongSchema.Schema = "mqttspec.conformance/v1"
	for _, c := range []struct {
		second *Result
		want   string
	}{
		{base("0/2"), "shard 0/2 is given twice"},
		{other, "seed 2, not 1"},
		{otherN, "3 shards, not 2"},
		{otherScenario, `scenario "factory", not "home"`},
		{wrongSchema, "schema"},
		{base("2/2"), `shard "2/2"`},
	} {
		if _, err := Merge(base("0/2"), c.second); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming %q", c.second.Shard, err, c.want)
		}
	}
	if _, err := Merge(); err == nil {
		t.Error("merging nothing")
	}
}

func TestMergeTimelines(t *testing.T) {
	a := []Sample{{T: 1.0, Connected: 5, SentPerSec: 10, ReceivedPerSec: 10, P99us: 100},
		{T: 1.9, Connected: 6, SentPerSec: 20, ReceivedPerSec: 20, P99us: 300}, {T: 2.2, Connected: 6, SentPerSec: 30, ReceivedPerSec: 30, P99us: 50}}
	b := []Sample{{T: 1.1, Connected: 4, SentPerSec: 1, ReceivedPerSec: 2, P99us: 200}}
	got := mergeTimelines([][]Sample{a, b})
	want := []Sample{{T: 1, Connected: 9, SentPerSec: 11, ReceivedPerSec: 12, P99us: 200},
		{T: 2, Connected: 6, SentPerSec: 25, ReceivedPerSec: 25, P99us: 300}}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("second %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}
