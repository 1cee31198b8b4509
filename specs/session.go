package specs

import (
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/mqttspec/mqttspec/reference/packet"
	. "github.com/mqttspec/mqttspec/specs/harness"
)

// sessConnect sends a CONNECT for client identifier id with the given Clean
// Start (Clean Session) flag and, for 5.0, Session Expiry Interval, and
// expects it accepted.
func sessConnect(c *Client, id string, clean bool, expiry uint32) *packet.Connack {
	GinkgoHelper()
	cp := &packet.Connect{ClientID: id, CleanStart: clean, KeepAlive: 60}
	if c.V == packet.V5 {
		cp.Properties.SessionExpiry = expiry
	}
	ca := c.Connect(cp)
	if ca.ReasonCode != 0 {
		Failf("CONNACK with code 0x00", "CONNACK %s", ca.ReasonCode)
	}
	return ca
}

// sessPersistent opens a client with a session that outlives its connection
// (3.1.1 CleanSession 0; 5.0 Clean Start 0, Session Expiry 60 s), ended when
// the spec ends. The spec is unsupported when a 5.0 target keeps none.
func sessPersistent(v packet.Version, id string, name string) (*Client, *packet.Connack) {
	GinkgoHelper()
	c := NewClient(v, Named(name))
	ForgetSession(v, id)
	ca := sessConnect(c, id, false, 60)
	if v == packet.V5 {
		RequireSessionExpiry(ca)
	}
	return c, ca
}

// sessResume reconnects to id's session with Clean Start 0 and fails the
// spec unless the server reports Session Present 1.
func sessResume(v packet.Version, id string, expiry uint32) *Client {
	GinkgoHelper()
	c := NewClient(v, Named("resumed"))
	if ca := sessConnect(c, id, false, expiry); !ca.SessionPresent {
		Failf("the session resumed (CONNACK Session Present 1)", "Session Present 0: the session was not kept")
	}
	return c
}

