package harness

import (
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/mqttspec/mqttspec/reference/packet"
)

// Helpers of the MQTT 5.0 subscription, shared subscription and
// CONNECT/CONNACK property specs (specs/v5_subscription.go,
// specs/v5_shared.go, specs/v5_connect.go). Their names start with V5 so
// that they never collide with the helpers of other spec areas.

// V5Available reports whether a CONNACK leaves a "... Available" property
// (Wildcard / Subscription Identifier / Shared Subscription) absent or 1,
// which both mean "supported" (5.0 sections 3.2.2.3.11-13).
func V5Available(ca *packet.Connack, id packet.PropertyID) bool {
	if !ca.Properties.Has(id) {
		return true
	}
	switch id {
	case packet.PropWildcardSubAvailable:
		return ca.Properties.WildcardSubAvailable == 1
	case packet.PropSubIDAvailable:
		return ca.Properties.SubIDAvailable == 1
	case packet.PropSharedSubAvailable:
		return ca.Properties.SharedSubAvailable == 1
	case packet.PropRetainAvailable:
		return ca.Properties.RetainAvailable == 1
	}
	return true
}

// V5Connected connects a 5.0 client with a clean start and the CONNECT
// properties set by props (nil: none), expects success and returns the
// client and its CONNACK.
func V5Connected(props func(*packet.Properties), opts ...ClientOption) (*Client, *packet.Connack) {
	GinkgoHelper()
	c := NewClient(packet.V5, opts...)
	cp := &packet.Connect{CleanStart: true, KeepAlive: 60}
	if props != nil {
		props(&cp.Properties)
	}
	ca := c.Connect(cp)
	if ca.ReasonCode != 0 {
		Failf("CONNACK with code 0x00", "CONNACK %s", ca.ReasonCode)
	}
	return c, ca
}

// V5RequireSubIDs connects a client and skips the spec as unsupported when
// the target's profile or its CONNACK says Subscription Identifiers are not
// available. It returns the connected client.
func V5RequireSubIDs(opts ...ClientOption) *Client {
	GinkgoHelper()
	if t := Target(); t != nil && !t.Capabilities.SubscriptionIdentifiers {
		Unsupported("the target's profile declares no Subscription Identifiers")
	}
	c, ca := V5Connected(nil, opts...)
	if !V5Available(ca, packet.PropSubIDAvailable) {
		Unsupported("CONNACK says Subscription Identifier Available = 0")
	}
	return c
}

// V5RequireShared is V5RequireSubIDs for Shared Subscriptions.
func V5RequireShared(props func(*packet.Properties), opts ...ClientOption) *Client {
	GinkgoHelper()
	if t := Target(); t != nil && !t.Capabilities.SharedSubscriptions {
		Unsupported("the target's profile declares no Shared Subscriptions")
	}
	c, ca := V5Connected(props, opts...)
	if !V5Available(ca, packet.PropSharedSubAvailable) {
		Unsupported("CONNACK says Shared Subscription Available = 0")
	}
	return c
}

// V5SubscribeID sends one SUBSCRIBE carrying Subscription Identifier id (0:
// none) and returns its SUBACK, failing the spec when anything else comes.
func (c *Client) V5SubscribeID(id int, subs ...packet.Subscription) *packet.Suback {
	GinkgoHelper()
	pid := nextPacketID()
	sp := &packet.Subscribe{PacketID: pid, Subscriptions: subs}
	if id != 0 {
		sp.Properties.SubscriptionIDs = []int{id}
	}
	c.Send(sp)
	sa := Expect[*packet.Suback](c)
	if sa.PacketID != pid {
		Failf(fmt.Sprintf("SUBACK for packet identifier %d", pid), "SUBACK for %d", sa.PacketID)
	}
	return sa
}

// V5MustSubscribeID subscribes to one filter with Subscription Identifier
// id (0: none) and expects it granted; it returns the granted QoS.
func (c *Client) V5MustSubscribeID(id int, filter string, qos packet.QoS) packet.QoS {
	GinkgoHelper()
	sa := c.V5SubscribeID(id, packet.Subscription{Filter: filter, QoS: qos})
	if len(sa.ReasonCodes) != 1 || sa.ReasonCodes[0].IsError() {
		Failf(fmt.Sprintf("the subscription to %q granted", filter), "SUBACK codes %v", sa.ReasonCodes)
	}
	return packet.QoS(sa.ReasonCodes[0])
}

