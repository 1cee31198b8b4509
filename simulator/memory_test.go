package simulator

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkIdleNodeMemory measures the simulator's memory per connected,
// idle device. The broker must run in another process so that its memory
// is not counted:
//
//	mqttspec broker --listen 127.0.0.1:18830 &
//	SIM_TARGET=tcp://127.0.0.1:18830 SIM_NODES=5000 \
//	  go test ./simulator -run '^$' -bench IdleNodeMemory -benchtime 1x
//
// For a TLS target, add SIM_CAFILE=ca.crt (the CA the broker's certificate
// chains to) and give SIM_TARGET as ssl://host:port.
//
// It reports heap+stack bytes per node (Go heap and goroutine stacks, after
// a GC, once every device is connected) and the growth of all memory the
// runtime obtained from the OS (sys-B/node), which also covers the
// runtime's socket bookkeeping. Kernel socket buffers are not process
// memory and are not counted.
//
// SIM_SHARD=i/n runs one shard of the SIM_NODES fleet, so that a fleet
// larger than one process's open-file limit is measured by several
// processes side by side (each against its own broker when the broker has
// the same limit); the figures are then per device of the shard.
func BenchmarkIdleNodeMemory(b *testing.B) {
	target := os.Getenv("SIM_TARGET")
	if target == "" {
		b.Skip("set SIM_TARGET to a broker in another process (see the comment)")
	}
	nodes := 2000
	if n, err := strconv.Atoi(os.Getenv("SIM_NODES")); err == nil && n > 0 {
		nodes = n
	}
	src := `
name: idle
duration: 1h
homes: {count: 1}
rooms: [Küche, Wohnzimmer, Schlafzimmer, Bad, Flur]
connection: {ramp_rate: 2000, keep_alive: 300s}
devices:
  - class: Temperatur
    topic: "{home}/{room}/Temperatur"
    interval: 1h
    model: {kind: random_walk, min: 0, max: 1, step: 0.1}
observers:
  - filters: ["nothing/here"]
`
	s, err := ParseScenario(strings.NewReader(src), "idle")
	if err != nil {
		b.Fatal(err)
	}
	var shard Shard
	if v := os.Getenv("SIM_SHARD"); v != "" {
		if shard, err = ParseShard(v); err != nil {
			b.Fatal(err)
		}
	}
	// SIM_CAFILE: the CA to trust for an ssl:// or wss:// SIM_TARGET.
	var tlsConf *tls.Config
	if ca := os.Getenv("SIM_CAFILE"); ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			b.Fatal(err)
		}
		tlsConf = &tls.Config{RootCAs: x509.NewCertPool()}
		tlsConf.RootCAs.AppendCertsFromPEM(pem)
	}
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		ctx, cancel := context.WithCancel(context.Background())
		var once sync.Once
		var connectedAt time.Duration
		inShard := 0
		_, err := Run(ctx, Options{Scenario: s, Nodes: nodes, Shard: shard, Target: target, TLS: tlsConf, Drain: time.Second,
			ProgressInterval: 200 * time.Millisecond, Progress: func(p Progress) {
				if p.Connected == int64(p.Nodes) {
					once.Do(func() {
						inShard, connectedAt = p.Nodes, p.Elapsed
						runtime.GC()
						runtime.ReadMemStats(&after)
						cancel()
					})
				}
			}})
		if after.HeapAlloc == 0 {
			b.Fatalf("the fleet never fully connected: %v", err)
		}
		heap := float64(after.HeapAlloc+after.StackInuse) - float64(before.HeapAlloc+before.StackInuse)
		sys := float64(after.Sys) - float64(before.Sys)
		b.ReportMetric(heap/float64(inShard), "heap+stack-B/node")
		b.ReportMetric(sys/float64(inShard), "sys-B/node")
		b.ReportMetric(float64(inShard), "nodes")
		b.ReportMetric(connectedAt.Seconds(), "s-to-all-connected")
	}
}
