package packet

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// describeCase is a packet that is encoded, decoded again and then described,
// so the description is checked on what the decoder produces.
type describeCase struct {
	name    string
	p       Packet
	v       Version
	text    string // Describe(...).Text("")
	summary string
}

func describeCases() []describeCase {
	connect5 := &Connect{ProtocolVersion: V5, CleanStart: true, KeepAlive: 30, ClientID: "sensor-küche-1",
		Will:     &Will{QoS: 1, Retain: true, Topic: "Long-Home/Küche/status", Payload: []byte("offline")},
		Username: "fleet", Password: []byte{0x00, 0xFF}}
	connect5.Properties.SessionExpiry = 3600
	connect5.Properties.ReceiveMaximum = 20
	connect5.Properties.RequestProblemInfo = 1
	connect5.Properties.Present = connect5.Properties.Present.With(PropRequestProblemInfo)
	connect5.Will.Properties.WillDelay = 5
	connect5.Will.Properties.PayloadFormat = 1

	pub5 := &Publish{QoS: 1, PacketID: 7, Retain: true, Topic: []byte("Long-Home/Küche/Temperatur"), Payload: []byte("21.5")}
	pub5.Properties.MessageExpiry = 60
	pub5.Properties.TopicAlias = 3
	pub5.Properties.CorrelationData = []byte{1, 2}
	pub5.Properties.SubscriptionIDs = []int{4, 9}
	pub5.Properties.AddUser("unit", "°C")
	pub5.Properties.AddUser("unit", "K")

	connack5 := &Connack{ReasonCode: NotAuthorized}
	connack5.Properties.ReasonString = []byte("no ACL entry")
	connack5.Properties.RetainAvailable = 0
	connack5.Properties.Present = connack5.Properties.Present.With(PropRetainAvailable)
	connack5.Properties.MaximumQoS = 1

	puback5 := &Puback{PacketID: 7, ReasonCode: NoMatchingSubscribers}
	puback5.Properties.ReasonString = []byte("nobody listens")

	sub5 := &Subscribe{PacketID: 3, Subscriptions: []Subscription{
		{Filter: "Long-Home/Wohnzimmer/#", QoS: 1, NoLocal: true, RetainHandling: 2},
		{Filter: "$share/g/Long-Home/+/Temperatur", QoS: 2, RetainAsPublished: true},
	}}
	sub5.Properties.SubscriptionIDs = []int{12}

	auth := &Auth{ReasonCode: ContinueAuthentication}
	auth.Properties.AuthMethod = []byte("SCRAM-SHA-256")
	auth.Properties.AuthData = []byte("n,,n=user,r=abc")

	disc5 := &Disconnect{ReasonCode: SessionTakenOver}
	disc5.Properties.SessionExpiry = 0
	disc5.Properties.Present = disc5.Properties.Present.With(PropSessionExpiry)

	return []describeCase{
		{
			name: "CONNECT 3.1.1", v: V311,
			p: &Connect{ProtocolVersion: V311, CleanStart: true, KeepAlive: 60, ClientID: "node-1",
				Username: "u", PasswordFlag: true, Password: []byte("pw")},
			text: `Protocol Name: "MQTT"
Protocol Level: 4
Clean Session: true
Keep Alive: 60
Client Identifier: "node-1"
User Name: "u"
Password: "pw" (2 bytes)
`,
			summary: `CONNECT mqtt=3.1.1 client="node-1" clean keepalive=60 user="u" password`,
		},
		{
			name: "CONNECT 3.1", v: V311,
			p: &Connect{ProtocolVersion: V31, KeepAlive: 10, ClientID: "old"},
			text: `Protocol Name: "MQIsdp"
Protocol Level: 3
Clean Session: false
Keep Alive: 10
Client Identifier: "old"
`,
			summary: `CONNECT mqtt=3.1 client="old" keepalive=10`,
		},
		{
			name: "CONNECT 5.0 with will", v: V311, // a CONNECT is described by its own level
			p: connect5,
			text: `Protocol Name: "MQTT"
Protocol Level: 5
Clean Start: true
Keep Alive: 30
Session Expiry Interval: 3600
Request Problem Information: true
Receive Maximum: 20
Client Identifier: "sensor-küche-1"
Will:
  QoS: 1
  Retain: true
  Payload Format Indicator: 1
  Will Delay Interval: 5
  Topic: "Long-Home/Küche/status"
  Payload: "offline" (7 bytes)
User Name: "fleet"
Password: hex:00ff (2 bytes)
`,
			summary: `CONNECT mqtt=5.0 client="sensor-küche-1" clean keepalive=30 will="Long-Home/Küche/status" will-qos=1 will-retain user="fleet" password`,
		},
		{
			name: "CONNACK 3.1.1", v: V311,
			p: &Connack{ReasonCode: ConnRefusedNotAuthorized},
			text: `Session Present: false
Return Code: 0x05 Connection Refused, not authorized
`,
			summary: `CONNACK reason="0x05 Connection Refused, not authorized"`,
		},
		{
			name: "CONNACK 5.0", v: V5, p: connack5,
			text: `Session Present: false
Reason Code: 0x87 Not authorized
Reason String: "no ACL entry"
Maximum QoS: 1
Retain Available: false
`,
			summary: `CONNACK reason="0x87 Not authorized" reason-string="no ACL entry"`,
		},
		{
			name: "PUBLISH 3.1.1", v: V311,
			p: &Publish{Topic: []byte("Long-Home/K"), Payload: []byte("21.5")},
			text: `DUP: false
QoS: 0
RETAIN: false
Topic Name: "Long-Home/K"
Payload: "21.5" (4 bytes)
`,
			summary: `PUBLISH qos=0 topic="Long-Home/K" payload="21.5" (4 bytes)`,
		},
		{
			name: "PUBLISH 5.0", v: V5, p: pub5,
			text: `DUP: false
QoS: 1
RETAIN: true
Topic Name: "Long-Home/Küche/Temperatur"
Packet Identifier: 7
Message Expiry Interval: 60
Correlation Data: hex:0102 (2 bytes)
Subscription Identifier:
  - 4
  - 9
Topic Alias: 3
User Property:
  - "unit": "°C"
  - "unit": "K"
Payload: "21.5" (4 bytes)
`,
			summary: `PUBLISH qos=1 id=7 retain topic="Long-Home/Küche/Temperatur" alias=3 payload="21.5" (4 bytes)`,
		},
		{
			name: "PUBLISH QoS 2 dup binary", v: V311,
			p: &Publish{Dup: true, QoS: 2, PacketID: 65535, Topic: []byte("t"), Payload: []byte{0xDE, 0xAD, 0xBE, 0xEF}},
			text: `DUP: true
QoS: 2
RETAIN: false
Topic Name: "t"
Packet Identifier: 65535
Payload: hex:deadbeef (4 bytes)
`,
			summary: `PUBLISH qos=2 id=65535 dup topic="t" payload=hex:deadbeef (4 bytes)`,
		},
		{
			name: "PUBACK 3.1.1", v: V311, p: &Puback{PacketID: 7},
			text:    "Packet Identifier: 7\n",
			summary: "PUBACK id=7",
		},
		{
			name: "PUBACK 5.0", v: V5, p: puback5,
			text: `Packet Identifier: 7
Reason Code: 0x10 No matching subscribers
Reason String: "nobody listens"
`,
			summary: `PUBACK id=7 reason="0x10 No matching subscribers" reason-string="nobody listens"`,
		},
		{
			name: "PUBREC 5.0 success", v: V5, p: &Pubrec{PacketID: 8},
			text:    "Packet Identifier: 8\nReason Code: 0x00 Success\n",
			summary: "PUBREC id=8",
		},
		{
			name: "PUBREL 3.1.1", v: V311, p: &Pubrel{PacketID: 8},
			text:    "Packet Identifier: 8\n",
			summary: "PUBREL id=8",
		},
		{
			name: "PUBCOMP 5.0", v: V5, p: &Pubcomp{PacketID: 8, ReasonCode: PacketIdentifierNotFound},
			text:    "Packet Identifier: 8\nReason Code: 0x92 Packet Identifier not found\n",
			summary: `PUBCOMP id=8 reason="0x92 Packet Identifier not found"`,
		},
		{
			name: "SUBSCRIBE 3.1.1", v: V311,
			p: &Subscribe{PacketID: 2, Subscriptions: []Subscription{{Filter: "Long-Home/Wohnzimmer/#", QoS: 1}}},
			text: `Packet Identifier: 2
Subscriptions:
  - Topic Filter: "Long-Home/Wohnzimmer/#"
    QoS: 1
`,
			summary: `SUBSCRIBE id=2 filters=["Long-Home/Wohnzimmer/#" qos=1]`,
		},
		{
			name: "SUBSCRIBE 5.0", v: V5, p: sub5,
			text: `Packet Identifier: 3
Subscription Identifier:
  - 12
Subscriptions:
  - Topic Filter: "Long-Home/Wohnzimmer/#"
    QoS: 1
    No Local: true
    Retain As Published: false
    Retain Handling: 2
  - Topic Filter: "$share/g/Long-Home/+/Temperatur"
    QoS: 2
    No Local: false
    Retain As Published: true
    Retain Handling: 0
`,
			summary: `SUBSCRIBE id=3 filters=["Long-Home/Wohnzimmer/#" qos=1 no-local rh=2, "$share/g/Long-Home/+/Temperatur" qos=2 rap]`,
		},
		{
			name: "SUBACK 3.1.1", v: V311,
			p: &Suback{PacketID: 2, ReasonCodes: []ReasonCode{0, 1, 2, SubackFailure311}},
			text: `Packet Identifier: 2
Return Codes:
  - 0x00 Success - Maximum QoS 0
  - 0x01 Success - Maximum QoS 1
  - 0x02 Success - Maximum QoS 2
  - 0x80 Failure
`,
			summary: `SUBACK id=2 reasons=[0x00 Success - Maximum QoS 0, 0x01 Success - Maximum QoS 1, 0x02 Success - Maximum QoS 2, 0x80 Failure]`,
		},
		{
			name: "SUBACK 5.0", v: V5,
			p: &Suback{PacketID: 3, ReasonCodes: []ReasonCode{GrantedQoS1, Success, NotAuthorized}},
			text: `Packet Identifier: 3
Reason Codes:
  - 0x01 Granted QoS 1
  - 0x00 Granted QoS 0
  - 0x87 Not authorized
`,
			summary: `SUBACK id=3 reasons=[0x01 Granted QoS 1, 0x00 Granted QoS 0, 0x87 Not authorized]`,
		},
		{
			name: "UNSUBSCRIBE 3.1.1", v: V311,
			p: &Unsubscribe{PacketID: 4, Filters: []string{"Long-Home/#", "a/b"}},
			text: `Packet Identifier: 4
Topic Filters:
  - "Long-Home/#"
  - "a/b"
`,
			summary: `UNSUBSCRIBE id=4 filters=["Long-Home/#", "a/b"]`,
		},
		{
			name: "UNSUBACK 3.1.1", v: V311, p: &Unsuback{PacketID: 4},
			text:    "Packet Identifier: 4\n",
			summary: "UNSUBACK id=4",
		},
		{
			name: "UNSUBACK 5.0", v: V5,
			p: &Unsuback{PacketID: 4, ReasonCodes: []ReasonCode{Success, NoSubscriptionExisted}},
			text: `Packet Identifier: 4
Reason Codes:
  - 0x00 Success
  - 0x11 No subscription existed
`,
			summary: `UNSUBACK id=4 reasons=[0x00 Success, 0x11 No subscription existed]`,
		},
		{name: "PINGREQ", v: V311, p: &Pingreq{}, text: "", summary: "PINGREQ"},
		{name: "PINGRESP", v: V5, p: &Pingresp{}, text: "", summary: "PINGRESP"},
		{name: "DISCONNECT 3.1.1", v: V311, p: &Disconnect{}, text: "", summary: "DISCONNECT"},
		{
			name: "DISCONNECT 5.0 normal", v: V5, p: &Disconnect{},
			text:    "Reason Code: 0x00 Normal disconnection\n",
			summary: "DISCONNECT",
		},
		{
			name: "DISCONNECT 5.0", v: V5, p: disc5,
			text:    "Reason Code: 0x8E Session taken over\nSession Expiry Interval: 0\n",
			summary: `DISCONNECT reason="0x8E Session taken over"`,
		},
		{
			name: "AUTH", v: V5, p: auth,
			text: `Reason Code: 0x18 Continue authentication
Authentication Method: "SCRAM-SHA-256"
Authentication Data: "n,,n=user,r=abc" (15 bytes)
`,
			summary: `AUTH reason="0x18 Continue authentication" method="SCRAM-SHA-256"`,
		},
	}
}

