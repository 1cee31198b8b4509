package specs

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"

	"github.com/mqttspec/mqttspec/reference/packet"
	. "github.com/mqttspec/mqttspec/specs/harness"
)

// MQTT 5.0 shared subscriptions (section 4.8.2).
var _ = Describe("Shared subscriptions", func() {
	Only(packet.V5, func() {
		const v = packet.V5

		It("refuses a shared subscription with an empty ShareName",
			Statement(v, "MQTT-4.8.2-1"), func() {
				Requirement("A shared subscription filter is '$share/', a ShareName of at least one character, '/', and a topic filter; '$share//...' is not a valid filter and is not granted.")
				c := V5RequireShared(nil)
				v5shExpectRefused(c, "$share//"+Topic("empty-name"))
			})

		It("refuses a ShareName that contains a wildcard",
			Statement(v, "MQTT-4.8.2-2"), func() {
				Requirement("A ShareName contains no '/', '+' or '#': '$share/+/...' (a valid filter if it were not shared) is not granted.")
				c := V5RequireShared(nil)
				v5shExpectRefused(c, "$share/+/"+Topic("wild-name"))
			})

		It("refuses a shared subscription without a topic filter after the ShareName",
			Statement(v, "MQTT-4.8.2-2"), func() {
				Requirement("The ShareName is followed by '/' and a topic filter: '$share/{name}' alone is not granted.")
				c := V5RequireShared(nil)
				v5shExpectRefused(c, "$share/mqttspec-"+ClientID())
			})

		It("gives each message to one member, at the QoS granted to that member",
			Statement(v, "MQTT-4.8.2-3"), func() {
				Requirement("Each message matching a shared subscription goes to one session of the group, at the lower of the published QoS and the QoS granted to that session's subscription.")
				t, m := Topic("work"), Topic("marker")
				members, granted := v5shMembers(t, m, []packet.QoS{0, 2}, 0)
				pub, ca := V5Connected(nil, Named("publisher"))
				qos := v5shMaxQoS(ca)
				const n = 6
				for i := range n {
					pub.Publish(t, fmt.Appendf(nil, "job-%d", i), qos, false)
				}
				marker := V5Marker(pub, m)
				seen := map[string]int{}
				for i, c := range members {
					got, _ := c.V5CollectUntil(marker, n+4)
					Note("%s received %v", c.Name, V5Payloads(got))
					for _, p := range got {
						seen[string(p.Payload)]++
						if want := min(qos, granted[i]); p.QoS != want {
							Failf(fmt.Sprintf("%s receives QoS %d (published %d, granted %d)", c.Name, want, qos, granted[i]), "%s", packet.Summary(p, v))
						}
					}
				}
				for i := range n {
					if k := seen[fmt.Sprintf("job-%d", i)]; k != 1 {
						Failf(fmt.Sprintf("job-%d delivered to exactly one member", i), "delivered %d times", k)
					}
				}
			})

		It("completes a QoS 2 delivery to the same member when it reconnects",
			Statement(v, "MQTT-4.8.2-4"), func() {
				Requirement("When the connection of the member chosen for a QoS 2 message breaks before the exchange completes, the server completes the delivery to that member when it reconnects, and to no other member.")
				t, m := Topic("qos2"), Topic("marker")
				members, _ := v5shMembers(t, m, []packet.QoS{2, 2}, 60)
				pub, ca := V5Connected(nil, Named("publisher"))
				if v5shMaxQoS(ca) < 2 {
					Unsupported("the server's Maximum QoS is below 2")
				}
				pub.Publish(t, []byte("in-flight"), 2, false)
				chosen, other := v5shChosen(members, V5Marker(pub, m))
				chosen.Close() // no PUBREC: the exchange is cut off
				again := NewClient(v, Named(chosen.Name+"-again"))
				ca2 := again.Connect(&packet.Connect{ClientID: chosen.ID, CleanStart: false, KeepAlive: 60})
				DeferCleanup(func() { again.V5EndSession(); other.V5EndSession() })
				if ca2.ReasonCode != 0 || !ca2.SessionPresent {
					Failf("the member's session resumed (Session Present 1, Session Expiry 60 s)", "%s", packet.Summary(ca2, v))
				}
				p := Expect[*packet.Publish](again)
				if string(p.Payload) != "in-flight" || p.QoS != 2 {
					Failf(`the QoS 2 message "in-flight" sent again`, "%s", packet.Summary(p, v))
				}
				again.Ack(p)
				got, _ := other.V5CollectUntil(V5Marker(pub, m), 4)
				if len(got) > 0 {
					Failf("the other member never receives the message", "%s", packet.Summary(got[0], v))
				}
			})

		It("does not give the message to another member when the chosen member's session ends",
			Statement(v, "MQTT-4.8.2-5"), func() {
				Requirement("If the session of the member chosen for a QoS 2 message ends before the member reconnects, the server does not send that message to another member.")
				t, m := Topic("qos2-ended"), Topic("marker")
				members, _ := v5shMembers(t, m, []packet.QoS{2, 2}, 0)
				pub, ca := V5Connected(nil, Named("publisher"))
				if v5shMaxQoS(ca) < 2 {
					Unsupported("the server's Maximum QoS is below 2")
				}
				pub.Publish(t, []byte("orphan"), 2, false)
				chosen, other := v5shChosen(members, V5Marker(pub, m))
				chosen.Close() // Session Expiry 0: the session ends with the connection
				// A clean connection with the same identifier proves the old
				// session is gone before the sentinel is sent.
				again := NewClient(v, Named(chosen.Name+"-again"))
				if ca2 := again.Connect(&packet.Connect{ClientID: chosen.ID, CleanStart: true, KeepAlive: 60}); ca2.ReasonCode != 0 || ca2.SessionPresent {
					Failf("a new session (CONNACK 0x00, Session Present 0)", "%s", packet.Summary(ca2, v))
				}
				got, _ := other.V5CollectUntil(V5Marker(pub, m), 4)
				if len(got) > 0 {
					Failf("the other member never receives the message", "%s", packet.Summary(got[0], v))
				}
			})

		for _, qos := range []packet.QoS{1, 2} {
			ack := map[packet.QoS]string{1: "PUBACK", 2: "PUBREC"}[qos]
			It(fmt.Sprintf("discards a QoS %d message the chosen member refuses with %s 0x80", qos, ack),
				Statement(v, "MQTT-4.8.2-6"), func() {
					Requirement(fmt.Sprintf("A shared message refused with %s 0x80 (or any code of 0x80 or above) is discarded: it is not offered to another member, nor again to the same one.", ack))
					t, m := Topic("refused"), Topic("marker")
					members, _ := v5shMembers(t, m, []packet.QoS{qos, qos}, 0)
					pub, ca := V5Connected(nil, Named("publisher"))
					if v5shMaxQoS(ca) < qos {
						Unsupported("the server's Maximum QoS is below %d", qos)
					}
					pub.Publish(t, []byte("refused"), qos, false)
					chosen, other := v5shChosen(members, V5Marker(pub, m))
					id := chosen.Held.PacketID
					if qos == 1 {
						chosen.Send(&packet.Puback{PacketID: id, ReasonCode: packet.UnspecifiedError})
					} else {
						chosen.Send(&packet.Pubrec{PacketID: id, ReasonCode: packet.UnspecifiedError})
					}
					marker := V5Marker(pub, m)
					for _, c := range []*Client{chosen.Client, other} {
						got, _ := c.V5CollectUntil(marker, 4)
						if len(got) > 0 {
							Failf("the refused message discarded", "%s received %s", c.Name, packet.Summary(got[0], v))
						}
					}
				})
		}

		It("refuses shared subscriptions when it announces them unavailable",
			Statement(v, "MQTT-4.13.1-1"), func() {
				Requirement("A server that announces Shared Subscription Available 0 treats a shared SUBSCRIBE as a Protocol Error (DISCONNECT 0x9E and close); the SUBACK code 0x9E is the per-filter form of the refusal.")
				c, ca := V5Connected(nil)
				if V5Available(ca, packet.PropSharedSubAvailable) {
					Unsupported("the target announces Shared Subscriptions as available")
				}
				c.Send(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: "$share/mqttspec/" + Topic("off"), QoS: 1}}})
				switch p, _ := c.V5Reply(); p := p.(type) {
				case nil:
					Note("the server closed the connection without DISCONNECT")
				case *packet.Disconnect:
					if p.ReasonCode != packet.SharedSubscriptionsNotSupported {
						Failf("DISCONNECT 0x9E Shared Subscriptions not supported", "DISCONNECT %s", p.ReasonCode)
					}
				case *packet.Suback:
					if len(p.ReasonCodes) != 1 || p.ReasonCodes[0] != packet.SharedSubscriptionsNotSupported {
						Failf("SUBACK 0x9E Shared Subscriptions not supported (or DISCONNECT 0x9E)", "SUBACK %v", p.ReasonCodes)
					}
					Note("the server refused the filter with SUBACK 0x9E and kept the connection")
				default:
					Failf("DISCONNECT or SUBACK 0x9E", "%s", packet.Summary(p, v))
				}
			})
	})
})

