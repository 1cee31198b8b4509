package fuzz

import (
	"github.com/mqttspec/mqttspec/reference/packet"
)

// The helpers here read and rewrite packets as bytes, the way a broker's
// parser sees them, so that mutators can break exactly one field of an
// otherwise valid packet.

// frame is one packet of a byte stream as the fixed header delimits it.
type frame struct {
	Off, Len int  // position and length of the whole packet in the stream
	Type     byte // high nibble of the first byte
}

// scanFrames splits a stream the way every MQTT parser must: a type byte, a
// Remaining Length of one to four bytes, then that many bytes. complete is
// false when the stream ends inside a packet or a length cannot be read (a
// fifth length byte), in which case a broker waits for more bytes or closes.
func scanFrames(b []byte) (frames []frame, complete bool) {
	off := 0
	for off < len(b) {
		n, size, ok := readVarInt(b[off+1:])
		if !ok || off+1+size+n > len(b) {
			return frames, false
		}
		frames = append(frames, frame{Off: off, Len: 1 + size + n, Type: b[off] >> 4})
		off += 1 + size + n
	}
	return frames, true
}

// readVarInt reads a Variable Byte Integer of at most four bytes.
func readVarInt(b []byte) (value, size int, ok bool) {
	mult := 1
	for i := 0; i < 4; i++ {
		if i >= len(b) {
			return 0, 0, false
		}
		value += int(b[i]&0x7f) * mult
		if b[i]&0x80 == 0 {
			return value, i + 1, true
		}
		mult *= 128
	}
	return 0, 0, false
}

// withBody rebuilds a packet from its first byte and a new body, with a
// correct minimal Remaining Length.
func withBody(first byte, body []byte) []byte {
	out := make([]byte, 0, 5+len(body))
	out = append(out, first)
	out = packet.AppendVarInt(out, min(len(body), packet.MaxVarInt))
	return append(out, body...)
}

// splitPacket returns the first byte and body of one encoded packet; ok is
// false when the header cannot be read or the body is short.
func splitPacket(p []byte) (first byte, body []byte, ok bool) {
	if len(p) < 2 {
		return 0, nil, false
	}
	n, size, ok := readVarInt(p[1:])
	if !ok || 1+size+n != len(p) {
		return 0, nil, false
	}
	return p[0], p[1+size:], true
}

// propsOffset is where the property length of an MQTT 5 packet starts in its
// body, or -1 when the packet has no properties there (or the body is too
// short to tell).
func propsOffset(first byte, body []byte) int {
	t := packet.Type(first >> 4)
	switch t {
	case packet.CONNECT:
		// protocol name (2+n), level, flags, keep alive
		if len(body) < 2 {
			return -1
		}
		n := int(body[0])<<8 | int(body[1])
		off := 2 + n + 1 + 1 + 2
		if off >= len(body) {
			return -1
		}
		return off
	case packet.PUBLISH:
		if len(body) < 2 {
			return -1
		}
		off := 2 + (int(body[0])<<8 | int(body[1]))
		if (first>>1)&3 != 0 {
			off += 2
		}
		if off >= len(body) {
			return -1
		}
		return off
	case packet.PUBACK, packet.PUBREC, packet.PUBREL, packet.PUBCOMP:
		if len(body) < 4 {
			return -1
		}
		return 3
	case packet.SUBSCRIBE, packet.UNSUBSCRIBE, packet.SUBACK, packet.UNSUBACK:
		if len(body) < 3 {
			return -1
		}
		return 2
	case packet.DISCONNECT, packet.AUTH, packet.CONNACK:
		off := 1
		if t == packet.CONNACK {
			off = 2
		}
		if len(body) <= off {
			return -1
		}
		return off
	}
	return -1
}

// propsSection locates the properties of a v5 packet body: the offset of the
// length, the length's encoded size and the properties' length.
func propsSection(first byte, body []byte) (off, size, n int, ok bool) {
	off = propsOffset(first, body)
	if off < 0 {
		return 0, 0, 0, false
	}
	n, size, ok = readVarInt(body[off:])
	if !ok || off+size+n > len(body) {
		return 0, 0, 0, false
	}
	return off, size, n, true
}

// replaceProps rebuilds a packet with new property bytes (lengths fixed).
func replaceProps(first byte, body []byte, off, size, n int, props []byte) []byte {
	nb := make([]byte, 0, len(body)+len(props)+4)
	nb = append(nb, body[:off]...)
	nb = packet.AppendVarInt(nb, min(len(props), packet.MaxVarInt))
	nb = append(nb, props...)
	nb = append(nb, body[off+size+n:]...)
	return withBody(first, nb)
}

// firstProperty returns the bytes of the first property in props (its
// identifier and value), using the value types of the known identifiers.
func firstProperty(props []byte) ([]byte, bool) {
	if len(props) == 0 {
		return nil, false
	}
	l := propValueLen(packet.PropertyID(props[0]), props[1:])
	if l < 0 || 1+l > len(props) {
		return nil, false
	}
	return props[:1+l], true
}

// propValueLen is the length of a property value at the start of b, or -1.
func propValueLen(id packet.PropertyID, b []byte) int {
	switch id {
	case packet.PropPayloadFormat, packet.PropRequestProblemInfo, packet.PropRequestResponseInfo,
		packet.PropMaximumQoS, packet.PropRetainAvailable, packet.PropWildcardSubAvailable,
		packet.PropSubIDAvailable, packet.PropSharedSubAvailable:
		return 1
	case packet.PropServerKeepAlive, packet.PropReceiveMaximum, packet.PropTopicAliasMaximum, packet.PropTopicAlias:
		return 2
	case packet.PropMessageExpiry, packet.PropSessionExpiry, packet.PropWillDelay, packet.PropMaximumPacketSize:
		return 4
	case packet.PropSubscriptionID:
		_, size, ok := readVarInt(b)
		if !ok {
			return -1
		}
		return size
	case packet.PropUserProperty:
		if len(b) < 2 {
			return -1
		}
		k := 2 + (int(b[0])<<8 | int(b[1]))
		if len(b) < k+2 {
			return -1
		}
		return k + 2 + (int(b[k])<<8 | int(b[k+1]))
	case packet.PropContentType, packet.PropResponseTopic, packet.PropCorrelationData, packet.PropAssignedClientID,
		packet.PropAuthMethod, packet.PropAuthData, packet.PropResponseInfo, packet.PropServerReference, packet.PropReasonString:
		if len(b) < 2 {
			return -1
		}
		return 2 + (int(b[0])<<8 | int(b[1]))
	}
	return -1
}
