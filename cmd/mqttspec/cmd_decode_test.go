package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/mqttspec/mqttspec/reference/packet"
)

// publish311 is a QoS 0 PUBLISH of "21.5" to "Long-Home/K" (19 bytes).
const publish311 = "3011000b4c6f6e672d486f6d652f4b32312e35"

// runStdin runs mqttspec with stdin as standard input.
func runStdin(stdin io.Reader, args ...string) result {
	var out, errOut bytes.Buffer
	root := newRootCmd()
	root.SetIn(stdin)
	code := execute(root, args, &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

func mustHex(t *testing.T, ps ...packet.Packet) string {
	t.Helper()
	var s string
	v := packet.V5
	for _, p := range ps {
		b, err := packet.Encode(p, v)
		if err != nil {
			t.Fatalf("Encode %T: %v", p, err)
		}
		s += hex.EncodeToString(b)
	}
	return s
}

func wantContains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
}

func TestDecodePublish(t *testing.T) {
	r := runArgs("decode", publish311)
	if r.code != exitOK {
		t.Fatalf("exit %d, want 0; stderr %s", r.code, r.stderr)
	}
	want := `#1 @0 (19 bytes) PUBLISH [3.1.1 assumed]
  DUP: false
  QoS: 0
  RETAIN: false
  Topic Name: "Long-Home/K"
  Payload: "21.5" (4 bytes)
`
	if r.stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, want)
	}
	if r.stderr != "" {
		t.Errorf("stderr %q, want empty", r.stderr)
	}
}

func TestDecodeHexForms(t *testing.T) {
	want := runArgs("decode", publish311).stdout
	var pairs []string
	for i := 0; i < len(publish311); i += 2 {
		pairs = append(pairs, publish311[i:i+2])
	}
	forms := [][]string{
		{strings.Join(pairs, " ")},
		pairs, // unquoted on the command line: one argument per byte
		{strings.Join(pairs, ":")},
		{"0x" + strings.Join(pairs, " 0x")},
		{"0X" + strings.ToUpper(strings.Join(pairs, ", 0X"))},
		{"0x" + publish311[:10], publish311[10:]},
		{" " + strings.Join(pairs, "\t") + "\n"},
	}
	for _, f := range forms {
		r := runArgs(append([]string{"decode"}, f...)...)
		if r.code != exitOK || r.stdout != want {
			t.Errorf("%q: exit %d, stdout:\n%s\nwant:\n%s\nstderr: %s", f, r.code, r.stdout, want, r.stderr)
		}
	}
}

func TestDecodeConnectSetsVersion(t *testing.T) {
	connect := &packet.Connect{ProtocolVersion: packet.V5, CleanStart: true, KeepAlive: 60, ClientID: "sensor-1"}
	pub := &packet.Publish{QoS: 1, PacketID: 7, Topic: []byte("Long-Home/Küche/Temperatur"), Payload: []byte("21.5")}
	pub.Properties.MessageExpiry = 60
	in := mustHex(t, connect, pub)
	connectLen := connect.Size(packet.V5)

	r := runArgs("decode", in)
	if r.code != exitOK {
		t.Fatalf("exit %d; stderr %s", r.code, r.stderr)
	}
	wantContains(t, "stdout", r.stdout,
		"#1 @0 (", ") CONNECT\n", "Protocol Level: 5",
		"#2 @"+strconv.Itoa(connectLen)+" (", ") PUBLISH\n", `Topic Name: "Long-Home/Küche/Temperatur"`,
		"Packet Identifier: 7", "Message Expiry Interval: 60", `Payload: "21.5" (4 bytes)`)
	if strings.Contains(r.stdout, "assumed") {
		t.Errorf("the CONNECT gave the version, yet it says assumed:\n%s", r.stdout)
	}
}

