package packet

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

// This file tests the codec as a whole, table-driven:
//
//   - codecValidCases: well-formed packets of every type at every level they
//     exist in, every MQTT 5 property in every packet type that allows it.
//     Each is encoded, decoded, compared and re-encoded.
//   - codecHexVectors: hand-written wire bytes of well-known packets.
//   - codecBadCases: malformed input with the statement (or section) and
//     reason code the decoder must report.
//
// The same tables seed the fuzz corpora (fuzz_test.go, TestWriteSeedCorpus).
// Helper names carry a codec/ct prefix because other files of the package
// are written concurrently.

// ---------------------------------------------------------------------------
// Helpers

func ctB(s string) []byte { return []byte(s) }

// ctUser builds user properties from key, value, key, value, ...
func ctUser(kv ...string) []UserProperty {
	out := make([]UserProperty, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, UserProperty{Key: ctB(kv[i]), Value: ctB(kv[i+1])})
	}
	return out
}

// ctPresent marks ids as present, for properties whose value is zero but
// which must be encoded all the same.
func ctPresent(ids ...PropertyID) PropSet {
	var s PropSet
	for _, id := range ids {
		s = s.With(id)
	}
	return s
}

// ctUnhex decodes hex with optional white space; it panics on bad hex, as
// the tables are constants.
func ctUnhex(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic(fmt.Sprintf("bad hex %q: %v", s, err))
	}
	return b
}

// ctFrame builds the hex of a packet from its first byte and its body,
// computing the remaining length, so table rows cannot get it wrong.
func ctFrame(first byte, body string) string {
	b := ctUnhex(body)
	out := AppendVarInt([]byte{first}, len(b))
	return hex.EncodeToString(append(out, b...))
}

func ctHexStr(s string) string { return hex.EncodeToString([]byte(s)) }

// ctMarkPresent sets the Present bit of every property that will be encoded,
// which is what the decoder reports for a decoded packet.
func ctMarkPresent(p *Properties) {
	for _, id := range PropertyIDs() {
		if p.Has(id) {
			p.Present = p.Present.With(id)
		}
	}
}

// ctAsDecoded puts an original built by hand into the exact form the decoder
// produces, following the encoding rules the types document: presence bits
// for every encoded property, the username/password flags implied by the
// values, the protocol name that belongs to the level, and non-nil slices
// for fields that are always on the wire (a nil payload is encoded as zero
// bytes and decodes as an empty, non-nil slice aliasing the input).
func ctAsDecoded(p Packet) Packet {
	switch p := p.(type) {
	case *Connect:
		if p.ProtocolName == "" {
			p.ProtocolName = p.version().ProtocolName()
		}
		p.UsernameFlag = p.UsernameFlag || p.Username != ""
		p.PasswordFlag = p.PasswordFlag || p.Password != nil
		if p.PasswordFlag && p.Password == nil {
			p.Password = []byte{}
		}
		ctMarkPresent(&p.Properties)
		if p.Will != nil {
			ctMarkPresent(&p.Will.Properties)
			if p.Will.Payload == nil {
				p.Will.Payload = []byte{}
			}
		}
	case *Connack:
		ctMarkPresent(&p.Properties)
	case *Publish:
		ctMarkPresent(&p.Properties)
		if p.Topic == nil {
			p.Topic = []byte{}
		}
		if p.Payload == nil {
			p.Payload = []byte{}
		}
	case *Puback:
		ctMarkPresent(&p.Properties)
	case *Pubrec:
		ctMarkPresent(&p.Properties)
	case *Pubrel:
		ctMarkPresent(&p.Properties)
	case *Pubcomp:
		ctMarkPresent(&p.Properties)
	case *Subscribe:
		ctMarkPresent(&p.Properties)
	case *Suback:
		ctMarkPresent(&p.Properties)
	case *Unsubscribe:
		ctMarkPresent(&p.Properties)
	case *Unsuback:
		ctMarkPresent(&p.Properties)
	case *Disconnect:
		ctMarkPresent(&p.Properties)
	case *Auth:
		ctMarkPresent(&p.Properties)
	}
	return p
}

// ctAck builds a PUBACK, PUBREC, PUBREL or PUBCOMP.
func ctAck(t Type, r pubResponse) Packet {
	switch t {
	case PUBACK:
		p := Puback(r)
		return &p
	case PUBREC:
		p := Pubrec(r)
		return &p
	case PUBREL:
		p := Pubrel(r)
		return &p
	case PUBCOMP:
		p := Pubcomp(r)
		return &p
	}
	panic("not an ack type")
}

// ctPropsOf returns the property sets a packet carries, keyed by the packet
// type whose rules apply (willProperties, 0, for the Will Properties).
func ctPropsOf(p Packet) map[Type]*Properties {
	m := map[Type]*Properties{}
	switch p := p.(type) {
	case *Connect:
		m[CONNECT] = &p.Properties
		if p.Will != nil {
			m[willProperties] = &p.Will.Properties
		}
	case *Connack:
		m[CONNACK] = &p.Properties
	case *Publish:
		m[PUBLISH] = &p.Properties
	case *Puback:
		m[PUBACK] = &p.Properties
	case *Pubrec:
		m[PUBREC] = &p.Properties
	case *Pubrel:
		m[PUBREL] = &p.Properties
	case *Pubcomp:
		m[PUBCOMP] = &p.Properties
	case *Subscribe:
		m[SUBSCRIBE] = &p.Properties
	case *Suback:
		m[SUBACK] = &p.Properties
	case *Unsubscribe:
		m[UNSUBSCRIBE] = &p.Properties
	case *Unsuback:
		m[UNSUBACK] = &p.Properties
	case *Disconnect:
		m[DISCONNECT] = &p.Properties
	case *Auth:
		m[AUTH] = &p.Properties
	}
	return m
}

func ctEncode(tb testing.TB, p Packet, v Version) []byte {
	tb.Helper()
	b, err := p.Append(nil, v)
	if err != nil {
		tb.Fatalf("Append(%T, %s): %v", p, v, err)
	}
	return b
}

// ctDump renders a packet for failure messages.
func ctDump(p Packet) string {
	if p == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%T%+v", p, p)
}

var ctAllVersions = []Version{V31, V311, V5}

// ctTypesIn lists the packet types that exist at level v.
func ctTypesIn(v Version) []Type {
	if v == V5 {
		return Types()
	}
	return Types()[:14]
}

// ---------------------------------------------------------------------------
// (a) Valid packets

type codecValid struct {
	name string
	v    Version
	p    Packet // in decoded form (see ctAsDecoded)
}

// Properties with every value each packet type allows.

func ctConnectProps() Properties {
	return Properties{
		SessionExpiry:       0xFFFFFFFF,
		ReceiveMaximum:      20,
		MaximumPacketSize:   268435460,
		TopicAliasMaximum:   10,
		RequestResponseInfo: 1,
		RequestProblemInfo:  1,
		User:                ctUser("region", "Küche", "region", "Wohnzimmer", "", ""),
		AuthMethod:          ctB("SCRAM-SHA-256"),
		AuthData:            []byte{0x00, 0x01, 0xFF, 'n', ',', ','},
	}
}

func ctWillProps() Properties {
	return Properties{
		PayloadFormat:   1,
		MessageExpiry:   3600,
		ContentType:     ctB("text/plain; charset=utf-8"),
		ResponseTopic:   ctB("Long-Home/replies/node-17"),
		CorrelationData: []byte{0xDE, 0xAD, 0xBE, 0xEF},
		WillDelay:       30,
		User:            ctUser("cause", "power loss"),
	}
}

func ctConnackProps() Properties {
	return Properties{
		SessionExpiry:        7200,
		ReceiveMaximum:       65535,
		MaximumQoS:           1,
		RetainAvailable:      1,
		MaximumPacketSize:    1 << 20,
		AssignedClientID:     ctB("auto-6F2A"),
		TopicAliasMaximum:    65535,
		ReasonString:         ctB("welcome"),
		User:                 ctUser("broker", "mqttspec", "broker", "again"),
		WildcardSubAvailable: 1,
		SubIDAvailable:       1,
		SharedSubAvailable:   1,
		ServerKeepAlive:      120,
		ResponseInfo:         ctB("Long-Home/responses/"),
		ServerReference:      ctB("other.example:1883"),
		AuthMethod:           ctB("SCRAM-SHA-256"),
		AuthData:             ctB("r=nonce,s=salt,i=4096"),
	}
}

func ctPublishProps() Properties {
	return Properties{
		PayloadFormat:   1,
		MessageExpiry:   60,
		TopicAlias:      65535,
		ResponseTopic:   ctB("Long-Home/Küche/Temperatur/reply"),
		CorrelationData: ctB("req-42"),
		User:            ctUser("unit", "°C", "sensor", "DS18B20", "unit", "again"),
		SubscriptionIDs: []int{1, 127, 128, 16383, 16384, 2097151, 2097152, MaxVarInt},
		ContentType:     ctB("application/json"),
	}
}

