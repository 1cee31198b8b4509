package compare

// Side-by-side decode and encode benchmarks. Every input is built once with
// mqttspec's encoder; TestSameInputs checks that each library decodes those
// very bytes to the same packet and that each library's encoder produces an
// equivalent packet, so the benchmarks time the same work.
//
// What is timed, per library:
//
//   - mqttspec: packet.Decoder.Decode on the slice (one reused packet per
//     type, the documented zero-allocation path). mqttspec-alloc is the
//     package-level packet.Decode, which returns a new packet each time;
//     mqttspec-stream is packet.Reader (Reuse) over a bufio.Reader, the same
//     shape as paho's stream API.
//   - mochi: the codec functions its server's read loop calls, without its
//     socket reads and body copies: FixedHeader.Decode of the first byte,
//     packets.DecodeLength of the remaining length, then PublishDecode,
//     ConnectDecode or SubscribeDecode into a fresh packets.Packet, as the
//     server decodes each packet into a new value. Its separate *Validate
//     checks are not timed (mqttspec's decoder includes the equivalent).
//   - paho: packets.ReadPacket from a bytes.Reader reset to the input, the
//     only decode entry point paho.golang has. paho.golang speaks only 5.0,
//     so it has no 3.1.1 case.
//
// Encoding: mqttspec appends into a reused slice; mochi's *Encode methods
// write into a reused bytes.Buffer; paho's WriteTo writes into a reused
// bytes.Buffer.

import (
	"bufio"
	"bytes"
	"fmt"
	"testing"

	paho "github.com/eclipse/paho.golang/packets"
	mochi "github.com/mochi-mqtt/server/v2/packets"
	"github.com/mqttspec/mqttspec/reference/packet"
)

const topic = "Long-Home/Küche/Temperatur"

var payload = func() []byte {
	p := []byte(`{"temp":21.5,"unit":"C","ts":1735689600,"sensor":"kueche-01"}`)
	for len(p) < 64 {
		p = append(p, ' ')
	}
	return p[:64]
}()

func ptr[T any](v T) *T { return &v }

// ---- the four packets, once per library ----

// publishV5 is the headline: QoS 1, 64-byte payload, Message Expiry
// Interval, Content Type and one User Property.
func publishV5() *packet.Publish {
	p := &packet.Publish{QoS: packet.AtLeastOnce, Topic: []byte(topic), PacketID: 4711, Payload: payload}
	p.Properties.MessageExpiry = 3600
	p.Properties.ContentType = []byte("application/json")
	p.Properties.AddUser("unit", "celsius")
	return p
}

func publishV5Mochi() mochi.Packet {
	return mochi.Packet{
		FixedHeader:     mochi.FixedHeader{Type: mochi.Publish, Qos: 1},
		ProtocolVersion: 5,
		TopicName:       topic,
		PacketID:        4711,
		Properties: mochi.Properties{
			MessageExpiryInterval: 3600,
			ContentType:           "application/json",
			User:                  []mochi.UserProperty{{Key: "unit", Val: "celsius"}},
		},
		Payload: payload,
	}
}

func publishV5Paho() *paho.Publish {
	return &paho.Publish{QoS: 1, Topic: topic, PacketID: 4711, Payload: payload, Properties: &paho.Properties{
		MessageExpiry: ptr(uint32(3600)),
		ContentType:   "application/json",
		User:          []paho.User{{Key: "unit", Value: "celsius"}},
	}}
}

func publishV311() *packet.Publish {
	return &packet.Publish{Topic: []byte(topic), Payload: payload}
}

func publishV311Mochi() mochi.Packet {
	return mochi.Packet{
		FixedHeader:     mochi.FixedHeader{Type: mochi.Publish},
		ProtocolVersion: 4,
		TopicName:       topic,
		Payload:         payload,
	}
}

func connectV5() *packet.Connect {
	c := &packet.Connect{ProtocolVersion: packet.V5, CleanStart: true, KeepAlive: 60, ClientID: "sensor-kueche-01",
		Username: "sensor", Password: []byte("s3cr3t-passw0rd")}
	c.Properties.SessionExpiry = 3600
	c.Properties.ReceiveMaximum = 100
	c.Properties.MaximumPacketSize = 1 << 20
	c.Properties.TopicAliasMaximum = 10
	c.Properties.AddUser("site", "Long-Home")
	return c
}

