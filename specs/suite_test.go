package specs

import (
	"context"
	"os"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mqttspec/mqttspec/brokers"
	"github.com/mqttspec/mqttspec/specs/harness"
)

// TestConformance runs the suite as a Go test: against the in-process
// reference broker, or against MQTTSPEC_TARGET (a tcp:// URL) when set.
// `ginkgo -p ./specs` runs it in parallel processes, each with its own
// reference broker.
func TestConformance(t *testing.T) {
	var target *brokers.Target
	if url := os.Getenv("MQTTSPEC_TARGET"); url != "" {
		tg, err := brokers.FromURL(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		target = tg
	} else {
		tg, err := brokers.StartReference(context.Background(), brokers.ReferenceOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			tg.Close(ctx)
		})
		target = tg
	}
	harness.Configure(harness.Config{Target: target})
	RegisterFailHandler(Fail)
	RunSpecs(t, "mqttspec conformance")
}