func codecValidCases() []codecValid {
	var cs []codecValid
	add := func(v Version, name string, p Packet) {
		cs = append(cs, codecValid{name: "v" + v.String() + "/" + name, v: v, p: ctAsDecoded(p)})
	}

	// CONNECT
	for _, v := range ctAllVersions {
		add(v, "connect/minimal", &Connect{ProtocolVersion: v, CleanStart: true, ClientID: "c"})
		add(v, "connect/empty-client-id", &Connect{ProtocolVersion: v, CleanStart: true, KeepAlive: 60})
		add(v, "connect/persistent-session", &Connect{ProtocolVersion: v, KeepAlive: 65535, ClientID: "Long-Home-Küche-01"})
		add(v, "connect/username", &Connect{ProtocolVersion: v, CleanStart: true, ClientID: "c", Username: "user"})
		add(v, "connect/username-password", &Connect{ProtocolVersion: v, ClientID: "c", Username: "user", Password: []byte("s3cret\x00\xff")})
		add(v, "connect/empty-username-empty-password", &Connect{ProtocolVersion: v, ClientID: "c", UsernameFlag: true, PasswordFlag: true, Password: []byte{}})
		add(v, "connect/empty-username", &Connect{ProtocolVersion: v, ClientID: "c", UsernameFlag: true})
		for q := AtMostOnce; q <= ExactlyOnce; q++ {
			for _, retain := range []bool{false, true} {
				add(v, fmt.Sprintf("connect/will-qos%d-retain-%t", q, retain), &Connect{ProtocolVersion: v, CleanStart: true, KeepAlive: 10, ClientID: "node-17",
					Will: &Will{QoS: q, Retain: retain, Topic: "Long-Home/Küche/status", Payload: ctB("offline")}})
			}
		}
		add(v, "connect/will-empty-payload-username-password", &Connect{ProtocolVersion: v, ClientID: "node-17",
			Will: &Will{QoS: 1, Topic: "a", Payload: []byte{}}, Username: "u", Password: ctB("p")})
	}
	add(V5, "connect/all-properties", &Connect{ProtocolVersion: V5, CleanStart: true, KeepAlive: 30, ClientID: "c", Properties: ctConnectProps()})
	add(V5, "connect/explicit-zero-properties", &Connect{ProtocolVersion: V5, ClientID: "c", Properties: Properties{
		Present:    ctPresent(PropSessionExpiry, PropRequestProblemInfo, PropRequestResponseInfo, PropTopicAliasMaximum),
		AuthMethod: []byte{},
		AuthData:   []byte{},
	}})
	add(V5, "connect/will-all-properties", &Connect{ProtocolVersion: V5, CleanStart: true, ClientID: "c",
		Will: &Will{QoS: 2, Retain: true, Topic: "Long-Home/Küche/status", Payload: ctB("offline"), Properties: ctWillProps()}})
	add(V5, "connect/will-explicit-zero-properties", &Connect{ProtocolVersion: V5, ClientID: "c",
		Will: &Will{Topic: "t", Payload: ctB("x"), Properties: Properties{
			Present:         ctPresent(PropPayloadFormat, PropMessageExpiry, PropWillDelay),
			ContentType:     []byte{},
			CorrelationData: []byte{},
		}}})
	add(V5, "connect/password-without-username", &Connect{ProtocolVersion: V5, ClientID: "c", Password: ctB("token")})
	add(V5, "connect/everything", &Connect{ProtocolVersion: V5, CleanStart: true, KeepAlive: 5, ClientID: "Long-Home-Küche-01",
		Properties: ctConnectProps(),
		Will:       &Will{QoS: 1, Topic: "Long-Home/Küche/status", Payload: ctB("offline"), Properties: ctWillProps()},
		Username:   "user", Password: ctB("secret")})

	// CONNACK
	for _, v := range ctAllVersions {
		add(v, "connack/accepted", &Connack{})
	}
	for _, v := range []Version{V31, V311} {
		for code := ConnRefusedProtocolVersion; code <= ConnRefusedNotAuthorized; code++ {
			add(v, fmt.Sprintf("connack/refused-%d", code), &Connack{ReasonCode: code})
		}
	}
	add(V311, "connack/session-present", &Connack{SessionPresent: true})
	add(V5, "connack/session-present", &Connack{SessionPresent: true})
	add(V5, "connack/all-properties", &Connack{SessionPresent: true, Properties: ctConnackProps()})
	add(V5, "connack/explicit-zero-properties", &Connack{Properties: Properties{
		Present: ctPresent(PropSessionExpiry, PropMaximumQoS, PropRetainAvailable, PropTopicAliasMaximum, PropWildcardSubAvailable,
			PropSubIDAvailable, PropSharedSubAvailable, PropServerKeepAlive),
		ReasonString: []byte{},
	}})
	for _, code := range reasonsAllowed[CONNACK] {
		if code != Success {
			add(V5, fmt.Sprintf("connack/reason-0x%02X", byte(code)), &Connack{ReasonCode: code})
		}
	}
	add(V5, "connack/refused-with-properties", &Connack{ReasonCode: UseAnotherServer, Properties: Properties{
		ServerReference: ctB("backup.example:1883"), ReasonString: ctB("maintenance"), User: ctUser("k", "v")}})

	// PUBLISH
	payload200 := bytes.Repeat([]byte("0123456789"), 20)
	for _, v := range ctAllVersions {
		add(v, "publish/qos0", &Publish{Topic: ctB("Long-Home/Küche/Temperatur"), Payload: ctB("21.5")})
		add(v, "publish/qos0-retain-empty-payload", &Publish{Retain: true, Topic: ctB("Long-Home/Küche/Temperatur")})
		add(v, "publish/qos1", &Publish{QoS: AtLeastOnce, PacketID: 1, Topic: ctB("a"), Payload: ctB("x")})
		add(v, "publish/qos1-dup", &Publish{Dup: true, QoS: AtLeastOnce, PacketID: 65535, Topic: ctB("a/b"), Payload: ctB("x")})
		add(v, "publish/qos2-retain", &Publish{QoS: ExactlyOnce, Retain: true, PacketID: 2, Topic: ctB("/"), Payload: []byte{0, 0xFF}})
		add(v, "publish/qos2-dup-retain", &Publish{Dup: true, QoS: ExactlyOnce, Retain: true, PacketID: 0x8000, Topic: ctB("$SYS/x"), Payload: ctB("y")})
		add(v, "publish/odd-topics", &Publish{Topic: ctB(" /a//b/ \uFEFF"), Payload: ctB("z")})
		add(v, "publish/payload-200", &Publish{QoS: AtLeastOnce, PacketID: 9, Topic: ctB("Long-Home/Wohnzimmer/Luftfeuchte"), Payload: payload200})
	}
	add(V5, "publish/all-properties", &Publish{QoS: AtLeastOnce, PacketID: 7, Topic: ctB("Long-Home/Küche/Temperatur"), Payload: ctB(`{"t":21.5}`), Properties: ctPublishProps()})
	add(V5, "publish/all-properties-qos0", &Publish{Topic: ctB("t"), Payload: ctB("x"), Properties: ctPublishProps()})
	add(V5, "publish/topic-alias-empty-topic", &Publish{Topic: []byte{}, Payload: ctB("21.6"), Properties: Properties{TopicAlias: 1}})
	add(V5, "publish/topic-alias-with-topic", &Publish{QoS: ExactlyOnce, PacketID: 3, Topic: ctB("Long-Home/Küche/Temperatur"), Payload: ctB("21.6"), Properties: Properties{TopicAlias: 1}})
	add(V5, "publish/explicit-zero-properties", &Publish{Topic: ctB("t"), Properties: Properties{
		Present:         ctPresent(PropPayloadFormat, PropMessageExpiry),
		ContentType:     []byte{},
		ResponseTopic:   ctB("r"),
		CorrelationData: []byte{},
	}})
	add(V5, "publish/one-subscription-id", &Publish{Topic: ctB("t"), Payload: ctB("x"), Properties: Properties{SubscriptionIDs: []int{1}}})
	add(V5, "publish/empty-user-property", &Publish{Topic: ctB("t"), Properties: Properties{User: ctUser("", "")}})

	// PUBACK, PUBREC, PUBREL, PUBCOMP
	for _, t := range []Type{PUBACK, PUBREC, PUBREL, PUBCOMP} {
		name := strings.ToLower(t.String())
		for _, v := range ctAllVersions {
			add(v, name+"/id-1", ctAck(t, pubResponse{PacketID: 1}))
			add(v, name+"/id-65535", ctAck(t, pubResponse{PacketID: 65535}))
		}
		codes := reasonsAllowed[t]
		for _, code := range codes {
			if code != Success {
				add(V5, fmt.Sprintf("%s/reason-0x%02X", name, byte(code)), ctAck(t, pubResponse{PacketID: 2, ReasonCode: code}))
			}
		}
		add(V5, name+"/success-with-properties", ctAck(t, pubResponse{PacketID: 3, Properties: Properties{ReasonString: ctB("ok"), User: ctUser("a", "b", "a", "c")}}))
		add(V5, name+"/reason-with-properties", ctAck(t, pubResponse{PacketID: 4, ReasonCode: codes[len(codes)-1], Properties: Properties{ReasonString: ctB("no")}}))
		add(V5, name+"/empty-reason-string", ctAck(t, pubResponse{PacketID: 5, Properties: Properties{ReasonString: []byte{}}}))
	}

	// SUBSCRIBE
	for _, v := range ctAllVersions {
		add(v, "subscribe/single", &Subscribe{PacketID: 1, Subscriptions: []Subscription{{Filter: "Long-Home/Wohnzimmer/#", QoS: 1}}})
		add(v, "subscribe/multiple", &Subscribe{PacketID: 65535, Subscriptions: []Subscription{
			{Filter: "a", QoS: 0}, {Filter: "+/+", QoS: 1}, {Filter: "#", QoS: 2}, {Filter: "a/+/b/#", QoS: 1},
			{Filter: "/", QoS: 0}, {Filter: "$SYS/#", QoS: 2}, {Filter: "Long-Home/Küche/Temperatur", QoS: 1}}})
	}
	for _, v := range []Version{V31, V311} {
		add(v, "subscribe/share-prefix-is-plain", &Subscribe{PacketID: 2, Subscriptions: []Subscription{{Filter: "$share//x"}, {Filter: "$share/g"}, {Filter: "$share/g/x", QoS: 2}}})
	}
	var all []Subscription
	for q := AtMostOnce; q <= ExactlyOnce; q++ {
		for _, nl := range []bool{false, true} {
			for _, rap := range []bool{false, true} {
				for rh := byte(0); rh <= 2; rh++ {
					all = append(all, Subscription{Filter: fmt.Sprintf("opt/q%d/nl%t/rap%t/rh%d", q, nl, rap, rh), QoS: q, NoLocal: nl, RetainAsPublished: rap, RetainHandling: rh})
				}
			}
		}
	}
	add(V5, "subscribe/all-option-combinations", &Subscribe{PacketID: 10, Subscriptions: all})
	add(V5, "subscribe/shared", &Subscribe{PacketID: 11, Subscriptions: []Subscription{
		{Filter: "$share/g/Long-Home/#", QoS: 2, RetainAsPublished: true, RetainHandling: 2},
		{Filter: "$share/consumers/+", QoS: 1, RetainHandling: 1}}})
	add(V5, "subscribe/subscription-id-and-user", &Subscribe{PacketID: 12,
		Properties:    Properties{SubscriptionIDs: []int{MaxVarInt}, User: ctUser("k", "v")},
		Subscriptions: []Subscription{{Filter: "a/#", QoS: 1, NoLocal: true}}})
	add(V5, "subscribe/subscription-id-1", &Subscribe{PacketID: 13, Properties: Properties{SubscriptionIDs: []int{1}},
		Subscriptions: []Subscription{{Filter: "x"}}})

	// SUBACK
	add(V31, "suback/granted", &Suback{PacketID: 1, ReasonCodes: []ReasonCode{0, 1, 2}})
	add(V311, "suback/granted-and-failure", &Suback{PacketID: 1, ReasonCodes: []ReasonCode{0, 1, 2, SubackFailure311}})
	for _, v := range ctAllVersions {
		add(v, "suback/single", &Suback{PacketID: 65535, ReasonCodes: []ReasonCode{GrantedQoS1}})
	}
	add(V5, "suback/all-codes", &Suback{PacketID: 2, ReasonCodes: append([]ReasonCode(nil), reasonsAllowed[SUBACK]...)})
	add(V5, "suback/with-properties", &Suback{PacketID: 3, ReasonCodes: []ReasonCode{NotAuthorized},
		Properties: Properties{ReasonString: ctB("denied"), User: ctUser("acl", "Long-Home/#")}})

	// UNSUBSCRIBE
	for _, v := range ctAllVersions {
		add(v, "unsubscribe/single", &Unsubscribe{PacketID: 1, Filters: []string{"a/b"}})
		add(v, "unsubscribe/multiple", &Unsubscribe{PacketID: 65535, Filters: []string{"#", "+/x", "Long-Home/Küche/Temperatur", "/"}})
	}
	add(V5, "unsubscribe/shared-with-user", &Unsubscribe{PacketID: 2, Filters: []string{"$share/g/a/#"}, Properties: Properties{User: ctUser("k", "v")}})

	// UNSUBACK
	for _, v := range ctAllVersions {
		add(v, "unsuback/id-1", func() Packet {
			if v == V5 {
				return &Unsuback{PacketID: 1, ReasonCodes: []ReasonCode{Success}}
			}
			return &Unsuback{PacketID: 1}
		}())
	}
	add(V311, "unsuback/id-65535", &Unsuback{PacketID: 65535})
	add(V5, "unsuback/all-codes", &Unsuback{PacketID: 2, ReasonCodes: append([]ReasonCode(nil), reasonsAllowed[UNSUBACK]...)})
	add(V5, "unsuback/with-properties", &Unsuback{PacketID: 3, ReasonCodes: []ReasonCode{NoSubscriptionExisted, Success},
		Properties: Properties{ReasonString: ctB("partly"), User: ctUser("k", "v")}})

	// PINGREQ, PINGRESP
	for _, v := range ctAllVersions {
		add(v, "pingreq", &Pingreq{})
		add(v, "pingresp", &Pingresp{})
	}

	// DISCONNECT
	for _, v := range ctAllVersions {
		add(v, "disconnect/plain", &Disconnect{})
	}
	for _, code := range reasonsAllowed[DISCONNECT] {
		if code != Success {
			add(V5, fmt.Sprintf("disconnect/reason-0x%02X", byte(code)), &Disconnect{ReasonCode: code})
		}
	}
	add(V5, "disconnect/all-properties", &Disconnect{ReasonCode: ServerMoved, Properties: Properties{
		SessionExpiry: 0xFFFFFFFF, ReasonString: ctB("moving"), ServerReference: ctB("new.example"), User: ctUser("k", "v")}})
	add(V5, "disconnect/success-with-properties", &Disconnect{Properties: Properties{Present: ctPresent(PropSessionExpiry)}})

	// AUTH
	add(V5, "auth/plain", &Auth{})
	add(V5, "auth/continue", &Auth{ReasonCode: ContinueAuthentication, Properties: Properties{AuthMethod: ctB("SCRAM-SHA-256"), AuthData: ctB("c=biws,r=nonce")}})
	add(V5, "auth/reauthenticate-all-properties", &Auth{ReasonCode: ReAuthenticate, Properties: Properties{
		AuthMethod: ctB("SCRAM-SHA-256"), AuthData: []byte{}, ReasonString: ctB("again"), User: ctUser("k", "v")}})
	add(V5, "auth/success-method-only", &Auth{Properties: Properties{AuthMethod: ctB("PLAIN")}})

	return cs
}

func TestCodecValidCaseTable(t *testing.T) {
	cases := codecValidCases()
	names := map[string]bool{}
	covered := map[Version]map[Type]int{}
	for _, tc := range cases {
		if names[tc.name] {
			t.Errorf("duplicate case name %s", tc.name)
		}
		names[tc.name] = true
		if covered[tc.v] == nil {
			covered[tc.v] = map[Type]int{}
		}
		covered[tc.v][tc.p.Type()]++
	}
	// Every packet type at every level it exists in, several cases each.
	for _, v := range ctAllVersions {
		for _, typ := range ctTypesIn(v) {
			if n := covered[v][typ]; n == 0 {
				t.Errorf("no valid case for %s in %s", typ, v)
			}
		}
		if covered[v][AUTH] != 0 && v != V5 {
			t.Errorf("AUTH case in %s", v)
		}
	}
	// Every MQTT 5 property in every packet type that allows it (including
	// the Will Properties), judged from what the decoder reports.
	seen := map[Type]PropSet{}
	for _, tc := range cases {
		if tc.v != V5 {
			continue
		}
		for typ, props := range ctPropsOf(tc.p) {
			seen[typ] |= props.Present
		}
	}
	for _, id := range PropertyIDs() {
		for typ := Type(0); typ <= AUTH; typ++ {
			if id.AllowedIn(typ) && !seen[typ].Has(id) {
				t.Errorf("no valid v5 case carries %s in %s", id, propContext(typ))
			}
		}
	}
	t.Logf("%d valid cases", len(cases))
}

