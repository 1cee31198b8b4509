package fuzz

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mqttspec/mqttspec/brokers"
	"github.com/mqttspec/mqttspec/reference/packet"
)

// Generated sessions are valid: every packet decodes with the strict codec.
func TestGeneratorMakesValidSessions(t *testing.T) {
	gen := NewGenerator(rand.New(rand.NewPCG(1, 2)), nil, 0)
	seenVersions := map[packet.Version]int{}
	seenTypes := map[packet.Type]int{}
	for i := 0; i < 2000; i++ {
		in := gen.Session()
		seenVersions[in.Version]++
		d := packet.Decoder{Options: packet.DecodeOptions{Version: in.Version}}
		for k, p := range in.Packets {
			got, n, err := d.Decode(p)
			if err != nil || n != len(p) {
				t.Fatalf("session %d packet %d (%x) is invalid: %v", i, k, p, err)
			}
			seenTypes[got.Type()]++
		}
		if in.Packets[0][0]>>4 != byte(packet.CONNECT) {
			t.Fatalf("session %d does not start with CONNECT", i)
		}
	}
	if seenVersions[packet.V311] == 0 || seenVersions[packet.V5] == 0 {
		t.Errorf("versions generated: %v, want both 3.1.1 and 5.0", seenVersions)
	}
	for _, want := range []packet.Type{packet.CONNECT, packet.SUBSCRIBE, packet.PUBLISH, packet.PUBREL, packet.UNSUBSCRIBE,
		packet.PINGREQ, packet.AUTH, packet.DISCONNECT} {
		if seenTypes[want] == 0 {
			t.Errorf("no %s generated in 2000 sessions", want)
		}
	}
}

// The same seed gives the same inputs; another seed gives others.
func TestGenerationIsDeterministic(t *testing.T) {
	run := func(seed uint64) string {
		rng := rand.New(rand.NewPCG(seed, 1))
		gen := NewGenerator(rng, nil, 0)
		mut := NewMutator(rng, gen)
		var b strings.Builder
		for i := 0; i < 200; i++ {
			in := gen.Session()
			mut.Mutate(in)
			fmt.Fprintf(&b, "%x\n", in.Bytes())
		}
		return b.String()
	}
	if run(7) != run(7) {
		t.Fatal("seed 7 gave two different sequences")
	}
	if run(7) == run(8) {
		t.Fatal("seeds 7 and 8 gave the same sequence")
	}
}

// Every mutation applies to some generated input and, where it targets a
// rule, produces packets the codec rejects.
func TestMutationsApplyAndBreakRules(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	gen := NewGenerator(rng, nil, 0)
	mut := NewMutator(rng, gen)
	applied := map[string]int{}
	rejected := map[string]int{}
	for i := 0; i < 3000; i++ {
		in := gen.Session()
		mu := mutations[i%len(mutations)]
		if !mu.fn(mut, in) {
			continue
		}
		applied[mu.name]++
		d := packet.Decoder{Options: packet.DecodeOptions{Version: in.Version}}
		stream := in.Bytes()
		for off := 0; off < len(stream); {
			_, n, err := d.Decode(stream[off:])
			if err != nil {
				rejected[mu.name]++
				break
			}
			off += n
		}
	}
	for _, m := range mutations {
		if applied[m.name] == 0 {
			t.Errorf("mutation %s never applied", m.name)
		}
	}
	// These always break a rule of the wire format.
	for _, name := range []string{"remaining-length-encoding", "duplicate-property", "truncate", "subscription-options", "propertyLength"} {
		if name == "propertyLength" {
			name = "property-length"
		}
		if applied[name] > 0 && rejected[name] == 0 {
			t.Errorf("mutation %s applied %d times and never produced a packet the codec rejects", name, applied[name])
		}
	}
}

func TestScanFrames(t *testing.T) {
	frames, complete := scanFrames([]byte{0xc0, 0x00, 0x30, 0x03, 0, 1, 'a', 0xe0})
	if complete || len(frames) != 2 || frames[1].Off != 2 || frames[1].Len != 5 {
		t.Fatalf("frames %+v complete %v", frames, complete)
	}
	if _, complete := scanFrames([]byte{0x30, 0x80, 0x80, 0x80, 0x80, 0x01}); complete {
		t.Fatal("a five-byte remaining length scanned as complete")
	}
	if got := nonMinimalVarInt(5, 5); len(got) != 5 || got[0] != 0x85 || got[4] != 0 {
		t.Fatalf("nonMinimalVarInt(5,5) = %x", got)
	}
}