// v5shMembers connects one member of the share group "$share/mqttspec/t"
// per QoS (with that Session Expiry Interval), each also subscribed at QoS 0
// to the marker topic m. It returns them and the QoS granted to each.
func v5shMembers(t, m string, qos []packet.QoS, expiry uint32) ([]*Client, []packet.QoS) {
	GinkgoHelper()
	var cs []*Client
	var granted []packet.QoS
	for i, q := range qos {
		c := V5RequireShared(func(p *packet.Properties) { p.SessionExpiry = expiry }, Named(fmt.Sprintf("member-%c", 'a'+i)))
		granted = append(granted, c.V5MustSubscribeID(0, "$share/mqttspec/"+t, q))
		c.V5MustSubscribeID(0, m, 0)
		cs = append(cs, c)
	}
	return cs, granted
}

// v5shMaxQoS is the Maximum QoS a CONNACK announces (2 when absent).
func v5shMaxQoS(ca *packet.Connack) packet.QoS {
	if ca.Properties.Has(packet.PropMaximumQoS) {
		return packet.QoS(ca.Properties.MaximumQoS)
	}
	return 2
}

// v5shHeld is the member that received the shared message, with the
// message, not acknowledged.
type v5shHeld struct {
	*Client
	Held *packet.Publish
}

