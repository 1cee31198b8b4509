package simulator

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mqttspec/mqttspec/reference/packet"
)

// Options of a run.
type Options struct {
	Scenario *Scenario
	// Nodes > 0 replaces the scenario's fleet size (devices).
	Nodes int
	Shard Shard
	Seed  uint64
	// Duration > 0 replaces the scenario's publishing time.
	Duration time.Duration
	// Target is the broker URL: tcp:// (mqtt://), ssl:// (tls://,
	// mqtts://), or ws:// and wss:// with the path (e.g.
	// ws://127.0.0.1:8080/mqtt).
	Target string
	// TLS is the client configuration for ssl:// and wss:// (trusted CAs,
	// and the client certificate of observers and of devices the scenario
	// gives none); nil trusts the system's roots.
	TLS *tls.Config
	// Drain bounds the wait, after publishing stops, for acknowledgements
	// and deliveries still under way (default 10 s).
	Drain time.Duration
	// Progress, when set, is called every ProgressInterval (default 1 s).
	Progress         func(Progress)
	ProgressInterval time.Duration
	// SourceAddresses: with a 127.x target, connections are spread over
	// this many source addresses 127.0.0.1, 127.0.0.2, ... (default 64), each
	// with its own ~28k ephemeral ports. 1 turns spreading off.
	SourceAddresses int
	// ConnectWorkers dial and handshake in parallel (default 32).
	ConnectWorkers int
	// Metrics, when set, exposes the run to Prometheus while it runs and
	// its final result afterwards.
	Metrics *Metrics
	// Resolve, when set, is asked for the broker's URL before every
	// connection attempt (devices and observers), so that a run can follow
	// a broker whose address changes, such as a restarted container whose
	// port mapping is new. It must be cheap and safe for concurrent use;
	// Target is the URL of the first attempt. On an error the last good
	// address is used.
	Resolve func() (string, error)
}

// Progress is a live view of a run.
type Progress struct {
	Elapsed   time.Duration
	Phase     string // "publishing", "draining"
	Connected int64
	Nodes     int
	Sent      uint64  // messages published so far
	Received  uint64  // messages observers received so far
	Rate      float64 // observer arrivals per second over the last interval
	P99       time.Duration
	Errors    int64
	// InFlight is the number of QoS 1/2 messages devices hold
	// unacknowledged (at most maxInflight per device); Skipped counts
	// publishes that fell due while their device was disconnected (they
	// are not queued).
	InFlight int64
	Skipped  uint64
}

const (
	stateIdle uint8 = iota
	stateConnecting
	stateUp
	stateDown
	stateClosed
)

// maxInflight bounds a device's unacknowledged QoS 1/2 messages; a publish
// due while the window is full is counted as blocked, not queued.
const maxInflight = 16

// maxPending bounds the bytes waiting to be written on one connection; a
// publish that does not fit is counted as backpressure, not queued.
const maxPending = 16 << 10

// outMsg is a QoS 1/2 message awaiting acknowledgement.
type outMsg struct {
	id    uint16
	q     uint8
	stage uint8 // 0: PUBLISH sent; 1 (QoS 2): PUBREC received, PUBREL sent
	seq   uint32
	pkt   []byte // kept only with persistent sessions, for resending
}

// node is one device. It holds no goroutine, timer or read buffer; while
// idle it is this struct, its socket and the runtime's socket bookkeeping.
type node struct {
	mu       sync.Mutex
	state    uint8
	attempt  uint8 // reconnect attempts since the last success
	chained  bool  // its publish and ping events are scheduled
	gen      uint32
	due      uint32 // readings that fell due (the class's messages budget)
	fd       int
	nextID   uint16
	seq      [3]uint32 // last sequence number sent, per QoS
	value    float64
	rng      rng
	conn     net.Conn
	inflight []outMsg
	in, out  []byte // partial packet read; bytes waiting to be written
	// writing: a stream connection's writer goroutine is running (TLS).
	writing  bool
	lastSend int64 // µs
}

type engine struct {
	opts      Options
	fleet     *Fleet
	plan      *plan
	run       string
	t0        time.Time
	end       int64                  // µs: no publish is due at or after it
	addr      string                 // the broker's host:port at the start
	addrNow   atomic.Pointer[string] // the latest address Resolve gave
	sources   []netip.Addr
	nodes     []node
	homeNames []string // by shard home position
	sched     *scheduler
	poll      *poller
	connectCh chan int32
	stopSched chan struct{}
	schedBufs scratch // used by the scheduler goroutine only
	// target is how to reach the broker. TLS and WebSocket connections
	// are streams read by a goroutine each (stream.go), not by the poller;
	// tls, for ssl:// and wss://, is the base client configuration.
	target    target
	tls       *tls.Config
	observers []*observer

	stopping atomic.Bool // no more reconnects
	ctx      context.Context
	cancel   context.CancelFunc
	fatalMu  sync.Mutex
	fatal    error

	connected, connects, connectFailures, disconnects atomic.Int64
	// refusedConnects counts device CONNECTs the broker refused, by
	// CONNACK return/reason code.
	refusedConnects                [256]atomic.Int64
	sent, acked                    [3]atomic.Uint64
	skipped, blocked, backpressure atomic.Uint64
	inflight                       atomic.Int64
	commands, refused              atomic.Uint64
	// sessionsLost counts reconnects (devices and observers) on which the
	// broker had not kept the persistent session asked for;
	// observerReconnects counts observers' reconnects.
	sessionsLost, observerReconnects atomic.Int64
	allConnectedAt                   atomic.Int64 // µs, first time every node was up
	// maxLag is the longest a publish ran after its intended time (µs):
	// latency counts from the intended time anyway, but a large lag says
	// the simulator itself was overloaded.
	maxLag atomic.Int64
	// drained: the drain ended because everything arrived, not at its bound.
	drained bool
	// budgeted is the number of devices whose messages budget must be
	// spent before publishing ends early (0: it ends at the duration);
	// spent counts those done, and budgetDone closes when all are.
	budgeted   int64
	spent      atomic.Int64
	budgetDone chan struct{}
	// publishEnd (µs) is when publishing ended: the end of the duration,
	// or earlier when every budget was spent.
	publishEnd int64

	errMu  sync.Mutex
	errors map[string]int64

	ledgerMu  sync.Mutex
	abandoned map[uint64][]uint32 // key: device << 2 | QoS
}

