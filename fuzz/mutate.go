package fuzz

import (
	"bytes"
	"math/rand/v2"

	"github.com/mqttspec/mqttspec/reference/packet"
)

// A mutation changes one input in place and names what it did; it reports
// false when it does not apply (the input lacks what it needs).
type mutation struct {
	name string
	fn   func(m *Mutator, in *Input) bool
}

// Mutator changes inputs. Field mutators decode a packet with the codec,
// break one field and encode it again (the codec encodes whatever it is
// given); wire mutators edit the bytes of one field where a parser reads it
// (lengths, flags, property identifiers); byte mutators know nothing of MQTT.
type Mutator struct {
	rng *rand.Rand
	gen *Generator
}

// NewMutator draws from rng and takes new packets from gen.
func NewMutator(rng *rand.Rand, gen *Generator) *Mutator { return &Mutator{rng: rng, gen: gen} }

var mutations = []mutation{
	// field level
	{"packet-id", (*Mutator).packetID},
	{"utf8-edge", (*Mutator).utf8Edge},
	{"topic-alias", (*Mutator).topicAlias},
	{"reason-code", (*Mutator).reasonCode},
	{"qos", (*Mutator).qos},
	{"misplaced-property", (*Mutator).misplacedProperty},
	{"property-value", (*Mutator).propertyValue},
	// wire level
	{"remaining-length", (*Mutator).remainingLength},
	{"remaining-length-encoding", (*Mutator).remainingLengthEncoding},
	{"flags", (*Mutator).flags},
	{"connect-flags", (*Mutator).connectFlags},
	{"protocol-level", (*Mutator).protocolLevel},
	{"property-length", (*Mutator).propertyLength},
	{"property-id", (*Mutator).propertyID},
	{"duplicate-property", (*Mutator).duplicateProperty},
	{"subscription-options", (*Mutator).subscriptionOptions},
	{"truncate", (*Mutator).truncate},
	// packet sequence
	{"duplicate-packet", (*Mutator).duplicatePacket},
	{"drop-packet", (*Mutator).dropPacket},
	{"swap-packets", (*Mutator).swapPackets},
	{"insert-packet", (*Mutator).insertPacket},
	// bytes
	{"bit-flip", (*Mutator).bitFlip},
	{"interesting-byte", (*Mutator).interestingByte},
	{"delete-bytes", (*Mutator).deleteBytes},
	{"insert-bytes", (*Mutator).insertBytes},
}

// MutationNames lists the mutations, for summaries.
func MutationNames() []string {
	out := make([]string, len(mutations))
	for i, m := range mutations {
		out[i] = m.name
	}
	return out
}

// Mutate applies one to three mutations to in and returns their names.
func (m *Mutator) Mutate(in *Input) []string {
	var applied []string
	for n := 1 + m.rng.IntN(3); n > 0; n-- {
		for tries := 0; tries < 8; tries++ {
			mu := mutations[m.rng.IntN(len(mutations))]
			if mu.fn(m, in) {
				applied = append(applied, mu.name)
				break
			}
		}
	}
	return applied
}

func (m *Mutator) pick(n int) int { return m.rng.IntN(n) }

// somePacket picks a packet index, or -1 for an empty input.
func (m *Mutator) somePacket(in *Input) int {
	if len(in.Packets) == 0 {
		return -1
	}
	return m.pick(len(in.Packets))
}

// decoded decodes packet i at the input's version (a CONNECT at its own).
func (m *Mutator) decoded(in *Input, i int) (packet.Packet, bool) {
	p, n, err := packet.Decode(in.Packets[i], packet.DecodeOptions{Version: in.Version})
	if err != nil || n != len(in.Packets[i]) {
		return nil, false
	}
	return p, true
}

// pickDecoded picks a packet that decodes and satisfies want.
func (m *Mutator) pickDecoded(in *Input, want func(packet.Packet) bool) (int, packet.Packet) {
	start := m.somePacket(in)
	if start < 0 {
		return -1, nil
	}
	for k := range in.Packets {
		i := (start + k) % len(in.Packets)
		if p, ok := m.decoded(in, i); ok && want(p) {
			return i, p
		}
	}
	return -1, nil
}

