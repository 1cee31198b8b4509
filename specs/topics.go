package specs

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/mqttspec/mqttspec/reference/packet"
	. "github.com/mqttspec/mqttspec/specs/harness"
)

// Topic names, topic filters and their matching: 3.1.1 and 5.0 section 4.7.
// 5.0 inserted MQTT-4.7.0-1 (no wildcards in topic names, 3.1.1's
// MQTT-4.7.1-1), so the rules for '#' and '+' are MQTT-4.7.1-2/-3 in 3.1.1
// and MQTT-4.7.1-1/-2 in 5.0.

// topicWildcardSub connects a subscriber and makes the spec unsupported
// when the target does not offer wildcard subscriptions. It returns the
// client and the QoS (at most 1) the spec publishes and subscribes with.
func topicWildcardSub(v packet.Version) (*Client, packet.QoS) {
	GinkgoHelper()
	c, ca := ConnectedWithAck(v)
	if !WildcardSupport(v, ca) {
		Unsupported("the target does not support wildcard subscriptions")
	}
	return c, min(1, TargetMaxQoS(v, ca))
}

// topicPublishAll publishes one message per topic (the payload names the
// topic), then a marker on markerTopic, and returns the topics of what the
// subscriber received before the marker.
func topicPublishAll(v packet.Version, sub *Client, q packet.QoS, topics []string, markerTopic string) []string {
	GinkgoHelper()
	pub := Connected(v)
	for _, t := range topics {
		pub.Publish(t, []byte(t), q, false)
	}
	marker := PublishMarker(pub, markerTopic, q)
	got := ReceiveUntilMarker(sub, marker, 4*len(topics)+4)
	out := make([]string, len(got))
	for i, p := range got {
		out[i] = string(p.Topic)
	}
	return out
}

// topicSameSet reports whether got holds the topics of want, each once.
func topicSameSet(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	seen := map[string]int{}
	for _, g := range got {
		seen[g]++
	}
	for _, w := range want {
		if seen[w] != 1 {
			return false
		}
	}
	return true
}

// topicRejectsFilter subscribes to an invalid filter and expects the
// connection closed (5.0: DISCONNECT with a malformed/protocol/filter code,
// if any).
func topicRejectsFilter(v packet.Version, filter string) {
	GinkgoHelper()
	c := Connected(v)
	c.Send(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: filter}}})
	ExpectViolationClose(c, v, packet.MalformedPacket, packet.ProtocolError, packet.TopicFilterInvalid)
}

// topicRejectsName publishes at QoS 1 to an invalid topic name and expects
// the connection closed (5.0: DISCONNECT with a malformed/protocol/name
// code, if any).
func topicRejectsName(v packet.Version, name string) {
	GinkgoHelper()
	c := Connected(v)
	c.Send(&packet.Publish{QoS: 1, PacketID: 1, Topic: []byte(name), Payload: []byte("x")})
	ExpectViolationClose(c, v, packet.MalformedPacket, packet.ProtocolError, packet.TopicNameInvalid)
}

