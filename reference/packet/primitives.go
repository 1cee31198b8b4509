package packet

import (
	"encoding/binary"
)

// MaxVarInt is the largest value a Variable Byte Integer can carry (four bytes).
const MaxVarInt = 268_435_455

// MaxPacketSize is the largest packet the protocol can express: one type byte,
// four length bytes and MaxVarInt bytes of content.
const MaxPacketSize = 1 + 4 + MaxVarInt

// VarIntLen is the number of bytes the minimal encoding of n takes.
func VarIntLen(n int) int {
	switch {
	case n < 128:
		return 1
	case n < 16_384:
		return 2
	case n < 2_097_152:
		return 3
	default:
		return 4
	}
}

// AppendVarInt appends the minimal Variable Byte Integer encoding of n.
// n must be in [0, MaxVarInt]; callers check that before.
func AppendVarInt(dst []byte, n int) []byte {
	for {
		b := byte(n & 0x7F)
		n >>= 7
		if n == 0 {
			return append(dst, b)
		}
		dst = append(dst, b|0x80)
	}
}

// varIntResult distinguishes the ways a Variable Byte Integer can fail.
type varIntResult int

const (
	varIntOK varIntResult = iota
	varIntShort
	varIntTooLong
	varIntNotMinimal
)

// readVarInt decodes a Variable Byte Integer from the start of b.
// It returns the value, the bytes used and whether it was well formed:
// at most four bytes, and minimal (a last byte of 0x00 after a continuation
// byte means the same value fits in fewer bytes).
func readVarInt(b []byte) (value int, n int, res varIntResult) {
	mult := 0
	for i := 0; i < 4; i++ {
		if i >= len(b) {
			return 0, i, varIntShort
		}
		c := b[i]
		value |= int(c&0x7F) << mult
		if c&0x80 == 0 {
			if i > 0 && c == 0 {
				return value, i + 1, varIntNotMinimal
			}
			return value, i + 1, varIntOK
		}
		mult += 7
	}
	return 0, 4, varIntTooLong
}

func varIntError(res varIntResult, v Version, what string) *Error {
	stmt, sec := "", "2.2.3"
	if v == V5 {
		stmt, sec = "MQTT-1.5.5-1", "1.5.5"
	}
	switch res {
	case varIntTooLong:
		// The 4-byte limit is stated in prose, without a statement ID.
		return malformed("", sec, "%s: variable byte integer continues past its fourth byte", what)
	case varIntNotMinimal:
		return malformed(stmt, sec, "%s: variable byte integer is not minimally encoded", what)
	}
	return malformed("", sec, "%s: variable byte integer is truncated", what)
}

// reader walks the body of one packet. Every read checks bounds against the
// remaining length, so truncated fields become Malformed Packet errors.
type reader struct {
	b   []byte
	off int
	v   Version
}

func (r *reader) left() int { return len(r.b) - r.off }

func (r *reader) short(what string, need int) *Error {
	return malformed("", remainingLengthSection(r.v), "%s needs %d bytes but only %d remain within the remaining length", what, need, r.left())
}

func remainingLengthSection(v Version) string {
	if v == V5 {
		return "2.1.4"
	}
	return "2.2.3"
}

func (r *reader) byte(what string) (byte, *Error) {
	if r.off >= len(r.b) {
		return 0, r.short(what, 1)
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

func (r *reader) u16(what string) (uint16, *Error) {
	if r.left() < 2 {
		return 0, r.short(what, 2)
	}
	x := binary.BigEndian.Uint16(r.b[r.off:])
	r.off += 2
	return x, nil
}

func (r *reader) u32(what string) (uint32, *Error) {
	if r.left() < 4 {
		return 0, r.short(what, 4)
	}
	x := binary.BigEndian.Uint32(r.b[r.off:])
	r.off += 4
	return x, nil
}

func (r *reader) varInt(what string) (int, *Error) {
	x, n, res := readVarInt(r.b[r.off:])
	if res != varIntOK {
		if res == varIntShort {
			return 0, r.short(what, n+1)
		}
		return 0, varIntError(res, r.v, what)
	}
	r.off += n
	return x, nil
}

// binary reads Binary Data: a two-byte length and that many bytes. The
// result aliases the input and is never nil, so presence survives.
func (r *reader) binary(what string) ([]byte, *Error) {
	if r.left() < 2 {
		return nil, r.short(what+" length", 2)
	}
	n := binary.BigEndian.Uint16(r.b[r.off:])
	r.off += 2
	if r.left() < int(n) {
		return nil, r.short(what, int(n))
	}
	s := r.b[r.off : r.off+int(n) : r.off+int(n)]
	r.off += int(n)
	return s, nil
}

// str reads a UTF-8 Encoded String and applies the UTF-8 rules.
func (r *reader) str(what string) ([]byte, *Error) {
	s, err := r.binary(what)
	if err != nil {
		return nil, err
	}
	if e := checkUTF8(s, r.v); e != nil {
		e.Msg = what + ": " + e.Msg
		return nil, e
	}
	return s, nil
}

func (r *reader) rest() []byte {
	s := r.b[r.off:len(r.b):len(r.b)]
	r.off = len(r.b)
	return s
}

// end reports content left over after the last field: the remaining length
// promised more than the packet contains.
func (r *reader) end(t Type) *Error {
	if r.off != len(r.b) {
		return malformed("", remainingLengthSection(r.v), "%d byte(s) left over after the last field: the remaining length does not match the content", len(r.b)-r.off)
	}
	return nil
}

func appendU16(dst []byte, x uint16) []byte { return append(dst, byte(x>>8), byte(x)) }
func appendU32(dst []byte, x uint32) []byte {
	return append(dst, byte(x>>24), byte(x>>16), byte(x>>8), byte(x))
}

func appendBinary(dst []byte, s []byte) []byte {
	dst = appendU16(dst, uint16(len(s)))
	return append(dst, s...)
}

func appendString(dst []byte, s string) []byte {
	dst = appendU16(dst, uint16(len(s)))
	return append(dst, s...)
}

// checkLen16 refuses, at encode time, a field that does not fit a two-byte length.
func checkLen16(n int, what string) error {
	if n > 65535 {
		return malformed("", "1.5.4", "%s is %d bytes; strings and binary data are limited to 65535", what, n)
	}
	return nil
}

// appendFixedHeader writes the first byte and the remaining length.
func appendFixedHeader(dst []byte, t Type, flags byte, remaining int) ([]byte, error) {
	if remaining > MaxVarInt {
		return dst, &Error{Section: "2.2.3", Reason: PacketTooLarge, Packet: t, Msg: "packet content exceeds the largest remaining length (268435455 bytes)"}
	}
	dst = append(dst, byte(t)<<4|flags&0x0F)
	return AppendVarInt(dst, remaining), nil
}

// grow makes sure dst has room for n more bytes, so the appends that follow
// do not reallocate more than once.
func grow(dst []byte, n int) []byte {
	if cap(dst)-len(dst) >= n {
		return dst
	}
	nb := make([]byte, len(dst), len(dst)+n)
	copy(nb, dst)
	return nb
}
