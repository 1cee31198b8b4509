package specs

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"

	"github.com/mqttspec/mqttspec/reference/packet"
	. "github.com/mqttspec/mqttspec/specs/harness"
)

// MQTT 5.0 CONNACK: acknowledge flags, reason codes and the properties that
// announce the server's capabilities (sections 3.2, 3.2.2.3, 3.1.3.1).
var _ = Describe("CONNACK (5.0)", func() {
	Only(packet.V5, func() {
		const v = packet.V5

		It("never sends a second CONNACK, even when the client sends CONNECT again",
			Statement(v, "MQTT-3.2.0-2"), func() {
				Requirement("A server sends at most one CONNACK on a network connection; a second CONNECT is a Protocol Error that is not acknowledged.")
				c := Connected(v)
				c.Send(&packet.Connect{ProtocolVersion: v, ClientID: c.ID, CleanStart: true})
				for _, p := range c.ExpectClosed() {
					if _, ok := p.(*packet.Connack); ok {
						Failf("no second CONNACK", "%s", packet.Summary(p, v))
					}
				}
			})

		It("keeps the reserved bits of the acknowledge flags at 0",
			Statement(v, "MQTT-3.2.2-1"), func() {
				Requirement("Bits 7 to 1 of the Connect Acknowledge Flags are reserved and 0, both with Session Present 0 and with Session Present 1.")
				id := ClientID()
				first := NewClient(v, Named("first"))
				cp := &packet.Connect{ClientID: id, CleanStart: true, KeepAlive: 60}
				cp.Properties.SessionExpiry = 60
				v5ckFlags(first.V5ConnectRaw(cp))
				first.Disconnect()
				again := NewClient(v, Named("again"))
				flags := v5ckFlags(again.V5ConnectRaw(&packet.Connect{ClientID: id, CleanStart: false, KeepAlive: 60}))
				again.Disconnect() // Session Expiry 0: the session ends
				if flags&1 == 0 {
					Note("the session was not resumed, so only Session Present 0 was seen")
				}
			})

		// Each refusal rests on its own rule (a Protocol Error closes the
		// connection; an unknown authentication method too); the CONNACK,
		// if any, carries a defined code.
		for _, tc := range []struct {
			name, why string
			rule      string
			set       func(*packet.Properties)
		}{
			{"a Receive Maximum of 0", "a Protocol Error", "MQTT-4.13.1-1", func(p *packet.Properties) {
				p.Present = p.Present.With(packet.PropReceiveMaximum) // value 0
			}},
			{"an authentication method it does not offer", "0x8C Bad authentication method fits", "MQTT-4.12.0-1", func(p *packet.Properties) {
				p.AuthMethod = []byte("mqttspec-unknown-method")
			}},
		} {
			It("refuses a CONNECT with "+tc.name+" using a defined Connect Reason Code",
				Statement(v, tc.rule, "MQTT-3.2.2-8"), func() {
					Requirement("A CONNACK uses only the Connect Reason Codes of section 3.2.2.2; refusing a CONNECT with " + tc.name + " (" + tc.why + "), the code is a failure code from that list, or the server closes without CONNACK.")
					c := NewClient(v)
					cp := &packet.Connect{CleanStart: true, KeepAlive: 60}
					tc.set(&cp.Properties)
					raw, _, _ := c.V5ConnectRaw(cp)
					if raw == nil {
						Note("the server closed the connection without CONNACK")
						return
					}
					if raw[0] != 0x20 || v5ckBody(raw)+1 >= len(raw) {
						Failf("CONNACK or a close", "% X", raw)
					}
					code := v5ckCode(raw)
					Observed("CONNACK reason code %s", code)
					if !packet.ReasonAllowed(packet.CONNACK, code) {
						Failf("a Connect Reason Code of section 3.2.2.2", "CONNACK reason code 0x%02X", byte(code))
					}
					if !code.IsError() {
						Failf("a refusal (0x80 or above)", "CONNACK %s", code)
					}
					c.ExpectClosed()
				})
		}

		It("accepts SUBSCRIBE at every QoS when its Maximum QoS is below 2",
			Statement(v, "MQTT-3.2.2-10"), func() {
				Requirement("A server announcing Maximum QoS 0 or 1 still accepts subscriptions requesting QoS 0, 1 and 2 (granting at most its maximum).")
				c, ca := V5Connected(nil)
				if !ca.Properties.Has(packet.PropMaximumQoS) {
					Unsupported("the server announces no Maximum QoS: it supports QoS 2")
				}
				maxQoS := packet.QoS(ca.Properties.MaximumQoS)
				t := Topic("maxqos")
				sa := c.Subscribe(packet.Subscription{Filter: t + "/0", QoS: 0}, packet.Subscription{Filter: t + "/1", QoS: 1},
					packet.Subscription{Filter: t + "/2", QoS: 2})
				if len(sa.ReasonCodes) != 3 {
					Failf("three reason codes", "SUBACK %v", sa.ReasonCodes)
				}
				for i, rc := range sa.ReasonCodes {
					if rc.IsError() {
						Failf(fmt.Sprintf("the QoS %d subscription accepted", i), "SUBACK %v", sa.ReasonCodes)
					}
					if packet.QoS(rc) > maxQoS {
						Note("QoS %d granted above the announced Maximum QoS %d", rc, maxQoS)
					}
				}
			})

		It("disconnects a client that publishes above its Maximum QoS with 0x9B",
			Statement(v, "MQTT-3.2.2-11", "MQTT-4.13.1-1"), func() {
				Requirement("A PUBLISH with a QoS above the Maximum QoS the server announced is answered with DISCONNECT 0x9B (QoS not supported) and the connection is closed.")
				c, ca := V5Connected(nil)
				if !ca.Properties.Has(packet.PropMaximumQoS) {
					Unsupported("the server announces no Maximum QoS: it supports QoS 2")
				}
				q := packet.QoS(ca.Properties.MaximumQoS) + 1
				c.Send(&packet.Publish{Topic: []byte(Topic("above-max")), QoS: q, PacketID: 1, Payload: []byte("too high")})
				c.V5ExpectProtocolClose(packet.QoSNotSupported)
			})

		It("supports QoS 2 when it announces no Maximum QoS",
			Statement(v, "MQTT-3.2.2-9"), func() {
				Requirement("A server without QoS 1 or 2 support says so with Maximum QoS; one that announces none takes and delivers QoS 2 messages.")
				sub, ca := V5Connected(nil, Named("subscriber"))
				if ca.Properties.Has(packet.PropMaximumQoS) {
					Unsupported("the server announces Maximum QoS %d", ca.Properties.MaximumQoS)
				}
				if Target().Capabilities.MaximumQoS < 2 {
					Failf(fmt.Sprintf("Maximum QoS %d in CONNACK (the target's profile declares it)", Target().Capabilities.MaximumQoS), "no Maximum QoS")
				}
				t := Topic("qos2")
				if g := sub.V5MustSubscribeID(0, t, 2); g != 2 {
					Failf("QoS 2 granted", "granted QoS %d", g)
				}
				pub := Connected(v, Named("publisher"))
				if rc := pub.Publish(t, []byte("exactly-once"), 2, false); rc != nil {
					if comp, ok := rc.(*packet.Pubcomp); !ok || comp.ReasonCode.IsError() {
						Failf("the QoS 2 exchange completed", "%s", packet.Summary(rc, v))
					}
				}
				if p := sub.Receive(); p.QoS != 2 {
					Failf("the message delivered at QoS 2", "%s", packet.Summary(p, v))
				}
			})

		It("assigns every client an identifier that no other session uses",
			Statement(v, "MQTT-3.2.2-16"), func() {
				Requirement("Each Assigned Client Identifier differs from those of all other current sessions: two clients connecting with empty identifiers get different ones, and neither takes over a connected client.")
				existing := Connected(v, Named("existing"))
				var ids []string
				for _, name := range []string{"anonymous-1", "anonymous-2"} {
					c := NewClient(v, Named(name))
					ca := c.ConnectExact(&packet.Connect{ClientID: "", CleanStart: true, KeepAlive: 60})
					if ca.ReasonCode != 0 {
						Unsupported("the server refuses zero-length client identifiers (%s), which 5.0 allows", ca.ReasonCode)
					}
					if len(ca.Properties.AssignedClientID) == 0 {
						Failf("an Assigned Client Identifier in CONNACK", "none")
					}
					ids = append(ids, string(ca.Properties.AssignedClientID))
				}
				if ids[0] == ids[1] || ids[0] == existing.ID || ids[1] == existing.ID {
					Failf("identifiers unique among current sessions", "assigned %q and %q (existing client %q)", ids[0], ids[1], existing.ID)
				}
				existing.Ping() // still connected: not taken over
			})

		It("treats the assigned identifier as the one the client sent",
			Statement(v, "MQTT-3.1.3-7"), func() {
				Requirement("After assigning a client identifier, the server keeps the session under it: reconnecting with that identifier and Clean Start 0 resumes the session and its subscriptions.")
				first := NewClient(v, Named("anonymous"))
				cp := &packet.Connect{ClientID: "", CleanStart: true, KeepAlive: 60}
				cp.Properties.SessionExpiry = 60
				ca := first.ConnectExact(cp)
				if ca.ReasonCode != 0 {
					Unsupported("the server refuses zero-length client identifiers (%s), which 5.0 allows", ca.ReasonCode)
				}
				id := string(ca.Properties.AssignedClientID)
				if id == "" {
					Failf("an Assigned Client Identifier in CONNACK", "none")
				}
				t := Topic("assigned")
				first.MustSubscribe(t, 1)
				first.Disconnect()
				again := NewClient(v, Named("again"))
				ca2 := again.Connect(&packet.Connect{ClientID: id, CleanStart: false, KeepAlive: 60})
				DeferCleanup(again.Disconnect) // Session Expiry 0: the session ends
				if ca2.ReasonCode != 0 || !ca2.SessionPresent {
					Failf(fmt.Sprintf("the session of %q resumed (Session Present 1)", id), "%s", packet.Summary(ca2, v))
				}
				pub := Connected(v, Named("publisher"))
				pub.Publish(t, []byte("to-assigned"), 1, false)
				if p := again.Receive(); string(p.Payload) != "to-assigned" {
					Failf("the message through the resumed subscription", "%s", packet.Summary(p, v))
				}
			})
	})
})

