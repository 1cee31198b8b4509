package specs

import (
	"errors"
	"fmt"
	"os"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/mqttspec/mqttspec/reference/packet"
	. "github.com/mqttspec/mqttspec/specs/harness"
)

// Topic aliases: 5.0 sections 3.1.2.11.5, 3.2.2.3.8, 3.3.2.3.4 and 3.3.4.
var _ = Describe("Topic aliases", func() {
	Only(packet.V5, func() {
		const v = packet.V5

		It("applies an alias the client set to a later PUBLISH with an empty topic name",
			Statement(v, "MQTT-3.3.2-12"), func() {
				Requirement("The server accepts every topic alias from 1 to the Topic Alias Maximum it announced: a PUBLISH with a topic name and an alias sets the mapping, a PUBLISH with the alias and an empty topic name goes to the mapped topic.")
				topic := Topic("alias", "set-then-use")
				sub := Connected(v, Named("subscriber"))
				sub.MustSubscribe(topic, 1)
				pub, ca := ConnectedV5With(packet.Properties{}, Named("publisher"))
				if ConnackLimitsOf(ca).TopicAliasMaximum == 0 {
					Unsupported("the server accepts no topic aliases (Topic Alias Maximum 0 or absent)")
				}
				aliasPublish(pub, topic, 1, "set")
				aliasPublish(pub, "", 1, "use")
				expectPayloadsOn(sub, topic, "set", "use")
			})

		It("accepts the highest alias it announced",
			Statement(v, "MQTT-3.3.2-12"), func() {
				Requirement("Every alias up to and including the server's Topic Alias Maximum is valid; the highest one sets and resolves a mapping like any other.")
				topic := Topic("alias", "highest")
				sub := Connected(v, Named("subscriber"))
				sub.MustSubscribe(topic, 1)
				pub, ca := ConnectedV5With(packet.Properties{}, Named("publisher"))
				max := ConnackLimitsOf(ca).TopicAliasMaximum
				if max == 0 {
					Unsupported("the server accepts no topic aliases (Topic Alias Maximum 0 or absent)")
				}
				Note("the server's Topic Alias Maximum is %d", max)
				aliasPublish(pub, topic, uint16(max), "set")
				aliasPublish(pub, "", uint16(max), "use")
				expectPayloadsOn(sub, topic, "set", "use")
			})

		It("remaps an alias that the client sends again with another topic name",
			Statement(v, "MQTT-3.3.2-12"), func() {
				Requirement("A PUBLISH that carries a known alias with a non-empty topic name replaces the alias's mapping; later uses of the alias go to the new topic.")
				first, second := Topic("alias", "first"), Topic("alias", "second")
				sub := Connected(v, Named("subscriber"))
				sub.MustSubscribe(first, 1)
				sub.MustSubscribe(second, 1)
				pub, ca := ConnectedV5With(packet.Properties{}, Named("publisher"))
				if ConnackLimitsOf(ca).TopicAliasMaximum == 0 {
					Unsupported("the server accepts no topic aliases (Topic Alias Maximum 0 or absent)")
				}
				aliasPublish(pub, first, 1, "a")
				aliasPublish(pub, second, 1, "b")
				aliasPublish(pub, "", 1, "c")
				got := map[string][]string{}
				for range 3 {
					p := sub.Receive()
					got[string(p.Topic)] = append(got[string(p.Topic)], string(p.Payload))
				}
				if strings.Join(got[first], ",") != "a" || strings.Join(got[second], ",") != "b,c" {
					Failf(fmt.Sprintf("%q on %s, then %q and %q on %s", "a", first, "b", "c", second),
						"%v on %s, %v on %s", got[first], first, got[second], second)
				}
			})

		It("closes the connection on Topic Alias 0",
			Statement(v, "MQTT-3.3.2-8", "MQTT-4.13.1-1"), func() {
				Requirement("Topic Alias 0 is never valid: a PUBLISH carrying it is a Protocol Error, which the server answers with DISCONNECT 0x94 (Topic Alias invalid), if it sends one, and by closing the connection.")
				c := Connected(v)
				p := &packet.Publish{Topic: []byte(Topic("alias", "zero")), QoS: 1, PacketID: 1, Payload: []byte("zero")}
				p.Properties.Present = p.Properties.Present.With(packet.PropTopicAlias) // value 0
				c.Send(p)
				expectAliasRejected(c, packet.TopicAliasInvalid)
			})

		It("closes the connection on a Topic Alias above its Topic Alias Maximum",
			Statement(v, "MQTT-3.3.2-9", "MQTT-4.13.1-1"), func() {
				Requirement("A client may use aliases only up to the server's Topic Alias Maximum; a larger alias is a Protocol Error, answered with DISCONNECT 0x94 (Topic Alias invalid), if any, and a closed connection.")
				c, ca := ConnectedV5With(packet.Properties{})
				max := ConnackLimitsOf(ca).TopicAliasMaximum
				if max >= 65535 {
					Unsupported("the server's Topic Alias Maximum is 65535: no alias value lies above it")
				}
				Note("the server's Topic Alias Maximum is %d; the spec uses alias %d", max, max+1)
				p := &packet.Publish{Topic: []byte(Topic("alias", "above")), QoS: 1, PacketID: 1, Payload: []byte("above")}
				p.Properties.TopicAlias = uint16(max + 1)
				c.Send(p)
				expectAliasRejected(c, packet.TopicAliasInvalid)
			})

		It("treats an alias used before the client set it as a Protocol Error",
			Statement(v, "MQTT-4.13.1-1"), func() {
				Requirement("A PUBLISH with an empty topic name and an alias the connection has not mapped yet is a Protocol Error: DISCONNECT 0x82, if the server sends one, and the connection closed.")
				c, ca := ConnectedV5With(packet.Properties{})
				if ConnackLimitsOf(ca).TopicAliasMaximum == 0 {
					Unsupported("the server accepts no topic aliases (Topic Alias Maximum 0 or absent)")
				}
				p := &packet.Publish{QoS: 1, PacketID: 1, Payload: []byte("unmapped")}
				p.Properties.TopicAlias = 1
				c.Send(p)
				expectAliasRejected(c, packet.ProtocolError)
			})

		It("does not carry the client's alias mappings into a new connection of the same session",
			Statement(v, "MQTT-3.3.2-7"), func() {
				Requirement("Alias mappings belong to the network connection, not to the session: after a reconnect that resumes the session, an alias set on the earlier connection is unknown, and using it is a Protocol Error.")
				topic := Topic("alias", "per-connection")
				sub := Connected(v, Named("subscriber"))
				sub.MustSubscribe(topic, 1)

				first := NewClient(v, Named("publisher-1"))
				ca := first.ConnectV5With(true, packet.Properties{SessionExpiry: 30})
				if ConnackLimitsOf(ca).TopicAliasMaximum == 0 {
					Unsupported("the server accepts no topic aliases (Topic Alias Maximum 0 or absent)")
				}
				aliasPublish(first, topic, 1, "before")
				expectPayloadsOn(sub, topic, "before")
				first.Disconnect()

				again := NewClient(v, Named("publisher-2"))
				again.ID = first.ID
				ca = again.ConnectV5With(false, packet.Properties{})
				if !ca.SessionPresent {
					Note("the session was not resumed (Session Present 0); the alias must be unknown all the more")
				}
				p := &packet.Publish{QoS: 1, PacketID: 1, Payload: []byte("after")}
				p.Properties.TopicAlias = 1
				again.Send(p)
				expectAliasRejected(again, packet.ProtocolError)

				marker := Sentinel(v, topic)
				if got := sub.Receive(); string(got.Payload) != marker {
					Failf("nothing delivered through the alias of the earlier connection (next: the sentinel)", "%s", packet.Summary(got, v))
				}
			})

		It("sends no topic aliases to a client that accepts none",
			Statement(v, "MQTT-3.1.2-27"), func() {
				Requirement("A client that announces no Topic Alias Maximum, or 0, receives every PUBLISH with its full topic name and no Topic Alias.")
				topic := Topic("alias", "none-accepted")
				absent, _ := ConnectedV5With(packet.Properties{}, Named("no-maximum"))
				var zeroProps packet.Properties
				zeroProps.Present = zeroProps.Present.With(packet.PropTopicAliasMaximum) // explicitly 0
				zero, _ := ConnectedV5With(zeroProps, Named("maximum-0"))
				absent.MustSubscribe(topic, 1)
				zero.MustSubscribe(topic, 1)
				pub := Connected(v, Named("publisher"))
				const n = 5
				for i := range n {
					pub.Publish(topic, []byte(fmt.Sprintf("m%d", i)), 1, false)
				}
				for _, c := range []*Client{absent, zero} {
					for range n {
						p := c.Receive()
						if p.Properties.Has(packet.PropTopicAlias) || string(p.Topic) != topic {
							Failf(fmt.Sprintf("PUBLISH to %s with topic %q and no Topic Alias", c.Name, topic), "%s", packet.Summary(p, v))
						}
					}
				}
			})

		It("never sends a topic alias above the client's Topic Alias Maximum",
			Statement(v, "MQTT-3.1.2-26", "MQTT-3.3.2-11", "MQTT-3.3.2-8"), func() {
				Requirement("Towards a client that accepts aliases, the server uses only aliases from 1 to the client's Topic Alias Maximum, and an alias without a topic name only after setting it on this connection.")
				const clientMax = 2
				base := Topic("alias", "outbound")
				topics := []string{base + "/a", base + "/b", base + "/c", base + "/d"}
				sub, _ := ConnectedV5With(packet.Properties{TopicAliasMaximum: clientMax}, Named("subscriber"))
				for _, t := range topics {
					sub.MustSubscribe(t, 1)
				}
				pub := Connected(v, Named("publisher"))
				for round := range 3 {
					for _, t := range topics {
						pub.Publish(t, []byte(fmt.Sprintf("%s|%d", t, round)), 1, false)
					}
				}
				tr := newAliasTracker(clientMax)
				for range 3 * len(topics) {
					tr.receiveChecked(sub)
				}
				if tr.used == 0 {
					Note("the server sent no topic aliases (it may choose not to)")
				} else {
					Note("the server used topic aliases in %d of %d PUBLISH packets", tr.used, 3*len(topics))
				}
			})

		It("does not rely on alias mappings of an earlier connection when it sends to a resumed session",
			Statement(v, "MQTT-3.3.2-7"), func() {
				Requirement("The server's own alias mappings towards a client end with the connection: on a new connection it sets an alias with a topic name before it sends the alias alone.")
				const clientMax = 2
				base := Topic("alias", "outbound-reconnect")
				topics := []string{base + "/a", base + "/b"}
				sub := NewClient(v, Named("subscriber-1"))
				sub.ConnectV5With(true, packet.Properties{TopicAliasMaximum: clientMax, SessionExpiry: 30})
				for _, t := range topics {
					sub.MustSubscribe(t, 1)
				}
				pub := Connected(v, Named("publisher"))
				publishRound := func(round int) {
					for _, t := range topics {
						pub.Publish(t, []byte(fmt.Sprintf("%s|%d", t, round)), 1, false)
					}
				}
				publishRound(0)
				publishRound(1)
				tr := newAliasTracker(clientMax)
				for range 2 * len(topics) {
					tr.receiveChecked(sub)
				}
				sub.Disconnect()

				again := NewClient(v, Named("subscriber-2"))
				again.ID = sub.ID
				again.ConnectV5With(false, packet.Properties{TopicAliasMaximum: clientMax})
				publishRound(2)
				fresh := newAliasTracker(clientMax)
				for range len(topics) {
					fresh.receiveChecked(again)
				}
				if tr.used+fresh.used == 0 {
					Note("the server sent no topic aliases (it may choose not to)")
				}
			})
	})
})

