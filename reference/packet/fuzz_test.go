package packet

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// Native fuzz targets for the codec.
//
//   - FuzzDecode: any input, at any level, decodes to a packet or an error
//     and never panics; errors are *Error values that name a rule; the slice
//     Decode, the reusing Decoder and the stream Reader agree; an accepted
//     packet re-encodes to bytes that decode to the same packet; the Reader
//     allocates in proportion to the bytes that arrive, not to the lengths
//     the input announces.
//   - FuzzRoundTrip: every packet of the input, read as a stream, survives
//     decode → encode → decode unchanged, and the encoding is canonical:
//     encode(decode(encode(p))) == encode(p). The re-encoded stream reads
//     back through a reusing Reader.
//
// The seed corpora in testdata/fuzz are generated from the tables of
// codec_test.go:
//
//	go test ./reference/packet -run TestWriteSeedCorpus -args -update-seeds

var fzUpdateSeeds = flag.Bool("update-seeds", false, "rewrite the seed corpora in testdata/fuzz from the codec test tables")

// fzVersion maps the fuzzer's level byte to a version: 3, 4 and 5 are
// themselves, anything else is 5.0 (the richest grammar).
func fzVersion(level byte) Version {
	switch level {
	case 3:
		return V31
	case 4:
		return V311
	}
	return V5
}

// fzCheckError checks the shape every decoding error must have.
func fzCheckError(t *testing.T, data []byte, err error, via string) *Error {
	t.Helper()
	e := AsError(err)
	if e == nil {
		t.Fatalf("%s: error %v (%T) is not an *Error", via, err, err)
	}
	if e.Msg == "" || e.Error() == "" {
		t.Fatalf("%s: error without a message: %#v", via, e)
	}
	if e.Statement == "" && e.Section == "" {
		t.Fatalf("%s: error names neither a statement nor a section: %v", via, e)
	}
	if e.Statement != "" && !fzStatementRE.MatchString(e.Statement) {
		t.Fatalf("%s: statement %q is not an MQTT statement ID", via, e.Statement)
	}
	switch e.Reason {
	case MalformedPacket, ProtocolError, UnsupportedProtocolVersion, TopicFilterInvalid, TopicNameInvalid, TopicAliasInvalid, PacketTooLarge:
	default:
		t.Fatalf("%s: unexpected reason %s in %v", via, e.Reason, e)
	}
	if e.Packet != 0 && len(data) > 0 && e.Packet != Type(data[0]>>4) {
		t.Fatalf("%s: error names packet %s, the input starts with type %d", via, e.Packet, data[0]>>4)
	}
	return e
}

var fzStatementRE = regexp.MustCompile(`^MQTT-\d+[.-]\d+(\.\d+)*-\d+$`)

// fzSameError reports whether two decoding outcomes are the same error.
func fzSameError(a, b error) bool {
	if errors.Is(a, ErrIncomplete) || errors.Is(b, ErrIncomplete) {
		return errors.Is(a, ErrIncomplete) && errors.Is(b, ErrIncomplete)
	}
	ea, eb := AsError(a), AsError(b)
	return ea != nil && eb != nil && *ea == *eb
}

