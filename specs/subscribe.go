package specs

import (
	"fmt"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/mqttspec/mqttspec/reference/packet"
	. "github.com/mqttspec/mqttspec/specs/harness"
)

// SUBSCRIBE and SUBACK (3.1.1 and 5.0 sections 3.8, 3.9), UNSUBSCRIBE and
// UNSUBACK (sections 3.10, 3.11), and overlapping subscriptions (3.1.1
// section 3.3.5, 5.0 section 3.3.4). Topic names and filters themselves are
// in topics.go.

// subPacketIDs are the packet identifiers the acknowledgement specs use:
// the second one has a high byte that is not zero, so a broker that mixes
// up the byte order or truncates the identifier shows.
var subPacketIDs = []uint16{0x0102, 0xFE01}

// subClosesOn sends bytes that break a rule of SUBSCRIBE or UNSUBSCRIBE on a
// connected client and expects the broker to close the connection (5.0:
// with a DISCONNECT carrying one of codes, if it sends one).
func subClosesOn(v packet.Version, b []byte, codes ...packet.ReasonCode) {
	GinkgoHelper()
	c := Connected(v)
	c.SendRaw(b)
	ExpectViolationClose(c, v, codes...)
}

// subEncode encodes a packet that our codec can encode even when it breaks
// a rule (the encoder does not validate topic filters or options).
func subEncode(p packet.Packet, v packet.Version) []byte {
	GinkgoHelper()
	b, err := packet.Encode(p, v)
	if err != nil {
		Fail(fmt.Sprintf("cannot encode %s: %v", p.Type(), err))
	}
	return b
}

// subNeedQoS makes the spec unsupported when the target's maximum QoS is
// below q.
func subNeedQoS(v packet.Version, ca *packet.Connack, q packet.QoS) {
	if m := TargetMaxQoS(v, ca); m < q {
		Unsupported("the target's maximum QoS is %d; the spec needs QoS %d", m, q)
	}
}

// subStmts picks the statement list of the version, for specs whose
// statements do not pair up one to one between 3.1.1 and 5.0.
func subStmts(v packet.Version, v311, v5 []string) []string {
	if v == packet.V5 {
		return v5
	}
	return v311
}

// subGrantedOrFailure checks one SUBACK code against the QoS requested:
// a granted QoS no higher than requested, or a failure code.
func subGrantedOrFailure(v packet.Version, rc packet.ReasonCode, requested packet.QoS) bool {
	if rc.IsError() {
		if v == packet.V5 {
			return packet.ReasonAllowed(packet.SUBACK, rc)
		}
		return rc == packet.SubackFailure311
	}
	return rc <= packet.GrantedQoS2 && packet.QoS(rc) <= requested
}