// reencode replaces packet i with p's wire form.
func (m *Mutator) reencode(in *Input, i int, p packet.Packet) bool {
	b, err := packet.Encode(p, in.Version)
	if err != nil {
		return false
	}
	in.Packets[i] = b
	return true
}

var interestingIDs = []uint16{0, 1, 0x7fff, 0x8000, 0xffff}

func (m *Mutator) packetID(in *Input) bool {
	i, p := m.pickDecoded(in, func(p packet.Packet) bool {
		switch p := p.(type) {
		case *packet.Publish:
			return p.QoS > 0
		case *packet.Subscribe, *packet.Unsubscribe, *packet.Pubrel:
			return true
		}
		return false
	})
	if i < 0 {
		return false
	}
	id := interestingIDs[m.pick(len(interestingIDs))]
	switch p := p.(type) {
	case *packet.Publish:
		p.PacketID = id
	case *packet.Subscribe:
		p.PacketID = id
	case *packet.Unsubscribe:
		p.PacketID = id
	case *packet.Pubrel:
		p.PacketID = id
	}
	return m.reencode(in, i, p)
}

// utf8Edges are strings every MQTT string rule has an opinion about.
var utf8Edges = []string{
	"",              // empty
	"\x00",          // U+0000
	"a\x00b",        // embedded U+0000
	"\xff",          // not UTF-8
	"\xc0\xaf",      // overlong '/'
	"\xed\xa0\x80",  // surrogate U+D800
	"\xef\xbf\xbf",  // noncharacter U+FFFF
	"\xef\xbb\xbfa", // byte order mark
	"\x01\x7f",      // control characters
	"+", "#", "a/#/b", "a+", "/", "//", "$SYS/x", "$share//x", "$share/g",
	"Long-Home/Küche/Temperatur",
}

func (m *Mutator) edgeString() string {
	if m.pick(10) == 0 {
		return string(bytes.Repeat([]byte("a/"), 200+m.pick(1000)))
	}
	return utf8Edges[m.pick(len(utf8Edges))]
}

func (m *Mutator) utf8Edge(in *Input) bool {
	i, p := m.pickDecoded(in, func(p packet.Packet) bool {
		switch p.(type) {
		case *packet.Publish, *packet.Subscribe, *packet.Unsubscribe, *packet.Connect:
			return true
		}
		return false
	})
	if i < 0 {
		return false
	}
	s := m.edgeString()
	switch p := p.(type) {
	case *packet.Publish:
		if in.Version == packet.V5 && m.pick(4) == 0 {
			p.Properties.ContentType = []byte(s)
		} else {
			p.Topic = []byte(s)
		}
	case *packet.Subscribe:
		if len(p.Subscriptions) == 0 {
			return false
		}
		subs := append([]packet.Subscription(nil), p.Subscriptions...)
		subs[m.pick(len(subs))].Filter = s
		p.Subscriptions = subs
	case *packet.Unsubscribe:
		p.Filters = []string{s}
	case *packet.Connect:
		switch m.pick(4) {
		case 0:
			p.ClientID = s
		case 1:
			p.Username = s
		case 2:
			if p.Will == nil {
				p.Will = &packet.Will{}
			}
			w := *p.Will
			w.Topic = s
			p.Will = &w
		default:
			if in.Version == packet.V5 {
				p.Properties.AddUser(s, s)
			} else {
				p.ClientID = s
			}
		}
	}
	return m.reencode(in, i, p)
}