func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, level byte) {
		v := fzVersion(level)
		opts := DecodeOptions{Version: v}

		p, n, err := Decode(data, opts)
		switch {
		case err == nil:
			if p == nil || n <= 0 || n > len(data) {
				t.Fatalf("Decode = %v, %d, nil for %d bytes", p, n, len(data))
			}
		case errors.Is(err, ErrIncomplete):
			if p != nil || n != 0 {
				t.Fatalf("incomplete, yet Decode returned %v, %d", p, n)
			}
			if h, herr := ParseHeader(data, opts); herr == nil && h.Size() <= len(data) {
				t.Fatalf("ErrIncomplete, but the header %+v fits in %d bytes", h, len(data))
			}
		default:
			fzCheckError(t, data, err, "Decode")
			if p != nil || n > len(data) {
				t.Fatalf("error %v, yet Decode returned %v, %d", err, p, n)
			}
		}

		// The reusing Decoder agrees.
		d := &Decoder{Options: opts}
		dp, dn, derr := d.Decode(data)
		if (err == nil) != (derr == nil) || (err != nil && !fzSameError(err, derr)) || (err == nil && dn != n) {
			t.Fatalf("Decoder disagrees: (%d, %v) vs Decode (%d, %v)", dn, derr, n, err)
		}
		if err == nil && !reflect.DeepEqual(dp, p) {
			t.Fatalf("Decoder packet differs\n got: %s\nwant: %s", ctDump(dp), ctDump(p))
		}

		// The stream Reader agrees on the first packet.
		rp, rerr := NewReader(bytes.NewReader(data), opts).ReadPacket()
		switch {
		case err == nil:
			if rerr != nil || !reflect.DeepEqual(rp, p) {
				t.Fatalf("Reader: %v\n got: %s\nwant: %s", rerr, ctDump(rp), ctDump(p))
			}
		case errors.Is(err, ErrIncomplete):
			if len(data) == 0 {
				if rerr != io.EOF {
					t.Fatalf("Reader on empty input: %v, want io.EOF", rerr)
				}
			} else if !errors.Is(rerr, io.ErrUnexpectedEOF) || AsError(rerr) != nil {
				t.Fatalf("Reader on an incomplete packet: %v, want io.ErrUnexpectedEOF", rerr)
			}
		default:
			if !fzSameError(err, rerr) {
				t.Fatalf("Reader error %v, Decode error %v", rerr, err)
			}
		}

		if err == nil {
			// Accepted packets re-encode, and the encoding decodes to the same
			// packet. The input need not be canonical (a v5 PUBACK may spell
			// out an empty property list), so only the packets are compared.
			b, aerr := p.Append(nil, v)
			if aerr != nil {
				t.Fatalf("Append of an accepted %s: %v\npacket: %s", p.Type(), aerr, ctDump(p))
			}
			if len(b) != p.Size(v) {
				t.Fatalf("Size %d, Append wrote %d", p.Size(v), len(b))
			}
			if len(b) > n {
				t.Fatalf("re-encoding is longer (%d) than the input packet (%d): % x -> % x", len(b), n, data[:n], b)
			}
			p2, n2, err2 := Decode(b, opts)
			if err2 != nil || n2 != len(b) {
				t.Fatalf("re-encoding does not decode: %v (n=%d of %d)\ninput:  % x\noutput: % x\npacket: %s", err2, n2, len(b), data[:n], b, ctDump(p))
			}
			if !reflect.DeepEqual(p2, p) {
				t.Fatalf("re-encoding decodes differently\n got: %s\nwant: %s\ninput:  % x\noutput: % x", ctDump(p2), ctDump(p), data[:n], b)
			}
		}

		fzCheckAllocation(t, data, opts)
	})
}

// fzCheckAllocation bounds what the Reader allocates for data. The Reader
// and a loop of slice Decodes decode the same packets into the same
// structures; the difference is the Reader's buffering, which must stay
// within twice the input plus one 64 KiB chunk (plus the bufio buffer and a
// little slack), whatever lengths the input announces. The structures
// themselves may be larger than the wire form (a 5-byte User Property
// becomes a 48-byte UserProperty in a growing slice), but only by a
// constant factor.
func fzCheckAllocation(t *testing.T, data []byte, opts DecodeOptions) {
	t.Helper()
	decoded := ctAllocated(func() {
		o, rest := opts, data
		for {
			p, n, err := Decode(rest, o)
			if err != nil {
				return
			}
			if c, ok := p.(*Connect); ok {
				o.Version = c.ProtocolVersion
			}
			rest = rest[n:]
		}
	})
	read := ctAllocated(func() {
		r := NewReader(bytes.NewReader(data), opts)
		for {
			if _, err := r.ReadPacket(); err != nil {
				return
			}
		}
	})
	const slack = 4<<10 + 8<<10 // bufio's buffer, the Reader, error values
	if read > decoded && read-decoded > uint64(2*len(data)+64<<10+slack) {
		t.Fatalf("Reader allocated %d bytes (decoding alone %d) for %d bytes of input", read, decoded, len(data))
	}
	if decoded > uint64(64*len(data)+slack) {
		t.Fatalf("decoding %d bytes allocated %d bytes", len(data), decoded)
	}
}

