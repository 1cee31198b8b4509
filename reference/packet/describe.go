package packet

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file describes packets for people: every consumer that shows a packet
// (the decode command, the conformance harness's wire trace, fuzz reproducers)
// uses Describe, Summary and Fields.Text so packets look the same everywhere.

// Field is one named part of a described packet. Name is what the
// specification calls the field or property ("Topic Name", "Message Expiry
// Interval"). Value is one of:
//
//	bool        a flag
//	int         QoS, a packet identifier, a Two Byte or Variable Byte Integer
//	uint32      a Four Byte Integer (the intervals, Maximum Packet Size)
//	string      a UTF-8 Encoded String
//	Binary      Binary Data or a payload
//	Reason      a reason code (3.1/3.1.1: a return code) with its name
//	Fields      a nested group (the Will of a CONNECT)
//	[]Fields    a list of groups (the subscriptions of a SUBSCRIBE)
//	[]string    topic filters (UNSUBSCRIBE)
//	[]Reason    reason or return codes (SUBACK, UNSUBACK)
//	[]int       Subscription Identifiers
//	[]UserPair  User Properties, in wire order
type Field struct {
	Name  string
	Value any
}

// Fields is a packet's description in wire order. It marshals to a JSON
// object whose keys keep that order.
type Fields []Field

// DescribeMaxBytes is how many bytes of binary data (payloads, passwords,
// Correlation Data) a description keeps unless DescribeOptions say otherwise.
const DescribeMaxBytes = 256

// summaryMaxBytes bounds the payload in the one-line Summary.
const summaryMaxBytes = 64

// DescribeOptions tune Describe.
type DescribeOptions struct {
	// Full keeps binary data whole.
	Full bool
	// MaxBytes is how much binary data to keep when not Full; zero means
	// DescribeMaxBytes.
	MaxBytes int
}

func (o DescribeOptions) limit() int {
	switch {
	case o.Full:
		return -1
	case o.MaxBytes > 0:
		return o.MaxBytes
	}
	return DescribeMaxBytes
}

// Describe lists the fields of p as they appear on the wire for protocol
// version v (zero means 3.1.1; a CONNECT is described by its own level):
// the fixed-header flags of a PUBLISH, then the variable header, the
// properties that are present (5.0 only, by their specification names, in
// identifier order) and the payload. Binary data longer than
// DescribeMaxBytes is cut; see DescribeWith. The result does not alias p.
// It is nil for a nil packet.
func Describe(p Packet, v Version) Fields { return DescribeWith(p, v, DescribeOptions{}) }

// DescribeWith is Describe with options.
func DescribeWith(p Packet, v Version, o DescribeOptions) Fields {
	if v == 0 {
		v = V311
	}
	d := describer{limit: o.limit(), fs: Fields{}}
	switch p := p.(type) {
	case *Connect:
		d.connect(p)
	case *Connack:
		d.add("Session Present", p.SessionPresent)
		d.add(pick(v, "Return Code", "Reason Code"), describeReason(CONNACK, v, p.ReasonCode))
		d.props(&p.Properties, v)
	case *Publish:
		d.add("DUP", p.Dup)
		d.add("QoS", int(p.QoS))
		d.add("RETAIN", p.Retain)
		d.add("Topic Name", string(p.Topic))
		if p.QoS > 0 {
			d.add("Packet Identifier", int(p.PacketID))
		}
		d.props(&p.Properties, v)
		d.bin("Payload", p.Payload)
	case *Puback:
		d.pubResponse(PUBACK, (*pubResponse)(p), v)
	case *Pubrec:
		d.pubResponse(PUBREC, (*pubResponse)(p), v)
	case *Pubrel:
		d.pubResponse(PUBREL, (*pubResponse)(p), v)
	case *Pubcomp:
		d.pubResponse(PUBCOMP, (*pubResponse)(p), v)
	case *Subscribe:
		d.add("Packet Identifier", int(p.PacketID))
		d.props(&p.Properties, v)
		subs := make([]Fields, 0, len(p.Subscriptions))
		for i := range p.Subscriptions {
			s := &p.Subscriptions[i]
			f := Fields{{"Topic Filter", s.Filter}, {"QoS", int(s.QoS)}}
			if v == V5 {
				f = append(f, Field{"No Local", s.NoLocal}, Field{"Retain As Published", s.RetainAsPublished},
					Field{"Retain Handling", int(s.RetainHandling)})
			}
			subs = append(subs, f)
		}
		d.add("Subscriptions", subs)
	case *Suback:
		d.add("Packet Identifier", int(p.PacketID))
		d.props(&p.Properties, v)
		d.add(pick(v, "Return Codes", "Reason Codes"), describeReasons(SUBACK, v, p.ReasonCodes))
	case *Unsubscribe:
		d.add("Packet Identifier", int(p.PacketID))
		d.props(&p.Properties, v)
		d.add("Topic Filters", slices.Clone(p.Filters))
	case *Unsuback:
		d.add("Packet Identifier", int(p.PacketID))
		if v == V5 {
			d.props(&p.Properties, v)
			d.add("Reason Codes", describeReasons(UNSUBACK, v, p.ReasonCodes))
		}
	case *Pingreq, *Pingresp:
	case *Disconnect:
		if v == V5 {
			d.add("Reason Code", describeReason(DISCONNECT, v, p.ReasonCode))
			d.props(&p.Properties, v)
		}
	case *Auth: // 5.0 only, whatever v says
		d.add("Reason Code", describeReason(AUTH, V5, p.ReasonCode))
		d.props(&p.Properties, V5)
	default:
		return nil
	}
	return d.fs
}

