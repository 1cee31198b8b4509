package fuzz

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mqttspec/mqttspec/reference/packet"
)

// FindingFormat versions the reproducer files.
const FindingFormat = "mqttspec.fuzz-finding/v1"

// PacketRecord is one packet of a reproducer: the exact bytes and, when the
// codec accepts them, their decoded form, else the codec's objection.
type PacketRecord struct {
	Hex     string `json:"hex"`
	Summary string `json:"summary,omitempty"`
	// Fields is the packet.Describe form, kept as written.
	Fields json.RawMessage `json:"fields,omitempty"`
	Error  string          `json:"error,omitempty"`
}

// ResponseRecord is one packet the broker sent.
type ResponseRecord struct {
	Hex     string `json:"hex"`
	Summary string `json:"summary,omitempty"`
	Error   string `json:"error,omitempty"`
	AtNs    int64  `json:"at_ns"`
}

// Finding is a saved reproducer.
type Finding struct {
	Format    string `json:"format"`
	ID        string `json:"id"`
	Oracle    string `json:"oracle"`
	Signature string `json:"signature"` // what findings are deduplicated by
	Detail    string `json:"detail"`
	// Violation is set for the spec-violation oracle.
	Violation *Violation `json:"violation,omitempty"`
	Target    string     `json:"target"`
	Seed      uint64     `json:"seed"`
	Shard     string     `json:"shard,omitempty"` // "i/n" when the campaign was sharded
	Worker    int        `json:"worker"`
	Execution int64      `json:"execution"` // the worker's execution count when found
	Mutations []string   `json:"mutations,omitempty"`
	FoundAt   time.Time  `json:"found_at"`
	// Preceding are the connections this worker ran, in order, since the
	// broker last proved healthy (answered every PINGREQ of an input): a
	// crash or hang may have been set off by one of them. Replay runs them
	// first, each on its own connection.
	Preceding []Connection `json:"preceding,omitempty"`
	// Version is the protocol version the input was built for.
	Version   string           `json:"version"`
	Packets   []PacketRecord   `json:"packets"`
	Responses []ResponseRecord `json:"responses,omitempty"`
	End       string           `json:"end"` // how the execution ended
	// ExecNs is how long the execution took; Health the round trip check
	// that followed, for crash and hang.
	ExecNs int64   `json:"exec_ns"`
	Health *Health `json:"health,omitempty"`
	// TargetState is a container target's state when a crash or hang was
	// found ("exited (exit code 139)"); Restart says whether the target
	// was restarted so the run could go on.
	TargetState string `json:"target_state,omitempty"`
	Restart     string `json:"restart,omitempty"`
	// Redacted lists where the login's password was taken out of Packets
	// and Preceding.
	Redacted []Redaction `json:"redacted,omitempty"`
	// Occurrences, set by MergeFindings, counts the reproducers of this
	// signature the merged runs found.
	Occurrences int `json:"occurrences,omitempty"`
	// Memory holds the samples of a resource-growth finding.
	Memory  *MemoryReport `json:"memory,omitempty"`
	LogTail string        `json:"log_tail,omitempty"`
}

// Connection is one earlier connection of a reproducer.
type Connection struct {
	Version string         `json:"version"`
	Packets []PacketRecord `json:"packets"`
	End     string         `json:"end,omitempty"`
}

// Input rebuilds the fuzz input from the reproducer's packets.
func (f *Finding) Input() (*Input, error) {
	in, err := inputOf(f.Version, f.Packets)
	if err != nil {
		return nil, fmt.Errorf("finding %s: %w", f.ID, err)
	}
	return in, nil
}

// Sequence is every input of the reproducer in order: the preceding
// connections, then the input itself.
func (f *Finding) Sequence() ([]*Input, error) {
	var seq []*Input
	for i, c := range f.Preceding {
		in, err := inputOf(c.Version, c.Packets)
		if err != nil {
			return nil, fmt.Errorf("finding %s: preceding connection %d: %w", f.ID, i+1, err)
		}
		seq = append(seq, in)
	}
	in, err := f.Input()
	if err != nil {
		return nil, err
	}
	return append(seq, in), nil
}