var _ = Describe("SUBSCRIBE and SUBACK", func() {
	ForVersions(func(v packet.Version) {
		It("answers every SUBSCRIBE with a SUBACK carrying its packet identifier",
			Statement(v, "MQTT-3.8.4-1", "MQTT-3.8.4-2", S(v, "MQTT-2.3.1-7", "MQTT-2.2.1-6")), func() {
				Requirement("The server acknowledges each SUBSCRIBE with a SUBACK whose packet identifier is the one of the SUBSCRIBE.")
				c := Connected(v)
				t := Topic()
				for i, id := range subPacketIDs {
					c.Send(&packet.Subscribe{PacketID: id, Subscriptions: []packet.Subscription{{Filter: fmt.Sprintf("%s/%d", t, i)}}})
					sa := Expect[*packet.Suback](c)
					if sa.PacketID != id {
						Failf(fmt.Sprintf("SUBACK with packet identifier 0x%04X", id), "SUBACK with packet identifier 0x%04X", sa.PacketID)
					}
				}
			})

		It("returns one SUBACK code per topic filter, in the order of the filters",
			Statement(v, S(v, "MQTT-3.8.4-5", "MQTT-3.8.4-6"), "MQTT-3.9.3-1"), func() {
				Requirement("A SUBSCRIBE with several filters gets one return/reason code per filter, in the order the filters were sent.")
				c, ca := ConnectedWithAck(v)
				t := Topic()
				req := []packet.QoS{2, 0, 1}
				subs := make([]packet.Subscription, len(req))
				for i, q := range req {
					subs[i] = packet.Subscription{Filter: fmt.Sprintf("%s/q%d-%d", t, q, i), QoS: q}
				}
				sa := c.Subscribe(subs...)
				if len(sa.ReasonCodes) != len(subs) {
					Failf(fmt.Sprintf("%d codes", len(subs)), "%d codes: %v", len(sa.ReasonCodes), sa.ReasonCodes)
				}
				// A code above the QoS requested at its position means the codes
				// are out of order (the filters ask for QoS 2, 0, 1).
				for i, rc := range sa.ReasonCodes {
					if !rc.IsError() && packet.QoS(rc) > req[i] {
						Failf(fmt.Sprintf("code %d at most QoS %d (the QoS filter %d asked for)", i+1, req[i], i+1), "SUBACK %v", sa.ReasonCodes)
					}
				}
				mq := TargetMaxQoS(v, ca)
				for i, rc := range sa.ReasonCodes {
					if want := packet.ReasonCode(min(req[i], mq)); rc != want {
						Note("code %d is %s where %s was asked for (the server may grant less)", i+1, rc, want)
					}
				}
			})

		It("answers each filter with the granted QoS (never above the request) or a failure code",
			Statement(v, S(v, "MQTT-3.8.4-5", "MQTT-3.8.4-7"), "MQTT-3.9.3-2"), func() {
				Requirement("Each SUBACK code is either a granted maximum QoS, at most the one requested, or a failure code the specification defines for SUBACK.")
				c := Connected(v)
				t := Topic()
				for q := packet.QoS(0); q <= 2; q++ {
					sa := c.Subscribe(packet.Subscription{Filter: fmt.Sprintf("%s/%d", t, q), QoS: q})
					if len(sa.ReasonCodes) != 1 {
						Failf("one code", "SUBACK %v", sa.ReasonCodes)
					}
					if rc := sa.ReasonCodes[0]; !subGrantedOrFailure(v, rc, q) {
						Failf(fmt.Sprintf("a granted QoS of at most %d or a failure code", q), "%s", rc)
					}
				}
			})

		It("keeps the order of the SUBACK codes when one filter of several is refused",
			Statement(v, "MQTT-3.9.3-1", S(v, "MQTT-3.8.4-4", "MQTT-3.8.4-5")), func() {
				Requirement("A refused filter in the middle of a SUBSCRIBE gets its failure code at its own position; the filters around it are handled on their own.")
				auth := Target().Auth
				if auth == nil || auth.ACL == nil {
					Unsupported("the target has no ACL fixture to make the server refuse a filter")
				}
				acl := auth.ACL
				c := NewClient(v, At(auth.Endpoint))
				ca := c.Connect(&packet.Connect{CleanStart: true, KeepAlive: 60, Username: acl.User.Username, Password: []byte(acl.User.Password)})
				if ca.ReasonCode != 0 {
					Failf("the ACL fixture's user accepted", "CONNACK %s", ca.ReasonCode)
				}
				own := acl.Prefix + strings.TrimPrefix(ClientID(), "mqttspec-")
				req := []packet.Subscription{{Filter: own + "/a", QoS: 1}, {Filter: acl.DeniedTopic, QoS: 0}, {Filter: own + "/b", QoS: 2}}
				sa := c.Subscribe(req...)
				if len(sa.ReasonCodes) != 3 {
					Failf("3 codes", "SUBACK %v", sa.ReasonCodes)
				}
				rc := sa.ReasonCodes
				if rc[0].IsError() || rc[2].IsError() || packet.QoS(rc[0]) > 1 || packet.QoS(rc[2]) > 2 {
					Failf("granted QoS (at most 1, then at most 2) for the first and third filters", "SUBACK %v", rc)
				}
				if !rc[1].IsError() {
					Note("the server granted the subscription to the denied topic (%s); it may enforce the ACL when delivering instead", rc[1])
				}
			})

		It("handles a SUBSCRIBE with several filters like one SUBSCRIBE per filter",
			Statement(v, S(v, "MQTT-3.8.4-4", "MQTT-3.8.4-5")), func() {
				Requirement("Each filter of a multi-filter SUBSCRIBE becomes a subscription of its own, as if it had been sent alone.")
				sub, ca := ConnectedWithAck(v)
				q := min(1, TargetMaxQoS(v, ca))
				t := Topic()
				levels := []string{"a", "b", "c"}
				subs := make([]packet.Subscription, len(levels))
				for i, l := range levels {
					subs[i] = packet.Subscription{Filter: t + "/" + l, QoS: q}
				}
				sa := sub.Subscribe(subs...)
				for i, rc := range sa.ReasonCodes {
					if rc.IsError() {
						Failf("every filter granted", "code %d is %s", i+1, rc)
					}
				}
				pub := Connected(v)
				for _, l := range levels {
					pub.Publish(t+"/"+l, []byte(l), q, false)
				}
				marker := PublishMarker(pub, t+"/c", q)
				got := ReceiveUntilMarker(sub, marker, 10)
				for _, l := range levels {
					n := 0
					for _, p := range got {
						if string(p.Topic) == t+"/"+l {
							n++
						}
					}
					if n != 1 {
						Failf(fmt.Sprintf("one message on %q", t+"/"+l), "%d: %v", n, Topics(got))
					}
				}
			})

		It("replaces a subscription when the same filter is subscribed again",
			Statement(v, "MQTT-3.8.4-3"), func() {
				Requirement("Subscribing again to a filter the session already has replaces that subscription (here: its maximum QoS) instead of adding a second one.")
				sub, ca := ConnectedWithAck(v)
				subNeedQoS(v, ca, 1)
				t := Topic()
				sub.SubscribeQoS(t, 1)
				if g := sub.SubscribeQoS(t, 0); g != 0 {
					Failf("QoS 0 granted for a QoS 0 request", "QoS %d", g)
				}
				pub := Connected(v)
				pub.Publish(t, []byte("m"), 1, false)
				marker := PublishMarker(pub, t, 1)
				got := ReceiveUntilMarker(sub, marker, 10)
				if len(got) != 1 {
					Failf("one copy of the message (a single subscription)", "%d copies: %v", len(got), Topics(got))
				}
				if got[0].QoS != 0 {
					Failf("the message at QoS 0, the new subscription's maximum", "QoS %d (the old subscription's)", got[0].QoS)
				}
			})

		// The QoS of a delivery is the lower of the published QoS and the
		// subscription's granted maximum, whichever is the lower one.
		for _, tc := range []struct{ sub, pub packet.QoS }{{0, 1}, {1, 2}, {2, 1}, {2, 0}, {0, 2}} {
			It(fmt.Sprintf("delivers a QoS %d message to a QoS %d subscription at QoS %d", tc.pub, tc.sub, min(tc.pub, tc.sub)),
				Statement(v, S(v, "MQTT-3.8.4-6", "MQTT-3.8.4-8")), func() {
					Requirement("A message is forwarded at the lower of the QoS it was published with and the maximum QoS granted for the subscription.")
					sub, ca := ConnectedWithAck(v)
					subNeedQoS(v, ca, max(tc.sub, tc.pub))
					t := Topic()
					g := sub.SubscribeQoS(t, tc.sub)
					pub := Connected(v)
					pub.Publish(t, []byte("m"), tc.pub, false)
					p := sub.Receive()
					if want := min(tc.pub, g); p.QoS != want {
						Failf(fmt.Sprintf("the message at QoS %d (published %d, granted %d)", want, tc.pub, g), "QoS %d", p.QoS)
					}
				})
		}

		// Overlapping subscriptions: the delivery respects the highest QoS
		// of the matching subscriptions, whichever of them carries it.
		for _, wildcardHigher := range []bool{false, true} {
			name := "the exact filter"
			if wildcardHigher {
				name = "the wildcard filter"
			}
			It("respects the highest QoS of overlapping subscriptions when "+name+" has it",
				Statement(v, S(v, "MQTT-3.3.5-1", "MQTT-3.3.4-2")), func() {
					Requirement("When several subscriptions of a client match a message, the server delivers it respecting the highest maximum QoS among them (extra copies at the other subscriptions' QoS are allowed).")
					sub, ca := ConnectedWithAck(v)
					subNeedQoS(v, ca, 1)
					if !WildcardSupport(v, ca) {
						Unsupported("the target does not support wildcard subscriptions")
					}
					hi := TargetMaxQoS(v, ca)
					t := Topic()
					low, high := t+"/x", t+"/#"
					if !wildcardHigher {
						low, high = high, low
					}
					sub.SubscribeQoS(low, 0)
					g := sub.SubscribeQoS(high, hi)
					pub := Connected(v)
					pub.Publish(t+"/x", []byte("m"), hi, false)
					marker := PublishMarker(pub, t+"/x", 1)
					got := ReceiveUntilMarker(sub, marker, 10)
					want := min(hi, g)
					best := packet.QoS(0)
					for _, p := range got {
						if p.QoS > want {
							Failf(fmt.Sprintf("no copy above QoS %d", want), "%v", Topics(got))
						}
						best = max(best, p.QoS)
					}
					if len(got) == 0 || best != want {
						Failf(fmt.Sprintf("a copy at QoS %d (published %d, highest granted %d)", want, hi, g), "%v", Topics(got))
					}
					if len(got) > 1 {
						Note("the server sent %d copies, one per matching subscription (allowed)", len(got))
					}
				})
		}

		It("closes the connection when the SUBSCRIBE fixed-header flags are not 0010",
			Statement(v, "MQTT-3.8.1-1", S(v, "MQTT-2.2.2-2", "MQTT-2.1.3-1")), func() {
				Requirement("SUBSCRIBE must have the flags 0010; other flags make the packet malformed and the server closes the connection.")
				b := subEncode(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: Topic()}}}, v)
				b[0] = 0x80 // flags 0000
				subClosesOn(v, b, packet.MalformedPacket)
			})

		It("closes the connection on a SUBSCRIBE without any topic filter",
			Statement(v, S(v, "MQTT-3.8.3-3", "MQTT-3.8.3-2")), func() {
				Requirement("A SUBSCRIBE must carry at least one topic filter; an empty payload is a protocol violation and the server closes the connection.")
				b := []byte{0x82, 0x02, 0x00, 0x01}
				if v == packet.V5 {
					b = []byte{0x82, 0x03, 0x00, 0x01, 0x00} // empty property set, no payload
				}
				subClosesOn(v, b, packet.ProtocolError, packet.MalformedPacket)
			})

		It("closes the connection when a topic filter is not valid UTF-8",
			Statement(v, "MQTT-3.8.3-1", S(v, "MQTT-1.5.3-1", "MQTT-1.5.4-1")), func() {
				Requirement("Topic filters are UTF-8 strings; a SUBSCRIBE with ill-formed UTF-8 in a filter is malformed and the server closes the connection.")
				b := subEncode(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: Topic() + "/\xC3\x28"}}}, v)
				subClosesOn(v, b, packet.MalformedPacket)
			})
	})

	Only(packet.V311, func() {
		It("closes the connection when reserved bits of the requested QoS byte are set",
			Statement(packet.V311, "MQTT-3-8.3-4"), func() {
				Requirement("The upper six bits of the requested-QoS byte are reserved; a server that finds any of them set treats the SUBSCRIBE as malformed and closes the connection.")
				b := subEncode(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: Topic(), QoS: 1}}}, packet.V311)
				b[len(b)-1] |= 0x04
				subClosesOn(packet.V311, b)
			})

		It("closes the connection when the requested QoS is 3",
			Statement(packet.V311, "MQTT-3-8.3-4"), func() {
				Requirement("A requested QoS of 3 is malformed; the server closes the connection.")
				b := subEncode(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: Topic(), QoS: 3}}}, packet.V311)
				subClosesOn(packet.V311, b)
			})

		It("refuses every wildcard filter when it does not support wildcards",
			Statement(packet.V311, "MQTT-3.8.3-2"), func() {
				Requirement("A server without wildcard support answers every filter containing a wildcard with the failure code 0x80.")
				if Target().Capabilities.Wildcards {
					Unsupported("the target supports wildcard subscriptions")
				}
				c := Connected(packet.V311)
				t := Topic()
				sa := c.Subscribe(packet.Subscription{Filter: t + "/#"}, packet.Subscription{Filter: t + "/+/x"})
				for _, rc := range sa.ReasonCodes {
					if rc != packet.SubackFailure311 {
						Failf("0x80 for both wildcard filters", "SUBACK %v", sa.ReasonCodes)
					}
				}
			})
	})

	Only(packet.V5, func() {
		v := packet.V5
		It("closes the connection with 0x81 when reserved subscription option bits are set",
			Statement(v, "MQTT-3.8.3-5"), func() {
				Requirement("Bits 6 and 7 of the subscription options are reserved; set, they make the SUBSCRIBE malformed and the server closes the connection.")
				b := subEncode(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: Topic(), QoS: 1}}}, v)
				b[len(b)-1] |= 0x40
				subClosesOn(v, b, packet.MalformedPacket)
			})

		It("closes the connection when the requested maximum QoS is 3",
			Statement(v, "MQTT-4.13.1-1"), func() {
				Requirement("A Maximum QoS of 3 in the subscription options is a Protocol Error; the server closes the connection.")
				b := subEncode(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: Topic(), QoS: 3}}}, v)
				subClosesOn(v, b, packet.ProtocolError, packet.MalformedPacket)
			})

		It("refuses wildcard filters with 0xA2 when it announces no wildcard support",
			Statement(v, "MQTT-3.8.4-7", "MQTT-3.9.3-2"), func() {
				Requirement("A server that announces Wildcard Subscription Available 0 refuses a wildcard filter (SUBACK 0xA2, or a DISCONNECT 0xA2 since it is a Protocol Error).")
				c, ca := ConnectedWithAck(v)
				if WildcardSupport(v, ca) {
					Unsupported("the target supports wildcard subscriptions")
				}
				c.Send(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: Topic() + "/#"}}})
				p, err := c.Read()
				if err != nil {
					Note("the server closed the connection without a reason code")
					return
				}
				switch p := p.(type) {
				case *packet.Suback:
					if len(p.ReasonCodes) != 1 || p.ReasonCodes[0] != packet.WildcardSubscriptionsNotSupported {
						Failf("SUBACK 0xA2 Wildcard Subscriptions not supported", "SUBACK %v", p.ReasonCodes)
					}
				case *packet.Disconnect:
					if p.ReasonCode != packet.WildcardSubscriptionsNotSupported {
						Failf("DISCONNECT 0xA2 Wildcard Subscriptions not supported", "DISCONNECT %s", p.ReasonCode)
					}
				default:
					Failf("SUBACK or DISCONNECT 0xA2", "%s", packet.Summary(p, v))
				}
			})

		It("leaves out SUBACK properties that would exceed the client's Maximum Packet Size",
			Statement(v, "MQTT-3.9.2-1", "MQTT-3.9.2-2"), func() {
				Requirement("The server drops a SUBACK Reason String or User Properties that would make the packet larger than the Maximum Packet Size the client declared; the SUBACK itself is still sent.")
				const limit = 64
				// A SUBACK for n filters without properties is 5+n bytes long
				// (fixed header 2, identifier 2, property length 1): fill the
				// limit exactly, so any property is one too many.
				n := limit - 5
				cp := &packet.Connect{CleanStart: true, KeepAlive: 60}
				cp.Properties.MaximumPacketSize = limit
				var c *packet.Connack
				var cl *Client
				filters := make([]packet.Subscription, 0, n)
				own := Topic()
				if auth := Target().Auth; auth != nil && auth.ACL != nil {
					// A refused filter is where servers add a Reason String.
					cl = NewClient(v, At(auth.Endpoint))
					cp.Username, cp.Password = auth.ACL.User.Username, []byte(auth.ACL.User.Password)
					own = auth.ACL.Prefix + strings.TrimPrefix(ClientID(), "mqttspec-")
					filters = append(filters, packet.Subscription{Filter: auth.ACL.DeniedTopic})
				} else {
					cl = NewClient(v)
				}
				c = cl.Connect(cp)
				if c.ReasonCode != 0 {
					Failf("CONNACK 0x00", "CONNACK %s", c.ReasonCode)
				}
				for i := len(filters); i < n; i++ {
					filters = append(filters, packet.Subscription{Filter: fmt.Sprintf("%s/%d", own, i)})
				}
				sa := cl.Subscribe(filters...)
				if size := sa.Size(v); size > limit {
					Failf(fmt.Sprintf("a SUBACK of at most %d bytes", limit), "%d bytes", size)
				}
				if len(sa.ReasonCodes) != n {
					Failf(fmt.Sprintf("%d codes", n), "%d", len(sa.ReasonCodes))
				}
			})
	})
})