type describer struct {
	fs    Fields
	limit int
}

func (d *describer) add(name string, value any) { d.fs = append(d.fs, Field{name, value}) }

func (d *describer) bin(name string, b []byte) { d.add(name, newBinary(b, d.limit)) }

func (d *describer) connect(c *Connect) {
	v := c.version()
	d.add("Protocol Name", c.protocolName())
	d.add("Protocol Level", int(v))
	d.add(pick(v, "Clean Session", "Clean Start"), c.CleanStart)
	d.add("Keep Alive", int(c.KeepAlive))
	d.props(&c.Properties, v)
	d.add("Client Identifier", c.ClientID)
	if w := c.Will; w != nil {
		wd := describer{limit: d.limit, fs: Fields{}}
		wd.add("QoS", int(w.QoS))
		wd.add("Retain", w.Retain)
		wd.props(&w.Properties, v)
		wd.add("Topic", w.Topic)
		wd.bin("Payload", w.Payload)
		d.add("Will", wd.fs)
	}
	if c.UsernameFlag || c.Username != "" {
		d.add("User Name", c.Username)
	}
	if c.PasswordFlag || c.Password != nil {
		d.bin("Password", c.Password)
	}
}

func (d *describer) pubResponse(t Type, p *pubResponse, v Version) {
	d.add("Packet Identifier", int(p.PacketID))
	if v == V5 {
		d.add("Reason Code", describeReason(t, v, p.ReasonCode))
		d.props(&p.Properties, v)
	}
}

// props adds the properties that are present, in identifier order. Only
// 5.0 packets carry properties.
func (d *describer) props(p *Properties, v Version) {
	if v != V5 {
		return
	}
	for id := PropertyID(1); id <= maxPropertyID; id++ {
		if !id.Known() || !p.Has(id) {
			continue
		}
		name := id.String()
		switch propTable[id].kind {
		case propKindByte:
			b := p.byteOf(id)
			// Most one-byte properties are booleans; Payload Format
			// Indicator and Maximum QoS are numbers, and so is any value
			// that is neither 0 nor 1 (a packet built to break the rules).
			if id == PropPayloadFormat || id == PropMaximumQoS || b > 1 {
				d.add(name, int(b))
			} else {
				d.add(name, b == 1)
			}
		case propKindU16:
			d.add(name, int(p.u16Of(id)))
		case propKindU32:
			d.add(name, p.u32Of(id))
		case propKindVarInt:
			ids := make([]int, len(p.SubscriptionIDs))
			copy(ids, p.SubscriptionIDs)
			d.add(name, ids)
		case propKindString:
			d.add(name, string(p.bytesOf(id)))
		case propKindBinary:
			d.bin(name, p.bytesOf(id))
		case propKindPair:
			pairs := make([]UserPair, len(p.User))
			for i, u := range p.User {
				pairs[i] = UserPair{string(u.Key), string(u.Value)}
			}
			d.add(name, pairs)
		}
	}
}

// Binary is binary data in a description: a payload, a password,
// Correlation Data or Authentication Data. It holds a copy of the bytes
// shown, which are all of them or, when the data was cut, the first ones.
type Binary struct {
	Data []byte // the bytes kept
	Len  int    // the length of the whole data
}

