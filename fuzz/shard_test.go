package fuzz

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mqttspec/mqttspec/brokers"
	"github.com/mqttspec/mqttspec/reference/broker"
)

// startReferenceTarget serves a fresh in-process reference broker on
// loopback for one test.
func startReferenceTarget(t *testing.T) (*broker.Broker, *brokers.Target) {
	t.Helper()
	b, url := serveReference(t, broker.Config{TopicAliasMaximum: 10})
	tg, err := brokers.FromURL(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b, tg
}

// serveReference serves a reference broker with cfg on loopback until the
// test ends (its shutdown must succeed) and returns its tcp:// URL.
func serveReference(t *testing.T, cfg broker.Config) (*broker.Broker, string) {
	t.Helper()
	b, err := broker.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := netListen()
	if err != nil {
		t.Fatal(err)
	}
	go b.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := b.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return b, "tcp://" + ln.Addr().String()
}

// shardInputs runs one shard of a campaign and returns its inputs, in hex.
func shardInputs(t *testing.T, shard, shards int) []string {
	t.Helper()
	_, tg := startReferenceTarget(t)
	var inputs []string
	cfg := Config{Target: tg, MaxExecs: 400, Seed: 11, Workers: 1, Shard: shard, Shards: shards}
	cfg.observe = func(_ int, _ int64, in *Input) { inputs = append(inputs, hex.EncodeToString(in.Bytes())) }
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := cfg.ShardLabel(); sum.Shard != want {
		t.Errorf("summary shard %q, want %q", sum.Shard, want)
	}
	return inputs
}

// Two shards of one campaign draw different inputs: nothing that carries a
// client identifier or topic (which hold the worker's campaign-wide
// number) is shared, and what is shared at all is a handful of tiny
// mutants (a lone PINGREQ) any stream may hit.
func TestShardsDrawDisjointInputs(t *testing.T) {
	a, b := shardInputs(t, 0, 2), shardInputs(t, 1, 2)
	inA := map[string]bool{}
	for _, x := range a {
		inA[x] = true
	}
	shared := 0
	marker := hex.EncodeToString([]byte("mqttspec/fuzz/"))
	idMarker := hex.EncodeToString([]byte("mqttspec-fz-"))
	for _, x := range b {
		if !inA[x] {
			continue
		}
		shared++
		if strings.Contains(x, marker) || strings.Contains(x, idMarker) {
			t.Errorf("shards 0/2 and 1/2 both sent %s", x)
		}
	}
	if shared > len(b)/100 {
		t.Errorf("%d of %d inputs shared between the shards", shared, len(b))
	}
	// The campaign's first shard is the unsharded run's stream: the
	// first input does not depend on the broker's answers.
	if c := shardInputs(t, 0, 1); c[0] != a[0] || a[0] == b[0] {
		t.Errorf("first inputs: unsharded %.40s…, shard 0/2 %.40s…, shard 1/2 %.40s…", c[0], a[0], b[0])
	}
}

func TestShardOutOfRange(t *testing.T) {
	_, tg := startReferenceTarget(t)
	for _, s := range [][2]int{{2, 2}, {-1, 2}} {
		if _, err := Run(context.Background(), Config{Target: tg, MaxExecs: 1, Shard: s[0], Shards: s[1]}); err == nil {
			t.Errorf("shard %d of %d accepted", s[0], s[1])
		}
	}
}

// Merging the findings of two shards keeps one reproducer per signature,
// the smallest, and counts the occurrences; summaries are skipped.
func TestMergeFindingsDeduplicates(t *testing.T) {
	f := plantedCase(t, crashEmptyTopic, OracleCrash, 20000)
	dirA, dirB, out := t.TempDir(), t.TempDir(), t.TempDir()

	big := *f
	big.Preceding = append([]Connection{{Version: "3.1.1", Packets: []PacketRecord{{Hex: "c000"}, {Hex: "c000"}}}}, f.Preceding...)
	big.Worker = 7
	small := *f
	small.Preceding = nil
	small.Worker = 3
	other := *f
	other.Oracle, other.Signature, other.ID = OracleHang, "hang|UNSUBSCRIBE|x", "0123456789ab"

	for dir, fs := range map[string][]*Finding{dirA: {&big, &other}, dirB: {&small}} {
		for _, x := range fs {
			if _, err := x.Save(dir); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dirA, "summary.json"), []byte(`{"format":"`+SummaryFormat+`"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := MergeFindings([]string{dirA, dirB})
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != 3 || len(res.Skipped) != 1 || len(res.Findings) != 2 {
		t.Fatalf("files %d, skipped %v, findings %d; want 3, the summary, 2", res.Files, res.Skipped, len(res.Findings))
	}
	crash := res.Findings[0]
	if crash.Oracle != OracleCrash || crash.Worker != 3 || crash.Occurrences != 2 {
		t.Errorf("kept the crash of worker %d with %d occurrences; want the smaller one (worker 3), 2", crash.Worker, crash.Occurrences)
	}
	paths, err := WriteFindings(out, res.Findings)
	if err != nil || len(paths) != 2 {
		t.Fatalf("wrote %v: %v", paths, err)
	}
	// Merged output merges again to itself, occurrences kept.
	again, err := MergeFindings([]string{out})
	if err != nil || len(again.Findings) != 2 || again.Findings[0].Occurrences != 2 {
		t.Errorf("re-merge: %+v, %v", again, err)
	}
	if _, err := MergeFindings([]string{filepath.Join(out, "missing")}); err == nil {
		t.Error("a missing directory merged without error")
	}
	bad := filepath.Join(dirB, "crash-bad.json")
	os.WriteFile(bad, []byte(`{"format":"`+FindingFormat+`","oracle":"boom"}`), 0o644)
	if _, err := MergeFindings([]string{dirB}); err == nil || !strings.Contains(err.Error(), "crash-bad.json") {
		t.Errorf("a broken finding: %v, want an error naming the file", err)
	}
}