func TestDecodeMalformed(t *testing.T) {
	cases := []struct {
		name  string
		args  []string
		wants []string
	}{
		{"remaining length too long", []string{"30ffffffff7f"},
			[]string{"offset 0", "PUBLISH", "section 2.2.3", "0x81 Malformed Packet", "fourth byte"}},
		{"QoS 1 with packet id 0", []string{"32070003612f620000"},
			[]string{"MQTT-2.3.1-1", "0x82 Protocol Error", "packet identifier is 0"}},
		{"QoS 1 with packet id 0, 5.0", []string{"--mqtt", "5", "3208000361 2f62000000"},
			[]string{"MQTT-2.2.1-3"}},
		{"QoS 3", []string{"36050003612f62"},
			[]string{"MQTT-3.3.1-4", "section 3.3.1.2", "QoS is 3"}},
		{"second packet", []string{publish311 + "36050003612f62"},
			[]string{"packet #2 at offset 19", "MQTT-3.3.1-4"}},
		{"too large", []string{"--max-packet-size", "10", publish311},
			[]string{"0x95 Packet too large", "19 bytes"}},
		{"reserved type", []string{"0000"},
			[]string{"packet type 0 is reserved", "section 2.2.1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runArgs(append([]string{"decode"}, c.args...)...)
			if r.code != exitFail {
				t.Fatalf("exit %d, want %d; stderr %s", r.code, exitFail, r.stderr)
			}
			wantContains(t, "stderr", r.stderr, c.wants...)
			if strings.Count(r.stderr, "mqttspec: ") != 1 || strings.Contains(r.stderr, "Usage:") {
				t.Errorf("stderr is not one failure message:\n%s", r.stderr)
			}
		})
	}
}

func TestDecodePrintsPacketsBeforeTheError(t *testing.T) {
	r := runArgs("decode", publish311+"36050003612f62")
	if r.code != exitFail {
		t.Fatalf("exit %d, want 1", r.code)
	}
	wantContains(t, "stdout", r.stdout, "#1 @0 (19 bytes) PUBLISH", `"21.5"`)
	if strings.Contains(r.stdout, "#2") {
		t.Errorf("stdout shows the invalid packet:\n%s", r.stdout)
	}
}

func TestDecodeIncomplete(t *testing.T) {
	cases := []struct{ in, want string }{
		{"3011000b4c", "input ends after 5 bytes inside a PUBLISH that announces 19 bytes"},
		{publish311 + "3011000b4c", "packet #2 at offset 19: input ends after 5 bytes inside a PUBLISH that announces 19 bytes"},
		{"30", "input ends after 1 byte inside the fixed header of a PUBLISH"},
		{"3080", "input ends after 2 bytes inside the fixed header of a PUBLISH"},
	}
	for _, c := range cases {
		r := runArgs("decode", c.in)
		if r.code != exitFail {
			t.Errorf("%s: exit %d, want 1", c.in, r.code)
		}
		wantContains(t, c.in+": stderr", r.stderr, c.want)
	}
}

func TestDecodeVersionHint(t *testing.T) {
	// A 5.0 PUBACK with a reason code: too long for 3.1.1.
	r := runArgs("decode", "4003000710")
	if r.code != exitFail {
		t.Fatalf("exit %d, want 1", r.code)
	}
	wantContains(t, "stderr", r.stderr, "hint: these bytes decode as MQTT 5.0; try --mqtt 5")
	if r := runArgs("decode", "--mqtt", "5", "4003000710"); r.code != exitOK {
		t.Errorf("--mqtt 5: exit %d; stderr %s", r.code, r.stderr)
	}

	// Vice versa: a 3.1.1 PUBLISH read as 5.0 has no valid properties.
	r = runArgs("decode", "--mqtt", "5", publish311)
	if r.code != exitFail {
		t.Fatalf("exit %d, want 1", r.code)
	}
	wantContains(t, "stderr", r.stderr, "hint: these bytes decode as MQTT 3.1.1; try --mqtt 3.1.1")

	// No hint when a CONNECT set the version, nor when no version helps.
	connect311 := &packet.Connect{ProtocolVersion: packet.V311, ClientID: "c"}
	for _, in := range []string{mustHex(t, connect311) + "4003000710", "36050003612f62"} {
		r = runArgs("decode", in)
		if r.code != exitFail || strings.Contains(r.stderr, "hint:") {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant exit 1 and no hint", in, r.code, r.stderr)
		}
	}
}

