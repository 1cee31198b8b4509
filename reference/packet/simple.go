package packet

// Pingreq is the PINGREQ packet.
type Pingreq struct{}

// Pingresp is the PINGRESP packet.
type Pingresp struct{}

func (*Pingreq) Type() Type        { return PINGREQ }
func (*Pingresp) Type() Type       { return PINGRESP }
func (*Pingreq) Size(Version) int  { return 2 }
func (*Pingresp) Size(Version) int { return 2 }
func (*Pingreq) Append(dst []byte, _ Version) ([]byte, error) {
	return append(dst, byte(PINGREQ)<<4, 0), nil
}
func (*Pingresp) Append(dst []byte, _ Version) ([]byte, error) {
	return append(dst, byte(PINGRESP)<<4, 0), nil
}

// Disconnect is the DISCONNECT packet. 3.1 and 3.1.1 carry nothing; 5.0 a
// reason code and properties, both left out when empty.
type Disconnect struct {
	ReasonCode ReasonCode // 5.0 only
	Properties Properties // 5.0 only
}

func (*Disconnect) Type() Type { return DISCONNECT }

// Auth is the AUTH packet of 5.0 enhanced authentication.
type Auth struct {
	ReasonCode ReasonCode
	Properties Properties
}

func (*Auth) Type() Type { return AUTH }

// reasonAndProperties is the shape DISCONNECT and AUTH share in 5.0.
func decodeReasonAndProperties(t Type, body []byte, v Version, code *ReasonCode, props *Properties) *Error {
	*code = Success
	props.reset()
	r := reader{b: body, v: v}
	if v != V5 {
		return r.end(t)
	}
	if r.left() == 0 {
		return nil
	}
	c, _ := r.byte("reason code")
	*code = ReasonCode(c)
	if !ReasonAllowed(t, *code) {
		return protocolErr("", "2.4", "reason code 0x%02X is not defined for %s", c, t)
	}
	if r.left() == 0 {
		return nil
	}
	if err := decodeProperties(&r, t, props); err != nil {
		return err
	}
	return r.end(t)
}

func reasonAndPropertiesLen(t Type, v Version, code ReasonCode, props *Properties) int {
	if v != V5 {
		return 0
	}
	if props.Empty() {
		if code == Success {
			return 0
		}
		return 1
	}
	return 1 + props.sizeWithLength(t)
}

func appendReasonAndProperties(dst []byte, t Type, v Version, code ReasonCode, props *Properties) ([]byte, error) {
	n := reasonAndPropertiesLen(t, v, code, props)
	dst = grow(dst, 1+VarIntLen(n)+n)
	dst, err := appendFixedHeader(dst, t, 0, n)
	if err != nil || n == 0 {
		return dst, err
	}
	dst = append(dst, byte(code))
	if n > 1 {
		dst, err = props.appendTo(dst, t)
		return dst, withPacket(err, t)
	}
	return dst, nil
}

func (d *Disconnect) Size(v Version) int {
	n := reasonAndPropertiesLen(DISCONNECT, v, d.ReasonCode, &d.Properties)
	return 1 + VarIntLen(n) + n
}

func (d *Disconnect) Append(dst []byte, v Version) ([]byte, error) {
	return appendReasonAndProperties(dst, DISCONNECT, v, d.ReasonCode, &d.Properties)
}

func (a *Auth) Size(v Version) int {
	n := reasonAndPropertiesLen(AUTH, V5, a.ReasonCode, &a.Properties)
	return 1 + VarIntLen(n) + n
}

// Append encodes AUTH. It exists only in 5.0, so v is ignored.
func (a *Auth) Append(dst []byte, _ Version) ([]byte, error) {
	return appendReasonAndProperties(dst, AUTH, V5, a.ReasonCode, &a.Properties)
}
