package harness

import (
	"errors"
	"net"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/mqttspec/mqttspec/reference/packet"
)

// Helpers of the data representation and malformed packet specs
// (specs/encoding.go, specs/malformed.go): byte builders for packets made
// by hand, and the checks of how a server reacts to them.

// Wire builds control packets byte by byte, for the specs that send what
// our codec would refuse to encode: Wire.Packet(0x30, Wire.Str("a/b"), ...).
var Wire wire

type wire struct{}

// Cat concatenates byte slices.
func (wire) Cat(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// U16 is a two-byte big-endian integer.
func (wire) U16(x uint16) []byte { return []byte{byte(x >> 8), byte(x)} }

// U32 is a four-byte big-endian integer.
func (wire) U32(x uint32) []byte { return []byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)} }

// VarInt is the minimal Variable Byte Integer encoding of n.
func (wire) VarInt(n int) []byte { return packet.AppendVarInt(nil, n) }

// Str is a UTF-8 Encoded String (or Binary Data) field: a two-byte length
// and the bytes exactly as given, valid or not.
func (w wire) Str(s string) []byte { return w.Cat(w.U16(uint16(len(s))), []byte(s)) }

// Bin is Str for bytes.
func (w wire) Bin(b []byte) []byte { return w.Cat(w.U16(uint16(len(b))), b) }

// Packet is a control packet: the first byte (type << 4 | flags), the
// minimal Remaining Length of the body, then the body parts.
func (w wire) Packet(first byte, body ...[]byte) []byte {
	b := w.Cat(body...)
	return w.Cat([]byte{first}, w.VarInt(len(b)), b)
}

// Props is a 5.0 property block: the Property Length (minimal Variable
// Byte Integer) followed by the properties, each already encoded as its
// identifier byte and value.
func (w wire) Props(props ...[]byte) []byte {
	b := w.Cat(props...)
	return w.Cat(w.VarInt(len(b)), b)
}

// Connect is a CONNECT with protocol name "MQTT", the level of v, the
// connect flags as given, keep alive 60, for 5.0 an empty property block,
// and then the payload fields exactly as given (the caller builds the
// client identifier, will, user name and password fields, so that flags
// and payload may disagree on purpose).
func (w wire) Connect(v packet.Version, flags byte, payload ...[]byte) []byte {
	vh := w.Cat(w.Str("MQTT"), []byte{byte(v), flags}, w.U16(60))
	if v == packet.V5 {
		vh = append(vh, 0x00) // Property Length 0
	}
	return w.Packet(0x10, append([][]byte{vh}, payload...)...)
}

// CloseOutcome is what a server sent on a connection before it closed it.
type CloseOutcome struct {
	V       packet.Version
	Packets []packet.Packet
	// Disconnect is the 5.0 DISCONNECT it sent, nil when it closed without one.
	Disconnect *packet.Disconnect
	// Connack is the CONNACK it sent, nil when none.
	Connack *packet.Connack
}

// Forbid fails the spec if the server sent a packet of one of the types
// before closing: the offending packet must not have been acted on.
func (cl CloseOutcome) Forbid(types ...packet.Type) {
	GinkgoHelper()
	for _, p := range cl.Packets {
		if slices.Contains(types, p.Type()) {
			Failf("the offending packet discarded (no "+p.Type().String()+" for it) and the connection closed",
				"%s before the close", packet.Summary(p, cl.V))
		}
	}
}