// The oracle flags a broker that answers after a packet it must close on,
// and does not flag one that closes.
func TestCheckViolation(t *testing.T) {
	connect, _ := packet.Encode(&packet.Connect{ProtocolVersion: packet.V311, ClientID: "c", CleanStart: true}, packet.V311)
	badPub := []byte{0x36, 0x05, 0x00, 0x01, 'a', 0x00, 0x01} // QoS 3
	in := &Input{Version: packet.V311, Packets: [][]byte{connect, badPub}}
	stream := withSentinel(in)
	frames, complete := scanFrames(stream)
	answered := &Result{Version: packet.V311, Stream: stream, Frames: frames, Complete: complete, End: EndPong,
		Responses: []Response{{Type: packet.CONNACK}, {Type: packet.PINGRESP}}}
	v := CheckViolation(in, answered)
	if v == nil || v.Statement != "MQTT-3.3.1-4" || v.CloseRule != "MQTT-4.8.0-1" || v.Packet != 1 {
		t.Fatalf("violation %+v, want MQTT-3.3.1-4 under MQTT-4.8.0-1 at packet 1", v)
	}
	closed := &Result{Version: packet.V311, Stream: stream, Frames: frames, Complete: complete, End: EndClosed,
		Responses: []Response{{Type: packet.CONNACK}}}
	if v := CheckViolation(in, closed); v != nil {
		t.Fatalf("a broker that closed was flagged: %+v", v)
	}
	// A PINGREQ answered before the bad packet proves nothing about it.
	in2 := &Input{Version: packet.V311, Packets: [][]byte{connect, pingreq, badPub}}
	stream2 := withSentinel(in2)
	frames2, _ := scanFrames(stream2)
	early := &Result{Version: packet.V311, Stream: stream2, Frames: frames2, Complete: true, End: EndClosed,
		Responses: []Response{{Type: packet.CONNACK}, {Type: packet.PINGRESP}}}
	if v := CheckViolation(in2, early); v != nil {
		t.Fatalf("a PINGRESP to a PINGREQ before the bad packet was taken as evidence: %+v", v)
	}
	// A PINGREQ with wrong flags may itself draw the one PINGRESP: that
	// proves nothing about the connection going on; a second one does.
	in3 := &Input{Version: packet.V311, Packets: [][]byte{connect, {0xc2, 0x00}}}
	stream3 := withSentinel(in3)
	frames3, _ := scanFrames(stream3)
	one := &Result{Version: packet.V311, Stream: stream3, Frames: frames3, Complete: true, End: EndClosed,
		Responses: []Response{{Type: packet.CONNACK}, {Type: packet.PINGRESP}}}
	if v := CheckViolation(in3, one); v != nil {
		t.Fatalf("a PINGRESP that may answer the bad PINGREQ itself was taken as evidence: %+v", v)
	}
	two := &Result{Version: packet.V311, Stream: stream3, Frames: frames3, Complete: true, End: EndPong,
		Responses: []Response{{Type: packet.CONNACK}, {Type: packet.PINGRESP}, {Type: packet.PINGRESP}}}
	if v := CheckViolation(in3, two); v == nil || v.Statement != "MQTT-2.2.2-2" {
		t.Fatalf("violation %+v, want MQTT-2.2.2-2 for a PINGREQ with flags 0x2 answered and followed", v)
	}
	// A rule the codec states by section only is not flagged.
	in4 := &Input{Version: packet.V311, Packets: [][]byte{connect, {0xc0, 0x01, 0x00}}}
	stream4 := withSentinel(in4)
	frames4, _ := scanFrames(stream4)
	r4 := &Result{Version: packet.V311, Stream: stream4, Frames: frames4, Complete: true, End: EndPong,
		Responses: []Response{{Type: packet.CONNACK}, {Type: packet.PINGRESP}, {Type: packet.PINGRESP}}}
	if v := CheckViolation(in4, r4); v != nil {
		t.Fatalf("a section-only rule was flagged: %+v", v)
	}
}

