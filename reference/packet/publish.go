package packet

// Publish is the PUBLISH packet. Topic, Payload and the byte-slice
// properties alias the decoded input: copy them to keep them past the
// lifetime of the input buffer.
type Publish struct {
	Dup        bool
	QoS        QoS
	Retain     bool
	Topic      []byte
	PacketID   uint16 // only for QoS 1 and 2
	Properties Properties
	Payload    []byte
}

func (*Publish) Type() Type { return PUBLISH }

// Flags is the fixed-header flag nibble.
func (p *Publish) Flags() byte {
	f := byte(p.QoS&3) << 1
	if p.Dup {
		f |= 0x08
	}
	if p.Retain {
		f |= 0x01
	}
	return f
}

func (p *Publish) decode(flags byte, body []byte, v Version) *Error {
	p.Dup = flags&0x08 != 0
	p.QoS = QoS(flags>>1) & 3
	p.Retain = flags&0x01 != 0
	if p.QoS == 3 {
		return malformed("MQTT-3.3.1-4", "3.3.1.2", "QoS is 3 (both QoS bits set)")
	}
	if p.Dup && p.QoS == 0 {
		return malformed("MQTT-3.3.1-2", "3.3.1.1", "DUP is set on a QoS 0 message")
	}
	r := reader{b: body, v: v}
	topic, err := r.str("topic name")
	if err != nil {
		return err
	}
	p.Topic = topic
	p.PacketID = 0
	if p.QoS > 0 {
		if p.PacketID, err = r.u16("packet identifier"); err != nil {
			return err
		}
		if p.PacketID == 0 {
			return protocolErr(pick(v, "MQTT-2.3.1-1", "MQTT-2.2.1-3"), pick(v, "2.3.1", "2.2.1"), "packet identifier is 0 on a QoS %d PUBLISH", p.QoS)
		}
	}
	if v == V5 {
		if err := decodeProperties(&r, PUBLISH, &p.Properties); err != nil {
			return err
		}
	} else {
		p.Properties.reset()
	}
	// In 5.0 an empty topic is how a sender uses a Topic Alias alone.
	if e := validateTopicName(topic, v, v == V5 && p.Properties.Present.Has(PropTopicAlias)); e != nil {
		return e
	}
	p.Payload = r.rest()
	return nil
}

// validateTopicName applies the PUBLISH topic name rules after the UTF-8
// rules: not empty (unless a Topic Alias stands in for it) and no wildcard.
func validateTopicName(topic []byte, v Version, allowEmpty bool) *Error {
	if len(topic) == 0 {
		if allowEmpty {
			return nil
		}
		if v == V5 {
			return protocolErr("MQTT-4.7.3-1", "3.3.2.1", "topic name is empty and no Topic Alias is given")
		}
		return malformed("MQTT-4.7.3-1", "4.7.3", "topic name is empty")
	}
	for i, c := range topic {
		if c == '+' || c == '#' {
			// Not 0x90 Topic Name invalid, which is for well-formed names a
			// receiver declines: a wildcard breaks the protocol itself.
			return &Error{Statement: "MQTT-3.3.2-2", Section: "3.3.2.1", Reason: ProtocolError,
				Msg: "topic name contains the wildcard " + quote(string(c)) + " at byte " + itoa(i)}
		}
	}
	return nil
}

func (p *Publish) bodyLen(v Version) int {
	n := 2 + len(p.Topic) + len(p.Payload)
	if p.QoS > 0 {
		n += 2
	}
	if v == V5 {
		n += p.Properties.sizeWithLength(PUBLISH)
	}
	return n
}

func (p *Publish) Size(v Version) int { n := p.bodyLen(v); return 1 + VarIntLen(n) + n }

func (p *Publish) Append(dst []byte, v Version) ([]byte, error) {
	if err := checkLen16(len(p.Topic), "topic name"); err != nil {
		return dst, withPacket(err, PUBLISH)
	}
	n := p.bodyLen(v)
	dst = grow(dst, 1+VarIntLen(n)+n)
	dst, err := appendFixedHeader(dst, PUBLISH, p.Flags(), n)
	if err != nil {
		return dst, err
	}
	dst = appendBinary(dst, p.Topic)
	if p.QoS > 0 {
		dst = appendU16(dst, p.PacketID)
	}
	if v == V5 {
		if dst, err = p.Properties.appendTo(dst, PUBLISH); err != nil {
			return dst, withPacket(err, PUBLISH)
		}
	}
	return append(dst, p.Payload...), nil
}