type scratch struct{ work, pkt []byte }

func (e *engine) clock() int64 { return time.Since(e.t0).Microseconds() }

func (e *engine) fail(err error) {
	e.fatalMu.Lock()
	if e.fatal == nil {
		e.fatal = err
	}
	e.fatalMu.Unlock()
	e.cancel()
}

func (e *engine) noteError(err error) {
	msg := err.Error()
	// Group errors by kind and broker address, not by the local address
	// and port: "dial tcp 127.0.0.20:0->127.0.0.1:1883: ..." becomes
	// "dial tcp 127.0.0.1:1883: ...".
	if i := strings.Index(msg, "->"); i > 0 {
		k := strings.LastIndexByte(msg[:i], ' ')
		msg = msg[:k+1] + msg[i+2:]
	}
	e.errMu.Lock()
	if len(e.errors) < 50 || e.errors[msg] > 0 {
		e.errors[msg]++
	}
	e.errMu.Unlock()
}

// Run simulates the fleet against the target and returns the accounting.
// The error is non-nil when the run could not be carried out (target
// unreachable, a machine limit reached, an observer lost); a completed run
// whose broker broke a guarantee returns a Result whose Violations() is
// non-zero and no error.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Scenario == nil {
		return nil, errors.New("no scenario")
	}
	fleet, err := NewFleet(o.Scenario, o.Nodes, o.Shard)
	if err != nil {
		return nil, err
	}
	if o.Duration <= 0 {
		o.Duration = o.Scenario.Duration.D()
	}
	if o.Duration <= 0 {
		return nil, errors.New("no duration: give one in the scenario or with --duration")
	}
	if o.Drain <= 0 {
		o.Drain = 10 * time.Second
	}
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = time.Second
	}
	if o.SourceAddresses <= 0 {
		o.SourceAddresses = 64
	}
	if o.ConnectWorkers <= 0 {
		o.ConnectWorkers = 32
	}
	tg, err := parseTarget(o.Target)
	if err != nil {
		return nil, err
	}
	addr := tg.addr
	if o.Scenario.Connection.TLS != nil && !tg.secure {
		return nil, fmt.Errorf("the scenario's connection.tls (client certificates) needs an ssl:// or wss:// target, not %q", o.Target)
	}
	if err := ensureFiles(fleet.Len() + len(fleet.plan.observers) + 64); err != nil {
		return nil, err
	}
	e := &engine{opts: o, fleet: fleet, plan: fleet.plan, addr: addr, errors: map[string]int64{},
		abandoned: map[uint64][]uint32{}, nodes: make([]node, fleet.Len()), connectCh: make(chan int32, 1024),
		stopSched: make(chan struct{})}
	e.target = tg
	if tg.secure {
		e.tls = o.TLS
		if e.tls == nil {
			e.tls = &tls.Config{}
		}
	}
	// The run id tells this run's messages from any other's (other shards,
	// earlier runs' retained messages): random, not derived from the seed.
	e.run = fmt.Sprintf("%08x", rand.Uint32())
	e.sources = sourceAddresses(addr, o.SourceAddresses)
	e.budgeted = budgetedDevices(fleet)
	if e.budgeted > 0 {
		e.budgetDone = make(chan struct{})
	}
	for _, h := range fleet.ShardHomes() {
		e.homeNames = append(e.homeNames, fleet.HomeName(h))
	}
	for l := range e.nodes {
		g := fleet.Global(l)
		nd := &e.nodes[l]
		nd.fd = -1
		nd.nextID = 1
		nd.rng = newRNG(o.Seed, g)
		nd.value = initialValue(&e.classOf(g).c.Model, &nd.rng)
	}
	e.ctx, e.cancel = context.WithCancel(ctx)
	defer e.cancel()
	e.t0 = time.Now()
	e.sched = newScheduler(e.clock)
	if e.poll, err = newPoller(e); err != nil {
		return nil, err
	}
	defer e.poll.close()

	// Observers first: a message published before they subscribed could
	// not be accounted for.
	for i, op := range e.plan.observers {
		ob := newObserver(e, i, op)
		e.observers = append(e.observers, ob)
		if err := ob.start(e.ctx); err != nil {
			e.stopObservers()
			return nil, err
		}
	}
	e.end = e.clock() + o.Duration.Microseconds()
	started := time.Now()
	if o.Metrics != nil {
		o.Metrics.attach(e)
	}

	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); e.poll.run() }()
	go func() { defer wg.Done(); e.sched.run(e.stopSched, e.handle) }()
	var workers sync.WaitGroup
	for range o.ConnectWorkers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for {
				select {
				case idx := <-e.connectCh:
					e.connect(idx)
				case <-e.ctx.Done():
					return
				}
			}
		}()
	}
	workers.Add(1)
	go func() { defer workers.Done(); e.ramp() }()

	timeline := e.monitor()

	// Shut down: no reconnects, devices disconnect cleanly (no wills),
	// then observers; then the goroutines end.
	e.stopping.Store(true)
	e.disconnectAll()
	e.cancel()
	workers.Wait()
	e.disconnectAll() // connections a worker completed meanwhile
	close(e.stopSched)
	e.poll.stop()
	wg.Wait()
	e.stopObservers()

	res := e.result(started, timeline)
	if o.Metrics != nil {
		defer o.Metrics.finish(res)
	}
	e.fatalMu.Lock()
	fatal := e.fatal
	e.fatalMu.Unlock()
	if fatal == nil && ctx.Err() != nil {
		fatal = fmt.Errorf("interrupted: %w", ctx.Err())
	}
	if fatal == nil {
		for _, ob := range e.observers {
			if ob.err != nil {
				fatal = fmt.Errorf("%w (%v)", errObserverDown, ob.err)
				break
			}
		}
	}
	if fatal != nil {
		res.Complete = false
		res.Failure = fatal.Error()
	}
	return res, fatal
}

