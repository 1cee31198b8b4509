package simulator

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mqttspec/mqttspec/reference/broker"
	"github.com/mqttspec/mqttspec/reference/broker/auth"
)

// startBrokerWith runs the reference broker with cfg on a loopback port.
func startBrokerWith(t *testing.T, cfg broker.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveBroker(t, cfg, ln, broker.ServeOptions{})
	return ln.Addr().String()
}

// credentialBroker admits the observer ("watcher"/"secret") and each device
// of s only with the user name "<home>-<room>-<class>" and the password
// "<device index>", worked out here from the fleet rather than from the
// scenario's templates. It counts the devices it admitted.
func credentialBroker(t *testing.T, s *Scenario) (string, *atomic.Int64) {
	t.Helper()
	f, err := NewFleet(s, 0, Shard{I: 0, N: 1})
	if err != nil {
		t.Fatal(err)
	}
	type pair struct{ user, pass string }
	want := map[string]pair{}
	for g := range f.Len() {
		d := f.Device(g)
		v := d.vars()
		want[f.ClientID(&d)] = pair{v.home + "-" + v.room + "-" + v.class, fmt.Sprint(v.device)}
	}
	var admitted atomic.Int64
	check := auth.CheckerFunc(func(clientID, user string, pass []byte, hasUser, hasPass bool) bool {
		if strings.Contains(clientID, "-observer-") {
			return user == "watcher" && string(pass) == "secret"
		}
		w, ok := want[clientID]
		if ok && hasUser && hasPass && user == w.user && string(pass) == w.pass {
			admitted.Add(1)
			return true
		}
		return false
	})
	return startBrokerWith(t, broker.Config{Authenticator: check}), &admitted
}

const credObserver = `
observers:
  - filters: ["{home}/#"]
    qos: 1
    username: watcher
    password: secret
`

func credScenario(t *testing.T, mqtt, connection, classExtra string) *Scenario {
	t.Helper()
	src := `
name: creds
mqtt: "` + mqtt + `"
duration: 400ms
homes: {count: 2, names: [Long-Home]}
rooms: [Küche, Flur]
connection:
  ramp_rate: 1000
  reconnect: {initial: 50ms, max: 100ms}
` + connection + `
devices:
  - class: Temperatur
    count: 2
    topic: "{home}/{room}/Temperatur/{k}"
    interval: 50ms
    messages: 5
    qos: {0: 1, 1: 1, 2: 1}
    model: {kind: random_walk, min: 0, max: 10, step: 1}
  - class: Licht
    topic: "{home}/{room}/Licht"
    interval: 50ms
    messages: 5
    qos: {1: 1}
    model: {kind: markov, p_on: 0.5, p_off: 0.5}
` + classExtra + credObserver
	s, err := ParseScenario(strings.NewReader(src), "creds")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCredentialsFromTemplates(t *testing.T) {
	for _, mqtt := range []string{"3.1.1", "5"} {
		t.Run(mqtt, func(t *testing.T) {
			s := credScenario(t, mqtt, `  username: "{home}-{room}-{class}"
  password: "{device}"`, "")
			addr, admitted := credentialBroker(t, s)
			res := runFleet(t, s, addr)
			checkDelivery(t, res)
			if admitted.Load() != int64(res.Nodes) || len(res.Connections.Refused) != 0 {
				t.Errorf("broker admitted %d devices of %d, refused %v", admitted.Load(), res.Nodes, res.Connections.Refused)
			}
		})
	}
}

// A class's own templates replace the connection's: the connection's
// password is wrong, Licht's is right, so only Licht devices get in.
func TestCredentialsPerClass(t *testing.T) {
	s := credScenario(t, "3.1.1", `  username: "{home}-{room}-{class}"
  password: "wrong-{device}"`, "")
	s.Devices[1].Password = "{device}"
	if _, err := s.compile(); err != nil {
		t.Fatal(err)
	}
	addr, admitted := credentialBroker(t, s)
	res := runFleetErr(t, s, addr)
	lights := 2 * len(s.Rooms) // one Licht per room, two homes
	if admitted.Load() != int64(lights) || res.Connections.Connects != int64(lights) {
		t.Errorf("admitted %d, connects %d; want the %d lights only", admitted.Load(), res.Connections.Connects, lights)
	}
	if res.Connections.Refused["0x04"] == 0 {
		t.Errorf("refusals not counted by code: %v", res.Connections.Refused)
	}
}

// A wrong template: every device is refused, the result says so with the
// CONNACK code, and nothing is published.
func TestCredentialsWrongTemplate(t *testing.T) {
	for mqtt, code := range map[string]string{"3.1.1": "0x04", "5": "0x86"} {
		t.Run(mqtt, func(t *testing.T) {
			s := credScenario(t, mqtt, `  username: "{room}-{home}-{class}"
  password: "{device}"`, "")
			addr, admitted := credentialBroker(t, s)
			res := runFleetErr(t, s, addr)
			var sb strings.Builder
			res.WriteSummary(&sb)
			if admitted.Load() != 0 || res.Connections.Connects != 0 {
				t.Fatalf("admitted %d, connects %d with a wrong template", admitted.Load(), res.Connections.Connects)
			}
			refused := res.Connections.Refused[code]
			if refused < int64(res.Nodes) || refused != res.Connections.Failures {
				t.Errorf("refused %v (want every failure, at least %d, under %s), failures %d", res.Connections.Refused, res.Nodes, code, res.Connections.Failures)
			}
			if !strings.Contains(sb.String(), "refused by CONNACK") || !strings.Contains(sb.String(), code) {
				t.Errorf("summary does not say the devices were refused:\n%s", sb.String())
			}
			for q, a := range res.Accounting {
				if a.Sent != 0 {
					t.Errorf("QoS %d: %d messages sent by devices never connected", q, a.Sent)
				}
			}
		})
	}
}

// runFleetErr runs s, failing the test only if the run could not be
// carried out.
func runFleetErr(t *testing.T, s *Scenario, addr string) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := Run(ctx, Options{Scenario: s, Target: "tcp://" + addr, Seed: 3, Drain: 2 * time.Second})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return res
}
