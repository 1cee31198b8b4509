package specs

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/mqttspec/mqttspec/reference/packet"
	. "github.com/mqttspec/mqttspec/specs/harness"
)

// Flow control and size limits: 5.0 sections 3.1.2.11.3, 3.1.2.11.4,
// 3.2.2.3.3, 3.2.2.3.6, 3.3.4 and 4.9, and the rule that optional Reason
// Strings and User Properties give way to the receiver's Maximum Packet
// Size (3.2.2.3.9-10, 3.4.2.2, 3.5.2.2, 3.6.2.2, 3.7.2.2, 3.9.2.1, 3.11.2.1,
// 3.14.2.2).
var _ = Describe("Flow control and packet size limits", func() {
	Only(packet.V5, func() {
		const v = packet.V5

		It("never has more unacknowledged QoS 1 PUBLISH packets towards the client than its Receive Maximum",
			Statement(v, "MQTT-3.3.4-9", "MQTT-4.9.0-1", "MQTT-4.9.0-2"), func() {
				Requirement("The server starts with a send quota of at least 1 and at most the client's Receive Maximum; at zero it sends no QoS 1 or 2 PUBLISH until an acknowledgement frees a slot.")
				const receiveMax = 2
				topic := Topic("flow", "qos1")
				sub, ca := ConnectedV5With(packet.Properties{ReceiveMaximum: receiveMax}, Named("subscriber"))
				if ConnackLimitsOf(ca).MaximumQoS < 1 {
					Unsupported("the server supports QoS 0 only")
				}
				sub.MustSubscribe(topic, 1)
				pub := Connected(v, Named("publisher"))
				const n = 5
				for i := range n {
					pub.Publish(topic, []byte(fmt.Sprintf("m%d", i)), 1, false)
				}
				// The broker holds all five. Each round: at least one PUBLISH
				// arrives (the quota is never zero at the start, and a PUBACK
				// refills it), whatever else it had sent arrives before
				// PINGRESP, and the unacknowledged ones never exceed the
				// client's Receive Maximum. Then the oldest is acknowledged.
				var held []*packet.Publish
				received, most := 0, 0
				for received < n {
					held = append(held, expectQoSPublish(sub, 1, "a PUBLISH within the send quota"))
					received++
					for _, p := range sub.PingCollect() {
						pp, ok := p.(*packet.Publish)
						if !ok {
							Failf("PUBLISH or PINGRESP", "%s", packet.Summary(p, v))
						}
						held = append(held, pp)
						received++
					}
					if len(held) > receiveMax {
						Failf(fmt.Sprintf("at most %d unacknowledged QoS 1 PUBLISH packets (the client's Receive Maximum)", receiveMax),
							"%d unacknowledged", len(held))
					}
					most = max(most, len(held))
					sub.Ack(held[0])
					held = held[1:]
				}
				if most < receiveMax {
					Note("the server kept at most %d PUBLISH packets unacknowledged, below the client's Receive Maximum of %d (allowed)", most, receiveMax)
				}
			})

		It("counts a QoS 2 PUBLISH as unacknowledged until its PUBCOMP",
			Statement(v, "MQTT-3.3.4-9", "MQTT-4.9.0-2"), func() {
				Requirement("A QoS 2 delivery takes a slot of the client's Receive Maximum from PUBLISH until PUBCOMP: PUBREC alone does not free it.")
				topic := Topic("flow", "qos2")
				sub, ca := ConnectedV5With(packet.Properties{ReceiveMaximum: 1}, Named("subscriber"))
				if ConnackLimitsOf(ca).MaximumQoS < 2 {
					Unsupported("the server's Maximum QoS is %d", ConnackLimitsOf(ca).MaximumQoS)
				}
				sub.MustSubscribe(topic, 2)
				pub := Connected(v, Named("publisher"))
				pub.Publish(topic, []byte("first"), 2, false)
				pub.Publish(topic, []byte("second"), 2, false)
				first := expectQoSPublish(sub, 2, "the first QoS 2 PUBLISH")
				sub.Send(&packet.Pubrec{PacketID: first.PacketID})
				rel, before := AwaitPacket[*packet.Pubrel](sub)
				failOnQoSPublish(before, "no second PUBLISH between PUBREC and PUBREL (Receive Maximum 1)")
				expectNoQoSPublish(sub, "no second PUBLISH before PUBCOMP (Receive Maximum 1)")
				sub.Send(&packet.Pubcomp{PacketID: rel.PacketID})
				second := expectQoSPublish(sub, 2, "the second PUBLISH once PUBCOMP freed the slot")
				if string(second.Payload) != "second" {
					Failf(`the PUBLISH "second"`, "%s", packet.Summary(second, v))
				}
				sub.Ack(second)
			})

		It("answers other packets while the client's receive quota is used up",
			Statement(v, "MQTT-3.3.4-10", "MQTT-4.9.0-3"), func() {
				Requirement("Flow control holds back only QoS 1 and 2 PUBLISH packets: with the client's quota at zero the server still answers SUBSCRIBE, UNSUBSCRIBE and PINGREQ.")
				topic := Topic("flow", "others")
				sub, ca := ConnectedV5With(packet.Properties{ReceiveMaximum: 1}, Named("subscriber"))
				if ConnackLimitsOf(ca).MaximumQoS < 1 {
					Unsupported("the server supports QoS 0 only")
				}
				sub.MustSubscribe(topic, 1)
				pub := Connected(v, Named("publisher"))
				pub.Publish(topic, []byte("held"), 1, false)
				pub.Publish(topic, []byte("queued"), 1, false)
				held := expectQoSPublish(sub, 1, "the PUBLISH that uses up the quota")

				id := NextPacketID()
				sub.Send(&packet.Subscribe{PacketID: id, Subscriptions: []packet.Subscription{{Filter: Topic("flow", "extra"), QoS: 1}}})
				sa, before := AwaitPacket[*packet.Suback](sub)
				failOnQoSPublish(before, "no PUBLISH while the quota is zero")
				if sa.PacketID != id {
					Failf(fmt.Sprintf("SUBACK %d", id), "%s", packet.Summary(sa, v))
				}
				id = NextPacketID()
				sub.Send(&packet.Unsubscribe{PacketID: id, Filters: []string{Topic("flow", "extra")}})
				ua, before := AwaitPacket[*packet.Unsuback](sub)
				failOnQoSPublish(before, "no PUBLISH while the quota is zero")
				if ua.PacketID != id {
					Failf(fmt.Sprintf("UNSUBACK %d", id), "%s", packet.Summary(ua, v))
				}
				expectNoQoSPublish(sub, "PINGRESP and no PUBLISH while the quota is zero")
				sub.Ack(held)
				if p := sub.Receive(); string(p.Payload) != "queued" {
					Failf(`the held-back PUBLISH "queued"`, "%s", packet.Summary(p, v))
				}
			})

		It("closes the connection when a client exceeds the server's Receive Maximum",
			Statement(v, "MQTT-3.3.4-7", "MQTT-4.13.1-1"), func() {
				Requirement("A client may have at most the server's Receive Maximum QoS 1 and 2 PUBLISH packets unacknowledged; one more is answered with DISCONNECT 0x93 (Receive Maximum exceeded), if any, and the connection closed.")
				c, ca := ConnectedV5With(packet.Properties{})
				lim := ConnackLimitsOf(ca)
				if lim.MaximumQoS < 2 {
					Unsupported("the spec holds QoS 2 exchanges open to exceed the quota; the server's Maximum QoS is %d", lim.MaximumQoS)
				}
				if lim.ReceiveMaximum >= 65535 {
					Unsupported("the server's Receive Maximum is 65535: there are not enough packet identifiers to exceed it")
				}
				Note("the server's Receive Maximum is %d; the client sends %d QoS 2 PUBLISH packets without PUBREL", lim.ReceiveMaximum, lim.ReceiveMaximum+1)
				topic := Topic("flow", "exceed")
				var flood []byte
				for i := 1; i <= lim.ReceiveMaximum+1; i++ {
					b, err := packet.Encode(&packet.Publish{Topic: []byte(topic), QoS: 2, PacketID: uint16(i), Payload: []byte("x")}, v)
					if err != nil {
						Fail(err.Error())
					}
					flood = append(flood, b...)
				}
				res := c.Flood(flood, fmt.Sprintf("%d QoS 2 PUBLISH packets, identifiers 1 to %d", lim.ReceiveMaximum+1, lim.ReceiveMaximum+1))
				Observed("%d PUBREC received; closed: %v", res.Counts[packet.PUBREC], res.Closed)
				if !res.Closed {
					Failf("the connection closed after one PUBLISH over the Receive Maximum", "it stayed open (%s)", res.Stopped)
				}
				if res.Disconnect == nil {
					Note("the server closed the connection without a DISCONNECT (allowed; DISCONNECT 0x93 is recommended)")
				} else if res.Disconnect.ReasonCode != packet.ReceiveMaximumExceeded {
					Failf("DISCONNECT 0x93 Receive Maximum exceeded", "DISCONNECT %s", res.Disconnect.ReasonCode)
				}
			})

		It("does not send a PUBLISH larger than the client's Maximum Packet Size",
			Statement(v, "MQTT-3.1.2-24"), func() {
				Requirement("No packet the server sends exceeds the Maximum Packet Size from the client's CONNECT; a message too large for the client is not sent to it.")
				const limit = 256
				topic := Topic("size", "limit")
				sub, _ := ConnectedV5With(packet.Properties{MaximumPacketSize: limit}, Named("subscriber"))
				sub.MustSubscribe(topic, 1)
				pub := Connected(v, Named("publisher"))
				pub.Publish(topic, []byte(strings.Repeat("L", 2*limit)), 1, false)
				pub.Publish(topic, []byte("small"), 1, false)
				p, err := sub.Read()
				if err != nil {
					Failf(`the PUBLISH "small"`, "nothing (%v)", err)
				}
				if n := p.Size(v); n > limit {
					Failf(fmt.Sprintf("no packet above %d bytes", limit), "%s of %d bytes", p.Type(), n)
				}
				if pp, ok := p.(*packet.Publish); !ok || string(pp.Payload) != "small" {
					Failf(`the PUBLISH "small" (the large one dropped)`, "%s", packet.Summary(p, v))
				}
			})

		It("carries on after a message too large for the client as if it had been delivered",
			Statement(v, "MQTT-3.1.2-25"), func() {
				Requirement("A message dropped because it exceeds the client's Maximum Packet Size is treated as sent: it does not hold a slot of the client's Receive Maximum, and the deliveries after it go on.")
				const limit = 256
				topic := Topic("size", "as-if-sent")
				sub, ca := ConnectedV5With(packet.Properties{MaximumPacketSize: limit, ReceiveMaximum: 1}, Named("subscriber"))
				if ConnackLimitsOf(ca).MaximumQoS < 1 {
					Unsupported("the server supports QoS 0 only")
				}
				sub.MustSubscribe(topic, 1)
				pub := Connected(v, Named("publisher"))
				pub.Publish(topic, []byte(strings.Repeat("L", 2*limit)), 1, false)
				pub.Publish(topic, []byte("after-1"), 1, false)
				pub.Publish(topic, []byte("after-2"), 1, false)
				for _, want := range []string{"after-1", "after-2"} {
					p, err := sub.Read()
					if err != nil {
						Failf(fmt.Sprintf("the PUBLISH %q (the dropped message holds no slot of Receive Maximum 1)", want), "nothing (%v)", err)
					}
					pp, ok := p.(*packet.Publish)
					if !ok || p.Size(v) > limit || string(pp.Payload) != want {
						Failf(fmt.Sprintf("the PUBLISH %q", want), "%s of %d bytes", packet.Summary(p, v), p.Size(v))
					}
					sub.Ack(pp)
				}
			})

		It("closes the connection when a client sends a packet above the server's Maximum Packet Size",
			Statement(v, "MQTT-4.13.1-1"), func() {
				Requirement("A packet larger than the Maximum Packet Size the server announced is a Protocol Error: DISCONNECT 0x95 (Packet too large), if any, and the connection closed.")
				c, ca := ConnectedV5With(packet.Properties{})
				limit := ConnackLimitsOf(ca).MaximumPacketSize
				switch {
				case limit == 0:
					Unsupported("the server announces no Maximum Packet Size")
				case limit > 16<<20:
					Unsupported("the server's Maximum Packet Size (%d bytes) is too large to exceed within the suite's bounds", limit)
				}
				p := &packet.Publish{Topic: []byte(Topic("size", "too-large")), QoS: 1, PacketID: 1}
				p.Payload = make([]byte, limit+1-p.Size(v))
				// The Remaining Length field grows with the payload: trim,
				// then make sure the packet is still over the limit.
				for p.Size(v) > limit+1 {
					p.Payload = p.Payload[:len(p.Payload)-1]
				}
				for p.Size(v) <= limit {
					p.Payload = append(p.Payload, 0)
				}
				b, err := packet.Encode(p, v)
				if err != nil {
					Fail(err.Error())
				}
				Note("the server's Maximum Packet Size is %d; the PUBLISH is %d bytes", limit, len(b))
				res := c.Flood(b, "one PUBLISH just over the server's Maximum Packet Size")
				if res.Counts[packet.PUBACK] > 0 {
					Failf("the PUBLISH refused", "the server acknowledged it with PUBACK")
				}
				if !res.Closed {
					Failf("the connection closed", "it stayed open (%s)", res.Stopped)
				}
				if res.Disconnect == nil {
					Note("the server closed the connection without a DISCONNECT (allowed; DISCONNECT 0x95 is recommended)")
				} else if res.Disconnect.ReasonCode != packet.PacketTooLarge {
					Failf("DISCONNECT 0x95 Packet too large", "DISCONNECT %s", res.Disconnect.ReasonCode)
				}
			})

		for _, bc := range boundedCases() {
			It(fmt.Sprintf("leaves out %s properties that would exceed the client's Maximum Packet Size", bc.typ),
				Statement(v, bc.ids...), func() {
					Requirement(fmt.Sprintf("The server may add a Reason String or User Properties to %s, but only when the packet still fits the client's Maximum Packet Size; otherwise it sends the packet without them.", bc.typ))
					checkBounded(bc)
				})
		}
	})
})

