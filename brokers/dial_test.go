package brokers

import (
	"context"
	"testing"
	"time"

	"github.com/mqttspec/mqttspec/reference/broker"
	"github.com/mqttspec/mqttspec/reference/broker/listener"
)

// A target reached over MQTT-over-WebSocket answers the CONNECT probe.
func TestDialWebSocket(t *testing.T) {
	b := broker.New(broker.Config{})
	ln, err := listener.Listen(listener.Config{Kind: listener.KindWS, Address: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	go b.Serve(ln)
	t.Cleanup(func() {
		ln.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		b.Shutdown(ctx)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := Probe(ctx, Endpoint{URL: "ws://" + ln.Addr().String() + "/mqtt"}); err != nil {
		t.Fatalf("probe over WebSocket: %v", err)
	}
	if err := Probe(ctx, Endpoint{URL: "ws://" + ln.Addr().String() + "/elsewhere"}); err == nil {
		t.Fatal("a path the listener does not serve answered")
	}
}
