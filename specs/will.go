package specs

import (
	"bytes"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/mqttspec/mqttspec/reference/packet"
	. "github.com/mqttspec/mqttspec/specs/harness"
)

// willWatcher connects a client subscribed at QoS 1 to the will topic.
func willWatcher(v packet.Version, topic string) *Client {
	GinkgoHelper()
	w := Connected(v, Named("watcher"))
	w.MustSubscribe(topic, 1)
	return w
}

// willConnect connects a client (named "will") whose CONNECT carries w,
// with a fresh client identifier; adjust, when not nil, changes the CONNECT
// first. It fails the spec unless the CONNACK accepts the client.
func willConnect(v packet.Version, w *packet.Will, adjust func(*packet.Connect)) (*Client, *packet.Connack) {
	GinkgoHelper()
	c := NewClient(v, Named("will"))
	cp := &packet.Connect{CleanStart: true, KeepAlive: 60, Will: w}
	if adjust != nil {
		adjust(cp)
	}
	ca := c.Connect(cp)
	if ca.ReasonCode != 0 {
		Failf("CONNACK with code 0x00 for a CONNECT with a will", "CONNACK %s", ca.ReasonCode)
	}
	return c, ca
}

// willAbsent asserts that no will arrives at the watcher: a sentinel
// published on the will topic after the broker acted must come first.
func willAbsent(v packet.Version, watcher *Client, topic string) {
	GinkgoHelper()
	sentinel := Sentinel(v, topic)
	watcher.ExpectSentinel(sentinel, "will message")
}

