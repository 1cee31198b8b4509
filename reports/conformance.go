package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"
)

// SchemaV1 identifies version 1 of the conformance report's JSON form. It is
// written into [Conformance.Schema]; [ReadJSON] accepts nothing else. Adding
// optional fields keeps the version; renaming, removing or changing the
// meaning of a field needs a new one.
//
// Optional fields added within v1 (absent in older files; every renderer
// copes without them): Conformance.Observed, Conformance.Catalogue,
// Spec.Start and Spec.LogExcerpt. A reader that predates them ignores them.
const SchemaV1 = "mqttspec.conformance/v1"

// MQTT versions as they appear in [Conformance.Versions] and
// [Spec.MQTTVersion]. A spec that does not depend on the version has "".
const (
	MQTT311 = "3.1.1"
	MQTT50  = "5.0"
)

// Verdict is the outcome of one conformance spec.
type Verdict string

// The verdicts, in the order reports list them.
const (
	// VerdictPass: every statement the spec checks held.
	VerdictPass Verdict = "pass"
	// VerdictFail: a MUST-level statement was broken, or the run itself failed.
	VerdictFail Verdict = "fail"
	// VerdictNonStrict: a SHOULD-level statement was broken. It fails the run
	// only in strict mode.
	VerdictNonStrict Verdict = "non-strict"
	// VerdictInformational: the spec records a MAY-level choice; never a failure.
	VerdictInformational Verdict = "informational"
	// VerdictUnsupported: the profile or the CONNACK says the feature is absent.
	VerdictUnsupported Verdict = "unsupported"
	// VerdictBrokerDown: the target died before or while the spec ran.
	VerdictBrokerDown Verdict = "broker-down"
	// VerdictSkipped: not run (filtered out, pending, or skipped for another reason).
	VerdictSkipped Verdict = "skipped"
)

// Verdicts lists every verdict in display order. Treat it as read-only.
var Verdicts = []Verdict{
	VerdictPass, VerdictFail, VerdictNonStrict, VerdictInformational,
	VerdictUnsupported, VerdictBrokerDown, VerdictSkipped,
}

// Valid reports whether v is a verdict of this schema.
func (v Verdict) Valid() bool {
	switch v {
	case VerdictPass, VerdictFail, VerdictNonStrict, VerdictInformational,
		VerdictUnsupported, VerdictBrokerDown, VerdictSkipped:
		return true
	}
	return false
}

// Failing reports whether v fails the run: always for fail, and for
// non-strict when strict is set.
func (v Verdict) Failing(strict bool) bool {
	return v == VerdictFail || (strict && v == VerdictNonStrict)
}

// Conformance is the result of one conformance run against one target.
type Conformance struct {
	Schema string     `json:"schema"` // always SchemaV1
	Tool   ToolInfo   `json:"tool"`
	Target TargetInfo `json:"target"`
	// Capabilities the target showed (CONNACK properties, profile
	// declarations): name -> value as observed.
	Capabilities map[string]any `json:"capabilities,omitempty"`
	// Observed lists capabilities with where each came from (CONNACK of a
	// version, the profile, a probe). Optional; see [Capability].
	Observed []Capability `json:"observedCapabilities,omitempty"`
	// Catalogue lists the normative statements of the tested versions, so
	// that a report can show statement coverage without the catalogue at
	// hand. Optional: without it, coverage is what the specs cite.
	Catalogue []CatalogueStatement `json:"catalogue,omitempty"`
	Versions  []string             `json:"versions"` // MQTT versions tested: "3.1.1", "5.0"
	Strict    bool                 `json:"strict"`   // the run was in strict mode (SHOULD failures fail)
	Start     time.Time            `json:"start"`
	End       time.Time            `json:"end"`
	Specs     []Spec               `json:"specs"`
	Logs      string               `json:"logs,omitempty"` // broker logs (tail), if any
}

// ToolInfo names the program that produced a report.
type ToolInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// TargetInfo describes the broker under test.
type TargetInfo struct {
	Name          string `json:"name,omitempty"`          // e.g. "mosquitto", "reference"
	URL           string `json:"url,omitempty"`           // e.g. "tcp://127.0.0.1:1883"; passwords are redacted on output
	Profile       string `json:"profile,omitempty"`       // profile name or file, if any
	BrokerVersion string `json:"brokerVersion,omitempty"` // as the profile or the broker reports it
}

