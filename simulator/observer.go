package simulator

import (
	"bufio"
	"context"
	"errors"
	"fmt"
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

	mu   sync.Mutex // guards acct (progress reads its window)
	acct *account

	conn        net.Conn
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
		acct: newAccount(e.run, uint8(op.qos)), done: make(chan struct{})}
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
	v := o.e.plan.version
	d := net.Dialer{Timeout: 10 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", o.e.addr)
	if err != nil {
		return fmt.Errorf("observer %d: %w", o.index, explainDialError(err, o.e.addr))
	}
	o.conn = conn
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	w := bufio.NewWriter(conn)
	r := packet.NewReader(conn, packet.DecodeOptions{Version: v})
	connect := &packet.Connect{ProtocolVersion: v, CleanStart: true,
		ClientID: fmt.Sprintf("mqttspec-sim-%s-observer-%d-%d", o.e.run, o.e.fleet.Shard.I, o.index)}
	if err := writePacket(w, connect, v); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("observer %d: %w", o.index, err)
	}
	p, err := r.ReadPacket()
	if err != nil {
		return fmt.Errorf("observer %d: no CONNACK: %w", o.index, err)
	}
	ack, ok := p.(*packet.Connack)
	if !ok {
		return fmt.Errorf("observer %d: the broker answered CONNECT with %s", o.index, p.Type())
	}
	if ack.ReasonCode != 0 {
		return fmt.Errorf("observer %d: the broker refused the connection (code 0x%02X)", o.index, byte(ack.ReasonCode))
	}
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
			if err := writePacket(w, &packet.Pubcomp{PacketID: p.PacketID}, v); err != nil {
				return err
			}
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	conn.SetDeadline(time.Time{})
	o.running = true
	go o.readLoop(r, w)
	return nil
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
	now := o.e.clock()
	o.lastArrival.Store(now)
	o.arrivals.Add(1)
	o.mu.Lock()
	o.acct.record(p.Payload, uint8(p.QoS), now)
	o.mu.Unlock()
	v := o.e.plan.version
	switch p.QoS {
	case 1:
		return writePacket(w, &packet.Puback{PacketID: p.PacketID}, v)
	case 2:
		return writePacket(w, &packet.Pubrec{PacketID: p.PacketID}, v)
	}
	return nil
}

// readLoop receives until the connection closes. Acknowledgements are
// buffered and flushed when no more input is waiting.
func (o *observer) readLoop(r *packet.Reader, w *bufio.Writer) {
	defer close(o.done)
	r.Reuse = true
	v := o.e.plan.version
	for {
		p, err := r.ReadPacket()
		if err != nil {
			if !o.closing.Load() {
				o.err = fmt.Errorf("observer %d lost its connection: %w", o.index, err)
			}
			return
		}
		switch p := p.(type) {
		case *packet.Publish:
			err = o.handlePublish(w, p)
		case *packet.Pubrel:
			err = writePacket(w, &packet.Pubcomp{PacketID: p.PacketID}, v)
		case *packet.Disconnect:
			err = fmt.Errorf("the broker sent DISCONNECT (reason 0x%02X)", byte(p.ReasonCode))
		}
		if err == nil && r.Buffered() == 0 {
			err = w.Flush()
		}
		if err != nil {
			if !o.closing.Load() {
				o.err = fmt.Errorf("observer %d: %w", o.index, err)
			}
			o.conn.Close()
			return
		}
	}
}

// stop disconnects and waits for the read loop to end.
func (o *observer) stop() {
	if o.conn == nil {
		return
	}
	o.closing.Store(true)
	b, _ := packet.Encode(&packet.Disconnect{}, o.e.plan.version)
	o.conn.SetWriteDeadline(time.Now().Add(time.Second))
	o.conn.Write(b)
	o.conn.Close()
	if o.running {
		<-o.done
	}
}

var errObserverDown = errors.New("an observer lost its connection: the accounting is incomplete")
