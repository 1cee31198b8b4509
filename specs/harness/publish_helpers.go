package harness

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/mqttspec/mqttspec/reference/packet"
)

// Helpers of the PUBLISH and QoS specs (specs/publish.go, specs/qos.go).

// NewPacketID hands out a packet identifier no other spec of this process
// uses at the same time, for packets a spec sends by hand.
func NewPacketID() uint16 { return nextPacketID() }

// RequireQoS marks the spec unsupported when the target does not offer q
// (its profile or a 5.0 CONNACK's Maximum QoS).
func RequireQoS(v packet.Version, ca *packet.Connack, q packet.QoS) {
	GinkgoHelper()
	if max := TargetMaxQoS(v, ca); max < q {
		Unsupported("the target's maximum QoS is %d, the spec needs QoS %d", max, q)
	}
}

// sessionExpiry is the Session Expiry Interval (seconds) of the 5.0
// persistent sessions the specs open: long enough for a reconnect, short
// enough that a shared broker forgets them soon even if the cleanup fails.
const sessionExpiry = 60

// ConnectPersistent connects client c with a session that survives the
// connection (3.1.1 CleanSession 0, 5.0 Clean Start 0 and a Session Expiry
// Interval), with identifier id (a fresh one when empty), and returns the
// CONNACK. The first time an identifier is used, the caller should
// register EndSession(v, id) with DeferCleanup. The spec becomes
// unsupported when a 5.0 server will not keep the session.
func ConnectPersistent(c *Client, id string) *packet.Connack {
	GinkgoHelper()
	if id == "" {
		id = ClientID()
	}
	cp := &packet.Connect{ClientID: id, CleanStart: false, KeepAlive: 60}
	if c.V == packet.V5 {
		cp.Properties.SessionExpiry = sessionExpiry
	}
	ca := c.Connect(cp)
	if ca.ReasonCode != 0 {
		Failf("CONNACK with code 0x00", "CONNACK %s", ca.ReasonCode)
	}
	if c.V == packet.V5 && ca.Properties.Has(packet.PropSessionExpiry) && ca.Properties.SessionExpiry == 0 {
		Unsupported("the server does not keep sessions after the connection ends (CONNACK Session Expiry Interval 0)")
	}
	return ca
}

// PersistentClient opens a client and connects it with a persistent
// session (ConnectPersistent), registering the session's removal at the
// end of the spec.
func PersistentClient(v packet.Version, id string, opts ...ClientOption) (*Client, *packet.Connack) {
	GinkgoHelper()
	if id == "" {
		id = ClientID()
	}
	c := NewClient(v, opts...)
	ca := ConnectPersistent(c, id)
	ForgetSession(v, id)
	return c, ca
}

// Resume reconnects to the persistent session of identifier id and fails
// the spec when the server no longer holds it (Session Present 0).
func Resume(v packet.Version, id string, opts ...ClientOption) *Client {
	GinkgoHelper()
	c := NewClient(v, opts...)
	ca := ConnectPersistent(c, id)
	if !ca.SessionPresent {
		Failf("the session resumed (CONNACK Session Present 1)", "Session Present 0: the server lost the session")
	}
	return c
}

// SendPublishes sends the messages on topic at QoS qos back to back, without
// waiting for acknowledgements, then completes every QoS flow as the
// sender: the way a client pipelines. It fails the spec when an
// acknowledgement is missing, unexpected or refuses a message.
func SendPublishes(c *Client, topic string, qos packet.QoS, payloads ...string) {
	GinkgoHelper()
	ids := make([]uint16, len(payloads))
	for i, pl := range payloads {
		p := &packet.Publish{Topic: []byte(topic), Payload: []byte(pl), QoS: qos}
		if qos > 0 {
			p.PacketID = nextPacketID()
			ids[i] = p.PacketID
		}
		c.Send(p)
	}
	if qos == 0 {
		return
	}
	pending := map[uint16]bool{}
	for _, id := range ids {
		pending[id] = true
	}
	for len(pending) > 0 {
		switch a := c.Next().(type) {
		case *packet.Puback:
			if qos != 1 || !pending[a.PacketID] {
				Failf("acknowledgements for the packet identifiers sent", "PUBACK %d", a.PacketID)
			}
			if a.ReasonCode.IsError() {
				Failf("the message accepted", "PUBACK %d %s", a.PacketID, a.ReasonCode)
			}
			delete(pending, a.PacketID)
		case *packet.Pubrec:
			if qos != 2 || !pending[a.PacketID] {
				Failf("acknowledgements for the packet identifiers sent", "PUBREC %d", a.PacketID)
			}
			if a.ReasonCode.IsError() {
				Failf("the message accepted", "PUBREC %d %s", a.PacketID, a.ReasonCode)
			}
			c.Send(&packet.Pubrel{PacketID: a.PacketID})
		case *packet.Pubcomp:
			if qos != 2 || !pending[a.PacketID] {
				Failf("acknowledgements for the packet identifiers sent", "PUBCOMP %d", a.PacketID)
			}
			delete(pending, a.PacketID)
		default:
			Failf("acknowledgements of the messages", "%s", packet.Summary(a, c.V))
		}
	}
}

// Payloads returns n numbered payloads with a prefix: "m-0", "m-1", ...
func Payloads(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return out
}

// PayloadsOf lists the payloads of the messages, for evidence.
func PayloadsOf(ps []*packet.Publish) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p.Payload)
	}
	return out
}

// ExpectAbsent reads packets on c until one carrying the marker payload
// arrives, completing QoS flows, and fails the spec when a PUBLISH with
// payload unwanted arrives first. It returns the messages before the marker.
func ExpectAbsent(c *Client, marker, unwanted string, what string) []*packet.Publish {
	GinkgoHelper()
	got := ReceiveUntilMarker(c, marker, 64)
	for _, p := range got {
		if string(p.Payload) == unwanted {
			Failf(what, "the message %q arrived (before the marker, payloads %s)", unwanted, strings.Join(PayloadsOf(got), ", "))
		}
	}
	return got
}