func TestCodecValid(t *testing.T) {
	decoders := map[Version]*Decoder{}
	for _, v := range ctAllVersions {
		decoders[v] = &Decoder{Options: DecodeOptions{Version: v}}
	}
	for _, tc := range codecValidCases() {
		t.Run(tc.name, func(t *testing.T) {
			opts := DecodeOptions{Version: tc.v}
			b := ctEncode(t, tc.p, tc.v)
			if got := tc.p.Size(tc.v); got != len(b) {
				t.Fatalf("Size = %d, Append wrote %d bytes", got, len(b))
			}
			// Append appends: existing content stays, the packet follows.
			pre := []byte{0xDE, 0xAD}
			b2, err := tc.p.Append(pre, tc.v)
			if err != nil || !bytes.Equal(b2[:2], []byte{0xDE, 0xAD}) || !bytes.Equal(b2[2:], b) {
				t.Fatalf("Append after a prefix: % x, %v; want de ad % x", b2, err, b)
			}
			if enc, err := Encode(tc.p, tc.v); err != nil || !bytes.Equal(enc, b) {
				t.Fatalf("Encode = % x, %v; want % x", enc, err, b)
			}

			h, err := ParseHeader(b, opts)
			if err != nil || h.Type != tc.p.Type() || h.Size() != len(b) || h.HeaderLen != 1+VarIntLen(h.RemainingLength) {
				t.Fatalf("ParseHeader = %+v, %v (packet of %d bytes)", h, err, len(b))
			}

			got, n, err := Decode(b, opts)
			if err != nil {
				t.Fatalf("Decode(% x): %v", b, err)
			}
			if n != len(b) {
				t.Fatalf("Decode took %d of %d bytes", n, len(b))
			}
			if !reflect.DeepEqual(got, tc.p) {
				t.Fatalf("decoded packet differs\n got: %s\nwant: %s", ctDump(got), ctDump(tc.p))
			}
			if re := ctEncode(t, got, tc.v); !bytes.Equal(re, b) {
				t.Fatalf("re-encoding differs\n got: % x\nwant: % x", re, b)
			}

			// Trailing bytes belong to the next packet.
			if _, n, err := Decode(append(append([]byte{}, b...), 0xC0, 0x00), opts); err != nil || n != len(b) {
				t.Fatalf("Decode with a following packet: n=%d err=%v", n, err)
			}
			// Every proper prefix is incomplete, not malformed.
			for k := 0; k < len(b); k++ {
				if p, _, err := Decode(b[:k], opts); !errors.Is(err, ErrIncomplete) || p != nil {
					t.Fatalf("Decode of the first %d of %d bytes: %v, %v; want ErrIncomplete", k, len(b), p, err)
				}
			}

			// The stream reader, fresh and reusing.
			rp, err := NewReader(bytes.NewReader(b), opts).ReadPacket()
			if err != nil || !reflect.DeepEqual(rp, tc.p) {
				t.Fatalf("Reader: %v\n got: %s\nwant: %s", err, ctDump(rp), ctDump(tc.p))
			}
			// A decoder shared by all cases of the version: reused packets
			// must not keep state from earlier packets.
			dp, dn, err := decoders[tc.v].Decode(b)
			if err != nil || dn != len(b) || !reflect.DeepEqual(ctNormalizeReuse(dp), ctNormalizeReuse(tc.p)) {
				t.Fatalf("shared Decoder: n=%d err=%v\n got: %s\nwant: %s", dn, err, ctDump(dp), ctDump(tc.p))
			}
		})
	}
}

// TestCodecDecoderReuseOrders decodes every valid case of a level with one
// Decoder, forwards and backwards, so each packet type is decoded after a
// richer and after a poorer packet of its type: a reused packet must not
// keep a field (a reason code, a property, a will) from the one before.
func TestCodecDecoderReuseOrders(t *testing.T) {
	for _, v := range ctAllVersions {
		var cases []codecValid
		for _, tc := range codecValidCases() {
			if tc.v == v {
				cases = append(cases, tc)
			}
		}
		for _, backwards := range []bool{false, true} {
			d := &Decoder{Options: DecodeOptions{Version: v}}
			var stream []byte
			for i := range cases {
				tc := cases[i]
				if backwards {
					tc = cases[len(cases)-1-i]
				}
				b := ctEncode(t, tc.p, v)
				stream = append(stream, b...)
				p, _, err := d.Decode(b)
				if err != nil || !reflect.DeepEqual(ctNormalizeReuse(p), ctNormalizeReuse(tc.p)) {
					t.Fatalf("%s (backwards %t): %v\n got: %s\nwant: %s", tc.name, backwards, err, ctDump(p), ctDump(tc.p))
				}
			}
			r := NewReader(bytes.NewReader(stream), DecodeOptions{Version: v})
			r.Reuse = true
			for i := range cases {
				tc := cases[i]
				if backwards {
					tc = cases[len(cases)-1-i]
				}
				p, err := r.ReadPacket()
				if err != nil || !reflect.DeepEqual(ctNormalizeReuse(p), ctNormalizeReuse(tc.p)) {
					t.Fatalf("Reader %s (backwards %t): %v\n got: %s\nwant: %s", tc.name, backwards, err, ctDump(p), ctDump(tc.p))
				}
			}
		}
	}
}

// ctNormalizeReuse returns a copy of p in which the slices whose meaning
// depends only on their length (Subscription Identifiers, User Properties,
// subscriptions, filters, reason codes) are nil when empty. A reusing
// Decoder keeps their capacity, so an absent list comes back as an empty
// non-nil slice; that is not a difference in content. Byte-slice fields are
// left alone: for them nil (absent) and empty (present, zero length) differ.
func ctNormalizeReuse(p Packet) Packet {
	np := func(pr Properties) Properties {
		if len(pr.SubscriptionIDs) == 0 {
			pr.SubscriptionIDs = nil
		}
		if len(pr.User) == 0 {
			pr.User = nil
		}
		return pr
	}
	switch p := p.(type) {
	case *Connect:
		c := *p
		c.Properties = np(c.Properties)
		if c.Will != nil {
			w := *c.Will
			w.Properties = np(w.Properties)
			c.Will = &w
		}
		return &c
	case *Connack:
		c := *p
		c.Properties = np(c.Properties)
		return &c
	case *Publish:
		c := *p
		c.Properties = np(c.Properties)
		return &c
	case *Puback:
		c := *p
		c.Properties = np(c.Properties)
		return &c
	case *Pubrec:
		c := *p
		c.Properties = np(c.Properties)
		return &c
	case *Pubrel:
		c := *p
		c.Properties = np(c.Properties)
		return &c
	case *Pubcomp:
		c := *p
		c.Properties = np(c.Properties)
		return &c
	case *Subscribe:
		c := *p
		c.Properties = np(c.Properties)
		if len(c.Subscriptions) == 0 {
			c.Subscriptions = nil
		}
		return &c
	case *Suback:
		c := *p
		c.Properties = np(c.Properties)
		if len(c.ReasonCodes) == 0 {
			c.ReasonCodes = nil
		}
		return &c
	case *Unsubscribe:
		c := *p
		c.Properties = np(c.Properties)
		if len(c.Filters) == 0 {
			c.Filters = nil
		}
		return &c
	case *Unsuback:
		c := *p
		c.Properties = np(c.Properties)
		if len(c.ReasonCodes) == 0 {
			c.ReasonCodes = nil
		}
		return &c
	case *Disconnect:
		c := *p
		c.Properties = np(c.Properties)
		return &c
	case *Auth:
		c := *p
		c.Properties = np(c.Properties)
		return &c
	}
	return p
}

// TestCodecRemainingLengthBoundaries crosses every boundary of the Variable
// Byte Integer (1 to 4 bytes). Not in the table: the packets are large.
func TestCodecRemainingLengthBoundaries(t *testing.T) {
	for _, rem := range []int{127, 128, 16383, 16384, 2097151, 2097152} {
		for _, v := range []Version{V311, V5} {
			over := 3 // topic length + "a"
			if v == V5 {
				over++ // property length
			}
			p := ctAsDecoded(&Publish{Topic: ctB("a"), Payload: bytes.Repeat([]byte{'x'}, rem-over)}).(*Publish)
			b := ctEncode(t, p, v)
			h, err := ParseHeader(b, DecodeOptions{Version: v})
			if err != nil || h.RemainingLength != rem || h.HeaderLen != 1+VarIntLen(rem) {
				t.Fatalf("%s remaining %d: header %+v, %v", v, rem, h, err)
			}
			got, _, err := Decode(b, DecodeOptions{Version: v})
			if err != nil || !reflect.DeepEqual(got, p) {
				t.Fatalf("%s remaining %d: Decode: %v", v, rem, err)
			}
			rp, err := NewReader(iotest.HalfReader(bytes.NewReader(b)), DecodeOptions{Version: v}).ReadPacket()
			if err != nil || !reflect.DeepEqual(rp, p) {
				t.Fatalf("%s remaining %d: Reader: %v", v, rem, err)
			}
		}
	}
}

// ---------------------------------------------------------------------------
// Hand-written vectors of well-known packets

type codecHexVector struct {
	name  string
	v     Version
	hex   string
	check func(t *testing.T, p Packet)
}

