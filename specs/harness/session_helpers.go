package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/mqttspec/mqttspec/brokers"
	"github.com/mqttspec/mqttspec/reference/packet"
)

// Helpers of the retained message, will, session and keep-alive specs.

// RequireFeatures makes the spec unsupported unless the target offers QoS
// up to qos and, when retain is set, retained messages: as its capabilities
// declare and, for 5.0, as the CONNACK ca says (Maximum QoS, Retain
// Available; ca may be nil).
func RequireFeatures(ca *packet.Connack, qos packet.QoS, retain bool) {
	GinkgoHelper()
	caps := Target().Capabilities
	if caps.MaximumQoS < qos {
		Unsupported("the target declares Maximum QoS %d, the spec needs QoS %d", caps.MaximumQoS, qos)
	}
	if retain && !caps.Retain {
		Unsupported("the target declares no retained messages")
	}
	if ca == nil {
		return
	}
	if ca.Properties.Has(packet.PropMaximumQoS) && packet.QoS(ca.Properties.MaximumQoS) < qos {
		Unsupported("CONNACK Maximum QoS %d, the spec needs QoS %d", ca.Properties.MaximumQoS, qos)
	}
	if retain && ca.Properties.Has(packet.PropRetainAvailable) && ca.Properties.RetainAvailable == 0 {
		Unsupported("CONNACK Retain Available 0")
	}
}

// RequireSessionExpiry makes a 5.0 spec that needs a session to outlive
// its connection unsupported when the target declares no session expiry,
// or when its CONNACK cut the requested Session Expiry Interval to 0.
func RequireSessionExpiry(ca *packet.Connack) {
	GinkgoHelper()
	if !Target().Capabilities.SessionExpiry {
		Unsupported("the target declares no session expiry (sessions end with their connection)")
	}
	if ca != nil && ca.Properties.Has(packet.PropSessionExpiry) && ca.Properties.SessionExpiry == 0 {
		Unsupported("CONNACK Session Expiry Interval 0: the server keeps no session after the connection")
	}
}

// SubscribeGranted subscribes c to one filter and makes the spec
// unsupported when the broker grants less than need (a 3.1.1 broker tells
// its maximum QoS only this way); a failure code fails the spec.
func (c *Client) SubscribeGranted(sub packet.Subscription, need packet.QoS) {
	GinkgoHelper()
	sa := c.Subscribe(sub)
	if len(sa.ReasonCodes) != 1 || sa.ReasonCodes[0].IsError() {
		Failf(fmt.Sprintf("the subscription to %q granted", sub.Filter), "SUBACK codes %v", sa.ReasonCodes)
	}
	if packet.QoS(sa.ReasonCodes[0]) < need {
		Unsupported("the broker granted QoS %d for %q, the spec needs QoS %d", sa.ReasonCodes[0], sub.Filter, need)
	}
}

// ClearRetained removes, when the spec ends, the retained messages it may
// have left on topics (an empty retained PUBLISH on each), over a
// connection of its own, so specs can share a broker.
func ClearRetained(v packet.Version, topics ...string) {
	DeferCleanup(func() {
		var pkts []packet.Packet
		for _, t := range topics {
			pkts = append(pkts, &packet.Publish{Topic: []byte(t), Retain: true})
		}
		if err := rawSession(v, &packet.Connect{ClientID: ClientID(), CleanStart: true}, pkts); err != nil {
			fmt.Fprintf(GinkgoWriter, "clearing retained messages on %v: %v\n", topics, err)
		}
	})
}

// ForgetSession ends, when the spec ends, the session the spec may have
// left on the broker for client identifier id: it connects with a clean
// start (5.0: Session Expiry 0) and disconnects. A client still connected
// with id is taken over.
func ForgetSession(v packet.Version, id string) {
	DeferCleanup(func() {
		if err := rawSession(v, &packet.Connect{ClientID: id, CleanStart: true}, nil); err != nil {
			fmt.Fprintf(GinkgoWriter, "ending session %s: %v\n", id, err)
		}
	})
}

// rawSession connects with cp, sends pkts, waits for a PINGRESP (so the
// broker has handled them) and disconnects. It uses no Ginkgo facility, so
// cleanup nodes can call it.
func rawSession(v packet.Version, cp *packet.Connect, pkts []packet.Packet) error {
	cp.ProtocolVersion = v
	ctx, cancel := context.WithTimeout(context.Background(), Cfg().ReadTimeout)
	defer cancel()
	conn, err := brokers.Dial(ctx, Target().Endpoint, nil)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(Cfg().ReadTimeout))
	r := packet.NewReader(conn, packet.DecodeOptions{Version: v})
	write := func(p packet.Packet) error {
		b, err := packet.Encode(p, v)
		if err != nil {
			return err
		}
		_, err = conn.Write(b)
		return err
	}
	if err := write(cp); err != nil {
		return err
	}
	p, err := r.ReadPacket()
	if err != nil {
		return err
	}
	if ca, ok := p.(*packet.Connack); !ok || ca.ReasonCode != 0 {
		return fmt.Errorf("CONNECT answered with %s", packet.Summary(p, v))
	}
	for _, p := range append(pkts, &packet.Pingreq{}) {
		if err := write(p); err != nil {
			return err
		}
	}
	for {
		p, err := r.ReadPacket()
		if err != nil {
			return err
		}
		if _, ok := p.(*packet.Pingresp); ok {
			break
		}
	}
	return write(&packet.Disconnect{})
}

