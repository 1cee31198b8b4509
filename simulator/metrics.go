package simulator

import (
	"sync"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics exposes a run to Prometheus (give it to Run in Options.Metrics
// and register it with a prometheus.Registry). Values are read from the
// engine's own counters and histograms when scraped, so the metrics cost
// nothing per message. Before a run it reports nothing; after the run it
// keeps reporting the final result, including the lost counts, which are
// known only once publishers and observers are reconciled at the end.
type Metrics struct {
	mu    sync.Mutex
	e     *engine
	final *Result
	shard string
	run   string
}

// NewMetrics returns a collector for one run.
func NewMetrics() *Metrics { return &Metrics{} }

const metricsNS = "mqttspec_sim_"

var (
	qosLabel       = []string{"qos"}
	descInfo       = prometheus.NewDesc(metricsNS+"run_info", "The run: scenario, shard and run id (value 1).", []string{"scenario", "shard", "run"}, nil)
	descDevices    = prometheus.NewDesc(metricsNS+"devices", "Devices of this shard.", nil, nil)
	descConnected  = prometheus.NewDesc(metricsNS+"connected_devices", "Devices connected now.", nil, nil)
	descConnects   = prometheus.NewDesc(metricsNS+"connects_total", "Successful connections, reconnects included.", nil, nil)
	descConnFails  = prometheus.NewDesc(metricsNS+"connect_failures_total", "Connection attempts that failed.", nil, nil)
	descDrops      = prometheus.NewDesc(metricsNS+"disconnects_total", "Connections lost before the end of the run.", nil, nil)
	descSent       = prometheus.NewDesc(metricsNS+"messages_sent_total", "Messages devices published, by QoS.", qosLabel, nil)
	descReceived   = prometheus.NewDesc(metricsNS+"messages_received_total", "Distinct messages of this run observers received, by published QoS.", qosLabel, nil)
	descDuplicated = prometheus.NewDesc(metricsNS+"messages_duplicated_total", "Copies of messages observers had already received, by published QoS.", qosLabel, nil)
	descLost       = prometheus.NewDesc(metricsNS+"messages_lost", "Messages observers should have received and did not, by QoS; known at the end of the run (QoS 0 loss is allowed).", qosLabel, nil)
	descNotSent    = prometheus.NewDesc(metricsNS+"publishes_not_sent_total", "Publishes that fell due but were not sent, by reason.", []string{"reason"}, nil)
	descErrors     = prometheus.NewDesc(metricsNS+"errors_total", "Errors (connection failures, refusals, malformed packets).", nil, nil)
	descLatency    = prometheus.NewDesc(metricsNS+"latency_seconds", "Latency from the intended send time to the observer, by published QoS.", qosLabel, nil)
)

// latencyBuckets are the classic histogram's upper bounds (seconds).
var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descInfo, descDevices, descConnected, descConnects, descConnFails, descDrops,
		descSent, descReceived, descDuplicated, descLost, descNotSent, descErrors, descLatency} {
		ch <- d
	}
}

func (m *Metrics) attach(e *engine) {
	m.mu.Lock()
	m.e, m.final, m.shard, m.run = e, nil, e.fleet.Shard.String(), e.run
	m.mu.Unlock()
}

// finish keeps the final result and lets the engine go.
func (m *Metrics) finish(r *Result) {
	m.mu.Lock()
	m.e, m.final = nil, r
	m.mu.Unlock()
}

// metricsSnapshot is what one scrape reports.
type metricsSnapshot struct {
	scenario                                   string
	devices, connected, connects, fails, drops float64
	sent, received, duplicated                 [3]float64
	lost                                       *[3]float64
	skipped, blocked, backpressure, errors     float64
	latency                                    [3]*hdrhistogram.Histogram
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var s metricsSnapshot
	switch {
	case m.e != nil:
		s = m.e.snapshot()
	case m.final != nil:
		s = resultSnapshot(m.final)
	default:
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge(descInfo, 1, s.scenario, m.shard, m.run)
	gauge(descDevices, s.devices)
	gauge(descConnected, s.connected)
	counter(descConnects, s.connects)
	counter(descConnFails, s.fails)
	counter(descDrops, s.drops)
	counter(descNotSent, s.skipped, "disconnected")
	counter(descNotSent, s.blocked, "inflight_window_full")
	counter(descNotSent, s.backpressure, "write_buffer_full")
	counter(descErrors, s.errors)
	for q, label := range []string{"0", "1", "2"} {
		counter(descSent, s.sent[q], label)
		counter(descReceived, s.received[q], label)
		counter(descDuplicated, s.duplicated[q], label)
		if s.lost != nil {
			gauge(descLost, s.lost[q], label)
		}
		ch <- constHistogram(descLatency, s.latency[q], label)
	}
}

// constHistogram turns an HDR histogram (µs) into a classic Prometheus one
// (seconds): each recorded value counts in the buckets at or above its
// highest equivalent value, so the counts are exact to HDR's precision.
func constHistogram(d *prometheus.Desc, h *hdrhistogram.Histogram, label string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(latencyBuckets))
	for _, b := range latencyBuckets {
		buckets[b] = 0
	}
	var count uint64
	if h != nil {
		for _, bar := range h.Distribution() {
			if bar.Count == 0 {
				continue
			}
			count += uint64(bar.Count)
			v := float64(bar.To) / 1e6
			for _, b := range latencyBuckets {
				if v <= b {
					buckets[b] += uint64(bar.Count)
				}
			}
		}
	}
	sum := 0.0
	if h != nil && count > 0 {
		sum = h.Mean() * float64(count) / 1e6
	}
	return prometheus.MustNewConstHistogram(d, count, sum, buckets, label)
}

// snapshot reads the live counters.
func (e *engine) snapshot() metricsSnapshot {
	s := metricsSnapshot{scenario: e.plan.s.Name, devices: float64(len(e.nodes)), connected: float64(e.connected.Load()),
		connects: float64(e.connects.Load()), fails: float64(e.connectFailures.Load()), drops: float64(e.disconnects.Load()),
		skipped: float64(e.skipped.Load()), blocked: float64(e.blocked.Load()), backpressure: float64(e.backpressure.Load()),
		errors: float64(e.errorCount())}
	for q := range 3 {
		s.sent[q] = float64(e.sent[q].Load())
		s.latency[q] = newHistogram()
	}
	for _, ob := range e.observers {
		ob.mu.Lock()
		for q := range 3 {
			s.received[q] += float64(ob.acct.unique[q])
			s.duplicated[q] += float64(ob.acct.duplicates[q])
			s.latency[q].Merge(ob.acct.latency[q])
		}
		ob.mu.Unlock()
	}
	return s
}

func resultSnapshot(r *Result) metricsSnapshot {
	s := metricsSnapshot{scenario: r.Scenario, devices: float64(r.Nodes), connects: float64(r.Connections.Connects),
		fails: float64(r.Connections.Failures), drops: float64(r.Connections.Disconnects),
		skipped: float64(r.Publishing.SkippedDisconnected), blocked: float64(r.Publishing.BlockedInflight),
		backpressure: float64(r.Publishing.Backpressure), lost: &[3]float64{}}
	for _, e := range r.Errors {
		s.errors += float64(e.Count)
	}
	for q, t := range r.Accounting {
		s.sent[q], s.received[q], s.duplicated[q], s.lost[q] = float64(t.Sent), float64(t.Received), float64(t.Duplicates), float64(t.Lost)
		s.latency[q], _ = DecodeHistogram(r.Latency[q].Histogram)
	}
	return s
}