// V5CollectUntil reads PUBLISH packets, acknowledging each (QoS 1: PUBACK;
// QoS 2: PUBREC, and PUBCOMP when the PUBREL comes), until one whose payload
// is marker arrives; it returns the PUBLISH packets before it and the
// marker. Any other packet, or more than limit packets, fails the spec.
func (c *Client) V5CollectUntil(marker string, limit int) (before []*packet.Publish, mark *packet.Publish) {
	GinkgoHelper()
	for range limit {
		switch p := c.Next().(type) {
		case *packet.Publish:
			c.v5Ack(p)
			if string(p.Payload) == marker {
				return before, p
			}
			before = append(before, p)
		case *packet.Pubrel:
			c.Send(&packet.Pubcomp{PacketID: p.PacketID})
		default:
			Failf(fmt.Sprintf("PUBLISH packets up to the marker %q", marker), "%s", packet.Summary(p, c.V))
		}
	}
	Failf(fmt.Sprintf("the marker %q within %d packets", marker, limit), "%d other packets first", limit)
	return nil, nil
}

// v5Ack acknowledges a PUBLISH without waiting for anything.
func (c *Client) v5Ack(p *packet.Publish) {
	switch p.QoS {
	case 1:
		c.Send(&packet.Puback{PacketID: p.PacketID})
	case 2:
		c.Send(&packet.Pubrec{PacketID: p.PacketID})
	}
}

// V5Marker publishes a QoS 1 message with a unique payload on topic from c
// and returns the payload: the sentinel of a spec that proves an absence.
func V5Marker(c *Client, topic string) string {
	GinkgoHelper()
	payload := "marker-" + strings.ReplaceAll(ClientID(), "mqttspec-", "")
	c.Publish(topic, []byte(payload), 1, false)
	return payload
}

// V5Reply reads the server's answer to a request: the first packet, and
// whether the connection then closed (after a DISCONNECT the connection is
// expected to close, which is waited for). closed with a nil packet means
// the server closed without a word. A connection that stays silent fails
// the spec.
func (c *Client) V5Reply() (p packet.Packet, closed bool) {
	GinkgoHelper()
	p, err := c.Read()
	if err != nil {
		if v5Timeout(err) {
			Failf("an answer or the connection closed", "nothing within %v", Cfg().ReadTimeout)
		}
		return nil, true
	}
	if _, ok := p.(*packet.Disconnect); ok {
		c.ExpectClosed()
		return p, true
	}
	return p, false
}

// V5ExpectProtocolClose checks the reaction to a Malformed Packet or a
// Protocol Error: the connection closes, after an optional DISCONNECT whose
// reason code is one of codes (any code of 0x80 or above when codes is
// empty). A packet that grants what was asked (a SUBACK below 0x80, a
// PUBACK) fails the spec; a PINGREQ makes a server that keeps the
// connection open show it at once.
func (c *Client) V5ExpectProtocolClose(codes ...packet.ReasonCode) {
	GinkgoHelper()
	var got []string
	pinged := false
	for {
		p, err := c.Read()
		if err != nil {
			if v5Timeout(err) {
				Failf("the server closes the network connection", "still open after %v (received: %s)", Cfg().ReadTimeout, strings.Join(got, "; "))
			}
			break
		}
		got = append(got, packet.Summary(p, c.V))
		switch p := p.(type) {
		case *packet.Disconnect:
			if p.ReasonCode < 0x80 {
				Failf("DISCONNECT with reason code "+v5Codes(codes), "DISCONNECT %s", p.ReasonCode)
			}
			if len(codes) > 0 && !slices.Contains(codes, p.ReasonCode) {
				// The close is required; the code is a recommendation (4.13.1).
				FailShould("DISCONNECT with reason code "+v5Codes(codes), "DISCONNECT %s", p.ReasonCode)
			}
		case *packet.Pingresp:
			Failf("the server closes the network connection", "it kept it open and answered PINGREQ (received: %s)", strings.Join(got, "; "))
		case *packet.Suback:
			for _, rc := range p.ReasonCodes {
				if !rc.IsError() {
					Failf("the connection closed and nothing granted", "SUBACK %v", p.ReasonCodes)
				}
			}
		case *packet.Puback, *packet.Pubrec:
			Failf("the connection closed and the PUBLISH refused", "%s", packet.Summary(p, c.V))
		}
		if !pinged {
			pinged = true
			c.Send(&packet.Pingreq{})
		}
	}
	Observed("the connection closed after: %s", v5OrNothing(got))
}