// plantedCase runs the fuzzer against a broken broker and returns the
// finding of the wanted oracle.
func plantedCase(t *testing.T, b bug, oracle string, maxExecs int64) *Finding {
	t.Helper()
	_, tg := startBroken(t, b)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sum, err := Run(ctx, Config{Target: tg, MaxExecs: maxExecs, Seed: 1, Workers: 1, FindingsDir: dir,
		ExecTimeout: time.Second, HangTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var ref *FindingRef
	for i := range sum.Findings {
		if sum.Findings[i].Oracle == oracle {
			ref = &sum.Findings[i]
		}
	}
	if ref == nil {
		t.Fatalf("no %s found in %d executions (stopped: %s; findings %+v)", oracle, sum.Executions, sum.StoppedBecause, sum.Findings)
	}
	if !strings.Contains(sum.StoppedBecause, oracle) {
		t.Errorf("stopped because %q, want the %s to stop the run", sum.StoppedBecause, oracle)
	}
	t.Logf("%s found after %d executions: %s", oracle, ref.Execution, ref.Detail)
	f, err := LoadFinding(ref.File)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Packets) == 0 || f.Packets[0].Hex == "" {
		t.Fatalf("reproducer without packets: %+v", f)
	}
	return f
}

// replay10 replays f against ten fresh broken brokers, in parallel (a hang
// replay waits out its bounds), and requires all ten to reproduce.
func replay10(t *testing.T, b bug, f *Finding) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]string, 10)
	for i := range 10 {
		bb, tg := startBroken(t, b)
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out, err := Replay(ctx, tg, f, ReplayOptions{ExecTimeout: time.Second, HangTimeout: 2 * time.Second})
			switch {
			case err != nil:
				errs[i] = err.Error()
			case !out.Reproduced:
				errs[i] = "did not reproduce: " + out.Detail
			case b == hangUnsubscribeID0 && !bb.hung.Load(), b != hangUnsubscribeID0 && !bb.crashed.Load():
				errs[i] = "reported as reproduced, but the planted bug did not fire"
			}
		}()
	}
	wg.Wait()
	for i, e := range errs {
		if e != "" {
			t.Errorf("replay %d: %s", i+1, e)
		}
	}
}

func TestFindsPlantedCrashEmptyTopic(t *testing.T) {
	f := plantedCase(t, crashEmptyTopic, OracleCrash, 20000)
	replay10(t, crashEmptyTopic, f)
}

func TestFindsPlantedCrashLongPropertyLength(t *testing.T) {
	f := plantedCase(t, crashLongPropertyLength, OracleCrash, 20000)
	replay10(t, crashLongPropertyLength, f)
}

func TestFindsPlantedHang(t *testing.T) {
	f := plantedCase(t, hangUnsubscribeID0, OracleHang, 20000)
	if f.Health == nil || f.Health.Oracle != OracleHang {
		t.Errorf("hang finding without a failed health check: %+v", f.Health)
	}
	replay10(t, hangUnsubscribeID0, f)
}

