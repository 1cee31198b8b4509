package simulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mqttspec/mqttspec/reference/broker"
	"github.com/mqttspec/mqttspec/reference/packet"
)

// startBroker runs the reference broker on a loopback port.
func startBroker(t *testing.T) string {
	t.Helper()
	return startBrokerWith(t, broker.Config{})
}

// serveBroker runs a reference broker with cfg (its logs discarded) on ln
// until the test ends.
func serveBroker(t *testing.T, cfg broker.Config, ln net.Listener, opts broker.ServeOptions) *broker.Broker {
	t.Helper()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	b := broker.New(cfg)
	go b.ServeWith(ln, opts)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ln.Close()
		b.Shutdown(ctx)
	})
	return b
}

// fastScenario is a small fleet that publishes often: 2 homes of 2 rooms,
// each room with a sensor mixing all three QoS levels, a switch and a
// light that answers the switch.
func fastScenario(t *testing.T, extra string) *Scenario {
	t.Helper()
	src := `
name: fast
duration: 1500ms
homes: {count: 4, names: [Long-Home]}
rooms: [Küche, Flur]
connection:
  ramp_rate: 1000
` + extra + `
devices:
  - class: Temperatur
    count: 3
    topic: "{home}/{room}/Temperatur/{k}"
    interval: 40ms
    jitter: 10ms
    qos: {0: 1, 1: 1, 2: 1}
    model: {kind: sine, min: 17, max: 24, period: 10s, noise: 0.2, decimals: 1}
  - class: Schalter
    topic: "{home}/{room}/Licht/set"
    interval: 100ms
    qos: {1: 1}
    model: {kind: markov, p_on: 0.5, p_off: 0.5}
    will: {topic: "{home}/{room}/Schalter/status", payload: offline, qos: 1}
  - class: Licht
    subscribe: "{home}/{room}/Licht/set"
    topic: "{home}/{room}/Licht"
    qos: {1: 1, 2: 1}
    model: {kind: markov}
observers:
  - filters: ["{home}/#"]
    qos: 2
`
	s, err := ParseScenario(strings.NewReader(src), "fast")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func runFleet(t *testing.T, s *Scenario, addr string) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var progress atomic.Int64
	res, err := Run(ctx, Options{Scenario: s, Target: "tcp://" + addr, Seed: 3, Drain: 20 * time.Second,
		ProgressInterval: 200 * time.Millisecond, Progress: func(Progress) { progress.Add(1) }})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if progress.Load() == 0 {
		t.Error("no progress reported")
	}
	return res
}

// checkExact asserts the accounting of a fault-free run of fastScenario:
// every QoS 1/2 message sent was received exactly once, in order, and
// actuators received commands.
func checkExact(t *testing.T, res *Result) {
	t.Helper()
	checkDelivery(t, res)
	if res.Publishing.Commands == 0 {
		t.Error("no command reached an actuator")
	}
}

// checkDelivery asserts that every QoS 1/2 message sent was received
// exactly once, in order, and every QoS 0 one received or counted lost.
func checkDelivery(t *testing.T, res *Result) {
	t.Helper()
	var sb strings.Builder
	res.WriteSummary(&sb)
	t.Log(sb.String())
	if !res.Complete || !res.Drained || res.Violations() != 0 {
		t.Fatalf("run not clean:\n%s", sb.String())
	}
	if res.Connections.Connects != int64(res.Nodes) || res.Connections.Failures != 0 {
		t.Errorf("connects %d failures %d for %d nodes", res.Connections.Connects, res.Connections.Failures, res.Nodes)
	}
	for q := 1; q <= 2; q++ {
		a := res.Accounting[q]
		if a.Sent == 0 || a.Sent != a.Expected || a.Received != a.Sent || a.Lost != 0 || a.Duplicates != 0 || a.Unacked != 0 {
			t.Errorf("QoS %d not exact: %+v\n%s", q, a, sb.String())
		}
		if res.Latency[q].Count != int64(a.Received) {
			t.Errorf("QoS %d: %d latencies for %d messages", q, res.Latency[q].Count, a.Received)
		}
	}
	a0 := res.Accounting[0]
	if a0.Sent == 0 || a0.Received+a0.Lost != a0.Sent {
		t.Errorf("QoS 0: received %d + lost %d != sent %d", a0.Received, a0.Lost, a0.Sent)
	}
}

