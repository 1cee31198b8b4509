package simulator

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mqttspec/mqttspec/reference/broker"
	"github.com/mqttspec/mqttspec/reference/broker/certgen"
	"github.com/mqttspec/mqttspec/reference/broker/listener"
)

// identityCheck lets devices publish only when the identity of their
// client certificate (the user name, with use_identity_as_username) is
// "dev-<n>" for client identifier "sim-<n>", and records whom it saw.
type identityCheck struct {
	mu         sync.Mutex
	identities map[string]bool
	mismatches int
}

func (c *identityCheck) Allowed(username, clientID, topic string, access broker.Access) bool {
	if access != broker.AccessWrite {
		return username == "observer" || strings.HasPrefix(username, "dev-")
	}
	ok := strings.HasPrefix(clientID, "sim-") && username == "dev-"+strings.TrimPrefix(clientID, "sim-")
	c.mu.Lock()
	defer c.mu.Unlock()
	if !ok {
		c.mismatches++
		return false
	}
	c.identities[username] = true
	return true
}

func (c *identityCheck) AllowedSubscribe(username, clientID, filter string) bool { return true }

// startTLSBroker runs the reference broker behind a TLS listener that
// requires client certificates of set's CA and takes their Common Name
// as the user name.
func startTLSBroker(t *testing.T, set *certgen.Set, authz broker.Authorizer) string {
	t.Helper()
	ln, err := listener.Listen(listener.Config{Kind: listener.KindTLS, Address: "127.0.0.1:0",
		TLS: &listener.TLSConfig{Certificate: &set.Server, ClientCAs: set.CA.CertPool(), ClientCerts: listener.ClientCertsRequire}})
	if err != nil {
		t.Fatal(err)
	}
	serveBroker(t, broker.Config{Authorizer: authz}, ln, broker.ServeOptions{UseIdentityAsUsername: true})
	return ln.Addr().String()
}

// tlsScenario writes a scenario whose devices present certs/<n>.crt and
// writes those certificates (Common Name dev-<n>) beside it; the
// scenario is loaded from its file, so the paths are relative to it.
func tlsScenario(t *testing.T, set *certgen.Set, mqtt string, devices int) *Scenario {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "certs"), 0o755); err != nil {
		t.Fatal(err)
	}
	for n := range devices {
		c, err := set.AddClient(fmt.Sprintf("dev-%d", n))
		if err != nil {
			t.Fatal(err)
		}
		key, err := certgen.KeyPEM(c)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Join(dir, "certs", fmt.Sprint(n))
		if err := os.WriteFile(base+".crt", certgen.CertPEM(c), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(base+".key", key, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	src := fmt.Sprintf(`
name: tls
mqtt: "%s"
duration: 5s
homes: {count: 2, names: [Long-Home]}
rooms: [Küche, Flur]
connection:
  ramp_rate: 1000
  tls: {cert: "certs/{device}.crt", key: "certs/{device}.key"}
devices:
  - class: Temperatur
    count: 2
    topic: "{home}/{room}/Temperatur/{k}"
    interval: 40ms
    messages: 10
    qos: {0: 1, 1: 1, 2: 1}
    model: {kind: random_walk, min: 0, max: 10, step: 1}
  - class: Schalter
    topic: "{home}/{room}/Licht/set"
    interval: 40ms
    messages: 10
    qos: {1: 1}
    model: {kind: markov, p_on: 0.5, p_off: 0.5}
  - class: Licht
    subscribe: "{home}/{room}/Licht/set"
    topic: "{home}/{room}/Licht"
    qos: {1: 1, 2: 1}
    model: {kind: markov}
observers:
  - filters: ["{home}/#"]
    qos: 2
`, mqtt)
	path := filepath.Join(dir, "tls.yaml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := LoadScenario(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func runTLS(t *testing.T, s *Scenario, addr string, cfg *tls.Config) (*Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return Run(ctx, Options{Scenario: s, Target: "ssl://" + addr, TLS: cfg, Seed: 5, Drain: 20 * time.Second})
}

// Over TLS with a client certificate per device, every message is
// accounted for exactly as over TCP (the same checks as
// TestFleetAgainstReferenceBroker), and each device was known to the
// broker by its own certificate.
func TestTLSClientCertificatesPerDevice(t *testing.T) {
	for _, mqtt := range []string{"3.1.1", "5"} {
		t.Run(mqtt, func(t *testing.T) {
			set, err := certgen.NewSet(nil)
			if err != nil {
				t.Fatal(err)
			}
			const devices = 2 * 2 * 4
			s := tlsScenario(t, set, mqtt, devices)
			observer, err := set.AddClient("observer")
			if err != nil {
				t.Fatal(err)
			}
			check := &identityCheck{identities: map[string]bool{}}
			addr := startTLSBroker(t, set, check)
			res, err := runTLS(t, s, addr, set.CA.ClientConfig("", observer))
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			checkExact(t, res) // actuators answered commands read by their stream reader
			check.mu.Lock()
			defer check.mu.Unlock()
			if check.mismatches != 0 || len(check.identities) != devices {
				t.Errorf("%d publishes under another identity; %d device identities seen of %d", check.mismatches, len(check.identities), devices)
			}
		})
	}
}

// A device certificate that is not there stops the run with an error
// naming the file; connection.tls on a tcp:// target is refused.
func TestTLSMissingCertificate(t *testing.T) {
	set, err := certgen.NewSet(nil)
	if err != nil {
		t.Fatal(err)
	}
	s := tlsScenario(t, set, "3.1.1", 3) // devices 3 and up have none
	observer, err := set.AddClient("observer")
	if err != nil {
		t.Fatal(err)
	}
	addr := startTLSBroker(t, set, nil)
	_, err = runTLS(t, s, addr, set.CA.ClientConfig("", observer))
	// Which device fails first depends on the connect workers' order.
	if err == nil || !strings.Contains(err.Error(), "connection.tls: client certificate "+filepath.Join(filepath.Dir(s.resolvePath("x")), "certs")) ||
		!strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing certificate: %v", err)
	}
	if _, err := Run(context.Background(), Options{Scenario: s, Target: "tcp://127.0.0.1:1"}); err == nil || !strings.Contains(err.Error(), "needs an ssl:// or wss:// target") {
		t.Errorf("tls on tcp://: %v", err)
	}
}

// Over WebSocket (subprotocol mqtt) the fleet is accounted for exactly as
// over TCP: the same scenario and the same checks as
// TestFleetAgainstReferenceBroker.
func TestWebSocketTarget(t *testing.T) {
	ln, err := listener.Listen(listener.Config{Kind: listener.KindWS, Address: "127.0.0.1:0", WebSocketPath: "/mqtt"})
	if err != nil {
		t.Fatal(err)
	}
	serveBroker(t, broker.Config{}, ln, broker.ServeOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := Run(ctx, Options{Scenario: fastScenario(t, ""), Target: "ws://" + ln.Addr().String() + "/mqtt", Seed: 3,
		Drain: 20 * time.Second})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	checkExact(t, res)
	// A wrong path is refused by the HTTP upgrade; the run says so.
	_, err = Run(ctx, Options{Scenario: fastScenario(t, ""), Target: "ws://" + ln.Addr().String() + "/elsewhere"})
	if err == nil || !strings.Contains(err.Error(), "websocket") {
		t.Errorf("wrong path: %v", err)
	}
}