func newBinary(b []byte, limit int) Binary {
	shown := b
	if limit >= 0 && len(b) > limit {
		shown = b[:limit]
		// Do not cut a UTF-8 sequence in two: text stays text.
		for i := 1; i <= utf8.UTFMax-1 && i < limit && !utf8.Valid(shown); i++ {
			if utf8.Valid(b[:limit-i]) {
				shown = b[:limit-i]
			}
		}
	}
	return Binary{Data: bytes.Clone(shown), Len: len(b)}
}

// Truncated reports whether only part of the data was kept.
func (b Binary) Truncated() bool { return len(b.Data) < b.Len }

// IsText reports whether the kept bytes are shown as text: valid UTF-8 of
// printable characters (tabs and line breaks allowed) that does not start
// with "hex:", so that the two forms cannot be confused.
func (b Binary) IsText() bool {
	if bytes.HasPrefix(b.Data, []byte("hex:")) || !utf8.Valid(b.Data) {
		return false
	}
	for _, r := range string(b.Data) {
		if !unicode.IsPrint(r) && r != '\t' && r != '\n' && r != '\r' {
			return false
		}
	}
	return true
}

// Render is the data as text, or as "hex:" and lower-case hex digits when it
// is not printable text; "…" follows when the data was cut.
func (b Binary) Render() string {
	s := b.render(false)
	if b.Truncated() {
		s += "…"
	}
	return s
}

func (b Binary) render(quote bool) string {
	if b.IsText() {
		if quote {
			return strconv.Quote(string(b.Data))
		}
		return string(b.Data)
	}
	return "hex:" + hex.EncodeToString(b.Data)
}

// String is the one-line form: quoted text or hex, then the length, e.g.
// `"21.5" (4 bytes)`, `hex:00ff (2 bytes)` or
// `"aaaa"… (300 bytes, first 256 shown)`.
func (b Binary) String() string {
	s := b.render(true)
	if b.Truncated() {
		return fmt.Sprintf("%s… (%d bytes, first %d shown)", s, b.Len, len(b.Data))
	}
	if b.Len == 1 {
		return s + " (1 byte)"
	}
	return fmt.Sprintf("%s (%d bytes)", s, b.Len)
}

// MarshalJSON writes Render as a JSON string.
func (b Binary) MarshalJSON() ([]byte, error) { return json.Marshal(b.Render()) }

// Reason is a reason code (in 3.1 and 3.1.1: a CONNACK or SUBACK return
// code) with the name the specification gives it in the packet at hand,
// e.g. "Granted QoS 1" in a SUBACK and "Normal disconnection" in a
// DISCONNECT for the codes that several packets share.
type Reason struct {
	Code ReasonCode
	Name string // empty for a code the specification does not define there
}

// String is the code in hex and its name, e.g. "0x87 Not authorized".
func (r Reason) String() string {
	if r.Name == "" {
		return fmt.Sprintf("0x%02X", byte(r.Code))
	}
	return fmt.Sprintf("0x%02X %s", byte(r.Code), r.Name)
}

// MarshalJSON writes String as a JSON string.
func (r Reason) MarshalJSON() ([]byte, error) { return json.Marshal(r.String()) }

func describeReason(t Type, v Version, c ReasonCode) Reason {
	return Reason{Code: c, Name: reasonName(t, v, c)}
}

func describeReasons(t Type, v Version, cs []ReasonCode) []Reason {
	out := make([]Reason, len(cs))
	for i, c := range cs {
		out[i] = describeReason(t, v, c)
	}
	return out
}

// reasonName names code c as it is used in packets of type t.
func reasonName(t Type, v Version, c ReasonCode) string {
	if v != V5 {
		switch t {
		case CONNACK:
			switch {
			case c == ConnAccepted:
				return "Connection Accepted"
			case c <= ConnRefusedNotAuthorized:
				return "Connection Refused, " + ReturnCode311Name(c)
			}
			return ""
		case SUBACK:
			switch {
			case c <= GrantedQoS2:
				return "Success - Maximum QoS " + itoa(int(c))
			case c == SubackFailure311:
				return "Failure"
			}
			return ""
		}
	}
	if c == Success {
		switch t {
		case SUBACK:
			return "Granted QoS 0"
		case DISCONNECT:
			return "Normal disconnection"
		}
	}
	return c.Name()
}