// A healthy broker makes a replayed crash not reproduce.
func TestReplayOnHealthyBrokerDoesNotReproduce(t *testing.T) {
	f := plantedCase(t, crashEmptyTopic, OracleCrash, 20000)
	_, tg := startBroken(t, hangUnsubscribeID0) // a different bug: the crash input is harmless here
	out, err := Replay(context.Background(), tg, f, ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if out.Reproduced {
		t.Fatalf("crash reproduced on a broker without the bug: %+v", out)
	}
}

// Minimize shrinks a crash to the packets that matter.
func TestMinimizeCrash(t *testing.T) {
	f := plantedCase(t, crashEmptyTopic, OracleCrash, 20000)
	fresh := func(ctx context.Context) (*brokers.Target, func(), error) {
		bb, tg := startBroken(t, crashEmptyTopic)
		return tg, bb.crash, nil
	}
	small, tries, err := Minimize(context.Background(), f, MinimizeOptions{Fresh: fresh, MaxTries: 200})
	if err != nil {
		t.Fatal(err)
	}
	if len(small.Packets) > len(f.Packets) || len(small.Packets) > 2 {
		t.Errorf("minimized to %d packets from %d, want at most 2 (a PUBLISH after CONNECT, or the PUBLISH alone)", len(small.Packets), len(f.Packets))
	}
	t.Logf("minimized in %d tries: %d -> %d packets", tries, len(f.Packets), len(small.Packets))
	replay10(t, crashEmptyTopic, small)
	path, err := small.Save(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFinding(path); err != nil {
		t.Fatal(err)
	}
}

// knownReferenceFindings are reported reference broker bugs, by finding ID
// (the hash of the deduplication key), until they are fixed: the bounded run
// may or may not reach them, depending on how the workers interleave.
var knownReferenceFindings = map[string]string{}

// A bounded run against the reference broker finds no crash and no hang.
// Spec violations would be real findings: the test reports them.
func TestReferenceBrokerBoundedRun(t *testing.T) {
	_, tg := startReferenceTarget(t)
	dir := t.TempDir()
	sum, err := Run(context.Background(), Config{Target: tg, MaxExecs: 3000, Duration: 60 * time.Second, Seed: 1, Workers: 2,
		FindingsDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d executions, %.0f/s, %d behaviours, ends %v", sum.Executions, sum.ExecsPerSecond, sum.Behaviours, sum.Ends)
	if sum.Executions < 3000 {
		t.Errorf("only %d executions of 3000 (stopped: %s)", sum.Executions, sum.StoppedBecause)
	}
	for _, f := range sum.Findings {
		b, _ := os.ReadFile(f.File)
		if why, ok := knownReferenceFindings[f.ID]; ok {
			t.Logf("known reference broker finding %s (%s): %s", f.ID, why, f.Detail)
			continue
		}
		switch f.Oracle {
		case OracleCrash, OracleHang:
			t.Errorf("reference broker: %s: %s\n%s", f.Oracle, f.Detail, b)
		default:
			t.Errorf("reference broker: %s %s: %s (reproducer %s)\n%s", f.Oracle, f.Statement, f.Detail, filepath.Base(f.File), b)
		}
	}
	if sum.Behaviours < 20 {
		t.Errorf("only %d distinct broker behaviours in 3000 executions: the mutators do not reach much", sum.Behaviours)
	}
}

func netListen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

// The same seed finds the same crash at the same execution.
func TestSameSeedSameFinding(t *testing.T) {
	a := plantedCase(t, crashEmptyTopic, OracleCrash, 20000)
	b := plantedCase(t, crashEmptyTopic, OracleCrash, 20000)
	if a.Execution != b.Execution || a.ID != b.ID || a.Packets[len(a.Packets)-1].Hex != b.Packets[len(b.Packets)-1].Hex {
		t.Errorf("two runs with seed 1 differ: execution %d vs %d, id %s vs %s", a.Execution, b.Execution, a.ID, b.ID)
	}
}

func TestCheckResponses(t *testing.T) {
	connect, _ := packet.Encode(&packet.Connect{ProtocolVersion: packet.V5, ClientID: "c", CleanStart: true}, packet.V5)
	in := &Input{Version: packet.V5, Packets: [][]byte{connect}}
	good := decodeResponse([]byte{0xe0, 0x01, 0x82}, packet.DecodeOptions{Version: packet.V5})
	bad := decodeResponse([]byte{0xe0, 0x01, 0x84}, packet.DecodeOptions{Version: packet.V5})
	if good.Err != nil || bad.Err == nil {
		t.Fatalf("DISCONNECT 0x82 decoded with %v, 0x84 with %v; want only 0x84 rejected", good.Err, bad.Err)
	}
	if got := CheckResponses(in, &Result{Responses: []Response{good}}); got != nil {
		t.Errorf("a valid DISCONNECT was flagged: %+v", got)
	}
	if got := CheckResponses(in, &Result{Responses: []Response{good, bad}}); got == nil || got.Err.Section != "2.4" {
		t.Errorf("DISCONNECT 0x84 not flagged as malformed (got %+v)", got)
	}
	// Without a CONNECT the codec accepts, the broker cannot know the version.
	garbled := &Input{Version: packet.V5, Packets: [][]byte{{0x10, 0x00}}}
	if got := CheckResponses(garbled, &Result{Responses: []Response{bad}}); got != nil {
		t.Errorf("flagged a response to an unreadable CONNECT: %+v", got)
	}
}

// With several workers the crash may come from any of them: the
// reproducer carries their recent inputs and replays 10 out of 10.
func TestFindsPlantedCrashWithWorkers(t *testing.T) {
	_, tg := startBroken(t, crashLongPropertyLength)
	dir := t.TempDir()
	sum, err := Run(context.Background(), Config{Target: tg, MaxExecs: 40000, Duration: 60 * time.Second, Seed: 2, Workers: 3,
		FindingsDir: dir, ExecTimeout: time.Second, HangTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Findings) == 0 || sum.Findings[0].Oracle != OracleCrash {
		t.Fatalf("no crash found with 3 workers in %d executions: %+v", sum.Executions, sum.Findings)
	}
	f, err := LoadFinding(sum.Findings[0].File)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Preceding) == 0 {
		t.Error("a multi-worker crash reproducer without the other workers' inputs")
	}
	replay10(t, crashLongPropertyLength, f)
}

func TestLoadFindingRejectsBadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for name, content := range map[string]string{
		"notjson.json":   "hello",
		"format.json":    `{"format":"other/v1","oracle":"crash"}`,
		"oracle.json":    `{"format":"` + FindingFormat + `","oracle":"boom"}`,
		"missing.json":   "",
		"directory.json": "",
	} {
		path := write(name, content)
		if name == "missing.json" {
			os.Remove(path)
		}
		if name == "directory.json" {
			os.Remove(path)
			os.Mkdir(path, 0o755)
		}
		if _, err := LoadFinding(path); err == nil {
			t.Errorf("%s: loaded without error", name)
		}
	}
	bad := &Finding{Format: FindingFormat, Oracle: OracleCrash, Version: "3.1.1", Packets: []PacketRecord{{Hex: "zz"}}}
	if _, err := bad.Sequence(); err == nil || !strings.Contains(err.Error(), "hex") {
		t.Errorf("bad hex: %v", err)
	}
	bad.Version, bad.Packets = "9", []PacketRecord{{Hex: "c000"}}
	if _, err := bad.Input(); err == nil {
		t.Error("unknown version accepted")
	}
}
