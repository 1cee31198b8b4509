package compare

// TestHostileInputs feeds a few hostile byte strings to each library's
// decoder and logs what each one accepts and how much it allocates (the
// growth of runtime.MemStats.TotalAlloc around the call). It documents, with
// figures, the claims BENCHMARKS.md makes: other codecs accept non-minimal
// and 5-byte Variable Byte Integers and duplicate properties, and allocate
// the announced packet size (about 256 MiB for 30 FF FF FF 7F) before a
// single body byte has arrived.
//
// It fails only if mqttspec accepts a hostile input or allocates more than
// 1 MiB on one; the other libraries' behaviour is recorded, not judged.
//
// Guard: before a library is run on an input, the size it would ask for is
// computed by that library's own arithmetic (paho accumulates length bytes
// without a limit into a uint32; mochi stops at 268,435,455). A run that
// would ask for more than maxRequest bytes is skipped and logged instead, so
// the test never exhausts memory.
//
//	go test -run TestHostileInputs -v .

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.golang/packets"
	mqtt "github.com/mochi-mqtt/server/v2"
	mochi "github.com/mochi-mqtt/server/v2/packets"
	"github.com/mqttspec/mqttspec/reference/packet"
)

// maxRequest is the largest single request a run may make (the machine has
// 24 GiB; 256 MiB requests are what is being demonstrated).
const maxRequest = 1 << 30

type hostile struct {
	name string
	b    []byte
}

func hx(s string) []byte {
	var out []byte
	for _, f := range strings.Fields(s) {
		var c byte
		if _, err := fmt.Sscanf(f, "%02X", &c); err != nil {
			panic(f)
		}
		out = append(out, c)
	}
	return out
}

// All inputs are read on an MQTT 5.0 connection.
var hostileInputs = []hostile{
	{"PUBLISH announcing 268,435,455 bytes, none sent", hx("30 FF FF FF 7F")},
	{"PUBLISH, remaining length 0 as 2 bytes (80 00)", hx("30 80 00")},
	{"valid PUBLISH a/b \"x\", length 7 as 2 bytes (87 00)", hx("30 87 00 00 03 61 2F 62 00 78")},
	{"PINGREQ, length 0 as 2 bytes (80 00)", hx("C0 80 00")},
	{"PINGREQ, length 0 as 5 bytes (80 80 80 80 00)", hx("C0 80 80 80 80 00")},
	{"PUBLISH, 5-byte length 80 80 80 80 01 (2^28)", hx("30 80 80 80 80 01")},
	{"PUBLISH, 5-byte length FF FF FF FF 0F", hx("30 FF FF FF FF 0F")},
	{"PUBLISH with Message Expiry Interval twice", hx("30 11 00 03 61 2F 62 0A 02 00 00 00 3C 02 00 00 0E 10 78")},
	{"PUBLISH with Content Type twice", hx("30 13 00 03 61 2F 62 0C 03 00 03 61 2F 62 03 00 03 63 2F 64 78")},
	{"SUBSCRIBE whose filter lacks its options byte", hx("82 08 00 01 00 00 03 61 2F 62")},
}

// pahoRequest is the remaining length paho.golang computes (getVBI reads
// any number of continuation bytes; decodeVBI folds them into a uint32).
func pahoRequest(b []byte) uint64 {
	var v uint32
	var shift uint32
	for _, c := range b[1:] {
		v |= uint32(c&127) << shift
		if c&128 == 0 {
			return uint64(v)
		}
		shift += 7
	}
	return uint64(v)
}

// measure runs f, turning a panic into a result, and reports the bytes
// allocated meanwhile.
func measure(f func() string) (res string, alloc uint64) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	func() {
		defer func() {
			if r := recover(); r != nil {
				res = fmt.Sprintf("PANIC: %v", r)
			}
		}()
		res = f()
	}()
	runtime.ReadMemStats(&after)
	runtime.GC()
	return res, after.TotalAlloc - before.TotalAlloc
}

func verdict(err error, accepted string) string {
	if err != nil {
		s := err.Error()
		if len(s) > 110 {
			s = s[:110] + "…"
		}
		return "rejected: " + s
	}
	return "ACCEPTED " + accepted
}

func oursSlice(b []byte) string {
	d := packet.Decoder{Options: packet.DecodeOptions{Version: packet.V5}}
	p, _, err := d.Decode(b)
	if errors.Is(err, packet.ErrIncomplete) {
		return "incomplete: waits for more bytes (nothing allocated for the body)"
	}
	if err != nil {
		return verdict(err, "")
	}
	return verdict(nil, p.Type().String())
}

func oursStream(b []byte) string {
	r := packet.NewReader(bytes.NewReader(b), packet.DecodeOptions{Version: packet.V5})
	p, err := r.ReadPacket()
	if err != nil {
		return verdict(err, "")
	}
	return verdict(nil, p.Type().String())
}

