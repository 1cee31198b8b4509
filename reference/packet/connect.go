package packet

// Connect is the CONNECT packet (3.1.1 section 3.1, 5.0 section 3.1).
type Connect struct {
	// ProtocolName as sent: "MQTT" (3.1.1, 5.0) or "MQIsdp" (3.1). Empty
	// means "the name that belongs to ProtocolVersion" when encoding.
	ProtocolName    string
	ProtocolVersion Version
	CleanStart      bool // Clean Session in 3.1 and 3.1.1
	KeepAlive       uint16
	Properties      Properties // 5.0 only
	ClientID        string
	Will            *Will // nil when the Will Flag is 0
	// UsernameFlag and PasswordFlag are set on decode; when encoding a flag is
	// set if the field is true or the value is non-empty (Password non-nil).
	UsernameFlag bool
	Username     string
	PasswordFlag bool
	Password     []byte
}

// Will is the will message a CONNECT carries.
type Will struct {
	QoS        QoS
	Retain     bool
	Properties Properties // 5.0 only: Will Properties
	Topic      string
	Payload    []byte
}

func (*Connect) Type() Type { return CONNECT }

const (
	connFlagReserved   = 0x01
	connFlagCleanStart = 0x02
	connFlagWill       = 0x04
	connFlagWillQoS    = 0x18
	connFlagWillRetain = 0x20
	connFlagPassword   = 0x40
	connFlagUsername   = 0x80
)

// decodeConnect reads a CONNECT body. The protocol level comes from the
// packet itself, so the version the caller assumed is ignored.
func (c *Connect) decode(body []byte) *Error {
	// Until the level is known, strings are checked by the 3.1.1 rules; the
	// UTF-8 rules are the same in every version.
	r := reader{b: body, v: V311}
	name, err := r.str("protocol name")
	if err != nil {
		return err
	}
	level, err := r.byte("protocol level")
	if err != nil {
		return err
	}
	v := Version(level)
	*c = Connect{ProtocolName: string(name), ProtocolVersion: v, Properties: c.Properties}
	if !v.Valid() {
		return &Error{Statement: "MQTT-3.1.2-2", Section: "3.1.2.2", Reason: UnsupportedProtocolVersion,
			Msg: "unsupported protocol level " + itoa(int(level)) + " (this codec speaks 3, 4 and 5)"}
	}
	if c.ProtocolName != v.ProtocolName() {
		// A server may close or treat the connection by another protocol;
		// either way it must not go on with it as this specification.
		return &Error{Statement: "MQTT-3.1.2-1", Section: "3.1.2.1", Reason: UnsupportedProtocolVersion,
			Msg: "protocol name " + quote(c.ProtocolName) + " does not match protocol level " + itoa(int(level)) + " (want " + quote(v.ProtocolName()) + ")"}
	}
	r.v = v
	flags, err := r.byte("connect flags")
	if err != nil {
		return err
	}
	if flags&connFlagReserved != 0 {
		return malformed("MQTT-3.1.2-3", "3.1.2.3", "reserved connect flag (bit 0) is set")
	}
	c.CleanStart = flags&connFlagCleanStart != 0
	willQoS := QoS(flags&connFlagWillQoS) >> 3
	willRetain := flags&connFlagWillRetain != 0
	if flags&connFlagWill == 0 {
		if willQoS != 0 {
			return malformed(pick(v, "MQTT-3.1.2-13", "MQTT-3.1.2-11"), "3.1.2.6", "Will QoS is %d but the Will Flag is 0", willQoS)
		}
		if willRetain {
			return malformed(pick(v, "MQTT-3.1.2-15", "MQTT-3.1.2-13"), "3.1.2.7", "Will Retain is set but the Will Flag is 0")
		}
	} else if willQoS == 3 {
		return malformed(pick(v, "MQTT-3.1.2-14", "MQTT-3.1.2-12"), "3.1.2.6", "Will QoS is 3")
	}
	c.UsernameFlag = flags&connFlagUsername != 0
	c.PasswordFlag = flags&connFlagPassword != 0
	if v != V5 && c.PasswordFlag && !c.UsernameFlag {
		return malformed("MQTT-3.1.2-22", "3.1.2.9", "Password Flag is set but the User Name Flag is 0")
	}
	if c.KeepAlive, err = r.u16("keep alive"); err != nil {
		return err
	}
	if v == V5 {
		if err = decodeProperties(&r, CONNECT, &c.Properties); err != nil {
			return err
		}
	} else {
		c.Properties.reset()
	}
	id, err := r.str("client identifier")
	if err != nil {
		return err
	}
	c.ClientID = string(id)
	if flags&connFlagWill != 0 {
		w := &Will{QoS: willQoS, Retain: willRetain}
		if v == V5 {
			if err = decodeProperties(&r, willProperties, &w.Properties); err != nil {
				return err
			}
		}
		topic, err := r.str("will topic")
		if err != nil {
			return err
		}
		if e := validateTopicName(topic, v, false); e != nil {
			e.Msg = "will topic: " + e.Msg
			return e
		}
		w.Topic = string(topic)
		if w.Payload, err = r.binary("will payload"); err != nil {
			return err
		}
		c.Will = w
	}
	if c.UsernameFlag {
		u, err := r.str("user name")
		if err != nil {
			return err
		}
		c.Username = string(u)
	}
	if c.PasswordFlag {
		if c.Password, err = r.binary("password"); err != nil {
			return err
		}
	}
	return r.end(CONNECT)
}