func (m *Mutator) topicAlias(in *Input) bool {
	if in.Version != packet.V5 {
		return false
	}
	i, p := m.pickDecoded(in, func(p packet.Packet) bool { _, ok := p.(*packet.Publish); return ok })
	if i < 0 {
		return false
	}
	pub := p.(*packet.Publish)
	pub.Properties.TopicAlias = []uint16{0, 1, 10, 11, 0xffff}[m.pick(5)]
	pub.Properties.Present = pub.Properties.Present.With(packet.PropTopicAlias)
	if m.pick(2) == 0 {
		pub.Topic = nil // use an alias that may never have been set
	}
	return m.reencode(in, i, pub)
}

func (m *Mutator) reasonByte() packet.ReasonCode {
	if m.pick(3) == 0 {
		return packet.ReasonCode(m.rng.Uint32())
	}
	codes := packet.ReasonCodes()
	return codes[m.pick(len(codes))]
}

func (m *Mutator) reasonCode(in *Input) bool {
	if in.Version != packet.V5 {
		return false
	}
	i, p := m.pickDecoded(in, func(p packet.Packet) bool {
		switch p.(type) {
		case *packet.Pubrel, *packet.Disconnect, *packet.Auth:
			return true
		}
		return false
	})
	if i < 0 {
		return false
	}
	switch p := p.(type) {
	case *packet.Pubrel:
		p.ReasonCode = m.reasonByte()
	case *packet.Disconnect:
		p.ReasonCode = m.reasonByte()
	case *packet.Auth:
		p.ReasonCode = m.reasonByte()
	}
	return m.reencode(in, i, p)
}

func (m *Mutator) qos(in *Input) bool {
	i, p := m.pickDecoded(in, func(p packet.Packet) bool {
		switch p.(type) {
		case *packet.Publish, *packet.Subscribe:
			return true
		}
		return false
	})
	if i < 0 {
		return false
	}
	q := packet.QoS(m.pick(4))
	switch p := p.(type) {
	case *packet.Publish:
		p.QoS = q
		if q > 0 && p.PacketID == 0 && m.pick(2) == 0 {
			p.PacketID = 1
		}
	case *packet.Subscribe:
		if len(p.Subscriptions) == 0 {
			return false
		}
		subs := append([]packet.Subscription(nil), p.Subscriptions...)
		subs[m.pick(len(subs))].QoS = q
		p.Subscriptions = subs
	}
	return m.reencode(in, i, p)
}

// setProperty sets one property, chosen among all identifiers, to a
// plausible value, whether or not it belongs in the packet.
func (m *Mutator) setProperty(p *packet.Properties) {
	ids := packet.PropertyIDs()
	id := ids[m.pick(len(ids))]
	p.Present = p.Present.With(id)
	n := uint32(m.pick(3))
	if m.pick(4) == 0 {
		n = m.rng.Uint32()
	}
	s := []byte(m.edgeString())
	switch id {
	case packet.PropPayloadFormat:
		p.PayloadFormat = byte(n)
	case packet.PropMessageExpiry:
		p.MessageExpiry = n
	case packet.PropContentType:
		p.ContentType = s
	case packet.PropResponseTopic:
		p.ResponseTopic = s
	case packet.PropCorrelationData:
		p.CorrelationData = s
	case packet.PropSubscriptionID:
		p.SubscriptionIDs = append(p.SubscriptionIDs, int(n%packet.MaxVarInt))
	case packet.PropSessionExpiry:
		p.SessionExpiry = n
	case packet.PropAssignedClientID:
		p.AssignedClientID = s
	case packet.PropServerKeepAlive:
		p.ServerKeepAlive = uint16(n)
	case packet.PropAuthMethod:
		p.AuthMethod = s
	case packet.PropAuthData:
		p.AuthData = s
	case packet.PropRequestProblemInfo:
		p.RequestProblemInfo = byte(n)
	case packet.PropWillDelay:
		p.WillDelay = n
	case packet.PropRequestResponseInfo:
		p.RequestResponseInfo = byte(n)
	case packet.PropResponseInfo:
		p.ResponseInfo = s
	case packet.PropServerReference:
		p.ServerReference = s
	case packet.PropReasonString:
		p.ReasonString = s
	case packet.PropReceiveMaximum:
		p.ReceiveMaximum = uint16(n)
	case packet.PropTopicAliasMaximum:
		p.TopicAliasMaximum = uint16(n)
	case packet.PropTopicAlias:
		p.TopicAlias = uint16(n)
	case packet.PropMaximumQoS:
		p.MaximumQoS = byte(n)
	case packet.PropRetainAvailable:
		p.RetainAvailable = byte(n)
	case packet.PropUserProperty:
		p.User = append(p.User, packet.UserProperty{Key: s, Value: s})
	case packet.PropMaximumPacketSize:
		p.MaximumPacketSize = n
	case packet.PropWildcardSubAvailable:
		p.WildcardSubAvailable = byte(n)
	case packet.PropSubIDAvailable:
		p.SubIDAvailable = byte(n)
	case packet.PropSharedSubAvailable:
		p.SharedSubAvailable = byte(n)
	}
}