func (e *engine) stopObservers() {
	for _, ob := range e.observers {
		ob.stop()
	}
}

// currentAddr is where to connect now: the resolver's answer, or the
// last good one.
func (e *engine) currentAddr() string {
	if e.opts.Resolve != nil {
		url, err := e.opts.Resolve()
		if err == nil {
			var tg target
			if tg, err = parseTarget(url); err == nil {
				e.addrNow.Store(&tg.addr)
				return tg.addr
			}
		}
		e.noteError(fmt.Errorf("resolving the broker's address: %w", err))
	}
	if p := e.addrNow.Load(); p != nil {
		return *p
	}
	return e.addr
}

// target is a parsed broker URL.
type target struct {
	addr   string // host:port
	secure bool   // TLS (ssl://, wss://)
	ws     bool   // MQTT over WebSocket
	path   string // the WebSocket path
}

// stream reports whether device connections are read by a goroutine each
// (TLS, WebSocket) rather than by the poller.
func (t target) stream() bool { return t.secure || t.ws }

// parseTarget checks the target URL.
func parseTarget(s string) (target, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return target{}, fmt.Errorf("target %q: want a URL such as tcp://127.0.0.1:1883, ssl://127.0.0.1:8883 or ws://127.0.0.1:8080/mqtt", s)
	}
	var t target
	port := "1883"
	switch strings.ToLower(u.Scheme) {
	case "tcp", "mqtt":
	case "ssl", "tls", "mqtts":
		port, t.secure = "8883", true
	case "ws":
		port, t.ws, t.path = "80", true, u.Path
	case "wss":
		port, t.ws, t.secure, t.path = "443", true, true, u.Path
	default:
		return target{}, fmt.Errorf("target %q: the simulator speaks tcp://, ssl://, ws:// and wss://; %s:// is not supported", s, u.Scheme)
	}
	t.addr = u.Host
	if u.Port() == "" {
		t.addr = net.JoinHostPort(u.Hostname(), port)
	}
	return t, nil
}

// budgetedDevices is the number of devices of the shard that publish on a
// schedule, when every one of them has a messages budget; otherwise 0 (the
// run publishes for its whole duration).
func budgetedDevices(f *Fleet) int64 {
	var n int64
	for l := range f.Len() {
		c := f.plan.classes[f.plan.perHome[f.Global(l)%len(f.plan.perHome)].class].c
		if c.Interval > 0 {
			if c.Messages == 0 {
				return 0
			}
			n++
		}
	}
	return n
}

// sourceAddresses lists the local addresses to spread connections over:
// for an IPv4 loopback target, 127.0.0.1 ... 127.0.0.n.
func sourceAddresses(addr string, n int) []netip.Addr {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().Is4() || !ap.Addr().IsLoopback() || n <= 1 {
		return nil
	}
	out := make([]netip.Addr, 0, n)
	for i := 1; i <= min(n, 254); i++ {
		out = append(out, netip.AddrFrom4([4]byte{127, 0, 0, byte(i)}))
	}
	return out
}

func (e *engine) classOf(global int) *classPlan {
	per := len(e.plan.perHome)
	return &e.plan.classes[e.plan.perHome[global%per].class]
}

func (e *engine) varsOf(global int) vars {
	per := len(e.plan.perHome)
	sl := e.plan.perHome[global%per]
	return vars{home: e.homeNames[(global/per)/e.fleet.Shard.N], room: e.plan.s.Rooms[sl.room],
		class: e.plan.classes[sl.class].c.Class, k: int(sl.k), device: global}
}