func (c *Connect) version() Version {
	if c.ProtocolVersion == 0 {
		return V311
	}
	return c.ProtocolVersion
}

func (c *Connect) protocolName() string {
	if c.ProtocolName != "" {
		return c.ProtocolName
	}
	return c.version().ProtocolName()
}

func (c *Connect) bodyLen() int {
	v := c.version()
	n := 2 + len(c.protocolName()) + 1 + 1 + 2
	if v == V5 {
		n += c.Properties.sizeWithLength(CONNECT)
	}
	n += 2 + len(c.ClientID)
	if c.Will != nil {
		if v == V5 {
			n += c.Will.Properties.sizeWithLength(willProperties)
		}
		n += 2 + len(c.Will.Topic) + 2 + len(c.Will.Payload)
	}
	if c.UsernameFlag || c.Username != "" {
		n += 2 + len(c.Username)
	}
	if c.PasswordFlag || c.Password != nil {
		n += 2 + len(c.Password)
	}
	return n
}

// Size is the encoded length. CONNECT carries its own version, so v is
// ignored.
func (c *Connect) Size(Version) int { n := c.bodyLen(); return 1 + VarIntLen(n) + n }

// Append encodes the CONNECT at its own ProtocolVersion (3.1.1 when unset);
// v is ignored.
func (c *Connect) Append(dst []byte, _ Version) ([]byte, error) {
	v := c.version()
	for _, f := range []struct {
		n    int
		what string
	}{{len(c.protocolName()), "protocol name"}, {len(c.ClientID), "client identifier"}, {len(c.Username), "user name"}, {len(c.Password), "password"}} {
		if err := checkLen16(f.n, f.what); err != nil {
			return dst, withPacket(err, CONNECT)
		}
	}
	var flags byte
	if c.CleanStart {
		flags |= connFlagCleanStart
	}
	if c.Will != nil {
		if err := checkLen16(len(c.Will.Topic), "will topic"); err != nil {
			return dst, withPacket(err, CONNECT)
		}
		if err := checkLen16(len(c.Will.Payload), "will payload"); err != nil {
			return dst, withPacket(err, CONNECT)
		}
		flags |= connFlagWill | byte(c.Will.QoS&3)<<3
		if c.Will.Retain {
			flags |= connFlagWillRetain
		}
	}
	if c.UsernameFlag || c.Username != "" {
		flags |= connFlagUsername
	}
	if c.PasswordFlag || c.Password != nil {
		flags |= connFlagPassword
	}
	body := c.bodyLen()
	dst = grow(dst, 1+VarIntLen(body)+body)
	dst, err := appendFixedHeader(dst, CONNECT, 0, body)
	if err != nil {
		return dst, err
	}
	dst = appendString(dst, c.protocolName())
	dst = append(dst, byte(v), flags)
	dst = appendU16(dst, c.KeepAlive)
	if v == V5 {
		if dst, err = c.Properties.appendTo(dst, CONNECT); err != nil {
			return dst, withPacket(err, CONNECT)
		}
	}
	dst = appendString(dst, c.ClientID)
	if c.Will != nil {
		if v == V5 {
			if dst, err = c.Will.Properties.appendTo(dst, willProperties); err != nil {
				return dst, withPacket(err, CONNECT)
			}
		}
		dst = appendString(dst, c.Will.Topic)
		dst = appendBinary(dst, c.Will.Payload)
	}
	if flags&connFlagUsername != 0 {
		dst = appendString(dst, c.Username)
	}
	if flags&connFlagPassword != 0 {
		dst = appendBinary(dst, c.Password)
	}
	return dst, nil
}

// pick returns the 3.1/3.1.1 statement or the 5.0 one.
func pick(v Version, v3, v5 string) string {
	if v == V5 {
		return v5
	}
	return v3
}