// expectQoSPublish reads the next packet and expects a PUBLISH at qos.
func expectQoSPublish(c *Client, qos packet.QoS, what string) *packet.Publish {
	GinkgoHelper()
	p, err := c.Read()
	if err != nil {
		Failf(what, "nothing (%v)", err)
	}
	pp, ok := p.(*packet.Publish)
	if !ok || pp.QoS != qos {
		Failf(fmt.Sprintf("%s at QoS %d", what, qos), "%s", packet.Summary(p, c.V))
	}
	return pp
}

// expectNoQoSPublish checks, with a PINGREQ round trip, that the broker had
// queued no QoS 1 or 2 PUBLISH for the client.
func expectNoQoSPublish(c *Client, what string) {
	GinkgoHelper()
	failOnQoSPublish(c.PingCollect(), what)
}

func failOnQoSPublish(got []packet.Packet, what string) {
	GinkgoHelper()
	for _, p := range got {
		if pp, ok := p.(*packet.Publish); ok && pp.QoS > 0 {
			Failf(what, "%s", packet.Summary(pp, packet.V5))
		}
	}
}

// boundedCase is one packet type whose Reason String and User Properties
// must give way to the client's Maximum Packet Size.
type boundedCase struct {
	typ packet.Type
	ids []string
	// trigger makes the server send a packet of type typ on a connected
	// client and returns it, or nil when the server chose to send none
	// (only where the specification lets it).
	trigger func(c *Client) packet.Packet
	// connack: the packet is the CONNACK itself (a refused CONNECT).
	connack bool
}