func connectV5Mochi() mochi.Packet {
	return mochi.Packet{
		FixedHeader:     mochi.FixedHeader{Type: mochi.Connect},
		ProtocolVersion: 5,
		Connect: mochi.ConnectParams{
			ProtocolName:     []byte("MQTT"),
			Clean:            true,
			Keepalive:        60,
			ClientIdentifier: "sensor-kueche-01",
			UsernameFlag:     true,
			Username:         []byte("sensor"),
			PasswordFlag:     true,
			Password:         []byte("s3cr3t-passw0rd"),
		},
		Properties: mochi.Properties{
			SessionExpiryInterval:     3600,
			SessionExpiryIntervalFlag: true,
			ReceiveMaximum:            100,
			MaximumPacketSize:         1 << 20,
			TopicAliasMaximum:         10,
			User:                      []mochi.UserProperty{{Key: "site", Val: "Long-Home"}},
		},
	}
}

func connectV5Paho() *paho.Connect {
	return &paho.Connect{ProtocolName: "MQTT", ProtocolVersion: 5, CleanStart: true, KeepAlive: 60,
		ClientID: "sensor-kueche-01", UsernameFlag: true, Username: "sensor", PasswordFlag: true, Password: []byte("s3cr3t-passw0rd"),
		Properties: &paho.Properties{
			SessionExpiryInterval: ptr(uint32(3600)),
			ReceiveMaximum:        ptr(uint16(100)),
			MaximumPacketSize:     ptr(uint32(1 << 20)),
			TopicAliasMaximum:     ptr(uint16(10)),
			User:                  []paho.User{{Key: "site", Value: "Long-Home"}},
		}}
}

var filters = []struct {
	f       string
	qos     byte
	noLocal bool
	rh      byte
}{
	{"Long-Home/+/Temperatur", 1, false, 0},
	{"Long-Home/Küche/#", 2, true, 0},
	{"sensors/status", 0, false, 1},
}

func subscribeV5() *packet.Subscribe {
	s := &packet.Subscribe{PacketID: 7}
	s.Properties.SubscriptionIDs = []int{42}
	for _, f := range filters {
		s.Subscriptions = append(s.Subscriptions, packet.Subscription{Filter: f.f, QoS: packet.QoS(f.qos), NoLocal: f.noLocal, RetainHandling: f.rh})
	}
	return s
}

func subscribeV5Mochi() mochi.Packet {
	pk := mochi.Packet{
		FixedHeader:     mochi.FixedHeader{Type: mochi.Subscribe, Qos: 1},
		ProtocolVersion: 5,
		PacketID:        7,
		Properties:      mochi.Properties{SubscriptionIdentifier: []int{42}},
	}
	for _, f := range filters {
		pk.Filters = append(pk.Filters, mochi.Subscription{Filter: f.f, Qos: f.qos, NoLocal: f.noLocal, RetainHandling: f.rh})
	}
	return pk
}

func subscribeV5Paho() *paho.Subscribe {
	s := &paho.Subscribe{PacketID: 7, Properties: &paho.Properties{SubscriptionIdentifier: ptr(42)}}
	for _, f := range filters {
		s.Subscriptions = append(s.Subscriptions, paho.SubOptions{Topic: f.f, QoS: f.qos, NoLocal: f.noLocal, RetainHandling: f.rh})
	}
	return s
}

// case_ is one packet in the three libraries' own representations.
type case_ struct {
	name  string
	v     packet.Version
	ours  packet.Packet
	mochi func() mochi.Packet
	paho  func() paho.Packet // nil: paho.golang cannot express it (3.1.1)
}

var cases = []case_{
	{"PublishV5", packet.V5, publishV5(), publishV5Mochi, func() paho.Packet { return publishV5Paho() }},
	{"PublishV311", packet.V311, publishV311(), publishV311Mochi, nil},
	{"ConnectV5", packet.V5, connectV5(), connectV5Mochi, func() paho.Packet { return connectV5Paho() }},
	{"SubscribeV5", packet.V5, subscribeV5(), subscribeV5Mochi, func() paho.Packet { return subscribeV5Paho() }},
}