var _ = Describe("UNSUBSCRIBE and UNSUBACK", func() {
	ForVersions(func(v packet.Version) {
		It("answers every UNSUBSCRIBE with an UNSUBACK carrying its packet identifier",
			Statement(v, subStmts(v, []string{"MQTT-3.10.4-4", "MQTT-2.3.1-7"}, []string{"MQTT-3.10.4-4", "MQTT-3.10.4-5", "MQTT-2.2.1-6"})...), func() {
				Requirement("The server acknowledges each UNSUBSCRIBE with an UNSUBACK whose packet identifier is the one of the UNSUBSCRIBE.")
				c := Connected(v)
				t := Topic()
				c.MustSubscribe(t, 0)
				for _, id := range subPacketIDs {
					c.Send(&packet.Unsubscribe{PacketID: id, Filters: []string{t}})
					ua := Expect[*packet.Unsuback](c)
					if ua.PacketID != id {
						Failf(fmt.Sprintf("UNSUBACK with packet identifier 0x%04X", id), "UNSUBACK with packet identifier 0x%04X", ua.PacketID)
					}
				}
			})

		It("sends an UNSUBACK even when no subscription was removed",
			Statement(v, "MQTT-3.10.4-5", S(v, "MQTT-3.10.4-4", "MQTT-3.11.3-2")), func() {
				Requirement("An UNSUBSCRIBE for a filter the session does not have is still answered with an UNSUBACK (5.0: with a defined reason code, 0x11 No subscription existed being the fitting one).")
				c := Connected(v)
				ua := c.UnsubscribeFilters(Topic("never"))
				if v == packet.V5 {
					if len(ua.ReasonCodes) != 1 {
						Failf("one reason code", "%v", ua.ReasonCodes)
					}
					if rc := ua.ReasonCodes[0]; rc != packet.NoSubscriptionExisted {
						Note("reason code %s for a filter without subscription; 0x11 No subscription existed says so precisely", rc)
					}
				}
			})

		It("deletes the subscription whose filter is identical and queues no new message for it",
			Statement(v, "MQTT-3.10.4-1", "MQTT-3.10.4-2"), func() {
				Requirement("An UNSUBSCRIBE filter identical to a subscription's deletes it; messages published afterwards are not sent for it.")
				sub, ca := ConnectedWithAck(v)
				q := min(1, TargetMaxQoS(v, ca))
				t := Topic()
				sub.SubscribeQoS(t+"/x", q)
				sub.SubscribeQoS(t+"/marker", q)
				ua := sub.UnsubscribeFilters(t + "/x")
				if v == packet.V5 && (len(ua.ReasonCodes) != 1 || ua.ReasonCodes[0] != packet.Success) {
					Failf("UNSUBACK 0x00 Success", "UNSUBACK %v", ua.ReasonCodes)
				}
				pub := Connected(v)
				pub.Publish(t+"/x", []byte("after unsubscribe"), q, false)
				marker := PublishMarker(pub, t+"/marker", q)
				if got := ReceiveUntilMarker(sub, marker, 10); len(got) > 0 {
					Failf("nothing for the deleted subscription", "%v", Topics(got))
				}
			})

		It("removes nothing when the UNSUBSCRIBE filter matches a subscription only by wildcard or case",
			Statement(v, "MQTT-3.10.4-1"), func() {
				Requirement("UNSUBSCRIBE compares filters character by character: a filter that merely matches, or differs in case or by a trailing '/', deletes no subscription.")
				sub, ca := ConnectedWithAck(v)
				q := min(1, TargetMaxQoS(v, ca))
				wild := WildcardSupport(v, ca)
				t, u := Topic(), Topic("Küche")
				sub.SubscribeQoS(u, q)
				filters := []string{strings.Replace(u, "Küche", "küche", 1), u + "/"}
				if wild {
					sub.SubscribeQoS(t+"/+", q)
					filters = append(filters, t+"/x", t+"/#")
				}
				ua := sub.UnsubscribeFilters(filters...)
				if v == packet.V5 {
					for i, rc := range ua.ReasonCodes {
						if rc == packet.Success {
							Note("reason code %d is 0x00 Success although no subscription had the filter %q", i+1, filters[i])
						}
					}
				}
				pub := Connected(v)
				if wild {
					pub.Publish(t+"/x", []byte("wildcard"), q, false)
				}
				marker := PublishMarker(pub, u, q)
				got := ReceiveUntilMarker(sub, marker, 10)
				if wild && (len(got) != 1 || string(got[0].Payload) != "wildcard") {
					Failf(fmt.Sprintf("the message on %q through the subscription %q", t+"/x", t+"/+"), "%v", Topics(got))
				}
			})

		It("handles an UNSUBSCRIBE with several filters like one UNSUBSCRIBE per filter",
			Statement(v, "MQTT-3.10.4-6"), func() {
				Requirement("Each filter of a multi-filter UNSUBSCRIBE deletes its own subscription, and one UNSUBACK answers them all.")
				sub, ca := ConnectedWithAck(v)
				q := min(1, TargetMaxQoS(v, ca))
				t := Topic()
				for _, l := range []string{"a", "b", "c"} {
					sub.SubscribeQoS(t+"/"+l, q)
				}
				ua := sub.UnsubscribeFilters(t+"/a", t+"/c")
				if v == packet.V5 && !slices.Equal(ua.ReasonCodes, []packet.ReasonCode{packet.Success, packet.Success}) {
					Failf("UNSUBACK [0x00, 0x00]", "UNSUBACK %v", ua.ReasonCodes)
				}
				pub := Connected(v)
				pub.Publish(t+"/a", []byte("a"), q, false)
				pub.Publish(t+"/c", []byte("c"), q, false)
				pub.Publish(t+"/b", []byte("b"), q, false)
				marker := PublishMarker(pub, t+"/b", q)
				got := ReceiveUntilMarker(sub, marker, 10)
				if len(got) != 1 || string(got[0].Topic) != t+"/b" {
					Failf(fmt.Sprintf("only the message on %q", t+"/b"), "%v", Topics(got))
				}
			})

		It("completes a QoS 2 delivery it had started before the UNSUBSCRIBE",
			Statement(v, "MQTT-3.10.4-3"), func() {
				Requirement("Deleting a subscription does not abandon QoS 1/2 deliveries already under way: the server goes on with the QoS 2 exchange (PUBREC answered with PUBREL).")
				sub, ca := ConnectedWithAck(v)
				subNeedQoS(v, ca, 2)
				t := Topic()
				if g := sub.SubscribeQoS(t, 2); g != 2 {
					Unsupported("the server granted QoS %d, not 2", g)
				}
				pub := Connected(v)
				pub.Publish(t, []byte("m"), 2, false)
				p := Expect[*packet.Publish](sub)
				if p.QoS != 2 {
					Failf("the message at QoS 2", "QoS %d", p.QoS)
				}
				// The delivery is under way (PUBLISH sent, not acknowledged)
				// when the subscription is deleted.
				sub.UnsubscribeFilters(t)
				sub.Send(&packet.Pubrec{PacketID: p.PacketID})
				rel := Expect[*packet.Pubrel](sub)
				if rel.PacketID != p.PacketID || rel.ReasonCode != 0 {
					Failf(fmt.Sprintf("PUBREL for packet identifier %d with code 0x00", p.PacketID), "%s", packet.Summary(rel, v))
				}
				sub.Send(&packet.Pubcomp{PacketID: p.PacketID})
				sub.Ping()
			})

		It("closes the connection when the UNSUBSCRIBE fixed-header flags are not 0010",
			Statement(v, "MQTT-3.10.1-1", S(v, "MQTT-2.2.2-2", "MQTT-2.1.3-1")), func() {
				Requirement("UNSUBSCRIBE must have the flags 0010; other flags make the packet malformed and the server closes the connection.")
				b := subEncode(&packet.Unsubscribe{PacketID: 1, Filters: []string{Topic()}}, v)
				b[0] = 0xA0 // flags 0000
				subClosesOn(v, b, packet.MalformedPacket)
			})

		It("closes the connection on an UNSUBSCRIBE without any topic filter",
			Statement(v, "MQTT-3.10.3-2"), func() {
				Requirement("An UNSUBSCRIBE must carry at least one topic filter; an empty payload is a protocol violation and the server closes the connection.")
				b := []byte{0xA2, 0x02, 0x00, 0x01}
				if v == packet.V5 {
					b = []byte{0xA2, 0x03, 0x00, 0x01, 0x00}
				}
				subClosesOn(v, b, packet.ProtocolError, packet.MalformedPacket)
			})

		It("closes the connection when an UNSUBSCRIBE topic filter is not valid UTF-8",
			Statement(v, "MQTT-3.10.3-1", S(v, "MQTT-1.5.3-1", "MQTT-1.5.4-1")), func() {
				Requirement("UNSUBSCRIBE filters are UTF-8 strings; ill-formed UTF-8 makes the packet malformed and the server closes the connection.")
				b := subEncode(&packet.Unsubscribe{PacketID: 1, Filters: []string{Topic() + "/\xED\xA0\x80"}}, v) // a UTF-16 surrogate
				subClosesOn(v, b, packet.MalformedPacket)
			})
	})

	Only(packet.V5, func() {
		v := packet.V5
		It("returns one UNSUBACK reason code per filter, in the order of the filters",
			Statement(v, "MQTT-3.11.3-1", "MQTT-3.11.3-2"), func() {
				Requirement("UNSUBACK has one reason code per filter of the UNSUBSCRIBE, in the same order, each a defined Unsubscribe reason code.")
				c := Connected(v)
				t := Topic()
				c.MustSubscribe(t+"/a", 0)
				c.MustSubscribe(t+"/c", 0)
				ua := c.UnsubscribeFilters(t+"/a", t+"/b", t+"/c")
				rc := ua.ReasonCodes
				if len(rc) != 3 {
					Failf("3 reason codes", "%v", rc)
				}
				if rc[0] != packet.Success || rc[2] != packet.Success {
					Failf("0x00 Success for the first and third filters (both subscribed)", "%v", rc)
				}
				switch rc[1] {
				case packet.NoSubscriptionExisted:
				case packet.Success:
					Note("0x00 for the filter without subscription: the order is only checked by count")
				default:
					Failf("0x11 No subscription existed for the second filter", "%v", rc)
				}
			})

		It("leaves out UNSUBACK properties that would exceed the client's Maximum Packet Size",
			Statement(v, "MQTT-3.11.2-1", "MQTT-3.11.2-2"), func() {
				Requirement("The server drops an UNSUBACK Reason String or User Properties that would make the packet larger than the Maximum Packet Size the client declared; the UNSUBACK itself is still sent.")
				const limit = 64
				n := limit - 5 // an UNSUBACK without properties is 5+n bytes
				cl := NewClient(v)
				cp := &packet.Connect{CleanStart: true, KeepAlive: 60}
				cp.Properties.MaximumPacketSize = limit
				if ca := cl.Connect(cp); ca.ReasonCode != 0 {
					Failf("CONNACK 0x00", "CONNACK %s", ca.ReasonCode)
				}
				t := Topic()
				filters := make([]string, n)
				for i := range filters {
					// Never subscribed: servers explain "no subscription existed".
					filters[i] = fmt.Sprintf("%s/%d", t, i)
				}
				ua := cl.UnsubscribeFilters(filters...)
				if size := ua.Size(v); size > limit {
					Failf(fmt.Sprintf("an UNSUBACK of at most %d bytes", limit), "%d bytes", size)
				}
				if len(ua.ReasonCodes) != n {
					Failf(fmt.Sprintf("%d reason codes", n), "%d", len(ua.ReasonCodes))
				}
			})
	})
})
