package specs

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/mqttspec/mqttspec/reference/packet"
	. "github.com/mqttspec/mqttspec/specs/harness"
)

// Application message properties, message expiry and the problem and
// response information a client requests: 5.0 sections 3.1.2.11.6-7,
// 3.3.2.3, 3.3.4 and 4.10.
var _ = Describe("Message properties", func() {
	Only(packet.V5, func() {
		const v = packet.V5

		It("forwards the Payload Format Indicator unaltered",
			Statement(v, "MQTT-3.3.2-4"), func() {
				Requirement("Every subscriber receives the Payload Format Indicator the publisher set.")
				var props packet.Properties
				props.PayloadFormat = 1
				for _, p := range deliverWithProps(props, []byte("Küche 21,5 °C")) {
					if !p.Properties.Has(packet.PropPayloadFormat) || p.Properties.PayloadFormat != 1 {
						Failf("Payload Format Indicator 1", "%s", DescribePacket(p, v))
					}
				}
			})

		It("forwards the Content Type unaltered",
			Statement(v, "MQTT-3.3.2-20"), func() {
				Requirement("Every subscriber receives the Content Type string exactly as published.")
				const ct = "application/vnd.long-home.temperatur+json; charset=utf-8; raum=Küche"
				props := packet.Properties{ContentType: []byte(ct)}
				for _, p := range deliverWithProps(props, []byte(`{"t":21.5}`)) {
					if string(p.Properties.ContentType) != ct {
						Failf(fmt.Sprintf("Content Type %q", ct), "%s", DescribePacket(p, v))
					}
				}
			})

		It("forwards the Response Topic unaltered",
			Statement(v, "MQTT-3.3.2-15"), func() {
				Requirement("Every subscriber receives the Response Topic exactly as published.")
				rt := Topic("Long-Home", "Wohnzimmer", "antwort")
				props := packet.Properties{ResponseTopic: []byte(rt)}
				for _, p := range deliverWithProps(props, []byte("request")) {
					if string(p.Properties.ResponseTopic) != rt {
						Failf(fmt.Sprintf("Response Topic %q", rt), "%s", DescribePacket(p, v))
					}
				}
			})

		It("forwards Correlation Data unaltered",
			Statement(v, "MQTT-3.3.2-16"), func() {
				Requirement("Every subscriber receives the Correlation Data bytes exactly as published, binary included.")
				cd := []byte{0x00, 0xFF, 0xFE, 0x80, 'i', 'd', 0x00, 0xC3}
				props := packet.Properties{CorrelationData: cd}
				for _, p := range deliverWithProps(props, []byte("request")) {
					if !bytes.Equal(p.Properties.CorrelationData, cd) {
						Failf(fmt.Sprintf("Correlation Data %x", cd), "%s", DescribePacket(p, v))
					}
				}
			})

		It("forwards every User Property unaltered",
			Statement(v, "MQTT-3.3.2-17"), func() {
				Requirement("Every subscriber receives all the User Properties of the message, repeated names and identical pairs included, each unchanged.")
				props := packet.Properties{User: userPropsSample()}
				want := userPairs(props.User)
				slices.Sort(want)
				for _, p := range deliverWithProps(props, []byte("x")) {
					got := userPairs(p.Properties.User)
					slices.Sort(got)
					if !slices.Equal(got, want) {
						Failf(fmt.Sprintf("the User Properties %v", want), "%v", got)
					}
				}
			})

		It("keeps the order of User Properties",
			Statement(v, "MQTT-3.3.2-18"), func() {
				Requirement("The User Properties reach every subscriber in the order the publisher sent them.")
				props := packet.Properties{User: userPropsSample()}
				want := userPairs(props.User)
				for _, p := range deliverWithProps(props, []byte("x")) {
					if got := userPairs(p.Properties.User); !slices.Equal(got, want) {
						Failf(fmt.Sprintf("the User Properties in the order %v", want), "%v", got)
					}
				}
			})

		It("keeps the message properties of a retained message",
			Statement(v, "MQTT-3.3.2-4", "MQTT-3.3.2-15", "MQTT-3.3.2-16", "MQTT-3.3.2-17", "MQTT-3.3.2-20"), func() {
				Requirement("A subscriber that receives a retained message gets the properties it was published with: Payload Format Indicator, Content Type, Response Topic, Correlation Data and User Properties.")
				topic := Topic("props", "retained")
				pub, ca := ConnectedV5With(packet.Properties{}, Named("publisher"))
				if !ConnackLimitsOf(ca).RetainAvailable {
					Unsupported("the server does not support retained messages")
				}
				props := fullProps(Topic("props", "retained-reply"))
				p := &packet.Publish{Topic: []byte(topic), QoS: 1, Retain: true, Payload: []byte("retained"), Properties: props}
				pub.PublishPacket(p)
				ClearRetained(v, topic)
				sub := Connected(v, Named("subscriber"))
				sub.MustSubscribe(topic, 1)
				got := sub.Receive()
				if msg := propsDiffer(&props, &got.Properties); msg != "" {
					Failf("the retained message with its properties unchanged", "%s: %s", msg, DescribePacket(got, v))
				}
			})

		It("forwards the Message Expiry Interval to a connected subscriber, never longer",
			Statement(v, "MQTT-3.3.2-6"), func() {
				Requirement("A forwarded PUBLISH carries the Message Expiry Interval it was published with, less the time it waited in the server.")
				topic := Topic("expiry", "online")
				sub, _ := ConnectedV5With(packet.Properties{}, Named("subscriber"))
				sub.MustSubscribe(topic, 1)
				pub := Connected(v, Named("publisher"))
				p := &packet.Publish{Topic: []byte(topic), QoS: 1, Payload: []byte("expiring")}
				p.Properties.MessageExpiry = 60
				pub.PublishPacket(p)
				got := sub.Receive()
				if !got.Properties.Has(packet.PropMessageExpiry) || got.Properties.MessageExpiry > 60 || got.Properties.MessageExpiry < 58 {
					Failf("a Message Expiry Interval from 58 to 60 seconds", "%s", DescribePacket(got, v))
				}
			})

		It("reduces the Message Expiry Interval by the time the message waited",
			Statement(v, "MQTT-3.3.2-6"), func() {
				Requirement("A message held for an offline subscriber is forwarded with its Message Expiry Interval less the time it was held.")
				topic := Topic("expiry", "reduced")
				sub := offlineSubscriber(topic)
				pub := Connected(v, Named("publisher"))
				p := &packet.Publish{Topic: []byte(topic), QoS: 1, Payload: []byte("waited")}
				p.Properties.MessageExpiry = 60
				pub.PublishPacket(p)
				waitSeconds(pub, 1100*time.Millisecond)
				back := NewClient(v, Named("subscriber-back"))
				back.ID = sub.ID
				back.ConnectV5With(false, packet.Properties{})
				got := back.Receive()
				if string(got.Payload) != "waited" {
					Failf(`the held message "waited"`, "%s", packet.Summary(got, v))
				}
				if !got.Properties.Has(packet.PropMessageExpiry) || got.Properties.MessageExpiry > 59 || got.Properties.MessageExpiry == 0 {
					Failf("a Message Expiry Interval from 1 to 59 seconds (60 less more than 1 s of waiting)", "%s", DescribePacket(got, v))
				}
			})

		It("does not deliver a message that expired while the subscriber was offline",
			Statement(v, "MQTT-3.3.2-5"), func() {
				Requirement("A message whose Message Expiry Interval passes before the server starts delivering it to a subscriber is deleted for that subscriber.")
				topic := Topic("expiry", "expired")
				sub := offlineSubscriber(topic)
				pub := Connected(v, Named("publisher"))
				pub.Publish(topic, []byte("kept"), 1, false)
				p := &packet.Publish{Topic: []byte(topic), QoS: 1, Payload: []byte("expired")}
				p.Properties.MessageExpiry = 1
				pub.PublishPacket(p)
				// 1 s of expiry plus 1 s for servers that count whole seconds.
				waitSeconds(pub, 2*time.Second)
				back := NewClient(v, Named("subscriber-back"))
				back.ID = sub.ID
				back.ConnectV5With(false, packet.Properties{})
				if got := back.Receive(); string(got.Payload) != "kept" {
					Failf(`the held message "kept" (published without expiry)`, "%s", packet.Summary(got, v))
				}
				marker := Sentinel(v, topic)
				if got := back.Receive(); string(got.Payload) != marker {
					Failf("the sentinel, with the expired message deleted", "%s", packet.Summary(got, v))
				}
			})

		It("treats a Subscription Identifier in a client's PUBLISH as a Protocol Error",
			Statement(v, "MQTT-3.3.4-6", "MQTT-4.13.1-1"), func() {
				Requirement("Only the server puts Subscription Identifiers on PUBLISH; one from a client is a Protocol Error: DISCONNECT 0x82 (or 0x81), if any, and the connection closed.")
				topic := Topic("props", "sub-id")
				sub := Connected(v, Named("subscriber"))
				sub.MustSubscribe(topic, 1)
				c := Connected(v, Named("publisher"))
				p := &packet.Publish{Topic: []byte(topic), QoS: 1, PacketID: 1, Payload: []byte("with-sub-id")}
				p.Properties.SubscriptionIDs = []int{7}
				c.Send(p)
				switch d := expectPublishRefused(c); {
				case d == nil:
					Note("the server closed the connection without a DISCONNECT (allowed; DISCONNECT 0x82 is recommended)")
				case d.ReasonCode != packet.ProtocolError && d.ReasonCode != packet.MalformedPacket:
					Failf("DISCONNECT 0x82 Protocol Error (or 0x81 Malformed Packet)", "DISCONNECT %s", d.ReasonCode)
				}
				marker := Sentinel(v, topic)
				if q := sub.Receive(); string(q.Payload) != marker {
					Failf("nothing delivered from the refused PUBLISH (next: the sentinel)", "%s", packet.Summary(q, v))
				}
			})

		It("carries a request and its response with Response Topic and Correlation Data",
			Statement(v, "MQTT-3.3.2-15", "MQTT-3.3.2-16"), func() {
				Requirement("Request/response (4.10): the responder receives the request's Response Topic and Correlation Data unchanged, and the requester receives the response with the Correlation Data it chose.")
				reqTopic, respTopic := Topic("rpc", "request"), Topic("rpc", "response")
				cd := []byte("corr-\x00\x01\x02")
				requester := Connected(v, Named("requester"))
				requester.MustSubscribe(respTopic, 1)
				responder := Connected(v, Named("responder"))
				responder.MustSubscribe(reqTopic, 1)

				req := &packet.Publish{Topic: []byte(reqTopic), QoS: 1, Payload: []byte("wie warm?")}
				req.Properties.ResponseTopic, req.Properties.CorrelationData = []byte(respTopic), cd
				requester.PublishPacket(req)
				got := responder.Receive()
				if string(got.Properties.ResponseTopic) != respTopic || !bytes.Equal(got.Properties.CorrelationData, cd) {
					Failf(fmt.Sprintf("the request with Response Topic %q and Correlation Data %x", respTopic, cd), "%s", DescribePacket(got, v))
				}
				resp := &packet.Publish{Topic: got.Properties.ResponseTopic, QoS: 1, Payload: []byte("21,5")}
				resp.Properties.CorrelationData = got.Properties.CorrelationData
				responder.PublishPacket(resp)
				answer := requester.Receive()
				if string(answer.Topic) != respTopic || !bytes.Equal(answer.Properties.CorrelationData, cd) {
					Failf(fmt.Sprintf("the response on %q with Correlation Data %x", respTopic, cd), "%s", DescribePacket(answer, v))
				}
			})

		It("sends Response Information only to a client that asks for it",
			Statement(v, "MQTT-3.1.2-28"), func() {
				Requirement("Without Request Response Information 1 in CONNECT (absent or 0), the CONNACK carries no Response Information; with 1 the server may return it.")
				_, absent := ConnectedV5With(packet.Properties{}, Named("not-asking"))
				var zero packet.Properties
				zero.Present = zero.Present.With(packet.PropRequestResponseInfo)
				_, explicit := ConnectedV5With(zero, Named("asking-0"))
				for _, ca := range []*packet.Connack{absent, explicit} {
					if ca.Properties.Has(packet.PropResponseInfo) {
						Failf("a CONNACK without Response Information", "%s", DescribePacket(ca, v))
					}
				}
				_, asked := ConnectedV5With(packet.Properties{RequestResponseInfo: 1}, Named("asking-1"))
				if asked.Properties.Has(packet.PropResponseInfo) {
					Note("asked for it, the server returned Response Information %q", asked.Properties.ResponseInfo)
				} else {
					Note("asked for it, the server returned no Response Information (allowed)")
				}
			})

		It("sends no Reason String or User Properties outside PUBLISH, CONNACK and DISCONNECT when problem information is refused",
			Statement(v, "MQTT-3.1.2-29"), func() {
				Requirement("With Request Problem Information 0, acknowledgements (PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK) carry no Reason String and no User Properties, even for error codes.")
				var props packet.Properties
				props.Present = props.Present.With(packet.PropRequestProblemInfo) // explicitly 0
				c, ca := ConnectedV5With(props)
				lim := ConnackLimitsOf(ca)
				var got []packet.Packet
				// No subscriber: PUBACK and PUBREC may carry 0x10.
				c.Send(&packet.Publish{Topic: []byte(Topic("problem", "puback")), QoS: 1, PacketID: 11, Payload: []byte("x")})
				got = append(got, Expect[*packet.Puback](c))
				if lim.MaximumQoS >= 2 {
					c.Send(&packet.Publish{Topic: []byte(Topic("problem", "pubrec")), QoS: 2, PacketID: 12, Payload: []byte("x")})
					got = append(got, Expect[*packet.Pubrec](c))
				}
				// Unknown packet identifiers: PUBCOMP (and perhaps PUBREL) with 0x92.
				c.Send(&packet.Pubrel{PacketID: 4001})
				got = append(got, Expect[*packet.Pubcomp](c))
				got = append(got, c.Subscribe(packet.Subscription{Filter: Topic("problem", "suback"), QoS: 1}))
				c.Send(&packet.Unsubscribe{PacketID: NextPacketID(), Filters: []string{Topic("problem", "never-subscribed")}})
				got = append(got, Expect[*packet.Unsuback](c))
				// Last, as a server may close on it: a PUBREC for an unknown
				// identifier, perhaps answered with PUBREL 0x92.
				if rel := pubrelForUnknownPubrec(c, 4002); rel != nil {
					got = append(got, rel)
				}
				for _, p := range got {
					if _, ok := p.(*packet.Publish); ok {
						continue
					}
					if hasProblemProps(p) {
						Failf(fmt.Sprintf("%s without Reason String or User Properties", p.Type()), "%s", DescribePacket(p, v))
					}
				}
			})
	})
})