func wireOf(tb testing.TB, c case_) []byte {
	tb.Helper()
	b, err := packet.Encode(c.ours, c.v)
	if err != nil {
		tb.Fatalf("%s: encode: %v", c.name, err)
	}
	return b
}

// ---- decoding in each library ----

// mochiDecoder holds what mochi's read path reuses between packets: only
// the reader the remaining length is decoded from.
type mochiDecoder struct {
	rd bytes.Reader
}

// decode runs mochi's codec on one complete packet in b: fixed header
// first byte, remaining length, then the body decoder for the type.
func (m *mochiDecoder) decode(pk *mochi.Packet, b []byte, version byte) error {
	var fh mochi.FixedHeader
	if err := fh.Decode(b[0]); err != nil {
		return err
	}
	m.rd.Reset(b[1:])
	n, used, err := mochi.DecodeLength(&m.rd)
	if err != nil {
		return err
	}
	body := b[1+used:]
	if len(body) != n {
		return fmt.Errorf("mochi: remaining length %d, have %d bytes", n, len(body))
	}
	fh.Remaining = n
	*pk = mochi.Packet{ProtocolVersion: version, FixedHeader: fh}
	switch fh.Type {
	case mochi.Publish:
		return pk.PublishDecode(body)
	case mochi.Connect:
		return pk.ConnectDecode(body)
	case mochi.Subscribe:
		return pk.SubscribeDecode(body)
	}
	return fmt.Errorf("mochi: type %d not wired into this benchmark", fh.Type)
}

func mochiEncode(pk *mochi.Packet, buf *bytes.Buffer) error {
	switch pk.FixedHeader.Type {
	case mochi.Publish:
		return pk.PublishEncode(buf)
	case mochi.Connect:
		return pk.ConnectEncode(buf)
	case mochi.Subscribe:
		return pk.SubscribeEncode(buf)
	}
	return fmt.Errorf("mochi: type %d not wired into this benchmark", pk.FixedHeader.Type)
}

func pahoEncode(p paho.Packet, buf *bytes.Buffer) error {
	_, err := p.WriteTo(buf)
	return err
}

// ---- the correctness check behind the benchmarks ----

// TestSameInputs decodes each input with every library and compares the
// fields, and checks that each library's encoding of the packet decodes,
// under mqttspec's strict decoder, to the same packet.
func TestSameInputs(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wire := wireOf(t, c)

			// mqttspec
			var d packet.Decoder
			d.Options.Version = c.v
			p, n, err := d.Decode(wire)
			if err != nil || n != len(wire) {
				t.Fatalf("mqttspec: %v (%d of %d bytes)", err, n, len(wire))
			}

			// mochi
			var md mochiDecoder
			var mp mochi.Packet
			if err := md.decode(&mp, wire, byte(c.v)); err != nil {
				t.Fatalf("mochi: %v", err)
			}
			checkMochi(t, c.name, p, &mp)

			// paho
			if c.paho != nil {
				cp, err := paho.ReadPacket(bytes.NewReader(wire))
				if err != nil {
					t.Fatalf("paho: %v", err)
				}
				checkPaho(t, c.name, p, cp)
			}

			// encoders: each library's output must be the same packet.
			var buf bytes.Buffer
			mpk := c.mochi()
			if err := mochiEncode(&mpk, &buf); err != nil {
				t.Fatalf("mochi encode: %v", err)
			}
			sameAs(t, "mochi", wire, buf.Bytes(), c.v)
			if c.paho != nil {
				buf.Reset()
				if err := pahoEncode(c.paho(), &buf); err != nil {
					t.Fatalf("paho encode: %v", err)
				}
				sameAs(t, "paho", wire, buf.Bytes(), c.v)
			}
		})
	}
}

// sameAs checks that got encodes the same packet as want: byte for byte, or
// else after a strict decode and canonical re-encode (property order may
// differ between encoders).
func sameAs(t *testing.T, lib string, want, got []byte, v packet.Version) {
	t.Helper()
	if bytes.Equal(want, got) {
		t.Logf("%s encoder: byte-identical (%d bytes)", lib, len(got))
		return
	}
	var d packet.Decoder
	d.Options.Version = v
	p, n, err := d.Decode(got)
	if err != nil || n != len(got) {
		t.Fatalf("%s encoder output is rejected by mqttspec: %v\n% X", lib, err, got)
	}
	canon, err := packet.Encode(p, v)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(canon, want) {
		t.Fatalf("%s encoder output is a different packet:\n got % X\nwant % X", lib, got, want)
	}
	t.Logf("%s encoder: same packet, different byte order (%d bytes)", lib, len(got))
}

