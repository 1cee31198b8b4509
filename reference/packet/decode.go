package packet

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// DecodeOptions say how to read packets whose format the packet itself does
// not reveal.
type DecodeOptions struct {
	// Version of the connection: every packet but CONNECT needs it. Zero means
	// 3.1.1. A CONNECT carries its own level and is read by it.
	Version Version
	// MaxPacketSize bounds a whole packet (fixed header included). Zero means
	// the protocol's largest, 268,435,460 bytes. A larger packet is refused
	// from its header alone, before any buffer is allocated.
	MaxPacketSize int
}

func (o DecodeOptions) version() Version {
	if o.Version == 0 {
		return V311
	}
	return o.Version
}

func (o DecodeOptions) max() int {
	if o.MaxPacketSize <= 0 || o.MaxPacketSize > MaxPacketSize {
		return MaxPacketSize
	}
	return o.MaxPacketSize
}

// Header is a parsed fixed header.
type Header struct {
	Type            Type
	Flags           byte
	RemainingLength int
	HeaderLen       int // bytes taken by the fixed header (2 to 5)
}

// Size is the whole packet's length.
func (h Header) Size() int { return h.HeaderLen + h.RemainingLength }

// checkFirstByte validates packet type and flags, which is possible as soon
// as the first byte has arrived.
func checkFirstByte(c byte, v Version) (Type, byte, *Error) {
	t, flags := Type(c>>4), c&0x0F
	if t == 0 || (t == AUTH && v != V5) {
		return t, flags, malformed("", pick(v, "2.2.1", "2.1.2"), "packet type %d is reserved in MQTT %s", byte(t), v)
	}
	if t != PUBLISH && flags != requiredFlags(t) {
		e := malformed(pick(v, "MQTT-2.2.2-2", "MQTT-2.1.3-1"), pick(v, "2.2.2", "2.1.3"),
			"fixed header flags are 0x%X, %s requires 0x%X", flags, t, requiredFlags(t))
		e.Packet = t
		return t, flags, e
	}
	return t, flags, nil
}

// ParseHeader reads the fixed header at the start of b. It returns
// ErrIncomplete when b ends inside the header, and an *Error when the header
// breaks a rule or announces a packet larger than opts.MaxPacketSize.
func ParseHeader(b []byte, opts DecodeOptions) (Header, error) {
	if len(b) == 0 {
		return Header{}, ErrIncomplete
	}
	v := opts.version()
	t, flags, e := checkFirstByte(b[0], v)
	if e != nil {
		return Header{}, e
	}
	n, used, res := readVarInt(b[1:])
	if res == varIntShort {
		return Header{}, ErrIncomplete
	}
	if res != varIntOK {
		return Header{}, withPacket(varIntError(res, v, "remaining length"), t)
	}
	h := Header{Type: t, Flags: flags, RemainingLength: n, HeaderLen: 1 + used}
	if err := checkSize(h, opts); err != nil {
		return h, err
	}
	return h, nil
}

func checkSize(h Header, opts DecodeOptions) error {
	if max := opts.max(); h.Size() > max {
		return &Error{Section: pick(opts.version(), "2.2.3", "3.2.2.3.6"), Reason: PacketTooLarge, Packet: h.Type,
			Msg: fmt.Sprintf(errTooLargeMsg, h.Size(), max)}
	}
	return nil
}

// New returns an empty packet of type t, or nil for a reserved type.
func New(t Type) Packet {
	switch t {
	case CONNECT:
		return &Connect{}
	case CONNACK:
		return &Connack{}
	case PUBLISH:
		return &Publish{}
	case PUBACK:
		return &Puback{}
	case PUBREC:
		return &Pubrec{}
	case PUBREL:
		return &Pubrel{}
	case PUBCOMP:
		return &Pubcomp{}
	case SUBSCRIBE:
		return &Subscribe{}
	case SUBACK:
		return &Suback{}
	case UNSUBSCRIBE:
		return &Unsubscribe{}
	case UNSUBACK:
		return &Unsuback{}
	case PINGREQ:
		return &Pingreq{}
	case PINGRESP:
		return &Pingresp{}
	case DISCONNECT:
		return &Disconnect{}
	case AUTH:
		return &Auth{}
	}
	return nil
}

