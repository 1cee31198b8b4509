package specs

import (
	"bytes"
	"fmt"

	. "github.com/onsi/ginkgo/v2"

	"github.com/mqttspec/mqttspec/reference/packet"
	. "github.com/mqttspec/mqttspec/specs/harness"
)

// Data representation: 3.1.1 sections 1.5 and 2.2-2.3, 5.0 sections 1.5
// and 2.1-2.2. UTF-8 strings, Variable Byte Integers, string pairs,
// properties, packet identifiers, and the Remaining Length. Every
// offending packet is built by hand (Wire) and its layout is written next
// to it; the server's reaction is checked by ExpectProtocolClose (close,
// 5.0: DISCONNECT with the reason code the specification names, if any)
// or ExpectConnectRejected (for CONNECT).

// encPublish builds a PUBLISH with the fixed-header flags and topic bytes
// given, without any validation:
//
//	0x30|flags  Remaining Length
//	topic       2-byte length + bytes (as given)
//	[packet id] 2 bytes, only when the flags say QoS 1 or 2
//	[props]     5.0 only: props, or an empty property block (0x00) when nil
//	payload
func encPublish(v packet.Version, flags byte, topic []byte, packetID uint16, props []byte, payload string) []byte {
	parts := [][]byte{Wire.Bin(topic)}
	if flags&0x06 != 0 {
		parts = append(parts, Wire.U16(packetID))
	}
	if v == packet.V5 {
		if props == nil {
			props = []byte{0x00}
		}
		parts = append(parts, props)
	}
	parts = append(parts, []byte(payload))
	return Wire.Packet(0x30|flags, parts...)
}

// encClose is the statement a protocol violation closes under: 3.1.1
// MQTT-4.8.0-1, 5.0 MQTT-4.13.1-1.
func encClose(v packet.Version) string { return S(v, "MQTT-4.8.0-1", "MQTT-4.13.1-1") }

