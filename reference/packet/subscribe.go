package packet

// Subscription is one topic filter of a SUBSCRIBE with its options. In 3.1
// and 3.1.1 only QoS exists.
type Subscription struct {
	Filter            string
	QoS               QoS
	NoLocal           bool // 5.0
	RetainAsPublished bool // 5.0
	RetainHandling    byte // 5.0: 0 send retained, 1 only for new subscriptions, 2 never
}

// Options is the subscription options byte.
func (s *Subscription) Options() byte {
	o := byte(s.QoS&3) | (s.RetainHandling&3)<<4
	if s.NoLocal {
		o |= 0x04
	}
	if s.RetainAsPublished {
		o |= 0x08
	}
	return o
}

// Subscribe is the SUBSCRIBE packet.
type Subscribe struct {
	PacketID      uint16
	Properties    Properties // 5.0 only
	Subscriptions []Subscription
}

func (*Subscribe) Type() Type { return SUBSCRIBE }

func (s *Subscribe) decode(body []byte, v Version) *Error {
	r := reader{b: body, v: v}
	var err *Error
	if s.PacketID, err = r.u16("packet identifier"); err != nil {
		return err
	}
	if s.PacketID == 0 {
		return protocolErr(pick(v, "MQTT-2.3.1-1", "MQTT-2.2.1-3"), pick(v, "2.3.1", "2.2.1"), "packet identifier is 0")
	}
	if v == V5 {
		if err := decodeProperties(&r, SUBSCRIBE, &s.Properties); err != nil {
			return err
		}
		if len(s.Properties.SubscriptionIDs) > 1 {
			return protocolErr("", "3.8.2.1.2", "more than one Subscription Identifier")
		}
	} else {
		s.Properties.reset()
	}
	s.Subscriptions = s.Subscriptions[:0]
	if r.left() == 0 {
		return protocolErr(pick(v, "MQTT-3.8.3-3", "MQTT-3.8.3-2"), "3.8.3", "SUBSCRIBE has no topic filter")
	}
	for r.left() > 0 {
		f, err := r.str("topic filter")
		if err != nil {
			return err
		}
		o, err := r.byte("subscription options")
		if err != nil {
			return err
		}
		sub := Subscription{Filter: string(f), QoS: QoS(o & 3)}
		if v == V5 {
			if o&0xC0 != 0 {
				return malformed("MQTT-3.8.3-5", "3.8.3.1", "reserved bits of the subscription options are set (0x%02X) for %q", o, sub.Filter)
			}
			sub.NoLocal = o&0x04 != 0
			sub.RetainAsPublished = o&0x08 != 0
			sub.RetainHandling = (o >> 4) & 3
			if sub.RetainHandling == 3 {
				return protocolErr("", "3.8.3.1", "Retain Handling is 3 for %q", sub.Filter)
			}
		} else if o&0xFC != 0 {
			return malformed("MQTT-3-8.3-4", "3.8.3.1", "reserved bits of the requested QoS byte are set (0x%02X) for %q", o, sub.Filter)
		}
		if sub.QoS == 3 {
			if v == V5 {
				return protocolErr("", "3.8.3.1", "Maximum QoS is 3 for %q", sub.Filter)
			}
			// 3.1.1 prints this statement ID with a hyphen: MQTT-3-8.3-4.
			return malformed("MQTT-3-8.3-4", "3.8.3.1", "requested QoS is 3 for %q", sub.Filter)
		}
		if e := ValidateTopicFilter(sub.Filter, v); e != nil {
			return e.(*Error)
		}
		if v == V5 && sub.NoLocal {
			if _, shared := ParseShared(sub.Filter); shared {
				return protocolErr("MQTT-3.8.3-4", "3.8.3.1", "No Local is set on the shared subscription %q", sub.Filter)
			}
		}
		s.Subscriptions = append(s.Subscriptions, sub)
	}
	return nil
}

func (s *Subscribe) bodyLen(v Version) int {
	n := 2
	if v == V5 {
		n += s.Properties.sizeWithLength(SUBSCRIBE)
	}
	for i := range s.Subscriptions {
		n += 2 + len(s.Subscriptions[i].Filter) + 1
	}
	return n
}

func (s *Subscribe) Size(v Version) int { n := s.bodyLen(v); return 1 + VarIntLen(n) + n }

func (s *Subscribe) Append(dst []byte, v Version) ([]byte, error) {
	n := s.bodyLen(v)
	dst = grow(dst, 1+VarIntLen(n)+n)
	dst, err := appendFixedHeader(dst, SUBSCRIBE, requiredFlags(SUBSCRIBE), n)
	if err != nil {
		return dst, err
	}
	dst = appendU16(dst, s.PacketID)
	if v == V5 {
		if dst, err = s.Properties.appendTo(dst, SUBSCRIBE); err != nil {
			return dst, withPacket(err, SUBSCRIBE)
		}
	}
	for i := range s.Subscriptions {
		sub := &s.Subscriptions[i]
		if err := checkLen16(len(sub.Filter), "topic filter"); err != nil {
			return dst, withPacket(err, SUBSCRIBE)
		}
		dst = appendString(dst, sub.Filter)
		dst = append(dst, sub.Options())
	}
	return dst, nil
}

// Suback is the SUBACK packet: one reason code (3.1.1: return code) per
// requested subscription.
type Suback struct {
	PacketID    uint16
	Properties  Properties // 5.0 only
	ReasonCodes []ReasonCode
}

func (*Suback) Type() Type { return SUBACK }

func (s *Suback) decode(body []byte, v Version) *Error {
	r := reader{b: body, v: v}
	var err *Error
	if s.PacketID, err = r.u16("packet identifier"); err != nil {
		return err
	}
	if s.PacketID == 0 {
		return protocolErr("", pick(v, "2.3.1", "2.2.1"), "packet identifier is 0")
	}
	if v == V5 {
		if err := decodeProperties(&r, SUBACK, &s.Properties); err != nil {
			return err
		}
	} else {
		s.Properties.reset()
	}
	if r.left() == 0 {
		return protocolErr("", "3.9.3", "SUBACK has no return code")
	}
	s.ReasonCodes = s.ReasonCodes[:0]
	for _, c := range r.rest() {
		rc := ReasonCode(c)
		ok := rc <= GrantedQoS2 || (rc == SubackFailure311 && v != V31)
		if v == V5 {
			ok = ReasonAllowed(SUBACK, rc)
		}
		if !ok {
			return protocolErr(pick(v, "MQTT-3.9.3-2", ""), "3.9.3", "return code 0x%02X is not allowed in SUBACK", c)
		}
		s.ReasonCodes = append(s.ReasonCodes, rc)
	}
	return nil
}

func (s *Suback) bodyLen(v Version) int {
	n := 2 + len(s.ReasonCodes)
	if v == V5 {
		n += s.Properties.sizeWithLength(SUBACK)
	}
	return n
}

func (s *Suback) Size(v Version) int { n := s.bodyLen(v); return 1 + VarIntLen(n) + n }

func (s *Suback) Append(dst []byte, v Version) ([]byte, error) {
	n := s.bodyLen(v)
	dst = grow(dst, 1+VarIntLen(n)+n)
	dst, err := appendFixedHeader(dst, SUBACK, 0, n)
	if err != nil {
		return dst, err
	}
	dst = appendU16(dst, s.PacketID)
	if v == V5 {
		if dst, err = s.Properties.appendTo(dst, SUBACK); err != nil {
			return dst, withPacket(err, SUBACK)
		}
	}
	for _, c := range s.ReasonCodes {
		dst = append(dst, byte(c))
	}
	return dst, nil
}