// aliasPublish sends a QoS 1 PUBLISH with a topic alias (and the topic name,
// unless it is empty) and expects a PUBACK without an error code.
func aliasPublish(c *Client, topic string, alias uint16, payload string) {
	GinkgoHelper()
	p := &packet.Publish{Topic: []byte(topic), QoS: 1, PacketID: NextPacketID(), Payload: []byte(payload)}
	p.Properties.TopicAlias = alias
	c.Send(p)
	got, err := c.Read()
	if err != nil {
		Failf(fmt.Sprintf("PUBACK for the PUBLISH with alias %d", alias), "no PUBACK (%v)", err)
	}
	ack, ok := got.(*packet.Puback)
	if !ok || ack.ReasonCode.IsError() {
		Failf(fmt.Sprintf("PUBACK without an error code for the PUBLISH with alias %d", alias), "%s", packet.Summary(got, c.V))
	}
}

// expectPayloadsOn receives PUBLISH packets on topic with these payloads,
// in order.
func expectPayloadsOn(c *Client, topic string, payloads ...string) {
	GinkgoHelper()
	for _, want := range payloads {
		p := c.Receive()
		if string(p.Topic) != topic || string(p.Payload) != want {
			Failf(fmt.Sprintf("PUBLISH %q on %s", want, topic), "%s", packet.Summary(p, c.V))
		}
	}
}