var _ = Describe("Data representation", func() {
	ForVersions(func(v packet.Version) {
		utf8 := S(v, "MQTT-1.5.3-1", "MQTT-1.5.4-1")
		null := S(v, "MQTT-1.5.3-2", "MQTT-1.5.4-2")

		// --- UTF-8 Encoded Strings (3.1.1 1.5.3, 5.0 1.5.4) ---

		It("closes the connection on a PUBLISH topic that is not well-formed UTF-8",
			Statement(v, utf8, "MQTT-3.3.2-1", encClose(v)), func() {
				Requirement("Strings must be well-formed UTF-8; a topic name with an invalid byte sequence makes the packet malformed and the server closes the connection (5.0: DISCONNECT 0x81).")
				c := Connected(v)
				// Topic ".../bad" + C3 28: a two-byte lead byte followed by
				// a byte that is not a continuation byte.
				topic := append([]byte(Topic("bad")), 0xC3, 0x28)
				c.SendRaw(encPublish(v, 0x00, topic, 0, nil, "x"))
				c.ExpectProtocolClose(packet.MalformedPacket)
			})

		It("closes the connection on a PUBLISH topic that encodes a UTF-16 surrogate",
			Statement(v, utf8, "MQTT-3.3.2-1", encClose(v)), func() {
				Requirement("Strings must not encode the surrogate code points U+D800..U+DFFF; a topic name holding one is malformed and the server closes the connection (5.0: DISCONNECT 0x81).")
				c := Connected(v)
				// ED A0 80 is the (CESU-8 style) encoding of U+D800.
				topic := append([]byte(Topic("surrogate")+"/"), 0xED, 0xA0, 0x80)
				c.SendRaw(encPublish(v, 0x00, topic, 0, nil, "x"))
				c.ExpectProtocolClose(packet.MalformedPacket)
			})

		It("closes the connection on a PUBLISH topic with an overlong UTF-8 encoding",
			Statement(v, utf8, "MQTT-3.3.2-1", encClose(v)), func() {
				Requirement("An overlong UTF-8 sequence is ill-formed; a topic name holding one is malformed and the server closes the connection (5.0: DISCONNECT 0x81).")
				c := Connected(v)
				// C0 AF is an overlong encoding of '/': accepting it would
				// let a topic hide a level separator.
				topic := append([]byte(Topic("overlong")), 0xC0, 0xAF, 'x')
				c.SendRaw(encPublish(v, 0x00, topic, 0, nil, "x"))
				c.ExpectProtocolClose(packet.MalformedPacket)
			})

		It("closes the connection on a PUBLISH topic that contains U+0000",
			Statement(v, null, "MQTT-4.7.3-2", encClose(v)), func() {
				Requirement("Strings must not contain the null character; a topic name with U+0000 makes the server close the connection (5.0: DISCONNECT 0x81).")
				c := Connected(v)
				topic := append([]byte(Topic("nul")+"/a"), 0x00, 'b')
				c.SendRaw(encPublish(v, 0x00, topic, 0, nil, "x"))
				c.ExpectProtocolClose(packet.MalformedPacket)
			})

		It("refuses a CONNECT whose client identifier is not well-formed UTF-8",
			Statement(v, utf8, "MQTT-3.1.3-4", "MQTT-3.1.4-1"), func() {
				Requirement("The client identifier is a UTF-8 string; a CONNECT with an ill-formed one does not conform and the server closes the connection (3.1.1: without CONNACK; 5.0: at most a refusing CONNACK).")
				c := NewClient(v)
				// CONNECT, clean start, payload: client id "mqttspec-" FF FE.
				c.SendRaw(Wire.Connect(v, 0x02, Wire.Bin(append([]byte("mqttspec-"), 0xFF, 0xFE))))
				c.ExpectConnectRejected()
			})

		It("refuses a CONNECT whose client identifier contains U+0000",
			Statement(v, null, "MQTT-3.1.3-4", "MQTT-3.1.4-1"), func() {
				Requirement("The client identifier must not contain U+0000; such a CONNECT does not conform and the server closes the connection (3.1.1: without CONNACK; 5.0: at most a refusing CONNACK).")
				c := NewClient(v)
				// CONNECT, clean start, payload: client id "mqtt" 00 "spec".
				c.SendRaw(Wire.Connect(v, 0x02, Wire.Str("mqtt\x00spec")))
				c.ExpectConnectRejected()
			})

		It("refuses a CONNECT whose user name is not well-formed UTF-8",
			Statement(v, utf8, S(v, "MQTT-3.1.3-11", "MQTT-3.1.3-12"), "MQTT-3.1.4-1"), func() {
				Requirement("The user name is a UTF-8 string; a CONNECT with an ill-formed one does not conform and the server closes the connection (3.1.1: without CONNACK; 5.0: at most a refusing CONNACK).")
				c := NewClient(v)
				// CONNECT flags 0x82 (user name, clean start); payload:
				// client id, user name "user" 80 (a lone continuation byte).
				c.SendRaw(Wire.Connect(v, 0x82, Wire.Str(ClientID()), Wire.Bin([]byte{'u', 's', 'e', 'r', 0x80})))
				c.ExpectConnectRejected()
			})

		It("refuses a CONNECT whose will topic is not well-formed UTF-8",
			Statement(v, utf8, S(v, "MQTT-3.1.3-10", "MQTT-3.1.3-11"), "MQTT-3.1.4-1"), func() {
				Requirement("The will topic is a UTF-8 string; a CONNECT with an ill-formed one does not conform and the server closes the connection (3.1.1: without CONNACK; 5.0: at most a refusing CONNACK).")
				c := NewClient(v)
				// CONNECT flags 0x06 (will QoS 0, clean start); payload:
				// client id, [5.0: will properties 00], will topic ending
				// in ED BF BF (U+DFFF, a surrogate), will payload "w".
				will := [][]byte{Wire.Str(ClientID())}
				if v == packet.V5 {
					will = append(will, []byte{0x00})
				}
				will = append(will, Wire.Bin(append([]byte(Topic("will")+"/"), 0xED, 0xBF, 0xBF)), Wire.Str("w"))
				c.SendRaw(Wire.Connect(v, 0x06, will...))
				c.ExpectConnectRejected()
			})

		It("keeps a byte order mark in a topic name instead of stripping it",
			Statement(v, S(v, "MQTT-1.5.3-3", "MQTT-1.5.4-3")), func() {
				Requirement("EF BB BF in a string is U+FEFF ZERO WIDTH NO-BREAK SPACE; a receiver must not skip or strip it, so a topic that contains it is routed and delivered with it.")
				topic := Topic("bom") + "/\uFEFFKüche"
				sub := Connected(v, Named("subscriber"))
				sub.MustSubscribe(topic, 0)
				pub := Connected(v, Named("publisher"))
				pub.Publish(topic, []byte("bom"), 0, false)
				got := Expect[*packet.Publish](sub)
				if !bytes.Equal(got.Topic, []byte(topic)) {
					Failf(fmt.Sprintf("topic % X (with EF BB BF)", []byte(topic)), "topic % X", got.Topic)
				}
			})

		// --- Remaining Length / Variable Byte Integer (3.1.1 2.2.3, 5.0 1.5.5, 2.1.4) ---

		It("closes the connection on a Remaining Length longer than four bytes",
			Statement(v, encClose(v)), func() {
				Requirement("The Remaining Length takes at most four bytes; a fifth byte makes the packet malformed and the server closes the connection (5.0: DISCONNECT 0x81).")
				c := Connected(v)
				// PINGREQ C0, Remaining Length 80 80 80 80 00: five bytes
				// (value 0 if a lax reader took them all, so a server that
				// accepts it answers PINGRESP instead of closing).
				c.SendRaw([]byte{0xC0, 0x80, 0x80, 0x80, 0x80, 0x00})
				c.ExpectProtocolClose(packet.MalformedPacket).Forbid(packet.PINGRESP)
			})

		It("closes the connection on a PINGREQ whose Remaining Length is not 0",
			Statement(v, encClose(v)), func() {
				Requirement("A PINGREQ has Remaining Length 0; one that announces a body does not match the packet format and the server closes the connection (5.0: DISCONNECT 0x81).")
				c := Connected(v)
				// PINGREQ C0, Remaining Length 01, one body byte 00.
				c.SendRaw([]byte{0xC0, 0x01, 0x00})
				c.ExpectProtocolClose(packet.MalformedPacket).Forbid(packet.PINGRESP)
			})

		It("closes the connection on a field that runs past the Remaining Length",
			Statement(v, encClose(v)), func() {
				Requirement("A string whose length prefix runs past the end of the packet cannot be parsed; the server closes the connection (5.0: DISCONNECT 0x81).")
				c := Connected(v)
				// PUBLISH 30, Remaining Length 04, topic length 00 09 but
				// only "ab" follows within the packet; then a PINGREQ C0 00
				// that a lax server would swallow as part of the topic.
				c.SendRaw([]byte{0x30, 0x04, 0x00, 0x09, 'a', 'b', 0xC0, 0x00})
				c.ExpectProtocolClose(packet.MalformedPacket).Forbid(packet.PINGRESP)
			})

		// --- Packet identifiers (3.1.1 2.3.1, 5.0 2.2.1) ---

		pid0 := S(v, "MQTT-2.3.1-1", "MQTT-2.2.1-3")
		It("closes the connection on a QoS 1 PUBLISH with packet identifier 0",
			Statement(v, pid0, encClose(v)), func() {
				Requirement("A QoS 1 or 2 PUBLISH carries a non-zero packet identifier; identifier 0 is a protocol violation and the server closes the connection (5.0: DISCONNECT 0x81 or 0x82).")
				c := Connected(v)
				// PUBLISH 32 (QoS 1), topic, packet identifier 00 00, [props 00], payload.
				c.SendRaw(encPublish(v, 0x02, []byte(Topic("pid0")), 0, nil, "x"))
				cl := c.ExpectProtocolClose(packet.ProtocolError, packet.MalformedPacket)
				if len(cl.Packets) > 0 && cl.Packets[0].Type() == packet.PUBACK {
					Note("the server acknowledged the PUBLISH before closing")
				}
			})

		It("closes the connection on a QoS 2 PUBLISH with packet identifier 0",
			Statement(v, pid0, encClose(v)), func() {
				Requirement("A QoS 2 PUBLISH carries a non-zero packet identifier; identifier 0 is a protocol violation and the server closes the connection (5.0: DISCONNECT 0x81 or 0x82).")
				c := Connected(v)
				// PUBLISH 34 (QoS 2), topic, packet identifier 00 00, [props 00], payload.
				c.SendRaw(encPublish(v, 0x04, []byte(Topic("pid0")), 0, nil, "x"))
				c.ExpectProtocolClose(packet.ProtocolError, packet.MalformedPacket)
			})

		It("closes the connection on a SUBSCRIBE with packet identifier 0",
			Statement(v, pid0, encClose(v)), func() {
				Requirement("A SUBSCRIBE carries a non-zero packet identifier; identifier 0 is a protocol violation and the server closes the connection without granting the subscription (5.0: DISCONNECT 0x81 or 0x82).")
				c := Connected(v)
				// SUBSCRIBE 82, packet identifier 00 00, [props 00], filter, options 00.
				body := [][]byte{Wire.U16(0)}
				if v == packet.V5 {
					body = append(body, []byte{0x00})
				}
				body = append(body, Wire.Str(Topic("pid0")), []byte{0x00})
				c.SendRaw(Wire.Packet(0x82, body...))
				c.ExpectProtocolClose(packet.ProtocolError, packet.MalformedPacket).Forbid(packet.SUBACK)
			})

		It("closes the connection on an UNSUBSCRIBE with packet identifier 0",
			Statement(v, pid0, encClose(v)), func() {
				Requirement("An UNSUBSCRIBE carries a non-zero packet identifier; identifier 0 is a protocol violation and the server closes the connection (5.0: DISCONNECT 0x81 or 0x82).")
				c := Connected(v)
				// UNSUBSCRIBE A2, packet identifier 00 00, [props 00], filter.
				body := [][]byte{Wire.U16(0)}
				if v == packet.V5 {
					body = append(body, []byte{0x00})
				}
				body = append(body, Wire.Str(Topic("pid0")))
				c.SendRaw(Wire.Packet(0xA2, body...))
				c.ExpectProtocolClose(packet.ProtocolError, packet.MalformedPacket).Forbid(packet.UNSUBACK)
			})

		It("sends QoS 0 messages without a packet identifier",
			Statement(v, S(v, "MQTT-2.3.1-5", "MQTT-2.2.1-2")), func() {
				Requirement("A QoS 0 PUBLISH has no packet identifier field: the payload a QoS 0 subscriber receives starts right after the topic (5.0: after the properties).")
				topic := Topic("qos0")
				sub := Connected(v, Named("subscriber"))
				sub.MustSubscribe(topic, 0)
				pub := Connected(v, Named("publisher"))
				pub.Publish(topic, []byte("no packet identifier"), 0, false)
				got := Expect[*packet.Publish](sub)
				if got.QoS != 0 || string(got.Payload) != "no packet identifier" || string(got.Topic) != topic {
					Failf("a QoS 0 PUBLISH on "+topic+" with payload \"no packet identifier\"", "%s", packet.Summary(got, v))
				}
			})
	})

	Only(packet.V5, func() {
		v := packet.V5

		It("closes the connection on a non-minimal Remaining Length",
			Statement(v, "MQTT-1.5.5-1", "MQTT-4.13.1-1"), func() {
				Requirement("A Variable Byte Integer uses the fewest bytes that can hold its value; a longer encoding makes the server close the connection (DISCONNECT 0x81 or 0x82).")
				c := Connected(v)
				// PINGREQ C0, Remaining Length 80 00 (0 in two bytes).
				c.SendRaw([]byte{0xC0, 0x80, 0x00})
				c.ExpectProtocolClose(packet.MalformedPacket, packet.ProtocolError).Forbid(packet.PINGRESP)
			})

		It("closes the connection on a non-minimal Property Length",
			Statement(v, "MQTT-1.5.5-1", "MQTT-4.13.1-1"), func() {
				Requirement("The Property Length is a Variable Byte Integer and must be minimal too; 80 00 for an empty property block makes the server close the connection (DISCONNECT 0x81 or 0x82).")
				c := Connected(v)
				// PUBLISH 30, topic, Property Length 80 00, payload "x".
				c.SendRaw(encPublish(v, 0x00, []byte(Topic("vbi")), 0, []byte{0x80, 0x00}, "x"))
				c.ExpectProtocolClose(packet.MalformedPacket, packet.ProtocolError)
			})

		It("closes the connection on a User Property name that is not well-formed UTF-8",
			Statement(v, "MQTT-1.5.7-1", "MQTT-4.13.1-1"), func() {
				Requirement("Both strings of a UTF-8 string pair follow the UTF-8 string rules; an ill-formed name makes the packet malformed (DISCONNECT 0x81).")
				c := Connected(v)
				// PUBLISH 30, topic, properties: 26 (User Property)
				// name 00 02 C3 28, value 00 01 "v"; payload "x".
				props := Wire.Props(Wire.Cat([]byte{0x26}, Wire.Bin([]byte{0xC3, 0x28}), Wire.Str("v")))
				c.SendRaw(encPublish(v, 0x00, []byte(Topic("pair")), 0, props, "x"))
				c.ExpectProtocolClose(packet.MalformedPacket)
			})

		It("closes the connection on a User Property value that contains U+0000",
			Statement(v, "MQTT-1.5.7-1", "MQTT-1.5.4-2", "MQTT-4.13.1-1"), func() {
				Requirement("The value of a UTF-8 string pair must not contain U+0000 either; such a packet is malformed (DISCONNECT 0x81).")
				c := Connected(v)
				// PUBLISH 30, topic, properties: 26 name "k", value "a" 00 "b"; payload "x".
				props := Wire.Props(Wire.Cat([]byte{0x26}, Wire.Str("k"), Wire.Str("a\x00b")))
				c.SendRaw(encPublish(v, 0x00, []byte(Topic("pair")), 0, props, "x"))
				c.ExpectProtocolClose(packet.MalformedPacket)
			})

		It("closes the connection on a Content Type that is not well-formed UTF-8",
			Statement(v, "MQTT-1.5.4-1", "MQTT-3.3.2-19", "MQTT-4.13.1-1"), func() {
				Requirement("String properties follow the UTF-8 rules; a Content Type holding a surrogate makes the packet malformed (DISCONNECT 0x81).")
				c := Connected(v)
				// PUBLISH 30, topic, properties: 03 (Content Type) 00 03 ED A0 80; payload "x".
				props := Wire.Props(Wire.Cat([]byte{0x03}, Wire.Bin([]byte{0xED, 0xA0, 0x80})))
				c.SendRaw(encPublish(v, 0x00, []byte(Topic("ctype")), 0, props, "x"))
				c.ExpectProtocolClose(packet.MalformedPacket)
			})

		It("closes the connection on a packet without its Property Length",
			Statement(v, "MQTT-2.2.2-1", "MQTT-4.13.1-1"), func() {
				Requirement("A packet without properties still carries a Property Length of 0; a SUBSCRIBE that leaves it out cannot be parsed and the server closes the connection (DISCONNECT 0x81).")
				c := Connected(v)
				// SUBSCRIBE 82, packet identifier 00 01, NO property length,
				// filter 00 05 "x/y/z", options 00. Read as 5.0 the 00 is the
				// Property Length and the filter length becomes 05 78 (1400),
				// far past the end of the packet.
				c.SendRaw(Wire.Packet(0x82, Wire.U16(1), Wire.Str("x/y/z"), []byte{0x00}))
				c.ExpectProtocolClose(packet.MalformedPacket).Forbid(packet.SUBACK)
			})

		It("writes the Remaining Length of its packets in the shortest form",
			Statement(v, "MQTT-1.5.5-1"), func() {
				Requirement("The server, too, writes every Variable Byte Integer in its shortest form: a delivered message whose Remaining Length needs two (and, when the size limits allow, three) bytes uses no more; the harness decoder rejects a longer encoding.")
				topic := Topic("vbi")
				sub := NewClient(v, Named("subscriber"))
				subAck := sub.MustConnect()
				sub.MustSubscribe(topic, 0)
				pub := NewClient(v, Named("publisher"))
				pubAck := pub.MustConnect()
				sizes := []int{200}
				limit := 0
				for _, ca := range []*packet.Connack{subAck, pubAck} {
					if ca.Properties.Has(packet.PropMaximumPacketSize) && (limit == 0 || int(ca.Properties.MaximumPacketSize) < limit) {
						limit = int(ca.Properties.MaximumPacketSize)
					}
				}
				if limit == 0 || limit > 20_000+len(topic)+64 {
					sizes = append(sizes, 20_000)
				} else {
					Note("the server's Maximum Packet Size %d leaves out the three-byte case", limit)
				}
				for _, n := range sizes {
					pub.Publish(topic, bytes.Repeat([]byte{'v'}, n), 0, false)
					if got := Expect[*packet.Publish](sub); len(got.Payload) != n {
						Failf(fmt.Sprintf("a payload of %d bytes", n), "%d bytes", len(got.Payload))
					}
				}
			})

		It("refuses a CONNECT with a property that appears twice",
			Statement(v, "MQTT-3.1.4-1"), func() {
				Requirement("Session Expiry Interval may appear once in CONNECT; twice is a Protocol Error in a CONNECT, which the server refuses by closing the connection (at most after CONNACK 0x82).")
				c := NewClient(v)
				// CONNECT 10 RL, "MQTT", level 05, flags 02, keep alive 00 3C,
				// properties: 11 00 00 00 0A twice; client id.
				sessionExpiry := Wire.Cat([]byte{0x11}, Wire.U32(10))
				c.SendRaw(Wire.Packet(0x10, Wire.Str("MQTT"), []byte{0x05, 0x02}, Wire.U16(60),
					Wire.Props(sessionExpiry, sessionExpiry), Wire.Str(ClientID())))
				c.ExpectConnectRejected()
			})

		It("refuses a CONNECT whose will properties hold a property not allowed there",
			Statement(v, "MQTT-3.1.4-1"), func() {
				Requirement("Session Expiry Interval is not a will property; a CONNECT carrying it among the will properties is malformed and the server closes the connection (at most after CONNACK 0x81).")
				c := NewClient(v)
				// CONNECT 10 RL, "MQTT", level 05, flags 06 (will, clean
				// start), keep alive 00 3C, properties 00; client id, will
				// properties 11 00 00 00 0A, will topic, will payload "w".
				c.SendRaw(Wire.Connect(v, 0x06, Wire.Str(ClientID()), Wire.Props(Wire.Cat([]byte{0x11}, Wire.U32(10))),
					Wire.Str(Topic("will")), Wire.Str("w")))
				c.ExpectConnectRejected()
			})

		// --- Properties (5.0 2.2.2) ---

		It("closes the connection with Protocol Error on a property that appears twice",
			Statement(v, "MQTT-4.13.1-1"), func() {
				Requirement("Including a property other than User Property or Subscription Identifier more than once is a Protocol Error; the server closes the connection (DISCONNECT 0x82).")
				c := Connected(v)
				// PUBLISH 30, topic, properties: 01 00 (Payload Format
				// Indicator 0) twice; payload "x".
				props := Wire.Props([]byte{0x01, 0x00}, []byte{0x01, 0x00})
				c.SendRaw(encPublish(v, 0x00, []byte(Topic("dup-prop")), 0, props, "x"))
				c.ExpectProtocolClose(packet.ProtocolError)
			})

		It("closes the connection with Malformed Packet on a property not allowed in the packet",
			Statement(v, "MQTT-4.13.1-1"), func() {
				Requirement("A property identifier that is not valid for the packet type makes the packet malformed; the server closes the connection (DISCONNECT 0x81).")
				c := Connected(v)
				// PUBLISH 30, topic, properties: 11 00 00 00 0A (Session
				// Expiry Interval, a CONNECT/CONNACK/DISCONNECT property); payload "x".
				props := Wire.Props(Wire.Cat([]byte{0x11}, Wire.U32(10)))
				c.SendRaw(encPublish(v, 0x00, []byte(Topic("bad-prop")), 0, props, "x"))
				c.ExpectProtocolClose(packet.MalformedPacket)
			})

		It("closes the connection with Malformed Packet on an unknown property identifier",
			Statement(v, "MQTT-4.13.1-1"), func() {
				Requirement("A property identifier the specification does not define is not valid for any packet; the server closes the connection (DISCONNECT 0x81).")
				c := Connected(v)
				// PUBLISH 30, topic, properties: 7F 00 (identifier 0x7F is undefined); payload "x".
				props := Wire.Props([]byte{0x7F, 0x00})
				c.SendRaw(encPublish(v, 0x00, []byte(Topic("unknown-prop")), 0, props, "x"))
				c.ExpectProtocolClose(packet.MalformedPacket)
			})

		It("closes the connection on a Property Length that runs past the packet",
			Statement(v, "MQTT-4.13.1-1"), func() {
				Requirement("A Property Length larger than what is left of the packet cannot be parsed; the server closes the connection (DISCONNECT 0x81).")
				c := Connected(v)
				// PUBLISH 30, topic, Property Length 10 (16) with only
				// 01 00 following; then a PINGREQ C0 00 a lax server would
				// swallow as properties.
				c.SendRaw(Wire.Cat(Wire.Packet(0x30, Wire.Str(Topic("prop-len")), []byte{0x10, 0x01, 0x00}), []byte{0xC0, 0x00}))
				c.ExpectProtocolClose(packet.MalformedPacket).Forbid(packet.PINGRESP)
			})

		It("closes the connection on a client PUBLISH that carries a Subscription Identifier",
			Statement(v, "MQTT-3.3.4-6", "MQTT-4.13.1-1"), func() {
				Requirement("Only the server puts Subscription Identifiers on PUBLISH; one from a client is a protocol violation and the server closes the connection (DISCONNECT 0x82 or 0x81).")
				c := Connected(v)
				// PUBLISH 30, topic, properties: 0B 01 (Subscription Identifier 1); payload "x".
				props := Wire.Props([]byte{0x0B, 0x01})
				c.SendRaw(encPublish(v, 0x00, []byte(Topic("subid")), 0, props, "x"))
				c.ExpectProtocolClose(packet.ProtocolError, packet.MalformedPacket)
			})
	})
})
