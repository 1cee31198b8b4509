package specs

import (
	"fmt"
	"slices"

	. "github.com/onsi/ginkgo/v2"

	"github.com/mqttspec/mqttspec/reference/packet"
	. "github.com/mqttspec/mqttspec/specs/harness"
)

// MQTT 5.0 subscription identifiers (sections 3.8.2.1.2, 3.3.2.3.8, 3.3.4)
// and the No Local subscription option (section 3.8.3.1).
var _ = Describe("Subscription identifiers and No Local", func() {
	Only(packet.V5, func() {
		const v = packet.V5

		It("sends the Subscription Identifier of the matching subscription with the message",
			Statement(v, "MQTT-3.3.4-3"), func() {
				Requirement("A message delivered because of a subscription made with a Subscription Identifier carries that identifier (here the largest one allowed, 268,435,455).")
				sub := V5RequireSubIDs(Named("subscriber"))
				t := Topic("subid")
				const id = 268435455
				sub.V5MustSubscribeID(id, t, 1)
				pub := Connected(v, Named("publisher"))
				pub.Publish(t, []byte("with-id"), 1, false)
				p := sub.Receive()
				if !slices.Equal(p.Properties.SubscriptionIDs, []int{id}) {
					Failf(fmt.Sprintf("PUBLISH with Subscription Identifier [%d]", id), "Subscription Identifiers %v", p.Properties.SubscriptionIDs)
				}
			})

		It("sends the identifiers of every overlapping subscription that matched",
			Statement(v, "MQTT-3.3.4-3", "MQTT-3.3.4-4", "MQTT-3.3.4-5"), func() {
				Requirement("When two subscriptions of a session with different identifiers match a message, a single copy carries both identifiers; if the server sends one copy per subscription, each carries its own.")
				sub, ca := V5Connected(nil, Named("subscriber"))
				if !Target().Capabilities.SubscriptionIdentifiers || !V5Available(ca, packet.PropSubIDAvailable) {
					Unsupported("Subscription Identifiers are not available")
				}
				if !Target().Capabilities.Wildcards || !V5Available(ca, packet.PropWildcardSubAvailable) {
					Unsupported("overlapping subscriptions need a wildcard filter, and wildcards are not available")
				}
				base := Topic("overlap")
				t := base + "/x"
				sub.V5MustSubscribeID(11, t, 1)
				sub.V5MustSubscribeID(22, base+"/+", 1)
				pub := Connected(v, Named("publisher"))
				pub.Publish(t, []byte("overlapping"), 1, false)
				marker := V5Marker(pub, t)
				got, _ := sub.V5CollectUntil(marker, 8)
				var ids []int
				for _, p := range got {
					if string(p.Payload) != "overlapping" {
						Failf("only the published message before the marker", "%s", packet.Summary(p, v))
					}
					ids = append(ids, p.Properties.SubscriptionIDs...)
				}
				slices.Sort(ids)
				switch len(got) {
				case 0:
					Failf("the message delivered", "only the marker arrived")
				case 1:
					Note("one copy for both subscriptions")
					if !slices.Equal(ids, []int{11, 22}) {
						Failf("one copy carrying Subscription Identifiers 11 and 22", "Subscription Identifiers %v", ids)
					}
				case 2:
					Note("one copy per subscription (the server may send further copies)")
					for _, p := range got {
						if len(p.Properties.SubscriptionIDs) != 1 {
							Failf("each copy carrying the identifier of its own subscription", "a copy with Subscription Identifiers %v", p.Properties.SubscriptionIDs)
						}
					}
					if !slices.Equal(ids, []int{11, 22}) {
						Failf("copies carrying 11 and 22", "Subscription Identifiers %v", ids)
					}
				default:
					Failf("one copy, or one per matching subscription", "%d copies", len(got))
				}
			})

		It("sends each copy with the identifier of the subscription it was sent for",
			Statement(v, "MQTT-3.3.4-5"), func() {
				Requirement("A session with an ordinary and a shared subscription on the same topic receives one copy through each; each copy carries the Subscription Identifier of its own subscription.")
				sub, ca := V5Connected(nil, Named("subscriber"))
				if !Target().Capabilities.SubscriptionIdentifiers || !V5Available(ca, packet.PropSubIDAvailable) {
					Unsupported("Subscription Identifiers are not available")
				}
				if !Target().Capabilities.SharedSubscriptions || !V5Available(ca, packet.PropSharedSubAvailable) {
					Unsupported("Shared Subscriptions are not available")
				}
				t := Topic("copies")
				sub.V5MustSubscribeID(5, t, 1)
				sub.V5MustSubscribeID(6, "$share/mqttspec/"+t, 1)
				pub := Connected(v, Named("publisher"))
				pub.Publish(t, []byte("twice"), 1, false)
				marker := V5Marker(pub, t)
				got, _ := sub.V5CollectUntil(marker, 8)
				switch len(got) {
				case 2:
					var ids []int
					for _, p := range got {
						if len(p.Properties.SubscriptionIDs) != 1 {
							Failf("each copy carrying exactly the identifier of its subscription", "a copy with Subscription Identifiers %v", p.Properties.SubscriptionIDs)
						}
						ids = append(ids, p.Properties.SubscriptionIDs[0])
					}
					slices.Sort(ids)
					if !slices.Equal(ids, []int{5, 6}) {
						Failf("one copy with identifier 5 and one with 6", "identifiers %v", ids)
					}
				case 1:
					ids := slices.Sorted(slices.Values(got[0].Properties.SubscriptionIDs))
					if !slices.Equal(ids, []int{5, 6}) {
						Failf("two copies with identifiers 5 and 6 (or one carrying both)", "one copy with identifiers %v", ids)
					}
					Note("the server merged the shared and the ordinary delivery into one copy carrying both identifiers")
				default:
					Failf("two copies of the message, one per subscription", "%d copies", len(got))
				}
			})

		It("sends the identifier of a shared subscription with the messages it delivers",
			Statement(v, "MQTT-3.3.4-3"), func() {
				Requirement("A message delivered through a shared subscription made with a Subscription Identifier carries that identifier.")
				sub, ca := V5Connected(nil, Named("subscriber"))
				if !Target().Capabilities.SubscriptionIdentifiers || !V5Available(ca, packet.PropSubIDAvailable) {
					Unsupported("Subscription Identifiers are not available")
				}
				if !Target().Capabilities.SharedSubscriptions || !V5Available(ca, packet.PropSharedSubAvailable) {
					Unsupported("Shared Subscriptions are not available")
				}
				t := Topic("shared-id")
				sub.V5MustSubscribeID(4711, "$share/mqttspec/"+t, 1)
				pub := Connected(v, Named("publisher"))
				pub.Publish(t, []byte("shared"), 1, false)
				p := sub.Receive()
				if !slices.Equal(p.Properties.SubscriptionIDs, []int{4711}) {
					Failf("PUBLISH with Subscription Identifier [4711]", "Subscription Identifiers %v", p.Properties.SubscriptionIDs)
				}
			})

		It("uses the identifier of the latest SUBSCRIBE after a subscription is replaced",
			Statement(v, "MQTT-3.3.4-3", "MQTT-3.8.4-3"), func() {
				Requirement("Subscribing again to the same filter with another Subscription Identifier replaces the subscription: later messages carry only the new identifier.")
				sub := V5RequireSubIDs(Named("subscriber"))
				t := Topic("replaced")
				sub.V5MustSubscribeID(1, t, 1)
				sub.V5MustSubscribeID(2, t, 1)
				pub := Connected(v, Named("publisher"))
				pub.Publish(t, []byte("after-replace"), 1, false)
				marker := V5Marker(pub, t)
				got, _ := sub.V5CollectUntil(marker, 8)
				if len(got) != 1 {
					Failf("one copy of the message (one subscription)", "%d copies", len(got))
				}
				if !slices.Equal(got[0].Properties.SubscriptionIDs, []int{2}) {
					Failf("Subscription Identifier [2] (the replacing subscription's)", "Subscription Identifiers %v", got[0].Properties.SubscriptionIDs)
				}
			})

		It("closes the connection on a Subscription Identifier of 0",
			Statement(v, "MQTT-4.13.1-1"), func() {
				Requirement("A Subscription Identifier of 0 is a Protocol Error (section 3.8.2.1.2): the server closes the connection, after DISCONNECT 0x82 if it sends one, and grants nothing.")
				c := Connected(v)
				sp := &packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: Topic("subid-zero"), QoS: 1}}}
				sp.Properties.SubscriptionIDs = []int{0}
				c.Send(sp)
				c.V5ExpectProtocolClose(packet.ProtocolError, packet.MalformedPacket, packet.SubscriptionIdentifiersNotSupported)
			})

		It("refuses a Subscription Identifier when it announces them unavailable",
			Statement(v, "MQTT-4.13.1-1"), func() {
				Requirement("A server that announces Subscription Identifier Available 0 treats a SUBSCRIBE carrying one as a Protocol Error (DISCONNECT 0xA1 and close); the SUBACK code 0xA1 is the per-filter form of the refusal.")
				c, ca := V5Connected(nil)
				if V5Available(ca, packet.PropSubIDAvailable) {
					Unsupported("the target announces Subscription Identifiers as available")
				}
				sp := &packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: Topic("subid-off"), QoS: 1}}}
				sp.Properties.SubscriptionIDs = []int{1}
				c.Send(sp)
				switch p, _ := c.V5Reply(); p := p.(type) {
				case nil:
					Note("the server closed the connection without DISCONNECT")
				case *packet.Disconnect:
					if p.ReasonCode != packet.SubscriptionIdentifiersNotSupported {
						Failf("DISCONNECT 0xA1 Subscription Identifiers not supported", "DISCONNECT %s", p.ReasonCode)
					}
				case *packet.Suback:
					if len(p.ReasonCodes) != 1 || p.ReasonCodes[0] != packet.SubscriptionIdentifiersNotSupported {
						Failf("SUBACK 0xA1 Subscription Identifiers not supported (or DISCONNECT 0xA1)", "SUBACK %v", p.ReasonCodes)
					}
					Note("the server refused the filter with SUBACK 0xA1 and kept the connection")
				default:
					Failf("DISCONNECT or SUBACK 0xA1", "%s", packet.Summary(p, v))
				}
			})

		It("does not send a client its own messages on a No Local subscription",
			Statement(v, "MQTT-3.8.3-3"), func() {
				Requirement("With No Local set, the server does not forward a message to the connection of the client that published it.")
				c := Connected(v, Named("self"))
				t := Topic("nolocal")
				sa := c.Subscribe(packet.Subscription{Filter: t, QoS: 1, NoLocal: true})
				if len(sa.ReasonCodes) != 1 || sa.ReasonCodes[0].IsError() {
					Failf("the No Local subscription granted", "SUBACK %v", sa.ReasonCodes)
				}
				c.Send(&packet.Publish{Topic: []byte(t), QoS: 1, PacketID: 7, Payload: []byte("own-message")})
				for acked := false; !acked; {
					switch p := c.Next().(type) {
					case *packet.Puback:
						if p.PacketID != 7 || p.ReasonCode.IsError() {
							Failf("PUBACK accepting packet 7", "%s", packet.Summary(p, v))
						}
						acked = true
					case *packet.Publish:
						Failf("no copy of the client's own message", "%s", packet.Summary(p, v))
					default:
						Failf("PUBACK for packet 7", "%s", packet.Summary(p, v))
					}
				}
				sentinel := Sentinel(v, t)
				got, _ := c.V5CollectUntil(sentinel, 4)
				if len(got) > 0 {
					Failf("no copy of the client's own message before the sentinel", "%s", packet.Summary(got[0], v))
				}
			})

		It("closes the connection when No Local is set on a shared subscription",
			Statement(v, "MQTT-3.8.3-4", "MQTT-4.13.1-1"), func() {
				Requirement("No Local on a shared subscription is a Protocol Error: the server closes the connection (after DISCONNECT 0x82 if it sends one) and grants nothing.")
				c := V5RequireShared(nil)
				c.Send(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{
					{Filter: "$share/mqttspec/" + Topic("nolocal-shared"), QoS: 1, NoLocal: true}}})
				c.V5ExpectProtocolClose()
			})
	})
})
