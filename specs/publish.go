package specs

import (
	"fmt"
	"maps"
	"slices"

	. "github.com/onsi/ginkgo/v2"

	"github.com/mqttspec/mqttspec/reference/packet"
	. "github.com/mqttspec/mqttspec/specs/harness"
)

// Packet identifiers, PUBLISH and its acknowledgements: 3.1.1 sections 2.3,
// 3.3-3.7; 5.0 sections 2.2.1, 3.3-3.7. The RETAIN rules and the 5.0
// PUBLISH properties have their own files.
var _ = Describe("PUBLISH and its acknowledgements", func() {
	ForVersions(func(v packet.Version) {
		Context("packet identifiers", func() {
			It("uses a non-zero packet identifier on the QoS 1 and QoS 2 messages it sends",
				Statement(v, S(v, "MQTT-2.3.1-1", "MQTT-2.2.1-4")), func() {
					Requirement("Every QoS 1 or QoS 2 PUBLISH the server sends carries a packet identifier other than 0.")
					sub, ca := ConnectedWithAck(v, Named("sub"))
					topic := Topic("nonzero")
					if TargetMaxQoS(v, ca) == 0 {
						Unsupported("the target offers QoS 0 only")
					}
					for q := packet.QoS(1); q <= TargetMaxQoS(v, ca); q++ {
						sub.MustSubscribe(topic, q)
						pub := Connected(v, Named("pub"))
						pub.Publish(topic, []byte("nonzero"), q, false)
						p := Expect[*packet.Publish](sub)
						if p.PacketID == 0 {
							// The codec refuses identifier 0 on QoS > 0, so this
							// is reached only if that check is ever relaxed.
							Failf("a non-zero packet identifier", "packet identifier 0 on a QoS %d PUBLISH", p.QoS)
						}
						sub.Ack(p)
					}
				})

			for _, q := range []packet.QoS{1, 2} {
				It(fmt.Sprintf("gives concurrent QoS %d messages to one client distinct packet identifiers", q),
					Statement(v, S(v, "MQTT-2.3.1-4", "MQTT-2.2.1-4"), S(v, fmt.Sprintf("MQTT-4.3.%d-1", q+1), fmt.Sprintf("MQTT-4.3.%d-1", q+1))), func() {
						Requirement("While earlier messages to a client are unacknowledged, the server picks for each new QoS > 0 message an identifier that is not in use.")
						sub, ca := ConnectedWithAck(v, Named("sub"))
						RequireQoS(v, ca, q)
						topic := Topic("distinct")
						sub.MustSubscribe(topic, q)
						pub := Connected(v, Named("pub"))
						const n = 5
						SendPublishes(pub, topic, q, Payloads("m", n)...)
						seen := map[uint16]string{}
						var got []*packet.Publish
						for range n {
							p := Expect[*packet.Publish](sub) // left unacknowledged
							got = append(got, p)
							if prev, dup := seen[p.PacketID]; dup {
								Failf("a fresh packet identifier for every unacknowledged message",
									"identifier %d used for %q while %q was still unacknowledged", p.PacketID, p.Payload, prev)
							}
							seen[p.PacketID] = string(p.Payload)
						}
						Observed("packet identifiers %v", slices.Sorted(maps.Keys(seen)))
						for _, p := range got {
							sub.Ack(p)
						}
					})
			}

			It("echoes the packet identifier in the PUBACK to a QoS 1 PUBLISH",
				Statement(v, "MQTT-3.3.4-1", S(v, "MQTT-2.3.1-6", "MQTT-2.2.1-5"), S(v, "MQTT-4.3.2-2", "MQTT-4.3.2-4")), func() {
					Requirement("The server answers a QoS 1 PUBLISH with a PUBACK carrying the PUBLISH's packet identifier.")
					c := Connected(v)
					c.Send(&packet.Publish{Topic: []byte(Topic("puback")), Payload: []byte("x"), QoS: 1, PacketID: 0xA5C3})
					if a := Expect[*packet.Puback](c); a.PacketID != 0xA5C3 {
						Failf("PUBACK for packet identifier 42435", "PUBACK for %d", a.PacketID)
					}
				})

			It("echoes the packet identifier in the PUBREC to a QoS 2 PUBLISH",
				Statement(v, "MQTT-3.3.4-1", S(v, "MQTT-2.3.1-6", "MQTT-2.2.1-5"), S(v, "MQTT-4.3.3-2", "MQTT-4.3.3-8")), func() {
					Requirement("The server answers a QoS 2 PUBLISH with a PUBREC carrying the PUBLISH's packet identifier.")
					c, ca := ConnectedWithAck(v)
					RequireQoS(v, ca, 2)
					c.Send(&packet.Publish{Topic: []byte(Topic("pubrec")), Payload: []byte("x"), QoS: 2, PacketID: 0x5AC3})
					r := Expect[*packet.Pubrec](c)
					if r.PacketID != 0x5AC3 {
						Failf("PUBREC for packet identifier 23235", "PUBREC for %d", r.PacketID)
					}
					c.Send(&packet.Pubrel{PacketID: r.PacketID})
					Expect[*packet.Pubcomp](c)
				})

			It("echoes the packet identifier in the PUBCOMP to a PUBREL",
				Statement(v, S(v, "MQTT-4.3.3-2", "MQTT-4.3.3-11"), S(v, "MQTT-2.3.1-6", "MQTT-2.2.1-5")), func() {
					Requirement("The server answers a PUBREL with a PUBCOMP carrying the same packet identifier.")
					c, ca := ConnectedWithAck(v)
					RequireQoS(v, ca, 2)
					c.Send(&packet.Publish{Topic: []byte(Topic("pubcomp")), Payload: []byte("x"), QoS: 2, PacketID: 0x0C0C})
					Expect[*packet.Pubrec](c)
					c.Send(&packet.Pubrel{PacketID: 0x0C0C})
					pc := Expect[*packet.Pubcomp](c)
					if pc.PacketID != 0x0C0C {
						Failf("PUBCOMP for packet identifier 3084", "PUBCOMP for %d", pc.PacketID)
					}
					if v == packet.V5 && pc.ReasonCode != packet.Success {
						Failf("PUBCOMP 0x00 Success (the exchange is known)", "PUBCOMP %s", pc.ReasonCode)
					}
				})

			It("answers a PUBREL for an unknown packet identifier with a PUBCOMP",
				Statement(v, S(v, "MQTT-4.3.3-2", "MQTT-4.3.3-11"), S(v, "MQTT-2.3.1-6", "MQTT-2.2.1-5")), func() {
					Requirement("Every PUBREL is answered by a PUBCOMP with its packet identifier, also one the server has no exchange for (a client resending PUBREL after the PUBCOMP was lost); 5.0 uses 0x92 Packet Identifier not found or 0x00.")
					c, ca := ConnectedWithAck(v)
					RequireQoS(v, ca, 2)
					c.Send(&packet.Pubrel{PacketID: 0x0F0F})
					pc := Expect[*packet.Pubcomp](c)
					if pc.PacketID != 0x0F0F {
						Failf("PUBCOMP for packet identifier 3855", "PUBCOMP for %d", pc.PacketID)
					}
					if v == packet.V5 {
						Note("PUBCOMP reason code %s", pc.ReasonCode)
					}
				})

			It("answers PUBREC with a PUBREL carrying the same packet identifier",
				Statement(v, S(v, "MQTT-2.3.1-6", "MQTT-2.2.1-5"), S(v, "MQTT-4.3.3-1", "MQTT-4.3.3-4")), func() {
					Requirement("As the sender of a QoS 2 message, the server answers the subscriber's PUBREC with a PUBREL of the same packet identifier.")
					sub, ca := ConnectedWithAck(v, Named("sub"))
					RequireQoS(v, ca, 2)
					topic := Topic("pubrel")
					sub.MustSubscribe(topic, 2)
					Connected(v, Named("pub")).Publish(topic, []byte("x"), 2, false)
					p := Expect[*packet.Publish](sub)
					sub.Send(&packet.Pubrec{PacketID: p.PacketID})
					rel := Expect[*packet.Pubrel](sub)
					if rel.PacketID != p.PacketID {
						Failf(fmt.Sprintf("PUBREL for packet identifier %d", p.PacketID), "PUBREL for %d", rel.PacketID)
					}
					sub.Send(&packet.Pubcomp{PacketID: rel.PacketID})
				})

		})

		Context("fixed header", func() {
			It("sends QoS 0 messages with DUP 0",
				Statement(v, "MQTT-3.3.1-2", "MQTT-4.3.1-1"), func() {
					Requirement("The server sends every QoS 0 PUBLISH with DUP 0 and QoS 0.")
					topic := Topic("dup0")
					sub := Connected(v, Named("sub"))
					sub.MustSubscribe(topic, 0)
					Connected(v, Named("pub")).Publish(topic, []byte("x"), 0, false)
					if p := Expect[*packet.Publish](sub); p.Dup || p.QoS != 0 {
						Failf("PUBLISH QoS 0 with DUP 0", "QoS %d with DUP %v", p.QoS, p.Dup)
					}
				})

			It("does not copy the publisher's DUP flag to the subscribers",
				Statement(v, "MQTT-3.3.1-3"), func() {
					Requirement("DUP on a PUBLISH the server sends says only whether the server itself is resending it; the DUP of the incoming PUBLISH is not propagated.")
					topic := Topic("dupfwd")
					sub := Connected(v, Named("sub"))
					sub.MustSubscribe(topic, 1)
					pub := Connected(v, Named("pub"))
					pub.PublishPacket(&packet.Publish{Topic: []byte(topic), Payload: []byte("resent by the publisher"), QoS: 1, Dup: true})
					p := sub.Receive()
					if p.Dup {
						Failf("the first delivery to the subscriber with DUP 0", "DUP 1 (copied from the publisher)")
					}
				})

		})

		Context("topic name", func() {
			It("delivers a UTF-8 topic name byte for byte",
				Statement(v, "MQTT-3.3.2-1"), func() {
					Requirement("The topic name is a UTF-8 string; the subscriber receives exactly the string the publisher sent, non-ASCII characters included.")
					topic := Topic("Küche", "温度", "🌡")
					sub := Connected(v, Named("sub"))
					sub.MustSubscribe(topic, 1)
					Connected(v, Named("pub")).Publish(topic, []byte("21.5"), 1, false)
					if p := sub.Receive(); string(p.Topic) != topic {
						Failf(fmt.Sprintf("topic %q", topic), "topic %q (% X)", p.Topic, p.Topic)
					}
				})

			It("sends a subscriber only messages whose topic matches its filter",
				Statement(v, "MQTT-3.3.2-3"), func() {
					Requirement("The topic name of a PUBLISH sent to a subscriber matches the filter of its subscription.")
					sub, ca := ConnectedWithAck(v, Named("sub"))
					if !WildcardSupport(v, ca) {
						Unsupported("the target does not offer wildcard subscriptions")
					}
					base := Topic("match")
					sub.MustSubscribe(base+"/+/c", 1)
					pub := Connected(v, Named("pub"))
					pub.Publish(base+"/b/d", []byte("no match"), 1, false)
					pub.Publish(base+"/b/c", []byte("match"), 1, false)
					p := sub.Receive()
					if string(p.Topic) != base+"/b/c" {
						Failf(fmt.Sprintf("the message on %q", base+"/b/c"), "PUBLISH on %q (payload %q)", p.Topic, p.Payload)
					}
				})
		})
	})

	Only(packet.V5, func() {
		v := packet.V5
		Context("reason codes", func() {
			It("answers a QoS 1 PUBLISH nobody subscribed to with PUBACK 0x00 or 0x10",
				Statement(v, "MQTT-3.4.2-1"), func() {
					Requirement("PUBACK carries one of the PUBACK reason codes; for a message without subscribers the server may say 0x10 No matching subscribers or 0x00.")
					c := Connected(v)
					a := c.Publish(Topic("nobody"), []byte("x"), 1, false).(*packet.Puback)
					if a.ReasonCode != packet.Success && a.ReasonCode != packet.NoMatchingSubscribers {
						Failf("PUBACK 0x00 or 0x10", "PUBACK %s", a.ReasonCode)
					}
					Note("PUBACK reason code %s", a.ReasonCode)
				})

			It("answers a QoS 2 PUBLISH nobody subscribed to with PUBREC 0x00 or 0x10",
				Statement(v, "MQTT-3.5.2-1"), func() {
					Requirement("PUBREC carries one of the PUBREC reason codes; for a message without subscribers the server may say 0x10 No matching subscribers or 0x00.")
					c, ca := ConnectedWithAck(v)
					RequireQoS(v, ca, 2)
					id := NewPacketID()
					c.Send(&packet.Publish{Topic: []byte(Topic("nobody")), Payload: []byte("x"), QoS: 2, PacketID: id})
					r := Expect[*packet.Pubrec](c)
					if r.ReasonCode != packet.Success && r.ReasonCode != packet.NoMatchingSubscribers {
						Failf("PUBREC 0x00 or 0x10", "PUBREC %s", r.ReasonCode)
					}
					Note("PUBREC reason code %s", r.ReasonCode)
					c.Send(&packet.Pubrel{PacketID: id})
					Expect[*packet.Pubcomp](c)
				})

			It("answers a PUBREC for its own QoS 2 message with PUBREL 0x00",
				Statement(v, "MQTT-3.6.2-1"), func() {
					Requirement("PUBREL carries one of the PUBREL reason codes; releasing a message the server did send, that is 0x00 Success.")
					sub, ca := ConnectedWithAck(v, Named("sub"))
					RequireQoS(v, ca, 2)
					topic := Topic("pubrel-code")
					sub.MustSubscribe(topic, 2)
					Connected(v, Named("pub")).Publish(topic, []byte("x"), 2, false)
					p := Expect[*packet.Publish](sub)
					sub.Send(&packet.Pubrec{PacketID: p.PacketID})
					rel := Expect[*packet.Pubrel](sub)
					if rel.ReasonCode != packet.Success {
						Failf("PUBREL 0x00", "PUBREL %s", rel.ReasonCode)
					}
					sub.Send(&packet.Pubcomp{PacketID: rel.PacketID})
				})

			It("answers a PUBREL for an unknown packet identifier with PUBCOMP 0x92 or 0x00",
				Statement(v, "MQTT-3.7.2-1"), func() {
					Requirement("PUBCOMP carries one of the PUBCOMP reason codes (0x00, 0x92); for an identifier without an exchange, 0x92 Packet Identifier not found is the accurate one.")
					c, ca := ConnectedWithAck(v)
					RequireQoS(v, ca, 2)
					c.Send(&packet.Pubrel{PacketID: NewPacketID()})
					pc := Expect[*packet.Pubcomp](c)
					if pc.ReasonCode != packet.PacketIdentifierNotFound && pc.ReasonCode != packet.Success {
						Failf("PUBCOMP 0x92 or 0x00", "PUBCOMP %s", pc.ReasonCode)
					}
					Note("PUBCOMP reason code %s", pc.ReasonCode)
				})
		})
	})
})