// ramp starts the first connection of every device at the scenario's rate.
func (e *engine) ramp() {
	rate := e.plan.s.Connection.RampRate
	for l := range e.nodes {
		due := e.t0.Add(time.Duration(float64(l) / rate * float64(time.Second)))
		if d := time.Until(due); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-e.ctx.Done():
				t.Stop()
				return
			}
		}
		select {
		case e.connectCh <- int32(l):
		case <-e.ctx.Done():
			return
		}
	}
}

// backoff is exponential backoff with full jitter.
func (e *engine) backoff(nd *node) time.Duration {
	r := e.plan.s.Connection.Reconnect
	ceiling := float64(r.Initial) * math.Pow(r.Multiplier, float64(nd.attempt))
	ceiling = math.Min(ceiling, float64(r.Max))
	if nd.attempt < 60 {
		nd.attempt++
	}
	return time.Duration(nd.rng.Float64() * ceiling)
}

func (e *engine) scheduleReconnect(nd *node, idx int32) {
	if e.stopping.Load() {
		return
	}
	e.sched.add(event{at: e.clock() + e.backoff(nd).Microseconds(), node: idx, kind: evReconnect})
}

// connect dials, sends CONNECT and waits for CONNACK, then hands the
// connection to the poller.
func (e *engine) connect(idx int32) {
	nd := &e.nodes[idx]
	nd.mu.Lock()
	if nd.state == stateUp || nd.state == stateConnecting || e.stopping.Load() {
		nd.mu.Unlock()
		return
	}
	nd.state = stateConnecting
	nd.mu.Unlock()

	global := e.fleet.Global(int(idx))
	conn, rest, present, err := e.handshake(idx, global)

	nd.mu.Lock()
	defer nd.mu.Unlock()
	if err != nil {
		nd.state = stateDown
		e.connectFailures.Add(1)
		var ref *errRefused
		if errors.As(err, &ref) {
			e.refusedConnects[ref.code].Add(1)
		}
		var lim *errLimit
		var bad *errSetup
		if errors.As(err, &lim) || errors.As(err, &bad) {
			e.fail(err)
			return
		}
		e.noteError(err)
		e.scheduleReconnect(nd, idx)
		return
	}
	if e.stopping.Load() {
		conn.Close()
		nd.state = stateDown
		return
	}
	fd := -1
	if !e.target.stream() {
		fd, err = rawFD(conn)
		if err == nil {
			nd.gen++
			err = e.poll.watch(fd, idx, nd.gen, false)
		}
	} else {
		nd.gen++
	}
	if err != nil {
		conn.Close()
		nd.state = stateDown
		e.fail(fmt.Errorf("registering a connection with the poller: %w", err))
		return
	}
	if nd.chained && !present && !*e.plan.s.Connection.CleanSession {
		e.sessionsLost.Add(1)
	}
	nd.conn, nd.fd, nd.state, nd.attempt = conn, fd, stateUp, 0
	nd.in = rest
	nd.lastSend = e.clock()
	if n := e.connected.Add(1); n == int64(len(e.nodes)) {
		e.allConnectedAt.CompareAndSwap(0, e.clock())
	}
	e.connects.Add(1)
	if fd < 0 {
		go e.readStream(conn, idx, nd.gen)
	}
	e.resend(nd, idx, present)
	if !nd.chained {
		nd.chained = true
		cp := e.classOf(global)
		now := e.clock()
		if iv := cp.c.Interval.D(); iv > 0 {
			// The first reading comes at a random point of the first
			// interval, so that a fleet does not publish in lockstep.
			first := now + int64(nd.rng.Float64()*float64(iv.Microseconds()))
			e.sched.add(event{at: first, node: idx, kind: evPublish})
		}
		if ka := e.plan.s.Connection.KeepAlive.D(); ka > 0 {
			e.sched.add(event{at: now + (ka / 2).Microseconds(), node: idx, kind: evPing})
		}
	}
}

