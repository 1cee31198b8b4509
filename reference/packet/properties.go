package packet

import (
	"fmt"
	"math/bits"
)

// PropertyID identifies an MQTT 5 property (5.0 section 2.2.2.2).
type PropertyID byte

const (
	PropPayloadFormat        PropertyID = 0x01
	PropMessageExpiry        PropertyID = 0x02
	PropContentType          PropertyID = 0x03
	PropResponseTopic        PropertyID = 0x08
	PropCorrelationData      PropertyID = 0x09
	PropSubscriptionID       PropertyID = 0x0B
	PropSessionExpiry        PropertyID = 0x11
	PropAssignedClientID     PropertyID = 0x12
	PropServerKeepAlive      PropertyID = 0x13
	PropAuthMethod           PropertyID = 0x15
	PropAuthData             PropertyID = 0x16
	PropRequestProblemInfo   PropertyID = 0x17
	PropWillDelay            PropertyID = 0x18
	PropRequestResponseInfo  PropertyID = 0x19
	PropResponseInfo         PropertyID = 0x1A
	PropServerReference      PropertyID = 0x1C
	PropReasonString         PropertyID = 0x1F
	PropReceiveMaximum       PropertyID = 0x21
	PropTopicAliasMaximum    PropertyID = 0x22
	PropTopicAlias           PropertyID = 0x23
	PropMaximumQoS           PropertyID = 0x24
	PropRetainAvailable      PropertyID = 0x25
	PropUserProperty         PropertyID = 0x26
	PropMaximumPacketSize    PropertyID = 0x27
	PropWildcardSubAvailable PropertyID = 0x28
	PropSubIDAvailable       PropertyID = 0x29
	PropSharedSubAvailable   PropertyID = 0x2A
	maxPropertyID            PropertyID = 0x2A
	willProperties           Type       = 0 // pseudo packet type for the Will Properties of CONNECT
	propKindByte                        = 1
	propKindU16                         = 2
	propKindU32                         = 3
	propKindVarInt                      = 4
	propKindString                      = 5
	propKindBinary                      = 6
	propKindPair                        = 7
)

// propInfo is the table of 5.0 section 2.2.2.2: name, data type and the
// packets that may carry each property.
type propInfo struct {
	name  string
	kind  int
	in    uint16 // bit per packet Type; bit 0 = Will Properties
	multi bool   // may appear more than once
}

func inTypes(ts ...Type) uint16 {
	var m uint16
	for _, t := range ts {
		m |= 1 << t
	}
	return m
}

var propTable = [maxPropertyID + 1]propInfo{
	PropPayloadFormat:        {"Payload Format Indicator", propKindByte, inTypes(PUBLISH, willProperties), false},
	PropMessageExpiry:        {"Message Expiry Interval", propKindU32, inTypes(PUBLISH, willProperties), false},
	PropContentType:          {"Content Type", propKindString, inTypes(PUBLISH, willProperties), false},
	PropResponseTopic:        {"Response Topic", propKindString, inTypes(PUBLISH, willProperties), false},
	PropCorrelationData:      {"Correlation Data", propKindBinary, inTypes(PUBLISH, willProperties), false},
	PropSubscriptionID:       {"Subscription Identifier", propKindVarInt, inTypes(PUBLISH, SUBSCRIBE), true},
	PropSessionExpiry:        {"Session Expiry Interval", propKindU32, inTypes(CONNECT, CONNACK, DISCONNECT), false},
	PropAssignedClientID:     {"Assigned Client Identifier", propKindString, inTypes(CONNACK), false},
	PropServerKeepAlive:      {"Server Keep Alive", propKindU16, inTypes(CONNACK), false},
	PropAuthMethod:           {"Authentication Method", propKindString, inTypes(CONNECT, CONNACK, AUTH), false},
	PropAuthData:             {"Authentication Data", propKindBinary, inTypes(CONNECT, CONNACK, AUTH), false},
	PropRequestProblemInfo:   {"Request Problem Information", propKindByte, inTypes(CONNECT), false},
	PropWillDelay:            {"Will Delay Interval", propKindU32, inTypes(willProperties), false},
	PropRequestResponseInfo:  {"Request Response Information", propKindByte, inTypes(CONNECT), false},
	PropResponseInfo:         {"Response Information", propKindString, inTypes(CONNACK), false},
	PropServerReference:      {"Server Reference", propKindString, inTypes(CONNACK, DISCONNECT), false},
	PropReasonString:         {"Reason String", propKindString, inTypes(CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, DISCONNECT, AUTH), false},
	PropReceiveMaximum:       {"Receive Maximum", propKindU16, inTypes(CONNECT, CONNACK), false},
	PropTopicAliasMaximum:    {"Topic Alias Maximum", propKindU16, inTypes(CONNECT, CONNACK), false},
	PropTopicAlias:           {"Topic Alias", propKindU16, inTypes(PUBLISH), false},
	PropMaximumQoS:           {"Maximum QoS", propKindByte, inTypes(CONNACK), false},
	PropRetainAvailable:      {"Retain Available", propKindByte, inTypes(CONNACK), false},
	PropUserProperty:         {"User Property", propKindPair, inTypes(CONNECT, CONNACK, PUBLISH, willProperties, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, DISCONNECT, AUTH), true},
	PropMaximumPacketSize:    {"Maximum Packet Size", propKindU32, inTypes(CONNECT, CONNACK), false},
	PropWildcardSubAvailable: {"Wildcard Subscription Available", propKindByte, inTypes(CONNACK), false},
	PropSubIDAvailable:       {"Subscription Identifier Available", propKindByte, inTypes(CONNACK), false},
	PropSharedSubAvailable:   {"Shared Subscription Available", propKindByte, inTypes(CONNACK), false},
}

