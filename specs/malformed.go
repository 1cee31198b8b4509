package specs

import (
	"github.com/gorilla/websocket"
	. "github.com/onsi/ginkgo/v2"

	"github.com/mqttspec/mqttspec/reference/packet"
	. "github.com/mqttspec/mqttspec/specs/harness"
)

// Control packet format and protocol errors: 3.1.1 sections 2.2, 3.x
// (fixed-header flags, PUBLISH flags, CONNECT flags) and 4.8; 5.0 sections
// 2.1, 3.x and 4.13; the WebSocket transport of section 6. A server that
// receives a malformed packet or a protocol violation closes the network
// connection; a 5.0 server should send DISCONNECT 0x81 (Malformed Packet)
// or 0x82 (Protocol Error) first, and must not send DISCONNECT before a
// successful CONNACK. Each packet is built by hand and its bytes are
// written next to it.

// mfFlags are the statements on reserved fixed-header flags: 3.1.1
// MQTT-2.2.2-1 (the values are fixed) and MQTT-2.2.2-2 (the receiver
// closes), 5.0 MQTT-2.1.3-1 (wrong flags are a Malformed Packet).
func mfFlags(v packet.Version, more ...string) []string {
	ids := []string{"MQTT-2.2.2-1", "MQTT-2.2.2-2"}
	if v == packet.V5 {
		ids = []string{"MQTT-2.1.3-1"}
	}
	return append(ids, more...)
}

// mfWithV5Props inserts an empty 5.0 property block (00) after the first
// part of a body (the packet identifier) for 5.0.
func mfWithV5Props(v packet.Version, first []byte, rest ...[]byte) [][]byte {
	parts := [][]byte{first}
	if v == packet.V5 {
		parts = append(parts, []byte{0x00})
	}
	return append(parts, rest...)
}