// roundTrip encodes p and decodes it again, so the test describes what the
// decoder produces (presence bits included).
func roundTrip(t *testing.T, p Packet, v Version) Packet {
	t.Helper()
	b, err := Encode(p, v)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	q, n, err := Decode(b, DecodeOptions{Version: v})
	if err != nil {
		t.Fatalf("Decode(% x): %v", b, err)
	}
	if n != len(b) {
		t.Fatalf("Decode took %d of %d bytes", n, len(b))
	}
	return q
}

func TestDescribeEveryType(t *testing.T) {
	seen := map[Type]bool{}
	for _, c := range describeCases() {
		t.Run(c.name, func(t *testing.T) {
			q := roundTrip(t, c.p, c.v)
			seen[q.Type()] = true
			fs := Describe(q, c.v)
			if fs == nil {
				t.Fatal("Describe returned nil")
			}
			if got := fs.Text(""); got != c.text {
				t.Errorf("Text:\n%s\nwant:\n%s", got, c.text)
			}
			if got := Summary(q, c.v); got != c.summary {
				t.Errorf("Summary:\n got %s\nwant %s", got, c.summary)
			}
			// The packet as built (not decoded) describes the same way:
			// presence comes from Properties.Has, not only from Present.
			if got := Describe(c.p, c.v).Text(""); got != c.text {
				t.Errorf("Text of the packet as built:\n%s\nwant:\n%s", got, c.text)
			}
			// Every description marshals to a JSON object.
			j, err := json.Marshal(fs)
			if err != nil {
				t.Fatalf("json.Marshal: %v", err)
			}
			var m map[string]any
			if err := json.Unmarshal(j, &m); err != nil {
				t.Fatalf("JSON %s does not parse: %v", j, err)
			}
			if len(m) != len(fs) {
				t.Errorf("JSON has %d keys, description %d fields: %s", len(m), len(fs), j)
			}
		})
	}
	for _, typ := range Types() {
		if !seen[typ] {
			t.Errorf("no Describe case for %s", typ)
		}
	}
}