// Will messages: 3.1.1 sections 3.1.2.5-3.1.2.7 and 3.14.4; 5.0 sections
// 3.1.2.5-3.1.2.7, 3.1.3.2 (Will Properties, Will Delay Interval) and 3.14.
var _ = Describe("Will messages", func() {
	ForVersions(func(v packet.Version) {
		It("publishes the will when the connection closes without DISCONNECT",
			Statement(v, "MQTT-3.1.2-8", S(v, "MQTT-3.1.2-8", "MQTT-3.1.2-7")), func() {
				Requirement("The server keeps the will of an accepted CONNECT and publishes it when the network connection closes without a DISCONNECT.")
				topic := Topic("will")
				watcher := willWatcher(v, topic)
				c, _ := willConnect(v, &packet.Will{Topic: topic, Payload: []byte("gone"), QoS: 1}, nil)
				c.Close()
				watcher.ExpectPayload("gone", "the will after the connection closed")
			})

		It("does not publish the will after a normal DISCONNECT",
			Statement(v, "MQTT-3.14.4-3", "MQTT-3.1.2-10"), func() {
				Requirement("On a DISCONNECT (5.0: reason 0x00) the server deletes the will of the connection without publishing it.")
				topic := Topic("will")
				watcher := willWatcher(v, topic)
				c, _ := willConnect(v, &packet.Will{Topic: topic, Payload: []byte("must not appear"), QoS: 1}, nil)
				c.DisconnectAndWait(nil)
				willAbsent(v, watcher, topic)
			})

		It("publishes the will when it closes the connection for a protocol violation",
			Statement(v, "MQTT-3.1.2-8"), func() {
				Requirement("A connection the server closes because of a protocol violation (here a second CONNECT) did not end with DISCONNECT, so its will is published.")
				topic := Topic("will")
				watcher := willWatcher(v, topic)
				c, _ := willConnect(v, &packet.Will{Topic: topic, Payload: []byte("violated"), QoS: 1}, nil)
				c.Send(&packet.Connect{ProtocolVersion: v, ClientID: c.ID, CleanStart: true})
				c.ExpectClosed()
				watcher.ExpectPayload("violated", "the will after the server closed the connection")
			})

		It("publishes the will when a DISCONNECT has reserved flag bits set",
			Statement(v, "MQTT-3.1.2-8", "MQTT-3.14.1-1"), func() {
				Requirement("A DISCONNECT whose reserved flags are not zero is malformed, not a normal disconnection: the server closes the connection and publishes the will.")
				topic := Topic("will")
				watcher := willWatcher(v, topic)
				c, _ := willConnect(v, &packet.Will{Topic: topic, Payload: []byte("malformed goodbye"), QoS: 1}, nil)
				c.SendRaw([]byte{byte(packet.DISCONNECT)<<4 | 0x01, 0x00})
				c.ExpectClosed()
				watcher.ExpectPayload("malformed goodbye", "the will after a malformed DISCONNECT")
			})

		It("publishes the will only once",
			Statement(v, "MQTT-3.1.2-10"), func() {
				Requirement("Once published, the will is deleted: a later connection of the same client without a will that also ends abnormally publishes nothing.")
				topic := Topic("will")
				watcher := willWatcher(v, topic)
				c, _ := willConnect(v, &packet.Will{Topic: topic, Payload: []byte("once"), QoS: 1}, func(cp *packet.Connect) {
					cp.CleanStart = false
					if v == packet.V5 {
						cp.Properties.SessionExpiry = 60
					}
				})
				ForgetSession(v, c.ID)
				c.Close()
				watcher.ExpectPayload("once", "the will after the first connection closed")
				again := NewClient(v, Named("again"))
				cp := &packet.Connect{ClientID: c.ID, CleanStart: false, KeepAlive: 60}
				if v == packet.V5 {
					cp.Properties.SessionExpiry = 60
				}
				again.Connect(cp)
				again.Close()
				// A third connection with the identifier: once it is accepted,
				// the broker has dealt with the end of the second one.
				third := NewClient(v, Named("third"))
				third.Connect(&packet.Connect{ClientID: c.ID, CleanStart: true, KeepAlive: 60})
				willAbsent(v, watcher, topic)
			})

		It("publishes a will without the will retain flag as a non-retained message",
			Statement(v, S(v, "MQTT-3.1.2-16", "MQTT-3.1.2-14")), func() {
				Requirement("A will whose Will Retain flag is 0 is published as an ordinary message: it does not become the retained message of its topic.")
				topic := Topic("will")
				ClearRetained(v, topic)
				watcher := willWatcher(v, topic)
				c, _ := willConnect(v, &packet.Will{Topic: topic, Payload: []byte("not kept"), QoS: 1}, nil)
				c.Close()
				watcher.ExpectPayload("not kept", "the will after the connection closed")
				late := Connected(v, Named("late"))
				late.MustSubscribe(topic, 1)
				sentinel := Sentinel(v, topic)
				late.ExpectSentinel(sentinel, "retained copy of a will without Will Retain")
			})

		It("publishes a will with the will retain flag as a retained message",
			Statement(v, S(v, "MQTT-3.1.2-17", "MQTT-3.1.2-15")), func() {
				Requirement("A will whose Will Retain flag is 1 is published as a retained message: a later subscriber receives it.")
				topic := Topic("will")
				probe := NewClient(v, Named("probe"))
				RequireFeatures(probe.MustConnect(), 1, true)
				probe.Disconnect()
				ClearRetained(v, topic)
				watcher := willWatcher(v, topic)
				c, _ := willConnect(v, &packet.Will{Topic: topic, Payload: []byte("kept"), QoS: 1, Retain: true}, nil)
				c.Close()
				watcher.ExpectPayload("kept", "the will after the connection closed")
				late := Connected(v, Named("late"))
				late.MustSubscribe(topic, 1)
				got := late.ExpectPayload("kept", "the retained will for a later subscriber")
				if !got.Retain {
					Failf("RETAIN 1 on the retained will", "%s", packet.Summary(got, v))
				}
			})

		It("publishes the will at its Will QoS",
			Statement(v, "MQTT-3.1.2-8", S(v, "MQTT-3.8.4-6", "MQTT-3.8.4-8")), func() {
				Requirement("The will is published with the QoS of the CONNECT's Will QoS: a QoS 1 will reaches a QoS 1 subscription at QoS 1.")
				topic := Topic("will")
				watcher := Connected(v, Named("watcher"))
				watcher.SubscribeGranted(packet.Subscription{Filter: topic, QoS: 1}, 1)
				c, _ := willConnect(v, &packet.Will{Topic: topic, Payload: []byte("qos1"), QoS: 1}, nil)
				c.Close()
				got := watcher.ExpectPayload("qos1", "the will after the connection closed")
				if got.QoS != 1 {
					Failf("the will at QoS 1", "%s", packet.Summary(got, v))
				}
			})
	})

	Only(packet.V311, func() {
		v := packet.V311

		It("publishes no will for a connection whose CONNECT had none",
			Statement(v, "MQTT-3.1.2-12"), func() {
				Requirement("Without the Will Flag no will is published when the connection ends, even if an earlier connection of the same client had a will.")
				topic := Topic("will")
				watcher := willWatcher(v, topic)
				c, _ := willConnect(v, &packet.Will{Topic: topic, Payload: []byte("earlier will"), QoS: 1}, func(cp *packet.Connect) {
					cp.CleanStart = false
				})
				ForgetSession(v, c.ID)
				c.DisconnectAndWait(nil)
				again := NewClient(v, Named("again"))
				again.Connect(&packet.Connect{ClientID: c.ID, CleanStart: false, KeepAlive: 60})
				again.Close()
				third := NewClient(v, Named("third"))
				third.Connect(&packet.Connect{ClientID: c.ID, CleanStart: true, KeepAlive: 60})
				willAbsent(v, watcher, topic)
			})
	})

	Only(packet.V5, func() {
		v := packet.V5

		It("publishes the will on DISCONNECT with reason 0x04",
			Statement(v, "MQTT-3.1.2-8", "MQTT-3.14.4-3"), func() {
				Requirement("Only a DISCONNECT with reason 0x00 deletes the will: with 0x04 (Disconnect with Will Message) the server publishes it.")
				topic := Topic("will")
				watcher := willWatcher(v, topic)
				c, _ := willConnect(v, &packet.Will{Topic: topic, Payload: []byte("asked for"), QoS: 1}, nil)
				c.DisconnectAndWait(&packet.Disconnect{ReasonCode: packet.DisconnectWithWill})
				watcher.ExpectPayload("asked for", "the will after DISCONNECT 0x04")
			})

		It("waits for the Will Delay Interval before publishing the will",
			Statement(v, "MQTT-3.1.2-8"), timerSpec, func() {
				Requirement("With a Will Delay Interval of 1 s (and a longer session) the will is published 1 s after the connection closed, not before.")
				topic := Topic("will")
				watcher := willWatcher(v, topic)
				w := &packet.Will{Topic: topic, Payload: []byte("delayed"), QoS: 1}
				w.Properties.WillDelay = 1
				c, ca := willConnect(v, w, func(cp *packet.Connect) { cp.Properties.SessionExpiry = 10 })
				ForgetSession(v, c.ID)
				RequireSessionExpiry(ca)
				closed := time.Now()
				c.Close()
				p, err := watcher.ReadWithin(time.Second + Cfg().ReadTimeout)
				elapsed := time.Since(closed)
				if err != nil {
					Failf("the will within 1 s + the read timeout", "nothing: %v", err)
				}
				pub, ok := p.(*packet.Publish)
				if !ok || string(pub.Payload) != "delayed" {
					Failf("the delayed will", "%s", packet.Summary(p, v))
				}
				watcher.Ack(pub)
				Observed("the will arrived %v after the close", elapsed.Round(time.Millisecond))
				if elapsed < 950*time.Millisecond {
					Failf("the will no earlier than 1 s after the close", "it arrived after %v", elapsed.Round(time.Millisecond))
				}
			})

		It("does not publish the will when the session resumes within the Will Delay Interval",
			Statement(v, "MQTT-3.1.3-9"), timerSpec, func() {
				Requirement("If the client reconnects to its session before the Will Delay Interval (1 s) has passed, the will is not published.")
				topic := Topic("will")
				watcher := willWatcher(v, topic)
				w := &packet.Will{Topic: topic, Payload: []byte("cancelled"), QoS: 1}
				w.Properties.WillDelay = 1
				c, ca := willConnect(v, w, func(cp *packet.Connect) {
					cp.CleanStart = false
					cp.Properties.SessionExpiry = 10
				})
				ForgetSession(v, c.ID)
				RequireSessionExpiry(ca)
				closed := time.Now()
				c.Close()
				back := NewClient(v, Named("back"))
				cp := &packet.Connect{ClientID: c.ID, CleanStart: false, KeepAlive: 60}
				cp.Properties.SessionExpiry = 10
				if ca := back.Connect(cp); ca.ReasonCode != 0 || !ca.SessionPresent {
					Failf("the session resumed (CONNACK 0x00, Session Present 1)", "%s", packet.Summary(ca, v))
				}
				// The timer is the subject: wait past the delay, then prove
				// with a sentinel that nothing came.
				if p, err := watcher.WaitUntil(closed.Add(1500 * time.Millisecond)); p != nil || err != nil {
					if p != nil {
						Failf("no will (the session resumed in time)", "%s", packet.Summary(p, v))
					}
					Failf("the watcher's connection open", "%v", err)
				}
				willAbsent(v, watcher, topic)
			})

		It("publishes the will when the session ends before the Will Delay Interval",
			Statement(v, "MQTT-3.1.2-8"), timerSpec, func() {
				Requirement("When the session expires (after 1 s) before the Will Delay Interval (60 s) has passed, the will is published as the session ends.")
				topic := Topic("will")
				watcher := willWatcher(v, topic)
				w := &packet.Will{Topic: topic, Payload: []byte("session over"), QoS: 1}
				w.Properties.WillDelay = 60
				c, ca := willConnect(v, w, func(cp *packet.Connect) { cp.Properties.SessionExpiry = 1 })
				ForgetSession(v, c.ID)
				RequireSessionExpiry(ca)
				closed := time.Now()
				c.Close()
				p, err := watcher.ReadWithin(time.Second + Cfg().ReadTimeout)
				if err != nil {
					Failf("the will when the session expires, about 1 s after the close", "nothing within %v: %v", time.Second+Cfg().ReadTimeout, err)
				}
				pub, ok := p.(*packet.Publish)
				if !ok || string(pub.Payload) != "session over" {
					Failf("the will at session expiry", "%s", packet.Summary(p, v))
				}
				watcher.Ack(pub)
				Observed("the will arrived %v after the close", time.Since(closed).Round(time.Millisecond))
			})

		It("forwards the will's properties with the will",
			Statement(v, "MQTT-3.3.2-4", "MQTT-3.3.2-15", "MQTT-3.3.2-16", "MQTT-3.3.2-20"), func() {
				Requirement("The will's Payload Format Indicator, Content Type, Response Topic and Correlation Data reach the subscriber unchanged.")
				topic := Topic("will")
				watcher := willWatcher(v, topic)
				w := &packet.Will{Topic: topic, Payload: []byte(`{"state":"offline"}`), QoS: 1}
				w.Properties.PayloadFormat = 1
				w.Properties.ContentType = []byte("application/json")
				w.Properties.ResponseTopic = []byte(Topic("reply"))
				w.Properties.CorrelationData = []byte{0x00, 0x01, 0xFE}
				c, _ := willConnect(v, w, nil)
				c.Close()
				got := watcher.ExpectPayload(`{"state":"offline"}`, "the will with its properties")
				gp, wp := &got.Properties, &w.Properties
				var diff []string
				if !gp.Has(packet.PropPayloadFormat) || gp.PayloadFormat != 1 {
					diff = append(diff, fmt.Sprintf("Payload Format Indicator %d (present %v)", gp.PayloadFormat, gp.Has(packet.PropPayloadFormat)))
				}
				if !bytes.Equal(gp.ContentType, wp.ContentType) {
					diff = append(diff, fmt.Sprintf("Content Type %q", gp.ContentType))
				}
				if !bytes.Equal(gp.ResponseTopic, wp.ResponseTopic) {
					diff = append(diff, fmt.Sprintf("Response Topic %q", gp.ResponseTopic))
				}
				if !bytes.Equal(gp.CorrelationData, wp.CorrelationData) {
					diff = append(diff, fmt.Sprintf("Correlation Data %x", gp.CorrelationData))
				}
				if len(diff) > 0 {
					Failf("Payload Format Indicator 1, Content Type \"application/json\", the Response Topic and Correlation Data 0001fe", "%v", diff)
				}
			})

		It("keeps the order of the will's User Properties",
			Statement(v, "MQTT-3.1.3-10"), func() {
				Requirement("The will's User Properties are forwarded in the order the CONNECT listed them, repeated names included.")
				topic := Topic("will")
				watcher := willWatcher(v, topic)
				w := &packet.Will{Topic: topic, Payload: []byte("props"), QoS: 1}
				want := [][2]string{{"room", "Küche"}, {"a", "1"}, {"room", "Wohnzimmer"}, {"z", ""}}
				for _, kv := range want {
					w.Properties.AddUser(kv[0], kv[1])
				}
				c, _ := willConnect(v, w, nil)
				c.Close()
				got := watcher.ExpectPayload("props", "the will with its User Properties")
				var have [][2]string
				for _, u := range got.Properties.User {
					have = append(have, [2]string{string(u.Key), string(u.Value)})
				}
				if fmt.Sprint(have) != fmt.Sprint(want) {
					Failf(fmt.Sprintf("User Properties %v", want), "User Properties %v", have)
				}
			})

		It("refuses a will QoS above its Maximum QoS",
			Statement(v, "MQTT-3.2.2-12"), func() {
				Requirement("A server with Maximum QoS below 2 refuses a CONNECT whose Will QoS exceeds it (preferably CONNACK 0x9B) and closes the connection.")
				probe := NewClient(v, Named("probe"))
				pa := probe.MustConnect()
				probe.Disconnect()
				if !pa.Properties.Has(packet.PropMaximumQoS) || pa.Properties.MaximumQoS >= 2 {
					Skip("not applicable: the target supports QoS 2")
				}
				c := NewClient(v, Named("will"))
				c.Send(&packet.Connect{ProtocolVersion: v, ClientID: ClientID(), CleanStart: true,
					Will: &packet.Will{Topic: Topic("will"), Payload: []byte("too high"), QoS: 2}})
				for _, p := range c.ExpectClosed() {
					if ca, ok := p.(*packet.Connack); ok {
						if !ca.ReasonCode.IsError() {
							Failf("a refusing CONNACK", "%s", packet.Summary(ca, v))
						}
						if ca.ReasonCode != packet.QoSNotSupported {
							Note("CONNACK %s (0x9B QoS not supported is the recommended code)", ca.ReasonCode)
						}
					}
				}
			})

		It("refuses a retained will when it has no retained messages",
			Statement(v, "MQTT-3.2.2-13"), func() {
				Requirement("A server with Retain Available 0 refuses a CONNECT whose will has Will Retain 1 (preferably CONNACK 0x9A) and closes the connection.")
				probe := NewClient(v, Named("probe"))
				pa := probe.MustConnect()
				probe.Disconnect()
				if Target().Capabilities.Retain && !(pa.Properties.Has(packet.PropRetainAvailable) && pa.Properties.RetainAvailable == 0) {
					Skip("not applicable: the target supports retained messages")
				}
				c := NewClient(v, Named("will"))
				c.Send(&packet.Connect{ProtocolVersion: v, ClientID: ClientID(), CleanStart: true,
					Will: &packet.Will{Topic: Topic("will"), Payload: []byte("retained"), Retain: true}})
				for _, p := range c.ExpectClosed() {
					if ca, ok := p.(*packet.Connack); ok {
						if !ca.ReasonCode.IsError() {
							Failf("a refusing CONNACK", "%s", packet.Summary(ca, v))
						}
						if ca.ReasonCode != packet.RetainNotSupported {
							Note("CONNACK %s (0x9A Retain not supported is the recommended code)", ca.ReasonCode)
						}
					}
				}
			})
	})
})