// Spec is the result of one conformance spec (one Ginkgo It, for one MQTT
// version).
type Spec struct {
	ID          string         `json:"id"`   // stable across runs: derived from version and full text
	Name        string         `json:"name"` // full text: containers + It text
	Area        string         `json:"area"` // first container's text, e.g. "PUBLISH"
	MQTTVersion string         `json:"mqttVersion,omitempty"`
	Statements  []StatementRef `json:"statements,omitempty"`
	Verdict     Verdict        `json:"verdict"`
	// Start is when the spec began (optional; zero in older reports).
	Start time.Time `json:"start,omitzero"`
	// Duration is encoded in JSON as integer nanoseconds.
	Duration    time.Duration `json:"durationNs"`
	Requirement string        `json:"requirement,omitempty"` // what the statement requires, in our words
	Expected    string        `json:"expected,omitempty"`
	Observed    string        `json:"observed,omitempty"`
	Message     string        `json:"message,omitempty"`  // failure or skip message
	Location    string        `json:"location,omitempty"` // file:line of the failure, else of the spec
	Trace       []TraceEntry  `json:"trace,omitempty"`    // wire trace, in time order
	Logs        string        `json:"logs,omitempty"`     // broker logs around the failure, as the harness captured them
	// LogExcerpt is the part of the broker's log that belongs to this spec
	// (see [ExcerptLog]); optional, filled for specs that did not pass.
	LogExcerpt *LogExcerpt `json:"logExcerpt,omitempty"`
	Notes      []string    `json:"notes,omitempty"` // informational observations
}

// StatementRef names a normative statement a spec checks, with its level
// ("MUST", "SHOULD NOT", "MAY", ...) as the catalogue gives it.
type StatementRef struct {
	ID    string `json:"id"` // e.g. "MQTT-3.3.1-4"
	Level string `json:"level,omitempty"`
}

// Capability is one capability of the target and where it was seen.
type Capability struct {
	Name  string `json:"name"`  // e.g. "Maximum QoS", "Retain Available", "Topic Alias Maximum"
	Value any    `json:"value"` // as observed: number, bool or string
	// Source: CapabilityFromCONNACK, CapabilityFromProfile or CapabilityFromProbe.
	Source string `json:"source,omitempty"`
	// MQTTVersion the value was observed with ("" when it does not depend on it).
	MQTTVersion string `json:"mqttVersion,omitempty"`
}

// Capability sources.
const (
	CapabilityFromCONNACK = "connack" // a CONNACK property (or its default when absent)
	CapabilityFromProfile = "profile" // declared by the broker profile or target file
	CapabilityFromProbe   = "probe"   // found by a probe before the run
)

// CatalogueStatement is a normative statement as the catalogue lists it: the
// facts a report needs for coverage and for a by-statement view.
type CatalogueStatement struct {
	ID          string `json:"id"`
	MQTTVersion string `json:"mqttVersion"`
	Section     string `json:"section,omitempty"`
	Level       string `json:"level,omitempty"`
	// WireTestable: a test client can check it (at least partly) and it
	// binds the server; coverage is counted over these.
	WireTestable bool   `json:"wireTestable"`
	Text         string `json:"text,omitempty"` // the catalogue's paraphrase
}

// Log excerpt methods.
const (
	// LogWindow: the lines time-stamped between From and To.
	LogWindow = "window"
	// LogTail: the log has no time stamps this package can read; the
	// excerpt is its last lines.
	LogTail = "tail"
)

// LogExcerpt is the part of a broker log that belongs to one spec.
type LogExcerpt struct {
	Method string    `json:"method"` // LogWindow or LogTail
	From   time.Time `json:"from,omitzero"`
	To     time.Time `json:"to,omitzero"`
	Text   string    `json:"text"`
	// Omitted counts the lines of the window (or log) left out to keep the
	// excerpt short; they were the earliest ones.
	Omitted int `json:"omitted,omitempty"`
}

// Trace directions.
const (
	DirSend = "send" // sent by our client to the broker
	DirRecv = "recv" // received by our client from the broker
	DirNote = "note" // an event that is not a packet (connect, close, timeout)
)

// TraceEntry is one packet (or event) of a spec's wire trace. Its JSON form
// is what the harness puts into the mqttspec.trace report entry:
//
//	{"at":"2025-01-02T15:04:05.123456789Z","dir":"send","client":"c1","hex":"c000","summary":"PINGREQ"}
type TraceEntry struct {
	At      time.Time `json:"at"`
	Dir     string    `json:"dir"`              // DirSend, DirRecv or DirNote
	Client  string    `json:"client,omitempty"` // which of the spec's connections
	Hex     string    `json:"hex,omitempty"`    // the raw bytes, hex-encoded
	Summary string    `json:"summary,omitempty"`
}

// Counts counts specs per verdict. Absent verdicts count zero.
type Counts map[Verdict]int