// properties returns the property set of a decoded v5 packet that has one.
func properties(p packet.Packet) *packet.Properties {
	switch p := p.(type) {
	case *packet.Connect:
		return &p.Properties
	case *packet.Publish:
		return &p.Properties
	case *packet.Subscribe:
		return &p.Properties
	case *packet.Unsubscribe:
		return &p.Properties
	case *packet.Disconnect:
		return &p.Properties
	case *packet.Auth:
		return &p.Properties
	case *packet.Pubrel:
		return &p.Properties
	case *packet.Puback:
		return &p.Properties
	case *packet.Pubrec:
		return &p.Properties
	case *packet.Pubcomp:
		return &p.Properties
	}
	return nil
}

// misplacedProperty adds a property chosen among all identifiers, most of
// which do not belong in the packet at hand.
func (m *Mutator) misplacedProperty(in *Input) bool {
	if in.Version != packet.V5 {
		return false
	}
	i, p := m.pickDecoded(in, func(p packet.Packet) bool { return properties(p) != nil })
	if i < 0 {
		return false
	}
	if c, ok := p.(*packet.Connect); ok && c.Will != nil && m.pick(2) == 0 {
		w := *c.Will
		m.setProperty(&w.Properties)
		c.Will = &w
	} else {
		m.setProperty(properties(p))
	}
	return m.reencode(in, i, p)
}

// propertyValue sets a property the packet may carry to a boundary value.
func (m *Mutator) propertyValue(in *Input) bool {
	if in.Version != packet.V5 {
		return false
	}
	i, p := m.pickDecoded(in, func(p packet.Packet) bool {
		switch p.(type) {
		case *packet.Connect, *packet.Publish, *packet.Subscribe:
			return true
		}
		return false
	})
	if i < 0 {
		return false
	}
	switch p := p.(type) {
	case *packet.Connect:
		pp := &p.Properties
		switch m.pick(5) {
		case 0:
			pp.ReceiveMaximum, pp.Present = 0, pp.Present.With(packet.PropReceiveMaximum)
		case 1:
			pp.MaximumPacketSize, pp.Present = 0, pp.Present.With(packet.PropMaximumPacketSize)
		case 2:
			pp.RequestProblemInfo, pp.Present = 2, pp.Present.With(packet.PropRequestProblemInfo)
		case 3:
			pp.RequestResponseInfo, pp.Present = 2, pp.Present.With(packet.PropRequestResponseInfo)
		default:
			pp.AuthData = []byte{1}
		}
	case *packet.Publish:
		pp := &p.Properties
		switch m.pick(3) {
		case 0:
			pp.PayloadFormat, pp.Present = 1, pp.Present.With(packet.PropPayloadFormat)
			p.Payload = []byte("\xff\xfe")
		case 1:
			pp.PayloadFormat, pp.Present = 2, pp.Present.With(packet.PropPayloadFormat)
		default:
			pp.SubscriptionIDs = []int{1}
		}
	case *packet.Subscribe:
		p.Properties.SubscriptionIDs = []int{[]int{0, packet.MaxVarInt}[m.pick(2)]}
		if m.pick(3) == 0 {
			p.Properties.SubscriptionIDs = append(p.Properties.SubscriptionIDs, 5)
		}
	}
	return m.reencode(in, i, p)
}