// Sessions: 3.1.1 sections 3.1.2.4 and 4.1; 5.0 sections 3.1.2.4,
// 3.1.2.11.2 (Session Expiry Interval) and 4.1.
var _ = Describe("Sessions", func() {
	ForVersions(func(v packet.Version) {
		It("keeps the subscriptions of a persistent session across connections",
			Statement(v, S(v, "MQTT-3.1.2-4", "MQTT-3.1.2-5"), S(v, "MQTT-4.1.0-1", "MQTT-3.1.2-23")), func() {
				Requirement("A session that does not start clean (5.0: with a Session Expiry Interval) is resumed on reconnection with its subscriptions: messages flow without subscribing again.")
				id, topic := ClientID(), Topic("session")
				c, _ := sessPersistent(v, id, "first")
				c.MustSubscribe(topic, 1)
				c.DisconnectAndWait(nil)
				again := sessResume(v, id, 60)
				pub := Connected(v, Named("publisher"))
				pub.Publish(topic, []byte("still subscribed"), 1, false)
				again.ExpectPayload("still subscribed", "a message through the resumed subscription")
			})

		It("stores QoS 1 messages for a disconnected persistent session",
			Statement(v, S(v, "MQTT-3.1.2-5", "MQTT-3.1.2-23")), func() {
				Requirement("While the client of a persistent session is disconnected, QoS 1 messages matching its subscriptions are kept and delivered when it resumes the session.")
				id, topic := ClientID(), Topic("session")
				c, ca := sessPersistent(v, id, "first")
				RequireFeatures(ca, 1, false)
				c.SubscribeGranted(packet.Subscription{Filter: topic, QoS: 1}, 1)
				c.DisconnectAndWait(nil)
				pub := Connected(v, Named("publisher"))
				pub.Publish(topic, []byte("queued qos1"), 1, false)
				again := sessResume(v, id, 60)
				got := again.ExpectPayload("queued qos1", "the message queued while offline")
				if got.QoS != 1 {
					Failf("the queued message at QoS 1", "%s", packet.Summary(got, v))
				}
			})

		It("stores QoS 2 messages for a disconnected persistent session",
			Statement(v, S(v, "MQTT-3.1.2-5", "MQTT-3.1.2-23")), func() {
				Requirement("While the client of a persistent session is disconnected, QoS 2 messages matching its subscriptions are kept and delivered when it resumes the session.")
				id, topic := ClientID(), Topic("session")
				c, ca := sessPersistent(v, id, "first")
				RequireFeatures(ca, 2, false)
				c.SubscribeGranted(packet.Subscription{Filter: topic, QoS: 2}, 2)
				c.DisconnectAndWait(nil)
				pub := Connected(v, Named("publisher"))
				pub.Publish(topic, []byte("queued qos2"), 2, false)
				again := sessResume(v, id, 60)
				got := again.ExpectPayload("queued qos2", "the message queued while offline")
				if got.QoS != 2 {
					Failf("the queued message at QoS 2", "%s", packet.Summary(got, v))
				}
			})

		It("discards the stored session when a client connects with a clean start",
			Statement(v, S(v, "MQTT-3.1.2-6", "MQTT-3.1.2-4")), func() {
				Requirement("Clean Session 1 (5.0: Clean Start 1) throws the stored session away: Session Present 0, no subscriptions and none of the messages queued for it.")
				id, topic := ClientID(), Topic("session")
				c, _ := sessPersistent(v, id, "first")
				c.MustSubscribe(topic, 1)
				c.DisconnectAndWait(nil)
				pub := Connected(v, Named("publisher"))
				pub.Publish(topic, []byte("for the old session"), 1, false)
				clean := NewClient(v, Named("clean"))
				if ca := sessConnect(clean, id, true, 0); ca.SessionPresent {
					Failf("Session Present 0", "Session Present 1")
				}
				clean.MustSubscribe(topic, 1)
				sentinel := Sentinel(v, topic)
				clean.ExpectSentinel(sentinel, "message queued for the discarded session")
			})
	})

	Only(packet.V311, func() {
		v := packet.V311

		It("does not keep a clean session once its connection ends",
			Statement(v, "MQTT-3.1.2-6"), func() {
				Requirement("A CleanSession 1 session lasts only as long as its connection: a later CleanSession 0 connection finds no session, subscription or queued message.")
				expectSessionEndsWithConnection(v, true)
			})

		It("keeps the session state while the connection is open",
			Statement(v, "MQTT-4.1.0-2"), func() {
				Requirement("A session lasts at least as long as its network connection: a clean session's subscription keeps delivering for the life of the connection.")
				topic := Topic("session")
				c := Connected(v, Named("subscriber"))
				c.MustSubscribe(topic, 1)
				pub := Connected(v, Named("publisher"))
				for _, m := range []string{"one", "two", "three"} {
					pub.Publish(topic, []byte(m), 1, false)
					c.ExpectPayload(m, "each message through the subscription")
					c.Ping()
				}
			})
	})

	Only(packet.V5, func() {
		v := packet.V5

		It("creates a new session for Clean Start 0 when none exists",
			Statement(v, "MQTT-3.1.2-6"), func() {
				Requirement("Clean Start 0 for an unknown client identifier makes the server create a session (Session Present 0) that it then keeps like any other.")
				id := ClientID()
				c, ca := sessPersistent(v, id, "first")
				if ca.SessionPresent {
					Failf("Session Present 0 for a new client identifier", "Session Present 1")
				}
				c.DisconnectAndWait(nil)
				sessResume(v, id, 60)
			})

		It("ends a session whose Session Expiry Interval is 0 when the connection closes",
			Statement(v, "MQTT-4.1.0-2"), func() {
				Requirement("Without a Session Expiry Interval (0) the session ends with its connection: a reconnection with Clean Start 0 finds nothing.")
				expectSessionEndsWithConnection(v, false)
			})

		It("keeps a session with Session Expiry Interval 0xFFFFFFFF after the connection closes",
			Statement(v, "MQTT-3.1.2-23"), func() {
				Requirement("Session Expiry Interval 0xFFFFFFFF means the session does not expire: it is still there after the connection closed.")
				id, topic := ClientID(), Topic("session")
				ForgetSession(v, id)
				c := NewClient(v, Named("first"))
				ca := sessConnect(c, id, false, 0xFFFFFFFF)
				RequireSessionExpiry(ca)
				if ca.Properties.Has(packet.PropSessionExpiry) {
					Note("the server lowered the Session Expiry Interval to %d s", ca.Properties.SessionExpiry)
				}
				c.MustSubscribe(topic, 1)
				c.Close()
				pub := Connected(v, Named("publisher"))
				pub.Publish(topic, []byte("kept"), 1, false)
				again := sessResume(v, id, 0xFFFFFFFF)
				again.ExpectPayload("kept", "the message queued for the session")
			})

		It("ends the session when its Session Expiry Interval has passed",
			Statement(v, "MQTT-4.1.0-2"), timerSpec, func() {
				Requirement("A session with a Session Expiry Interval of 1 s is discarded 1 s after its connection closed: a later Clean Start 0 connection gets Session Present 0.")
				id, topic := ClientID(), Topic("session")
				ForgetSession(v, id)
				watcher := willWatcher(v, topic)
				// The will (delay 60 s) is published when the session ends: the
				// event that tells when to look, instead of a fixed wait.
				c := NewClient(v, Named("first"))
				w := &packet.Will{Topic: topic, Payload: []byte("session ended"), QoS: 1}
				w.Properties.WillDelay = 60
				ca := c.Connect(&packet.Connect{ClientID: id, CleanStart: false, KeepAlive: 60, Will: w,
					Properties: packet.Properties{SessionExpiry: 1}})
				if ca.ReasonCode != 0 {
					Failf("CONNACK with code 0x00", "CONNACK %s", ca.ReasonCode)
				}
				RequireSessionExpiry(ca)
				closed := time.Now()
				c.Close()
				p, err := watcher.ReadWithin(time.Second + Cfg().ReadTimeout)
				if err != nil {
					Note("no will at session expiry; looking for the session anyway")
				} else if pub, ok := p.(*packet.Publish); ok {
					watcher.Ack(pub)
				}
				Observed("reconnecting %v after the close", time.Since(closed).Round(time.Millisecond))
				later := NewClient(v, Named("later"))
				if ca := sessConnect(later, id, false, 0); ca.SessionPresent {
					Failf("Session Present 0 (the session expired)", "Session Present 1")
				}
			})

		It("keeps session state while the connection stays open beyond the Session Expiry Interval",
			Statement(v, "MQTT-4.1.0-1"), timerSpec, func() {
				Requirement("Session state is never discarded while the connection is open, even after longer than its Session Expiry Interval (1 s).")
				id, topic := ClientID(), Topic("session")
				ForgetSession(v, id)
				c := NewClient(v, Named("subscriber"))
				sessConnect(c, id, false, 1)
				c.MustSubscribe(topic, 1)
				if p, err := c.WaitQuiet(1500 * time.Millisecond); p != nil || err != nil {
					Failf("a quiet, open connection", "%v %v", p, err)
				}
				pub := Connected(v, Named("publisher"))
				pub.Publish(topic, []byte("after 1.5 s"), 1, false)
				c.ExpectPayload("after 1.5 s", "a message through the subscription")
			})

		It("ends the session at disconnection when DISCONNECT sets the Session Expiry Interval to 0",
			Statement(v, "MQTT-4.1.0-2"), func() {
				Requirement("A DISCONNECT may change the Session Expiry Interval: set to 0, the session ends with the connection although CONNECT asked for 60 s.")
				id, topic := ClientID(), Topic("session")
				c, _ := sessPersistent(v, id, "first")
				c.MustSubscribe(topic, 1)
				d := &packet.Disconnect{}
				d.Properties.Present = d.Properties.Present.With(packet.PropSessionExpiry)
				c.DisconnectAndWait(d)
				later := NewClient(v, Named("later"))
				if ca := sessConnect(later, id, false, 0); ca.SessionPresent {
					Failf("Session Present 0 (DISCONNECT set the expiry to 0)", "Session Present 1")
				}
			})

		It("does not let DISCONNECT set a Session Expiry Interval when CONNECT had 0",
			Statement(v, "MQTT-4.13.1-1", "MQTT-4.1.0-2"), func() {
				Requirement("A non-zero Session Expiry Interval in DISCONNECT after CONNECT had 0 is a Protocol Error: the server closes the connection and the session still ends with it.")
				id, topic := ClientID(), Topic("session")
				ForgetSession(v, id)
				c := NewClient(v, Named("first"))
				sessConnect(c, id, false, 0)
				c.MustSubscribe(topic, 1)
				d := &packet.Disconnect{}
				d.Properties.SessionExpiry = 60
				c.Send(d)
				got, err := c.ClosedAfter()
				if err != nil {
					Failf("a well-formed reply, if any, then the close", "%v", err)
				}
				for _, p := range got {
					if dd, ok := p.(*packet.Disconnect); ok && dd.ReasonCode != packet.ProtocolError {
						Note("DISCONNECT %s (0x82 Protocol Error is expected)", dd.ReasonCode)
					}
				}
				later := NewClient(v, Named("later"))
				if ca := sessConnect(later, id, false, 0); ca.SessionPresent {
					Failf("Session Present 0 (the session had expiry 0)", "Session Present 1: the DISCONNECT extended it")
				}
			})
	})
})