// WaitQuiet is how timer specs wait: a bounded read of d on c, never a
// sleep. It returns (nil, nil) when nothing arrived and the connection is
// still open, the packet when one arrived first, and the error when the
// connection closed or the broker sent something undecodable.
func (c *Client) WaitQuiet(d time.Duration) (packet.Packet, error) {
	p, err := c.ReadWithin(d)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, nil
		}
		return nil, err
	}
	return p, nil
}

// WaitUntil waits on c with WaitQuiet until the moment t.
func (c *Client) WaitUntil(t time.Time) (packet.Packet, error) {
	d := time.Until(t)
	if d <= 0 {
		return nil, nil
	}
	return c.WaitQuiet(d)
}

// DisconnectAndWait sends d (a normal DISCONNECT when nil) and waits, at
// most the read timeout, for the broker to close the connection: once it
// has, the broker has acted on the DISCONNECT (its will decision included).
// It reports whether the broker closed the connection; if it did not, the
// client closes it.
func (c *Client) DisconnectAndWait(d *packet.Disconnect) bool {
	GinkgoHelper()
	if d == nil {
		d = &packet.Disconnect{}
	}
	c.Send(d)
	deadline := time.Now().Add(Cfg().ReadTimeout)
	for {
		_, err := c.ReadWithin(time.Until(deadline))
		if err == nil {
			continue
		}
		var ne net.Error
		closed := !(errors.As(err, &ne) && ne.Timeout())
		if !closed {
			TraceNote("the broker left the connection open after DISCONNECT; the client closes it")
		}
		c.Close()
		return closed
	}
}

// ClosedAfter reads until the broker closes the connection and returns the
// packets it sent first. Unlike ExpectClosed it reports a packet that does
// not decode (err, e.g. a reason code DISCONNECT may not carry) instead of
// taking it for the close. It fails the spec when the connection is still
// open after the read timeout.
func (c *Client) ClosedAfter() (got []packet.Packet, err error) {
	GinkgoHelper()
	return c.ClosedWithin(Cfg().ReadTimeout)
}

// ClosedWithin is ClosedAfter with its own bound, for closes a protocol
// timer causes (the bound then includes the timer).
func (c *Client) ClosedWithin(d time.Duration) (got []packet.Packet, err error) {
	GinkgoHelper()
	deadline := time.Now().Add(d)
	for {
		p, err := c.ReadWithin(time.Until(deadline))
		if err == nil {
			got = append(got, p)
			continue
		}
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			Failf("the broker closes the network connection", "the connection was still open after %v", d)
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
			return got, nil
		case packet.AsError(err) != nil:
			return got, err
		}
		// Connection reset and the like: closed.
		return got, nil
	}
}

// ExpectPayload waits for the next packet, which must be a PUBLISH with
// the payload want; it completes the QoS flow and returns the PUBLISH.
func (c *Client) ExpectPayload(want, what string) *packet.Publish {
	GinkgoHelper()
	p, err := c.Read()
	if err != nil {
		Failf(fmt.Sprintf("%s (PUBLISH with payload %q)", what, want), "%s", readError(err))
	}
	pub, ok := p.(*packet.Publish)
	if !ok {
		Failf(fmt.Sprintf("%s (PUBLISH with payload %q)", what, want), "%s", packet.Summary(p, c.V))
	}
	c.Ack(pub)
	if string(pub.Payload) != want {
		Failf(fmt.Sprintf("%s (PUBLISH with payload %q)", what, want), "%s", packet.Summary(pub, c.V))
	}
	return pub
}

// ExpectSentinel asserts that the next packet c receives is the PUBLISH of
// the sentinel payload: what absent names (which would have been routed
// before the sentinel) did not arrive.
func (c *Client) ExpectSentinel(sentinel, absent string) {
	GinkgoHelper()
	p, err := c.Read()
	if err != nil {
		Failf(fmt.Sprintf("the sentinel %q", sentinel), "%s", readError(err))
	}
	pub, ok := p.(*packet.Publish)
	if ok {
		c.Ack(pub)
	}
	if !ok || string(pub.Payload) != sentinel {
		Failf(fmt.Sprintf("no %s: the sentinel %q as the next packet", absent, sentinel), "%s", packet.Summary(p, c.V))
	}
}