// String is the property's name in the specification.
func (id PropertyID) String() string {
	if id <= maxPropertyID && propTable[id].name != "" {
		return propTable[id].name
	}
	return fmt.Sprintf("property 0x%02X", byte(id))
}

// Known reports whether id is a defined property identifier.
func (id PropertyID) Known() bool { return id <= maxPropertyID && propTable[id].name != "" }

// AllowedIn reports whether the property may appear in packets of type t.
// Type 0 stands for the Will Properties of a CONNECT.
func (id PropertyID) AllowedIn(t Type) bool {
	return id.Known() && propTable[id].in&(1<<t) != 0
}

// PropertyIDs lists every defined property identifier, ascending.
func PropertyIDs() []PropertyID {
	var out []PropertyID
	for id := PropertyID(0); id <= maxPropertyID; id++ {
		if id.Known() {
			out = append(out, id)
		}
	}
	return out
}

// UserProperty is one name/value pair. Both alias the decoded input.
type UserProperty struct {
	Key, Value []byte
}

// Properties holds every MQTT 5 property. A property is encoded when its bit
// is set in Present or its field is non-zero (non-nil for byte slices), so a
// caller building a packet just fills fields, and a decoded zero value (for
// example Payload Format Indicator 0) keeps its presence for re-encoding.
// Byte-slice fields alias the decoded input.
type Properties struct {
	Present PropSet

	PayloadFormat        byte
	MessageExpiry        uint32
	ContentType          []byte
	ResponseTopic        []byte
	CorrelationData      []byte
	SubscriptionIDs      []int
	SessionExpiry        uint32
	AssignedClientID     []byte
	ServerKeepAlive      uint16
	AuthMethod           []byte
	AuthData             []byte
	RequestProblemInfo   byte
	WillDelay            uint32
	RequestResponseInfo  byte
	ResponseInfo         []byte
	ServerReference      []byte
	ReasonString         []byte
	ReceiveMaximum       uint16
	TopicAliasMaximum    uint16
	TopicAlias           uint16
	MaximumQoS           byte
	RetainAvailable      byte
	User                 []UserProperty
	MaximumPacketSize    uint32
	WildcardSubAvailable byte
	SubIDAvailable       byte
	SharedSubAvailable   byte
}

// PropSet is a set of property identifiers, one bit each.
type PropSet uint64

// Has reports whether id is in the set.
func (s PropSet) Has(id PropertyID) bool { return s&(1<<id) != 0 }

// With returns the set with id added.
func (s PropSet) With(id PropertyID) PropSet { return s | 1<<id }

// Len is the number of identifiers in the set.
func (s PropSet) Len() int { return bits.OnesCount64(uint64(s)) }

// Has reports whether property id will be encoded (or was decoded).
func (p *Properties) Has(id PropertyID) bool { return p.presentSet().Has(id) }

// Empty reports whether no property would be encoded.
func (p *Properties) Empty() bool { return p.presentSet() == 0 }

// reset clears p for reuse, keeping the capacity of its slices.
func (p *Properties) reset() {
	ids, user := p.SubscriptionIDs[:0], p.User[:0]
	*p = Properties{}
	if cap(ids) > 0 {
		p.SubscriptionIDs = ids
	}
	if cap(user) > 0 {
		p.User = user
	}
}

// AddUser appends a user property.
func (p *Properties) AddUser(key, value string) {
	p.User = append(p.User, UserProperty{Key: []byte(key), Value: []byte(value)})
}