func checkMochi(t *testing.T, name string, p packet.Packet, m *mochi.Packet) {
	t.Helper()
	bad := func(field string, got, want any) { t.Errorf("mochi %s: %s = %v, want %v", name, field, got, want) }
	switch p := p.(type) {
	case *packet.Publish:
		if m.TopicName != string(p.Topic) {
			bad("topic", m.TopicName, string(p.Topic))
		}
		if m.PacketID != p.PacketID {
			bad("packet id", m.PacketID, p.PacketID)
		}
		if !bytes.Equal(m.Payload, p.Payload) {
			bad("payload", m.Payload, p.Payload)
		}
		if m.Properties.MessageExpiryInterval != p.Properties.MessageExpiry || m.Properties.ContentType != string(p.Properties.ContentType) ||
			len(m.Properties.User) != len(p.Properties.User) {
			bad("properties", m.Properties, p.Properties)
		}
	case *packet.Connect:
		if m.Connect.ClientIdentifier != p.ClientID || string(m.Connect.Username) != p.Username ||
			!bytes.Equal(m.Connect.Password, p.Password) || m.Connect.Keepalive != p.KeepAlive || m.Connect.Clean != p.CleanStart {
			bad("connect", m.Connect, p)
		}
		if m.Properties.SessionExpiryInterval != p.Properties.SessionExpiry || m.Properties.ReceiveMaximum != p.Properties.ReceiveMaximum ||
			m.Properties.MaximumPacketSize != p.Properties.MaximumPacketSize || m.Properties.TopicAliasMaximum != p.Properties.TopicAliasMaximum ||
			len(m.Properties.User) != 1 {
			bad("properties", m.Properties, p.Properties)
		}
	case *packet.Subscribe:
		if m.PacketID != p.PacketID || len(m.Filters) != len(p.Subscriptions) {
			bad("subscribe", m.Filters, p.Subscriptions)
			return
		}
		for i, s := range p.Subscriptions {
			f := m.Filters[i]
			if f.Filter != s.Filter || f.Qos != byte(s.QoS) || f.NoLocal != s.NoLocal || f.RetainHandling != s.RetainHandling || f.Identifier != 42 {
				bad(fmt.Sprintf("filter %d", i), f, s)
			}
		}
	}
}

func checkPaho(t *testing.T, name string, p packet.Packet, cp *paho.ControlPacket) {
	t.Helper()
	bad := func(field string, got, want any) { t.Errorf("paho %s: %s = %v, want %v", name, field, got, want) }
	switch p := p.(type) {
	case *packet.Publish:
		g := cp.Content.(*paho.Publish)
		if g.Topic != string(p.Topic) || g.PacketID != p.PacketID || g.QoS != byte(p.QoS) || !bytes.Equal(g.Payload, p.Payload) {
			bad("publish", g, p)
		}
		if g.Properties.MessageExpiry == nil || *g.Properties.MessageExpiry != p.Properties.MessageExpiry ||
			g.Properties.ContentType != string(p.Properties.ContentType) || len(g.Properties.User) != 1 {
			bad("properties", g.Properties, p.Properties)
		}
	case *packet.Connect:
		g := cp.Content.(*paho.Connect)
		if g.ClientID != p.ClientID || g.Username != p.Username || !bytes.Equal(g.Password, p.Password) || g.KeepAlive != p.KeepAlive || g.CleanStart != p.CleanStart {
			bad("connect", g, p)
		}
		pr := g.Properties
		if pr.SessionExpiryInterval == nil || *pr.SessionExpiryInterval != p.Properties.SessionExpiry || pr.ReceiveMaximum == nil ||
			*pr.ReceiveMaximum != p.Properties.ReceiveMaximum || pr.MaximumPacketSize == nil || pr.TopicAliasMaximum == nil || len(pr.User) != 1 {
			bad("properties", pr, p.Properties)
		}
	case *packet.Subscribe:
		g := cp.Content.(*paho.Subscribe)
		if g.PacketID != p.PacketID || len(g.Subscriptions) != len(p.Subscriptions) || g.Properties.SubscriptionIdentifier == nil || *g.Properties.SubscriptionIdentifier != 42 {
			bad("subscribe", g, p)
			return
		}
		for i, s := range p.Subscriptions {
			o := g.Subscriptions[i]
			if o.Topic != s.Filter || o.QoS != byte(s.QoS) || o.NoLocal != s.NoLocal || o.RetainHandling != s.RetainHandling {
				bad(fmt.Sprintf("filter %d", i), o, s)
			}
		}
	}
}