func boundedCases() []boundedCase {
	return []boundedCase{
		{typ: packet.CONNACK, ids: []string{"MQTT-3.2.2-19", "MQTT-3.2.2-20"}, connack: true},
		{typ: packet.PUBACK, ids: []string{"MQTT-3.4.2-2", "MQTT-3.4.2-3"}, trigger: func(c *Client) packet.Packet {
			// No subscriber: a server may explain 0x10 with a Reason String.
			c.Send(&packet.Publish{Topic: []byte(Topic("bounded", "puback")), QoS: 1, PacketID: 1, Payload: []byte("x")})
			return Expect[*packet.Puback](c)
		}},
		{typ: packet.PUBREC, ids: []string{"MQTT-3.5.2-2", "MQTT-3.5.2-3"}, trigger: func(c *Client) packet.Packet {
			c.Send(&packet.Publish{Topic: []byte(Topic("bounded", "pubrec")), QoS: 2, PacketID: 1, Payload: []byte("x")})
			return Expect[*packet.Pubrec](c)
		}},
		{typ: packet.PUBREL, ids: []string{"MQTT-3.6.2-2", "MQTT-3.6.2-3"}, trigger: func(c *Client) packet.Packet {
			// A PUBREC for an identifier the server never used: a server
			// may answer PUBREL 0x92 (Packet Identifier not found).
			if rel := pubrelForUnknownPubrec(c, 4242); rel != nil {
				return rel
			}
			return nil
		}},
		{typ: packet.PUBCOMP, ids: []string{"MQTT-3.7.2-2", "MQTT-3.7.2-3"}, trigger: func(c *Client) packet.Packet {
			// A PUBREL for an unknown identifier is answered with PUBCOMP
			// 0x92 (Packet Identifier not found).
			c.Send(&packet.Pubrel{PacketID: 4243})
			return Expect[*packet.Pubcomp](c)
		}},
		{typ: packet.SUBACK, ids: []string{"MQTT-3.9.2-1", "MQTT-3.9.2-2"}, trigger: func(c *Client) packet.Packet {
			return c.Subscribe(packet.Subscription{Filter: Topic("bounded", "suback"), QoS: 1})
		}},
		{typ: packet.UNSUBACK, ids: []string{"MQTT-3.11.2-1", "MQTT-3.11.2-2"}, trigger: func(c *Client) packet.Packet {
			// Never subscribed: a server may explain 0x11 with a Reason String.
			c.Send(&packet.Unsubscribe{PacketID: NextPacketID(), Filters: []string{Topic("bounded", "unsuback")}})
			return Expect[*packet.Unsuback](c)
		}},
		{typ: packet.DISCONNECT, ids: []string{"MQTT-3.14.2-3", "MQTT-3.14.2-4"}, trigger: func(c *Client) packet.Packet {
			// A second CONNECT is a Protocol Error the server may explain.
			c.Send(&packet.Connect{ProtocolVersion: packet.V5, ClientID: c.ID, CleanStart: true})
			for _, p := range c.ExpectClosed() {
				if d, ok := p.(*packet.Disconnect); ok {
					return d
				}
			}
			return nil
		}},
	}
}