var _ = Describe("Topic names and topic filters", func() {
	ForVersions(func(v packet.Version) {
		multi := S(v, "MQTT-4.7.1-2", "MQTT-4.7.1-1")
		single := S(v, "MQTT-4.7.1-3", "MQTT-4.7.1-2")
		noWildInNames := S(v, "MQTT-4.7.1-1", "MQTT-4.7.0-1")

		It("matches the parent level and every level below with a trailing '#'",
			Statement(v, multi), func() {
				Requirement("'#' after a '/' at the end of a filter matches the level before it and any number of levels below.")
				sub, q := topicWildcardSub(v)
				t := Topic()
				sub.SubscribeQoS(t+"/#", q)
				want := []string{t, t + "/a", t + "/a/b/c", t + "/", t + "//x"}
				got := topicPublishAll(v, sub, q, want, t+"/m")
				if !topicSameSet(got, want) {
					Failf(fmt.Sprintf("%q each once", want), "%q", got)
				}
			})

		It("matches exactly one level, empty ones included, with '+'",
			Statement(v, single), func() {
				Requirement("'+' matches one whole topic level, which may be empty, and never more or fewer levels.")
				sub, q := topicWildcardSub(v)
				t := Topic()
				sub.SubscribeQoS(t+"/+", q)
				yes := []string{t + "/a", t + "/"}
				no := []string{t, t + "/a/b", t + "//"}
				got := topicPublishAll(v, sub, q, append(append([]string{}, no...), yes...), t+"/m")
				if !topicSameSet(got, yes) {
					Failf(fmt.Sprintf("only %q", yes), "%q", got)
				}
			})

		It("matches '+' inside a filter and in its first level",
			Statement(v, single), func() {
				Requirement("'+' may fill any level, the first one and those between separators, matching exactly one level there.")
				sub, q := topicWildcardSub(v)
				t := Topic()
				// t is mqttspec/<run>/<n>: "+/<run>/<n>/+/x" uses '+' first and inside.
				filter := "+/" + strings.TrimPrefix(t, "mqttspec/") + "/+/x"
				sub.SubscribeQoS(filter, q)
				yes := []string{t + "/a/x", t + "//x"}
				no := []string{t + "/a/b/x", t + "/x", t + "/a/x/y"}
				got := topicPublishAll(v, sub, q, append(append([]string{}, no...), yes...), t+"/m/x")
				if !topicSameSet(got, yes) {
					Failf(fmt.Sprintf("only %q through %q", yes, filter), "%q", got)
				}
			})

		It("accepts '#' and '+' used together",
			Statement(v, multi, single), func() {
				Requirement("A filter may combine '+' levels with a final '#': '+/+/#'-style filters are valid and match accordingly.")
				sub, q := topicWildcardSub(v)
				t := Topic()
				sub.SubscribeQoS(t+"/+/#", q)
				yes := []string{t + "/a", t + "/a/b", t + "/a/b/c"}
				no := []string{t}
				got := topicPublishAll(v, sub, q, append(append([]string{}, no...), yes...), t+"/m")
				if !topicSameSet(got, yes) {
					Failf(fmt.Sprintf("only %q", yes), "%q", got)
				}
			})

		for _, f := range []string{"a#", "#/b", "a/#b", "##"} {
			It(fmt.Sprintf("closes the connection on the misplaced '#' of the filter %q", f),
				Statement(v, multi, S(v, "MQTT-4.8.0-1", "MQTT-4.13.1-1")), func() {
					Requirement("'#' must be the last character of a filter and alone in its level; a SUBSCRIBE breaking this is a protocol violation and the server closes the connection.")
					topicRejectsFilter(v, Topic()+"/"+f)
				})
		}

		for _, f := range []string{"a+", "+b/c", "a/b+c", "++"} {
			It(fmt.Sprintf("closes the connection on the '+' that does not fill its level in %q", f),
				Statement(v, single, S(v, "MQTT-4.8.0-1", "MQTT-4.13.1-1")), func() {
					Requirement("'+' must occupy a whole level of a filter; a SUBSCRIBE breaking this is a protocol violation and the server closes the connection.")
					topicRejectsFilter(v, Topic()+"/"+f)
				})
		}

		It("closes the connection on an UNSUBSCRIBE with a misplaced wildcard",
			Statement(v, multi, S(v, "MQTT-4.8.0-1", "MQTT-4.13.1-1")), func() {
				Requirement("The wildcard rules hold for every topic filter, those of UNSUBSCRIBE too; the server closes the connection on a violation.")
				c := Connected(v)
				c.Send(&packet.Unsubscribe{PacketID: 1, Filters: []string{Topic() + "/a#"}})
				ExpectViolationClose(c, v, packet.MalformedPacket, packet.ProtocolError, packet.TopicFilterInvalid)
			})

		for _, w := range []string{"+", "#"} {
			It(fmt.Sprintf("closes the connection on a PUBLISH whose topic name contains '%s'", w),
				Statement(v, noWildInNames), func() {
					Requirement("Wildcards belong to topic filters only; a topic name containing one is a protocol violation and the server closes the connection.")
					topicRejectsName(v, Topic(w))
				})
		}

		It("does not match topics starting with '$' by the filter '#'",
			Statement(v, "MQTT-4.7.2-1"), func() {
				Requirement("A filter that starts with a wildcard does not match a topic name that starts with '$': '#' never delivers '$' topics.")
				topicDollar(v, func(string) string { return "#" })
			})

		It("does not match topics starting with '$' by a filter starting with '+'",
			Statement(v, "MQTT-4.7.2-1"), func() {
				Requirement("A filter that starts with a wildcard does not match a topic name that starts with '$': '+/...' never delivers '$...' topics.")
				topicDollar(v, func(rest string) string { return "+/" + rest + "/#" })
			})

		It("closes the connection on a zero-length topic filter",
			Statement(v, "MQTT-4.7.3-1", S(v, "MQTT-4.8.0-1", "MQTT-4.13.1-1")), func() {
				Requirement("A topic filter is at least one character long; a SUBSCRIBE with an empty one is a protocol violation and the server closes the connection.")
				topicRejectsFilter(v, "")
			})

		It("closes the connection on a zero-length topic filter in UNSUBSCRIBE",
			Statement(v, "MQTT-4.7.3-1", S(v, "MQTT-4.8.0-1", "MQTT-4.13.1-1")), func() {
				Requirement("A topic filter is at least one character long, in UNSUBSCRIBE too; the server closes the connection on an empty one.")
				c := Connected(v)
				c.Send(&packet.Unsubscribe{PacketID: 1, Filters: []string{""}})
				ExpectViolationClose(c, v, packet.MalformedPacket, packet.ProtocolError, packet.TopicFilterInvalid)
			})

		It("closes the connection on a zero-length topic name",
			Statement(v, "MQTT-4.7.3-1", S(v, "MQTT-4.8.0-1", "MQTT-4.13.1-1")), func() {
				Requirement("A topic name is at least one character long (5.0: unless a Topic Alias stands for it); a PUBLISH with an empty one is a protocol violation and the server closes the connection.")
				topicRejectsName(v, "")
			})

		It("closes the connection on a topic filter containing U+0000",
			Statement(v, "MQTT-4.7.3-2", S(v, "MQTT-1.5.3-2", "MQTT-1.5.4-2")), func() {
				Requirement("Topic filters never contain the null character; a SUBSCRIBE with one is malformed and the server closes the connection.")
				c := Connected(v)
				c.Send(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: Topic() + "/a\x00b"}}})
				ExpectViolationClose(c, v, packet.MalformedPacket)
			})

		It("closes the connection on a topic name containing U+0000",
			Statement(v, "MQTT-4.7.3-2", S(v, "MQTT-1.5.3-2", "MQTT-1.5.4-2")), func() {
				Requirement("Topic names never contain the null character; a PUBLISH with one is malformed and the server closes the connection.")
				c := Connected(v)
				c.Send(&packet.Publish{QoS: 1, PacketID: 1, Topic: []byte(Topic() + "/a\x00b"), Payload: []byte("x")})
				ExpectViolationClose(c, v, packet.MalformedPacket)
			})

		It("handles a topic filter and a topic name of the maximum length, 65,535 bytes",
			Statement(v, "MQTT-4.7.3-3"), func() {
				Requirement("Topic names and filters may be up to 65,535 bytes long (the limit of the length prefix); at that length they are matched and forwarded intact.")
				sub, ca := ConnectedWithAck(v)
				if v == packet.V5 && ca.Properties.Has(packet.PropMaximumPacketSize) && ca.Properties.MaximumPacketSize < 70000 {
					Unsupported("the server's Maximum Packet Size (%d) is below a PUBLISH with a 65,535-byte topic", ca.Properties.MaximumPacketSize)
				}
				t := Topic()
				long := t + "/" + strings.Repeat("k", packet.MaxTopicLength-len(t)-1)
				sa := sub.Subscribe(packet.Subscription{Filter: long})
				if len(sa.ReasonCodes) != 1 {
					Failf("one code", "SUBACK %v", sa.ReasonCodes)
				}
				if sa.ReasonCodes[0].IsError() {
					Note("the server refused the 65,535-byte filter with %s (an implementation limit)", sa.ReasonCodes[0])
					return
				}
				pub := Connected(v)
				pub.Send(&packet.Publish{Topic: []byte(long), Payload: []byte("long")})
				pub.Ping() // the server is still there and has handled the PUBLISH
				p := sub.Receive()
				if string(p.Topic) != long {
					Failf(fmt.Sprintf("the message on the %d-byte topic", len(long)), "a topic of %d bytes", len(p.Topic))
				}
			})

		It("matches topics exactly, without normalising case, separators, spaces or Unicode",
			Statement(v, "MQTT-4.7.3-4"), func() {
				Requirement("Matching compares the strings as they are: no case folding, no Unicode normalisation, no trimming, no collapsing of empty levels.")
				sub, ca := ConnectedWithAck(v)
				q := min(1, TargetMaxQoS(v, ca))
				base := Topic()
				exact := base + "/Küche/Temperatur"
				sub.SubscribeQoS(exact, q)
				variants := []string{
					base + "/küche/Temperatur",       // case
					base + "/KÜCHE/TEMPERATUR",       // case
					base + "/Ku\u0308che/Temperatur", // NFD instead of NFC
					base + "/Küche/Temperatur/",      // trailing separator
					base + "//Küche/Temperatur",      // empty level
					base + "/Küche//Temperatur",      // empty level
					"/" + base + "/Küche/Temperatur", // leading separator
					base + "/Küche/Temperatur ",      // trailing space
					base + "/Küche/ Temperatur",      // leading space
					base + "/K\uFEFFüche/Temperatur", // zero-width no-break space
				}
				got := topicPublishAll(v, sub, q, variants, exact)
				if len(got) > 0 {
					Failf(fmt.Sprintf("nothing but the marker on %q", exact), "%q", got)
				}
			})
	})
})