func (e *engine) handshake(idx int32, global int) (net.Conn, []byte, bool, error) {
	c := &e.plan.s.Connection
	d := net.Dialer{Timeout: c.ConnectTimeout.D()}
	if len(e.sources) > 0 {
		d.LocalAddr = &net.TCPAddr{IP: e.sources[int(idx)%len(e.sources)].AsSlice()}
	}
	addr := e.currentAddr()
	cert, err := e.deviceCertificate(global)
	if err != nil {
		return nil, nil, false, err
	}
	conn, err := e.dial(e.ctx, &d, addr, cert)
	if err != nil {
		return nil, nil, false, explainDialError(err, addr)
	}
	fail := func(err error) (net.Conn, []byte, bool, error) {
		conn.Close()
		return nil, nil, false, err
	}
	conn.SetDeadline(time.Now().Add(c.ConnectTimeout.D()))
	v := e.plan.version
	vr := e.varsOf(global)
	cp := e.classOf(global)
	cn := &packet.Connect{ProtocolVersion: v, CleanStart: *c.CleanSession, KeepAlive: uint16(c.KeepAlive.D() / time.Second),
		ClientID: e.plan.clientID.expand(&vr)}
	if !cp.username.empty() {
		cn.Username = cp.username.expand(&vr)
	}
	if !cp.password.empty() {
		cn.Password = []byte(cp.password.expand(&vr))
	}
	if v == packet.V5 && !*c.CleanSession {
		exp := uint32(math.MaxUint32)
		if c.SessionExpiry > 0 {
			exp = uint32(c.SessionExpiry.D() / time.Second)
		}
		cn.Properties.SessionExpiry = exp
		cn.Properties.Present = cn.Properties.Present.With(packet.PropSessionExpiry)
	}
	if w := cp.c.Will; w != nil {
		cn.Will = &packet.Will{QoS: packet.QoS(w.QoS), Retain: w.Retain, Topic: cp.willTopic.expand(&vr),
			Payload: cp.willBody.appendTo(nil, &vr)}
	}
	b, err := packet.Encode(cn, v)
	if err != nil {
		return fail(err)
	}
	if _, err := conn.Write(b); err != nil {
		return fail(fmt.Errorf("sending CONNECT: %w", err))
	}
	var buf []byte
	var tmp [512]byte
	for {
		n, err := conn.Read(tmp[:])
		buf = append(buf, tmp[:n]...)
		if len(buf) > 0 {
			p, used, derr := packet.Decode(buf, packet.DecodeOptions{Version: v})
			if derr == nil {
				ack, ok := p.(*packet.Connack)
				if !ok {
					return fail(fmt.Errorf("the broker answered CONNECT with %s", p.Type()))
				}
				if ack.ReasonCode != 0 {
					return fail(&errRefused{code: byte(ack.ReasonCode)})
				}
				rest := append([]byte(nil), buf[used:]...)
				if len(rest) == 0 {
					rest = nil
				}
				if !cp.subscribe.empty() {
					sub := &packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{
						{Filter: cp.subscribe.expand(&vr), QoS: packet.QoS(cp.c.SubscribeQoS)}}}
					sb, err := packet.Encode(sub, v)
					if err == nil {
						_, err = conn.Write(sb)
					}
					if err != nil {
						return fail(fmt.Errorf("sending SUBSCRIBE: %w", err))
					}
				}
				conn.SetDeadline(time.Time{})
				return conn, rest, ack.SessionPresent, nil
			}
			if !errors.Is(derr, packet.ErrIncomplete) {
				return fail(fmt.Errorf("reading CONNACK: %w", derr))
			}
		}
		if err != nil {
			return fail(fmt.Errorf("waiting for CONNACK: %w", err))
		}
	}
}

// errRefused is a CONNACK with a failure code.
type errRefused struct{ code byte }

func (e *errRefused) Error() string {
	return fmt.Sprintf("the broker refused the connection: code 0x%02X", e.code)
}

// resend repeats unacknowledged messages after a reconnect with a
// persistent session (3.1.1 4.4, 5.0 4.4). Without a session they are gone:
// a QoS 2 message already PUBREC'd was accepted by the broker; others were
// abandoned when the connection dropped (lost()).
func (e *engine) resend(nd *node, idx int32, sessionPresent bool) {
	if len(nd.inflight) == 0 {
		return
	}
	kept := nd.inflight[:0]
	for _, m := range nd.inflight {
		if m.stage == 1 {
			if !sessionPresent {
				e.inflight.Add(-1)
				continue
			}
			b, _ := (&packet.Pubrel{PacketID: m.id}).Append(nil, e.plan.version)
			e.writeLocked(nd, idx, b)
		} else {
			m.pkt[0] |= 0x08 // DUP: this is a redelivery
			e.writeLocked(nd, idx, m.pkt)
		}
		kept = append(kept, m)
		if nd.state != stateUp {
			return
		}
	}
	nd.inflight = kept
}

// handle runs one scheduler event.
func (e *engine) handle(ev event) {
	nd := &e.nodes[ev.node]
	switch ev.kind {
	case evPublish:
		if ev.at >= e.end || e.stopping.Load() {
			return
		}
		if lag := e.clock() - ev.at; lag > e.maxLag.Load() {
			e.maxLag.Store(lag) // only this goroutine stores
		}
		global := e.fleet.Global(int(ev.node))
		cp := e.classOf(global)
		nd.mu.Lock()
		e.schedBufs = e.publishLocked(nd, ev.node, global, cp, ev.at, nil, e.schedBufs)
		nd.due++
		if budget := cp.c.Messages; budget > 0 && int(nd.due) >= budget {
			nd.mu.Unlock()
			if e.spent.Add(1) == e.budgeted && e.budgetDone != nil {
				close(e.budgetDone)
			}
			return
		}
		iv := cp.c.Interval.D().Microseconds()
		j := cp.c.Jitter.D().Microseconds()
		next := ev.at + iv
		if j > 0 {
			next += int64((nd.rng.Float64()*2 - 1) * float64(j))
		}
		nd.mu.Unlock()
		e.sched.add(event{at: next, node: ev.node, kind: evPublish})
	case evPing:
		if e.stopping.Load() {
			return
		}
		half := (e.plan.s.Connection.KeepAlive.D() / 2).Microseconds()
		nd.mu.Lock()
		now := e.clock()
		if nd.state == stateUp && now-nd.lastSend >= half {
			e.writeLocked(nd, ev.node, []byte{byte(packet.PINGREQ) << 4, 0})
		}
		nd.mu.Unlock()
		e.sched.add(event{at: now + half, node: ev.node, kind: evPing})
	case evReconnect:
		if e.stopping.Load() {
			return
		}
		select {
		case e.connectCh <- ev.node:
		default:
			e.sched.add(event{at: e.clock() + 10_000, node: ev.node, kind: evReconnect})
		}
	}
}