// DecodeBody fills p from the body that follows header h. p must be of
// h.Type (use New). v is the connection's version; a CONNECT ignores it.
// Byte-slice fields of p alias body.
func DecodeBody(p Packet, h Header, body []byte, v Version) error {
	if v == 0 {
		v = V311
	}
	var e *Error
	switch p := p.(type) {
	case *Connect:
		e = p.decode(body)
	case *Connack:
		e = p.decode(body, v)
	case *Publish:
		e = p.decode(h.Flags, body, v)
	case *Puback:
		e = (*pubResponse)(p).decode(PUBACK, body, v)
	case *Pubrec:
		e = (*pubResponse)(p).decode(PUBREC, body, v)
	case *Pubrel:
		e = (*pubResponse)(p).decode(PUBREL, body, v)
	case *Pubcomp:
		e = (*pubResponse)(p).decode(PUBCOMP, body, v)
	case *Subscribe:
		e = p.decode(body, v)
	case *Suback:
		e = p.decode(body, v)
	case *Unsubscribe:
		e = p.decode(body, v)
	case *Unsuback:
		e = p.decode(body, v)
	case *Pingreq, *Pingresp:
		if len(body) != 0 {
			e = malformed("", remainingLengthSection(v), "%s must have remaining length 0, got %d", h.Type, len(body))
		}
	case *Disconnect:
		e = decodeReasonAndProperties(DISCONNECT, body, v, &p.ReasonCode, &p.Properties)
	case *Auth:
		e = decodeReasonAndProperties(AUTH, body, v, &p.ReasonCode, &p.Properties)
	default:
		return fmt.Errorf("packet: cannot decode into %T", p)
	}
	if e != nil {
		if e.Packet == 0 {
			e.Packet = h.Type
		}
		return e
	}
	return nil
}

// Decode reads one packet from the start of b and returns it with the number
// of bytes it took. It returns ErrIncomplete when b holds only part of a
// packet. The packet's byte-slice fields alias b.
func Decode(b []byte, opts DecodeOptions) (Packet, int, error) {
	h, err := ParseHeader(b, opts)
	if err != nil {
		return nil, 0, err
	}
	if len(b) < h.Size() {
		return nil, 0, ErrIncomplete
	}
	p := New(h.Type)
	if err := DecodeBody(p, h, b[h.HeaderLen:h.Size():h.Size()], opts.version()); err != nil {
		return nil, h.Size(), err
	}
	return p, h.Size(), nil
}

// Decoder decodes packets from byte slices without allocating: it keeps one
// packet of each type and returns it again and again, so a returned packet is
// valid only until the next call. After it decodes a valid CONNECT it uses
// that CONNECT's version for the packets that follow.
type Decoder struct {
	Options DecodeOptions
	packets [16]Packet
}

// Decode reads one packet from the start of b, like the package-level Decode.
func (d *Decoder) Decode(b []byte) (Packet, int, error) {
	h, err := ParseHeader(b, d.Options)
	if err != nil {
		return nil, 0, err
	}
	if len(b) < h.Size() {
		return nil, 0, ErrIncomplete
	}
	p := d.packets[h.Type]
	if p == nil {
		p = New(h.Type)
		d.packets[h.Type] = p
	}
	if err := DecodeBody(p, h, b[h.HeaderLen:h.Size():h.Size()], d.Options.version()); err != nil {
		return nil, h.Size(), err
	}
	if c, ok := p.(*Connect); ok {
		d.Options.Version = c.ProtocolVersion
	}
	return p, h.Size(), nil
}

// Reader reads packets from a stream. It enforces MaxPacketSize from the
// fixed header before reading the body, and grows its buffer only as bytes
// actually arrive, so a peer that announces a huge packet and sends nothing
// costs at most one small chunk. After a valid CONNECT it switches to that
// CONNECT's version.
type Reader struct {
	Options DecodeOptions
	// Reuse makes ReadPacket return the same packet values and buffer each
	// time (no allocation per packet); a packet is then valid only until the
	// next call.
	Reuse bool
	// KeepRaw keeps the exact bytes of the last packet read (LastRaw), for
	// wire traces that must show what arrived, not a re-encoding.
	KeepRaw bool

	raw []byte
	br  *bufio.Reader
	buf []byte
	dec Decoder
}

