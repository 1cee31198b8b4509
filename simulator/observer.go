package simulator

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mqttspec/mqttspec/reference/packet"
)

// observer is a subscriber that accounts for what arrives. There are few
// of them, so each has a goroutine that reads its connection.
type observer struct {
	e       *engine
	index   int
	filters []string
	qos     packet.QoS
	// homeFilters and global say which devices this observer must see.
	homeFilters []template
	global      []string
	// username and password, when set, go into every CONNECT.
	username, password string

	mu   sync.Mutex // guards acct (progress reads its window)
	acct *account

	// persistent observers keep their session across reconnects (the
	// scenario's clean_session false), so that the broker queues QoS 1/2
	// messages for them while they are away.
	persistent bool
	connMu     sync.Mutex // guards conn against stop
	conn       net.Conn
	quit       chan struct{} // closed by stop
	// held: QoS 2 packet identifiers received and not yet released (read
	// goroutine only).
	held        map[uint16]struct{}
	lastArrival atomic.Int64 // µs since run start
	arrivals    atomic.Uint64
	done        chan struct{}
	err         error // why the read loop ended early, if it did
	closing     atomic.Bool
	running     bool // the read loop was started
	// interest has bit l set when the device at shard position l publishes
	// on a topic this observer subscribed to (computed at the drain).
	interest []uint64
}

// interestSet computes (once) which devices this observer must hear from.
func (o *observer) interestSet() []uint64 {
	if o.interest == nil {
		n := o.e.fleet.Len()
		o.interest = make([]uint64, (n+63)/64)
		for l := 0; l < n; l++ {
			if o.interested(o.e.fleet.Global(l)) {
				o.interest[l/64] |= 1 << (l % 64)
			}
		}
	}
	return o.interest
}

func newObserver(e *engine, i int, op observerPlan) *observer {
	o := &observer{e: e, index: i, qos: op.qos, homeFilters: op.perHome, global: op.global,
		username: op.username, password: op.password,
		acct: newAccount(e.run, uint8(op.qos)), done: make(chan struct{}), persistent: !*e.plan.s.Connection.CleanSession}
	o.filters = append(o.filters, op.global...)
	for _, h := range e.fleet.ShardHomes() {
		for _, t := range op.perHome {
			o.filters = append(o.filters, t.expand(&vars{home: e.fleet.HomeName(h)}))
		}
	}
	return o
}

// interested reports whether a device's publish topic matches one of the
// observer's filters.
func (o *observer) interested(dev int) bool {
	d := o.e.fleet.Device(dev)
	topic := d.Topic()
	for _, f := range o.global {
		if packet.MatchTopic(f, topic) {
			return true
		}
	}
	for _, t := range o.homeFilters {
		if packet.MatchTopic(t.expand(&vars{home: d.HomeName}), topic) {
			return true
		}
	}
	return false
}

// start connects and subscribes; it returns once every SUBACK has granted
// the subscriptions, so that nothing published afterwards can be missed.
func (o *observer) start(ctx context.Context) error {
	o.quit = make(chan struct{})
	o.held = map[uint16]struct{}{}
	r, w, _, err := o.session(ctx, !o.persistent)
	if err != nil {
		return err
	}
	if err := o.subscribe(r, w); err != nil {
		o.closeConn()
		return err
	}
	o.running = true
	go o.readLoop(ctx, r, w)
	return nil
}

// session dials and exchanges CONNECT/CONNACK; the connection's deadline
// stays set for the subscription that may follow.
func (o *observer) session(ctx context.Context, clean bool) (*packet.Reader, *bufio.Writer, bool, error) {
	v := o.e.plan.version
	d := net.Dialer{Timeout: 10 * time.Second}
	addr := o.e.currentAddr()
	conn, err := o.e.dial(ctx, &d, addr, nil)
	if err != nil {
		return nil, nil, false, fmt.Errorf("observer %d: %w", o.index, explainDialError(err, addr))
	}
	o.connMu.Lock()
	if o.closing.Load() {
		o.connMu.Unlock()
		conn.Close()
		return nil, nil, false, fmt.Errorf("observer %d: stopped", o.index)
	}
	o.conn = conn
	o.connMu.Unlock()
	fail := func(err error) (*packet.Reader, *bufio.Writer, bool, error) {
		conn.Close()
		return nil, nil, false, err
	}
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	w := bufio.NewWriter(conn)
	r := packet.NewReader(conn, packet.DecodeOptions{Version: v})
	connect := &packet.Connect{ProtocolVersion: v, CleanStart: clean, KeepAlive: 0,
		ClientID: o.clientID()}
	o.credentials(connect)
	if o.persistent && v == packet.V5 {
		exp := uint32(math.MaxUint32)
		if se := o.e.plan.s.Connection.SessionExpiry; se > 0 {
			exp = uint32(se.D() / time.Second)
		}
		connect.Properties.SessionExpiry = exp
		connect.Properties.Present = connect.Properties.Present.With(packet.PropSessionExpiry)
	}
	if err := writePacket(w, connect, v); err != nil {
		return fail(err)
	}
	if err := w.Flush(); err != nil {
		return fail(fmt.Errorf("observer %d: %w", o.index, err))
	}
	p, err := r.ReadPacket()
	if err != nil {
		return fail(fmt.Errorf("observer %d: no CONNACK: %w", o.index, err))
	}
	ack, ok := p.(*packet.Connack)
	if !ok {
		return fail(fmt.Errorf("observer %d: the broker answered CONNECT with %s", o.index, p.Type()))
	}
	if ack.ReasonCode != 0 {
		return fail(fmt.Errorf("observer %d: the broker refused the connection (code 0x%02X)", o.index, byte(ack.ReasonCode)))
	}
	return r, w, ack.SessionPresent, nil
}