// DISCONNECT: 3.1.1 section 3.14; 5.0 section 3.14.
var _ = Describe("DISCONNECT", func() {
	ForVersions(func(v packet.Version) {
		It("closes the connection when DISCONNECT has reserved flag bits set",
			Statement(v, "MQTT-3.14.1-1"), func() {
				Requirement("The reserved flags of DISCONNECT are 0; a DISCONNECT with flags set is malformed and the server closes the connection (5.0: a DISCONNECT it sends first carries 0x81).")
				c := Connected(v)
				c.SendRaw([]byte{byte(packet.DISCONNECT)<<4 | 0x02, 0x00})
				got, err := c.ClosedAfter()
				if err != nil {
					Failf("a well-formed reply, if any, then the close", "%v", err)
				}
				for _, p := range got {
					if d, ok := p.(*packet.Disconnect); ok && d.ReasonCode != packet.MalformedPacket {
						Failf("DISCONNECT 0x81 Malformed Packet", "DISCONNECT %s", d.ReasonCode)
					}
				}
			})
	})

	Only(packet.V5, func() {
		v := packet.V5

		It("sends no DISCONNECT before a successful CONNACK",
			Statement(v, "MQTT-3.14.0-1"), func() {
				Requirement("The server may send DISCONNECT only after a CONNACK with a reason code below 0x80: a malformed CONNECT is answered by at most a CONNACK, then the close.")
				c := NewClient(v)
				b, _ := packet.Encode(&packet.Connect{ProtocolVersion: v, ClientID: ClientID(), CleanStart: true}, v)
				flagsAt := 2 + 2 + len(v.ProtocolName()) + 1
				b[flagsAt] |= 0x01 // the reserved connect flag
				c.SendRaw(b)
				got, err := c.ClosedAfter()
				if err != nil {
					Failf("a well-formed reply, if any, then the close", "%v", err)
				}
				for _, p := range got {
					if _, ok := p.(*packet.Disconnect); ok {
						Failf("no DISCONNECT without a successful CONNACK", "%s", packet.Summary(p, v))
					}
				}
			})

		It("sends nothing after its DISCONNECT and closes the connection",
			Statement(v, "MQTT-3.14.4-1", "MQTT-3.14.4-2"), func() {
				Requirement("After the server sends DISCONNECT (here 0x8E when another connection takes the session over) it sends nothing more and closes the connection.")
				first := Connected(v, Named("first"))
				second := NewClient(v, Named("second"))
				sessConnect(second, first.ID, true, 0)
				got, err := first.ClosedAfter()
				if err != nil {
					Failf("well-formed packets, then the close", "%v", err)
				}
				for i, p := range got {
					if _, ok := p.(*packet.Disconnect); ok && i != len(got)-1 {
						Failf("DISCONNECT as the last packet", "%s after it", packet.Summary(got[i+1], v))
					}
				}
				if len(got) == 0 {
					Note("the server closed the connection without DISCONNECT")
				}
			})

		It("uses a Disconnect reason code in the DISCONNECT it sends",
			Statement(v, "MQTT-3.14.2-1"), func() {
				Requirement("A server DISCONNECT carries one of the reason codes defined for DISCONNECT (here on a session takeover, 0x8E).")
				first := Connected(v, Named("first"))
				second := NewClient(v, Named("second"))
				sessConnect(second, first.ID, true, 0)
				got, err := first.ClosedAfter()
				if err != nil {
					Failf("a DISCONNECT with a defined reason code", "%v", err)
				}
				for _, p := range got {
					if d, ok := p.(*packet.Disconnect); ok && !packet.ReasonAllowed(packet.DISCONNECT, d.ReasonCode) {
						Failf("a reason code defined for DISCONNECT", "DISCONNECT %s", d.ReasonCode)
					}
				}
			})

		It("sends no Session Expiry Interval in its DISCONNECT",
			Statement(v, "MQTT-3.14.2-2"), func() {
				Requirement("A DISCONNECT from the server never carries a Session Expiry Interval (here on a session takeover of a session with expiry 60 s).")
				id := ClientID()
				ForgetSession(v, id)
				first := NewClient(v, Named("first"))
				sessConnect(first, id, false, 60)
				second := NewClient(v, Named("second"))
				sessConnect(second, id, false, 60)
				got, err := first.ClosedAfter()
				if err != nil {
					Failf("well-formed packets, then the close", "%v", err)
				}
				for _, p := range got {
					if d, ok := p.(*packet.Disconnect); ok && d.Properties.Has(packet.PropSessionExpiry) {
						Failf("DISCONNECT without Session Expiry Interval", "%s", packet.Summary(d, v))
					}
				}
			})
	})
})

// expectSessionEndsWithConnection connects a session that must end with its
// connection (3.1.1 CleanSession 1, or 5.0 Session Expiry Interval 0 with
// clean false), subscribes, disconnects, publishes to the subscription and
// checks that a later Clean Start 0 connection finds neither the session
// nor the message.
func expectSessionEndsWithConnection(v packet.Version, clean bool) {
	GinkgoHelper()
	id, topic := ClientID(), Topic("session")
	ForgetSession(v, id)
	c := NewClient(v, Named("first"))
	sessConnect(c, id, clean, 0)
	c.MustSubscribe(topic, 1)
	c.DisconnectAndWait(nil)
	pub := Connected(v, Named("publisher"))
	pub.Publish(topic, []byte("for the ended session"), 1, false)
	later := NewClient(v, Named("later"))
	if ca := sessConnect(later, id, false, 0); ca.SessionPresent {
		Failf("Session Present 0 (the session ended with its connection)", "Session Present 1")
	}
	later.MustSubscribe(topic, 1)
	sentinel := Sentinel(v, topic)
	later.ExpectSentinel(sentinel, "a message kept for a session that ended")
}