// expectAliasRejected expects the server to refuse the PUBLISH just sent:
// no acknowledgement, the connection closed, and a DISCONNECT, if one is
// sent, with the given reason code.
func expectAliasRejected(c *Client, want packet.ReasonCode) {
	GinkgoHelper()
	d := expectPublishRefused(c)
	switch {
	case d == nil:
		Note("the server closed the connection without a DISCONNECT (allowed; a DISCONNECT %s is recommended)", want)
	case !d.ReasonCode.IsError():
		Failf(fmt.Sprintf("DISCONNECT %s", want), "DISCONNECT %s", d.ReasonCode)
	case d.ReasonCode != want:
		// The close is required; the code is a recommendation (4.13.1).
		FailShould(fmt.Sprintf("DISCONNECT %s", want), "DISCONNECT %s", d.ReasonCode)
	}
}

// expectPublishRefused reads until the server closes the connection after
// a PUBLISH it must refuse, failing at once if it acknowledges it, and
// returns the DISCONNECT it sent first, if any.
func expectPublishRefused(c *Client) *packet.Disconnect {
	GinkgoHelper()
	var d *packet.Disconnect
	for {
		p, err := c.Read()
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				Failf("the PUBLISH refused and the connection closed", "the connection was still open after %v", Cfg().ReadTimeout)
			}
			return d
		}
		switch p := p.(type) {
		case *packet.Puback, *packet.Pubrec:
			Failf("the PUBLISH refused and the connection closed", "the server acknowledged it: %s", packet.Summary(p, c.V))
		case *packet.Disconnect:
			d = p
		}
	}
}