// pubrelForUnknownPubrec sends a PUBREC for an identifier the server never
// used, then PINGREQ, and returns the PUBREL the server answered with before
// PINGRESP, or nil (no answer, or the connection closed: the specification
// names no reaction).
func pubrelForUnknownPubrec(c *Client, id uint16) *packet.Pubrel {
	c.Send(&packet.Pubrec{PacketID: id})
	c.Send(&packet.Pingreq{})
	for {
		p, err := c.Read()
		if err != nil {
			return nil
		}
		switch p := p.(type) {
		case *packet.Pubrel:
			return p
		case *packet.Pingresp:
			return nil
		}
	}
}

// boundedConnack sends a CONNECT the server refuses (an authentication
// method nobody offers) and returns its CONNACK, or nil when the server
// closes without one.
func boundedConnack(maxPacket uint32) packet.Packet {
	GinkgoHelper()
	c := NewClient(packet.V5)
	cp := &packet.Connect{ProtocolVersion: packet.V5, ClientID: ClientID(), CleanStart: true}
	cp.Properties.AuthMethod = []byte("mqttspec-unknown-method")
	cp.Properties.MaximumPacketSize = maxPacket
	c.Send(cp)
	p, err := c.Read()
	if perr := packet.AsError(err); perr != nil {
		Failf("well-formed packets from the broker", "a malformed packet: %v", perr)
	}
	if err != nil {
		return nil // closed without CONNACK
	}
	if ca, ok := p.(*packet.Connack); ok && ca.ReasonCode < 0x80 {
		// An accepted CONNECT stays open; the caller notes that there is
		// no refusing CONNACK to observe (MQTT-4.12.0-1 has its own spec).
		return ca
	}
	c.ExpectClosed()
	return p
}

