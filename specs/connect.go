package specs

import (
	. "github.com/onsi/ginkgo/v2"

	"github.com/mqttspec/mqttspec/reference/packet"
	. "github.com/mqttspec/mqttspec/specs/harness"
)

// CONNECT and CONNACK: 3.1.1 section 3.1-3.2, 5.0 section 3.1-3.2.
var _ = Describe("CONNECT", func() {
	ForVersions(func(v packet.Version) {
		It("answers a valid CONNECT with CONNACK 0x00 as its first packet",
			Statement(v, S(v, "MQTT-3.1.4-4", "MQTT-3.1.4-5"), "MQTT-3.2.0-1"), func() {
				Requirement("A valid CONNECT is acknowledged with a successful CONNACK, and CONNACK is the first packet the server sends.")
				c := NewClient(v)
				ca := c.Connect(&packet.Connect{CleanStart: true, KeepAlive: 30})
				if ca.ReasonCode != 0 {
					Failf("CONNACK with code 0x00", "CONNACK %s", ca.ReasonCode)
				}
			})

		It("sends Session Present 0 for a clean session",
			Statement(v, S(v, "MQTT-3.2.2-1", "MQTT-3.2.2-2")), func() {
				Requirement("Accepting a connection that starts clean, the server reports that no session is present.")
				c := NewClient(v)
				if ca := c.Connect(&packet.Connect{CleanStart: true}); ca.SessionPresent {
					Failf("Session Present 0", "Session Present 1")
				}
			})

		It("sends Session Present 1 when it resumes a stored session",
			Statement(v, S(v, "MQTT-3.2.2-2", "MQTT-3.2.2-3")), func() {
				Requirement("Accepting a connection that does not start clean, for a client whose session the server holds, it reports Session Present 1.")
				id := ClientID()
				first := NewClient(v)
				cp := &packet.Connect{ClientID: id, CleanStart: false}
				if v == packet.V5 {
					cp.Properties.SessionExpiry = 60
				}
				first.Connect(cp)
				first.Disconnect()
				again := NewClient(v)
				cp2 := &packet.Connect{ClientID: id, CleanStart: false}
				if v == packet.V5 {
					cp2.Properties.SessionExpiry = 0
				}
				if ca := again.Connect(cp2); !ca.SessionPresent {
					Failf("Session Present 1", "Session Present 0 (the session was lost)")
				}
			})

		It("closes the connection on a second CONNECT",
			Statement(v, S(v, "MQTT-3.1.0-2", "MQTT-3.1.0-2")), func() {
				Requirement("CONNECT may be sent only once per connection; a second one is a protocol violation and the server closes the connection.")
				c := Connected(v)
				c.Send(&packet.Connect{ProtocolVersion: v, ClientID: c.ID, CleanStart: true})
				c.ExpectClosed()
			})

		It("closes the connection when the CONNECT reserved flag is set",
			Statement(v, "MQTT-3.1.2-3"), func() {
				Requirement("The reserved bit 0 of the connect flags must be 0; otherwise the server closes the connection.")
				c := NewClient(v)
				cp := &packet.Connect{ProtocolVersion: v, ClientID: ClientID(), CleanStart: true}
				b, _ := packet.Encode(cp, v)
				// Connect flags follow the protocol name (2+len) and level (1).
				flagsAt := 2 + 2 + len(v.ProtocolName()) + 1
				b[flagsAt] |= 0x01
				c.SendRaw(b)
				got := c.ExpectClosed()
				for _, p := range got {
					if ca, ok := p.(*packet.Connack); ok && ca.ReasonCode == 0 {
						Failf("the connection closed without a successful CONNACK", "CONNACK 0x00")
					}
				}
			})

		It("refuses an unsupported protocol level and closes the connection",
			Statement(v, "MQTT-3.1.2-2"), func() {
				Requirement("A server answers a protocol level it does not support with CONNACK 0x01 (3.1.1) / 0x84 (5.0) and closes the connection; a 5.0 server may also just close.")
				// The server cannot know which CONNACK format a level-99
				// client reads; every level understands the 3.1.1 form, so
				// the answer is read as 3.1.1 (a 5.0 CONNACK 0x84 without
				// properties reads the same way).
				c := NewClient(packet.V311)
				b, _ := packet.Encode(&packet.Connect{ProtocolVersion: v, ClientID: ClientID(), CleanStart: true}, v)
				b[2+2+4] = 99 // protocol level
				c.SendRaw(b)
				got := c.ExpectClosed()
				if v == packet.V311 {
					if len(got) != 1 {
						Failf("CONNACK 0x01 then close", "%d packets before the close", len(got))
					}
					if ca, ok := got[0].(*packet.Connack); !ok || ca.ReasonCode != packet.ConnRefusedProtocolVersion {
						Failf("CONNACK 0x01 (unacceptable protocol version)", "%s", packet.Summary(got[0], v))
					}
				}
				for _, p := range got {
					if ca, ok := p.(*packet.Connack); ok && ca.ReasonCode == 0 {
						Failf("a refusal", "CONNACK 0x00")
					}
				}
			})

		It("disconnects the existing client when a second one uses its client identifier",
			Statement(v, S(v, "MQTT-3.1.4-2", "MQTT-3.1.4-3")), func() {
				Requirement("When a client connects with the identifier of a connected client, the server disconnects the existing one (5.0: with DISCONNECT 0x8E).")
				first := Connected(v)
				second := NewClient(v)
				if ca := second.Connect(&packet.Connect{ClientID: first.ID, CleanStart: true}); ca.ReasonCode != 0 {
					Failf("the new connection accepted", "CONNACK %s", ca.ReasonCode)
				}
				got := first.ExpectClosed()
				if v == packet.V5 {
					for _, p := range got {
						if d, ok := p.(*packet.Disconnect); ok && d.ReasonCode != packet.SessionTakenOver {
							Failf("DISCONNECT 0x8E Session taken over", "DISCONNECT %s", d.ReasonCode)
						}
					}
				}
			})

		It("closes the connection after a CONNACK that refuses the client",
			Statement(v, S(v, "MQTT-3.2.2-5", "MQTT-3.2.2-7"), S(v, "MQTT-3.2.2-4", "MQTT-3.2.2-6")), func() {
				Requirement("A refusing CONNACK has Session Present 0 and the server closes the connection after it.")
				if v != packet.V5 {
					// An empty client id with a persistent session is refused in 3.1.1.
					c := NewClient(v)
					c.Send(&packet.Connect{ProtocolVersion: v, ClientID: "", CleanStart: false})
					got := c.ExpectClosed()
					if len(got) == 0 {
						Failf("CONNACK 0x02 before the close", "no packet")
					}
					ca, ok := got[0].(*packet.Connack)
					if !ok || ca.ReasonCode != packet.ConnRefusedIdentifierRejected || ca.SessionPresent {
						Failf("CONNACK 0x02 with Session Present 0", "%s", packet.Summary(got[0], v))
					}
					return
				}
				// 5.0: an authentication method the server does not offer.
				c := NewClient(v)
				cp := &packet.Connect{ProtocolVersion: v, ClientID: ClientID(), CleanStart: true}
				cp.Properties.AuthMethod = []byte("mqttspec-unknown-method")
				c.Send(cp)
				got := c.ExpectClosed()
				if len(got) > 0 {
					if ca, ok := got[0].(*packet.Connack); ok && (ca.ReasonCode < 0x80 || ca.SessionPresent) {
						Failf("a refusing CONNACK (code >= 0x80, Session Present 0)", "%s", packet.Summary(ca, v))
					}
				}
			})
	})

	Only(packet.V311, func() {
		It("refuses an empty client identifier with CleanSession 0 (CONNACK 0x02)",
			Statement(packet.V311, "MQTT-3.1.3-8"), func() {
				Requirement("A zero-byte client identifier needs CleanSession 1; otherwise CONNACK 0x02 and close.")
				c := NewClient(packet.V311)
				c.Send(&packet.Connect{ProtocolVersion: packet.V311, CleanStart: false})
				got := c.ExpectClosed()
				if len(got) != 1 {
					Failf("CONNACK 0x02 then close", "%d packets", len(got))
				}
				if ca, ok := got[0].(*packet.Connack); !ok || ca.ReasonCode != packet.ConnRefusedIdentifierRejected {
					Failf("CONNACK 0x02 identifier rejected", "%s", packet.Summary(got[0], packet.V311))
				}
			})
	})

	Only(packet.V5, func() {
		It("assigns a client identifier when the client sends an empty one",
			Statement(packet.V5, "MQTT-3.1.3-6", "MQTT-3.2.2-16"), func() {
				Requirement("A server that accepts a zero-byte client identifier assigns one and returns it in the Assigned Client Identifier property.")
				c := NewClient(packet.V5)
				ca := c.ConnectExact(&packet.Connect{ClientID: "", CleanStart: true})
				if ca.ReasonCode != 0 {
					Note("the server refuses empty client identifiers (%s), which 5.0 allows with 0x85", ca.ReasonCode)
					return
				}
				if len(ca.Properties.AssignedClientID) == 0 {
					Failf("an Assigned Client Identifier in CONNACK", "none")
				}
			})
	})
})