var _ = Describe("Control packet format and protocol errors", func() {
	ForVersions(func(v packet.Version) {
		closeID := S(v, "MQTT-4.8.0-1", "MQTT-4.13.1-1")

		// --- Reserved fixed-header flags (3.1.1 2.2.2, 5.0 2.1.3) ---

		It("closes the connection on a PUBREL whose fixed-header flags are not 0010",
			Statement(v, mfFlags(v, "MQTT-3.6.1-1", closeID)...), func() {
				Requirement("PUBREL's reserved flag bits are 0010; any other value is malformed and the server closes the connection (5.0: DISCONNECT 0x81).")
				c := Connected(v)
				// PUBREL with flags 0000: 60 02, packet identifier 00 01.
				c.SendRaw([]byte{0x60, 0x02, 0x00, 0x01})
				c.ExpectProtocolClose(packet.MalformedPacket).Forbid(packet.PUBCOMP)
			})

		It("closes the connection on a SUBSCRIBE whose fixed-header flags are not 0010",
			Statement(v, mfFlags(v, "MQTT-3.8.1-1", closeID)...), func() {
				Requirement("SUBSCRIBE's reserved flag bits are 0010; any other value is malformed: the server closes the connection without subscribing (5.0: DISCONNECT 0x81).")
				c := Connected(v)
				// SUBSCRIBE with flags 0000: 80, packet identifier 00 01,
				// [5.0: props 00], filter, options 00.
				c.SendRaw(Wire.Packet(0x80, mfWithV5Props(v, Wire.U16(1), Wire.Str(Topic("flags")), []byte{0x00})...))
				c.ExpectProtocolClose(packet.MalformedPacket).Forbid(packet.SUBACK)
			})

		It("closes the connection on an UNSUBSCRIBE whose fixed-header flags are not 0010",
			Statement(v, mfFlags(v, "MQTT-3.10.1-1", closeID)...), func() {
				Requirement("UNSUBSCRIBE's reserved flag bits are 0010; any other value is malformed and the server closes the connection (5.0: DISCONNECT 0x81).")
				c := Connected(v)
				// UNSUBSCRIBE with flags 0000: A0, packet identifier 00 01,
				// [5.0: props 00], filter.
				c.SendRaw(Wire.Packet(0xA0, mfWithV5Props(v, Wire.U16(1), Wire.Str(Topic("flags")))...))
				c.ExpectProtocolClose(packet.MalformedPacket).Forbid(packet.UNSUBACK)
			})

		It("treats a DISCONNECT with reserved flags set as malformed, not as a normal disconnection",
			Statement(v, mfFlags(v, "MQTT-3.14.1-1")...), func() {
				Requirement("DISCONNECT's reserved flag bits are 0000; the server checks them and treats any other value as a malformed packet: the connection ends in error, so the will is published (5.0: after DISCONNECT 0x81), unlike after a valid DISCONNECT.")
				topic := Topic("will")
				sub := Connected(v, Named("subscriber"))
				sub.MustSubscribe(topic, 0)
				c := NewClient(v, Named("will-client"))
				if ca := c.Connect(&packet.Connect{CleanStart: true, KeepAlive: 60,
					Will: &packet.Will{Topic: topic, Payload: []byte("will of a malformed DISCONNECT")}}); ca.ReasonCode != 0 {
					Failf("CONNACK 0x00", "CONNACK %s", ca.ReasonCode)
				}
				// DISCONNECT with flags 0001: E1 00.
				c.SendRaw([]byte{0xE1, 0x00})
				cl := c.ExpectProtocolClose(packet.MalformedPacket)
				got := Expect[*packet.Publish](sub)
				if string(got.Topic) != topic || string(got.Payload) != "will of a malformed DISCONNECT" {
					Failf("the will message on "+topic, "%s", packet.Summary(got, v))
				}
				if v == packet.V5 && cl.Disconnect == nil {
					// The will proves the packet was treated as malformed (the
					// MUST); the DISCONNECT before the close is recommended.
					FailShould("DISCONNECT 0x81 Malformed Packet before the close", "a close without DISCONNECT")
				}
			})

		It("closes the connection on a PINGREQ whose fixed-header flags are not 0000",
			Statement(v, mfFlags(v, closeID)...), func() {
				Requirement("PINGREQ's reserved flag bits are 0000; any other value is malformed and the server closes the connection instead of answering (5.0: DISCONNECT 0x81).")
				c := Connected(v)
				// PINGREQ with flags 0001: C1 00.
				c.SendRaw([]byte{0xC1, 0x00})
				c.ExpectProtocolClose(packet.MalformedPacket).Forbid(packet.PINGRESP)
			})

		It("closes the connection on a PUBACK whose fixed-header flags are not 0000",
			Statement(v, mfFlags(v, closeID)...), func() {
				Requirement("PUBACK's reserved flag bits are 0000; any other value is malformed and the server closes the connection (5.0: DISCONNECT 0x81).")
				c := Connected(v)
				// PUBACK with flags 0010: 42 02, packet identifier 00 01.
				c.SendRaw([]byte{0x42, 0x02, 0x00, 0x01})
				c.ExpectProtocolClose(packet.MalformedPacket)
			})

		It("refuses a CONNECT whose fixed-header flags are not 0000",
			Statement(v, mfFlags(v, "MQTT-3.1.4-1")...), func() {
				Requirement("CONNECT's reserved flag bits are 0000; a CONNECT with others is malformed and the server closes the connection (3.1.1: without CONNACK; 5.0: at most a refusing CONNACK).")
				c := NewClient(v)
				// A valid CONNECT (clean start, client id) with first byte 11
				// instead of 10.
				b := Wire.Connect(v, 0x02, Wire.Str(ClientID()))
				b[0] = 0x11
				c.SendRaw(b)
				c.ExpectConnectRejected()
			})

		It("sets the reserved flag bits of the packets it sends as the specification lists them",
			Statement(v, mfFlags(v, "MQTT-3.6.1-1")...), func() {
				Requirement("The server's own packets carry the fixed-header flags the table prescribes (PUBREL 0010, the others 0000 apart from PUBLISH); the harness decoder rejects any other value.")
				topic := Topic("flags")
				sub := Connected(v, Named("subscriber"))
				// SUBACK (1001 0000), then a QoS 2 delivery: PUBLISH, our
				// PUBREC, the server's PUBREL (0110 0010), our PUBCOMP.
				sa := sub.Subscribe(packet.Subscription{Filter: topic, QoS: 2})
				if len(sa.ReasonCodes) != 1 || sa.ReasonCodes[0].IsError() {
					Failf("the subscription granted", "SUBACK %v", sa.ReasonCodes)
				}
				pub := NewClient(v, Named("publisher"))
				pa := pub.MustConnect()
				// Publish at the highest QoS the server takes (5.0: its
				// Maximum QoS; 3.1.1: what the target declares).
				qos := min(packet.QoS(sa.ReasonCodes[0]), Target().Capabilities.MaximumQoS)
				if v == packet.V5 && pa.Properties.Has(packet.PropMaximumQoS) {
					qos = min(qos, packet.QoS(pa.Properties.MaximumQoS))
				}
				pub.Publish(topic, []byte("flags"), qos, false)
				if got := sub.Receive(); got.QoS != 2 {
					Note("the message arrived at QoS %d (granted %d), so no PUBREL from the server was checked", got.QoS, sa.ReasonCodes[0])
				}
				// UNSUBACK (1011 0000) and PINGRESP (1101 0000).
				sub.Send(&packet.Unsubscribe{PacketID: 7, Filters: []string{topic}})
				Expect[*packet.Unsuback](sub)
				sub.Ping()
			})

		// --- PUBLISH flags and topic (3.3.1, 3.3.2) ---

		It("closes the connection on a PUBLISH with QoS 3",
			Statement(v, "MQTT-3.3.1-4", closeID), func() {
				Requirement("A PUBLISH never has both QoS bits set; one that does is malformed and the server closes the connection (5.0: DISCONNECT 0x81).")
				c := Connected(v)
				// PUBLISH 36 (QoS bits 11), topic, packet identifier 00 01,
				// [5.0: props 00], payload "x".
				c.SendRaw(encPublish(v, 0x06, []byte(Topic("qos3")), 1, nil, "x"))
				c.ExpectProtocolClose(packet.MalformedPacket).Forbid(packet.PUBACK, packet.PUBREC)
			})

		It("closes the connection on a QoS 0 PUBLISH with DUP set",
			Statement(v, "MQTT-3.3.1-2", "MQTT-4.3.1-1", closeID), func() {
				Requirement("DUP is 0 on every QoS 0 PUBLISH; a QoS 0 PUBLISH with DUP 1 is a protocol violation and the server closes the connection (5.0: DISCONNECT 0x81 or 0x82).")
				c := Connected(v)
				// PUBLISH 38 (DUP 1, QoS 0), topic, [5.0: props 00], payload "x".
				c.SendRaw(encPublish(v, 0x08, []byte(Topic("dup0")), 0, nil, "x"))
				c.ExpectProtocolClose(packet.MalformedPacket, packet.ProtocolError)
			})

		wild := S(v, "MQTT-4.7.1-1", "MQTT-4.7.0-1")
		for _, w := range []struct{ name, level string }{{"single-level", "+"}, {"multi-level", "#"}} {
			It("closes the connection on a PUBLISH whose topic name holds the "+w.name+" wildcard",
				Statement(v, "MQTT-3.3.2-2", wild, closeID), func() {
					Requirement("Topic names never contain wildcard characters; a PUBLISH to '" + w.level + "' is a protocol violation and the server closes the connection (5.0: DISCONNECT 0x81, 0x82 or 0x90 Topic Name invalid).")
					c := Connected(v)
					// PUBLISH 30, topic ".../<wildcard>", [5.0: props 00], payload "x".
					c.SendRaw(encPublish(v, 0x00, []byte(Topic(w.level)), 0, nil, "x"))
					c.ExpectProtocolClose(packet.MalformedPacket, packet.ProtocolError, packet.TopicNameInvalid)
				})
		}

		// --- Packets out of place (3.1, 2.2.1 / 2.1.2, 4.8 / 4.13) ---

		It("closes the connection when the first packet is not CONNECT",
			Statement(v, "MQTT-3.1.0-1", closeID), func() {
				Requirement("A client must open a connection with CONNECT; a server that receives anything else first closes the connection without acting on it.")
				c := NewClient(v)
				// PINGREQ C0 00 as the first packet.
				c.SendRaw([]byte{0xC0, 0x00})
				c.ExpectConnectRejected().Forbid(packet.PINGRESP)
			})

		It("closes the connection on the reserved packet type 0",
			Statement(v, closeID), func() {
				Requirement("Packet type 0 is reserved (forbidden); receiving it is a protocol violation and the server closes the connection (5.0: DISCONNECT 0x81 or 0x82).")
				c := Connected(v)
				// First byte 00 (type 0), Remaining Length 00.
				c.SendRaw([]byte{0x00, 0x00})
				c.ExpectProtocolClose(packet.MalformedPacket, packet.ProtocolError)
			})

		// A client never sends the packets that travel only from server to
		// client; one that does commits a protocol violation.
		for _, sp := range []struct {
			name      string
			b311, b5  []byte
			layout311 string
		}{
			// CONNACK: 20 02, flags 00, return code 00 (5.0: 20 03 00 00, props 00).
			{"CONNACK", []byte{0x20, 0x02, 0x00, 0x00}, []byte{0x20, 0x03, 0x00, 0x00, 0x00}, "20 02 00 00"},
			// SUBACK: 90 03, packet identifier 00 01, code 00 (5.0: 90 04 00 01, props 00, code 00).
			{"SUBACK", []byte{0x90, 0x03, 0x00, 0x01, 0x00}, []byte{0x90, 0x04, 0x00, 0x01, 0x00, 0x00}, "90 03 00 01 00"},
			// UNSUBACK: B0 02, packet identifier 00 01 (5.0: B0 04 00 01, props 00, code 00).
			{"UNSUBACK", []byte{0xB0, 0x02, 0x00, 0x01}, []byte{0xB0, 0x04, 0x00, 0x01, 0x00, 0x00}, "B0 02 00 01"},
			// PINGRESP: D0 00.
			{"PINGRESP", []byte{0xD0, 0x00}, []byte{0xD0, 0x00}, "D0 00"},
		} {
			It("closes the connection when a client sends "+sp.name,
				Statement(v, closeID), func() {
					Requirement(sp.name + " travels only from server to client; a server that receives one treats it as a protocol violation and closes the connection (5.0: DISCONNECT 0x82, or 0x81).")
					c := Connected(v)
					b := sp.b311
					if v == packet.V5 {
						b = sp.b5
					}
					c.SendRaw(b)
					c.ExpectProtocolClose(packet.ProtocolError, packet.MalformedPacket)
				})
		}

		// --- Malformed CONNECT (3.1.2, 3.1.3, 3.1.4) ---
		// Connect flags: 80 user name, 40 password, 20 will retain,
		// 18 will QoS, 04 will flag, 02 clean start, 01 reserved.

		It("refuses a CONNECT with Will QoS set but no Will Flag",
			Statement(v, append(mfOnly311(v, "MQTT-3.1.2-11"), S(v, "MQTT-3.1.2-13", "MQTT-3.1.2-11"), "MQTT-3.1.4-1")...), func() {
				Requirement("Without the Will Flag the Will QoS bits are 0; a CONNECT with Will QoS 1 and no will does not conform and the server closes the connection.")
				c := NewClient(v)
				// Flags 0A (clean start, will QoS 1, no will flag); payload: client id.
				c.SendRaw(Wire.Connect(v, 0x0A, Wire.Str(ClientID())))
				c.ExpectConnectRejected()
			})

		It("refuses a CONNECT with Will Retain set but no Will Flag",
			Statement(v, append(mfOnly311(v, "MQTT-3.1.2-11"), S(v, "MQTT-3.1.2-15", "MQTT-3.1.2-13"), "MQTT-3.1.4-1")...), func() {
				Requirement("Without the Will Flag the Will Retain bit is 0; a CONNECT with Will Retain and no will does not conform and the server closes the connection.")
				c := NewClient(v)
				// Flags 22 (clean start, will retain, no will flag); payload: client id.
				c.SendRaw(Wire.Connect(v, 0x22, Wire.Str(ClientID())))
				c.ExpectConnectRejected()
			})

		It("refuses a CONNECT with Will QoS 3",
			Statement(v, S(v, "MQTT-3.1.2-14", "MQTT-3.1.2-12"), "MQTT-3.1.4-1"), func() {
				Requirement("The Will QoS is 0, 1 or 2; a CONNECT with Will QoS 3 is malformed and the server closes the connection.")
				c := NewClient(v)
				// Flags 1E (clean start, will flag, will QoS 3); payload:
				// client id, [5.0: will properties 00], will topic, will payload.
				c.SendRaw(Wire.Connect(v, 0x1E, mfWithV5Props(v, Wire.Str(ClientID()), Wire.Str(Topic("will")), Wire.Str("w"))...))
				c.ExpectConnectRejected()
			})

		It("refuses a CONNECT that carries will fields without the Will Flag",
			Statement(v, append(mfOnly311(v, "MQTT-3.1.2-11"), "MQTT-3.1.4-1")...), func() {
				Requirement("Without the Will Flag the payload holds no will topic or will message; a CONNECT that carries them anyway does not match its flags and the server closes the connection.")
				c := NewClient(v)
				// Flags 02 (clean start only); payload: client id,
				// [5.0: will properties 00], will topic, will payload.
				c.SendRaw(Wire.Connect(v, 0x02, mfWithV5Props(v, Wire.Str(ClientID()), Wire.Str(Topic("will")), Wire.Str("w"))...))
				c.ExpectConnectRejected()
			})

		It("refuses a CONNECT with the Will Flag but no will topic and payload",
			Statement(v, "MQTT-3.1.2-9", "MQTT-3.1.4-1"), func() {
				Requirement("With the Will Flag set, the payload holds the will (5.0: will properties), will topic and will payload; a CONNECT that ends after the client identifier does not conform and the server closes the connection.")
				c := NewClient(v)
				// Flags 06 (clean start, will flag, will QoS 0); payload: client id only.
				c.SendRaw(Wire.Connect(v, 0x06, Wire.Str(ClientID())))
				c.ExpectConnectRejected()
			})

		It("refuses a CONNECT that carries a user name without the User Name Flag",
			Statement(v, S(v, "MQTT-3.1.2-18", "MQTT-3.1.2-16"), "MQTT-3.1.4-1"), func() {
				Requirement("Without the User Name Flag the payload holds no user name; a CONNECT that carries one anyway does not match its flags and the server closes the connection.")
				c := NewClient(v)
				// Flags 02 (clean start only); payload: client id, user name "user".
				c.SendRaw(Wire.Connect(v, 0x02, Wire.Str(ClientID()), Wire.Str("user")))
				c.ExpectConnectRejected()
			})

		It("refuses a CONNECT with the User Name Flag but no user name",
			Statement(v, S(v, "MQTT-3.1.2-19", "MQTT-3.1.2-17"), "MQTT-3.1.4-1"), func() {
				Requirement("With the User Name Flag set the payload holds a user name; a CONNECT that ends after the client identifier does not conform and the server closes the connection.")
				c := NewClient(v)
				// Flags 82 (user name, clean start); payload: client id only.
				c.SendRaw(Wire.Connect(v, 0x82, Wire.Str(ClientID())))
				c.ExpectConnectRejected()
			})

		It("refuses a CONNECT that carries a password without the Password Flag",
			Statement(v, S(v, "MQTT-3.1.2-20", "MQTT-3.1.2-18"), "MQTT-3.1.4-1"), func() {
				Requirement("Without the Password Flag the payload holds no password; a CONNECT that carries one anyway does not match its flags and the server closes the connection.")
				c := NewClient(v)
				// Flags 82 (user name, clean start); payload: client id,
				// user name "user", password "secret".
				c.SendRaw(Wire.Connect(v, 0x82, Wire.Str(ClientID()), Wire.Str("user"), Wire.Str("secret")))
				c.ExpectConnectRejected()
			})

		It("refuses a CONNECT with the Password Flag but no password",
			Statement(v, S(v, "MQTT-3.1.2-21", "MQTT-3.1.2-19"), "MQTT-3.1.4-1"), func() {
				Requirement("With the Password Flag set the payload holds a password; a CONNECT that ends after the user name does not conform and the server closes the connection.")
				c := NewClient(v)
				// Flags C2 (user name, password, clean start); payload:
				// client id, user name "user", no password.
				c.SendRaw(Wire.Connect(v, 0xC2, Wire.Str(ClientID()), Wire.Str("user")))
				c.ExpectConnectRejected()
			})

		// --- WebSocket transport (section 6) ---

		It("closes the connection on a WebSocket data frame that is not binary", Statement(v, "MQTT-6.0.0-1"), func() {
			Requirement("Over WebSocket, MQTT travels in binary frames only; a server that receives any other data frame closes the network connection.")
			ws := DialWebSocket(v, WebSocketEndpoint(), "mqtt")
			connect, _ := packet.Encode(&packet.Connect{ProtocolVersion: v, ClientID: ClientID(), CleanStart: true}, v)
			// A well-formed CONNECT, but in a text frame.
			ws.WriteFrame(websocket.TextMessage, connect)
			ws.ExpectClosedWithoutAnswer("the connection closed without CONNACK: a text frame is not an MQTT carrier")
		})

		It("reassembles MQTT packets split across WebSocket frames and packed into one", Statement(v, "MQTT-6.0.0-2"), func() {
			Requirement("Over WebSocket, packets need not line up with frames: one packet may span several frames and one frame may carry several packets.")
			c := NewClient(v, At(WebSocketEndpoint()))
			id := ClientID()
			connect, _ := packet.Encode(c.WithLogin(&packet.Connect{ProtocolVersion: v, ClientID: id, CleanStart: true}), v)
			// The client writes one binary frame per call: the CONNECT goes
			// in three frames, split inside the fixed header and the
			// protocol name.
			c.SendRaw(connect[:1])
			c.SendRaw(connect[1:5])
			c.SendRaw(connect[5:])
			Expect[*packet.Connack](c)
			topic := Topic("ws")
			sub, _ := packet.Encode(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: topic, QoS: 0}}}, v)
			pub, _ := packet.Encode(&packet.Publish{Topic: []byte(topic), Payload: []byte("framed")}, v)
			// SUBSCRIBE and the PUBLISH it must receive, in one frame (the
			// server handles packets in order, so the subscription exists
			// when the PUBLISH is routed).
			c.SendRaw(append(sub, pub...))
			Expect[*packet.Suback](c)
			got := c.Receive()
			if string(got.Topic) != topic || string(got.Payload) != "framed" {
				Failf("the PUBLISH on "+topic+" with payload \"framed\"", "%s", packet.Summary(got, v))
			}
		})

		It("selects the 'mqtt' WebSocket subprotocol", Statement(v, "MQTT-6.0.0-4"), func() {
			Requirement("A server offering MQTT over WebSocket selects the subprotocol name 'mqtt' in its handshake answer.")
			ws := DialWebSocket(v, WebSocketEndpoint(), "mqtt")
			if ws.Subprotocol != "mqtt" {
				Failf("the handshake answer selects subprotocol \"mqtt\"", "it selected %q", ws.Subprotocol)
			}
		})
	})

	Only(packet.V311, func() {
		v := packet.V311

		It("refuses a CONNECT with the Password Flag but no User Name Flag",
			Statement(v, "MQTT-3.1.2-22", "MQTT-3.1.4-1"), func() {
				Requirement("In 3.1.1 a password may be sent only with a user name; a CONNECT with the Password Flag and without the User Name Flag does not conform and the server closes the connection without CONNACK.")
				c := NewClient(v)
				// Flags 42 (password, clean start); payload: client id, password "secret".
				c.SendRaw(Wire.Connect(v, 0x42, Wire.Str(ClientID()), Wire.Str("secret")))
				c.ExpectConnectRejected()
			})

		It("closes the connection on packet type 15, reserved in 3.1.1",
			Statement(v, "MQTT-4.8.0-1"), func() {
				Requirement("Packet type 15 (AUTH in 5.0) is reserved in 3.1.1; receiving it is a protocol violation and the server closes the connection.")
				c := Connected(v)
				// First byte F0 (type 15), Remaining Length 00.
				c.SendRaw([]byte{0xF0, 0x00})
				c.ExpectProtocolClose()
			})
	})

	Only(packet.V5, func() {
		v := packet.V5

		It("closes the connection on an AUTH whose fixed-header flags are not 0000",
			Statement(v, "MQTT-2.1.3-1", "MQTT-3.15.1-1", "MQTT-4.13.1-1"), func() {
				Requirement("AUTH's reserved flag bits are 0000; any other value is malformed and the server closes the connection (DISCONNECT 0x81; 0x82 is accepted as the AUTH is also out of place on this connection).")
				c := Connected(v)
				// AUTH with flags 0001: F1 00.
				c.SendRaw([]byte{0xF1, 0x00})
				c.ExpectProtocolClose(packet.MalformedPacket, packet.ProtocolError).Forbid(packet.AUTH)
			})

		It("closes the connection with Protocol Error on an AUTH after a CONNECT without Authentication Method",
			Statement(v, "MQTT-4.12.0-7", "MQTT-4.13.1-1"), func() {
				Requirement("A client that did not name an Authentication Method in CONNECT never sends AUTH; one that does commits a Protocol Error and the server closes the connection (DISCONNECT 0x82).")
				c := Connected(v)
				// AUTH F0 RL, reason 19 (Re-authenticate), properties:
				// 15 (Authentication Method) "mqttspec-method".
				c.SendRaw(Wire.Packet(0xF0, []byte{0x19}, Wire.Props(Wire.Cat([]byte{0x15}, Wire.Str("mqttspec-method")))))
				c.ExpectProtocolClose(packet.ProtocolError).Forbid(packet.AUTH)
			})

		It("ends the connection right after a DISCONNECT with an error reason code",
			Statement(v, "MQTT-4.13.2-1"), func() {
				Requirement("A DISCONNECT with a reason code of 0x80 or above means the connection is closed: nothing follows it and the server closes the network connection.")
				c := Connected(v)
				// PUBLISH 36 (QoS 3), topic, packet identifier 00 01, props 00, payload "x".
				c.SendRaw(encPublish(v, 0x06, []byte(Topic("qos3")), 1, nil, "x"))
				cl := c.ExpectProtocolClose()
				if cl.Disconnect == nil {
					Note("the server closed without DISCONNECT; the close itself satisfies the statement")
					return
				}
				if last := cl.Packets[len(cl.Packets)-1]; last != packet.Packet(cl.Disconnect) {
					Failf("the close right after DISCONNECT "+cl.Disconnect.ReasonCode.String(), "%s after it", packet.Summary(last, v))
				}
			})

		It("sends no DISCONNECT when it closes a connection whose first packet is not CONNECT",
			Statement(v, "MQTT-3.14.0-1"), func() {
				Requirement("The server sends DISCONNECT only after a successful CONNACK; a connection it never accepted is closed without one.")
				c := NewClient(v)
				// PUBLISH 30, topic, props 00, payload "x" as the first packet.
				c.SendRaw(encPublish(v, 0x00, []byte(Topic("first")), 0, nil, "x"))
				c.ExpectConnectRejected().Forbid(packet.DISCONNECT)
			})

		It("sends no DISCONNECT when it closes the connection over a malformed CONNECT",
			Statement(v, "MQTT-3.14.0-1"), func() {
				Requirement("The server sends DISCONNECT only after a successful CONNACK; a malformed CONNECT is answered at most with a refusing CONNACK, never with DISCONNECT.")
				c := NewClient(v)
				// Flags 1E (will QoS 3); payload: client id, will properties 00, will topic, will payload.
				c.SendRaw(Wire.Connect(v, 0x1E, Wire.Str(ClientID()), []byte{0x00}, Wire.Str(Topic("will")), Wire.Str("w")))
				c.ExpectConnectRejected().Forbid(packet.DISCONNECT)
			})
	})
})

// mfOnly311 returns id for 3.1.1 and nothing for 5.0, for rules only 3.1.1
// numbers.
func mfOnly311(v packet.Version, id string) []string {
	if v == packet.V5 {
		return nil
	}
	return []string{id}
}