// Total is the number of specs counted.
func (c Counts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// Summary counts a run's specs per verdict, per MQTT version and per area.
type Summary struct {
	Total     int               `json:"total"`
	ByVerdict Counts            `json:"byVerdict"`
	ByVersion map[string]Counts `json:"byVersion"` // key "" = version-independent specs
	ByArea    map[string]Counts `json:"byArea"`
}

// VersionKeys returns the keys of ByVersion, sorted ("" first).
func (s Summary) VersionKeys() []string { return sortedKeys(s.ByVersion) }

// AreaKeys returns the keys of ByArea, sorted.
func (s Summary) AreaKeys() []string { return sortedKeys(s.ByArea) }

func sortedKeys(m map[string]Counts) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Summary counts c's specs.
func (c *Conformance) Summary() Summary {
	s := Summary{ByVerdict: Counts{}, ByVersion: map[string]Counts{}, ByArea: map[string]Counts{}}
	for _, sp := range c.Specs {
		s.Total++
		s.ByVerdict[sp.Verdict]++
		if s.ByVersion[sp.MQTTVersion] == nil {
			s.ByVersion[sp.MQTTVersion] = Counts{}
		}
		s.ByVersion[sp.MQTTVersion][sp.Verdict]++
		if s.ByArea[sp.Area] == nil {
			s.ByArea[sp.Area] = Counts{}
		}
		s.ByArea[sp.Area][sp.Verdict]++
	}
	return s
}

// ExitCode is the process exit code for the run: 1 if any spec failed, or,
// when strict, if any spec is non-strict; 0 otherwise. Unsupported,
// broker-down, skipped and informational specs never fail the run by
// themselves (a broker that dies fails the spec during which it died).
func (c *Conformance) ExitCode(strict bool) int {
	for _, sp := range c.Specs {
		if sp.Verdict.Failing(strict) {
			return 1
		}
	}
	return 0
}

// jsonConformance is the on-disk form: the model plus a summary for
// consumers such as jq. ReadJSON ignores the summary and recomputes it.
type jsonConformance struct {
	*Conformance
	Summary Summary `json:"summary"`
}

// WriteJSON writes c as indented JSON in the SchemaV1 form, with a "summary"
// object added for convenience. An empty Schema is written as SchemaV1; a
// password in Target.URL is redacted. c itself is not modified.
func (c *Conformance) WriteJSON(w io.Writer) error {
	if c.Schema != "" && c.Schema != SchemaV1 {
		return fmt.Errorf("reports: cannot write conformance schema %q (this mqttspec writes %q)", c.Schema, SchemaV1)
	}
	out := *c
	out.Schema = SchemaV1
	out.Target.URL = RedactURL(out.Target.URL)
	if out.Versions == nil {
		out.Versions = []string{}
	}
	if out.Specs == nil {
		out.Specs = []Spec{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(jsonConformance{Conformance: &out, Summary: c.Summary()}); err != nil {
		return fmt.Errorf("reports: writing conformance JSON: %w", err)
	}
	return nil
}

// ErrUnknownSchema is wrapped by the error ReadJSON returns for a report
// whose schema it does not know.
var ErrUnknownSchema = errors.New("unknown report schema")

// ReadJSON reads a conformance report written by WriteJSON. It rejects
// anything whose "schema" is not SchemaV1 with an error wrapping
// ErrUnknownSchema, and verdicts it does not know.
func ReadJSON(r io.Reader) (*Conformance, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reports: reading conformance JSON: %w", err)
	}
	var probe struct {
		Schema *string `json:"schema"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("reports: not a conformance report: %w", err)
	}
	switch {
	case probe.Schema == nil:
		return nil, fmt.Errorf("reports: %w: no \"schema\" field; not an mqttspec conformance report (want %q)", ErrUnknownSchema, SchemaV1)
	case *probe.Schema != SchemaV1:
		hint := ""
		if strings.HasPrefix(*probe.Schema, "mqttspec.conformance/") {
			hint = "; it was written by a different mqttspec version, read it with that one or a newer one"
		}
		return nil, fmt.Errorf("reports: %w %q: this mqttspec reads %q%s", ErrUnknownSchema, *probe.Schema, SchemaV1, hint)
	}
	var c Conformance
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("reports: decoding conformance report: %w", err)
	}
	for i, sp := range c.Specs {
		if !sp.Verdict.Valid() {
			return nil, fmt.Errorf("reports: spec %d (%q): unknown verdict %q", i, sp.Name, sp.Verdict)
		}
	}
	return &c, nil
}

// RedactURL replaces the password in a URL's user info with "xxxxx", so that
// reports never carry credentials. Strings that do not parse as URLs are
// returned unchanged.
func RedactURL(s string) string {
	if s == "" || !strings.Contains(s, "@") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}