// NewReader reads from r, buffering it unless it already is a *bufio.Reader.
func NewReader(r io.Reader, opts DecodeOptions) *Reader {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
	return &Reader{Options: opts, br: br}
}

// NewReaderSize is NewReader with a read buffer of the given size, for
// servers that keep many idle connections.
func NewReaderSize(r io.Reader, opts DecodeOptions, size int) *Reader {
	return &Reader{Options: opts, br: bufio.NewReaderSize(r, size)}
}

// LastRaw returns the bytes of the last packet read, when KeepRaw is set.
// They are valid until the next ReadPacket. A packet refused for its header
// or body leaves what was read of it.
func (r *Reader) LastRaw() []byte { return r.raw }

// Buffered is the number of bytes read from the stream and not yet decoded:
// zero means the next ReadPacket will wait for the network, a good moment
// for a caller to flush what it has to write.
func (r *Reader) Buffered() int { return r.br.Buffered() }

// chunk is how much the body buffer may grow ahead of the bytes received.
const chunk = 64 << 10

// ReadPacket reads the next packet. At a clean end of stream between packets
// it returns io.EOF; inside a packet io.ErrUnexpectedEOF (wrapped).
func (r *Reader) ReadPacket() (Packet, error) {
	r.raw = r.raw[:0]
	first, err := r.br.ReadByte()
	if err != nil {
		return nil, err
	}
	if r.KeepRaw {
		r.raw = append(r.raw, first)
	}
	v := r.Options.version()
	t, flags, e := checkFirstByte(first, v)
	if e != nil {
		return nil, e
	}
	var lenBytes [4]byte
	var h Header
	for i := 0; ; i++ {
		if i == 4 {
			return nil, withPacket(varIntError(varIntTooLong, v, "remaining length"), t)
		}
		c, err := r.br.ReadByte()
		if err != nil {
			return nil, unexpected(err, t)
		}
		lenBytes[i] = c
		if r.KeepRaw {
			r.raw = append(r.raw, c)
		}
		if c&0x80 == 0 {
			n, used, res := readVarInt(lenBytes[:i+1])
			if res != varIntOK {
				return nil, withPacket(varIntError(res, v, "remaining length"), t)
			}
			h = Header{Type: t, Flags: flags, RemainingLength: n, HeaderLen: 1 + used}
			break
		}
	}
	if err := checkSize(h, r.Options); err != nil {
		return nil, err
	}
	body, err := r.readBody(h.RemainingLength)
	if err != nil {
		return nil, unexpected(err, t)
	}
	if r.KeepRaw {
		r.raw = append(r.raw, body...)
	}
	var p Packet
	if r.Reuse {
		p = r.dec.packets[t]
		if p == nil {
			p = New(t)
			r.dec.packets[t] = p
		}
	} else {
		p = New(t)
	}
	if err := DecodeBody(p, h, body, v); err != nil {
		return nil, err
	}
	if c, ok := p.(*Connect); ok {
		r.Options.Version = c.ProtocolVersion
	}
	return p, nil
}

func (r *Reader) readBody(n int) ([]byte, error) {
	var buf []byte
	if r.Reuse {
		buf = r.buf[:0]
	}
	for len(buf) < n {
		want := min(n-len(buf), chunk)
		if cap(buf)-len(buf) < want {
			nb := make([]byte, len(buf), len(buf)+max(want, min(n-len(buf), len(buf))))
			copy(nb, buf)
			buf = nb
		}
		m, err := io.ReadFull(r.br, buf[len(buf):len(buf)+want])
		buf = buf[:len(buf)+m]
		if err != nil {
			return nil, err
		}
	}
	if r.Reuse {
		r.buf = buf
	}
	return buf[:n:n], nil
}

func unexpected(err error, t Type) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("reading %s: %w", t, err)
}

// Encode returns the wire form of p for version v in a new slice.
func Encode(p Packet, v Version) ([]byte, error) {
	return p.Append(make([]byte, 0, p.Size(v)), v)
}

// Validate reports whether p, encoded for version v, is a packet the
// decoder accepts: it encodes p and decodes the result, so the rules are the
// decoder's own, statement IDs included.
func Validate(p Packet, v Version) error {
	b, err := Encode(p, v)
	if err != nil {
		return err
	}
	_, _, err = Decode(b, DecodeOptions{Version: v})
	return err
}
