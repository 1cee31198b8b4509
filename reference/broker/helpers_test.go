package broker

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/mqttspec/mqttspec/reference/packet"
)

// startBroker serves a broker on a loopback port for the test's duration.
func startBroker(t *testing.T, cfg Config) (*Broker, string) {
	t.Helper()
	b := New(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go b.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := b.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return b, ln.Addr().String()
}

// raw is a test client that speaks exact packets through our codec.
type raw struct {
	t    *testing.T
	conn net.Conn
	r    *packet.Reader
	v    packet.Version
}

const waitBound = 5 * time.Second

func dialRaw(t *testing.T, addr string, v packet.Version) *raw {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, waitBound)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &raw{t: t, conn: conn, r: packet.NewReader(conn, packet.DecodeOptions{Version: v}), v: v}
}

func (c *raw) send(p packet.Packet) {
	c.t.Helper()
	b, err := packet.Encode(p, c.v)
	if err != nil {
		c.t.Fatalf("encode %s: %v", p.Type(), err)
	}
	c.sendBytes(b)
}

func (c *raw) sendBytes(b []byte) {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(waitBound))
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next reads the next packet, failing the test after waitBound.
func (c *raw) next() packet.Packet {
	c.t.Helper()
	p, err := c.read()
	if err != nil {
		c.t.Fatalf("reading a packet: %v", err)
	}
	return p
}

func (c *raw) read() (packet.Packet, error) {
	c.conn.SetReadDeadline(time.Now().Add(waitBound))
	return c.r.ReadPacket()
}

// expectClosed waits for the broker to close the connection, returning any
// packets (e.g. a DISCONNECT) it sent first.
func (c *raw) expectClosed() []packet.Packet {
	c.t.Helper()
	var got []packet.Packet
	for {
		p, err := c.read()
		if err == nil {
			got = append(got, p)
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			c.t.Fatalf("connection still open after %v (got %d packets)", waitBound, len(got))
		}
		if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !isReset(err) {
			c.t.Fatalf("unexpected read error: %v", err)
		}
		return got
	}
}

func isReset(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe)
}

func (c *raw) connect(cp *packet.Connect) *packet.Connack {
	c.t.Helper()
	cp.ProtocolVersion = c.v
	c.send(cp)
	p := c.next()
	ca, ok := p.(*packet.Connack)
	if !ok {
		c.t.Fatalf("want CONNACK, got %s", p.Type())
	}
	return ca
}

func connectRaw(t *testing.T, addr string, v packet.Version, id string, clean bool) *raw {
	t.Helper()
	c := dialRaw(t, addr, v)
	ca := c.connect(&packet.Connect{ClientID: id, CleanStart: clean, KeepAlive: 30})
	if ca.ReasonCode != 0 {
		t.Fatalf("CONNACK refused: %s", ca.ReasonCode)
	}
	return c
}

func (c *raw) subscribe(id uint16, subs ...packet.Subscription) *packet.Suback {
	c.t.Helper()
	c.send(&packet.Subscribe{PacketID: id, Subscriptions: subs})
	p := c.next()
	sa, ok := p.(*packet.Suback)
	if !ok || sa.PacketID != id {
		c.t.Fatalf("want SUBACK %d, got %s", id, p.Type())
	}
	return sa
}

// expectPublish reads until a PUBLISH arrives (other packets fail the test).
func (c *raw) expectPublish() *packet.Publish {
	c.t.Helper()
	p := c.next()
	pub, ok := p.(*packet.Publish)
	if !ok {
		c.t.Fatalf("want PUBLISH, got %s", p.Type())
	}
	return pub
}

// sentinel publishes a marker on topic through a separate client and
// returns its payload: whatever should not have arrived before it, did not.
func sentinel(t *testing.T, addr, topic string) string {
	t.Helper()
	pub := connectRaw(t, addr, packet.V311, "", true)
	payload := "sentinel-" + t.Name()
	pub.send(&packet.Publish{QoS: 1, PacketID: 1, Topic: []byte(topic), Payload: []byte(payload)})
	if _, ok := pub.next().(*packet.Puback); !ok {
		t.Fatal("sentinel not acknowledged")
	}
	return payload
}

// ping is a round trip: when PINGRESP arrives, the broker has handled every
// packet this client sent before the PINGREQ.
func (c *raw) ping() {
	c.t.Helper()
	c.send(&packet.Pingreq{})
	if p := c.next(); p.Type() != packet.PINGRESP {
		c.t.Fatalf("want PINGRESP, got %s", p.Type())
	}
}
