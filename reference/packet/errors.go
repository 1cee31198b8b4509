package packet

import (
	"errors"
	"fmt"
)

// Error is a violation of the MQTT wire format found while decoding or
// encoding. It says which rule was broken and how a server must react.
type Error struct {
	// Statement is the normative statement ID, e.g. "MQTT-3.3.1-4". Empty when
	// the rule is stated in the specification's prose without an ID; Section
	// then says where.
	Statement string
	// Section of the specification that states the rule, e.g. "2.2.3".
	Section string
	// Reason is the reason code a v5 server sends before closing the
	// connection (Malformed Packet, Protocol Error, ...). For 3.1 and 3.1.1 the
	// server simply closes the connection.
	Reason ReasonCode
	// Packet is the type of the packet being decoded, 0 when unknown.
	Packet Type
	// Msg says what was wrong, in terms of the input.
	Msg string
}

func (e *Error) Error() string {
	where := e.Statement
	if where == "" && e.Section != "" {
		where = "section " + e.Section
	}
	prefix := ""
	if e.Packet != 0 {
		prefix = e.Packet.String() + ": "
	}
	if where == "" {
		return fmt.Sprintf("%s%s (%s)", prefix, e.Msg, e.Reason)
	}
	return fmt.Sprintf("%s%s [%s] (%s)", prefix, e.Msg, where, e.Reason)
}

// Is reports whether target is an *Error whose non-empty fields (statement,
// section, reason, packet type) all equal e's, so tests can write
// errors.Is(err, &packet.Error{Statement: "MQTT-1.5.5-1"}).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return (t.Statement == "" || t.Statement == e.Statement) &&
		(t.Section == "" || t.Section == e.Section) &&
		(t.Reason == 0 || t.Reason == e.Reason) &&
		(t.Packet == 0 || t.Packet == e.Packet)
}

// AsError returns the *Error inside err, or nil.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// ErrIncomplete is returned by the slice decoder when the input ends before
// the packet does. It is not a protocol violation: more bytes may follow.
var ErrIncomplete = errors.New("packet: incomplete packet, more bytes needed")

// errTooLargeMsg describes a packet refused for exceeding the maximum packet
// size the decoder was given (reason Packet too large).
var errTooLargeMsg = "packet of %d bytes exceeds the maximum packet size %d"

func malformed(stmt, section, format string, args ...any) *Error {
	return &Error{Statement: stmt, Section: section, Reason: MalformedPacket, Msg: fmt.Sprintf(format, args...)}
}

func protocolErr(stmt, section, format string, args ...any) *Error {
	return &Error{Statement: stmt, Section: section, Reason: ProtocolError, Msg: fmt.Sprintf(format, args...)}
}

// withPacket fills in the packet type of an *Error if it is not set yet. It
// changes err in place, so it is only used on errors made for this call.
func withPacket(err error, t Type) error {
	if e, ok := err.(*Error); ok && e.Packet == 0 {
		e.Packet = t
	}
	return err
}
