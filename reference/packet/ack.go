package packet

// pubResponse is the shared shape of PUBACK, PUBREC, PUBREL and PUBCOMP: a
// packet identifier and, in 5.0, a reason code and properties that may be
// left out when they carry nothing (5.0 section 3.4.2.1).
type pubResponse struct {
	PacketID   uint16
	ReasonCode ReasonCode // 5.0 only
	Properties Properties // 5.0 only
}

// Puback acknowledges a QoS 1 PUBLISH.
type Puback pubResponse

// Pubrec is the first answer to a QoS 2 PUBLISH.
type Pubrec pubResponse

// Pubrel releases a QoS 2 PUBLISH after PUBREC.
type Pubrel pubResponse

// Pubcomp completes a QoS 2 exchange.
type Pubcomp pubResponse

func (*Puback) Type() Type  { return PUBACK }
func (*Pubrec) Type() Type  { return PUBREC }
func (*Pubrel) Type() Type  { return PUBREL }
func (*Pubcomp) Type() Type { return PUBCOMP }

func (p *Puback) Size(v Version) int  { return (*pubResponse)(p).size(v) }
func (p *Pubrec) Size(v Version) int  { return (*pubResponse)(p).size(v) }
func (p *Pubrel) Size(v Version) int  { return (*pubResponse)(p).size(v) }
func (p *Pubcomp) Size(v Version) int { return (*pubResponse)(p).size(v) }

func (p *Puback) Append(dst []byte, v Version) ([]byte, error) {
	return (*pubResponse)(p).append(dst, PUBACK, v)
}
func (p *Pubrec) Append(dst []byte, v Version) ([]byte, error) {
	return (*pubResponse)(p).append(dst, PUBREC, v)
}
func (p *Pubrel) Append(dst []byte, v Version) ([]byte, error) {
	return (*pubResponse)(p).append(dst, PUBREL, v)
}
func (p *Pubcomp) Append(dst []byte, v Version) ([]byte, error) {
	return (*pubResponse)(p).append(dst, PUBCOMP, v)
}

func (p *pubResponse) decode(t Type, body []byte, v Version) *Error {
	r := reader{b: body, v: v}
	var err *Error
	if p.PacketID, err = r.u16("packet identifier"); err != nil {
		return err
	}
	if p.PacketID == 0 {
		return protocolErr("", pick(v, "2.3.1", "2.2.1"), "packet identifier is 0")
	}
	p.ReasonCode = Success
	p.Properties.reset()
	if v != V5 {
		return r.end(t)
	}
	if r.left() == 0 {
		return nil
	}
	code, _ := r.byte("reason code")
	p.ReasonCode = ReasonCode(code)
	if !ReasonAllowed(t, p.ReasonCode) {
		return protocolErr("", "2.4", "reason code 0x%02X is not defined for %s", code, t)
	}
	if r.left() == 0 {
		return nil
	}
	if err := decodeProperties(&r, t, &p.Properties); err != nil {
		return err
	}
	return r.end(t)
}

// bodyLen uses the shortest form: no reason code when it is Success and
// there are no properties, no property length when there are none.
func (p *pubResponse) bodyLen(t Type, v Version) int {
	if v != V5 {
		return 2
	}
	if p.Properties.Empty() {
		if p.ReasonCode == Success {
			return 2
		}
		return 3
	}
	return 3 + p.Properties.sizeWithLength(t)
}

func (p *pubResponse) size(v Version) int {
	n := p.bodyLen(0, v)
	return 1 + VarIntLen(n) + n
}

func (p *pubResponse) append(dst []byte, t Type, v Version) ([]byte, error) {
	n := p.bodyLen(t, v)
	dst = grow(dst, 1+VarIntLen(n)+n)
	dst, err := appendFixedHeader(dst, t, requiredFlags(t), n)
	if err != nil {
		return dst, err
	}
	dst = appendU16(dst, p.PacketID)
	if n > 2 {
		dst = append(dst, byte(p.ReasonCode))
	}
	if n > 3 {
		dst, err = p.Properties.appendTo(dst, t)
		return dst, withPacket(err, t)
	}
	return dst, nil
}
