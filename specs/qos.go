package specs

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	paho5 "github.com/eclipse/paho.golang/paho"
	paho3 "github.com/eclipse/paho.mqtt.golang"
	. "github.com/onsi/ginkgo/v2"

	"github.com/mqttspec/mqttspec/brokers"
	"github.com/mqttspec/mqttspec/reference/packet"
	. "github.com/mqttspec/mqttspec/specs/harness"
)

// Quality of service flows, message delivery after a reconnect, message
// receipt and ordering: 3.1.1 and 5.0 sections 4.3-4.6.
var _ = Describe("QoS delivery", func() {
	ForVersions(func(v packet.Version) {
		Context("receiver side (client to server)", func() {
			It("treats a QoS 1 PUBLISH reusing an acknowledged packet identifier as a new message",
				Statement(v, S(v, "MQTT-4.3.2-2", "MQTT-4.3.2-5")), func() {
					Requirement("Once the server has sent PUBACK, a PUBLISH with the same packet identifier is a new application message, even with DUP 1.")
					topic := Topic("reuse1")
					sub := Connected(v, Named("sub"))
					sub.MustSubscribe(topic, 1)
					pub := Connected(v, Named("pub"))
					id := NewPacketID()
					pub.PublishPacket(&packet.Publish{Topic: []byte(topic), Payload: []byte("first"), QoS: 1, PacketID: id})
					pub.PublishPacket(&packet.Publish{Topic: []byte(topic), Payload: []byte("second"), QoS: 1, PacketID: id, Dup: true})
					marker := PublishMarker(pub, topic, 1)
					got := PayloadsOf(ReceiveUntilMarker(sub, marker, 8))
					if !slices.Contains(got, "first") || !slices.Contains(got, "second") {
						Failf(`both "first" and "second" delivered`, "delivered %q", got)
					}
				})

			It("passes a QoS 2 message on once when its PUBLISH is repeated before PUBREL",
				Statement(v, S(v, "MQTT-4.3.3-2", "MQTT-4.3.3-10")), func() {
					Requirement("Until PUBREL arrives, the server answers a repeated QoS 2 PUBLISH with PUBREC again and does not deliver the message a second time.")
					sub, ca := ConnectedWithAck(v, Named("sub"))
					RequireQoS(v, ca, 2)
					topic := Topic("once")
					sub.MustSubscribe(topic, 2)
					pub := Connected(v, Named("pub"))
					id := NewPacketID()
					p := &packet.Publish{Topic: []byte(topic), Payload: []byte("exactly once"), QoS: 2, PacketID: id}
					pub.Send(p)
					Expect[*packet.Pubrec](pub)
					again := *p
					again.Dup = true
					pub.Send(&again)
					if r := Expect[*packet.Pubrec](pub); r.PacketID != id {
						Failf(fmt.Sprintf("PUBREC %d for the repeated PUBLISH", id), "PUBREC %d", r.PacketID)
					}
					pub.Send(&packet.Pubrel{PacketID: id})
					Expect[*packet.Pubcomp](pub)
					marker := PublishMarker(pub, topic, 2)
					got := PayloadsOf(ReceiveUntilMarker(sub, marker, 8))
					if n := count(got, "exactly once"); n != 1 {
						Failf("the message delivered once", "delivered %d times (%q)", n, got)
					}
				})

			It("treats a QoS 2 PUBLISH reusing a completed packet identifier as a new message",
				Statement(v, S(v, "MQTT-4.3.3-2", "MQTT-4.3.3-12")), func() {
					Requirement("Once the server has sent PUBCOMP, a PUBLISH with the same packet identifier starts a new QoS 2 exchange for a new message.")
					sub, ca := ConnectedWithAck(v, Named("sub"))
					RequireQoS(v, ca, 2)
					topic := Topic("reuse2")
					sub.MustSubscribe(topic, 2)
					pub := Connected(v, Named("pub"))
					id := NewPacketID()
					pub.PublishPacket(&packet.Publish{Topic: []byte(topic), Payload: []byte("first"), QoS: 2, PacketID: id})
					pub.PublishPacket(&packet.Publish{Topic: []byte(topic), Payload: []byte("second"), QoS: 2, PacketID: id})
					marker := PublishMarker(pub, topic, 2)
					got := PayloadsOf(ReceiveUntilMarker(sub, marker, 8))
					if count(got, "first") != 1 || count(got, "second") != 1 {
						Failf(`"first" and "second" delivered once each`, "delivered %q", got)
					}
				})

			It("completes a QoS 2 exchange that the publisher resumes after reconnecting",
				Statement(v, "MQTT-4.4.0-1", S(v, "MQTT-4.3.3-2", "MQTT-4.3.3-10"), S(v, "MQTT-4.3.3-2", "MQTT-4.3.3-11")), func() {
					Requirement("The server keeps a received QoS 2 message's state in the session: after a reconnect, the publisher's resent PUBLISH (DUP 1) is answered with PUBREC, its PUBREL with PUBCOMP, and the message is delivered once.")
					sub, ca := ConnectedWithAck(v, Named("sub"))
					RequireQoS(v, ca, 2)
					topic := Topic("resume-in")
					sub.MustSubscribe(topic, 2)
					pub, _ := PersistentClient(v, "", Named("pub"))
					id := NewPacketID()
					p := &packet.Publish{Topic: []byte(topic), Payload: []byte("resumed"), QoS: 2, PacketID: id}
					pub.Send(p)
					Expect[*packet.Pubrec](pub)
					pub.Close() // the PUBREC is "lost": the publisher resends
					pub2 := Resume(v, pub.ID, Named("pub2"))
					again := *p
					again.Dup = true
					pub2.Send(&again)
					if r := Expect[*packet.Pubrec](pub2); r.PacketID != id || r.ReasonCode.IsError() {
						Failf(fmt.Sprintf("PUBREC %d accepting the resent PUBLISH", id), "%s", packet.Summary(r, v))
					}
					pub2.Send(&packet.Pubrel{PacketID: id})
					pc := Expect[*packet.Pubcomp](pub2)
					if pc.PacketID != id || pc.ReasonCode != packet.Success {
						Failf(fmt.Sprintf("PUBCOMP %d with code 0x00", id), "%s", packet.Summary(pc, v))
					}
					marker := PublishMarker(pub2, topic, 2)
					got := PayloadsOf(ReceiveUntilMarker(sub, marker, 8))
					if n := count(got, "resumed"); n != 1 {
						Failf("the message delivered once", "delivered %d times (%q)", n, got)
					}
				})
		})

		Context("sender side (server to client)", func() {
			It("sends a new QoS 1 message with DUP 0",
				Statement(v, S(v, "MQTT-4.3.2-1", "MQTT-4.3.2-2")), func() {
					Requirement("The first transmission of a QoS 1 message to a subscriber has QoS 1 and DUP 0.")
					topic := Topic("new1")
					sub := Connected(v, Named("sub"))
					sub.MustSubscribe(topic, 1)
					Connected(v, Named("pub")).Publish(topic, []byte("x"), 1, false)
					p := sub.Receive()
					if p.QoS != 1 || p.Dup {
						Failf("PUBLISH QoS 1 DUP 0", "QoS %d DUP %v", p.QoS, p.Dup)
					}
				})

			It("sends a new QoS 2 message with DUP 0",
				Statement(v, S(v, "MQTT-4.3.3-1", "MQTT-4.3.3-2")), func() {
					Requirement("The first transmission of a QoS 2 message to a subscriber has QoS 2 and DUP 0.")
					sub, ca := ConnectedWithAck(v, Named("sub"))
					RequireQoS(v, ca, 2)
					topic := Topic("new2")
					sub.MustSubscribe(topic, 2)
					Connected(v, Named("pub")).Publish(topic, []byte("x"), 2, false)
					p := sub.Receive()
					if p.QoS != 2 || p.Dup {
						Failf("PUBLISH QoS 2 DUP 0", "QoS %d DUP %v", p.QoS, p.Dup)
					}
				})

			for _, q := range []packet.QoS{1, 2} {
				unacked := S(v, fmt.Sprintf("MQTT-4.3.%d-1", q+1), map[packet.QoS]string{1: "MQTT-4.3.2-3", 2: "MQTT-4.3.3-3"}[q])
				It(fmt.Sprintf("resends an unacknowledged QoS %d message with its packet identifier when the session resumes", q),
					Statement(v, "MQTT-4.4.0-1", unacked), func() {
						Requirement("A QoS > 0 message the subscriber did not acknowledge stays in its session; when the subscriber reconnects without a clean start, the server sends it again with the original packet identifier.")
						r := unackedThenResume(v, q)
						p := Expect[*packet.Publish](r.c)
						if string(p.Payload) != r.payload || p.PacketID != r.id {
							Failf(fmt.Sprintf("PUBLISH %q again with packet identifier %d", r.payload, r.id),
								"PUBLISH %q with packet identifier %d", p.Payload, p.PacketID)
						}
						r.c.Ack(p)
					})

				It(fmt.Sprintf("sets DUP on a QoS %d message it sends again", q),
					Statement(v, "MQTT-3.3.1-1"), func() {
						Requirement("A PUBLISH the server sends again (here after the subscriber reconnected) has DUP 1.")
						r := unackedThenResume(v, q)
						p := Expect[*packet.Publish](r.c)
						if string(p.Payload) != r.payload {
							Failf(fmt.Sprintf("PUBLISH %q again", r.payload), "PUBLISH %q", p.Payload)
						}
						if !p.Dup {
							Failf("DUP 1 on the resent PUBLISH", "DUP 0")
						}
						r.c.Ack(p)
					})
			}

			It("resends PUBREL, not the PUBLISH, when the session resumes before PUBCOMP",
				Statement(v, "MQTT-4.4.0-1", S(v, "MQTT-4.3.3-1", "MQTT-4.3.3-5"), S(v, "MQTT-4.3.3-1", "MQTT-4.3.3-6")), func() {
					Requirement("A PUBREL without PUBCOMP stays unacknowledged in the session and is sent again with its packet identifier on reconnect; the PUBLISH it released is never sent again.")
					sub, ca := PersistentClient(v, "", Named("sub"))
					RequireQoS(v, ca, 2)
					topic := Topic("rel")
					sub.MustSubscribe(topic, 2)
					pub := Connected(v, Named("pub"))
					pub.Publish(topic, []byte("released"), 2, false)
					p := Expect[*packet.Publish](sub)
					sub.Send(&packet.Pubrec{PacketID: p.PacketID})
					rel := Expect[*packet.Pubrel](sub)
					sub.Close() // without PUBCOMP
					again := Resume(v, sub.ID, Named("sub2"))
					switch x := again.Next().(type) {
					case *packet.Pubrel:
						if x.PacketID != rel.PacketID {
							Failf(fmt.Sprintf("PUBREL %d", rel.PacketID), "PUBREL %d", x.PacketID)
						}
						again.Send(&packet.Pubcomp{PacketID: x.PacketID})
					case *packet.Publish:
						Failf(fmt.Sprintf("PUBREL %d", rel.PacketID), "the released PUBLISH again (%q, id %d)", x.Payload, x.PacketID)
					default:
						Failf(fmt.Sprintf("PUBREL %d", rel.PacketID), "%s", packet.Summary(x, v))
					}
					marker := PublishMarker(pub, topic, 1)
					ExpectAbsent(again, marker, "released", "no copy of the released message")
				})
		})

		Context("message receipt", func() {
			It("delivers a message to every client with a matching subscription",
				Statement(v, "MQTT-4.5.0-1"), func() {
					Requirement("A message the server accepted goes to the session of every client whose subscription matches it.")
					topic := Topic("fanout")
					subs := []*Client{Connected(v, Named("sub1")), Connected(v, Named("sub2")), Connected(v, Named("sub3"))}
					for _, s := range subs {
						s.MustSubscribe(topic, 1)
					}
					Connected(v, Named("pub")).Publish(topic, []byte("for all"), 1, false)
					for _, s := range subs {
						if p := s.Receive(); string(p.Payload) != "for all" {
							Failf(`"for all" at `+s.Name, "%q", p.Payload)
						}
					}
				})

			It("keeps a message for a subscriber whose session outlives its connection",
				Statement(v, "MQTT-4.5.0-1"), func() {
					Requirement("A matching subscriber that is offline but has a session receives the message when it reconnects: the message was added to its session.")
					sub, _ := PersistentClient(v, "", Named("sub"))
					topic := Topic("offline")
					sub.MustSubscribe(topic, 1)
					sub.Disconnect()
					Connected(v, Named("pub")).Publish(topic, []byte("while you were away"), 1, false)
					again := Resume(v, sub.ID, Named("sub2"))
					if p := again.Receive(); string(p.Payload) != "while you were away" {
						Failf(`"while you were away"`, "%q", p.Payload)
					}
				})
		})

		Context("ordering", func() {
			for _, q := range []packet.QoS{0, 1, 2} {
				It(fmt.Sprintf("forwards one publisher's QoS %d messages on a topic in the order it received them", q),
					Statement(v, S(v, "MQTT-4.6.0-5", "MQTT-4.6.0-6"), S(v, "MQTT-4.6.0-6", "MQTT-4.6.0-5")), func() {
						Requirement("Topics are ordered by default: a subscriber receives the messages of one publisher, sent at one QoS on one topic, in the order the publisher sent them.")
						sub, ca := ConnectedWithAck(v, Named("sub"))
						RequireQoS(v, ca, q)
						topic := Topic("order")
						sub.MustSubscribe(topic, q)
						pub, pca := ConnectedWithAck(v, Named("pub"))
						n := 20
						if v == packet.V5 && q > 0 && pca.Properties.Has(packet.PropReceiveMaximum) {
							n = min(n, int(pca.Properties.ReceiveMaximum))
						}
						want := Payloads("m", n)
						SendPublishes(pub, topic, q, want...)
						marker := PublishMarker(pub, topic, q)
						got := PayloadsOf(ReceiveUntilMarker(sub, marker, 2*n+2))
						if q == 0 && len(got) < n {
							Note("%d of %d QoS 0 messages arrived (QoS 0 allows loss)", len(got), n)
							if !isSubsequence(got, want) {
								Failf("the messages that arrived in the order sent", "%q", got)
							}
							return
						}
						if !slices.Equal(got, want) {
							Failf(fmt.Sprintf("%q", want), "%q", got)
						}
					})
			}
		})

		Context("a standard client", func() {
			It("publishes and receives at QoS 0, 1 and 2 with Eclipse Paho", Statement(v, "MQTT-4.5.0-1", "MQTT-3.3.4-1"), func() {
				Requirement("A widely used client library connects, subscribes, and exchanges messages at every QoS the server offers.")
				addr := tcpAddress()
				max := Target().Capabilities.MaximumQoS
				if v == packet.V311 {
					pahoV311(addr, max)
				} else {
					pahoV5(addr, max)
				}
			})
		})
	})

	Only(packet.V5, func() {
		v := packet.V5
		Context("acknowledgement with an error", func() {
			It("does not resend a message the subscriber refused with PUBACK 0x80",
				Statement(v, "MQTT-4.4.0-2"), func() {
					Requirement("A PUBACK with a reason code of 0x80 or above acknowledges the message: it is not sent again when the session resumes.")
					sub, _ := PersistentClient(v, "", Named("sub"))
					topic := Topic("refused1")
					sub.MustSubscribe(topic, 1)
					pub := Connected(v, Named("pub"))
					pub.Publish(topic, []byte("refused"), 1, false)
					p := Expect[*packet.Publish](sub)
					sub.Send(&packet.Puback{PacketID: p.PacketID, ReasonCode: packet.UnspecifiedError})
					sub.Ping() // the server has read the PUBACK
					sub.Close()
					again := Resume(v, sub.ID, Named("sub2"))
					marker := PublishMarker(pub, topic, 1)
					ExpectAbsent(again, marker, "refused", "the refused message not sent again")
				})

			It("ends a QoS 2 exchange the subscriber refused with PUBREC 0x80",
				Statement(v, "MQTT-4.4.0-2"), func() {
					Requirement("A PUBREC with a reason code of 0x80 or above acknowledges the message: the server sends no PUBREL and does not send the message again when the session resumes.")
					sub, ca := PersistentClient(v, "", Named("sub"))
					RequireQoS(v, ca, 2)
					topic := Topic("refused2")
					sub.MustSubscribe(topic, 2)
					pub := Connected(v, Named("pub"))
					pub.Publish(topic, []byte("refused"), 2, false)
					p := Expect[*packet.Publish](sub)
					sub.Send(&packet.Pubrec{PacketID: p.PacketID, ReasonCode: packet.UnspecifiedError})
					sub.Send(&packet.Pingreq{})
					switch x := sub.Next().(type) {
					case *packet.Pingresp:
					case *packet.Pubrel:
						Failf("no PUBREL after PUBREC 0x80", "PUBREL %d %s", x.PacketID, x.ReasonCode)
					default:
						Failf("PINGRESP", "%s", packet.Summary(x, v))
					}
					sub.Close()
					again := Resume(v, sub.ID, Named("sub2"))
					marker := PublishMarker(pub, topic, 1)
					ExpectAbsent(again, marker, "refused", "the refused message not sent again")
				})
		})

		Context("refusal by the server", func() {
			It("treats a QoS 2 PUBLISH reusing an identifier it refused with PUBREC 0x80+ as a new message",
				Statement(v, "MQTT-4.3.3-9"), func() {
					Requirement("After the server answered a QoS 2 PUBLISH with a PUBREC of 0x80 or above, the exchange is over: a PUBLISH with the same packet identifier is a new message.")
					RequireQoS(v, nil, 2)
					acl := AuthACL()
					topic := ACLTopic("refused-then-new")
					sub := Login(v, acl.User, Named("sub"))
					if sa := sub.Subscribe(packet.Subscription{Filter: topic, QoS: 2}); sa.ReasonCodes[0].IsError() {
						Failf("the subscription under the ACL prefix granted", "SUBACK %v", sa.ReasonCodes)
					}
					pub := Login(v, acl.User, Named("pub"))
					id := NewPacketID()
					// The ACL lets this user read but not write ReadOnlyTopic.
					pub.Send(&packet.Publish{Topic: []byte(acl.ReadOnlyTopic), Payload: []byte("refused"), QoS: 2, PacketID: id})
					p, err := pub.Read()
					if err != nil {
						Note("the server closed the connection instead of refusing with PUBREC (%v): nothing to reuse", err)
						return
					}
					r, ok := p.(*packet.Pubrec)
					if !ok {
						Failf("PUBREC", "%s", packet.Summary(p, v))
					}
					if !r.ReasonCode.IsError() {
						Note("the server accepted the unauthorised PUBLISH with PUBREC %s (and may drop it): no refusal to test", r.ReasonCode)
						pub.Send(&packet.Pubrel{PacketID: id})
						Expect[*packet.Pubcomp](pub)
						return
					}
					pub.Send(&packet.Publish{Topic: []byte(topic), Payload: []byte("new"), QoS: 2, PacketID: id})
					r2 := Expect[*packet.Pubrec](pub)
					if r2.PacketID != id || r2.ReasonCode.IsError() {
						Failf(fmt.Sprintf("PUBREC %d accepting the new message", id), "%s", packet.Summary(r2, v))
					}
					pub.Send(&packet.Pubrel{PacketID: id})
					if pc := Expect[*packet.Pubcomp](pub); pc.ReasonCode != packet.Success {
						Failf("PUBCOMP 0x00", "PUBCOMP %s", pc.ReasonCode)
					}
					if got := sub.Receive(); string(got.Payload) != "new" {
						Failf(`the new message "new" delivered`, "%q", got.Payload)
					}
				})
		})

		Context("message expiry during a QoS 2 exchange", func() {
			It("completes a QoS 2 exchange whose message expired meanwhile",
				Statement(v, "MQTT-4.3.3-13"), func() {
					Requirement("The server answers PUBREL with PUBCOMP 0x00 for a QoS 2 message it acknowledged with PUBREC, even when the message's expiry interval ran out in between.")
					c, ca := ConnectedWithAck(v)
					RequireQoS(v, ca, 2)
					id := NewPacketID()
					p := &packet.Publish{Topic: []byte(Topic("expiring")), Payload: []byte("x"), QoS: 2, PacketID: id}
					p.Properties.MessageExpiry = 1
					c.Send(p)
					Expect[*packet.Pubrec](c)
					waitQuiet(c, expiryWait)
					c.Send(&packet.Pubrel{PacketID: id})
					pc := Expect[*packet.Pubcomp](c)
					if pc.PacketID != id || pc.ReasonCode != packet.Success {
						Failf(fmt.Sprintf("PUBCOMP %d 0x00", id), "%s", packet.Summary(pc, v))
					}
				})

			It("still sends again a QoS 2 message that expired after it was first sent",
				Statement(v, "MQTT-4.3.3-7"), func() {
					Requirement("Once a QoS 2 PUBLISH has gone out, message expiry no longer applies to it: it is sent again to a resuming subscriber that never acknowledged it.")
					sub, ca := PersistentClient(v, "", Named("sub"))
					RequireQoS(v, ca, 2)
					topic := Topic("expired-inflight")
					sub.MustSubscribe(topic, 2)
					pub := Connected(v, Named("pub"))
					m := &packet.Publish{Topic: []byte(topic), Payload: []byte("in flight"), QoS: 2}
					m.Properties.MessageExpiry = 1
					pub.PublishPacket(m)
					p := Expect[*packet.Publish](sub) // not acknowledged
					waitQuiet(sub, expiryWait)
					sub.Close()
					again := Resume(v, sub.ID, Named("sub2"))
					marker := PublishMarker(pub, topic, 2)
					got := ReceiveUntilMarker(again, marker, 8)
					for _, r := range got {
						if string(r.Payload) == "in flight" {
							if r.PacketID != p.PacketID {
								Failf(fmt.Sprintf("the PUBLISH again with packet identifier %d", p.PacketID), "packet identifier %d", r.PacketID)
							}
							return
						}
					}
					Failf(`"in flight" sent again after the reconnect`, "not sent again (before the marker: %q)", PayloadsOf(got))
				})
		})
	})
})

