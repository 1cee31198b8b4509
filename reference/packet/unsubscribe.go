package packet

// Unsubscribe is the UNSUBSCRIBE packet.
type Unsubscribe struct {
	PacketID   uint16
	Properties Properties // 5.0 only
	Filters    []string
}

func (*Unsubscribe) Type() Type { return UNSUBSCRIBE }

func (u *Unsubscribe) decode(body []byte, v Version) *Error {
	r := reader{b: body, v: v}
	var err *Error
	if u.PacketID, err = r.u16("packet identifier"); err != nil {
		return err
	}
	if u.PacketID == 0 {
		return protocolErr(pick(v, "MQTT-2.3.1-1", "MQTT-2.2.1-3"), pick(v, "2.3.1", "2.2.1"), "packet identifier is 0")
	}
	if v == V5 {
		if err := decodeProperties(&r, UNSUBSCRIBE, &u.Properties); err != nil {
			return err
		}
	} else {
		u.Properties.reset()
	}
	u.Filters = u.Filters[:0]
	if r.left() == 0 {
		return protocolErr("MQTT-3.10.3-2", "3.10.3", "UNSUBSCRIBE has no topic filter")
	}
	for r.left() > 0 {
		f, err := r.str("topic filter")
		if err != nil {
			return err
		}
		filter := string(f)
		if e := ValidateTopicFilter(filter, v); e != nil {
			return e.(*Error)
		}
		u.Filters = append(u.Filters, filter)
	}
	return nil
}

func (u *Unsubscribe) bodyLen(v Version) int {
	n := 2
	if v == V5 {
		n += u.Properties.sizeWithLength(UNSUBSCRIBE)
	}
	for _, f := range u.Filters {
		n += 2 + len(f)
	}
	return n
}

func (u *Unsubscribe) Size(v Version) int { n := u.bodyLen(v); return 1 + VarIntLen(n) + n }

func (u *Unsubscribe) Append(dst []byte, v Version) ([]byte, error) {
	n := u.bodyLen(v)
	dst = grow(dst, 1+VarIntLen(n)+n)
	dst, err := appendFixedHeader(dst, UNSUBSCRIBE, requiredFlags(UNSUBSCRIBE), n)
	if err != nil {
		return dst, err
	}
	dst = appendU16(dst, u.PacketID)
	if v == V5 {
		if dst, err = u.Properties.appendTo(dst, UNSUBSCRIBE); err != nil {
			return dst, withPacket(err, UNSUBSCRIBE)
		}
	}
	for _, f := range u.Filters {
		if err := checkLen16(len(f), "topic filter"); err != nil {
			return dst, withPacket(err, UNSUBSCRIBE)
		}
		dst = appendString(dst, f)
	}
	return dst, nil
}

// Unsuback is the UNSUBACK packet. 3.1 and 3.1.1 carry only the packet
// identifier; 5.0 adds one reason code per topic filter.
type Unsuback struct {
	PacketID    uint16
	Properties  Properties   // 5.0 only
	ReasonCodes []ReasonCode // 5.0 only
}

func (*Unsuback) Type() Type { return UNSUBACK }

func (u *Unsuback) decode(body []byte, v Version) *Error {
	r := reader{b: body, v: v}
	var err *Error
	if u.PacketID, err = r.u16("packet identifier"); err != nil {
		return err
	}
	if u.PacketID == 0 {
		return protocolErr("", pick(v, "2.3.1", "2.2.1"), "packet identifier is 0")
	}
	u.ReasonCodes = u.ReasonCodes[:0]
	if v != V5 {
		u.Properties.reset()
		return r.end(UNSUBACK)
	}
	if err := decodeProperties(&r, UNSUBACK, &u.Properties); err != nil {
		return err
	}
	if r.left() == 0 {
		return protocolErr("", "3.11.3", "UNSUBACK has no reason code")
	}
	for _, c := range r.rest() {
		if !ReasonAllowed(UNSUBACK, ReasonCode(c)) {
			return protocolErr("", "3.11.3", "reason code 0x%02X is not allowed in UNSUBACK", c)
		}
		u.ReasonCodes = append(u.ReasonCodes, ReasonCode(c))
	}
	return nil
}

func (u *Unsuback) bodyLen(v Version) int {
	if v != V5 {
		return 2
	}
	return 2 + u.Properties.sizeWithLength(UNSUBACK) + len(u.ReasonCodes)
}

func (u *Unsuback) Size(v Version) int { n := u.bodyLen(v); return 1 + VarIntLen(n) + n }

func (u *Unsuback) Append(dst []byte, v Version) ([]byte, error) {
	n := u.bodyLen(v)
	dst = grow(dst, 1+VarIntLen(n)+n)
	dst, err := appendFixedHeader(dst, UNSUBACK, 0, n)
	if err != nil {
		return dst, err
	}
	dst = appendU16(dst, u.PacketID)
	if v == V5 {
		if dst, err = u.Properties.appendTo(dst, UNSUBACK); err != nil {
			return dst, withPacket(err, UNSUBACK)
		}
		for _, c := range u.ReasonCodes {
			dst = append(dst, byte(c))
		}
	}
	return dst, nil
}