func FuzzRoundTrip(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, level byte) {
		v := fzVersion(level)
		cur := v
		d := &Decoder{Options: DecodeOptions{Version: v}}
		var canon []byte
		var packets []Packet
		for rest := data; len(rest) > 0; {
			fp, fn, ferr := Decode(rest, DecodeOptions{Version: cur})
			dp, dn, derr := d.Decode(rest)
			if (ferr == nil) != (derr == nil) || (ferr != nil && !fzSameError(ferr, derr)) {
				t.Fatalf("packet %d: Decoder %v, Decode %v", len(packets), derr, ferr)
			}
			if ferr != nil {
				break
			}
			if dn != fn {
				t.Fatalf("packet %d: Decoder took %d bytes, Decode %d", len(packets), dn, fn)
			}
			// A reused packet must not carry anything over from earlier ones.
			if !reflect.DeepEqual(ctNormalizeReuse(dp), ctNormalizeReuse(fp)) {
				t.Fatalf("packet %d: reusing Decoder differs\n got: %s\nwant: %s", len(packets), ctDump(dp), ctDump(fp))
			}

			enc1, err := fp.Append(nil, cur)
			if err != nil || len(enc1) != fp.Size(cur) {
				t.Fatalf("packet %d: Append: %v (%d bytes, Size %d)", len(packets), err, len(enc1), fp.Size(cur))
			}
			p2, n2, err := Decode(enc1, DecodeOptions{Version: cur})
			if err != nil || n2 != len(enc1) {
				t.Fatalf("packet %d: encoding does not decode: %v\npacket: %s\nbytes: % x", len(packets), err, ctDump(fp), enc1)
			}
			if !reflect.DeepEqual(p2, fp) {
				t.Fatalf("packet %d: decode(encode(p)) != p\n got: %s\nwant: %s", len(packets), ctDump(p2), ctDump(fp))
			}
			enc2, err := p2.Append(nil, cur)
			if err != nil || !bytes.Equal(enc2, enc1) {
				t.Fatalf("packet %d: encoding is not canonical: %v\nfirst:  % x\nsecond: % x", len(packets), err, enc1, enc2)
			}
			// Appending to a stream writes the same bytes after it.
			before := len(canon)
			if canon, err = fp.Append(canon, cur); err != nil || !bytes.Equal(canon[before:], enc1) {
				t.Fatalf("packet %d: Append after %d bytes: %v", len(packets), before, err)
			}
			packets = append(packets, fp)
			if c, ok := fp.(*Connect); ok {
				cur = c.ProtocolVersion
			}
			if d.Options.Version != cur {
				t.Fatalf("Decoder version %s, want %s", d.Options.Version, cur)
			}
			rest = rest[fn:]
		}

		// The canonical stream reads back packet for packet through a
		// reusing Reader and ends cleanly.
		r := NewReader(bytes.NewReader(canon), DecodeOptions{Version: v})
		r.Reuse = true
		for i, want := range packets {
			p, err := r.ReadPacket()
			if err != nil || !reflect.DeepEqual(ctNormalizeReuse(p), ctNormalizeReuse(want)) {
				t.Fatalf("Reader packet %d: %v\n got: %s\nwant: %s", i, err, ctDump(p), ctDump(want))
			}
		}
		if _, err := r.ReadPacket(); err != io.EOF {
			t.Fatalf("Reader after %d packets: %v, want io.EOF", len(packets), err)
		}
	})
}

// ---------------------------------------------------------------------------
// Seed corpora

type fzSeed struct {
	name  string
	data  []byte
	level byte
}

var (
	fzNameRE       = regexp.MustCompile(`[^A-Za-z0-9._-]+`)
	fzNameReplacer = strings.NewReplacer("+", "plus", "#", "hash", "$", "dollar", "/", "-")
)

