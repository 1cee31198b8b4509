package harness

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/mqttspec/mqttspec/reference/packet"
)

// Helpers of the subscription and topic specs (specs/subscribe.go,
// specs/topics.go).

// ConnectedWithAck is Connected that also returns the CONNACK, whose 5.0
// properties tell which optional features the server offers.
func ConnectedWithAck(v packet.Version, opts ...ClientOption) (*Client, *packet.Connack) {
	GinkgoHelper()
	c := NewClient(v, opts...)
	ca := c.MustConnect()
	return c, ca
}

// TargetMaxQoS is the highest QoS the target offers: what its profile
// declares, lowered by a 5.0 CONNACK's Maximum QoS.
func TargetMaxQoS(v packet.Version, ca *packet.Connack) packet.QoS {
	q := packet.QoS(2)
	if t := Target(); t != nil {
		q = t.Capabilities.MaximumQoS
	}
	if v == packet.V5 && ca != nil && ca.Properties.Has(packet.PropMaximumQoS) && packet.QoS(ca.Properties.MaximumQoS) < q {
		q = packet.QoS(ca.Properties.MaximumQoS)
	}
	return q
}

// WildcardSupport reports whether the target accepts wildcard topic
// filters: its profile declares it and a 5.0 CONNACK does not deny it.
func WildcardSupport(v packet.Version, ca *packet.Connack) bool {
	if t := Target(); t != nil && !t.Capabilities.Wildcards {
		return false
	}
	if v == packet.V5 && ca != nil && ca.Properties.Has(packet.PropWildcardSubAvailable) {
		return ca.Properties.WildcardSubAvailable != 0
	}
	return true
}

// UnsubscribeFilters sends UNSUBSCRIBE for the filters and returns the
// UNSUBACK, failing the spec when its packet identifier is not the one sent.
func (c *Client) UnsubscribeFilters(filters ...string) *packet.Unsuback {
	GinkgoHelper()
	id := nextPacketID()
	c.Send(&packet.Unsubscribe{PacketID: id, Filters: filters})
	ua := Expect[*packet.Unsuback](c)
	if ua.PacketID != id {
		Failf(fmt.Sprintf("UNSUBACK for packet identifier %d", id), "UNSUBACK for %d", ua.PacketID)
	}
	return ua
}

// SubscribeQoS subscribes to one filter and returns the granted QoS,
// failing the spec when the subscription is refused.
func (c *Client) SubscribeQoS(filter string, qos packet.QoS) packet.QoS {
	GinkgoHelper()
	sa := c.Subscribe(packet.Subscription{Filter: filter, QoS: qos})
	if len(sa.ReasonCodes) != 1 || sa.ReasonCodes[0].IsError() {
		Failf(fmt.Sprintf("the subscription to %q granted", filter), "SUBACK codes %v", sa.ReasonCodes)
	}
	return packet.QoS(sa.ReasonCodes[0])
}

// PublishMarker publishes a marker message on topic from c at the given QoS
// and returns its payload. Sent after the messages a spec is about, on the
// same connection, it bounds what the subscriber has to wait for: once the
// marker arrives, everything routed before it has arrived too.
func PublishMarker(c *Client, topic string, qos packet.QoS) string {
	GinkgoHelper()
	payload := "marker-" + strings.ReplaceAll(ClientID(), "mqttspec-", "")
	c.Publish(topic, []byte(payload), qos, false)
	return payload
}

// ReceiveUntilMarker reads PUBLISH packets on c, acknowledging each one
// (QoS 2 flows are completed as their PUBRELs arrive, interleaved with
// later messages), until one carries the marker payload, and returns those
// that came before it. Any other packet, or no marker within the read
// timeout, fails the spec. At most limit packets are read, so the wait is
// bounded even on a busy broker.
func ReceiveUntilMarker(c *Client, marker string, limit int) []*packet.Publish {
	GinkgoHelper()
	var out []*packet.Publish
	for range limit {
		next, err := c.Read()
		if err != nil {
			Failf(fmt.Sprintf("the marker message %q after %d other messages", marker, len(out)), "%s (before it: %v)", readError(err), Topics(out))
		}
		switch p := next.(type) {
		case *packet.Publish:
			switch p.QoS {
			case 1:
				c.Send(&packet.Puback{PacketID: p.PacketID})
			case 2:
				c.Send(&packet.Pubrec{PacketID: p.PacketID})
			}
			if string(p.Payload) == marker {
				return out
			}
			out = append(out, p)
		case *packet.Pubrel:
			c.Send(&packet.Pubcomp{PacketID: p.PacketID})
		default:
			Failf("PUBLISH packets up to the marker message", "%s", packet.Summary(p, c.V))
		}
	}
	Failf(fmt.Sprintf("the marker message within %d packets", limit), "%d other packets first", limit)
	return nil
}

// Topics lists the topic names of the messages, for evidence.
func Topics(ps []*packet.Publish) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = fmt.Sprintf("%q (QoS %d)", p.Topic, p.QoS)
	}
	return out
}

// ExpectViolationClose checks the reaction to a malformed packet or a
// protocol error: the server closes the connection without granting
// anything. A 5.0 server may send DISCONNECT first; its reason code must be
// one of codes (when codes is not empty). A server that answers with an
// acknowledgement instead is asked for a PINGRESP, so that a connection it
// keeps open fails the spec at once rather than after the read timeout.
func ExpectViolationClose(c *Client, v packet.Version, codes ...packet.ReasonCode) {
	GinkgoHelper()
	var got []packet.Packet
	pinged := false
	for {
		p, err := c.Read()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				Failf("the server closes the network connection", "the connection was still open after %v (received %s)", Cfg().ReadTimeout, subSummaries(got, v))
			}
			break
		}
		got = append(got, p)
		switch p := p.(type) {
		case *packet.Disconnect:
			if v == packet.V5 && len(codes) > 0 && !slices.Contains(codes, p.ReasonCode) {
				if !p.ReasonCode.IsError() {
					Failf("DISCONNECT with an error reason code", "DISCONNECT %s", p.ReasonCode)
				}
				// The close is required; the code is a recommendation (4.13.1).
				FailShould("DISCONNECT with reason code "+subCodeList(codes), "DISCONNECT %s", p.ReasonCode)
			}
		case *packet.Pingresp:
			Failf("the server closes the network connection", "it kept it open and answered PINGREQ (received %s)", subSummaries(got, v))
		case *packet.Suback:
			for _, rc := range p.ReasonCodes {
				if !rc.IsError() {
					Failf("the server closes the network connection without granting a subscription", "SUBACK %v", p.ReasonCodes)
				}
			}
			if !pinged {
				pinged = true
				c.Send(&packet.Pingreq{})
			}
		default:
			if !pinged {
				pinged = true
				c.Send(&packet.Pingreq{})
			}
		}
	}
	if len(got) > 0 {
		Observed("closed after %s", subSummaries(got, v))
	}
}

func subSummaries(ps []packet.Packet, v packet.Version) string {
	if len(ps) == 0 {
		return "nothing"
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = packet.Summary(p, v)
	}
	return strings.Join(s, ", ")
}

func subCodeList(codes []packet.ReasonCode) string {
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = c.String()
	}
	return strings.Join(s, " or ")
}
