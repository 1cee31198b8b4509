package specs

import (
	. "github.com/onsi/ginkgo/v2"

	"github.com/mqttspec/mqttspec/reference/packet"
	. "github.com/mqttspec/mqttspec/specs/harness"
)

// retainedPublisher connects a client that will publish retained messages
// at QoS 1, making the spec unsupported when the target lacks either, and
// clears the retained messages of topics when the spec ends.
func retainedPublisher(v packet.Version, topics ...string) *Client {
	GinkgoHelper()
	c := NewClient(v, Named("publisher"))
	ca := c.MustConnect()
	RequireFeatures(ca, 1, true)
	ClearRetained(v, topics...)
	return c
}

// retainedSubscriber connects a client and subscribes it (at QoS 1 unless
// sub asks for more) with the options of sub.
func retainedSubscriber(v packet.Version, sub packet.Subscription) *Client {
	GinkgoHelper()
	c := Connected(v, Named("subscriber"))
	if sub.QoS == 0 {
		sub.QoS = 1
	}
	c.SubscribeGranted(sub, 0)
	return c
}

// Retained messages: 3.1.1 section 3.3.1.3 (and 3.1.2.4, 3.8.4); 5.0
// section 3.3.1.3 (and the Retain Handling and Retain As Published options
// of 3.8.3.1, 3.8.4).
var _ = Describe("Retained messages", func() {
	ForVersions(func(v packet.Version) {
		It("stores a retained message and sends it to a later subscriber",
			Statement(v, "MQTT-3.3.1-5", S(v, "MQTT-3.3.1-6", "MQTT-3.3.1-9")), func() {
				Requirement("A PUBLISH with RETAIN 1 is kept for its topic; a subscription made afterwards whose filter matches receives it.")
				topic := Topic("retained")
				pub := retainedPublisher(v, topic)
				pub.Publish(topic, []byte("stored"), 1, true)
				sub := retainedSubscriber(v, packet.Subscription{Filter: topic})
				sub.ExpectPayload("stored", "the retained message after SUBACK")
			})

		It("sets RETAIN 1 on a retained message sent because a subscription was made",
			Statement(v, S(v, "MQTT-3.3.1-8", "MQTT-3.3.1-9")), func() {
				Requirement("A retained message sent to a client because it just subscribed carries the RETAIN flag 1.")
				topic := Topic("retained")
				pub := retainedPublisher(v, topic)
				pub.Publish(topic, []byte("stored"), 1, true)
				sub := retainedSubscriber(v, packet.Subscription{Filter: topic})
				got := sub.ExpectPayload("stored", "the retained message after SUBACK")
				if !got.Retain {
					Failf("RETAIN 1 on the retained message", "%s", packet.Summary(got, v))
				}
			})

		It("keeps the QoS of a retained message for new subscribers",
			Statement(v, S(v, "MQTT-3.3.1-5", "MQTT-3.8.4-8")), func() {
				Requirement("A retained message is stored with its QoS: a QoS 1 subscription made later receives a QoS 1 retained message at QoS 1.")
				topic := Topic("retained")
				pub := retainedPublisher(v, topic)
				pub.Publish(topic, []byte("qos1"), 1, true)
				sub := Connected(v, Named("subscriber"))
				sub.SubscribeGranted(packet.Subscription{Filter: topic, QoS: 1}, 1)
				got := sub.ExpectPayload("qos1", "the retained message after SUBACK")
				if got.QoS != 1 {
					Failf("the retained message at QoS 1", "%s", packet.Summary(got, v))
				}
			})

		It("replaces the retained message of a topic with a newer one",
			Statement(v, S(v, "MQTT-3.3.1-7", "MQTT-3.3.1-5")), func() {
				Requirement("A new retained PUBLISH (here at QoS 0) replaces the message retained for its topic: a later subscriber gets only the newer one.")
				topic := Topic("retained")
				pub := retainedPublisher(v, topic)
				pub.Publish(topic, []byte("old"), 1, true)
				pub.Publish(topic, []byte("new"), 0, true)
				pub.Ping() // the QoS 0 PUBLISH has been handled
				sub := retainedSubscriber(v, packet.Subscription{Filter: topic})
				sub.ExpectPayload("new", "the newer retained message only")
				sentinel := Sentinel(v, topic)
				sub.ExpectSentinel(sentinel, "second retained message")
			})

		It("delivers a retained PUBLISH with an empty payload to current subscribers",
			Statement(v, S(v, "MQTT-3.3.1-10", "MQTT-3.3.1-6")), func() {
				Requirement("A retained PUBLISH with a zero-byte payload is forwarded to matching subscriptions like any other message.")
				topic := Topic("retained")
				pub := retainedPublisher(v, topic)
				sub := retainedSubscriber(v, packet.Subscription{Filter: topic})
				pub.Publish(topic, nil, 1, true)
				sub.ExpectPayload("", "the empty retained message forwarded")
			})

		It("removes the retained message of a topic on a retained PUBLISH with an empty payload",
			Statement(v, S(v, "MQTT-3.3.1-10", "MQTT-3.3.1-6")), func() {
				Requirement("A retained PUBLISH with a zero-byte payload deletes the message retained for its topic: a later subscriber gets none.")
				topic := Topic("retained")
				pub := retainedPublisher(v, topic)
				pub.Publish(topic, []byte("to be removed"), 1, true)
				pub.Publish(topic, nil, 1, true)
				sub := retainedSubscriber(v, packet.Subscription{Filter: topic})
				sentinel := Sentinel(v, topic)
				sub.ExpectSentinel(sentinel, "retained message (it was removed)")
			})

		It("never keeps an empty retained message as the retained message",
			Statement(v, S(v, "MQTT-3.3.1-11", "MQTT-3.3.1-7")), func() {
				Requirement("A retained PUBLISH with a zero-byte payload is not itself stored: a later subscriber to a topic with nothing retained receives no empty message.")
				topic := Topic("retained")
				pub := retainedPublisher(v, topic)
				pub.Publish(topic, nil, 1, true)
				sub := retainedSubscriber(v, packet.Subscription{Filter: topic})
				sentinel := Sentinel(v, topic)
				sub.ExpectSentinel(sentinel, "stored empty retained message")
			})

		It("does not store a message published with RETAIN 0",
			Statement(v, S(v, "MQTT-3.3.1-12", "MQTT-3.3.1-8")), func() {
				Requirement("A PUBLISH with RETAIN 0 is not kept as a retained message: a later subscriber does not receive it.")
				topic := Topic("retained")
				pub := retainedPublisher(v, topic)
				pub.Publish(topic, []byte("not retained"), 1, false)
				sub := retainedSubscriber(v, packet.Subscription{Filter: topic})
				sentinel := Sentinel(v, topic)
				sub.ExpectSentinel(sentinel, "retained copy of a RETAIN 0 message")
			})

		It("keeps the retained message when a message with RETAIN 0 is published on its topic",
			Statement(v, S(v, "MQTT-3.3.1-12", "MQTT-3.3.1-8")), func() {
				Requirement("A PUBLISH with RETAIN 0 leaves the message retained for its topic untouched.")
				topic := Topic("retained")
				pub := retainedPublisher(v, topic)
				pub.Publish(topic, []byte("kept"), 1, true)
				pub.Publish(topic, []byte("passing"), 1, false)
				sub := retainedSubscriber(v, packet.Subscription{Filter: topic})
				sub.ExpectPayload("kept", "the retained message, unchanged")
			})

		It("forwards a retained PUBLISH to an existing subscription with RETAIN 0",
			Statement(v, S(v, "MQTT-3.3.1-9", "MQTT-3.3.1-12")), func() {
				Requirement("A message published with RETAIN 1 reaches subscriptions that already existed with RETAIN 0 (5.0: when Retain As Published is 0).")
				topic := Topic("retained")
				pub := retainedPublisher(v, topic)
				sub := retainedSubscriber(v, packet.Subscription{Filter: topic})
				pub.Publish(topic, []byte("live"), 1, true)
				got := sub.ExpectPayload("live", "the retained publication forwarded")
				if got.Retain {
					Failf("RETAIN 0 on a message forwarded to an existing subscription", "%s", packet.Summary(got, v))
				}
			})

		It("keeps retained messages after the publisher's session ends",
			Statement(v, S(v, "MQTT-3.1.2.7", "MQTT-3.3.1-5")), func() {
				Requirement("Retained messages are not part of the session state: they outlive the session of the client that published them.")
				topic := Topic("retained")
				pub := retainedPublisher(v, topic)
				pub.Publish(topic, []byte("outlives"), 1, true)
				pub.DisconnectAndWait(nil) // a clean session: it ends here
				sub := retainedSubscriber(v, packet.Subscription{Filter: topic})
				sub.ExpectPayload("outlives", "the retained message of an ended session")
			})

		It("sends the retained messages again when a subscription is replaced",
			Statement(v, S(v, "MQTT-3.8.4-3", "MQTT-3.8.4-4")), func() {
				Requirement("Subscribing again with the same filter replaces the subscription and sends the matching retained messages again (5.0: with Retain Handling 0).")
				topic := Topic("retained")
				pub := retainedPublisher(v, topic)
				pub.Publish(topic, []byte("again"), 1, true)
				sub := retainedSubscriber(v, packet.Subscription{Filter: topic})
				sub.ExpectPayload("again", "the retained message after the first SUBACK")
				sub.MustSubscribe(topic, 1)
				got := sub.ExpectPayload("again", "the retained message after the second SUBACK")
				if !got.Retain {
					Failf("RETAIN 1 on the re-sent retained message", "%s", packet.Summary(got, v))
				}
			})
	})

	Only(packet.V5, func() {
		v := packet.V5

		It("keeps the publisher's RETAIN flag with Retain As Published 1",
			Statement(v, "MQTT-3.3.1-13"), func() {
				Requirement("A subscription with Retain As Published 1 receives forwarded messages with the RETAIN flag their publisher set.")
				topic := Topic("retained")
				pub := retainedPublisher(v, topic)
				sub := retainedSubscriber(v, packet.Subscription{Filter: topic, QoS: 1, RetainAsPublished: true})
				pub.Publish(topic, []byte("retained"), 1, true)
				if got := sub.ExpectPayload("retained", "the retained publication forwarded"); !got.Retain {
					Failf("RETAIN 1 (as published)", "%s", packet.Summary(got, v))
				}
				pub.Publish(topic, []byte("plain"), 1, false)
				if got := sub.ExpectPayload("plain", "the plain publication forwarded"); got.Retain {
					Failf("RETAIN 0 (as published)", "%s", packet.Summary(got, v))
				}
			})

		It("sends retained messages for a new subscription with Retain Handling 1",
			Statement(v, "MQTT-3.3.1-10"), func() {
				Requirement("With Retain Handling 1 the matching retained messages are sent when the subscription did not exist before.")
				topic := Topic("retained")
				pub := retainedPublisher(v, topic)
				pub.Publish(topic, []byte("first time"), 1, true)
				sub := retainedSubscriber(v, packet.Subscription{Filter: topic, QoS: 1, RetainHandling: 1})
				sub.ExpectPayload("first time", "the retained message for the new subscription")
			})

		It("sends no retained messages for an existing subscription with Retain Handling 1",
			Statement(v, "MQTT-3.3.1-10"), func() {
				Requirement("With Retain Handling 1, subscribing again to an existing subscription sends no retained messages.")
				topic := Topic("retained")
				pub := retainedPublisher(v, topic)
				pub.Publish(topic, []byte("only once"), 1, true)
				sub := retainedSubscriber(v, packet.Subscription{Filter: topic, QoS: 1, RetainHandling: 1})
				sub.ExpectPayload("only once", "the retained message for the new subscription")
				sub.Subscribe(packet.Subscription{Filter: topic, QoS: 1, RetainHandling: 1})
				sentinel := Sentinel(v, topic)
				sub.ExpectSentinel(sentinel, "retained message for the existing subscription")
			})

		It("sends no retained messages with Retain Handling 2",
			Statement(v, "MQTT-3.3.1-11"), func() {
				Requirement("With Retain Handling 2 no retained messages are sent when the subscription is made.")
				topic := Topic("retained")
				pub := retainedPublisher(v, topic)
				pub.Publish(topic, []byte("never"), 1, true)
				sub := retainedSubscriber(v, packet.Subscription{Filter: topic, QoS: 1, RetainHandling: 2})
				sentinel := Sentinel(v, topic)
				sub.ExpectSentinel(sentinel, "retained message with Retain Handling 2")
			})

		It("treats a retained PUBLISH as a protocol error when it has no retained messages",
			Statement(v, "MQTT-3.2.2-14", "MQTT-4.13.1-1"), func() {
				Requirement("A server that announced Retain Available 0 treats a PUBLISH with RETAIN 1 as a Protocol Error and closes the connection, preferably after DISCONNECT 0x9A.")
				c := NewClient(v)
				ca := c.MustConnect()
				p := ca.Properties
				if Target().Capabilities.Retain && !(p.Has(packet.PropRetainAvailable) && p.RetainAvailable == 0) {
					Skip("not applicable: the target supports retained messages")
				}
				c.Send(&packet.Publish{Topic: []byte(Topic("retained")), Payload: []byte("x"), QoS: 0, Retain: true})
				code, sent := c.ExpectDisconnect()
				switch {
				case !sent:
					Note("closed without DISCONNECT")
				case code != packet.RetainNotSupported:
					Note("DISCONNECT %s (0x9A Retain not supported is the recommended code)", code)
				}
			})
	})
})