// mochiCodec runs mochi's codec functions on the slice: the fixed header,
// the remaining length and, when the body is all there, the body decoder.
func mochiCodec(b []byte) string {
	var fh mochi.FixedHeader
	if err := fh.Decode(b[0]); err != nil {
		return verdict(err, "")
	}
	n, used, err := mochi.DecodeLength(bytes.NewReader(b[1:]))
	if err != nil {
		return verdict(err, "")
	}
	body := b[1+used:]
	if len(body) < n {
		return fmt.Sprintf("header ACCEPTED: remaining length %d, body incomplete", n)
	}
	pk := mochi.Packet{ProtocolVersion: 5, FixedHeader: fh}
	fh.Remaining = n
	switch fh.Type {
	case mochi.Publish:
		err = pk.PublishDecode(body)
		if err == nil {
			if code := pk.PublishValidate(65535); code != mochi.CodeSuccess {
				err = code
			}
		}
	case mochi.Subscribe:
		err = pk.SubscribeDecode(body)
	case mochi.Pingreq:
		err = pk.PingreqDecode(body)
	default:
		return "type not wired"
	}
	return verdict(err, describeMochi(&pk))
}

func describeMochi(pk *mochi.Packet) string {
	switch pk.FixedHeader.Type {
	case mochi.Publish:
		return fmt.Sprintf("PUBLISH topic %q expiry %d content-type %q", pk.TopicName, pk.Properties.MessageExpiryInterval, pk.Properties.ContentType)
	case mochi.Pingreq:
		return "PINGREQ"
	}
	return fmt.Sprintf("type %d", pk.FixedHeader.Type)
}

// mochiServer runs the read path of a mochi server's client, which reads
// the fixed header from the connection, then allocates the body and reads
// it (Client.ReadFixedHeader, Client.ReadPacket), over an in-memory pipe
// whose peer writes b and closes.
func mochiServer(srv *mqtt.Server, b []byte) string {
	c1, c2 := net.Pipe()
	defer c1.Close()
	go func() {
		_ = c2.SetWriteDeadline(time.Now().Add(5 * time.Second))
		_, _ = c2.Write(b)
		_ = c2.Close()
	}()
	_ = c1.SetReadDeadline(time.Now().Add(5 * time.Second))
	cl := srv.NewClient(c1, "pipe", "hostile", false)
	cl.Properties.ProtocolVersion = 5
	fh := new(mochi.FixedHeader)
	if err := cl.ReadFixedHeader(fh); err != nil {
		return verdict(err, "")
	}
	pk, err := cl.ReadPacket(fh)
	if err != nil {
		return verdict(fmt.Errorf("after header (remaining %d): %w", fh.Remaining, err), "")
	}
	return verdict(nil, describeMochi(&pk))
}

func pahoRead(b []byte) string {
	cp, err := paho.ReadPacket(bytes.NewReader(b))
	if err != nil {
		return verdict(err, "")
	}
	switch p := cp.Content.(type) {
	case *paho.Publish:
		exp := uint32(0)
		if p.Properties.MessageExpiry != nil {
			exp = *p.Properties.MessageExpiry
		}
		return verdict(nil, fmt.Sprintf("PUBLISH topic %q expiry %d content-type %q", p.Topic, exp, p.Properties.ContentType))
	}
	return verdict(nil, cp.PacketType())
}

func TestHostileInputs(t *testing.T) {
	srv := mqtt.New(&mqtt.Options{InlineClient: false})
	defer srv.Close()

	type lib struct {
		name string
		run  func([]byte) string
		// request is the largest allocation the run could ask for.
		request func([]byte) uint64
		ours    bool
	}
	// mqttspec and mochi refuse a length above 268,435,455 before allocating.
	bounded := func([]byte) uint64 { return packet.MaxPacketSize }
	libs := []lib{
		{"mqttspec Decoder (slice)", oursSlice, bounded, true},
		{"mqttspec Reader (stream)", oursStream, bounded, true},
		{"mochi codec (slice)", mochiCodec, bounded, false},
		{"mochi server read path", func(b []byte) string { return mochiServer(srv, b) }, bounded, false},
		{"paho ReadPacket (stream)", pahoRead, pahoRequest, false},
	}

	var report strings.Builder
	for _, in := range hostileInputs {
		fmt.Fprintf(&report, "\n%s  [% X]\n", in.name, in.b)
		for _, l := range libs {
			if req := l.request(in.b); req > maxRequest {
				fmt.Fprintf(&report, "  %-26s NOT RUN (guard): would request %d bytes (%.1f GiB)\n", l.name, req, float64(req)/(1<<30))
				continue
			}
			res, alloc := measure(func() string { return l.run(in.b) })
			fmt.Fprintf(&report, "  %-26s %10s  %s\n", l.name, human(alloc), res)
			if l.ours {
				if strings.HasPrefix(res, "ACCEPTED") || strings.HasPrefix(res, "PANIC") {
					t.Errorf("%s: %s: %s", l.name, in.name, res)
				}
				if alloc > 1<<20 {
					t.Errorf("%s: %s: allocated %s", l.name, in.name, human(alloc))
				}
			}
		}
	}
	t.Log("input [bytes]\n  library  TotalAlloc  result" + report.String())
}

func human(n uint64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
