package broker

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mqttspec/mqttspec/reference/packet"
)

func TestMetricsEndpoint(t *testing.T) {
	b, addr := startBroker(t, Config{})
	c := connectRaw(t, addr, packet.V311, "metrics", true)
	c.subscribe(1, packet.Subscription{Filter: "m/#"})
	c.ping()
	srv := httptest.NewServer(b.MetricsHandler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{"mqttspec_broker_clients_connected 1", "mqttspec_broker_subscriptions 1", "mqttspec_broker_connections_total 1"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