// withoutProblemProps returns the size of p without its Reason String and
// User Properties: the smallest form the server may send.
func withoutProblemProps(p packet.Packet) int {
	var props *packet.Properties
	switch q := p.(type) {
	case *packet.Connack:
		c := *q
		props = &c.Properties
		p = &c
	case *packet.Puback:
		c := *q
		props, p = &c.Properties, &c
	case *packet.Pubrec:
		c := *q
		props, p = &c.Properties, &c
	case *packet.Pubrel:
		c := *q
		props, p = &c.Properties, &c
	case *packet.Pubcomp:
		c := *q
		props, p = &c.Properties, &c
	case *packet.Suback:
		c := *q
		props, p = &c.Properties, &c
	case *packet.Unsuback:
		c := *q
		props, p = &c.Properties, &c
	case *packet.Disconnect:
		c := *q
		props, p = &c.Properties, &c
	default:
		return p.Size(packet.V5)
	}
	props.ReasonString, props.User = nil, nil
	props.Present &^= 1<<packet.PropReasonString | 1<<packet.PropUserProperty
	return p.Size(packet.V5)
}

func hasProblemProps(p packet.Packet) bool {
	var props *packet.Properties
	switch q := p.(type) {
	case *packet.Connack:
		props = &q.Properties
	case *packet.Puback:
		props = &q.Properties
	case *packet.Pubrec:
		props = &q.Properties
	case *packet.Pubrel:
		props = &q.Properties
	case *packet.Pubcomp:
		props = &q.Properties
	case *packet.Suback:
		props = &q.Properties
	case *packet.Unsuback:
		props = &q.Properties
	case *packet.Disconnect:
		props = &q.Properties
	default:
		return false
	}
	return props.Has(packet.PropReasonString) || props.Has(packet.PropUserProperty)
}