func TestDecodeJSON(t *testing.T) {
	connect := &packet.Connect{ProtocolVersion: packet.V5, ClientID: "sensor-1"}
	pub := &packet.Publish{Topic: []byte("Long-Home/Küche/Temperatur"), Payload: []byte{0xFF}}
	pub.Properties.ContentType = []byte("text/plain")
	in := mustHex(t, connect, pub)
	r := runArgs("decode", "--json", in+"36050003612f62")
	if r.code != exitFail {
		t.Fatalf("exit %d, want 1; stderr %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3 (two packets, one error):\n%s", len(lines), r.stdout)
	}
	var objs []map[string]any
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line does not parse as JSON: %v\n%s", err, l)
		}
		objs = append(objs, m)
	}
	if objs[0]["type"] != "CONNECT" || objs[0]["offset"] != 0.0 || objs[0]["mqtt"] != "5.0" {
		t.Errorf("first object: %v", objs[0])
	}
	p := objs[1]
	connectLen := float64(connect.Size(packet.V5))
	if p["type"] != "PUBLISH" || p["offset"] != connectLen || p["mqtt"] != "5.0" || p["hex"] != mustHex(t, pub) {
		t.Errorf("second object: %v", p)
	}
	fields, _ := p["fields"].(map[string]any)
	if fields["Topic Name"] != "Long-Home/Küche/Temperatur" || fields["Content Type"] != "text/plain" || fields["Payload"] != "hex:ff" {
		t.Errorf("fields: %v", fields)
	}
	wantContains(t, "summary", p["summary"].(string), `PUBLISH qos=0 topic="Long-Home/Küche/Temperatur"`)
	// Fields keep wire order in the JSON text.
	if i, j := strings.Index(lines[1], `"Topic Name"`), strings.Index(lines[1], `"Payload"`); i < 0 || j < i {
		t.Errorf("fields out of wire order: %s", lines[1])
	}

	e := objs[2]
	want := map[string]any{"index": 3.0, "offset": connectLen + float64(pub.Size(packet.V5)), "type": "PUBLISH",
		"statement": "MQTT-3.3.1-4", "section": "3.3.1.2", "reason_code": 129.0, "reason_name": "Malformed Packet",
		"message": "QoS is 3 (both QoS bits set)", "hex": "36050003612f62"}
	for k, v := range want {
		if e[k] != v {
			t.Errorf("error object %s = %v, want %v", k, e[k], v)
		}
	}
	if s, _ := e["error"].(string); !strings.Contains(s, "MQTT-3.3.1-4") {
		t.Errorf("error object lacks the error line: %v", e)
	}
}

func TestDecodeJSONIncompleteAndHint(t *testing.T) {
	r := runArgs("decode", "--json", "3011000b4c")
	var m map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	if m["incomplete"] != true || m["hex"] != "3011000b4c" || m["have"] != 5.0 || m["need"] != 19.0 || r.code != exitFail {
		t.Errorf("exit %d, object %v", r.code, m)
	}

	r = runArgs("decode", "--json", "4003000710")
	m = nil
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	if m["hint"] != "these bytes decode as MQTT 5.0; try --mqtt 5" {
		t.Errorf("object %v lacks the hint", m)
	}
}

func TestDecodeStdin(t *testing.T) {
	raw, _ := hex.DecodeString(publish311)
	want := runArgs("decode", publish311).stdout

	r := runStdin(bytes.NewReader(raw), "decode", "-")
	if r.code != exitOK || r.stdout != want {
		t.Errorf("raw stdin: exit %d, stdout:\n%s\nwant:\n%s\nstderr %s", r.code, r.stdout, want, r.stderr)
	}

	text := "30 11 00 0b 4c 6f 6e 67\n2d 48 6f 6d 65 2f 4b 32\n31 2e 35\n"
	for _, args := range [][]string{{"decode", "--hex-stdin"}, {"decode", "--hex-stdin", "-"}} {
		r = runStdin(strings.NewReader(text), args...)
		if r.code != exitOK || r.stdout != want {
			t.Errorf("%q: exit %d, stdout:\n%s\nwant:\n%s\nstderr %s", args, r.code, r.stdout, want, r.stderr)
		}
	}

	r = runStdin(strings.NewReader("30 11\n00 0g"), "decode", "--hex-stdin")
	if r.code != exitUsage {
		t.Errorf("bad hex on stdin: exit %d, want 2", r.code)
	}
	wantContains(t, "stderr", r.stderr, "'g' at line 2, column 5")
}