func inputOf(version string, packets []PacketRecord) (*Input, error) {
	v, err := packet.ParseVersion(version)
	if err != nil {
		return nil, err
	}
	in := &Input{Version: v}
	for i, p := range packets {
		b, err := hex.DecodeString(p.Hex)
		if err != nil {
			return nil, fmt.Errorf("packet %d: bad hex: %w", i, err)
		}
		in.Packets = append(in.Packets, b)
	}
	if len(in.Packets) == 0 {
		return nil, errors.New("no packets")
	}
	return in, nil
}

// recordPackets describes each packet of in, decoded with the version the
// stream establishes.
func recordPackets(in *Input) []PacketRecord {
	d := packet.Decoder{Options: packet.DecodeOptions{Version: in.Version}}
	out := make([]PacketRecord, 0, len(in.Packets))
	for _, raw := range in.Packets {
		rec := PacketRecord{Hex: hex.EncodeToString(raw)}
		v := d.Options.Version
		p, n, err := d.Decode(raw)
		switch {
		case errors.Is(err, packet.ErrIncomplete):
			rec.Error = "shorter than its Remaining Length announces: a broker reads on into the bytes that follow"
		case err != nil:
			rec.Error = err.Error()
		case n != len(raw):
			rec.Error = fmt.Sprintf("%d bytes after the packet", len(raw)-n)
		default:
			if c, ok := p.(*packet.Connect); ok {
				v = c.ProtocolVersion
			}
			rec.Summary = packet.Summary(p, v)
			rec.Fields, _ = json.Marshal(packet.Describe(p, v))
		}
		out = append(out, rec)
	}
	return out
}

func recordResponses(r *Result) []ResponseRecord {
	out := make([]ResponseRecord, 0, len(r.Responses))
	for _, resp := range r.Responses {
		rec := ResponseRecord{Hex: hex.EncodeToString(resp.Raw), AtNs: resp.At.Nanoseconds()}
		if resp.Err != nil {
			rec.Error = resp.Err.Error()
		} else if p, _, err := packet.Decode(resp.Raw, packet.DecodeOptions{Version: r.Version}); err == nil {
			rec.Summary = packet.Summary(p, r.Version)
		}
		out = append(out, rec)
	}
	return out
}

// dedupKey is what makes two findings the same bug.
func dedupKey(oracle string, in *Input, r *Result, v *Violation, bad *Response) string {
	switch oracle {
	case OracleSpecViolation:
		return fmt.Sprintf("%s|%s|%s|%s", oracle, v.Type, v.Statement, v.Reason)
	case OracleMalformedResponse:
		return fmt.Sprintf("%s|%s|%s", oracle, bad.Type, bad.Err.Statement+bad.Err.Section)
	}
	// A crash or hang stops the run; its key is the last packet type sent
	// and what the broker showed, enough to tell two bugs apart across
	// runs.
	last := "none"
	if n := len(in.Packets); n > 0 && len(in.Packets[n-1]) > 0 {
		last = packet.Type(in.Packets[n-1][0] >> 4).String()
	}
	return fmt.Sprintf("%s|%s|%s", oracle, last, r.Signature())
}

func idOf(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:6])
}

// FileName is the reproducer's file name in a findings directory.
func (f *Finding) FileName() string {
	return fmt.Sprintf("%s-%s.json", f.Oracle, f.ID)
}

// Save writes the reproducer into dir and returns its path.
func (f *Finding) Save(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, f.FileName())
	return path, f.WriteFile(path)
}

// WriteFile writes the reproducer to path.
func (f *Finding) WriteFile(path string) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// LoadFinding reads a reproducer file.
func LoadFinding(path string) (*Finding, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f Finding
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: not a fuzz finding: %w", path, err)
	}
	if f.Format != FindingFormat {
		return nil, fmt.Errorf("%s: format %q, want %q", path, f.Format, FindingFormat)
	}
	switch f.Oracle {
	case OracleCrash, OracleHang, OracleSpecViolation, OracleMalformedResponse, OracleResourceGrowth:
	default:
		return nil, fmt.Errorf("%s: unknown oracle %q", path, f.Oracle)
	}
	return &f, nil
}

// logTail keeps the last lines of a broker log.
func logTail(s string, lines int) string {
	parts := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}