// ---- benchmarks ----

func benchDecode(b *testing.B, c case_) {
	wire := wireOf(b, c)
	b.Run("mqttspec", func(b *testing.B) {
		d := packet.Decoder{Options: packet.DecodeOptions{Version: c.v}}
		if _, _, err := d.Decode(wire); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.SetBytes(int64(len(wire)))
		for b.Loop() {
			if _, _, err := d.Decode(wire); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("mqttspec-alloc", func(b *testing.B) {
		opts := packet.DecodeOptions{Version: c.v}
		b.ReportAllocs()
		b.SetBytes(int64(len(wire)))
		for b.Loop() {
			if _, _, err := packet.Decode(wire, opts); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("mqttspec-stream", func(b *testing.B) {
		var rd bytes.Reader
		br := bufio.NewReader(&rd)
		r := packet.NewReader(br, packet.DecodeOptions{Version: c.v})
		r.Reuse = true
		next := func() error {
			rd.Reset(wire)
			br.Reset(&rd)
			_, err := r.ReadPacket()
			return err
		}
		if err := next(); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.SetBytes(int64(len(wire)))
		for b.Loop() {
			if err := next(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("mochi", func(b *testing.B) {
		var md mochiDecoder
		var pk mochi.Packet
		b.ReportAllocs()
		b.SetBytes(int64(len(wire)))
		for b.Loop() {
			if err := md.decode(&pk, wire, byte(c.v)); err != nil {
				b.Fatal(err)
			}
		}
	})
	if c.paho == nil {
		return
	}
	b.Run("paho", func(b *testing.B) {
		var rd bytes.Reader
		b.ReportAllocs()
		b.SetBytes(int64(len(wire)))
		for b.Loop() {
			rd.Reset(wire)
			if _, err := paho.ReadPacket(&rd); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func benchEncode(b *testing.B, c case_) {
	size := c.ours.Size(c.v)
	b.Run("mqttspec", func(b *testing.B) {
		buf := make([]byte, 0, size)
		b.ReportAllocs()
		b.SetBytes(int64(size))
		for b.Loop() {
			var err error
			if buf, err = c.ours.Append(buf[:0], c.v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("mochi", func(b *testing.B) {
		pk := c.mochi()
		var buf bytes.Buffer
		buf.Grow(size)
		b.ReportAllocs()
		b.SetBytes(int64(size))
		for b.Loop() {
			buf.Reset()
			if err := mochiEncode(&pk, &buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	if c.paho == nil {
		return
	}
	b.Run("paho", func(b *testing.B) {
		p := c.paho()
		var buf bytes.Buffer
		buf.Grow(size)
		b.ReportAllocs()
		b.SetBytes(int64(size))
		for b.Loop() {
			buf.Reset()
			if err := pahoEncode(p, &buf); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDecodePublishV5(b *testing.B)   { benchDecode(b, cases[0]) }
func BenchmarkDecodePublishV311(b *testing.B) { benchDecode(b, cases[1]) }
func BenchmarkDecodeConnectV5(b *testing.B)   { benchDecode(b, cases[2]) }
func BenchmarkDecodeSubscribeV5(b *testing.B) { benchDecode(b, cases[3]) }
func BenchmarkEncodePublishV5(b *testing.B)   { benchEncode(b, cases[0]) }
func BenchmarkEncodePublishV311(b *testing.B) { benchEncode(b, cases[1]) }
func BenchmarkEncodeConnectV5(b *testing.B)   { benchEncode(b, cases[2]) }
func BenchmarkEncodeSubscribeV5(b *testing.B) { benchEncode(b, cases[3]) }