func TestDecodeUsageErrors(t *testing.T) {
	cases := []struct {
		args  []string
		stdin string
		want  string
	}{
		{[]string{"decode", "30 1g"}, "", "'g' at position 5 is not a hex digit"},
		{[]string{"decode", "30 1"}, "", "the group of hex digits at position 4 has an odd number of digits"},
		{[]string{"decode", "3x"}, "", "'x' at position 2"},
		{[]string{"decode", "é0"}, "", "'é' at position 1"},
		{[]string{"decode", " : "}, "", "no hex digits"},
		{[]string{"decode"}, "", "give the packets as a HEX argument"},
		{[]string{"decode", "-", "30"}, "", "cannot be combined"},
		{[]string{"decode", "--hex-stdin", "30"}, "", "--hex-stdin reads standard input"},
		{[]string{"decode", "-"}, "", "standard input is empty"},
		{[]string{"decode", "--mqtt", "4.0", publish311}, "", `unknown MQTT version "4.0"`},
		{[]string{"decode", "--max-packet-size", "-1", publish311}, "", "must not be negative"},
		{[]string{"decode", "--max-packet-size", "x", publish311}, "", "invalid argument"},
	}
	for _, c := range cases {
		r := runStdin(strings.NewReader(c.stdin), c.args...)
		if r.code != exitUsage {
			t.Errorf("%q: exit %d, want %d; stderr %s", c.args, r.code, exitUsage, r.stderr)
		}
		wantContains(t, strings.Join(c.args, " ")+": stderr", r.stderr, c.want, "Run 'mqttspec decode --help'")
	}
}

func TestDecodeFull(t *testing.T) {
	pub := &packet.Publish{Topic: []byte("t"), Payload: bytes.Repeat([]byte("a"), 300)}
	in := mustHex(t, pub)
	r := runArgs("decode", "--mqtt", "5", in)
	wantContains(t, "stdout", r.stdout, "… (300 bytes, first 256 shown)")
	r = runArgs("decode", "--mqtt", "5", "--full", in)
	wantContains(t, "stdout", r.stdout, `"`+strings.Repeat("a", 300)+`" (300 bytes)`)
	r = runArgs("decode", "--mqtt", "5", "--json", in)
	wantContains(t, "JSON", r.stdout, `"Payload":"`+strings.Repeat("a", 300)+`"`)
}

func TestDecodeEveryTypeRoundTrips(t *testing.T) {
	// One of each type the codec encodes, as a 5.0 session would carry them.
	ps := []packet.Packet{
		&packet.Connect{ProtocolVersion: packet.V5, ClientID: "c"}, &packet.Connack{},
		&packet.Publish{Topic: []byte("t")}, &packet.Puback{PacketID: 1}, &packet.Pubrec{PacketID: 2},
		&packet.Pubrel{PacketID: 2}, &packet.Pubcomp{PacketID: 2},
		&packet.Subscribe{PacketID: 3, Subscriptions: []packet.Subscription{{Filter: "a/#"}}},
		&packet.Suback{PacketID: 3, ReasonCodes: []packet.ReasonCode{0}},
		&packet.Unsubscribe{PacketID: 4, Filters: []string{"a/#"}},
		&packet.Unsuback{PacketID: 4, ReasonCodes: []packet.ReasonCode{0}},
		&packet.Pingreq{}, &packet.Pingresp{}, &packet.Auth{ReasonCode: packet.ReAuthenticate}, &packet.Disconnect{},
	}
	r := runArgs("decode", mustHex(t, ps...))
	if r.code != exitOK {
		t.Fatalf("exit %d; stderr %s", r.code, r.stderr)
	}
	for i, p := range ps {
		wantContains(t, "stdout", r.stdout, "#"+strconv.Itoa(i+1)+" @")
		wantContains(t, "stdout", r.stdout, ") "+p.Type().String()+"\n")
	}
}