// decodeProperties reads a property length and the properties that follow
// into p, applying the rules of 5.0 section 2.2.2: only identifiers the
// packet type allows (else Malformed Packet), no duplicates except User
// Property and, in PUBLISH, Subscription Identifier (else Protocol Error),
// and the value ranges each property defines.
func decodeProperties(r *reader, t Type, p *Properties) *Error {
	p.reset()
	n, err := r.varInt("property length")
	if err != nil {
		return err
	}
	if n > r.left() {
		return malformed("", "2.2.2.1", "property length %d exceeds the %d bytes left in the packet", n, r.left())
	}
	end := r.off + n
	pr := reader{b: r.b[:end], off: r.off, v: r.v}
	for pr.off < end {
		idv, err := pr.varInt("property identifier")
		if err != nil {
			return err
		}
		if idv > int(maxPropertyID) || !PropertyID(idv).Known() {
			return malformed("", "2.2.2.2", "unknown property identifier 0x%02X", idv)
		}
		id := PropertyID(idv)
		info := &propTable[id]
		if info.in&(1<<t) == 0 {
			return malformed("", "2.2.2.2", "%s (0x%02X) is not allowed in %s", id, byte(id), propContext(t))
		}
		if p.Present.Has(id) && !(info.multi && (id == PropUserProperty || t == PUBLISH || t == SUBSCRIBE)) {
			return protocolErr("", propSection(id), "%s (0x%02X) appears more than once", id, byte(id))
		}
		p.Present = p.Present.With(id)
		if e := decodeProperty(&pr, id, p); e != nil {
			return e
		}
	}
	r.off = end
	if p.Present.Has(PropAuthData) && !p.Present.Has(PropAuthMethod) {
		return protocolErr("", "4.12", "Authentication Data without an Authentication Method")
	}
	return nil
}

func propContext(t Type) string {
	if t == willProperties {
		return "Will Properties"
	}
	return t.String()
}

func decodeProperty(r *reader, id PropertyID, p *Properties) *Error {
	name := id.String()
	switch propTable[id].kind {
	case propKindByte:
		b, err := r.byte(name)
		if err != nil {
			return err
		}
		if b > 1 {
			return protocolErr("", propSection(id), "%s must be 0 or 1, got %d", name, b)
		}
		switch id {
		case PropPayloadFormat:
			p.PayloadFormat = b
		case PropRequestProblemInfo:
			p.RequestProblemInfo = b
		case PropRequestResponseInfo:
			p.RequestResponseInfo = b
		case PropMaximumQoS:
			p.MaximumQoS = b
		case PropRetainAvailable:
			p.RetainAvailable = b
		case PropWildcardSubAvailable:
			p.WildcardSubAvailable = b
		case PropSubIDAvailable:
			p.SubIDAvailable = b
		case PropSharedSubAvailable:
			p.SharedSubAvailable = b
		}
	case propKindU16:
		x, err := r.u16(name)
		if err != nil {
			return err
		}
		switch id {
		case PropServerKeepAlive:
			p.ServerKeepAlive = x
		case PropReceiveMaximum:
			if x == 0 {
				return protocolErr("", "3.1.2.11.3", "Receive Maximum must not be 0")
			}
			p.ReceiveMaximum = x
		case PropTopicAliasMaximum:
			p.TopicAliasMaximum = x
		case PropTopicAlias:
			if x == 0 {
				// 5.0 section 3.3.4 names 0x94 for an alias of 0.
				return &Error{Statement: "MQTT-3.3.2-8", Section: "3.3.2.3.4", Reason: TopicAliasInvalid, Msg: "Topic Alias must not be 0"}
			}
			p.TopicAlias = x
		}
	case propKindU32:
		x, err := r.u32(name)
		if err != nil {
			return err
		}
		switch id {
		case PropMessageExpiry:
			p.MessageExpiry = x
		case PropSessionExpiry:
			p.SessionExpiry = x
		case PropWillDelay:
			p.WillDelay = x
		case PropMaximumPacketSize:
			if x == 0 {
				return protocolErr("", "3.1.2.11.4", "Maximum Packet Size must not be 0")
			}
			p.MaximumPacketSize = x
		}
	case propKindVarInt: // only Subscription Identifier
		x, err := r.varInt(name)
		if err != nil {
			return err
		}
		if x == 0 {
			return protocolErr("", "3.8.2.1.2", "Subscription Identifier must not be 0")
		}
		p.SubscriptionIDs = append(p.SubscriptionIDs, x)
	case propKindString:
		s, err := r.str(name)
		if err != nil {
			return err
		}
		switch id {
		case PropContentType:
			p.ContentType = s
		case PropResponseTopic:
			p.ResponseTopic = s
		case PropAssignedClientID:
			p.AssignedClientID = s
		case PropAuthMethod:
			p.AuthMethod = s
		case PropResponseInfo:
			p.ResponseInfo = s
		case PropServerReference:
			p.ServerReference = s
		case PropReasonString:
			p.ReasonString = s
		}
	case propKindBinary:
		s, err := r.binary(name)
		if err != nil {
			return err
		}
		switch id {
		case PropCorrelationData:
			p.CorrelationData = s
		case PropAuthData:
			p.AuthData = s
		}
	case propKindPair:
		k, err := r.str("User Property name")
		if err != nil {
			return err
		}
		v, err := r.str("User Property value")
		if err != nil {
			return err
		}
		p.User = append(p.User, UserProperty{Key: k, Value: v})
	}
	return nil
}