func TestDescribeJSONKeepsWireOrder(t *testing.T) {
	p := &Publish{QoS: 1, PacketID: 7, Topic: []byte("Long-Home/Küche/Temperatur"), Payload: []byte{0, 1}}
	p.Properties.MessageExpiry = 60
	p.Properties.AddUser("a", "b")
	j, err := json.Marshal(Describe(p, V5))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"DUP":false,"QoS":1,"RETAIN":false,"Topic Name":"Long-Home/Küche/Temperatur","Packet Identifier":7,` +
		`"Message Expiry Interval":60,"User Property":[{"key":"a","value":"b"}],"Payload":"hex:0001"}`
	if string(j) != want {
		t.Errorf("JSON\n got %s\nwant %s", j, want)
	}

	c := &Connect{ProtocolVersion: V311, ClientID: "c", Will: &Will{Topic: "w", Payload: []byte("x")}}
	j, err = json.Marshal(Describe(c, V311))
	if err != nil {
		t.Fatal(err)
	}
	want = `{"Protocol Name":"MQTT","Protocol Level":4,"Clean Session":false,"Keep Alive":0,"Client Identifier":"c",` +
		`"Will":{"QoS":0,"Retain":false,"Topic":"w","Payload":"x"}}`
	if string(j) != want {
		t.Errorf("JSON\n got %s\nwant %s", j, want)
	}

	j, err = json.Marshal(Describe(&Pingreq{}, V311))
	if err != nil || string(j) != "{}" {
		t.Errorf("PINGREQ JSON = %s, %v; want {}", j, err)
	}
}

func TestDescribeBinary(t *testing.T) {
	long := bytes.Repeat([]byte("a"), 300)
	cases := []struct {
		name   string
		in     []byte
		opts   DescribeOptions
		str    string
		render string
	}{
		{"text", []byte("21.5"), DescribeOptions{}, `"21.5" (4 bytes)`, "21.5"},
		{"one byte", []byte("x"), DescribeOptions{}, `"x" (1 byte)`, "x"},
		{"empty", []byte{}, DescribeOptions{}, `"" (0 bytes)`, ""},
		{"utf8", []byte("Küche"), DescribeOptions{}, `"Küche" (6 bytes)`, "Küche"},
		{"line breaks are text", []byte("a\nb\tc"), DescribeOptions{}, `"a\nb\tc" (5 bytes)`, "a\nb\tc"},
		{"binary", []byte{0, 0xFF}, DescribeOptions{}, `hex:00ff (2 bytes)`, "hex:00ff"},
		{"control character", []byte("a\x01"), DescribeOptions{}, `hex:6101 (2 bytes)`, "hex:6101"},
		{"invalid utf8", []byte{'a', 0xC3}, DescribeOptions{}, `hex:61c3 (2 bytes)`, "hex:61c3"},
		{"text that looks like hex", []byte("hex:00"), DescribeOptions{}, `hex:6865783a3030 (6 bytes)`, "hex:6865783a3030"},
		{"long text cut", long, DescribeOptions{},
			`"` + strings.Repeat("a", 256) + `"… (300 bytes, first 256 shown)`, strings.Repeat("a", 256) + "…"},
		{"long text full", long, DescribeOptions{Full: true},
			`"` + strings.Repeat("a", 300) + `" (300 bytes)`, strings.Repeat("a", 300)},
		{"max bytes", []byte{1, 2, 3, 4}, DescribeOptions{MaxBytes: 2}, `hex:0102… (4 bytes, first 2 shown)`, "hex:0102…"},
		// "ü" is two bytes: the cut moves back rather than split it.
		{"cut keeps runes whole", []byte("aü"), DescribeOptions{MaxBytes: 2}, `"a"… (3 bytes, first 1 shown)`, "a…"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := &Publish{Topic: []byte("t"), Payload: c.in}
			v, ok := DescribeWith(p, V311, c.opts).Get("Payload")
			if !ok {
				t.Fatal("no Payload field")
			}
			b, ok := v.(Binary)
			if !ok {
				t.Fatalf("Payload is %T, want Binary", v)
			}
			if got := b.String(); got != c.str {
				t.Errorf("String() = %s, want %s", got, c.str)
			}
			if got := b.Render(); got != c.render {
				t.Errorf("Render() = %q, want %q", got, c.render)
			}
			j, _ := json.Marshal(b)
			var s string
			if err := json.Unmarshal(j, &s); err != nil || s != c.render {
				t.Errorf("JSON %s, want the string %q (%v)", j, c.render, err)
			}
		})
	}
}

func TestDescribeDoesNotAlias(t *testing.T) {
	payload := []byte("21.5")
	p := &Publish{Topic: []byte("t"), Payload: payload}
	fs := Describe(p, V311)
	payload[0] = 'X'
	if v, _ := fs.Get("Payload"); v.(Binary).Render() != "21.5" {
		t.Errorf("description changed with the input: %v", v)
	}
}

func TestDescribeNil(t *testing.T) {
	if fs := Describe(nil, V5); fs != nil {
		t.Errorf("Describe(nil) = %v, want nil", fs)
	}
	if s := Summary(nil, V5); s == "" {
		t.Error("Summary(nil) is empty")
	}
}

func TestDescribeVersionZeroIs311(t *testing.T) {
	p := &Puback{PacketID: 1, ReasonCode: NoMatchingSubscribers}
	if got, want := Describe(p, 0).Text(""), Describe(p, V311).Text(""); got != want {
		t.Errorf("version 0: %q, want the 3.1.1 form %q", got, want)
	}
}

func TestSummaryCutsLongPayloads(t *testing.T) {
	p := &Publish{Topic: []byte("t"), Payload: bytes.Repeat([]byte("z"), 1000)}
	s := Summary(p, V311)
	if !strings.Contains(s, "(1000 bytes, first 64 shown)") || len(s) > 200 {
		t.Errorf("Summary = %s", s)
	}
}

func TestFormatValue(t *testing.T) {
	cases := []struct {
		in   any
		want string
	}{
		{"Küche", `"Küche"`},
		{true, "true"},
		{uint32(7), "7"},
		{Reason{Code: 0x87, Name: "Not authorized"}, "0x87 Not authorized"},
		{Reason{Code: 0x42}, "0x42"},
		{[]int{1, 2}, "[1, 2]"},
		{[]string{"a"}, `["a"]`},
		{Fields{{"QoS", 1}, {"Topic", "w"}}, `{QoS: 1, Topic: "w"}`},
		{[]Fields{{{"A", 1}}, {{"A", 2}}}, `[{A: 1}, {A: 2}]`},
		{[]UserPair{{"k", "v"}}, `["k": "v"]`},
	}
	for _, c := range cases {
		if got := FormatValue(c.in); got != c.want {
			t.Errorf("FormatValue(%#v) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestFieldsTextIndent(t *testing.T) {
	fs := Describe(&Subscribe{PacketID: 1, Subscriptions: []Subscription{{Filter: "a", QoS: 1}}}, V311)
	want := "    Packet Identifier: 1\n    Subscriptions:\n      - Topic Filter: \"a\"\n        QoS: 1\n"
	if got := fs.Text("    "); got != want {
		t.Errorf("Text:\n%s\nwant:\n%s", got, want)
	}
}