func TestFleetAgainstReferenceBroker(t *testing.T) {
	addr := startBroker(t)
	res := runFleet(t, fastScenario(t, ""), addr)
	if res.Nodes != 40 {
		t.Fatalf("%d nodes, want 40", res.Nodes)
	}
	checkExact(t, res)
}

func TestFleetMQTT5PersistentSessions(t *testing.T) {
	addr := startBroker(t)
	res := runFleet(t, fastScenario(t, "  clean_session: false\n  session_expiry: 1m\nmqtt: \"5\"\n"), addr)
	checkExact(t, res)
	if res.MQTT != "5.0" {
		t.Errorf("mqtt %s", res.MQTT)
	}
}

// faultProxy sits between the fleet and the broker and, on the observer's
// connection only, drops the dropAt-th QoS 1 PUBLISH and sends the dupAt-th
// QoS 0 PUBLISH twice: planted faults the accounting must find.
//
// With killAt > 0 it also closes every device connection once, when the
// device sends its killAt-th PUBLISH (which is not forwarded): the devices
// must reconnect with backoff and, with persistent sessions, resend.
type faultProxy struct {
	broker        string
	dropAt, dupAt int
	dropped, dup  atomic.Bool
	killAt        int
	mu            sync.Mutex
	killed        map[string]bool
}

func (p *faultProxy) serve(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); p.relay(c) }()
		}
	}()
	return ln.Addr().String()
}

func (p *faultProxy) relay(client net.Conn) {
	defer client.Close()
	up, err := net.Dial("tcp", p.broker)
	if err != nil {
		return
	}
	defer up.Close()
	r := packet.NewReader(client, packet.DecodeOptions{})
	r.KeepRaw = true
	first, err := r.ReadPacket()
	if err != nil {
		return
	}
	if _, err := up.Write(r.LastRaw()); err != nil {
		return
	}
	id := first.(*packet.Connect).ClientID
	observer := strings.Contains(id, "observer")
	go func() {
		// Client to broker: what the reader buffered, then the rest.
		publishes := 0
		for {
			pk, err := r.ReadPacket()
			if err != nil {
				up.Close()
				return
			}
			if _, ok := pk.(*packet.Publish); ok && !observer && p.killAt > 0 {
				if publishes++; publishes == p.killAt && p.kill(id) {
					up.Close()
					client.Close()
					return
				}
			}
			if _, err := up.Write(r.LastRaw()); err != nil {
				return
			}
		}
	}()
	if !observer {
		io.Copy(client, up)
		return
	}
	down := packet.NewReader(up, packet.DecodeOptions{Version: first.(*packet.Connect).ProtocolVersion})
	down.KeepRaw = true
	var qos0, qos1 int
	for {
		pk, err := down.ReadPacket()
		if err != nil {
			return
		}
		raw := down.LastRaw()
		times := 1
		if pub, ok := pk.(*packet.Publish); ok && isOurs(pub.Payload) {
			switch pub.QoS {
			case 0:
				if qos0++; qos0 == p.dupAt {
					times = 2
					p.dup.Store(true)
				}
			case 1:
				if qos1++; qos1 == p.dropAt {
					times = 0
					p.dropped.Store(true)
				}
			}
		}
		for range times {
			if _, err := client.Write(raw); err != nil {
				return
			}
		}
	}
}

// kill reports whether id's connection is to be killed (once per id).
func (p *faultProxy) kill(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.killed == nil {
		p.killed = map[string]bool{}
	}
	if p.killed[id] {
		return false
	}
	p.killed[id] = true
	return true
}

func (p *faultProxy) kills() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.killed)
}

func isOurs(payload []byte) bool { _, _, ok := parsePayload(payload); return ok }