// deliverWithProps publishes a QoS 1 message with the given properties to
// two subscribers (one at QoS 0, one at QoS 1) and returns what they got.
func deliverWithProps(props packet.Properties, payload []byte) []*packet.Publish {
	GinkgoHelper()
	const v = packet.V5
	topic := Topic("props")
	sub0 := Connected(v, Named("subscriber-qos0"))
	sub0.MustSubscribe(topic, 0)
	sub1 := Connected(v, Named("subscriber-qos1"))
	sub1.MustSubscribe(topic, 1)
	pub := Connected(v, Named("publisher"))
	pub.PublishPacket(&packet.Publish{Topic: []byte(topic), QoS: 1, Payload: payload, Properties: props})
	return []*packet.Publish{sub0.Receive(), sub1.Receive()}
}

// userPropsSample has repeated names, an identical pair twice, an empty
// value and non-ASCII text, in an order that is not sorted.
func userPropsSample() []packet.UserProperty {
	pairs := [][2]string{{"raum", "Küche"}, {"sensor", "t1"}, {"raum", "Wohnzimmer"}, {"einheit", "°C"},
		{"sensor", "t1"}, {"leer", ""}, {"a", "z"}}
	out := make([]packet.UserProperty, len(pairs))
	for i, p := range pairs {
		out[i] = packet.UserProperty{Key: []byte(p[0]), Value: []byte(p[1])}
	}
	return out
}