// publishLocked publishes one reading (or, for an actuator, its state
// after a command: value is then the commanded state). at is the intended
// send time, which the payload carries: latency counts from it.
func (e *engine) publishLocked(nd *node, idx int32, global int, cp *classPlan, at int64, value *float64, s scratch) scratch {
	if nd.state != stateUp {
		e.skipped.Add(1)
		return s
	}
	u := nd.rng.Float64()
	q := uint8(0)
	for q < 2 && u >= cp.qosCum[q] {
		q++
	}
	if q > 0 && len(nd.inflight) >= maxInflight {
		e.blocked.Add(1)
		return s
	}
	if value != nil {
		nd.value = *value
	} else {
		nd.value = nextValue(&cp.c.Model, nd.value, &nd.rng, time.Duration(at)*time.Microsecond, global)
	}
	seq := nd.seq[q] + 1
	vr := e.varsOf(global)
	s.work = cp.topic.appendTo(s.work[:0], &vr)
	topicEnd := len(s.work)
	s.work = appendPayload(s.work, round(nd.value, cp.decimals), cp.decimals,
		&header{id: uint32(global), q: q, seq: seq, t: at, run: []byte(e.run)})
	pub := packet.Publish{QoS: packet.QoS(q), Retain: cp.c.Retain, Topic: s.work[:topicEnd], Payload: s.work[topicEnd:]}
	if q > 0 {
		pub.PacketID = nd.allocID()
	}
	var err error
	s.pkt, err = pub.Append(s.pkt[:0], e.plan.version)
	if err != nil {
		e.noteError(err)
		return s
	}
	if !e.writeLocked(nd, idx, s.pkt) {
		return s
	}
	nd.seq[q] = seq
	e.sent[q].Add(1)
	if q > 0 {
		m := outMsg{id: pub.PacketID, q: q, seq: seq}
		if !*e.plan.s.Connection.CleanSession {
			m.pkt = append([]byte(nil), s.pkt...)
		}
		nd.inflight = append(nd.inflight, m)
		e.inflight.Add(1)
	}
	return s
}

// allocID picks a packet identifier not in flight (1 is the SUBSCRIBE's).
func (nd *node) allocID() uint16 {
	for {
		nd.nextID++
		if nd.nextID < 2 {
			nd.nextID = 2
		}
		free := true
		for _, m := range nd.inflight {
			if m.id == nd.nextID {
				free = false
				break
			}
		}
		if free {
			return nd.nextID
		}
	}
}

// writeLocked writes without blocking. Bytes the socket does not take now
// wait in nd.out (bounded); the poller sends them when it can.
func (e *engine) writeLocked(nd *node, idx int32, b []byte) bool {
	if nd.state != stateUp {
		return false
	}
	if nd.fd < 0 {
		return e.writeStreamLocked(nd, idx, b)
	}
	if len(nd.out) > 0 {
		if len(nd.out)+len(b) > maxPending {
			e.backpressure.Add(1)
			return false
		}
		nd.out = append(nd.out, b...)
		return true
	}
	n, err := writeFD(nd.fd, b)
	if err != nil {
		e.lost(nd, idx, fmt.Errorf("write: %w", err))
		return false
	}
	nd.lastSend = e.clock()
	if n < len(b) {
		nd.out = append(nd.out[:0], b[n:]...)
		if err := e.poll.wantWrite(nd.fd, idx, nd.gen, true); err != nil {
			e.lost(nd, idx, err)
			return false
		}
	}
	return true
}

// flush sends waiting bytes (poller, node locked).
func (e *engine) flush(nd *node, idx int32) {
	if len(nd.out) == 0 {
		e.poll.wantWrite(nd.fd, idx, nd.gen, false)
		return
	}
	n, err := writeFD(nd.fd, nd.out)
	if err != nil {
		e.lost(nd, idx, fmt.Errorf("write: %w", err))
		return
	}
	nd.out = nd.out[:copy(nd.out, nd.out[n:])]
	if len(nd.out) == 0 {
		nd.out = nil
		e.poll.wantWrite(nd.fd, idx, nd.gen, false)
	}
}

// lost closes a broken connection (node locked) and plans the reconnect.
func (e *engine) lost(nd *node, idx int32, why error) {
	if nd.state != stateUp {
		return
	}
	if nd.fd >= 0 {
		e.poll.unwatch(nd.fd)
	}
	nd.conn.Close()
	nd.conn, nd.fd, nd.state = nil, -1, stateDown
	nd.gen++
	nd.in, nd.out, nd.writing = nil, nil, false
	e.connected.Add(-1)
	e.disconnects.Add(1)
	if !e.stopping.Load() {
		e.noteError(why)
	}
	if *e.plan.s.Connection.CleanSession {
		global := e.fleet.Global(int(idx))
		for _, m := range nd.inflight {
			if m.stage == 0 {
				e.abandon(global, m.q, m.seq)
			}
			e.inflight.Add(-1)
		}
		nd.inflight = nd.inflight[:0]
	}
	e.scheduleReconnect(nd, idx)
}