func TestPlantedFaultsAreCounted(t *testing.T) {
	p := &faultProxy{broker: startBroker(t), dropAt: 5, dupAt: 7}
	addr := p.serve(t)
	s := fastScenario(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// The dropped QoS 1 message never arrives, so the drain runs to its
	// bound: keep it short.
	res, err := Run(ctx, Options{Scenario: s, Target: "tcp://" + addr, Seed: 3, Drain: time.Second})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if !p.dropped.Load() || !p.dup.Load() {
		t.Fatalf("the proxy planted no fault (dropped %v, duplicated %v)", p.dropped.Load(), p.dup.Load())
	}
	var sb strings.Builder
	res.WriteSummary(&sb)
	a := res.Accounting
	if a[1].Lost != 1 || a[1].Received != a[1].Sent-1 {
		t.Errorf("QoS 1: %+v, want exactly 1 lost\n%s", a[1], sb.String())
	}
	if a[0].Duplicates != 1 {
		t.Errorf("QoS 0 duplicates %d, want 1\n%s", a[0].Duplicates, sb.String())
	}
	if a[2].Lost != 0 || a[2].Duplicates != 0 {
		t.Errorf("QoS 2 should be clean: %+v", a[2])
	}
	if res.Drained {
		t.Error("the drain claims everything arrived")
	}
	if res.Violations() == 0 || !strings.Contains(sb.String(), "VIOLATIONS: 1 QoS 1/2 messages lost") {
		t.Errorf("summary does not report the violation:\n%s", sb.String())
	}
}

// Every device loses its connection once, mid-run. Devices reconnect with
// backoff; with persistent sessions they resend what was unacknowledged, so
// QoS 1/2 stay exact; with clean sessions the messages in flight at the
// drop are abandoned (not expected), and the rest stays exact.
func TestReconnectAfterDrop(t *testing.T) {
	for _, c := range []struct {
		name, extra string
		persistent  bool
	}{
		{"clean 3.1.1", "", false},
		{"persistent 5", "  clean_session: false\n  reconnect: {initial: 20ms, max: 200ms}\nmqtt: \"5\"\n", true},
		{"persistent 3.1.1", "  clean_session: false\n  reconnect: {initial: 20ms, max: 200ms}\n", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := &faultProxy{broker: startBroker(t), killAt: 3}
			addr := p.serve(t)
			res := runFleet(t, fastScenario(t, c.extra), addr)
			var sb strings.Builder
			res.WriteSummary(&sb)
			kills := p.kills()
			if kills == 0 {
				t.Fatal("the proxy killed no connection")
			}
			if res.Connections.Disconnects != int64(kills) || res.Connections.Connects != int64(res.Nodes+kills) {
				t.Errorf("%d kills: %+v\n%s", kills, res.Connections, sb.String())
			}
			if res.Violations() != 0 || !res.Complete {
				t.Errorf("violations after reconnects:\n%s", sb.String())
			}
			for q := 1; q <= 2; q++ {
				a := res.Accounting[q]
				if a.Lost != 0 || a.Unacked != 0 || a.Received < a.Expected {
					t.Errorf("QoS %d: %+v\n%s", q, a, sb.String())
				}
				if c.persistent && (a.Abandoned != 0 || a.Received != a.Sent) {
					t.Errorf("persistent session, QoS %d: %+v\n%s", q, a, sb.String())
				}
			}
			if c.persistent {
				return
			}
			// Wills of the switches whose connection dropped.
			if res.Foreign == 0 {
				t.Errorf("no last will seen:\n%s", sb.String())
			}
		})
	}
}

func TestObserverUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	_, err = Run(context.Background(), Options{Scenario: fastScenario(t, ""), Target: "tcp://" + closed})
	if err == nil || !strings.Contains(err.Error(), "observer 0") || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("want the observer's connection error, got %v", err)
	}
}

func TestTargetChecked(t *testing.T) {
	s := fastScenario(t, "")
	for target, want := range map[string]string{
		"http://127.0.0.1:1": "http:// is not supported",
		"127.0.0.1:1883":     "want a URL",
	} {
		if _, err := Run(context.Background(), Options{Scenario: s, Target: target}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", target, err)
		}
	}
}