// redelivery is a subscriber that received one QoS > 0 message, did not
// acknowledge it, dropped the connection and reconnected to its session.
type redelivery struct {
	c       *Client // the subscriber's new connection
	payload string  // of the unacknowledged message
	id      uint16  // its packet identifier on the first delivery
}

func unackedThenResume(v packet.Version, q packet.QoS) redelivery {
	GinkgoHelper()
	sub, ca := PersistentClient(v, "", Named("sub"))
	RequireQoS(v, ca, q)
	topic := Topic("resend")
	sub.MustSubscribe(topic, q)
	Connected(v, Named("pub")).Publish(topic, []byte("unacknowledged"), q, false)
	p := Expect[*packet.Publish](sub)
	sub.Close() // no acknowledgement
	return redelivery{c: Resume(v, sub.ID, Named("sub2")), payload: "unacknowledged", id: p.PacketID}
}

// expiryWait outlasts a Message Expiry Interval of 1 s on a broker that
// counts expiry in whole seconds (Mosquitto does: after 1.1 s a 1 s
// message is sometimes, and after 2.1 s always, expired there).
const expiryWait = 2100 * time.Millisecond

// waitQuiet lets a timer the spec is about run out: a bounded read that
// must see nothing.
func waitQuiet(c *Client, d time.Duration) {
	GinkgoHelper()
	TraceNote("waiting %v for the message expiry interval to run out", d)
	if p, err := c.ReadWithin(d); err == nil {
		Failf(fmt.Sprintf("nothing for %v", d), "%s", packet.Summary(p, c.V))
	}
}