func v5OrNothing(s []string) string {
	if len(s) == 0 {
		return "nothing"
	}
	return strings.Join(s, "; ")
}

func v5Codes(codes []packet.ReasonCode) string {
	if len(codes) == 0 {
		return ">= 0x80"
	}
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = c.String()
	}
	return strings.Join(s, " or ")
}

func v5Timeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// V5ConnectRaw sends the CONNECT (client identifier filled in like Connect)
// and reads the first packet of the answer as raw bytes, straight from the
// connection, so that a spec can check bits the decoder would reject. It
// returns the bytes and the decoded packet or the decode error; err is the
// network error when nothing complete arrived (closed or timeout). It must
// be the client's first read.
func (c *Client) V5ConnectRaw(cp *packet.Connect) (raw []byte, p packet.Packet, err error) {
	GinkgoHelper()
	cp.ProtocolVersion = c.V
	if cp.ClientID == "" {
		cp.ClientID = ClientID()
	}
	c.ID = cp.ClientID
	c.Send(cp)
	return c.V5ReadRaw()
}

// V5ReadRaw reads one whole packet as raw bytes (see V5ConnectRaw).
func (c *Client) V5ReadRaw() (raw []byte, p packet.Packet, err error) {
	GinkgoHelper()
	if c.r.Buffered() != 0 {
		Fail("V5ReadRaw: decoded reads already buffered bytes of this connection")
	}
	c.conn.SetReadDeadline(time.Now().Add(Cfg().ReadTimeout))
	var one [1]byte
	read := func() (byte, error) {
		_, err := io.ReadFull(c.conn, one[:])
		return one[0], err
	}
	first, err := read()
	if err != nil {
		c.tr.add("note", c.Name, nil, "read: "+readError(err))
		return nil, nil, err
	}
	raw = append(raw, first)
	n, mul := 0, 1
	for i := 0; ; i++ {
		b, err := read()
		if err != nil {
			c.tr.add("note", c.Name, raw, "read: "+readError(err))
			return raw, nil, err
		}
		raw = append(raw, b)
		n += int(b&0x7F) * mul
		mul *= 128
		if b&0x80 == 0 {
			break
		}
		if i == 3 {
			c.tr.add("recv", c.Name, raw, "raw bytes (remaining length longer than 4 bytes)")
			return raw, nil, fmt.Errorf("remaining length longer than 4 bytes")
		}
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(c.conn, body); err != nil {
		c.tr.add("note", c.Name, raw, "read: "+readError(err))
		return raw, nil, err
	}
	raw = append(raw, body...)
	p, _, derr := packet.Decode(raw, packet.DecodeOptions{Version: c.V})
	if derr != nil {
		c.tr.add("recv", c.Name, raw, "raw bytes ("+derr.Error()+")")
		return raw, nil, derr
	}
	c.tr.add("recv", c.Name, raw, packet.Summary(p, c.V))
	return raw, p, nil
}

// V5HoldUntil is V5CollectUntil without acknowledging anything: the QoS 1
// and 2 deliveries before the marker stay unacknowledged (the marker should
// arrive at QoS 0).
func (c *Client) V5HoldUntil(marker string, limit int) (before []*packet.Publish) {
	GinkgoHelper()
	for range limit {
		switch p := c.Next().(type) {
		case *packet.Publish:
			if string(p.Payload) == marker {
				c.v5Ack(p)
				return before
			}
			before = append(before, p)
		default:
			Failf(fmt.Sprintf("PUBLISH packets up to the marker %q", marker), "%s", packet.Summary(p, c.V))
		}
	}
	Failf(fmt.Sprintf("the marker %q within %d packets", marker, limit), "%d other packets first", limit)
	return nil
}

// V5EndSession disconnects normally with Session Expiry Interval 0, so the
// server discards the session now (cleanup of specs that needed one).
func (c *Client) V5EndSession() {
	GinkgoHelper()
	d := &packet.Disconnect{}
	d.Properties.Present = d.Properties.Present.With(packet.PropSessionExpiry)
	c.Send(d)
	c.Close()
}

// V5Payloads lists the payloads of the messages, for evidence.
func V5Payloads(ps []*packet.Publish) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = fmt.Sprintf("%q (QoS %d)", p.Payload, p.QoS)
	}
	return out
}
