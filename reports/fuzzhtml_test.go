package reports

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

func sampleFuzz() *Fuzz {
	return &Fuzz{Tool: ToolInfo{Name: "mqttspec", Version: "test"}, Target: "reference tcp://127.0.0.1:1883", Seed: 7, Shard: "1/4",
		Workers: 8, Started: time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC), Seconds: 60, Executions: 360000, ExecsPerSecond: 6000,
		Corpus: 120, Behaviours: 130, StoppedBecause: "duration elapsed", Restarts: 1,
		ExecsByPacketType: FuzzCounts(map[string]int64{"CONNECT": 360000, "PUBLISH": 180000, "AUTH": 9000}),
		Mutations:         FuzzCounts(map[string]int64{"property-length": 4000, "truncate": 5000}),
		PacketsSent:       FuzzCounts(map[string]int64{"CONNECT": 360000}),
		Memory: &FuzzMemory{BoundBytes: 256 << 20, Samples: []FuzzMemorySample{{AtSeconds: 0, Bytes: 6 << 20},
			{AtSeconds: 30, Bytes: 9 << 20}, {AtSeconds: 60, Bytes: 8 << 20, Restarts: 1}}},
		Findings: []FuzzFinding{
			{ID: "0123456789ab", Oracle: "crash", Detail: "connection refused <after> & gone", File: "findings/crash-0123456789ab.json",
				Execution: 355, Version: "3.1.1", Mutations: []string{"truncate"}, Preceding: 2, End: "closed",
				Health: "crash after 1ms: connection refused", TargetState: "exited (exit code 139)",
				Restart: "the target was restarted (restart 1 of at most 5)", LogTail: "panic: <boom>",
				Packets: []FuzzPacket{{Hex: "100c00044d5154540402003c0000", Summary: "CONNECT v3.1.1", Fields: `{"client_id":""}`},
					{Hex: "30020000", Error: "topic name empty [MQTT-3.3.2-1]"}},
				Responses: []FuzzPacket{{Hex: "20020000", Summary: "CONNACK 0", At: "120µs"}}},
			{ID: "ba9876543210", Oracle: "spec-violation", Statement: "MQTT-3.3.2-1", Detail: "answered after a bad PUBLISH"},
		}}
}

func TestFuzzHTML(t *testing.T) {
	var b strings.Builder
	if err := WriteFuzzHTML(&b, sampleFuzz()); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{
		`data-report="fuzz"`, `data-executions="360000"`, `data-findings="2"`, "2 FINDING(S)", "shard <code>1/4</code>",
		"360,000", "6000 per second",
		// Executions per packet type and per mutated field, with shares.
		`<tr data-type="PUBLISH"><td>PUBLISH</td><td class="num">180,000</td><td class="num">50.0 %</td></tr>`,
		`data-mutation="truncate"`, "property-length",
		// The findings table links to the details and to the reproducer.
		`<tr class="finding row" id="finding-0123456789ab" data-oracle="crash">`, `href="#detail-0123456789ab"`,
		`href="findings/crash-0123456789ab.json"`, `id="detail-0123456789ab"`, `<span class="stmt">MQTT-3.3.2-1</span>`,
		// Evidence: hex and decoded packets, the codec's objection, the
		// broker's answers, container state, restart, escaped log tail.
		"100c00044d5154540402003c0000", "CONNECT v3.1.1", "topic name empty [MQTT-3.3.2-1]", "CONNACK 0", "120µs",
		"exited (exit code 139)", "restart 1 of at most 5", "panic: &lt;boom&gt;", "connection refused &lt;after&gt; &amp; gone",
		"2 earlier connection(s)", "256.0 MiB", "<polyline",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "http://") || strings.Contains(page, "https://") || strings.Contains(page, "<script") || strings.Contains(page, "<link") {
		t.Error("the page refers to the network or carries a script")
	}
	if _, err := html.Parse(strings.NewReader(page)); err != nil {
		t.Fatal(err)
	}
	// PUBLISH before AUTH: the counters come largest first.
	if strings.Index(page, `data-type="PUBLISH"`) > strings.Index(page, `data-type="AUTH"`) {
		t.Error("packet types not sorted by count")
	}
}

func TestFuzzHTMLWithoutFindings(t *testing.T) {
	f := sampleFuzz()
	f.Findings, f.Memory, f.Mutations = nil, nil, nil
	var b strings.Builder
	if err := WriteFuzzHTML(&b, f); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{"NO FINDINGS", `id="no-findings"`, "no mutated input ran", `data-findings="0"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, `id="memory"`) {
		t.Error("a memory section without memory samples")
	}
}

func TestFuzzNum(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := fuzzNum(n); got != want {
			t.Errorf("fuzzNum(%d) = %q, want %q", n, got, want)
		}
	}
}
