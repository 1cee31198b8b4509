package simulator

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// scrape reads a Prometheus text exposition into "name{labels}" -> value.
func scrape(url string) (map[string]float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out, sc.Err()
}

func TestMetricsScraped(t *testing.T) {
	t.Parallel() // waits on timers and a container more than it computes
	addr := startBroker(t)
	m := NewMetrics()
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	url := srv.URL + "/metrics"

	before, err := scrape(url)
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != 0 {
		t.Errorf("metrics before the run: %v", before)
	}

	var once sync.Once
	var live map[string]float64
	var liveErr error
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := Run(ctx, Options{Scenario: fastScenario(t, ""), Target: "tcp://" + addr, Seed: 3, Drain: 20 * time.Second,
		Metrics: m, ProgressInterval: 100 * time.Millisecond, Progress: func(p Progress) {
			if p.Phase == "publishing" && p.Received > 0 && p.Connected == int64(p.Nodes) {
				once.Do(func() { live, liveErr = scrape(url) })
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if live == nil && liveErr == nil {
		t.Fatal("the run never had every device connected and a message received while publishing")
	}
	if liveErr != nil {
		t.Fatal(liveErr)
	}
	if live["mqttspec_sim_connected_devices"] != 40 || live["mqttspec_sim_devices"] != 40 {
		t.Errorf("live: connected %v of %v", live["mqttspec_sim_connected_devices"], live["mqttspec_sim_devices"])
	}
	var liveSent, liveCount float64
	for q := range 3 {
		liveSent += live[fmt.Sprintf(`mqttspec_sim_messages_sent_total{qos="%d"}`, q)]
		liveCount += live[fmt.Sprintf(`mqttspec_sim_latency_seconds_count{qos="%d"}`, q)]
	}
	if liveSent == 0 || liveCount == 0 {
		t.Errorf("live: %v sent, %v latencies", liveSent, liveCount)
	}
	if _, ok := live[`mqttspec_sim_messages_lost{qos="1"}`]; ok {
		t.Error("lost messages reported before the run's reconciliation")
	}

	final, err := scrape(url)
	if err != nil {
		t.Fatal(err)
	}
	for q := range 3 {
		a, l := res.Accounting[q], res.Latency[q]
		for name, want := range map[string]float64{
			"mqttspec_sim_messages_sent_total":       float64(a.Sent),
			"mqttspec_sim_messages_received_total":   float64(a.Received),
			"mqttspec_sim_messages_duplicated_total": float64(a.Duplicates),
			"mqttspec_sim_messages_lost":             float64(a.Lost),
			"mqttspec_sim_latency_seconds_count":     float64(l.Count),
			"mqttspec_sim_latency_seconds_bucket":    float64(l.Count), // le="+Inf"
		} {
			key := fmt.Sprintf(`%s{qos="%d"}`, name, q)
			if strings.HasSuffix(name, "_bucket") {
				key = fmt.Sprintf(`%s{qos="%d",le="+Inf"}`, name, q)
			}
			got, ok := final[key]
			if !ok || got != want {
				t.Errorf("%s = %v (present %v), want %v", key, got, ok, want)
			}
		}
		// Every latency is below 30 s, and the buckets are cumulative.
		if got := final[fmt.Sprintf(`mqttspec_sim_latency_seconds_bucket{qos="%d",le="30"}`, q)]; got != float64(l.Count) {
			t.Errorf("QoS %d: %v latencies at or below 30 s, want %d", q, got, l.Count)
		}
	}
	if final["mqttspec_sim_connects_total"] != float64(res.Connections.Connects) {
		t.Errorf("connects %v, want %d", final["mqttspec_sim_connects_total"], res.Connections.Connects)
	}
	if final[fmt.Sprintf(`mqttspec_sim_run_info{run="%s",scenario="fast",shard="0/1"}`, res.Run)] != 1 {
		t.Errorf("no run_info for run %s", res.Run)
	}
}
