package harness

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/mqttspec/mqttspec/reference/packet"
)

// Helpers for the MQTT 5.0 message-feature specs (topic aliases, flow
// control, maximum packet size, message properties).

// ConnackLimits are the limits and features a 5.0 CONNACK announces, with
// the specification's defaults for absent properties.
type ConnackLimits struct {
	ReceiveMaximum    int        // 65535 when absent
	MaximumQoS        packet.QoS // 2 when absent
	RetainAvailable   bool       // true when absent
	MaximumPacketSize int        // 0 when absent: no limit beyond the protocol's
	TopicAliasMaximum int        // 0 when absent: the server accepts no aliases
}

// ConnackLimitsOf reads the limits of a 5.0 CONNACK.
func ConnackLimitsOf(ca *packet.Connack) ConnackLimits {
	p := &ca.Properties
	l := ConnackLimits{ReceiveMaximum: 65535, MaximumQoS: 2, RetainAvailable: true,
		MaximumPacketSize: int(p.MaximumPacketSize), TopicAliasMaximum: int(p.TopicAliasMaximum)}
	if p.Has(packet.PropReceiveMaximum) {
		l.ReceiveMaximum = int(p.ReceiveMaximum)
	}
	if p.Has(packet.PropMaximumQoS) {
		l.MaximumQoS = packet.QoS(p.MaximumQoS)
	}
	if p.Has(packet.PropRetainAvailable) {
		l.RetainAvailable = p.RetainAvailable == 1
	}
	return l
}

// ConnectV5With sends a 5.0 CONNECT with the given clean-start flag and
// properties (keep alive 60 s) and expects a successful CONNACK.
func (c *Client) ConnectV5With(cleanStart bool, props packet.Properties) *packet.Connack {
	GinkgoHelper()
	ca := c.Connect(&packet.Connect{CleanStart: cleanStart, KeepAlive: 60, Properties: props})
	if ca.ReasonCode != 0 {
		Failf("CONNACK with code 0x00", "CONNACK %s", ca.ReasonCode)
	}
	return ca
}

// ConnectedV5With opens a 5.0 client and connects it with a clean start and
// the given CONNECT properties, expecting success.
func ConnectedV5With(props packet.Properties, opts ...ClientOption) (*Client, *packet.Connack) {
	GinkgoHelper()
	c := NewClient(packet.V5, opts...)
	return c, c.ConnectV5With(true, props)
}

// PingCollect sends PINGREQ and returns the packets that arrive before
// PINGRESP. Because the broker handles a connection's packets in order, a
// packet it had queued for this client before it answered the ping arrives
// first: a way to look at "everything sent so far" without sleeping.
func (c *Client) PingCollect() []packet.Packet {
	GinkgoHelper()
	c.Send(&packet.Pingreq{})
	var got []packet.Packet
	for {
		p, err := c.Read()
		if err != nil {
			Failf("PINGRESP", "%s (after %d other packets)", readError(err), len(got))
		}
		if _, ok := p.(*packet.Pingresp); ok {
			return got
		}
		got = append(got, p)
	}
}

// AwaitPacket reads until a packet of type T arrives and returns it with
// the packets that came before it. It fails the spec when none arrives
// within the read timeout.
func AwaitPacket[T packet.Packet](c *Client) (T, []packet.Packet) {
	GinkgoHelper()
	var before []packet.Packet
	for {
		p, err := c.Read()
		if err != nil {
			var zero T
			Failf(fmt.Sprintf("%T", zero), "%s (after %d other packets)", readError(err), len(before))
		}
		if t, ok := p.(T); ok {
			return t, before
		}
		before = append(before, p)
	}
}

// FloodResult is what the broker sent back while Flood wrote.
type FloodResult struct {
	// Counts is the number of packets received, by type.
	Counts map[packet.Type]int
	// Disconnect is the DISCONNECT the broker sent, if any.
	Disconnect *packet.Disconnect
	// Closed reports that the broker closed the connection.
	Closed bool
	// Stopped says why reading stopped when the connection was not closed
	// (nothing arrived within the read timeout, or an undecodable packet).
	Stopped string
}

// Flood writes b (many packets, or one large one) while it reads what the
// broker answers, until the broker closes the connection or stays silent
// for the read timeout. Writing and reading at once keeps a broker that
// answers every packet from blocking on a client that does not read. The
// trace gets one line for the bytes sent and one summary of what came back,
// not a line per packet.
func (c *Client) Flood(b []byte, what string) FloodResult {
	head := b
	if len(head) > 64 {
		head = head[:64]
	}
	c.tr.add("send", c.Name, head, fmt.Sprintf("%s (%d bytes; the first %d shown)", what, len(b), len(head)))
	done := make(chan error, 1)
	go func() {
		c.conn.SetWriteDeadline(time.Now().Add(2 * Cfg().ReadTimeout))
		_, err := c.conn.Write(b)
		done <- err
	}()
	res := FloodResult{Counts: map[packet.Type]int{}}
read:
	for {
		c.conn.SetReadDeadline(time.Now().Add(Cfg().ReadTimeout))
		p, err := c.r.ReadPacket()
		if err != nil {
			var ne net.Error
			switch {
			case errors.As(err, &ne) && ne.Timeout():
				res.Stopped = readError(err)
			case packet.AsError(err) != nil:
				res.Stopped = "undecodable packet: " + err.Error()
			default:
				res.Closed = true
			}
			break read
		}
		res.Counts[p.Type()]++
		if d, ok := p.(*packet.Disconnect); ok {
			res.Disconnect = d
			enc, _ := packet.Encode(d, c.V)
			c.tr.add("recv", c.Name, enc, packet.Summary(d, c.V))
		}
	}
	if err := <-done; err != nil {
		c.tr.add("note", c.Name, nil, "write stopped: "+err.Error())
	}
	var parts []string
	for t, n := range res.Counts {
		parts = append(parts, fmt.Sprintf("%d %s", n, t))
	}
	sort.Strings(parts)
	end := "the broker closed the connection"
	if !res.Closed {
		end = "reading stopped: " + res.Stopped
	}
	c.tr.add("note", c.Name, nil, fmt.Sprintf("received during the flood: [%s]; %s", strings.Join(parts, ", "), end))
	return res
}

// DescribePacket renders every field of a packet (properties included) as
// JSON, for Observed and failure messages.
func DescribePacket(p packet.Packet, v packet.Version) string {
	b, err := json.Marshal(packet.Describe(p, v))
	if err != nil {
		return packet.Summary(p, v)
	}
	return string(b)
}

// NextPacketID hands out a packet identifier from the suite's sequence, for
// specs that send PUBLISH packets with Send rather than PublishPacket.
func NextPacketID() uint16 { return nextPacketID() }