// propSection is where the specification defines a property.
func propSection(id PropertyID) string {
	switch id {
	case PropPayloadFormat, PropMessageExpiry, PropTopicAlias, PropResponseTopic, PropCorrelationData, PropSubscriptionID, PropContentType:
		return "3.3.2.3"
	case PropWillDelay:
		return "3.1.3.2"
	case PropAssignedClientID, PropServerKeepAlive, PropResponseInfo, PropMaximumQoS, PropRetainAvailable,
		PropWildcardSubAvailable, PropSubIDAvailable, PropSharedSubAvailable:
		return "3.2.2.3"
	}
	return "2.2.2.2"
}

// presentSet is the set of properties that will be encoded, computed in one
// pass over the fields.
func (p *Properties) presentSet() PropSet {
	s := p.Present
	set := func(id PropertyID, ok bool) {
		if ok {
			s |= 1 << id
		}
	}
	set(PropPayloadFormat, p.PayloadFormat != 0)
	set(PropMessageExpiry, p.MessageExpiry != 0)
	set(PropContentType, p.ContentType != nil)
	set(PropResponseTopic, p.ResponseTopic != nil)
	set(PropCorrelationData, p.CorrelationData != nil)
	set(PropSubscriptionID, len(p.SubscriptionIDs) > 0)
	set(PropSessionExpiry, p.SessionExpiry != 0)
	set(PropAssignedClientID, p.AssignedClientID != nil)
	set(PropServerKeepAlive, p.ServerKeepAlive != 0)
	set(PropAuthMethod, p.AuthMethod != nil)
	set(PropAuthData, p.AuthData != nil)
	set(PropRequestProblemInfo, p.RequestProblemInfo != 0)
	set(PropWillDelay, p.WillDelay != 0)
	set(PropRequestResponseInfo, p.RequestResponseInfo != 0)
	set(PropResponseInfo, p.ResponseInfo != nil)
	set(PropServerReference, p.ServerReference != nil)
	set(PropReasonString, p.ReasonString != nil)
	set(PropReceiveMaximum, p.ReceiveMaximum != 0)
	set(PropTopicAliasMaximum, p.TopicAliasMaximum != 0)
	set(PropTopicAlias, p.TopicAlias != 0)
	set(PropMaximumQoS, p.MaximumQoS != 0)
	set(PropRetainAvailable, p.RetainAvailable != 0)
	set(PropUserProperty, len(p.User) > 0)
	set(PropMaximumPacketSize, p.MaximumPacketSize != 0)
	set(PropWildcardSubAvailable, p.WildcardSubAvailable != 0)
	set(PropSubIDAvailable, p.SubIDAvailable != 0)
	set(PropSharedSubAvailable, p.SharedSubAvailable != 0)
	return s
}

// propertiesLen is the encoded length of the properties allowed in t,
// without the property length prefix.
func (p *Properties) propertiesLen(t Type) int {
	n := 0
	for s := p.presentSet(); s != 0; s &= s - 1 {
		id := PropertyID(bits.TrailingZeros64(uint64(s)))
		if !id.Known() {
			continue
		}
		switch propTable[id].kind {
		case propKindByte:
			n += 2
		case propKindU16:
			n += 3
		case propKindU32:
			n += 5
		case propKindVarInt:
			for _, x := range p.SubscriptionIDs {
				n += 1 + VarIntLen(x)
			}
			if len(p.SubscriptionIDs) == 0 { // present with no value: encoded as 0
				n += 2
			}
		case propKindString, propKindBinary:
			n += 3 + len(p.bytesOf(id))
		case propKindPair:
			for _, u := range p.User {
				n += 1 + 4 + len(u.Key) + len(u.Value)
			}
		}
	}
	return n
}