// v5ckFlags checks the acknowledge flags of a raw CONNACK and returns them.
func v5ckFlags(raw []byte, p packet.Packet, err error) byte {
	GinkgoHelper()
	if raw == nil {
		Failf("CONNACK", "nothing (%v)", err)
	}
	if raw[0] != 0x20 {
		Failf("CONNACK", "first byte 0x%02X", raw[0])
	}
	i := v5ckBody(raw)
	if i >= len(raw) {
		Failf("CONNACK with acknowledge flags", "% X", raw)
	}
	flags := raw[i]
	Observed("acknowledge flags 0x%02X", flags)
	if flags&0xFE != 0 {
		Failf("acknowledge flags 0x00 or 0x01", "0x%02X", flags)
	}
	if err != nil {
		Failf("a well-formed CONNACK", "%v", err)
	}
	if ca, ok := p.(*packet.Connack); !ok || ca.ReasonCode != 0 {
		Failf("CONNACK 0x00", "%s", packet.Summary(p, packet.V5))
	}
	return flags
}

// v5ckCode is the reason code of a raw CONNACK (or 0x00 when too short).
func v5ckCode(raw []byte) packet.ReasonCode {
	i := v5ckBody(raw) + 1
	if i >= len(raw) {
		return 0
	}
	return packet.ReasonCode(raw[i])
}

// v5ckBody is the offset of the variable header after the fixed header.
func v5ckBody(raw []byte) int {
	i := 1
	for i < len(raw) && raw[i]&0x80 != 0 {
		i++
	}
	return i + 1
}