func count(xs []string, x string) int {
	n := 0
	for _, y := range xs {
		if y == x {
			n++
		}
	}
	return n
}

// isSubsequence reports whether got lists elements of want in want's order.
func isSubsequence(got, want []string) bool {
	i := 0
	for _, g := range got {
		for i < len(want) && want[i] != g {
			i++
		}
		if i == len(want) {
			return false
		}
		i++
	}
	return true
}

// tcpAddress is the target's host:port for Paho, which this suite dials
// over plain TCP only.
func tcpAddress() string {
	GinkgoHelper()
	u, err := url.Parse(Target().Endpoint.URL)
	if err != nil || (u.Scheme != "tcp" && u.Scheme != "mqtt") {
		Unsupported("the Paho specs dial plain TCP endpoints; the target's endpoint is %q", Target().Endpoint.URL)
	}
	return u.Host
}

const pahoTopicLevel = "Küche"

func pahoV311(addr string, maxQoS packet.QoS) {
	GinkgoHelper()
	timeout := Cfg().ReadTimeout
	base := Topic("paho")
	got := make(chan paho3.Message, 8)
	opts := paho3.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(ClientID()).
		SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(timeout).SetCleanSession(true).
		SetProtocolVersion(4)
	if l := Target().Login; l != nil {
		opts.SetUsername(l.Username).SetPassword(l.Password)
	}
	c := paho3.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(timeout) || tok.Error() != nil {
		Failf("Paho connected", "connect: %v", tok.Error())
	}
	DeferCleanup(func() { c.Disconnect(0) })
	TraceNote("Paho (paho.mqtt.golang) connected to %s; its packets are not in this trace", addr)
	if tok := c.Subscribe(base+"/#", byte(maxQoS), func(_ paho3.Client, m paho3.Message) { got <- m }); !tok.WaitTimeout(timeout) || tok.Error() != nil {
		Failf("Paho subscribed", "subscribe: %v", tok.Error())
	}
	topic := base + "/" + pahoTopicLevel
	for q := byte(0); q <= byte(maxQoS); q++ {
		if tok := c.Publish(topic, q, false, []byte(fmt.Sprintf("qos %d", q))); !tok.WaitTimeout(timeout) || tok.Error() != nil {
			Failf(fmt.Sprintf("Paho published at QoS %d", q), "publish: %v", tok.Error())
		}
	}
	// Messages of different QoS may overtake each other: each payload
	// names the QoS it must arrive at.
	var seen []string
	for range int(maxQoS) + 1 {
		select {
		case m := <-got:
			Observed("Paho received %q on %q at QoS %d", m.Payload(), m.Topic(), m.Qos())
			if m.Topic() != topic || string(m.Payload()) != fmt.Sprintf("qos %d", m.Qos()) || slices.Contains(seen, string(m.Payload())) {
				Failf(fmt.Sprintf("one message per QoS on %q, whose payload names its QoS", topic),
					"%q on %q at QoS %d", m.Payload(), m.Topic(), m.Qos())
			}
			seen = append(seen, string(m.Payload()))
		case <-time.After(timeout):
			Failf("every message delivered to Paho", "only %s within %v", strings.Join(seen, ", "), timeout)
		}
	}
}