// subscribe sends the subscriptions and waits for every SUBACK, then
// clears the connection's deadline.
func (o *observer) subscribe(r *packet.Reader, w *bufio.Writer) error {
	v := o.e.plan.version
	// Subscribe in packets of up to 100 filters.
	pending := map[uint16]int{}
	id := uint16(0)
	for i := 0; i < len(o.filters); i += 100 {
		id++
		sub := &packet.Subscribe{PacketID: id}
		for _, f := range o.filters[i:min(i+100, len(o.filters))] {
			sub.Subscriptions = append(sub.Subscriptions, packet.Subscription{Filter: f, QoS: o.qos})
		}
		pending[id] = len(sub.Subscriptions)
		if err := writePacket(w, sub, v); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("observer %d: %w", o.index, err)
	}
	for len(pending) > 0 {
		p, err := r.ReadPacket()
		if err != nil {
			return fmt.Errorf("observer %d: waiting for SUBACK: %w", o.index, err)
		}
		switch p := p.(type) {
		case *packet.Suback:
			for i, c := range p.ReasonCodes {
				if c >= 0x80 {
					return fmt.Errorf("observer %d: the broker refused subscription %d of packet %d (code 0x%02X)", o.index, i, p.PacketID, byte(c))
				}
			}
			delete(pending, p.PacketID)
		case *packet.Publish:
			// Retained messages may arrive before the last SUBACK.
			if err := o.handlePublish(w, p); err != nil {
				return err
			}
		case *packet.Pubrel:
			delete(o.held, p.PacketID)
			if err := writePacket(w, &packet.Pubcomp{PacketID: p.PacketID}, v); err != nil {
				return err
			}
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	o.connMu.Lock()
	if o.conn != nil {
		o.conn.SetDeadline(time.Time{})
	}
	o.connMu.Unlock()
	return nil
}

func (o *observer) closeConn() {
	o.connMu.Lock()
	if o.conn != nil {
		o.conn.Close()
	}
	o.connMu.Unlock()
}

func writePacket(w *bufio.Writer, p packet.Packet, v packet.Version) error {
	b, err := p.Append(w.AvailableBuffer(), v)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

func (o *observer) handlePublish(w *bufio.Writer, p *packet.Publish) error {
	v := o.e.plan.version
	if p.QoS == 2 {
		// Until PUBREL, a PUBLISH with the same packet identifier is the
		// broker sending the same message again (after a reconnect), not a
		// new one: acknowledge it and do not count it twice.
		if _, held := o.held[p.PacketID]; held {
			return writePacket(w, &packet.Pubrec{PacketID: p.PacketID}, v)
		}
		o.held[p.PacketID] = struct{}{}
	}
	now := o.e.clock()
	o.lastArrival.Store(now)
	o.arrivals.Add(1)
	o.mu.Lock()
	o.acct.record(p.Payload, uint8(p.QoS), now)
	o.mu.Unlock()
	switch p.QoS {
	case 1:
		return writePacket(w, &packet.Puback{PacketID: p.PacketID}, v)
	case 2:
		return writePacket(w, &packet.Pubrec{PacketID: p.PacketID}, v)
	}
	return nil
}

// readLoop receives until the observer stops. When a persistent
// observer's connection breaks it reconnects (backoff with full jitter)
// and resumes its session; any other break ends the observer, and the run
// is incomplete.
func (o *observer) readLoop(ctx context.Context, r *packet.Reader, w *bufio.Writer) {
	defer close(o.done)
	for {
		err := o.serve(r, w)
		if o.closing.Load() {
			return
		}
		o.closeConn()
		if !o.persistent || ctx.Err() != nil {
			o.err = err
			return
		}
		o.e.noteError(err)
		if r, w, err = o.reconnect(ctx); err != nil {
			if !o.closing.Load() {
				o.err = err
			}
			return
		}
	}
}

// serve reads one connection until it breaks. Acknowledgements are
// buffered and flushed when no more input is waiting.
func (o *observer) serve(r *packet.Reader, w *bufio.Writer) error {
	r.Reuse = true
	v := o.e.plan.version
	for {
		p, err := r.ReadPacket()
		if err != nil {
			return fmt.Errorf("observer %d lost its connection: %w", o.index, err)
		}
		switch p := p.(type) {
		case *packet.Publish:
			err = o.handlePublish(w, p)
		case *packet.Pubrel:
			delete(o.held, p.PacketID)
			err = writePacket(w, &packet.Pubcomp{PacketID: p.PacketID}, v)
		case *packet.Disconnect:
			err = fmt.Errorf("the broker sent DISCONNECT (reason 0x%02X)", byte(p.ReasonCode))
		}
		if err == nil && r.Buffered() == 0 {
			err = w.Flush()
		}
		if err != nil {
			return fmt.Errorf("observer %d: %w", o.index, err)
		}
	}
}

// reconnect resumes a persistent observer's session, retrying with the
// scenario's backoff until it succeeds or the run ends. A session the
// broker did not keep is counted, its subscriptions made again; what was
// published meanwhile is then missing and counted as lost.
func (o *observer) reconnect(ctx context.Context) (*packet.Reader, *bufio.Writer, error) {
	rc := o.e.plan.s.Connection.Reconnect
	rng := newRNG(o.e.opts.Seed, -1-o.index)
	for attempt := 0; ; attempt++ {
		ceiling := math.Min(float64(rc.Initial)*math.Pow(rc.Multiplier, float64(min(attempt, 60))), float64(rc.Max))
		t := time.NewTimer(time.Duration(rng.Float64() * ceiling))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil, fmt.Errorf("observer %d: the run ended while it reconnected", o.index)
		case <-o.quit:
			t.Stop()
			return nil, nil, fmt.Errorf("observer %d: stopped", o.index)
		case <-t.C:
		}
		r, w, present, err := o.session(ctx, false)
		if err != nil {
			o.e.noteError(err)
			continue
		}
		if !present {
			o.e.sessionsLost.Add(1)
			clear(o.held)
			if err := o.subscribe(r, w); err != nil {
				o.closeConn()
				o.e.noteError(err)
				continue
			}
		} else {
			o.connMu.Lock()
			o.conn.SetDeadline(time.Time{})
			o.connMu.Unlock()
		}
		o.e.observerReconnects.Add(1)
		return r, w, nil
	}
}

// stop disconnects and waits for the read loop to end.
func (o *observer) stop() {
	o.connMu.Lock()
	if o.closing.Swap(true) || o.quit == nil {
		o.connMu.Unlock()
		return
	}
	close(o.quit)
	if c := o.conn; c != nil {
		b, _ := packet.Encode(&packet.Disconnect{}, o.e.plan.version)
		c.SetWriteDeadline(time.Now().Add(time.Second))
		c.Write(b)
		c.Close()
	}
	o.connMu.Unlock()
	if o.running {
		<-o.done
	}
	if o.persistent && o.running {
		o.discardSession()
	}
}

// discardSession ends a persistent observer's session on the broker by
// connecting once more with a clean start (and, in 5.0, no expiry), so
// that a long-running broker does not keep queueing every later run's
// messages for an observer that is gone. Best effort: the run's result
// does not depend on it.
func (o *observer) discardSession() {
	v := o.e.plan.version
	d := net.Dialer{Timeout: 2 * time.Second}
	conn, err := o.e.dial(context.Background(), &d, o.e.currentAddr(), nil)
	if err != nil {
		return
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	connect := &packet.Connect{ProtocolVersion: v, CleanStart: true, ClientID: o.clientID()}
	o.credentials(connect)
	b, err := packet.Encode(connect, v)
	if err != nil {
		return
	}
	if _, err := conn.Write(b); err != nil {
		return
	}
	r := packet.NewReader(conn, packet.DecodeOptions{Version: v})
	if p, err := r.ReadPacket(); err != nil || p.Type() != packet.CONNACK {
		return
	}
	if b, err := packet.Encode(&packet.Disconnect{}, v); err == nil {
		conn.Write(b)
	}
}

// credentials puts the observer's user name and password, if any, into
// its CONNECT.
func (o *observer) credentials(c *packet.Connect) {
	if o.username != "" {
		c.Username = o.username
	}
	if o.password != "" {
		c.Password = []byte(o.password)
	}
}

// clientID is the observer's client identifier: unique per run, shard
// and observer.
func (o *observer) clientID() string {
	return fmt.Sprintf("mqttspec-sim-%s-observer-%d-%d", o.e.run, o.e.fleet.Shard.I, o.index)
}

var errObserverDown = errors.New("an observer lost its connection: the accounting is incomplete")