// Two shards of one fleet run side by side against one broker: together
// they hold every device once, and each accounts exactly for its own
// devices without seeing the other's messages.
func TestShardsRunSideBySide(t *testing.T) {
	addr := startBroker(t)
	s := fastScenario(t, "")
	results := make([]*Result, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			results[i], errs[i] = Run(ctx, Options{Scenario: s, Shard: Shard{I: i, N: 2}, Target: "tcp://" + addr,
				Seed: 3, Drain: 20 * time.Second})
		}()
	}
	wg.Wait()
	total := 0
	for i, res := range results {
		if errs[i] != nil {
			t.Fatalf("shard %d: %v", i, errs[i])
		}
		checkExact(t, res)
		if res.Foreign != 0 || res.Fleet != 40 || res.Shard != fmt.Sprintf("%d/2", i) {
			t.Errorf("shard %d: foreign %d, fleet %d, shard %s", i, res.Foreign, res.Fleet, res.Shard)
		}
		total += res.Nodes
	}
	if total != 40 || results[0].Run == results[1].Run {
		t.Errorf("shards hold %d devices (want 40); run ids %s %s", total, results[0].Run, results[1].Run)
	}
}

func TestLimitErrorsExplained(t *testing.T) {
	emfile := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("socket", syscall.EMFILE)}
	err := explainDialError(emfile, "127.0.0.1:1883")
	var lim *errLimit
	if !errors.As(err, &lim) || !strings.Contains(err.Error(), "open-file limit") || !strings.Contains(err.Error(), "--shard") {
		t.Errorf("EMFILE: %v", err)
	}
	noPort := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.EADDRNOTAVAIL)}
	err = explainDialError(noPort, "127.0.0.1:1883")
	if !errors.As(err, &lim) || !strings.Contains(err.Error(), "ephemeral port") || !strings.Contains(err.Error(), "--source-addresses") {
		t.Errorf("EADDRNOTAVAIL: %v", err)
	}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	if err := explainDialError(refused, "x"); errors.As(err, &lim) {
		t.Errorf("a refused connection is retried, not a limit: %v", err)
	}
	if _, hard := fileLimit(); hard >= 1<<40 {
		t.Skip("no finite hard open-file limit to exceed")
	}
	if err := ensureFiles(1 << 40); err == nil || !strings.Contains(err.Error(), "ulimit -n") {
		t.Errorf("a fleet beyond the hard limit: %v", err)
	}
}

func TestSourceAddresses(t *testing.T) {
	if got := sourceAddresses("127.0.0.1:1883", 4); len(got) != 4 || got[3].String() != "127.0.0.4" {
		t.Errorf("loopback: %v", got)
	}
	for _, addr := range []string{"[::1]:1883", "192.0.2.1:1883", "broker:1883"} {
		if got := sourceAddresses(addr, 4); got != nil {
			t.Errorf("%s: %v, want no spreading", addr, got)
		}
	}
}

// Errors are grouped by kind and broker address, not by local address.
func TestErrorsGroupedByKind(t *testing.T) {
	e := &engine{errors: map[string]int64{}}
	e.noteError(errors.New("dial tcp 127.0.0.20:0->127.0.0.1:1883: connect: connection refused"))
	e.noteError(errors.New("dial tcp 127.0.0.3:0->127.0.0.1:1883: connect: connection refused"))
	e.noteError(errors.New("read tcp 127.0.0.3:40112->127.0.0.1:1883: read: connection reset by peer"))
	got := e.errorList()
	want := []ErrorCount{{"dial tcp 127.0.0.1:1883: connect: connection refused", 2},
		{"read tcp 127.0.0.1:1883: read: connection reset by peer", 1}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// A persistent observer resumes its session after a drop, but leaves none
// behind: at the end it discards it, so that the broker does not queue
// later runs' messages for it. (The devices' persistent sessions stay, as
// their scenario asks.)
func TestPersistentObserverLeavesNoSession(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := serveBroker(t, broker.Config{}, ln, broker.ServeOptions{})
	res := runFleet(t, fastScenario(t, "  clean_session: false\n"), ln.Addr().String())
	checkExact(t, res)
	metrics := httptest.NewServer(b.MetricsHandler())
	defer metrics.Close()
	m, err := scrape(metrics.URL)
	if err != nil {
		t.Fatal(err)
	}
	if got := m["mqttspec_broker_sessions"]; got != float64(res.Nodes) {
		t.Errorf("the broker holds %v sessions after the run, want the %d devices' only", got, res.Nodes)
	}
}