// checkBounded first lets the server answer with no limit. Only when it
// then adds a Reason String or User Properties can the rule be observed: a
// second client announces a Maximum Packet Size one byte below that answer
// (but no smaller than the answer without them, nor than the CONNACK the
// client must receive first) and expects the answer to fit.
func checkBounded(bc boundedCase) {
	GinkgoHelper()
	const v = packet.V5
	var probe packet.Packet
	connackSize := 0
	if bc.connack {
		probe = boundedConnack(0)
		if probe == nil {
			Note("the server refuses an unknown authentication method by closing the connection without CONNACK: nothing to observe")
			return
		}
		if code := probe.(*packet.Connack).ReasonCode; code < 0x80 {
			Unsupported("not exercised: the server accepted an unknown authentication method (CONNACK %s), so there was no refusing CONNACK to bound", code)
		}
	} else {
		c, ca := ConnectedV5With(packet.Properties{}, Named("probe"))
		connackSize = ca.Size(v)
		probe = bc.trigger(c)
		if probe == nil {
			Note("the server sent no %s: nothing to observe", bc.typ)
			return
		}
	}
	full, minimal := probe.Size(v), withoutProblemProps(probe)
	if !hasProblemProps(probe) {
		Note("the server sent %s without a Reason String or User Properties (%d bytes): nothing to observe", bc.typ, full)
		return
	}
	limit := max(full-1, minimal, connackSize)
	if limit >= full {
		Note("the server's CONNACK (%d bytes) is larger than its %s with properties (%d bytes): the limit cannot be set below the latter", connackSize, bc.typ, full)
		return
	}
	Observed("without a limit the server sent %s of %d bytes with a Reason String or User Properties (%d bytes without them); the second client announces %d", bc.typ, full, minimal, limit)
	var got packet.Packet
	if bc.connack {
		got = boundedConnack(uint32(limit))
		if got == nil {
			Note("with the limit the server closed the connection without CONNACK (allowed for a refusal)")
			return
		}
	} else {
		c, ca := ConnectedV5With(packet.Properties{MaximumPacketSize: uint32(limit)}, Named("limited"))
		if n := ca.Size(v); n > limit {
			Failf(fmt.Sprintf("CONNACK of at most %d bytes", limit), "%d bytes: %s", n, DescribePacket(ca, v))
		}
		got = bc.trigger(c)
		if got == nil {
			if bc.typ == packet.DISCONNECT {
				Note("with the limit the server closed the connection without DISCONNECT (allowed)")
				return
			}
			Failf(fmt.Sprintf("%s without its Reason String and User Properties", bc.typ), "no %s", bc.typ)
		}
	}
	if n := got.Size(v); n > limit {
		Failf(fmt.Sprintf("%s of at most %d bytes (Reason String and User Properties left out)", bc.typ, limit), "%d bytes: %s", n, DescribePacket(got, v))
	}
}