func (e *engine) abandon(global int, q uint8, seq uint32) {
	e.ledgerMu.Lock()
	key := uint64(global)<<2 | uint64(q)
	e.abandoned[key] = append(e.abandoned[key], seq)
	e.ledgerMu.Unlock()
}

// handleIncoming processes complete packets (poller, node locked) and
// returns the bytes of an incomplete one.
func (e *engine) handleIncoming(nd *node, idx int32, data []byte, ib *inbound) []byte {
	ib.dec.Options.Version = e.plan.version
	v := e.plan.version
	for len(data) > 0 && nd.state == stateUp {
		p, n, err := ib.dec.Decode(data)
		if errors.Is(err, packet.ErrIncomplete) {
			return data
		}
		if err != nil {
			e.lost(nd, idx, fmt.Errorf("the broker sent a malformed packet: %w", err))
			return nil
		}
		data = data[n:]
		switch p := p.(type) {
		case *packet.Puback:
			e.acknowledge(nd, idx, 1, p.PacketID, 0, p.ReasonCode)
		case *packet.Pubrec:
			if e.acknowledge(nd, idx, 2, p.PacketID, 0, p.ReasonCode) {
				b, _ := (&packet.Pubrel{PacketID: p.PacketID}).Append(ib.bufs.pkt[:0], v)
				e.writeLocked(nd, idx, b)
			}
		case *packet.Pubcomp:
			e.acknowledge(nd, idx, 2, p.PacketID, 1, p.ReasonCode)
		case *packet.Suback:
			for _, c := range p.ReasonCodes {
				if c >= 0x80 {
					e.refused.Add(1)
					e.noteError(fmt.Errorf("the broker refused a command subscription (code 0x%02X)", byte(c)))
				}
			}
		case *packet.Publish:
			e.command(nd, idx, p, ib)
		case *packet.Pubrel:
			b, _ := (&packet.Pubcomp{PacketID: p.PacketID}).Append(ib.bufs.pkt[:0], v)
			e.writeLocked(nd, idx, b)
		case *packet.Disconnect:
			e.lost(nd, idx, fmt.Errorf("the broker sent DISCONNECT (reason 0x%02X)", byte(p.ReasonCode)))
		}
	}
	return nil
}

// acknowledge moves an in-flight message on; it reports whether the
// message was found in the expected stage and accepted.
func (e *engine) acknowledge(nd *node, idx int32, q uint8, id uint16, stage uint8, code packet.ReasonCode) bool {
	for i := range nd.inflight {
		m := &nd.inflight[i]
		if m.id != id || m.q != q || m.stage != stage {
			continue
		}
		refused := code >= 0x80
		if refused {
			// Refused: the broker will deliver nothing, so nothing is
			// expected of it.
			e.refused.Add(1)
			e.noteError(fmt.Errorf("the broker refused a QoS %d publish (code 0x%02X)", q, byte(code)))
			e.abandon(e.fleet.Global(int(idx)), q, m.seq)
		} else if stage == 0 {
			e.acked[q].Add(1)
		}
		if q == 2 && stage == 0 && !refused {
			m.stage = 1
			m.pkt = nil
			return true
		}
		nd.inflight = append(nd.inflight[:i], nd.inflight[i+1:]...)
		e.inflight.Add(-1)
		return !refused
	}
	return false
}

// command is a PUBLISH to an actuator: acknowledge it and answer with the
// new state, stamped with the time the command arrived.
func (e *engine) command(nd *node, idx int32, p *packet.Publish, ib *inbound) {
	e.commands.Add(1)
	v := e.plan.version
	switch p.QoS {
	case 1:
		b, _ := (&packet.Puback{PacketID: p.PacketID}).Append(ib.bufs.pkt[:0], v)
		e.writeLocked(nd, idx, b)
	case 2:
		b, _ := (&packet.Pubrec{PacketID: p.PacketID}).Append(ib.bufs.pkt[:0], v)
		e.writeLocked(nd, idx, b)
	}
	if e.stopping.Load() || e.clock() >= e.end {
		return
	}
	global := e.fleet.Global(int(idx))
	var state *float64
	if _, val, ok := parsePayload(p.Payload); ok {
		state = &val
	}
	ib.bufs = e.publishLocked(nd, idx, global, e.classOf(global), e.clock(), state, ib.bufs)
}

// disconnectAll ends every device connection with DISCONNECT, so that no
// will fires, and records what is still unacknowledged.
func (e *engine) disconnectAll() {
	b, _ := packet.Encode(&packet.Disconnect{}, e.plan.version)
	for i := range e.nodes {
		nd := &e.nodes[i]
		nd.mu.Lock()
		if nd.state == stateUp {
			if nd.fd >= 0 {
				writeFD(nd.fd, b)
				e.poll.unwatch(nd.fd)
			} else {
				// A stream: its writer may hold bytes still; DISCONNECT
				// follows them (tls.Conn serialises writes), bounded.
				nd.conn.SetWriteDeadline(time.Now().Add(time.Second))
				nd.conn.Write(b)
				nd.out, nd.writing = nil, false
			}
			nd.conn.Close()
			nd.conn, nd.fd = nil, -1
			nd.gen++
			e.connected.Add(-1)
		}
		if nd.state != stateConnecting {
			nd.state = stateClosed
		}
		nd.mu.Unlock()
	}
}