func codecHexVectors() []codecHexVector {
	return []codecHexVector{
		{
			// Remaining length 0x11 = 17: topic length 11 ("Long-Home/K"), then
			// 4 bytes of payload ("21.5"). The topic is not "Long-Home/K21.5":
			// the length prefix says where it ends.
			name: "publish-long-home", v: V311, hex: "3011000b4c6f6e672d486f6d652f4b32312e35",
			check: func(t *testing.T, p Packet) {
				pub := p.(*Publish)
				if string(pub.Topic) != "Long-Home/K" || string(pub.Payload) != "21.5" || pub.QoS != 0 || pub.Retain || pub.Dup || pub.PacketID != 0 {
					t.Errorf("got %+v", pub)
				}
			},
		},
		{
			name: "connect-311", v: V311, hex: "1010 0004 4d515454 04 02 003c 0004 636c6964",
			check: func(t *testing.T, p Packet) {
				c := p.(*Connect)
				if c.ProtocolName != "MQTT" || c.ProtocolVersion != V311 || !c.CleanStart || c.KeepAlive != 60 || c.ClientID != "clid" || c.Will != nil || c.UsernameFlag || c.PasswordFlag {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "connect-31-mqisdp", v: V31, hex: "1012 0006 4d5149736470 03 02 003c 0004 636c6964",
			check: func(t *testing.T, p Packet) {
				c := p.(*Connect)
				if c.ProtocolName != "MQIsdp" || c.ProtocolVersion != V31 || !c.CleanStart || c.KeepAlive != 60 || c.ClientID != "clid" {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "connect-5-receive-maximum", v: V5, hex: "1010 0004 4d515454 05 02 003c 03 210014 0000",
			check: func(t *testing.T, p Packet) {
				c := p.(*Connect)
				if c.ProtocolVersion != V5 || c.ClientID != "" || c.Properties.ReceiveMaximum != 20 || c.Properties.Present != ctPresent(PropReceiveMaximum) {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "connect-311-will-user-pass", v: V311, hex: ctFrame(0x10, "0004 4d515454 04 ee 000a 0001 63 0001 74 0002 6279 0001 75 0001 70"),
			check: func(t *testing.T, p Packet) {
				c := p.(*Connect)
				if c.Will == nil || c.Will.QoS != 1 || !c.Will.Retain || c.Will.Topic != "t" || string(c.Will.Payload) != "by" ||
					c.Username != "u" || string(c.Password) != "p" || !c.CleanStart || c.KeepAlive != 10 {
					t.Errorf("got %+v will %+v", c, c.Will)
				}
			},
		},
		{
			name: "connack-311-accepted", v: V311, hex: "20020000",
			check: func(t *testing.T, p Packet) {
				if c := p.(*Connack); c.SessionPresent || c.ReasonCode != 0 {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "connack-311-session-present", v: V311, hex: "20020100",
			check: func(t *testing.T, p Packet) {
				if c := p.(*Connack); !c.SessionPresent || c.ReasonCode != 0 {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "subscribe-311-hash", v: V311, hex: "8206 0001 0001 23 01",
			check: func(t *testing.T, p Packet) {
				s := p.(*Subscribe)
				if s.PacketID != 1 || len(s.Subscriptions) != 1 || s.Subscriptions[0] != (Subscription{Filter: "#", QoS: 1}) {
					t.Errorf("got %+v", s)
				}
			},
		},
		{
			name: "suback-311", v: V311, hex: "9003 0001 01",
			check: func(t *testing.T, p Packet) {
				if s := p.(*Suback); s.PacketID != 1 || !reflect.DeepEqual(s.ReasonCodes, []ReasonCode{1}) {
					t.Errorf("got %+v", s)
				}
			},
		},
		{
			name: "suback-5", v: V5, hex: "9004 0001 00 01",
			check: func(t *testing.T, p Packet) {
				if s := p.(*Suback); s.PacketID != 1 || !reflect.DeepEqual(s.ReasonCodes, []ReasonCode{1}) || !s.Properties.Empty() {
					t.Errorf("got %+v", s)
				}
			},
		},
		{
			name: "puback-5-short", v: V5, hex: "4002 1234",
			check: func(t *testing.T, p Packet) {
				if a := p.(*Puback); a.PacketID != 0x1234 || a.ReasonCode != Success || !a.Properties.Empty() {
					t.Errorf("got %+v", a)
				}
			},
		},
		{
			name: "pubrel-311", v: V311, hex: "6202 0007",
			check: func(t *testing.T, p Packet) {
				if a := p.(*Pubrel); a.PacketID != 7 {
					t.Errorf("got %+v", a)
				}
			},
		},
		{
			name: "publish-5-topic-alias", v: V5, hex: "3008 0000 03 230005 6869",
			check: func(t *testing.T, p Packet) {
				pub := p.(*Publish)
				if len(pub.Topic) != 0 || pub.Properties.TopicAlias != 5 || string(pub.Payload) != "hi" {
					t.Errorf("got %+v", pub)
				}
			},
		},
		{
			name: "disconnect-5-with-will", v: V5, hex: "e001 04",
			check: func(t *testing.T, p Packet) {
				if d := p.(*Disconnect); d.ReasonCode != DisconnectWithWill || !d.Properties.Empty() {
					t.Errorf("got %+v", d)
				}
			},
		},
		{name: "pingreq", v: V311, hex: "c000", check: func(t *testing.T, p Packet) { _ = p.(*Pingreq) }},
		{name: "pingresp", v: V311, hex: "d000", check: func(t *testing.T, p Packet) { _ = p.(*Pingresp) }},
		{name: "disconnect-311", v: V311, hex: "e000", check: func(t *testing.T, p Packet) { _ = p.(*Disconnect) }},
		{name: "auth-5-empty", v: V5, hex: "f000", check: func(t *testing.T, p Packet) {
			if a := p.(*Auth); a.ReasonCode != Success {
				t.Errorf("got %+v", a)
			}
		}},
	}
}

func TestCodecHexVectors(t *testing.T) {
	for _, tc := range codecHexVectors() {
		t.Run(tc.name, func(t *testing.T) {
			b := ctUnhex(tc.hex)
			p, n, err := Decode(b, DecodeOptions{Version: tc.v})
			if err != nil || n != len(b) {
				t.Fatalf("Decode(% x) = n %d, %v", b, n, err)
			}
			tc.check(t, p)
			// These vectors are canonical: re-encoding gives them back.
			if re := ctEncode(t, p, tc.v); !bytes.Equal(re, b) {
				t.Fatalf("re-encoded % x, want % x", re, b)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// (b) Malformed packets

type codecBad struct {
	name   string
	v      Version
	hex    string
	stmt   string // exact Statement ("" when the rule has no ID)
	sec    string // exact Section; required when stmt is ""
	reason ReasonCode
}

const (
	ctMQTT   = "0004 4d515454"
	ctMQIsdp = "0006 4d5149736470"
	ctM      = MalformedPacket
	ctP      = ProtocolError
)

// ctOn repeats a row for several versions with per-version expectations.
func ctOn(name, stmt311, stmt5, sec311, sec5 string, reason ReasonCode, hex311, hex5 string) []codecBad {
	var out []codecBad
	if hex311 != "" {
		out = append(out, codecBad{name, V311, hex311, stmt311, sec311, reason})
	}
	if hex5 != "" {
		out = append(out, codecBad{name, V5, hex5, stmt5, sec5, reason})
	}
	return out
}

func codecBadCases() []codecBad {
	cs := []codecBad{
		// Variable Byte Integers: remaining length.
		{"remaining-length/non-minimal-1", V311, "30 80 00", "", "2.2.3", ctM},
		{"remaining-length/non-minimal-1", V5, "30 80 00", "MQTT-1.5.5-1", "1.5.5", ctM},
		{"remaining-length/non-minimal-3", V5, "30 ff 80 00", "MQTT-1.5.5-1", "1.5.5", ctM},
		{"remaining-length/non-minimal-4", V5, "30 80 80 80 00", "MQTT-1.5.5-1", "1.5.5", ctM},
		{"remaining-length/non-minimal-pingreq", V5, "c0 80 00", "MQTT-1.5.5-1", "1.5.5", ctM},
		{"remaining-length/5-bytes", V311, "30 ff ff ff ff 7f", "", "2.2.3", ctM},
		{"remaining-length/5-bytes", V5, "30 ff ff ff ff 7f", "", "1.5.5", ctM},
		{"remaining-length/5-bytes", V31, "30 80 80 80 80 01", "", "2.2.3", ctM},
		// Variable Byte Integers inside the packet.
		{"property-length/non-minimal", V5, ctFrame(0x30, "0001 61 8000"), "MQTT-1.5.5-1", "1.5.5", ctM},
		{"property-length/5-bytes", V5, ctFrame(0x30, "0001 61 ffffffff7f"), "", "1.5.5", ctM},
		{"property-length/exceeds-packet", V5, ctFrame(0x30, "0001 61 05 0100"), "", "2.2.2.1", ctM},
		{"property/truncated-value", V5, ctFrame(0x30, "0001 61 02 0200"), "", "2.1.4", ctM},
		{"property-id/non-minimal", V5, ctFrame(0x30, "0001 61 03 810000"), "MQTT-1.5.5-1", "1.5.5", ctM},
		{"publish/subscription-id-non-minimal", V5, ctFrame(0x30, "0001 61 03 0b8100"), "MQTT-1.5.5-1", "1.5.5", ctM},
		{"publish/subscription-id-5-bytes", V5, ctFrame(0x30, "0001 61 06 0bffffffff7f"), "", "1.5.5", ctM},
		{"subscribe/subscription-id-non-minimal", V5, ctFrame(0x82, "0001 03 0b8000 0001 61 00"), "MQTT-1.5.5-1", "1.5.5", ctM},

		// Reserved packet types.
		{"type-0", V311, "00 00", "", "2.2.1", ctM},
		{"type-0", V5, "00 00", "", "2.1.2", ctM},
		{"type-0-flags", V31, "0f 00", "", "2.2.1", ctM},
		{"auth-in-3.1.1", V311, "f0 00", "", "2.2.1", ctM},
		{"auth-in-3.1.1-with-body", V311, "f0 02 0000", "", "2.2.1", ctM},
		{"auth-in-3.1", V31, "f0 00", "", "2.2.1", ctM},
	}

	// PUBLISH fixed header.
	cs = append(cs, ctOn("publish/qos3", "MQTT-3.3.1-4", "MQTT-3.3.1-4", "3.3.1.2", "3.3.1.2", ctM,
		ctFrame(0x36, "0001 61 0001"), ctFrame(0x36, "0001 61 0001 00"))...)
	cs = append(cs, ctOn("publish/qos3-dup-retain", "MQTT-3.3.1-4", "MQTT-3.3.1-4", "3.3.1.2", "3.3.1.2", ctM,
		ctFrame(0x3f, "0001 61 0001"), ctFrame(0x3f, "0001 61 0001 00"))...)
	cs = append(cs, ctOn("publish/dup-qos0", "MQTT-3.3.1-2", "MQTT-3.3.1-2", "3.3.1.1", "3.3.1.1", ctM,
		ctFrame(0x38, "0001 61"), ctFrame(0x39, "0001 61 00"))...)

	// UTF-8 strings: topic name.
	for _, u := range []struct{ name, hex, which string }{
		{"invalid-byte", "0001 ff", "1"},
		{"continuation-byte", "0002 61 80", "1"},
		{"truncated-sequence", "0002 61 c3", "1"},
		{"surrogate-d800", "0003 eda080", "1"},
		{"surrogate-dfff", "0003 edbfbf", "1"},
		{"overlong-slash", "0002 c0af", "1"},
		{"overlong-nul", "0002 c080", "1"},
		{"overlong-3-byte", "0003 e080af", "1"},
		{"overlong-4-byte", "0004 f08080af", "1"},
		{"above-10ffff", "0004 f4908080", "1"},
		{"nul", "0003 61 00 62", "2"},
		{"nul-after-non-ascii", "0004 c3bc 00 62", "2"},
	} {
		cs = append(cs, ctOn("publish/topic-utf8-"+u.name, "MQTT-1.5.3-"+u.which, "MQTT-1.5.4-"+u.which, "1.5.3", "1.5.4", ctM,
			ctFrame(0x30, u.hex), ctFrame(0x30, u.hex+" 00"))...)
	}
	cs = append(cs, codecBad{"publish/topic-utf8-invalid-byte", V31, ctFrame(0x30, "0001 ff"), "MQTT-1.5.3-1", "1.5.3", ctM})

	// UTF-8 strings elsewhere.
	cs = append(cs, ctOn("connect/client-id-invalid-utf8", "MQTT-1.5.3-1", "MQTT-1.5.4-1", "1.5.3", "1.5.4", ctM,
		ctFrame(0x10, ctMQTT+" 04 02 003c 0001 ff"), ctFrame(0x10, ctMQTT+" 05 02 003c 00 0001 ff"))...)
	cs = append(cs, ctOn("connect/client-id-nul", "MQTT-1.5.3-2", "MQTT-1.5.4-2", "1.5.3", "1.5.4", ctM,
		ctFrame(0x10, ctMQTT+" 04 02 003c 0002 6300"), ctFrame(0x10, ctMQTT+" 05 02 003c 00 0002 6300"))...)
	cs = append(cs, ctOn("connect/client-id-surrogate", "MQTT-1.5.3-1", "MQTT-1.5.4-1", "1.5.3", "1.5.4", ctM,
		ctFrame(0x10, ctMQTT+" 04 02 003c 0003 eda080"), ctFrame(0x10, ctMQTT+" 05 02 003c 00 0003 eda080"))...)
	cs = append(cs, ctOn("connect/client-id-overlong", "MQTT-1.5.3-1", "MQTT-1.5.4-1", "1.5.3", "1.5.4", ctM,
		ctFrame(0x10, ctMQTT+" 04 02 003c 0002 c1bf"), ctFrame(0x10, ctMQTT+" 05 02 003c 00 0002 c1bf"))...)
	cs = append(cs, codecBad{"connect/client-id-invalid-utf8", V31, ctFrame(0x10, ctMQIsdp+" 03 02 003c 0001 ff"), "MQTT-1.5.3-1", "1.5.3", ctM})
	cs = append(cs, ctOn("connect/username-invalid-utf8", "MQTT-1.5.3-1", "MQTT-1.5.4-1", "1.5.3", "1.5.4", ctM,
		ctFrame(0x10, ctMQTT+" 04 82 003c 0001 63 0001 ff"), ctFrame(0x10, ctMQTT+" 05 82 003c 00 0001 63 0001 ff"))...)
	cs = append(cs, ctOn("connect/will-topic-nul", "MQTT-1.5.3-2", "MQTT-1.5.4-2", "1.5.3", "1.5.4", ctM,
		ctFrame(0x10, ctMQTT+" 04 06 003c 0001 63 0001 00 0000"), ctFrame(0x10, ctMQTT+" 05 06 003c 00 0001 63 00 0001 00 0000"))...)
	cs = append(cs,
		codecBad{"publish/user-property-key-surrogate", V5, ctFrame(0x30, "0001 61 09 26 0003 eda080 0001 76"), "MQTT-1.5.4-1", "1.5.4", ctM},
		codecBad{"publish/user-property-value-nul", V5, ctFrame(0x30, "0001 61 07 26 0001 6b 0001 00"), "MQTT-1.5.4-2", "1.5.4", ctM},
		codecBad{"publish/user-property-key-overlong", V5, ctFrame(0x30, "0001 61 08 26 0002 c080 0001 76"), "MQTT-1.5.4-1", "1.5.4", ctM},
		codecBad{"connect/user-property-invalid-utf8", V5, ctFrame(0x10, ctMQTT+" 05 02 003c 07 26 0001 ff 0001 76 0000"), "MQTT-1.5.4-1", "1.5.4", ctM},
		codecBad{"suback/user-property-nul", V5, ctFrame(0x90, "0001 07 26 0001 00 0001 76 00"), "MQTT-1.5.4-2", "1.5.4", ctM},
		codecBad{"publish/content-type-invalid-utf8", V5, ctFrame(0x30, "0001 61 04 03 0001 ff"), "MQTT-1.5.4-1", "1.5.4", ctM},
		codecBad{"publish/response-topic-nul", V5, ctFrame(0x30, "0001 61 04 08 0001 00"), "MQTT-1.5.4-2", "1.5.4", ctM},
		codecBad{"pubrel/reason-string-invalid-utf8", V5, ctFrame(0x62, "0001 00 04 1f 0001 ff"), "MQTT-1.5.4-1", "1.5.4", ctM},
		codecBad{"subscribe/filter-invalid-utf8", V311, ctFrame(0x82, "0001 0002 61ff 00"), "MQTT-1.5.3-1", "1.5.3", ctM},
		codecBad{"unsubscribe/filter-surrogate", V5, ctFrame(0xa2, "0001 00 0003 eda080"), "MQTT-1.5.4-1", "1.5.4", ctM},
	)

	// Topic names: wildcards and emptiness.
	cs = append(cs, ctOn("publish/topic-plus", "MQTT-3.3.2-2", "MQTT-3.3.2-2", "3.3.2.1", "3.3.2.1", ProtocolError,
		ctFrame(0x30, "0003 612f2b"), ctFrame(0x30, "0003 612f2b 00"))...)
	cs = append(cs, ctOn("publish/topic-hash", "MQTT-3.3.2-2", "MQTT-3.3.2-2", "3.3.2.1", "3.3.2.1", ProtocolError,
		ctFrame(0x32, "0001 23 0001"), ctFrame(0x32, "0001 23 0001 00"))...)
	cs = append(cs, ctOn("publish/topic-hash-with-alias", "", "MQTT-3.3.2-2", "", "3.3.2.1", ProtocolError,
		"", ctFrame(0x30, "0003 612f23 03 230001"))...)
	cs = append(cs,
		codecBad{"publish/empty-topic", V311, ctFrame(0x30, "0000 78"), "MQTT-4.7.3-1", "4.7.3", ctM},
		codecBad{"publish/empty-topic", V31, ctFrame(0x30, "0000"), "MQTT-4.7.3-1", "4.7.3", ctM},
		codecBad{"publish/empty-topic-without-alias", V5, ctFrame(0x30, "0000 00 78"), "MQTT-4.7.3-1", "3.3.2.1", ctP},
		codecBad{"publish/empty-topic-other-property", V5, ctFrame(0x30, "0000 02 0101"), "MQTT-4.7.3-1", "3.3.2.1", ctP},
		codecBad{"connect/will-topic-wildcard", V311, ctFrame(0x10, ctMQTT+" 04 06 003c 0001 63 0001 23 0000"), "MQTT-3.3.2-2", "3.3.2.1", ProtocolError},
		codecBad{"connect/will-topic-empty", V311, ctFrame(0x10, ctMQTT+" 04 06 003c 0001 63 0000 0000"), "MQTT-4.7.3-1", "4.7.3", ctM},
	)

	// Topic filters (statements from topic.go: 3.1.1 numbers '#' as
	// MQTT-4.7.1-2 and '+' as MQTT-4.7.1-3; 5.0 as MQTT-4.7.1-1 and -2).
	for _, f := range []struct{ name, filter, stmt311, stmt5 string }{
		{"a#", "a#", "MQTT-4.7.1-2", "MQTT-4.7.1-1"},
		{"hash-not-last", "#/a", "MQTT-4.7.1-2", "MQTT-4.7.1-1"},
		{"a/#b", "a/#b", "MQTT-4.7.1-2", "MQTT-4.7.1-1"},
		{"a+/b", "a+/b", "MQTT-4.7.1-3", "MQTT-4.7.1-2"},
		{"a/+b", "a/+b", "MQTT-4.7.1-3", "MQTT-4.7.1-2"},
		{"empty", "", "MQTT-4.7.3-1", "MQTT-4.7.3-1"},
	} {
		h := fmt.Sprintf("%04x %s", len(f.filter), ctHexStr(f.filter))
		cs = append(cs, ctOn("subscribe/filter-"+f.name, f.stmt311, f.stmt5, "4.7", "4.7", TopicFilterInvalid,
			ctFrame(0x82, "0001 "+h+" 01"), ctFrame(0x82, "0001 00 "+h+" 01"))...)
		cs = append(cs, ctOn("unsubscribe/filter-"+f.name, f.stmt311, f.stmt5, "4.7", "4.7", TopicFilterInvalid,
			ctFrame(0xa2, "0001 "+h), ctFrame(0xa2, "0001 00 "+h))...)
	}
	for _, f := range []struct{ name, filter, stmt string }{
		{"share-empty-name", "$share//x", "MQTT-4.8.2-1"},
		{"share-name-only", "$share/g", "MQTT-4.8.2-2"},
		{"share-empty-filter", "$share/g/", "MQTT-4.8.2-2"},
		{"share-wildcard-name", "$share/g+/x", "MQTT-4.8.2-2"},
	} {
		h := fmt.Sprintf("%04x %s", len(f.filter), ctHexStr(f.filter))
		cs = append(cs,
			codecBad{"subscribe/filter-" + f.name, V5, ctFrame(0x82, "0001 00 "+h+" 00"), f.stmt, "4.8.2", TopicFilterInvalid},
			codecBad{"unsubscribe/filter-" + f.name, V5, ctFrame(0xa2, "0001 00 "+h), f.stmt, "4.8.2", TopicFilterInvalid},
		)
	}
	cs = append(cs, codecBad{"subscribe/share-bad-filter-after-name", V5,
		ctFrame(0x82, fmt.Sprintf("0001 00 %04x %s 00", len("$share/g/a#"), ctHexStr("$share/g/a#"))), "MQTT-4.7.1-1", "4.7", TopicFilterInvalid})

	// Empty SUBSCRIBE / UNSUBSCRIBE.
	cs = append(cs, ctOn("subscribe/no-filter", "MQTT-3.8.3-3", "MQTT-3.8.3-2", "3.8.3", "3.8.3", ctP,
		ctFrame(0x82, "0001"), ctFrame(0x82, "0001 00"))...)
	cs = append(cs, ctOn("subscribe/no-filter-with-properties", "", "MQTT-3.8.3-2", "", "3.8.3", ctP,
		"", ctFrame(0x82, "0001 02 0b01"))...)
	cs = append(cs, ctOn("unsubscribe/no-filter", "MQTT-3.10.3-2", "MQTT-3.10.3-2", "3.10.3", "3.10.3", ctP,
		ctFrame(0xa2, "0001"), ctFrame(0xa2, "0001 00"))...)

	// Packet identifier 0.
	cs = append(cs, ctOn("publish/qos1-packet-id-0", "MQTT-2.3.1-1", "MQTT-2.2.1-3", "2.3.1", "2.2.1", ctP,
		ctFrame(0x32, "0001 61 0000"), ctFrame(0x32, "0001 61 0000 00"))...)
	cs = append(cs, ctOn("publish/qos2-packet-id-0", "MQTT-2.3.1-1", "MQTT-2.2.1-3", "2.3.1", "2.2.1", ctP,
		ctFrame(0x34, "0001 61 0000 78"), ctFrame(0x34, "0001 61 0000 00 78"))...)
	cs = append(cs, ctOn("subscribe/packet-id-0", "MQTT-2.3.1-1", "MQTT-2.2.1-3", "2.3.1", "2.2.1", ctP,
		ctFrame(0x82, "0000 0001 61 00"), ctFrame(0x82, "0000 00 0001 61 00"))...)
	cs = append(cs, ctOn("unsubscribe/packet-id-0", "MQTT-2.3.1-1", "MQTT-2.2.1-3", "2.3.1", "2.2.1", ctP,
		ctFrame(0xa2, "0000 0001 61"), ctFrame(0xa2, "0000 00 0001 61"))...)
	for _, a := range []struct {
		name  string
		first byte
	}{{"puback", 0x40}, {"pubrec", 0x50}, {"pubrel", 0x62}, {"pubcomp", 0x70}} {
		cs = append(cs, ctOn(a.name+"/packet-id-0", "", "", "2.3.1", "2.2.1", ctP,
			ctFrame(a.first, "0000"), ctFrame(a.first, "0000"))...)
	}
	cs = append(cs, ctOn("suback/packet-id-0", "", "", "2.3.1", "2.2.1", ctP, ctFrame(0x90, "0000 00"), ctFrame(0x90, "0000 00 00"))...)
	cs = append(cs, ctOn("unsuback/packet-id-0", "", "", "2.3.1", "2.2.1", ctP, ctFrame(0xb0, "0000"), ctFrame(0xb0, "0000 00 00"))...)

	// Properties.
	cs = append(cs,
		codecBad{"publish/duplicate-message-expiry", V5, ctFrame(0x30, "0001 61 0a 0200000001 0200000002"), "", "3.3.2.3", ctP},
		codecBad{"publish/duplicate-topic-alias", V5, ctFrame(0x30, "0001 61 06 230001 230002"), "", "3.3.2.3", ctP},
		codecBad{"publish/duplicate-payload-format", V5, ctFrame(0x30, "0001 61 04 0100 0101"), "", "3.3.2.3", ctP},
		codecBad{"publish/duplicate-content-type", V5, ctFrame(0x30, "0001 61 08 03000161 03000162"), "", "3.3.2.3", ctP},
		codecBad{"connect/duplicate-session-expiry", V5, ctFrame(0x10, ctMQTT+" 05 02 003c 0a 1100000001 1100000002 0000"), "", "2.2.2.2", ctP},
		codecBad{"connect/duplicate-auth-method", V5, ctFrame(0x10, ctMQTT+" 05 02 003c 08 15000161 15000162 0000"), "", "2.2.2.2", ctP},
		codecBad{"connect/will-duplicate-will-delay", V5, ctFrame(0x10, ctMQTT+" 05 06 003c 00 0001 63 0a 1800000001 1800000002 0001 74 0000"), "", "3.1.3.2", ctP},
		codecBad{"connack/duplicate-maximum-qos", V5, ctFrame(0x20, "00 00 04 2400 2401"), "", "3.2.2.3", ctP},
		codecBad{"puback/duplicate-reason-string", V5, ctFrame(0x40, "0001 00 08 1f000161 1f000162"), "", "2.2.2.2", ctP},
		codecBad{"disconnect/duplicate-session-expiry", V5, ctFrame(0xe0, "00 0a 1100000001 1100000002"), "", "2.2.2.2", ctP},
		codecBad{"auth/duplicate-auth-method", V5, ctFrame(0xf0, "18 08 15000161 15000162"), "", "2.2.2.2", ctP},
		// SUBSCRIBE may carry one Subscription Identifier (5.0 3.8.2.1.2).
		codecBad{"subscribe/duplicate-subscription-id", V5, ctFrame(0x82, "0001 04 0b01 0b02 0001 61 00"), "", "3.8.2.1.2", ctP},

		codecBad{"publish/property-not-allowed-session-expiry", V5, ctFrame(0x30, "0001 61 05 1100000001"), "", "2.2.2.2", ctM},
		codecBad{"publish/property-not-allowed-will-delay", V5, ctFrame(0x30, "0001 61 05 1800000001"), "", "2.2.2.2", ctM},
		codecBad{"publish/property-not-allowed-reason-string", V5, ctFrame(0x30, "0001 61 04 1f000178"), "", "2.2.2.2", ctM},
		codecBad{"publish/property-not-allowed-auth-data", V5, ctFrame(0x30, "0001 61 04 16000178"), "", "2.2.2.2", ctM},
		codecBad{"connect/property-not-allowed-topic-alias", V5, ctFrame(0x10, ctMQTT+" 05 02 003c 03 230001 0000"), "", "2.2.2.2", ctM},
		codecBad{"connect/property-not-allowed-will-delay", V5, ctFrame(0x10, ctMQTT+" 05 02 003c 05 1800000001 0000"), "", "2.2.2.2", ctM},
		codecBad{"connect/will-property-not-allowed-session-expiry", V5, ctFrame(0x10, ctMQTT+" 05 06 003c 00 0001 63 05 1100000001 0001 74 0000"), "", "2.2.2.2", ctM},
		codecBad{"connack/property-not-allowed-topic-alias", V5, ctFrame(0x20, "00 00 03 230001"), "", "2.2.2.2", ctM},
		codecBad{"puback/property-not-allowed-payload-format", V5, ctFrame(0x40, "0001 00 02 0101"), "", "2.2.2.2", ctM},
		codecBad{"pubcomp/property-not-allowed-user-then-session-expiry", V5, ctFrame(0x70, "0001 00 0c 26000161000162 1100000001"), "", "2.2.2.2", ctM},
		codecBad{"subscribe/property-not-allowed-payload-format", V5, ctFrame(0x82, "0001 02 0101 0001 61 00"), "", "2.2.2.2", ctM},
		codecBad{"suback/property-not-allowed-payload-format", V5, ctFrame(0x90, "0001 02 0101 00"), "", "2.2.2.2", ctM},
		codecBad{"unsubscribe/property-not-allowed-subscription-id", V5, ctFrame(0xa2, "0001 02 0b01 0001 61"), "", "2.2.2.2", ctM},
		codecBad{"unsuback/property-not-allowed-topic-alias", V5, ctFrame(0xb0, "0001 03 230001 00"), "", "2.2.2.2", ctM},
		codecBad{"disconnect/property-not-allowed-payload-format", V5, ctFrame(0xe0, "00 02 0101"), "", "2.2.2.2", ctM},
		codecBad{"auth/property-not-allowed-topic-alias", V5, ctFrame(0xf0, "18 03 230001"), "", "2.2.2.2", ctM},

		codecBad{"publish/unknown-property-0x00", V5, ctFrame(0x30, "0001 61 02 0000"), "", "2.2.2.2", ctM},
		codecBad{"publish/unknown-property-0x04", V5, ctFrame(0x30, "0001 61 02 0400"), "", "2.2.2.2", ctM},
		codecBad{"publish/unknown-property-0x2b", V5, ctFrame(0x30, "0001 61 02 2b00"), "", "2.2.2.2", ctM},
		codecBad{"publish/unknown-property-0x7f", V5, ctFrame(0x30, "0001 61 02 7f00"), "", "2.2.2.2", ctM},
		codecBad{"publish/unknown-property-two-byte-id", V5, ctFrame(0x30, "0001 61 03 800100"), "", "2.2.2.2", ctM},
		codecBad{"connack/unknown-property-0x30", V5, ctFrame(0x20, "00 00 02 3000"), "", "2.2.2.2", ctM},

		codecBad{"publish/topic-alias-0", V5, ctFrame(0x30, "0001 61 03 230000"), "MQTT-3.3.2-8", "3.3.2.3.4", TopicAliasInvalid},
		codecBad{"publish/topic-alias-0-empty-topic", V5, ctFrame(0x30, "0000 03 230000"), "MQTT-3.3.2-8", "3.3.2.3.4", TopicAliasInvalid},
		codecBad{"publish/subscription-id-0", V5, ctFrame(0x30, "0001 61 02 0b00"), "", "3.8.2.1.2", ctP},
		codecBad{"subscribe/subscription-id-0", V5, ctFrame(0x82, "0001 02 0b00 0001 61 00"), "", "3.8.2.1.2", ctP},
		codecBad{"publish/payload-format-2", V5, ctFrame(0x30, "0001 61 02 0102"), "", "3.3.2.3", ctP},
		codecBad{"connect/receive-maximum-0", V5, ctFrame(0x10, ctMQTT+" 05 02 003c 03 210000 0000"), "", "3.1.2.11.3", ctP},
		codecBad{"connect/maximum-packet-size-0", V5, ctFrame(0x10, ctMQTT+" 05 02 003c 05 2700000000 0000"), "", "3.1.2.11.4", ctP},
		codecBad{"connect/request-problem-info-2", V5, ctFrame(0x10, ctMQTT+" 05 02 003c 02 1702 0000"), "", "2.2.2.2", ctP},
		codecBad{"connect/request-response-info-255", V5, ctFrame(0x10, ctMQTT+" 05 02 003c 02 19ff 0000"), "", "2.2.2.2", ctP},
		codecBad{"connack/maximum-qos-2", V5, ctFrame(0x20, "00 00 02 2402"), "", "3.2.2.3", ctP},
		codecBad{"connack/retain-available-2", V5, ctFrame(0x20, "00 00 02 2502"), "", "3.2.2.3", ctP},
		codecBad{"connect/auth-data-without-method", V5, ctFrame(0x10, ctMQTT+" 05 02 003c 04 16000178 0000"), "", "4.12", ctP},
		codecBad{"connack/auth-data-without-method", V5, ctFrame(0x20, "00 00 04 16000178"), "", "4.12", ctP},
		codecBad{"auth/auth-data-without-method", V5, ctFrame(0xf0, "18 04 16000178"), "", "4.12", ctP},
	)

	// Remaining length and content disagree.
	cs = append(cs,
		codecBad{"puback/left-over", V311, "40 03 0001 00", "", "2.2.3", ctM},
		codecBad{"pubrel/left-over", V31, "62 03 0001 00", "", "2.2.3", ctM},
		codecBad{"connack/left-over", V311, "20 03 0000 00", "", "2.2.3", ctM},
		codecBad{"connack/left-over", V5, "20 04 0000 00 00", "", "2.1.4", ctM},
		codecBad{"unsuback/left-over", V311, "b0 03 0001 00", "", "2.2.3", ctM},
		codecBad{"disconnect/left-over", V311, "e0 01 00", "", "2.2.3", ctM},
		codecBad{"disconnect/left-over", V5, "e0 03 00 00 00", "", "2.1.4", ctM},
		codecBad{"puback/left-over-after-properties", V5, "40 05 0001 00 00 00", "", "2.1.4", ctM},
		codecBad{"auth/left-over-after-properties", V5, "f0 03 18 00 00", "", "2.1.4", ctM},
		codecBad{"connect/left-over", V311, ctFrame(0x10, ctMQTT+" 04 02 003c 0001 63 00"), "", "2.2.3", ctM},
		codecBad{"connect/left-over", V5, ctFrame(0x10, ctMQTT+" 05 02 003c 00 0001 63 00"), "", "2.1.4", ctM},
		codecBad{"pingreq/payload", V311, "c0 01 00", "", "2.2.3", ctM},
		codecBad{"pingreq/payload", V5, "c0 02 0000", "", "2.1.4", ctM},
		codecBad{"pingresp/payload", V31, "d0 01 00", "", "2.2.3", ctM},

		codecBad{"publish/topic-truncated", V311, ctFrame(0x30, "0005 61"), "", "2.2.3", ctM},
		codecBad{"publish/topic-truncated", V5, ctFrame(0x30, "0005 61"), "", "2.1.4", ctM},
		codecBad{"publish/topic-length-truncated", V311, "30 01 00", "", "2.2.3", ctM},
		codecBad{"publish/packet-id-truncated", V311, ctFrame(0x32, "0001 61 00"), "", "2.2.3", ctM},
		codecBad{"publish/properties-missing", V5, ctFrame(0x30, "0001 61"), "", "2.1.4", ctM},
		codecBad{"connect/client-id-truncated", V311, ctFrame(0x10, ctMQTT+" 04 02 003c 0005 63"), "", "2.2.3", ctM},
		codecBad{"connect/protocol-name-truncated", V5, "10 04 0004 4d51", "", "2.2.3", ctM},
		codecBad{"connect/keep-alive-truncated", V311, ctFrame(0x10, ctMQTT+" 04 02 00"), "", "2.2.3", ctM},
		codecBad{"connect/password-missing", V311, ctFrame(0x10, ctMQTT+" 04 c2 003c 0001 63 0001 75"), "", "2.2.3", ctM},
		codecBad{"connect/will-payload-missing", V311, ctFrame(0x10, ctMQTT+" 04 06 003c 0001 63 0001 74"), "", "2.2.3", ctM},
		codecBad{"connack/truncated", V311, "20 01 00", "", "2.2.3", ctM},
		codecBad{"connack/properties-missing", V5, "20 02 00 00", "", "2.1.4", ctM},
		codecBad{"puback/truncated", V311, "40 01 00", "", "2.2.3", ctM},
		codecBad{"puback/empty", V5, "40 00", "", "2.1.4", ctM},
		codecBad{"subscribe/options-missing", V311, ctFrame(0x82, "0001 0001 61"), "", "2.2.3", ctM},
		codecBad{"subscribe/filter-truncated", V5, ctFrame(0x82, "0001 00 0005 61 00"), "", "2.1.4", ctM},
		codecBad{"unsubscribe/filter-truncated", V311, ctFrame(0xa2, "0001 0003 61"), "", "2.2.3", ctM},
		codecBad{"unsuback/properties-missing", V5, "b0 02 0001", "", "2.1.4", ctM},
	)

	// CONNECT: protocol name and level, flags.
	cs = append(cs,
		codecBad{"connect/name-mqtt-level-3", V311, ctFrame(0x10, ctMQTT+" 03 02 003c 0000"), "MQTT-3.1.2-1", "3.1.2.1", UnsupportedProtocolVersion},
		codecBad{"connect/name-mqisdp-level-4", V311, ctFrame(0x10, ctMQIsdp+" 04 02 003c 0000"), "MQTT-3.1.2-1", "3.1.2.1", UnsupportedProtocolVersion},
		codecBad{"connect/name-mqisdp-level-5", V5, ctFrame(0x10, ctMQIsdp+" 05 02 003c 00 0000"), "MQTT-3.1.2-1", "3.1.2.1", UnsupportedProtocolVersion},
		codecBad{"connect/name-lowercase", V311, ctFrame(0x10, "0004 6d717474 04 02 003c 0000"), "MQTT-3.1.2-1", "3.1.2.1", UnsupportedProtocolVersion},
		codecBad{"connect/name-empty", V311, ctFrame(0x10, "0000 04 02 003c 0000"), "MQTT-3.1.2-1", "3.1.2.1", UnsupportedProtocolVersion},
		codecBad{"connect/level-6", V311, ctFrame(0x10, ctMQTT+" 06 02 003c 0000"), "MQTT-3.1.2-2", "3.1.2.2", UnsupportedProtocolVersion},
		codecBad{"connect/level-0", V5, ctFrame(0x10, ctMQTT+" 00 02 003c 0000"), "MQTT-3.1.2-2", "3.1.2.2", UnsupportedProtocolVersion},
		codecBad{"connect/level-0x84-bridge-bit", V311, ctFrame(0x10, ctMQTT+" 84 02 003c 0000"), "MQTT-3.1.2-2", "3.1.2.2", UnsupportedProtocolVersion},
		codecBad{"connect/reserved-flag", V31, ctFrame(0x10, ctMQIsdp+" 03 03 003c 0000"), "MQTT-3.1.2-3", "3.1.2.3", ctM},
		codecBad{"connect/password-without-username", V31, ctFrame(0x10, ctMQIsdp+" 03 42 003c 0001 63 0001 70"), "MQTT-3.1.2-22", "3.1.2.9", ctM},
		codecBad{"connect/password-without-username", V311, ctFrame(0x10, ctMQTT+" 04 42 003c 0001 63 0001 70"), "MQTT-3.1.2-22", "3.1.2.9", ctM},
	)
	cs = append(cs, ctOn("connect/reserved-flag", "MQTT-3.1.2-3", "MQTT-3.1.2-3", "3.1.2.3", "3.1.2.3", ctM,
		ctFrame(0x10, ctMQTT+" 04 03 003c 0000"), ctFrame(0x10, ctMQTT+" 05 01 003c 00 0000"))...)
	cs = append(cs, ctOn("connect/will-qos1-without-will", "MQTT-3.1.2-13", "MQTT-3.1.2-11", "3.1.2.6", "3.1.2.6", ctM,
		ctFrame(0x10, ctMQTT+" 04 0a 003c 0000"), ctFrame(0x10, ctMQTT+" 05 0a 003c 00 0000"))...)
	cs = append(cs, ctOn("connect/will-qos2-without-will", "MQTT-3.1.2-13", "MQTT-3.1.2-11", "3.1.2.6", "3.1.2.6", ctM,
		ctFrame(0x10, ctMQTT+" 04 12 003c 0000"), ctFrame(0x10, ctMQTT+" 05 12 003c 00 0000"))...)
	cs = append(cs, ctOn("connect/will-retain-without-will", "MQTT-3.1.2-15", "MQTT-3.1.2-13", "3.1.2.7", "3.1.2.7", ctM,
		ctFrame(0x10, ctMQTT+" 04 22 003c 0000"), ctFrame(0x10, ctMQTT+" 05 22 003c 00 0000"))...)
	cs = append(cs, ctOn("connect/will-qos3", "MQTT-3.1.2-14", "MQTT-3.1.2-12", "3.1.2.6", "3.1.2.6", ctM,
		ctFrame(0x10, ctMQTT+" 04 1e 003c 0001 63 0001 74 0000"), ctFrame(0x10, ctMQTT+" 05 1e 003c 00 0001 63 00 0001 74 0000"))...)

	// CONNACK.
	cs = append(cs,
		codecBad{"connack/reserved-flags", V311, "20 02 02 00", "", "3.2.2.1", ctM},
		codecBad{"connack/reserved-flags", V5, "20 03 80 00 00", "MQTT-3.2.2-1", "3.2.2.1", ctM},
		codecBad{"connack/session-present-in-3.1", V31, "20 02 01 00", "", "3.2.2.1", ctM},
		codecBad{"connack/return-code-6", V311, "20 02 00 06", "", "3.2.2.3", ctP},
		codecBad{"connack/return-code-0x80", V31, "20 02 00 80", "", "3.2.2.3", ctP},
		// 3.1.1 states this in 3.2.2.2 (Session Present); 5.0 in 3.2.2.1.1.
		codecBad{"connack/session-present-refused", V311, "20 02 01 05", "MQTT-3.2.2-4", "3.2.2.2", ctP},
		codecBad{"connack/session-present-refused", V5, "20 03 01 80 00", "MQTT-3.2.2-6", "3.2.2.1.1", ctP},
	)
	for _, c := range []byte{0x01, 0x04, 0x10, 0x8b, 0x8e, 0xff} {
		cs = append(cs, codecBad{fmt.Sprintf("connack/reason-0x%02x", c), V5, ctFrame(0x20, fmt.Sprintf("00 %02x 00", c)), "", "3.2.2.2", ctP})
	}

	// Reason codes not allowed in acknowledgements and DISCONNECT / AUTH.
	for _, r := range []struct {
		name  string
		first byte
		codes []byte
	}{
		{"puback", 0x40, []byte{0x01, 0x02, 0x11, 0x81, 0x92}},
		{"pubrec", 0x50, []byte{0x01, 0x92, 0x95}},
		{"pubrel", 0x62, []byte{0x10, 0x80, 0x91}},
		{"pubcomp", 0x70, []byte{0x10, 0x80, 0x87}},
	} {
		for _, c := range r.codes {
			cs = append(cs,
				codecBad{fmt.Sprintf("%s/reason-0x%02x", r.name, c), V5, ctFrame(r.first, fmt.Sprintf("0001 %02x", c)), "", "2.4", ctP},
				codecBad{fmt.Sprintf("%s/reason-0x%02x-with-properties", r.name, c), V5, ctFrame(r.first, fmt.Sprintf("0001 %02x 00", c)), "", "2.4", ctP},
			)
		}
	}
	for _, c := range []byte{0x01, 0x18, 0x84, 0x85, 0xa3} {
		cs = append(cs, codecBad{fmt.Sprintf("disconnect/reason-0x%02x", c), V5, ctFrame(0xe0, fmt.Sprintf("%02x", c)), "", "2.4", ctP})
	}
	for _, c := range []byte{0x01, 0x04, 0x80, 0x87} {
		cs = append(cs, codecBad{fmt.Sprintf("auth/reason-0x%02x", c), V5, ctFrame(0xf0, fmt.Sprintf("%02x 00", c)), "", "2.4", ctP})
	}

	// SUBSCRIBE options.
	sub := func(opt string) string { return ctFrame(0x82, "0001 0001 61 "+opt) }
	sub5 := func(filter, opt string) string {
		return ctFrame(0x82, fmt.Sprintf("0001 00 %04x %s %s", len(filter), ctHexStr(filter), opt))
	}
	cs = append(cs,
		codecBad{"subscribe/qos-reserved-bit-2", V311, sub("04"), "MQTT-3-8.3-4", "3.8.3.1", ctM},
		codecBad{"subscribe/qos-reserved-bit-7", V311, sub("80"), "MQTT-3-8.3-4", "3.8.3.1", ctM},
		codecBad{"subscribe/qos-reserved-bits-5.0-options", V311, sub("3c"), "MQTT-3-8.3-4", "3.8.3.1", ctM},
		codecBad{"subscribe/qos-reserved-bit-2", V31, sub("04"), "MQTT-3-8.3-4", "3.8.3.1", ctM},
		codecBad{"subscribe/qos3", V311, sub("03"), "MQTT-3-8.3-4", "3.8.3.1", ctM},
		codecBad{"subscribe/options-reserved-bit-6", V5, sub5("a", "40"), "MQTT-3.8.3-5", "3.8.3.1", ctM},
		codecBad{"subscribe/options-reserved-bit-7", V5, sub5("a", "81"), "MQTT-3.8.3-5", "3.8.3.1", ctM},
		codecBad{"subscribe/options-reserved-bits", V5, sub5("a", "c0"), "MQTT-3.8.3-5", "3.8.3.1", ctM},
		codecBad{"subscribe/options-reserved-second-filter", V5, ctFrame(0x82, "0001 00 0001 61 01 0001 62 42"), "MQTT-3.8.3-5", "3.8.3.1", ctM},
		codecBad{"subscribe/retain-handling-3", V5, sub5("a", "30"), "", "3.8.3.1", ctP},
		// 5.0 3.8.3.1: "It is a Protocol Error if the Maximum QoS field has the value 3."
		codecBad{"subscribe/qos3", V5, sub5("a", "03"), "", "3.8.3.1", ctP},
		codecBad{"subscribe/no-local-shared", V5, sub5("$share/g/x", "04"), "MQTT-3.8.3-4", "3.8.3.1", ctP},
		codecBad{"subscribe/no-local-shared-wildcard", V5, sub5("$share/consumers/Long-Home/#", "2e"), "MQTT-3.8.3-4", "3.8.3.1", ctP},
	)

	// SUBACK and UNSUBACK codes.
	cs = append(cs,
		codecBad{"suback/return-code-0x03", V311, "90 03 0001 03", "MQTT-3.9.3-2", "3.9.3", ctP},
		codecBad{"suback/return-code-0x81", V311, "90 04 0001 00 81", "MQTT-3.9.3-2", "3.9.3", ctP},
		codecBad{"suback/return-code-0x80", V31, "90 03 0001 80", "MQTT-3.9.3-2", "3.9.3", ctP},
		codecBad{"suback/empty", V311, "90 02 0001", "", "3.9.3", ctP},
		codecBad{"suback/empty", V5, "90 03 0001 00", "", "3.9.3", ctP},
		codecBad{"unsuback/empty", V5, "b0 03 0001 00", "", "3.11.3", ctP},
	)
	for _, c := range []byte{0x03, 0x04, 0x10, 0x11, 0x8e} {
		cs = append(cs, codecBad{fmt.Sprintf("suback/reason-0x%02x", c), V5, ctFrame(0x90, fmt.Sprintf("0001 00 00 %02x", c)), "", "3.9.3", ctP})
	}
	for _, c := range []byte{0x01, 0x02, 0x10, 0x8e, 0x97} {
		cs = append(cs, codecBad{fmt.Sprintf("unsuback/reason-0x%02x", c), V5, ctFrame(0xb0, fmt.Sprintf("0001 00 00 %02x", c)), "", "3.11.3", ctP})
	}

	// Reserved fixed-header flags, every type but PUBLISH, every level.
	for _, v := range ctAllVersions {
		for _, typ := range ctTypesIn(v) {
			if typ == PUBLISH {
				continue
			}
			req := requiredFlags(typ)
			for _, flags := range []byte{req ^ 0x1, req ^ 0x2, req ^ 0x8, 0xF} {
				first := byte(typ)<<4 | flags
				cs = append(cs, codecBad{
					name: fmt.Sprintf("flags/%s-0x%X", strings.ToLower(typ.String()), flags), v: v,
					hex:  fmt.Sprintf("%02x 00", first),
					stmt: pick(v, "MQTT-2.2.2-2", "MQTT-2.1.3-1"), sec: pick(v, "2.2.2", "2.1.3"), reason: ctM,
				})
			}
		}
	}
	// A plausible packet behind the bad flags does not help.
	cs = append(cs, ctOn("flags/subscribe-0x0-with-body", "MQTT-2.2.2-2", "MQTT-2.1.3-1", "2.2.2", "2.1.3", ctM,
		ctFrame(0x80, "0001 0001 61 00"), ctFrame(0x80, "0001 00 0001 61 00"))...)
	cs = append(cs, ctOn("flags/puback-0x2-with-body", "MQTT-2.2.2-2", "MQTT-2.1.3-1", "2.2.2", "2.1.3", ctM,
		ctFrame(0x42, "0001"), ctFrame(0x42, "0001"))...)

	for i := range cs {
		cs[i].name += "/v" + cs[i].v.String()
	}
	return cs
}

// ctCheckBad checks that err is the *Error row tc describes.
func ctCheckBad(t *testing.T, tc codecBad, err error, via string) {
	t.Helper()
	e := AsError(err)
	if e == nil {
		t.Fatalf("%s: got %v (%T), want *Error %s/%s %s", via, err, err, tc.stmt, tc.sec, tc.reason)
	}
	if e.Statement != tc.stmt || (tc.sec != "" && e.Section != tc.sec) || e.Reason != tc.reason {
		t.Fatalf("%s: got statement %q section %q reason %s (%v)\nwant statement %q section %q reason %s",
			via, e.Statement, e.Section, e.Reason, e, tc.stmt, tc.sec, tc.reason)
	}
	if e.Msg == "" || e.Error() == "" {
		t.Fatalf("%s: empty message: %#v", via, e)
	}
	if tc.stmt != "" && !errors.Is(err, &Error{Statement: tc.stmt}) {
		t.Fatalf("%s: errors.Is(err, &Error{Statement: %q}) is false", via, tc.stmt)
	}
	if !errors.Is(err, &Error{Reason: tc.reason, Section: e.Section}) {
		t.Fatalf("%s: errors.Is by reason and section is false", via)
	}
	// Packet names the type being decoded once the first byte is valid.
	b := ctUnhex(tc.hex)
	typ := Type(b[0] >> 4)
	if typ != 0 && !(typ == AUTH && tc.v != V5) && e.Packet != typ {
		t.Fatalf("%s: Packet = %s, want %s", via, e.Packet, typ)
	}
}

func TestCodecMalformed(t *testing.T) {
	cases := codecBadCases()
	names := map[string]bool{}
	stmtRE := regexp.MustCompile(`^MQTT-\d+[.-]\d+(\.\d+)*-\d+$`)
	for _, tc := range cases {
		if names[tc.name] {
			t.Errorf("duplicate case name %s", tc.name)
		}
		names[tc.name] = true
		if tc.stmt == "" && tc.sec == "" {
			t.Errorf("%s: a row without a statement needs a section", tc.name)
		}
		if tc.stmt != "" && !stmtRE.MatchString(tc.stmt) {
			t.Errorf("%s: statement %q is not an MQTT-x.y.z-n ID", tc.name, tc.stmt)
		}
	}
	t.Logf("%d malformed cases", len(cases))

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := ctUnhex(tc.hex)
			opts := DecodeOptions{Version: tc.v}
			p, n, err := Decode(b, opts)
			if p != nil {
				t.Fatalf("Decode accepted % x as %s", b, ctDump(p))
			}
			ctCheckBad(t, tc, err, "Decode")
			// A refused packet still reports its size once the header is valid,
			// so a caller can skip it; it never claims more than the input.
			if n > len(b) {
				t.Fatalf("Decode reported %d bytes of %d", n, len(b))
			}

			d := &Decoder{Options: opts}
			_, _, derr := d.Decode(b)
			ctCheckBad(t, tc, derr, "Decoder")
			if d.Options.Version != opts.Version {
				t.Fatalf("Decoder switched to %s after a refused packet", d.Options.Version)
			}

			r := NewReader(bytes.NewReader(b), opts)
			_, rerr := r.ReadPacket()
			ctCheckBad(t, tc, rerr, "Reader")
			if r.Options.Version != opts.Version {
				t.Fatalf("Reader switched to %s after a refused packet", r.Options.Version)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// (c) Maximum packet size and streams

func TestCodecMaxPacketSize(t *testing.T) {
	for _, v := range ctAllVersions {
		pub := ctAsDecoded(&Publish{QoS: 1, PacketID: 1, Topic: ctB("a"), Payload: bytes.Repeat([]byte{'x'}, 100)})
		b := ctEncode(t, pub, v)
		for _, limit := range []int{len(b) - 1, 10, 2} {
			opts := DecodeOptions{Version: v, MaxPacketSize: limit}
			for _, in := range [][]byte{b, b[:2]} { // the whole packet, or just its header
				wantTooLarge := func(via string, err error) {
					t.Helper()
					e := AsError(err)
					if e == nil || e.Reason != PacketTooLarge || e.Packet != PUBLISH || e.Msg == "" {
						t.Fatalf("%s %s limit %d, %d bytes: got %v, want Packet too large", v, via, limit, len(in), err)
					}
					if !errors.Is(err, &Error{Reason: PacketTooLarge}) {
						t.Fatalf("errors.Is PacketTooLarge false")
					}
				}
				_, _, err := Decode(in, opts)
				wantTooLarge("Decode", err)
				_, err = ParseHeader(in, opts)
				wantTooLarge("ParseHeader", err)
				d := Decoder{Options: opts}
				_, _, err = d.Decode(in)
				wantTooLarge("Decoder", err)
				_, err = NewReader(bytes.NewReader(in), opts).ReadPacket()
				wantTooLarge("Reader", err)
			}
		}
		// At the limit exactly, it passes.
		opts := DecodeOptions{Version: v, MaxPacketSize: len(b)}
		if got, _, err := Decode(b, opts); err != nil || !reflect.DeepEqual(got, pub) {
			t.Fatalf("%s: Decode at the limit: %v", v, err)
		}
		if got, err := NewReader(bytes.NewReader(b), opts).ReadPacket(); err != nil || !reflect.DeepEqual(got, pub) {
			t.Fatalf("%s: Reader at the limit: %v", v, err)
		}
	}

	// A header announcing the largest remaining length is refused from the
	// header alone under a limit, by every entry point.
	huge := ctUnhex("30 ff ff ff 7f")
	opts := DecodeOptions{Version: V5, MaxPacketSize: 1 << 20}
	if _, err := ParseHeader(huge, opts); !errors.Is(err, &Error{Reason: PacketTooLarge}) {
		t.Fatalf("ParseHeader(huge) = %v", err)
	}
	if _, _, err := Decode(huge, opts); !errors.Is(err, &Error{Reason: PacketTooLarge}) {
		t.Fatalf("Decode(huge) = %v", err)
	}
	if _, err := NewReader(bytes.NewReader(huge), opts).ReadPacket(); !errors.Is(err, &Error{Reason: PacketTooLarge}) {
		t.Fatalf("Reader(huge) = %v", err)
	}
	// Without a limit the header is fine and the packet incomplete.
	if h, err := ParseHeader(huge, DecodeOptions{}); err != nil || h.RemainingLength != MaxVarInt || h.Size() != MaxPacketSize {
		t.Fatalf("ParseHeader(huge) without limit = %+v, %v", h, err)
	}
	if _, _, err := Decode(huge, DecodeOptions{}); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("Decode(huge) without limit = %v", err)
	}
	// A limit above the protocol's largest packet is the protocol's largest.
	if _, err := ParseHeader(huge, DecodeOptions{MaxPacketSize: 1 << 40}); err != nil {
		t.Fatalf("ParseHeader(huge) with a limit above the protocol's: %v", err)
	}
}

// ctAllocated returns the bytes allocated while f runs.
func ctAllocated(f func()) uint64 {
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	f()
	runtime.ReadMemStats(&m1)
	return m1.TotalAlloc - m0.TotalAlloc
}

func TestCodecReaderBoundedAllocation(t *testing.T) {
	// 268 MB announced, nothing sent.
	huge := ctUnhex("30 ff ff ff 7f")
	var err error
	alloc := ctAllocated(func() {
		_, err = NewReader(bytes.NewReader(huge), DecodeOptions{}).ReadPacket()
	})
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Reader on a header alone: %v, want io.ErrUnexpectedEOF", err)
	}
	if alloc >= 1<<20 {
		t.Fatalf("Reader allocated %d bytes for a 5-byte input", alloc)
	}
	t.Logf("header only: %d bytes allocated", alloc)

	// 268 MB announced, 100 KB sent: the buffer grows with what arrives.
	sent := 100_000
	in := append(append([]byte{}, huge...), bytes.Repeat([]byte{'x'}, sent)...)
	for _, reuse := range []bool{false, true} {
		alloc = ctAllocated(func() {
			r := NewReader(iotest.OneByteReader(bytes.NewReader(in)), DecodeOptions{Version: V5})
			r.Reuse = reuse
			_, err = r.ReadPacket()
		})
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("Reader: %v, want io.ErrUnexpectedEOF", err)
		}
		if limit := uint64(2*len(in) + 64<<10 + 8<<10); alloc > limit {
			t.Fatalf("Reader (reuse %t) allocated %d bytes for %d bytes of input; limit %d", reuse, alloc, len(in), limit)
		}
		t.Logf("%d bytes sent, reuse %t: %d bytes allocated", len(in), reuse, alloc)
	}
}

// ctStream concatenates the valid cases of one level. Unless the level is
// 3.1.1 (the default) the stream starts with a CONNECT of that level, which
// switches the reader to it.
func ctStream(t testing.TB, v Version) ([]byte, []Packet) {
	var buf []byte
	var ps []Packet
	var rest []codecValid
	for _, tc := range codecValidCases() {
		if tc.v != v {
			continue
		}
		if _, ok := tc.p.(*Connect); ok && len(ps) == 0 {
			ps = append(ps, tc.p)
			buf = append(buf, ctEncode(t, tc.p, v)...)
			continue
		}
		rest = append(rest, tc)
	}
	for _, tc := range rest {
		ps = append(ps, tc.p)
		buf = append(buf, ctEncode(t, tc.p, v)...)
	}
	return buf, ps
}

func TestCodecReaderStream(t *testing.T) {
	wraps := map[string]func(io.Reader) io.Reader{
		"plain":    func(r io.Reader) io.Reader { return r },
		"one-byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"data-err": iotest.DataErrReader,
	}
	for _, v := range ctAllVersions {
		stream, want := ctStream(t, v)
		for wname, wrap := range wraps {
			for _, reuse := range []bool{false, true} {
				name := fmt.Sprintf("%s/%s/reuse-%t", v, wname, reuse)
				r := NewReader(wrap(bytes.NewReader(stream)), DecodeOptions{}) // default 3.1.1; CONNECT switches
				r.Reuse = reuse
				for i, w := range want {
					p, err := r.ReadPacket()
					if err != nil {
						t.Fatalf("%s: packet %d (%s): %v", name, i, w.Type(), err)
					}
					if !reflect.DeepEqual(ctNormalizeReuse(p), ctNormalizeReuse(w)) {
						t.Fatalf("%s: packet %d differs\n got: %s\nwant: %s", name, i, ctDump(p), ctDump(w))
					}
				}
				if r.Options.Version != v {
					t.Fatalf("%s: reader version %s after the stream", name, r.Options.Version)
				}
				if _, err := r.ReadPacket(); err != io.EOF {
					t.Fatalf("%s: at the end: %v, want io.EOF exactly", name, err)
				}
			}
		}
		// Cut inside the last packet, after its first byte or before its
		// last: unexpected EOF.
		last := want[len(want)-1].Size(v)
		for _, cut := range []int{1, last - 1} {
			in := stream[:len(stream)-cut]
			r := NewReader(bytes.NewReader(in), DecodeOptions{})
			var err error
			for i := 0; i < len(want)+1 && err == nil; i++ {
				_, err = r.ReadPacket()
			}
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("%s: stream cut by %d: %v, want io.ErrUnexpectedEOF", v, cut, err)
			}
		}
		for _, tail := range []string{"30", "30 80", "30 0a 00"} {
			in := append(append([]byte{}, stream...), ctUnhex(tail)...)
			r := NewReader(bytes.NewReader(in), DecodeOptions{})
			var err error
			n := 0
			for err == nil {
				_, err = r.ReadPacket()
				n++
			}
			if n != len(want)+1 || !errors.Is(err, io.ErrUnexpectedEOF) || AsError(err) != nil {
				t.Fatalf("%s: stream + % x: after %d reads %v, want io.ErrUnexpectedEOF after %d", v, ctUnhex(tail), n, err, len(want)+1)
			}
		}

		// The slice Decoder over the same stream.
		d := &Decoder{}
		rest := stream
		for i, w := range want {
			p, n, err := d.Decode(rest)
			if err != nil || !reflect.DeepEqual(ctNormalizeReuse(p), ctNormalizeReuse(w)) {
				t.Fatalf("%s: Decoder packet %d: %v\n got: %s\nwant: %s", v, i, err, ctDump(p), ctDump(w))
			}
			rest = rest[n:]
		}
		if len(rest) != 0 || d.Options.Version != v {
			t.Fatalf("%s: Decoder left %d bytes, version %s", v, len(rest), d.Options.Version)
		}
		if _, _, err := d.Decode(nil); !errors.Is(err, ErrIncomplete) {
			t.Fatalf("Decoder on nothing: %v", err)
		}
	}
	// Nothing at all is a clean end.
	if _, err := NewReader(bytes.NewReader(nil), DecodeOptions{}).ReadPacket(); err != io.EOF {
		t.Fatalf("Reader on empty input: %v", err)
	}
}

func TestCodecVersionSwitch(t *testing.T) {
	connect := ctAsDecoded(&Connect{ProtocolVersion: V5, CleanStart: true, ClientID: "c"})
	pub := ctAsDecoded(&Publish{QoS: 1, PacketID: 1, Topic: ctB("t"), Payload: ctB("x"),
		Properties: Properties{TopicAlias: 1, User: ctUser("k", "v")}})
	stream := append(ctEncode(t, connect, V5), ctEncode(t, pub, V5)...)
	pubBytes := stream[connect.Size(V5):]

	// Read as 3.1.1 the v5 PUBLISH is a different packet: its properties
	// would be payload. So decoding it right proves the switch.
	as311, _, err := Decode(pubBytes, DecodeOptions{Version: V311})
	if err != nil || reflect.DeepEqual(as311, pub) {
		t.Fatalf("the v5 PUBLISH read as 3.1.1: %v, %s", err, ctDump(as311))
	}

	d := &Decoder{}
	if _, _, err := d.Decode(stream); err != nil || d.Options.Version != V5 {
		t.Fatalf("Decoder after CONNECT: %v, version %s", err, d.Options.Version)
	}
	if p, _, err := d.Decode(pubBytes); err != nil || !reflect.DeepEqual(p, pub) {
		t.Fatalf("Decoder PUBLISH after the switch: %v %s", err, ctDump(p))
	}
	r := NewReader(bytes.NewReader(stream), DecodeOptions{})
	if _, err := r.ReadPacket(); err != nil || r.Options.Version != V5 {
		t.Fatalf("Reader after CONNECT: %v, version %s", err, r.Options.Version)
	}
	if p, err := r.ReadPacket(); err != nil || !reflect.DeepEqual(p, pub) {
		t.Fatalf("Reader PUBLISH after the switch: %v %s", err, ctDump(p))
	}

	// A 3.1 CONNECT switches to 3.1, where SUBACK 0x80 does not exist.
	c31 := ctEncode(t, &Connect{ProtocolVersion: V31, ClientID: "c"}, V31)
	suback := ctUnhex("90 03 0001 80")
	d = &Decoder{}
	if _, _, err := d.Decode(c31); err != nil || d.Options.Version != V31 {
		t.Fatalf("Decoder after 3.1 CONNECT: %v, %s", err, d.Options.Version)
	}
	if _, _, err := d.Decode(suback); !errors.Is(err, &Error{Statement: "MQTT-3.9.3-2"}) {
		t.Fatalf("SUBACK 0x80 in 3.1: %v", err)
	}
	// A refused CONNECT does not switch.
	d = &Decoder{}
	bad := ctUnhex(ctFrame(0x10, ctMQTT+" 05 02 003c 03 210000 0000"))
	if _, _, err := d.Decode(bad); err == nil || d.Options.Version != 0 {
		t.Fatalf("refused CONNECT: %v, version %s", err, d.Options.Version)
	}
	r = NewReader(bytes.NewReader(bad), DecodeOptions{})
	if _, err := r.ReadPacket(); err == nil || r.Options.Version != 0 {
		t.Fatalf("Reader refused CONNECT: %v, version %s", err, r.Options.Version)
	}
}

// ---------------------------------------------------------------------------
// (d) Zero allocation

func TestCodecZeroAllocPublish(t *testing.T) {
	pub := &Publish{QoS: AtLeastOnce, PacketID: 42, Topic: ctB("Long-Home/Küche/Temperatur"), Payload: bytes.Repeat([]byte{'7'}, 64),
		Properties: Properties{TopicAlias: 3, MessageExpiry: 300, ContentType: ctB("application/json"), User: ctUser("unit", "°C")}}
	b := ctEncode(t, pub, V5)
	d := &Decoder{Options: DecodeOptions{Version: V5}}
	for i := 0; i < 3; i++ { // warm up: the decoder's packet and its slices
		if _, _, err := d.Decode(b); err != nil {
			t.Fatal(err)
		}
	}
	var derr error
	allocs := testing.AllocsPerRun(1000, func() {
		_, _, derr = d.Decode(b)
	})
	if derr != nil {
		t.Fatal(derr)
	}
	if allocs != 0 {
		t.Errorf("Decoder.Decode of a v5 PUBLISH: %v allocations, want 0", allocs)
	}
	got, _, _ := d.Decode(b)
	if !reflect.DeepEqual(got, ctAsDecoded(pub)) {
		t.Fatalf("decoded %s", ctDump(got))
	}

	buf := make([]byte, 0, pub.Size(V5))
	var aerr error
	allocs = testing.AllocsPerRun(1000, func() {
		buf, aerr = pub.Append(buf[:0], V5)
	})
	if aerr != nil {
		t.Fatal(aerr)
	}
	if allocs != 0 {
		t.Errorf("Publish.Append into a buffer with room: %v allocations, want 0", allocs)
	}
	if !bytes.Equal(buf, b) {
		t.Fatalf("Append into a buffer wrote % x, want % x", buf, b)
	}
	// The same for 3.1.1.
	b311 := ctEncode(t, pub, V311)
	d311 := &Decoder{}
	d311.Decode(b311)
	if allocs := testing.AllocsPerRun(1000, func() { d311.Decode(b311) }); allocs != 0 {
		t.Errorf("Decoder.Decode of a 3.1.1 PUBLISH: %v allocations, want 0", allocs)
	}
}