// fzSeeds lists the seeds of a fuzz target: every valid packet, hex vector
// and malformed vector of codec_test.go's tables, and for FuzzRoundTrip the
// valid packets of each level as one stream.
func fzSeeds(tb testing.TB, target string) []fzSeed {
	var out []fzSeed
	add := func(kind, name string, data []byte, v Version) {
		name = fzNameReplacer.Replace(name)
		out = append(out, fzSeed{name: "seed-" + kind + "-" + strings.Trim(fzNameRE.ReplaceAllString(name, "-"), "-"), data: data, level: byte(v)})
	}
	for _, tc := range codecValidCases() {
		add("valid", tc.name, ctEncode(tb, tc.p, tc.v), tc.v)
	}
	for _, tc := range codecHexVectors() {
		add("hex", "v"+tc.v.String()+"-"+tc.name, ctUnhex(tc.hex), tc.v)
	}
	for _, tc := range codecBadCases() {
		add("bad", tc.name, ctUnhex(tc.hex), tc.v)
	}
	if target == "FuzzRoundTrip" {
		for _, v := range ctAllVersions {
			stream, packets := ctStream(tb, v)
			add("stream", "v"+v.String(), stream, v)
			// The same packets backwards (the CONNECT stays first), so reused
			// packets are also decoded after richer ones of their type.
			backwards := ctEncode(tb, packets[0], v)
			for i := len(packets) - 1; i > 0; i-- {
				backwards = append(backwards, ctEncode(tb, packets[i], v)...)
			}
			add("stream", "v"+v.String()+"-backwards", backwards, v)
		}
	}
	return out
}

// fzCorpusFile is a corpus entry in the format `go test` writes.
func fzCorpusFile(s fzSeed) []byte {
	return []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nbyte(%q)\n", s.data, s.level))
}

var fzTargets = []string{"FuzzDecode", "FuzzRoundTrip"}

// TestWriteSeedCorpus regenerates testdata/fuzz/<target>/seed-* from the
// tables. It runs only with -args -update-seeds. Inputs the fuzzer found
// (files not named seed-*) are left alone.
func TestWriteSeedCorpus(t *testing.T) {
	if !*fzUpdateSeeds {
		t.Skip("run with -args -update-seeds to rewrite testdata/fuzz")
	}
	for _, target := range fzTargets {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		old, err := filepath.Glob(filepath.Join(dir, "seed-*"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range old {
			if err := os.Remove(f); err != nil {
				t.Fatal(err)
			}
		}
		seeds := fzSeeds(t, target)
		for _, s := range seeds {
			if err := os.WriteFile(filepath.Join(dir, s.name), fzCorpusFile(s), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("%s: wrote %d seeds", target, len(seeds))
	}
}

// TestSeedCorpusCurrent fails when the committed seeds no longer match the
// tables (a case was added or an encoding changed): regenerate them.
func TestSeedCorpusCurrent(t *testing.T) {
	if *fzUpdateSeeds {
		t.Skip("being rewritten")
	}
	for _, target := range fzTargets {
		dir := filepath.Join("testdata", "fuzz", target)
		want := map[string][]byte{}
		for _, s := range fzSeeds(t, target) {
			if _, dup := want[s.name]; dup {
				t.Fatalf("%s: two seeds named %s", target, s.name)
			}
			want[s.name] = fzCorpusFile(s)
		}
		have, _ := filepath.Glob(filepath.Join(dir, "seed-*"))
		stale := 0
		for _, f := range have {
			if _, ok := want[filepath.Base(f)]; !ok {
				stale++
			}
		}
		missing, differ := 0, 0
		for name, content := range want {
			got, err := os.ReadFile(filepath.Join(dir, name))
			switch {
			case err != nil:
				missing++
			case !bytes.Equal(got, content):
				differ++
			}
		}
		if stale+missing+differ > 0 {
			t.Errorf("%s: %d seeds missing, %d out of date, %d stale; run\n\tgo test ./reference/packet -run TestWriteSeedCorpus -args -update-seeds",
				target, missing, differ, stale)
		}
	}
}