// remainingLength changes a packet's Remaining Length without changing its
// body, so the announced length and the content disagree.
func (m *Mutator) remainingLength(in *Input) bool {
	i := m.somePacket(in)
	if i < 0 {
		return false
	}
	first, body, ok := splitPacket(in.Packets[i])
	if !ok {
		return false
	}
	n := len(body)
	switch m.pick(4) {
	case 0:
		n++
	case 1:
		n = max(0, n-1)
	case 2:
		n = 0
	default:
		n = m.pick(n + 8)
	}
	out := append([]byte{first}, packet.AppendVarInt(nil, n)...)
	in.Packets[i] = append(out, body...)
	return true
}

// remainingLengthEncoding encodes a correct Remaining Length badly: padded
// with continuation bytes (non-minimal), or over five bytes.
func (m *Mutator) remainingLengthEncoding(in *Input) bool {
	i := m.somePacket(in)
	if i < 0 {
		return false
	}
	first, body, ok := splitPacket(in.Packets[i])
	if !ok {
		return false
	}
	var enc []byte
	if m.pick(2) == 0 {
		enc = nonMinimalVarInt(len(body), 2+m.pick(3)) // up to 4 bytes
	} else {
		enc = nonMinimalVarInt(len(body), 5) // one byte too many
	}
	out := append([]byte{first}, enc...)
	in.Packets[i] = append(out, body...)
	return true
}

// nonMinimalVarInt encodes n in exactly size bytes (padding with 0x80 and a
// final 0x00), even beyond the four the protocol allows.
func nonMinimalVarInt(n, size int) []byte {
	enc := packet.AppendVarInt(nil, n)
	if len(enc) >= size {
		return enc
	}
	enc[len(enc)-1] |= 0x80
	for len(enc) < size-1 {
		enc = append(enc, 0x80)
	}
	return append(enc, 0x00)
}

// flags changes the four flag bits (or the type) of a fixed header.
func (m *Mutator) flags(in *Input) bool {
	i := m.somePacket(in)
	if i < 0 || len(in.Packets[i]) == 0 {
		return false
	}
	b := in.Packets[i][0]
	switch m.pick(4) {
	case 0:
		b = b&0xf0 | byte(m.pick(16))
	case 1:
		b ^= 1 << m.pick(4)
	case 2:
		b = b&0x0f | []byte{0x00, 0xf0, 0x20, 0xd0, 0x90}[m.pick(5)]
	default:
		b = b&0x0f | byte(m.pick(16))<<4
	}
	in.Packets[i][0] = b
	return true
}

// connectFlags flips a bit of the CONNECT flags byte: the reserved bit,
// will flag, will QoS and retain, user name and password flags.
func (m *Mutator) connectFlags(in *Input) bool {
	for i, p := range in.Packets {
		first, body, ok := splitPacket(p)
		if !ok || first>>4 != byte(packet.CONNECT) || len(body) < 2 {
			continue
		}
		off := 2 + (int(body[0])<<8 | int(body[1])) + 1
		if off >= len(body) {
			return false
		}
		nb := append([]byte(nil), body...)
		if m.pick(4) == 0 {
			nb[off] = byte(m.rng.Uint32())
		} else {
			nb[off] ^= 1 << m.pick(8)
		}
		in.Packets[i] = withBody(first, nb)
		return true
	}
	return false
}

