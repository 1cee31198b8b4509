package packet

import "fmt"

// Version is the protocol level byte of CONNECT.
type Version byte

const (
	V31  Version = 3 // MQTT 3.1, protocol name "MQIsdp"
	V311 Version = 4 // MQTT 3.1.1
	V5   Version = 5 // MQTT 5.0
)

func (v Version) String() string {
	switch v {
	case V31:
		return "3.1"
	case V311:
		return "3.1.1"
	case V5:
		return "5.0"
	}
	return fmt.Sprintf("level-%d", byte(v))
}

// Valid reports whether v is a protocol level this codec speaks.
func (v Version) Valid() bool { return v == V31 || v == V311 || v == V5 }

// ParseVersion accepts "3.1", "3.1.1", "5", "5.0" and the level numbers 3, 4, 5.
func ParseVersion(s string) (Version, error) {
	switch s {
	case "3.1", "3":
		return V31, nil
	case "3.1.1", "4", "311":
		return V311, nil
	case "5", "5.0", "50":
		return V5, nil
	}
	return 0, fmt.Errorf("unknown MQTT version %q (want 3.1, 3.1.1 or 5)", s)
}

// ProtocolName is the protocol name CONNECT carries for a level.
func (v Version) ProtocolName() string {
	if v == V31 {
		return "MQIsdp"
	}
	return "MQTT"
}

// Type is the MQTT control packet type (the high nibble of the first byte).
type Type byte

const (
	CONNECT     Type = 1
	CONNACK     Type = 2
	PUBLISH     Type = 3
	PUBACK      Type = 4
	PUBREC      Type = 5
	PUBREL      Type = 6
	PUBCOMP     Type = 7
	SUBSCRIBE   Type = 8
	SUBACK      Type = 9
	UNSUBSCRIBE Type = 10
	UNSUBACK    Type = 11
	PINGREQ     Type = 12
	PINGRESP    Type = 13
	DISCONNECT  Type = 14
	AUTH        Type = 15
)

var typeNames = [...]string{"RESERVED", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP",
	"SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH"}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("TYPE-%d", byte(t))
}

// Types lists the 15 control packet types in wire order.
func Types() []Type {
	return []Type{CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, SUBACK,
		UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT, AUTH}
}

// requiredFlags is the fixed value of the four flag bits for every type but
// PUBLISH, whose flags carry DUP, QoS and RETAIN (3.1.1 2.2.2, 5.0 2.1.3).
func requiredFlags(t Type) byte {
	switch t {
	case PUBREL, SUBSCRIBE, UNSUBSCRIBE:
		return 0x2
	}
	return 0
}

// QoS is a quality of service level.
type QoS byte

const (
	AtMostOnce  QoS = 0
	AtLeastOnce QoS = 1
	ExactlyOnce QoS = 2
)

// Packet is one decoded MQTT control packet.
type Packet interface {
	// Type is the control packet type.
	Type() Type
	// Append appends the packet's wire form for protocol version v to dst and
	// returns the extended slice. It does not allocate when dst has room.
	// It encodes what it is given, even a packet the decoder would refuse
	// (QoS 3, packet identifier 0, a wildcard topic): the conformance suite
	// and the fuzzer send such packets on purpose. It fails only for what the
	// wire cannot express (a string over 65535 bytes, a packet over the
	// largest remaining length). Validate checks a packet against the rules.
	Append(dst []byte, v Version) ([]byte, error)
	// Size is the length of the wire form for version v, fixed header included.
	Size(v Version) int
}