func userPairs(ups []packet.UserProperty) []string {
	out := make([]string, len(ups))
	for i, u := range ups {
		out[i] = fmt.Sprintf("%q=%q", u.Key, u.Value)
	}
	return out
}

// fullProps are all the application-message properties a publisher can set.
func fullProps(responseTopic string) packet.Properties {
	return packet.Properties{PayloadFormat: 1, ContentType: []byte("text/plain; charset=utf-8"),
		ResponseTopic: []byte(responseTopic), CorrelationData: []byte{0, 1, 2, 0xFF},
		User: userPropsSample()}
}

// propsDiffer names the first application-message property of want that got
// lacks or changed ("" when none).
func propsDiffer(want, got *packet.Properties) string {
	var diffs []string
	if got.PayloadFormat != want.PayloadFormat {
		diffs = append(diffs, "Payload Format Indicator")
	}
	if !bytes.Equal(got.ContentType, want.ContentType) {
		diffs = append(diffs, "Content Type")
	}
	if !bytes.Equal(got.ResponseTopic, want.ResponseTopic) {
		diffs = append(diffs, "Response Topic")
	}
	if !bytes.Equal(got.CorrelationData, want.CorrelationData) {
		diffs = append(diffs, "Correlation Data")
	}
	if !slices.Equal(userPairs(got.User), userPairs(want.User)) {
		diffs = append(diffs, "User Properties")
	}
	if len(diffs) == 0 {
		return ""
	}
	return "changed or missing: " + strings.Join(diffs, ", ")
}

// offlineSubscriber subscribes a client with a session that outlives the
// connection (expiry 30 s) at QoS 1 to topic, then disconnects it. The
// caller reconnects with its ID and Clean Start 0; that connection's
// Session Expiry 0 ends the session when the spec closes it.
func offlineSubscriber(topic string) *Client {
	GinkgoHelper()
	sub := NewClient(packet.V5, Named("subscriber"))
	sub.ConnectV5With(true, packet.Properties{SessionExpiry: 30})
	sub.MustSubscribe(topic, 1)
	sub.Disconnect()
	return sub
}

// waitSeconds lets a timer of the server run for d, using a bounded read on
// an idle connection (which must stay silent) instead of a sleep.
func waitSeconds(c *Client, d time.Duration) {
	GinkgoHelper()
	if p, err := c.ReadWithin(d); err == nil {
		Failf("no packet on the idle connection", "%s", packet.Summary(p, c.V))
	}
}