// v5shChosen reads both members up to the marker without acknowledging,
// and returns the one member that received the shared message and the other.
func v5shChosen(members []*Client, marker string) (v5shHeld, *Client) {
	GinkgoHelper()
	var chosen v5shHeld
	var other *Client
	for _, c := range members {
		got := c.V5HoldUntil(marker, 4)
		switch {
		case len(got) == 0:
			other = c
		case len(got) == 1 && chosen.Client == nil:
			chosen = v5shHeld{c, got[0]}
		default:
			Failf("the message delivered to exactly one member", "%s also received %v", c.Name, V5Payloads(got))
		}
	}
	if chosen.Client == nil || other == nil {
		Failf("the message delivered to exactly one member", "no member received it before the marker")
	}
	Note("the server chose %s", chosen.Name)
	return chosen, other
}

// v5shExpectRefused subscribes to an invalid shared filter and expects a
// refusal: a SUBACK failure code, or the connection closed (a 5.0 server
// may treat the filter as a Protocol Error).
func v5shExpectRefused(c *Client, filter string) {
	GinkgoHelper()
	c.Send(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: filter, QoS: 1}}})
	switch p, _ := c.V5Reply(); p := p.(type) {
	case nil:
		Note("the server closed the connection without DISCONNECT")
	case *packet.Disconnect:
		if !p.ReasonCode.IsError() {
			Failf("a refusal (SUBACK or DISCONNECT code of 0x80 or above)", "DISCONNECT %s", p.ReasonCode)
		}
		Note("the server closed the connection with DISCONNECT %s", p.ReasonCode)
	case *packet.Suback:
		if len(p.ReasonCodes) != 1 || !p.ReasonCodes[0].IsError() {
			Failf(fmt.Sprintf("the filter %q refused (SUBACK 0x8F or another failure code)", filter), "SUBACK %v", p.ReasonCodes)
		}
		Note("the server refused the filter with SUBACK %s", p.ReasonCodes[0])
	default:
		Failf("SUBACK with a failure code, or DISCONNECT", "%s", packet.Summary(p, c.V))
	}
}
