package reports

import (
	"encoding/xml"
	"regexp"
	"strings"
	"testing"
	"time"
)

func sampleSim() *Sim {
	return &Sim{Tool: ToolInfo{Name: "mqttspec", Version: "test"}, Scenario: "home", Target: "tcp://127.0.0.1:1883",
		MQTT: "3.1.1", Seed: 1, Shard: "0,2/3", MissingShards: []string{"1/3"}, Runs: []string{"aa", "bb"},
		Started: time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC), PublishSeconds: 30, ElapsedSeconds: 31.5,
		Nodes: 2000, FleetNodes: 3000, Homes: 108, Observers: 2, Complete: true, Drained: true,
		Verdict: "VIOLATIONS: 3 QoS 1/2 messages lost", Violations: 3, Connects: 2000,
		Accounting: []SimTally{{QoS: 0, Sent: 100, Expected: 100, Received: 93, Lost: 7},
			{QoS: 1, Sent: 50, Expected: 50, Received: 47, Lost: 3}, {QoS: 2, Sent: 20, Expected: 20, Received: 20}},
		Latency: []SimLatency{{Label: "QoS 0", Count: 93, P50: 1500, P90: 2000, P99: 9000, P999: 12000, P9999: 12000, Max: 12345},
			{Label: "QoS 1", Count: 47, P50: 1600}, {Label: "QoS 2"}, {Label: "all", Count: 160, Max: 12345}},
		Notes:  []string{"12 publishes fell due while their device was disconnected (not sent)"},
		Errors: []SimError{{Message: "dial tcp: <refused> & gone", Count: 4}},
		Timeline: []SimSample{{T: 1, Connected: 1000, SentPerSec: 50, ReceivedPerSec: 48, P99us: 9000},
			{T: 2, Connected: 2000, SentPerSec: 120, ReceivedPerSec: 119, P99us: 4000},
			{T: 3, Connected: 2000, SentPerSec: 110, ReceivedPerSec: 111, P99us: 3000}},
	}
}

func TestSimHTML(t *testing.T) {
	var b strings.Builder
	if err := WriteSimHTML(&b, sampleSim()); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{
		`data-report="sim"`, `data-result="VIOLATIONS"`, "VIOLATIONS: 3 QoS 1/2 messages lost",
		`data-missing-shards`, "1/3",
		// The accounting table, QoS 0 loss apart from the violations.
		`<td class="num lost-allowed" data-lost="7">7</td>`, `<td class="num lost-violation" data-lost="3">3</td>`,
		`data-qos0-lost="7"`, `data-qos12-lost="3"`,
		// Percentiles in ms; an empty distribution shows dashes.
		"<td class=\"num\">12.35</td>", "<th scope=\"row\">QoS 2</th><td class=\"num\">0</td><td class=\"num\">–</td>",
		// Errors escaped.
		"dial tcp: &lt;refused&gt; &amp; gone",
		"12 publishes fell due",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "every device connected after") {
		t.Error("the page claims the fleet was all connected at once")
	}
	if strings.Contains(page, "http://") || strings.Contains(page, "https://") || strings.Contains(page, "<script") {
		t.Error("the page refers to the network or carries a script")
	}
	// Three charts, each a well-formed SVG with a path per series.
	svgs := regexp.MustCompile(`(?s)<svg .*?</svg>`).FindAllString(page, -1)
	if len(svgs) != 3 {
		t.Fatalf("%d charts, want 3", len(svgs))
	}
	for _, svg := range svgs {
		if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
			t.Errorf("chart is not well-formed XML: %v\n%s", err, svg)
		}
	}
	if !strings.Contains(svgs[0], `class="series s-sent" d="M`) || !strings.Contains(svgs[0], `class="series s-recv" d="M`) {
		t.Errorf("rate chart lacks its series:\n%s", svgs[0])
	}
	// The rate axis reaches above the highest rate (120/s) and not far.
	if !strings.Contains(svgs[0], `>150</text>`) || strings.Contains(svgs[0], `>200</text>`) {
		t.Errorf("rate axis ticks:\n%s", svgs[0])
	}
}

func TestSimHTMLWithoutSamples(t *testing.T) {
	s := sampleSim()
	s.Timeline = nil
	s.Complete, s.Failure = false, "interrupted"
	var b strings.Builder
	if err := WriteSimHTML(&b, s); err != nil {
		t.Fatal(err)
	}
	if page := b.String(); !strings.Contains(page, "no samples") || !strings.Contains(page, `data-result="INCOMPLETE"`) ||
		!strings.Contains(page, "interrupted") {
		t.Error("an incomplete run without samples is not shown as such")
	}
}

func TestNiceStep(t *testing.T) {
	for raw, want := range map[float64]float64{0.3: 0.5, 1: 1, 1.2: 2, 3: 5, 7: 10, 30: 50, 1234: 2000, 0: 1} {
		if got := niceStep(raw); got != want {
			t.Errorf("niceStep(%g) = %g, want %g", raw, got, want)
		}
	}
}
