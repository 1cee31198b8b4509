package fuzz

import (
	"context"
	"fmt"
	"testing"

	"github.com/mqttspec/mqttspec/brokers"
	"github.com/mqttspec/mqttspec/reference/broker"
)

// BenchmarkFuzzReference measures executions per second against the
// in-process reference broker on loopback (broker and fuzzer share the
// machine's cores, as with `mqttspec fuzz` and no target; the command also
// raises GOGC, which this benchmark does not):
//
//	go test -run '^$' -bench FuzzReference -benchtime 20000x ./fuzz
func BenchmarkFuzzReference(b *testing.B) {
	for _, workers := range []int{1, 4, 8} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			br, err := broker.Open(broker.Config{TopicAliasMaximum: 10})
			if err != nil {
				b.Fatal(err)
			}
			ln, err := netListen()
			if err != nil {
				b.Fatal(err)
			}
			go br.Serve(ln)
			defer br.Shutdown(context.Background())
			tg, err := brokers.FromURL("tcp://"+ln.Addr().String(), nil)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			sum, err := Run(context.Background(), Config{Target: tg, MaxExecs: int64(b.N), Seed: 1, Workers: workers})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(sum.ExecsPerSecond, "execs/s")
			if len(sum.Findings) > 0 {
				b.Logf("%d findings (%s: %s)", len(sum.Findings), sum.Findings[0].Oracle, sum.Findings[0].Detail)
			}
		})
	}
}