// aliasTracker resolves the topic aliases a server sends on one connection
// and checks them against the client's Topic Alias Maximum.
type aliasTracker struct {
	max     int
	mapping map[uint16]string
	used    int
}

func newAliasTracker(max int) *aliasTracker {
	return &aliasTracker{max: max, mapping: map[uint16]string{}}
}

// receiveChecked receives one PUBLISH whose payload starts with its topic
// name and a '|', and checks its alias and resolved topic.
func (t *aliasTracker) receiveChecked(c *Client) {
	GinkgoHelper()
	p := c.Receive()
	topic := string(p.Topic)
	want, _, _ := strings.Cut(string(p.Payload), "|")
	if p.Properties.Has(packet.PropTopicAlias) {
		t.used++
		a := p.Properties.TopicAlias
		switch {
		case a == 0 || int(a) > t.max:
			Failf(fmt.Sprintf("Topic Alias from 1 to %d (the client's Topic Alias Maximum)", t.max), "%s", packet.Summary(p, c.V))
		case topic != "":
			t.mapping[a] = topic
		default:
			mapped, ok := t.mapping[a]
			if !ok {
				Failf(fmt.Sprintf("alias %d set with a topic name on this connection before it is used alone", a),
					"%s with no mapping for alias %d on this connection", packet.Summary(p, c.V), a)
			}
			topic = mapped
		}
	}
	if topic != want {
		Failf(fmt.Sprintf("the message published to %s delivered with that topic", want), "%s resolves to topic %q", packet.Summary(p, c.V), topic)
	}
}