func (m *Mutator) protocolLevel(in *Input) bool {
	for i, p := range in.Packets {
		first, body, ok := splitPacket(p)
		if !ok || first>>4 != byte(packet.CONNECT) || len(body) < 2 {
			continue
		}
		off := 2 + (int(body[0])<<8 | int(body[1]))
		if off >= len(body) {
			return false
		}
		nb := append([]byte(nil), body...)
		switch m.pick(3) {
		case 0:
			nb[off] = []byte{0, 2, 3, 4, 5, 6, 0x84, 0x85, 0xff}[m.pick(9)]
		case 1:
			nb[1] ^= 0x20 // protocol name "MQTT" -> "mQTT"
			if len(nb) > 2 {
				nb[2] ^= 0x20
			}
		default:
			nb[off] = byte(m.rng.Uint32())
		}
		in.Packets[i] = withBody(first, nb)
		return true
	}
	return false
}

// v5Props picks a v5 packet with a readable property section.
func (m *Mutator) v5Props(in *Input) (i int, first byte, body []byte, off, size, n int, ok bool) {
	if in.Version != packet.V5 || len(in.Packets) == 0 {
		return
	}
	start := m.pick(len(in.Packets))
	for k := range in.Packets {
		i = (start + k) % len(in.Packets)
		first, body, ok = splitPacket(in.Packets[i])
		if !ok {
			continue
		}
		if off, size, n, ok = propsSection(first, body); ok {
			return
		}
	}
	return 0, 0, nil, 0, 0, 0, false
}

// propertyLength breaks the Property Length: a wrong value, a non-minimal
// encoding or a five-byte one (the NanoMQ CVE-2026-21888 shape).
func (m *Mutator) propertyLength(in *Input) bool {
	i, first, body, off, size, n, ok := m.v5Props(in)
	if !ok {
		return false
	}
	var enc []byte
	switch m.pick(4) {
	case 0:
		enc = packet.AppendVarInt(nil, n+1+m.pick(4))
	case 1:
		enc = packet.AppendVarInt(nil, max(0, n-1-m.pick(2)))
	case 2:
		enc = nonMinimalVarInt(n, 2+m.pick(3))
	default:
		enc = nonMinimalVarInt(n, 5)
	}
	nb := append([]byte(nil), body[:off]...)
	nb = append(nb, enc...)
	nb = append(nb, body[off+size:]...)
	in.Packets[i] = withBody(first, nb)
	return true
}

// propertyID replaces the identifier of the first property: an unknown
// one, zero, or one of another packet type.
func (m *Mutator) propertyID(in *Input) bool {
	i, first, body, off, size, n, ok := m.v5Props(in)
	if !ok || n == 0 {
		return false
	}
	nb := append([]byte(nil), body...)
	ids := packet.PropertyIDs()
	choices := []byte{0x00, 0x04, 0x7f, 0x80, 0xff, byte(ids[m.pick(len(ids))])}
	nb[off+size] = choices[m.pick(len(choices))]
	in.Packets[i] = withBody(first, nb)
	return true
}

// duplicateProperty repeats the first property (only User Property and
// Subscription Identifier in PUBLISH may repeat).
func (m *Mutator) duplicateProperty(in *Input) bool {
	i, first, body, off, size, n, ok := m.v5Props(in)
	if !ok {
		return false
	}
	props := body[off+size : off+size+n]
	p, ok := firstProperty(props)
	if !ok {
		return false
	}
	np := append(append([]byte(nil), props...), p...)
	in.Packets[i] = replaceProps(first, body, off, size, n, np)
	return true
}

// subscriptionOptions sets reserved bits, Retain Handling 3 or QoS 3 in the
// options byte of a SUBSCRIBE's first filter.
func (m *Mutator) subscriptionOptions(in *Input) bool {
	for k := range in.Packets {
		i := (k + m.pick(len(in.Packets))) % len(in.Packets)
		first, body, ok := splitPacket(in.Packets[i])
		if !ok || first>>4 != byte(packet.SUBSCRIBE) {
			continue
		}
		off := 2
		if in.Version == packet.V5 {
			n, size, ok := readVarInt(body[min(off, len(body)):])
			if !ok {
				return false
			}
			off += size + n
		}
		if off+2 > len(body) {
			return false
		}
		off += 2 + (int(body[off])<<8 | int(body[off+1]))
		if off >= len(body) {
			return false
		}
		nb := append([]byte(nil), body...)
		switch m.pick(4) {
		case 0:
			nb[off] |= 0xc0
		case 1:
			nb[off] |= 0x30
		case 2:
			nb[off] |= 0x03
		default:
			nb[off] = byte(m.rng.Uint32())
		}
		in.Packets[i] = withBody(first, nb)
		return true
	}
	return false
}