// monitor reports progress until publishing ends, then drains: it waits
// until the scheduler has sent every publish due before the end (it may
// run late on a busy machine), every QoS 1/2 message is acknowledged and
// the observers have been quiet for a moment, or until the drain bound.
func (e *engine) monitor() []Sample {
	tick := time.NewTicker(e.opts.ProgressInterval)
	defer tick.Stop()
	var timeline []Sample
	var lastSent, lastRecv uint64
	lastAt := e.clock()
	e.publishEnd = e.end
	sample := func(phase string) {
		now := e.clock()
		sent, recv := e.totalSent(), e.totalArrivals()
		dt := float64(now-lastAt) / 1e6
		p99 := e.windowP99()
		s := Sample{T: float64(now) / 1e6, Connected: e.connected.Load(),
			SentPerSec: float64(sent-lastSent) / dt, ReceivedPerSec: float64(recv-lastRecv) / dt, P99us: p99}
		timeline = append(timeline, s)
		lastSent, lastRecv, lastAt = sent, recv, now
		if e.opts.Progress != nil {
			e.opts.Progress(Progress{Elapsed: time.Duration(now) * time.Microsecond, Phase: phase,
				Connected: s.Connected, Nodes: len(e.nodes), Sent: sent, Received: recv, Rate: s.ReceivedPerSec,
				P99: time.Duration(p99) * time.Microsecond, Errors: e.errorCount(),
				InFlight: e.inflight.Load(), Skipped: e.skipped.Load()})
		}
	}
publishing:
	for e.clock() < e.end {
		wait := time.Duration(e.end-e.clock()) * time.Microsecond
		t := time.NewTimer(wait)
		select {
		case <-e.ctx.Done():
			t.Stop()
			return timeline
		case <-tick.C:
			sample("publishing")
		case <-e.budgetDone:
			// Every scheduled reading is out (the last one was handled
			// before the channel closed).
			t.Stop()
			e.publishEnd = e.clock()
			break publishing
		case <-t.C:
		}
		t.Stop()
	}
	sample("publishing")
	drainEnd := e.clock() + e.opts.Drain.Microseconds()
	const quiet = 300_000 // µs without arrivals
	for e.clock() < drainEnd {
		last := int64(0)
		for _, ob := range e.observers {
			last = max(last, ob.lastArrival.Load())
		}
		if e.sched.caughtUp(e.publishEnd) && e.inflight.Load() == 0 && e.clock()-max(last, e.publishEnd) >= quiet && e.observersCaughtUp() {
			e.drained = true
			break
		}
		select {
		case <-e.ctx.Done():
			return timeline
		case <-time.After(20 * time.Millisecond):
		case <-tick.C:
			sample("draining")
		}
	}
	sample("done")
	return timeline
}

// observersCaughtUp reports whether every observer has received every
// QoS 1/2 message it must get: those sent by devices it subscribed to, less
// the abandoned ones. (It is called once nothing is in flight, so every
// message sent has been acknowledged.)
func (e *engine) observersCaughtUp() bool {
	e.ledgerMu.Lock()
	abandoned := map[int]uint64{} // by shard position
	for key, seqs := range e.abandoned {
		if key&3 > 0 {
			abandoned[e.fleet.Local(int(key>>2))] += uint64(len(seqs))
		}
	}
	e.ledgerMu.Unlock()
	for _, ob := range e.observers {
		set := ob.interestSet()
		var want uint64
		for l := range e.nodes {
			if set[l/64]&(1<<(l%64)) == 0 {
				continue
			}
			nd := &e.nodes[l]
			nd.mu.Lock()
			want += uint64(nd.seq[1]) + uint64(nd.seq[2])
			nd.mu.Unlock()
			want -= abandoned[l]
		}
		ob.mu.Lock()
		got := ob.acct.unique[1] + ob.acct.unique[2]
		ob.mu.Unlock()
		if got < want {
			return false
		}
	}
	return true
}

func (e *engine) totalSent() uint64 {
	return e.sent[0].Load() + e.sent[1].Load() + e.sent[2].Load()
}

func (e *engine) totalArrivals() uint64 {
	var n uint64
	for _, ob := range e.observers {
		n += ob.arrivals.Load()
	}
	return n
}

// windowP99 is the 99th percentile latency (µs) since the last call.
func (e *engine) windowP99() int64 {
	h := newHistogram()
	for _, ob := range e.observers {
		ob.mu.Lock()
		h.Merge(ob.acct.window)
		ob.acct.window.Reset()
		ob.mu.Unlock()
	}
	if h.TotalCount() == 0 {
		return 0
	}
	return h.ValueAtQuantile(99)
}

func (e *engine) errorCount() int64 {
	e.errMu.Lock()
	defer e.errMu.Unlock()
	var n int64
	for _, c := range e.errors {
		n += c
	}
	return n
}

func (e *engine) errorList() []ErrorCount {
	e.errMu.Lock()
	defer e.errMu.Unlock()
	out := make([]ErrorCount, 0, len(e.errors))
	for m, c := range e.errors {
		out = append(out, ErrorCount{Message: m, Count: c})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Message < out[j].Message
	})
	return out
}