// ExpectProtocolClose checks the server's reaction to a malformed packet or
// a protocol error on an accepted connection: it closes the connection
// (3.1.1 MQTT-4.8.0-1, 5.0 MQTT-4.13.1-1). A 5.0 server should send a
// DISCONNECT first; when it does, its reason code must be one of codes
// (the first is the one the specification names; the others are accepted
// where the specification leaves Malformed Packet / Protocol Error open).
// A close without DISCONNECT is noted, not failed: sending it is a SHOULD.
// A server that answers with another packet is sent a PINGREQ, so that one
// that keeps the connection open fails at once instead of after the read
// timeout.
func (c *Client) ExpectProtocolClose(codes ...packet.ReasonCode) CloseOutcome {
	GinkgoHelper()
	cl := c.readUntilClosed(func(p packet.Packet, pinged *bool) {
		switch p := p.(type) {
		case *packet.Disconnect:
			if c.V != packet.V5 {
				return
			}
			if !p.ReasonCode.IsError() {
				Failf("DISCONNECT with an error reason code ("+mfCodes(codes)+") or a plain close", "DISCONNECT %s", p.ReasonCode)
			}
			if len(codes) > 0 && !slices.Contains(codes, p.ReasonCode) {
				// The close is required; the code is a recommendation (4.13.1).
				FailShould("DISCONNECT with reason code "+mfCodes(codes)+" (or a close without DISCONNECT)", "DISCONNECT %s", p.ReasonCode)
			}
		case *packet.Pingresp:
			if *pinged {
				Failf("the server closes the network connection", "it kept it open and answered a PINGREQ sent after the offending packet")
			}
		default:
			if !*pinged {
				*pinged = true
				c.Send(&packet.Pingreq{})
			}
		}
	})
	if c.V == packet.V5 {
		switch {
		case cl.Disconnect == nil:
			Note("the server closed the connection without a DISCONNECT; 5.0 section 4.13.1 says it SHOULD send one with %s", mfCodes(codes))
		case len(codes) > 1:
			Note("the server sent DISCONNECT %s (accepted: %s)", cl.Disconnect.ReasonCode, mfCodes(codes))
		}
	}
	return cl
}

// ExpectConnectRejected checks the server's reaction to a CONNECT that
// does not conform to section 3.1: it closes the connection. A 3.1.1
// server sends no CONNACK at all [MQTT-3.1.4-1]; a 5.0 server may send a
// CONNACK with a reason code of 0x80 or above first (5.0 section 4.13.1).
// A CONNACK 0x00 fails the spec at once.
func (c *Client) ExpectConnectRejected() CloseOutcome {
	GinkgoHelper()
	cl := c.readUntilClosed(func(p packet.Packet, _ *bool) {
		ca, ok := p.(*packet.Connack)
		if !ok {
			return
		}
		if c.V != packet.V5 {
			Failf("the connection closed without any CONNACK", "%s", packet.Summary(ca, c.V))
		}
		if !ca.ReasonCode.IsError() {
			Failf("the connection closed, at most after a CONNACK with a reason code of 0x80 or above", "CONNACK %s", ca.ReasonCode)
		}
	})
	if c.V == packet.V5 && cl.Connack != nil {
		Note("the server refused with CONNACK %s before closing", cl.Connack.ReasonCode)
	}
	return cl
}

// readUntilClosed reads until the server closes the connection, calling
// check on each packet. A connection still open after the read timeout,
// or bytes that do not decode, fail the spec.
func (c *Client) readUntilClosed(check func(p packet.Packet, pinged *bool)) CloseOutcome {
	GinkgoHelper()
	cl := CloseOutcome{V: c.V}
	pinged := false
	for {
		p, err := c.Read()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				Failf("the server closes the network connection",
					"the connection was still open after %v (received %s)", Cfg().ReadTimeout, mfSummaries(cl.Packets, c.V))
			}
			if perr := packet.AsError(err); perr != nil {
				Failf("a close, possibly after a well-formed DISCONNECT/CONNACK", "bytes that do not decode: %v", perr)
			}
			break
		}
		cl.Packets = append(cl.Packets, p)
		switch p := p.(type) {
		case *packet.Disconnect:
			if cl.Disconnect == nil {
				cl.Disconnect = p
			}
		case *packet.Connack:
			if cl.Connack == nil {
				cl.Connack = p
			}
		}
		check(p, &pinged)
	}
	if len(cl.Packets) > 0 {
		Observed("closed after %s", mfSummaries(cl.Packets, c.V))
	} else {
		Observed("closed without sending anything")
	}
	return cl
}

func mfSummaries(ps []packet.Packet, v packet.Version) string {
	if len(ps) == 0 {
		return "nothing"
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = packet.Summary(p, v)
	}
	return strings.Join(s, ", ")
}

func mfCodes(codes []packet.ReasonCode) string {
	if len(codes) == 0 {
		return "a reason code of 0x80 or above"
	}
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = c.String()
	}
	return strings.Join(s, " or ")
}