// truncate cuts a packet short, with its Remaining Length either still
// announcing the full body or fixed to the shorter one.
func (m *Mutator) truncate(in *Input) bool {
	i := m.somePacket(in)
	if i < 0 || len(in.Packets[i]) < 2 {
		return false
	}
	first, body, ok := splitPacket(in.Packets[i])
	if ok && len(body) > 0 && m.pick(2) == 0 {
		in.Packets[i] = withBody(first, body[:m.pick(len(body))])
		return true
	}
	in.Packets[i] = in.Packets[i][:1+m.pick(len(in.Packets[i])-1)]
	return true
}

func (m *Mutator) duplicatePacket(in *Input) bool {
	i := m.somePacket(in)
	if i < 0 || len(in.Packets) > 32 {
		return false
	}
	p := append([]byte(nil), in.Packets[i]...)
	in.Packets = append(in.Packets[:i+1], append([][]byte{p}, in.Packets[i+1:]...)...)
	return true
}

func (m *Mutator) dropPacket(in *Input) bool {
	if len(in.Packets) < 2 {
		return false
	}
	i := m.pick(len(in.Packets))
	in.Packets = append(in.Packets[:i], in.Packets[i+1:]...)
	return true
}

func (m *Mutator) swapPackets(in *Input) bool {
	if len(in.Packets) < 2 {
		return false
	}
	i, j := m.pick(len(in.Packets)), m.pick(len(in.Packets))
	in.Packets[i], in.Packets[j] = in.Packets[j], in.Packets[i]
	return i != j
}

// insertPacket adds a packet of a fresh session (a second CONNECT is one
// of the interesting cases) at a random place.
func (m *Mutator) insertPacket(in *Input) bool {
	if len(in.Packets) > 32 {
		return false
	}
	other := m.gen.Session()
	if other.Version != in.Version {
		return false
	}
	p := other.Packets[m.pick(len(other.Packets))]
	i := m.pick(len(in.Packets) + 1)
	in.Packets = append(in.Packets[:i], append([][]byte{p}, in.Packets[i:]...)...)
	return true
}

func (m *Mutator) bitFlip(in *Input) bool {
	i := m.somePacket(in)
	if i < 0 || len(in.Packets[i]) == 0 {
		return false
	}
	j := m.pick(len(in.Packets[i]))
	in.Packets[i][j] ^= 1 << m.pick(8)
	return true
}

func (m *Mutator) interestingByte(in *Input) bool {
	i := m.somePacket(in)
	if i < 0 || len(in.Packets[i]) == 0 {
		return false
	}
	j := m.pick(len(in.Packets[i]))
	in.Packets[i][j] = []byte{0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe}[m.pick(6)]
	return true
}

func (m *Mutator) deleteBytes(in *Input) bool {
	i := m.somePacket(in)
	if i < 0 || len(in.Packets[i]) < 2 {
		return false
	}
	p := in.Packets[i]
	j := m.pick(len(p))
	k := min(len(p), j+1+m.pick(4))
	in.Packets[i] = append(p[:j:j], p[k:]...)
	return true
}

func (m *Mutator) insertBytes(in *Input) bool {
	i := m.somePacket(in)
	if i < 0 {
		return false
	}
	p := in.Packets[i]
	j := m.pick(len(p) + 1)
	ins := make([]byte, 1+m.pick(4))
	for k := range ins {
		ins[k] = byte(m.rng.Uint32())
	}
	out := append(append(append([]byte(nil), p[:j]...), ins...), p[j:]...)
	in.Packets[i] = out
	return true
}