// UserPair is one User Property.
type UserPair struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// String is the pair as `"key": "value"`.
func (u UserPair) String() string { return strconv.Quote(u.Key) + ": " + strconv.Quote(u.Value) }

// Get returns the value of the first field called name.
func (fs Fields) Get(name string) (any, bool) {
	for _, f := range fs {
		if f.Name == name {
			return f.Value, true
		}
	}
	return nil, false
}

// MarshalJSON writes the fields as one JSON object whose keys keep the wire
// order.
func (fs Fields) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range fs {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(f.Name)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		val, err := json.Marshal(f.Value)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", f.Name, err)
		}
		b.Write(val)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Text renders the fields one per line as "Name: value", each line starting
// with indent. Groups and lists follow on their own lines, indented two more
// spaces, list items marked "- ":
//
//	Topic Name: "Long-Home/Küche/Temperatur"
//	Payload: "21.5" (4 bytes)
//	Subscriptions:
//	  - Topic Filter: "Long-Home/Wohnzimmer/#"
//	    QoS: 1
func (fs Fields) Text(indent string) string {
	var b strings.Builder
	fs.writeText(&b, indent)
	return b.String()
}

func (fs Fields) writeText(b *strings.Builder, indent string) {
	for _, f := range fs {
		var items []string // one-line items of a list of scalars
		switch v := f.Value.(type) {
		case Fields:
			if len(v) == 0 {
				fmt.Fprintf(b, "%s%s: {}\n", indent, f.Name)
				continue
			}
			fmt.Fprintf(b, "%s%s:\n", indent, f.Name)
			v.writeText(b, indent+"  ")
			continue
		case []Fields:
			if len(v) == 0 {
				fmt.Fprintf(b, "%s%s: []\n", indent, f.Name)
				continue
			}
			fmt.Fprintf(b, "%s%s:\n", indent, f.Name)
			for _, item := range v {
				if len(item) == 0 {
					fmt.Fprintf(b, "%s  - {}\n", indent)
					continue
				}
				s := item.Text(indent + "    ")
				b.WriteString(indent + "  - " + s[len(indent)+4:])
			}
			continue
		case []string:
			items = mapFormat(v)
		case []int:
			items = mapFormat(v)
		case []Reason:
			items = mapFormat(v)
		case []UserPair:
			items = mapFormat(v)
		default:
			fmt.Fprintf(b, "%s%s: %s\n", indent, f.Name, FormatValue(f.Value))
			continue
		}
		if len(items) == 0 {
			fmt.Fprintf(b, "%s%s: []\n", indent, f.Name)
			continue
		}
		fmt.Fprintf(b, "%s%s:\n", indent, f.Name)
		for _, it := range items {
			fmt.Fprintf(b, "%s  - %s\n", indent, it)
		}
	}
}

func mapFormat[T any](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = FormatValue(x)
	}
	return out
}

