package packet

// Connack is the CONNACK packet. In 3.1 and 3.1.1 ReasonCode holds the
// connect return code (0 to 5).
type Connack struct {
	SessionPresent bool
	ReasonCode     ReasonCode
	Properties     Properties // 5.0 only
}

func (*Connack) Type() Type { return CONNACK }

func (c *Connack) decode(body []byte, v Version) *Error {
	r := reader{b: body, v: v}
	flags, err := r.byte("connect acknowledge flags")
	if err != nil {
		return err
	}
	// Bits 7-1 are reserved; in 3.1 the whole byte is.
	if flags&0xFE != 0 || (v == V31 && flags != 0) {
		return malformed(pick(v, "", "MQTT-3.2.2-1"), "3.2.2.1", "reserved bits of the connect acknowledge flags are set (0x%02X)", flags)
	}
	c.SessionPresent = flags&1 != 0
	code, err := r.byte("connect reason code")
	if err != nil {
		return err
	}
	c.ReasonCode = ReasonCode(code)
	if v == V5 {
		if !ReasonAllowed(CONNACK, c.ReasonCode) {
			return protocolErr("", "3.2.2.2", "reason code 0x%02X is not defined for CONNACK", code)
		}
		if err := decodeProperties(&r, CONNACK, &c.Properties); err != nil {
			return err
		}
	} else {
		c.Properties.reset()
		if code > 5 {
			return protocolErr("", "3.2.2.3", "connect return code %d is reserved (0 to 5 are defined)", code)
		}
	}
	if c.SessionPresent && c.ReasonCode != 0 {
		return protocolErr(pick(v, "MQTT-3.2.2-4", "MQTT-3.2.2-6"), pick(v, "3.2.2.2", "3.2.2.1.1"), "Session Present is set on a refused connection (code 0x%02X)", code)
	}
	return r.end(CONNACK)
}

func (c *Connack) bodyLen(v Version) int {
	if v == V5 {
		return 2 + c.Properties.sizeWithLength(CONNACK)
	}
	return 2
}

func (c *Connack) Size(v Version) int { n := c.bodyLen(v); return 1 + VarIntLen(n) + n }

func (c *Connack) Append(dst []byte, v Version) ([]byte, error) {
	n := c.bodyLen(v)
	dst = grow(dst, 1+VarIntLen(n)+n)
	dst, err := appendFixedHeader(dst, CONNACK, 0, n)
	if err != nil {
		return dst, err
	}
	var flags byte
	if c.SessionPresent {
		flags = 1
	}
	dst = append(dst, flags, byte(c.ReasonCode))
	if v == V5 {
		dst, err = c.Properties.appendTo(dst, CONNACK)
		return dst, withPacket(err, CONNACK)
	}
	return dst, nil
}
