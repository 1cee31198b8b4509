package harness

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/mqttspec/mqttspec/reference/packet"
	"github.com/mqttspec/mqttspec/reports"
)

// Requirement records, in our words, what the statement asks of the
// broker; Expected and Observed what the spec expected and saw. Together
// they are h2spec's Requirement / Expected / Actual in the report.
func Requirement(text string) { AddReportEntry(reports.EntryRequirement, text, quiet) }

// Expected records what the spec expects to observe.
func Expected(text string) { AddReportEntry(reports.EntryExpected, text, quiet) }

// Observed records what the spec observed.
func Observed(format string, args ...any) {
	AddReportEntry(reports.EntryObserved, fmt.Sprintf(format, args...), quiet)
}

// Note records an informational observation (a MAY choice, a detail).
func Note(format string, args ...any) {
	AddReportEntry(reports.EntryNote, fmt.Sprintf(format, args...), quiet)
}

// quiet keeps evidence out of the console unless the spec fails or the run
// is verbose; the reports always carry it.
const quiet = ReportEntryVisibilityFailureOrVerbose

// Unsupported skips the spec as "unsupported": the target declares (or its
// CONNACK shows) that it lacks the feature.
func Unsupported(format string, args ...any) {
	Skip("unsupported: " + fmt.Sprintf(format, args...))
}

// trace is the wire log of the running spec, shared by all its clients so
// their packets interleave in the order they happened.
type trace struct {
	mu      sync.Mutex
	start   time.Time
	entries []reports.TraceEntry
	names   []string
}

var current struct {
	mu sync.Mutex
	t  *trace
}

func specTrace() *trace {
	current.mu.Lock()
	defer current.mu.Unlock()
	if current.t == nil {
		current.t = &trace{start: time.Now()}
	}
	return current.t
}

func (t *trace) add(dir, client string, b []byte, summary string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := reports.TraceEntry{At: time.Now(), Dir: dir, Client: client, Summary: summary}
	if b != nil {
		e.Hex = hex.EncodeToString(b)
	}
	t.entries = append(t.entries, e)
}

func (t *trace) send(client string, b []byte, p packet.Packet, v packet.Version) {
	s := ""
	if p != nil {
		s = packet.Summary(p, v)
	} else {
		s = describeRaw(b, v)
	}
	t.add("send", client, b, s)
}

// describeRaw decodes bytes a spec crafted by hand, for the trace.
func describeRaw(b []byte, v packet.Version) string {
	p, _, err := packet.Decode(b, packet.DecodeOptions{Version: v})
	if err != nil {
		return "raw bytes (" + err.Error() + ")"
	}
	return packet.Summary(p, v)
}

// TraceNote adds a line of commentary to the wire trace.
func TraceNote(format string, args ...any) {
	specTrace().add("note", "", nil, fmt.Sprintf(format, args...))
}

// InstallHooks registers the suite-wide hooks: a fresh trace per spec, the
// trace and (after a failure) broker liveness and logs in the report, and
// broker-down for every spec after the target died. The specs package calls
// it once at the top level.
func InstallHooks() bool {
	BeforeEach(func() {
		if reason := down.Load(); reason != nil {
			Skip("broker-down: " + *reason)
		}
		current.mu.Lock()
		current.t = &trace{start: time.Now()}
		current.mu.Unlock()
	})
	JustAfterEach(func() {
		t := specTrace()
		t.mu.Lock()
		entries := append([]reports.TraceEntry(nil), t.entries...)
		t.mu.Unlock()
		if len(entries) > 0 {
			b, _ := json.Marshal(entries)
			AddReportEntry(reports.EntryTrace, string(b), ReportEntryVisibilityNever)
		}
		if !CurrentSpecReport().Failed() {
			return
		}
		tgt := Target()
		if tgt == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tgt.Alive(ctx); err != nil {
			reason := "the target stopped answering after this spec: " + err.Error()
			down.Store(&reason)
		}
		if logs, err := tgt.Logs(ctx); err == nil && logs != "" {
			AddReportEntry(reports.EntryLogs, tail(logs, 64<<10), ReportEntryVisibilityNever)
		}
	})
	return true
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}