// topicDollar checks that a filter starting with a wildcard does not
// deliver a '$' topic. A control subscriber with the exact '$' filter
// proves that the broker routes the '$' message at all (otherwise the spec
// is unsupported); only then does the publisher send a marker on the
// matching topic without '$', which must reach the wildcard subscriber
// before anything starting with '$'.
func topicDollar(v packet.Version, filterOf func(rest string) string) {
	GinkgoHelper()
	t := Topic()
	rest := strings.TrimPrefix(t, "mqttspec/")
	dollar := "$mqttspec/" + rest + "/x"
	wild, ca := ConnectedWithAck(v)
	if !WildcardSupport(v, ca) {
		Unsupported("the target does not support wildcard subscriptions")
	}
	q := min(1, TargetMaxQoS(v, ca))
	wild.SubscribeQoS(filterOf(rest), 0)
	ctl := Connected(v, Named("control"))
	if sa := ctl.Subscribe(packet.Subscription{Filter: dollar, QoS: q}); sa.ReasonCodes[0].IsError() {
		Unsupported("the server refuses subscriptions to '$' topics (%s)", sa.ReasonCodes[0])
	}
	pub := Connected(v, Named("publisher"))
	pub.Send(&packet.Publish{QoS: 1, PacketID: 1, Topic: []byte(dollar), Payload: []byte("dollar")})
	ack, err := pub.Read()
	if err != nil {
		Unsupported("the server does not take PUBLISH to a '$' topic from a client")
	}
	if pa, ok := ack.(*packet.Puback); !ok || pa.ReasonCode.IsError() {
		Unsupported("the server does not take PUBLISH to a '$' topic from a client (%s)", packet.Summary(ack, v))
	}
	if _, err := ctl.Read(); err != nil {
		Unsupported("the server does not route a '$' topic published by a client to its exact subscriber")
	}
	marker := PublishMarker(pub, t+"/x", 1)
	for _, p := range ReceiveUntilMarker(wild, marker, 10000) {
		if strings.HasPrefix(string(p.Topic), "$") {
			Failf(fmt.Sprintf("no topic starting with '$' through %q", filterOf(rest)), "PUBLISH on %q", p.Topic)
		}
	}
}