// FormatValue renders one field value on one line: strings quoted, Binary,
// Reason and UserPair by their String method, groups as {Name: value, ...}
// and lists as [a, b].
func FormatValue(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case Fields:
		parts := make([]string, len(v))
		for i, f := range v {
			parts[i] = f.Name + ": " + FormatValue(f.Value)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []Fields:
		return "[" + strings.Join(mapFormat(v), ", ") + "]"
	case []string:
		return "[" + strings.Join(mapFormat(v), ", ") + "]"
	case []int:
		return "[" + strings.Join(mapFormat(v), ", ") + "]"
	case []Reason:
		return "[" + strings.Join(mapFormat(v), ", ") + "]"
	case []UserPair:
		return "[" + strings.Join(mapFormat(v), ", ") + "]"
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprint(v)
}

// Summary is a one-line form of p for traces, e.g.
//
//	PUBLISH qos=1 id=7 retain topic="Long-Home/Küche/Temperatur" payload="21.5" (4 bytes)
//	SUBACK id=3 reasons=[0x01 Granted QoS 1, 0x87 Not authorized]
//
// Payloads longer than 64 bytes are cut. v is the protocol version as for
// Describe.
func Summary(p Packet, v Version) string {
	if p == nil {
		return "<nil packet>"
	}
	if v == 0 {
		v = V311
	}
	s := summary{b: []string{p.Type().String()}}
	switch p := p.(type) {
	case *Connect:
		cv := p.version()
		s.add("mqtt=" + cv.String())
		s.add("client=" + strconv.Quote(p.ClientID))
		if p.CleanStart {
			s.add("clean")
		}
		s.add("keepalive=" + itoa(int(p.KeepAlive)))
		if w := p.Will; w != nil {
			s.add("will=" + strconv.Quote(w.Topic))
			s.add("will-qos=" + itoa(int(w.QoS)))
			if w.Retain {
				s.add("will-retain")
			}
		}
		if p.UsernameFlag || p.Username != "" {
			s.add("user=" + strconv.Quote(p.Username))
		}
		if p.PasswordFlag || p.Password != nil {
			s.add("password")
		}
	case *Connack:
		if p.SessionPresent {
			s.add("session-present")
		}
		s.reason(describeReason(CONNACK, v, p.ReasonCode))
		s.reasonString(&p.Properties, v)
	case *Publish:
		s.add("qos=" + itoa(int(p.QoS)))
		if p.QoS > 0 {
			s.add("id=" + itoa(int(p.PacketID)))
		}
		if p.Dup {
			s.add("dup")
		}
		if p.Retain {
			s.add("retain")
		}
		s.add("topic=" + strconv.Quote(string(p.Topic)))
		if v == V5 && p.Properties.Has(PropTopicAlias) {
			s.add("alias=" + itoa(int(p.Properties.TopicAlias)))
		}
		s.add("payload=" + newBinary(p.Payload, summaryMaxBytes).String())
	case *Puback:
		s.pubResponse(PUBACK, (*pubResponse)(p), v)
	case *Pubrec:
		s.pubResponse(PUBREC, (*pubResponse)(p), v)
	case *Pubrel:
		s.pubResponse(PUBREL, (*pubResponse)(p), v)
	case *Pubcomp:
		s.pubResponse(PUBCOMP, (*pubResponse)(p), v)
	case *Subscribe:
		s.add("id=" + itoa(int(p.PacketID)))
		subs := make([]string, len(p.Subscriptions))
		for i, sub := range p.Subscriptions {
			one := strconv.Quote(sub.Filter) + " qos=" + itoa(int(sub.QoS))
			if v == V5 {
				if sub.NoLocal {
					one += " no-local"
				}
				if sub.RetainAsPublished {
					one += " rap"
				}
				if sub.RetainHandling != 0 {
					one += " rh=" + itoa(int(sub.RetainHandling))
				}
			}
			subs[i] = one
		}
		s.add("filters=[" + strings.Join(subs, ", ") + "]")
	case *Suback:
		s.add("id=" + itoa(int(p.PacketID)))
		s.add("reasons=" + FormatValue(describeReasons(SUBACK, v, p.ReasonCodes)))
		s.reasonString(&p.Properties, v)
	case *Unsubscribe:
		s.add("id=" + itoa(int(p.PacketID)))
		s.add("filters=" + FormatValue(p.Filters))
	case *Unsuback:
		s.add("id=" + itoa(int(p.PacketID)))
		if v == V5 {
			s.add("reasons=" + FormatValue(describeReasons(UNSUBACK, v, p.ReasonCodes)))
			s.reasonString(&p.Properties, v)
		}
	case *Disconnect:
		if v == V5 && p.ReasonCode != Success {
			s.reason(describeReason(DISCONNECT, v, p.ReasonCode))
		}
		s.reasonString(&p.Properties, v)
	case *Auth:
		s.reason(describeReason(AUTH, V5, p.ReasonCode))
		if p.Properties.Has(PropAuthMethod) {
			s.add("method=" + strconv.Quote(string(p.Properties.AuthMethod)))
		}
		s.reasonString(&p.Properties, V5)
	}
	return strings.Join(s.b, " ")
}

type summary struct{ b []string }

func (s *summary) add(part string) { s.b = append(s.b, part) }

func (s *summary) reason(r Reason) { s.add("reason=" + strconv.Quote(r.String())) }

func (s *summary) reasonString(p *Properties, v Version) {
	if v == V5 && p.Has(PropReasonString) {
		s.add("reason-string=" + strconv.Quote(string(p.ReasonString)))
	}
}

func (s *summary) pubResponse(t Type, p *pubResponse, v Version) {
	s.add("id=" + itoa(int(p.PacketID)))
	if v == V5 && p.ReasonCode != Success {
		s.reason(describeReason(t, v, p.ReasonCode))
	}
	s.reasonString(&p.Properties, v)
}