func (p *Properties) bytesOf(id PropertyID) []byte {
	switch id {
	case PropContentType:
		return p.ContentType
	case PropResponseTopic:
		return p.ResponseTopic
	case PropCorrelationData:
		return p.CorrelationData
	case PropAssignedClientID:
		return p.AssignedClientID
	case PropAuthMethod:
		return p.AuthMethod
	case PropAuthData:
		return p.AuthData
	case PropResponseInfo:
		return p.ResponseInfo
	case PropServerReference:
		return p.ServerReference
	case PropReasonString:
		return p.ReasonString
	}
	return nil
}

func (p *Properties) byteOf(id PropertyID) byte {
	switch id {
	case PropPayloadFormat:
		return p.PayloadFormat
	case PropRequestProblemInfo:
		return p.RequestProblemInfo
	case PropRequestResponseInfo:
		return p.RequestResponseInfo
	case PropMaximumQoS:
		return p.MaximumQoS
	case PropRetainAvailable:
		return p.RetainAvailable
	case PropWildcardSubAvailable:
		return p.WildcardSubAvailable
	case PropSubIDAvailable:
		return p.SubIDAvailable
	case PropSharedSubAvailable:
		return p.SharedSubAvailable
	}
	return 0
}

func (p *Properties) u16Of(id PropertyID) uint16 {
	switch id {
	case PropServerKeepAlive:
		return p.ServerKeepAlive
	case PropReceiveMaximum:
		return p.ReceiveMaximum
	case PropTopicAliasMaximum:
		return p.TopicAliasMaximum
	case PropTopicAlias:
		return p.TopicAlias
	}
	return 0
}

func (p *Properties) u32Of(id PropertyID) uint32 {
	switch id {
	case PropMessageExpiry:
		return p.MessageExpiry
	case PropSessionExpiry:
		return p.SessionExpiry
	case PropWillDelay:
		return p.WillDelay
	case PropMaximumPacketSize:
		return p.MaximumPacketSize
	}
	return 0
}

// sizeWithLength is the encoded size including the property length prefix.
func (p *Properties) sizeWithLength(t Type) int {
	n := p.propertiesLen(t)
	return VarIntLen(n) + n
}

// appendProperties writes the property length and the properties in
// ascending identifier order (User Properties and Subscription Identifiers
// in the order given). It encodes what it is given, even a property the
// packet type does not allow: the conformance suite needs to send such
// packets on purpose, and the decoder is where the rules are enforced.
func (p *Properties) appendTo(dst []byte, t Type) ([]byte, error) {
	n := p.propertiesLen(t)
	if n > MaxVarInt {
		return dst, &Error{Section: "2.2.2.1", Reason: PacketTooLarge, Packet: t, Msg: "properties exceed the largest property length"}
	}
	dst = AppendVarInt(dst, n)
	for s := p.presentSet(); s != 0; s &= s - 1 {
		id := PropertyID(bits.TrailingZeros64(uint64(s)))
		if !id.Known() {
			continue
		}
		switch propTable[id].kind {
		case propKindByte:
			dst = append(dst, byte(id), p.byteOf(id))
		case propKindU16:
			dst = appendU16(append(dst, byte(id)), p.u16Of(id))
		case propKindU32:
			dst = appendU32(append(dst, byte(id)), p.u32Of(id))
		case propKindVarInt:
			if len(p.SubscriptionIDs) == 0 {
				dst = append(dst, byte(id), 0)
			}
			for _, x := range p.SubscriptionIDs {
				if x < 0 || x > MaxVarInt {
					return dst, &Error{Section: "3.8.2.1.2", Reason: MalformedPacket, Packet: t, Msg: fmt.Sprintf("Subscription Identifier %d is out of range", x)}
				}
				dst = AppendVarInt(append(dst, byte(id)), x)
			}
		case propKindString, propKindBinary:
			s := p.bytesOf(id)
			if err := checkLen16(len(s), id.String()); err != nil {
				return dst, err
			}
			dst = appendBinary(append(dst, byte(id)), s)
		case propKindPair:
			for _, u := range p.User {
				if err := checkLen16(len(u.Key), "User Property name"); err != nil {
					return dst, err
				}
				if err := checkLen16(len(u.Value), "User Property value"); err != nil {
					return dst, err
				}
				dst = appendBinary(appendBinary(append(dst, byte(id)), u.Key), u.Value)
			}
		}
	}
	return dst, nil
}