func pahoV5(addr string, maxQoS packet.QoS) {
	GinkgoHelper()
	timeout := Cfg().ReadTimeout
	ctx, cancel := context.WithTimeout(context.Background(), 3*timeout)
	DeferCleanup(cancel)
	conn, err := brokers.Dial(ctx, brokers.Endpoint{URL: "tcp://" + addr}, nil)
	if err != nil {
		Failf("a TCP connection", "%v", err)
	}
	DeferCleanup(func() { conn.Close() })
	got := make(chan *paho5.Publish, 8)
	c := paho5.NewClient(paho5.ClientConfig{Conn: conn, OnPublishReceived: []func(paho5.PublishReceived) (bool, error){
		func(pr paho5.PublishReceived) (bool, error) { got <- pr.Packet; return true, nil }}})
	cp := &paho5.Connect{ClientID: ClientID(), CleanStart: true, KeepAlive: 30}
	if l := Target().Login; l != nil {
		cp.Username, cp.UsernameFlag = l.Username, true
		cp.Password, cp.PasswordFlag = []byte(l.Password), l.Password != ""
	}
	ca, err := c.Connect(ctx, cp)
	if err != nil || ca.ReasonCode != 0 {
		Failf("Paho connected", "connect: %v (%+v)", err, ca)
	}
	DeferCleanup(func() { c.Disconnect(&paho5.Disconnect{}) })
	TraceNote("Paho (paho.golang) connected to %s; its packets are not in this trace", addr)
	if ca.Properties != nil && ca.Properties.MaximumQoS != nil && packet.QoS(*ca.Properties.MaximumQoS) < maxQoS {
		maxQoS = packet.QoS(*ca.Properties.MaximumQoS)
	}
	base := Topic("paho")
	if _, err := c.Subscribe(ctx, &paho5.Subscribe{Subscriptions: []paho5.SubscribeOptions{{Topic: base + "/#", QoS: byte(maxQoS)}}}); err != nil {
		Failf("Paho subscribed", "subscribe: %v", err)
	}
	topic := base + "/" + pahoTopicLevel
	for q := byte(0); q <= byte(maxQoS); q++ {
		if _, err := c.Publish(ctx, &paho5.Publish{Topic: topic, QoS: q, Payload: []byte(fmt.Sprintf("qos %d", q))}); err != nil {
			Failf(fmt.Sprintf("Paho published at QoS %d", q), "publish: %v", err)
		}
	}
	// QoS 0 may overtake: compare as a set of (payload, QoS).
	var seen []string
	for range int(maxQoS) + 1 {
		select {
		case m := <-got:
			Observed("Paho received %q on %q at QoS %d", m.Payload, m.Topic, m.QoS)
			if m.Topic != topic || string(m.Payload) != fmt.Sprintf("qos %d", m.QoS) || slices.Contains(seen, string(m.Payload)) {
				Failf(fmt.Sprintf("one message per QoS on %q, whose payload names its QoS", topic), "%q on %q at QoS %d", m.Payload, m.Topic, m.QoS)
			}
			seen = append(seen, string(m.Payload))
		case <-time.After(timeout):
			Failf("every message delivered to Paho", "only %s within %v", strings.Join(seen, ", "), timeout)
		}
	}
}
