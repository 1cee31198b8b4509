package reports

// This file is the only one in package reports that knows Ginkgo. It turns a
// types.Report into a Conformance, following the conventions below, which the
// conformance harness (specs/harness) implements.
//
// Labels (Ginkgo labels on the It or on any enclosing container):
//
//   - Every label starting with "MQTT-" (StatementLabelPrefix) names a
//     normative statement the spec checks, e.g. Label("MQTT-3.3.1-4"). The
//     order of first appearance (outer containers first, then the It) is kept.
//   - The label "mqtt-3.1.1" (LabelMQTT311) or "mqtt-5.0" (LabelMQTT50) gives
//     the MQTT version the spec ran with. With neither, the spec is
//     version-independent (MQTTVersion ""). If both appear, the innermost
//     (the It's own labels are innermost) wins.
//   - Other labels are ignored.
//
// Area: the text of the outermost container (ContainerHierarchyTexts[0]),
// e.g. Describe("PUBLISH", ...). An It outside any container has area "".
//
// Report entries (AddReportEntry(name, value) inside the It or its setup
// nodes), values being strings:
//
//	mqttspec.requirement  what the statement requires, in our words
//	mqttspec.expected     what the spec expected to see
//	mqttspec.observed     what it saw
//	mqttspec.trace        a JSON array of TraceEntry (see TraceEntry for the form)
//	mqttspec.logs         broker logs around the failure (a failing spec also
//	                      gets a LogExcerpt: the lines of its time window)
//	mqttspec.note         one informational observation; may repeat
//
// Repeated requirement/expected/observed/logs entries are joined with a
// newline, in order; repeated trace entries are concatenated and the whole
// trace is sorted by time. A non-string value is accepted too: a
// fmt.Stringer is rendered with String(), anything else as JSON (so a
// []TraceEntry may be passed directly for mqttspec.trace). Entries with other
// names are ignored.
//
// Verdicts, from the Ginkgo state:
//
//	passed                                            -> pass
//	failed, panicked, timedout, interrupted, aborted  -> fail
//	skipped, message "unsupported: <why>"             -> unsupported (Message = "<why>")
//	skipped, message "broker-down: <why>"             -> broker-down (Message = "<why>")
//	skipped otherwise (Skip, filtered out, BeforeSuite failed) -> skipped
//	pending                                           -> skipped (Message "pending")
//
// Then levels (AdapterOptions.LevelOf) adjust pass and fail:
//
//   - a spec citing only MAY/OPTIONAL statements is informational, whether it
//     passed or failed (a failure message is kept as a note);
//   - a failing spec citing no MUST-class statement and at least one
//     SHOULD/SHOULD NOT/RECOMMENDED statement is non-strict.
//
// A level the catalogue does not give ("") counts as MUST, as does every
// level that is not SHOULD-class or MAY-class. A spec citing no statement
// keeps its verdict.
//
// Only It specs become Specs. A suite-level node (BeforeSuite,
// SynchronizedBeforeSuite, AfterSuite, SynchronizedAfterSuite,
// ReportBeforeSuite, ReportAfterSuite, DeferCleanup at suite level) that
// failed becomes a synthetic spec in area AreaSuite, named after the node
// type (plus its text, if any), with verdict fail. Other nodes are ignored.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/onsi/ginkgo/v2/types"
)

// Conventions shared with the conformance harness. See the comment at the top
// of ginkgo.go for their meaning.
const (
	// StatementLabelPrefix starts every label that names a normative statement.
	StatementLabelPrefix = "MQTT-"
	// LabelMQTT311 marks a spec run with MQTT 3.1.1.
	LabelMQTT311 = "mqtt-3.1.1"
	// LabelMQTT50 marks a spec run with MQTT 5.0.
	LabelMQTT50 = "mqtt-5.0"

	EntryRequirement = "mqttspec.requirement"
	EntryExpected    = "mqttspec.expected"
	EntryObserved    = "mqttspec.observed"
	EntryTrace       = "mqttspec.trace"
	EntryLogs        = "mqttspec.logs"
	EntryNote        = "mqttspec.note"
	// EntryShould marks a failure as breaking only a recommendation (a
	// SHOULD the specification states inside a MUST statement, such as the
	// reason code of a DISCONNECT that precedes a required close): the
	// failing spec becomes non-strict.
	EntryShould = "mqttspec.should"

	// SkipUnsupported starts the Skip message of a spec whose feature the
	// target lacks: Skip(SkipUnsupported + " shared subscriptions (CONNACK)").
	SkipUnsupported = "unsupported:"
	// SkipBrokerDown starts the Skip message of a spec not run because the
	// target died: Skip(SkipBrokerDown + " connection refused since PUBLISH ...").
	SkipBrokerDown = "broker-down:"

	// AreaSuite is the area of synthetic specs made from failed suite-level nodes.
	AreaSuite = "(suite)"
)

// AdapterOptions carries what a Ginkgo report does not know.
type AdapterOptions struct {
	// LabelFilter is the run's Ginkgo label filter: specs it excluded are
	// left out of the report rather than listed as skipped.
	LabelFilter  string
	Tool         ToolInfo
	Target       TargetInfo
	Capabilities map[string]any
	// Versions tested. Empty: the distinct versions of the specs, sorted.
	Versions []string
	Strict   bool
	Logs     string // broker logs (tail) for the whole run
	// LevelOf returns the level of statement id in MQTT version ("" for a
	// version-independent spec) as the catalogue gives it: "MUST",
	// "MUST NOT", "SHOULD", "SHOULD NOT", "MAY" (case-insensitive; RFC 2119
	// synonyms are understood), or "" if unknown. Nil: all levels unknown,
	// so no verdict is adjusted.
	LevelOf func(version, id string) string
}

// FromGinkgo builds the conformance model of a Ginkgo run, following the
// conventions documented at the top of this file. Specs are sorted by area
// (AreaSuite first), source location, name and version; IDs are stable hashes
// of version and full text.
func FromGinkgo(r types.Report, opts AdapterOptions) *Conformance {
	c := &Conformance{
		Schema:       SchemaV1,
		Tool:         opts.Tool,
		Target:       opts.Target,
		Capabilities: opts.Capabilities,
		Versions:     slices.Clone(opts.Versions),
		Strict:       opts.Strict,
		Start:        r.StartTime,
		End:          r.EndTime,
		Logs:         opts.Logs,
	}
	if c.Tool.Name == "" {
		c.Tool.Name = "mqttspec"
	}

	type keyed struct {
		spec Spec
		file string
		line int
	}
	var specs []keyed
	var selected func([]string) bool
	if opts.LabelFilter != "" {
		if f, err := types.ParseLabelFilter(opts.LabelFilter); err == nil {
			selected = f
		}
	}
	for _, sr := range r.SpecReports {
		switch {
		case sr.LeafNodeType == types.NodeTypeIt && sr.State == types.SpecStateSkipped && sr.NumAttempts == 0 && selected != nil && !selected(sr.Labels()):
			// Outside the run's label filter: not a verdict of this run.
		case sr.LeafNodeType == types.NodeTypeIt:
			specs = append(specs, keyed{specFromIt(sr, opts.LevelOf), sr.LeafNodeLocation.FileName, sr.LeafNodeLocation.LineNumber})
		case sr.LeafNodeType.Is(types.NodeTypesForSuiteLevelNodes) && sr.State.Is(types.SpecStateFailureStates):
			specs = append(specs, keyed{specFromSuiteNode(sr), sr.LeafNodeLocation.FileName, sr.LeafNodeLocation.LineNumber})
		}
	}

	slices.SortStableFunc(specs, func(a, b keyed) int {
		if as, bs := a.spec.Area == AreaSuite, b.spec.Area == AreaSuite; as != bs {
			if as {
				return -1
			}
			return 1
		}
		if n := strings.Compare(a.spec.Area, b.spec.Area); n != 0 {
			return n
		}
		if n := strings.Compare(a.file, b.file); n != 0 {
			return n
		}
		if a.line != b.line {
			return a.line - b.line
		}
		if n := strings.Compare(a.spec.Name, b.spec.Name); n != 0 {
			return n
		}
		return strings.Compare(a.spec.MQTTVersion, b.spec.MQTTVersion)
	})

	seen := map[string]int{}
	c.Specs = make([]Spec, 0, len(specs))
	for _, k := range specs {
		sp := k.spec
		if n := seen[sp.ID]; n > 0 {
			seen[sp.ID] = n + 1
			sp.ID = fmt.Sprintf("%s-%d", sp.ID, n+1)
		} else {
			seen[sp.ID] = 1
		}
		c.Specs = append(c.Specs, sp)
	}

	if len(c.Versions) == 0 {
		for _, sp := range c.Specs {
			if sp.MQTTVersion != "" && !slices.Contains(c.Versions, sp.MQTTVersion) {
				c.Versions = append(c.Versions, sp.MQTTVersion)
			}
		}
		slices.Sort(c.Versions)
	}
	return c
}

func specFromIt(sr types.SpecReport, levelOf func(version, id string) string) Spec {
	sp := Spec{
		Name:     sr.FullText(),
		Start:    sr.StartTime,
		Duration: sr.RunTime,
		Location: location(sr),
	}
	if len(sr.ContainerHierarchyTexts) > 0 {
		sp.Area = sr.ContainerHierarchyTexts[0]
	}
	for _, l := range sr.Labels() {
		switch {
		case strings.HasPrefix(l, StatementLabelPrefix):
			sp.Statements = append(sp.Statements, StatementRef{ID: l})
		case l == LabelMQTT311:
			sp.MQTTVersion = MQTT311
		case l == LabelMQTT50:
			sp.MQTTVersion = MQTT50
		}
	}
	// Labels() lists container labels before the It's own; make the It's
	// version label win even if a container already used the same one.
	for _, l := range sr.LeafNodeLabels {
		switch l {
		case LabelMQTT311:
			sp.MQTTVersion = MQTT311
		case LabelMQTT50:
			sp.MQTTVersion = MQTT50
		}
	}
	sp.ID = specID(sp.MQTTVersion, sr.ContainerHierarchyTexts, sr.LeafNodeText)
	shouldOnly := applyEntries(&sp, sr.ReportEntries)

	switch {
	case sr.State.Is(types.SpecStatePassed):
		sp.Verdict = VerdictPass
	case sr.State.Is(types.SpecStateFailureStates):
		sp.Verdict = VerdictFail
		sp.Message = failureMessage(sr)
	case sr.State.Is(types.SpecStateSkipped):
		msg := strings.TrimSpace(sr.Failure.Message)
		switch {
		case strings.HasPrefix(msg, SkipUnsupported):
			sp.Verdict = VerdictUnsupported
			sp.Message = strings.TrimSpace(strings.TrimPrefix(msg, SkipUnsupported))
		case strings.HasPrefix(msg, SkipBrokerDown):
			sp.Verdict = VerdictBrokerDown
			sp.Message = strings.TrimSpace(strings.TrimPrefix(msg, SkipBrokerDown))
		default:
			sp.Verdict = VerdictSkipped
			sp.Message = msg
		}
	case sr.State.Is(types.SpecStatePending):
		sp.Verdict = VerdictSkipped
		sp.Message = "pending"
	default:
		sp.Verdict = VerdictSkipped
		sp.Message = "not run (Ginkgo state " + sr.State.String() + ")"
	}

	applyLevels(&sp, levelOf)
	if shouldOnly && sp.Verdict == VerdictFail {
		sp.Verdict = VerdictNonStrict
	}
	if needsLogExcerpt(sp.Verdict) {
		sp.LogExcerpt = excerptFor(sp, "", DefaultExcerptLines)
	}
	return sp
}

// applyLevels fills in the statements' levels and adjusts pass/fail verdicts
// of specs that check only SHOULD- or MAY-level statements.
func applyLevels(sp *Spec, levelOf func(version, id string) string) {
	if levelOf == nil || len(sp.Statements) == 0 {
		return
	}
	var must, should, may int
	for i := range sp.Statements {
		lvl := strings.TrimSpace(levelOf(sp.MQTTVersion, sp.Statements[i].ID))
		sp.Statements[i].Level = lvl
		switch classifyLevel(lvl) {
		case levelShould:
			should++
		case levelMay:
			may++
		default:
			must++
		}
	}
	switch {
	case may == len(sp.Statements) && (sp.Verdict == VerdictPass || sp.Verdict == VerdictFail):
		if sp.Verdict == VerdictFail {
			note := "optional (MAY) behaviour not observed"
			if sp.Message != "" {
				note += ": " + sp.Message
			}
			sp.Notes = append(sp.Notes, note)
		} else {
			sp.Notes = append(sp.Notes, "optional (MAY) behaviour observed")
		}
		sp.Verdict = VerdictInformational
	case must == 0 && should > 0 && sp.Verdict == VerdictFail:
		sp.Verdict = VerdictNonStrict
	}
}

type levelClass int

const (
	levelMust levelClass = iota
	levelShould
	levelMay
)

// classifyLevel maps a catalogue level to its class. Unknown levels are MUST:
// a spec we cannot place is never excused.
func classifyLevel(level string) levelClass {
	l := strings.ToUpper(strings.Join(strings.Fields(strings.NewReplacer("_", " ", "-", " ").Replace(level)), " "))
	switch l {
	case "SHOULD", "SHOULD NOT", "RECOMMENDED", "NOT RECOMMENDED":
		return levelShould
	case "MAY", "OPTIONAL":
		return levelMay
	default:
		return levelMust
	}
}

func specFromSuiteNode(sr types.SpecReport) Spec {
	name := sr.LeafNodeType.String()
	if sr.LeafNodeText != "" {
		name += " " + sr.LeafNodeText
	}
	sp := Spec{
		ID:       "suite-" + specID("", []string{name}, sr.LeafNodeLocation.String()),
		Name:     name,
		Area:     AreaSuite,
		Verdict:  VerdictFail,
		Start:    sr.StartTime,
		Duration: sr.RunTime,
		Message:  failureMessage(sr),
		Location: location(sr),
	}
	applyEntries(&sp, sr.ReportEntries)
	sp.LogExcerpt = excerptFor(sp, "", DefaultExcerptLines)
	return sp
}

// specID is a short stable hash of what identifies a spec: its version and
// the texts of its containers and It.
func specID(version string, containers []string, leaf string) string {
	h := sha256.New()
	h.Write([]byte(version))
	for _, t := range containers {
		h.Write([]byte{0})
		h.Write([]byte(t))
	}
	h.Write([]byte{1})
	h.Write([]byte(leaf))
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func location(sr types.SpecReport) string {
	cl := sr.Failure.Location
	if cl.FileName == "" {
		cl = sr.LeafNodeLocation
	}
	if cl.FileName == "" {
		return cl.CustomMessage
	}
	return fmt.Sprintf("%s:%d", cl.FileName, cl.LineNumber)
}

func failureMessage(sr types.SpecReport) string {
	f := sr.Failure
	msg := strings.TrimSpace(f.Message)
	if f.ForwardedPanic != "" {
		msg = strings.TrimSpace(msg + "\n" + f.ForwardedPanic)
	}
	if !sr.State.Is(types.SpecStateFailed) {
		msg = strings.TrimSpace("[" + sr.State.String() + "] " + msg)
	}
	if f.FailureNodeContext != types.FailureNodeIsLeafNode && f.FailureNodeType != types.NodeTypeInvalid &&
		f.FailureNodeType != sr.LeafNodeType {
		msg += fmt.Sprintf("\n(in %s at %s:%d)", f.FailureNodeType, f.FailureNodeLocation.FileName, f.FailureNodeLocation.LineNumber)
	}
	return msg
}

func applyEntries(sp *Spec, entries types.ReportEntries) (shouldOnly bool) {
	join := func(dst *string, s string) {
		if *dst == "" {
			*dst = s
		} else if s != "" {
			*dst += "\n" + s
		}
	}
	for _, e := range entries {
		switch e.Name {
		case EntryRequirement:
			join(&sp.Requirement, entryText(e.Value))
		case EntryExpected:
			join(&sp.Expected, entryText(e.Value))
		case EntryObserved:
			join(&sp.Observed, entryText(e.Value))
		case EntryLogs:
			join(&sp.Logs, entryText(e.Value))
		case EntryShould:
			shouldOnly = true
		case EntryNote:
			if s := entryText(e.Value); s != "" {
				sp.Notes = append(sp.Notes, s)
			}
		case EntryTrace:
			data := entryJSON(e.Value)
			if len(data) == 0 || string(data) == "null" {
				continue
			}
			var tr []TraceEntry
			if err := json.Unmarshal(data, &tr); err != nil {
				sp.Notes = append(sp.Notes, fmt.Sprintf("a %s report entry could not be decoded: %v", EntryTrace, err))
				continue
			}
			sp.Trace = append(sp.Trace, tr...)
		}
	}
	slices.SortStableFunc(sp.Trace, func(a, b TraceEntry) int { return a.At.Compare(b.At) })
	return shouldOnly
}

// entryText is the text of a report entry's value. In-process the raw value is
// what the harness passed; from a rehydrated report it is JSON-decoded; a
// hand-built value may only carry AsJSON and Representation.
func entryText(v types.ReportEntryValue) string {
	switch x := v.GetRawValue().(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case fmt.Stringer:
		return x.String()
	case nil:
		if v.AsJSON != "" && v.AsJSON != "null" {
			var s string
			if json.Unmarshal([]byte(v.AsJSON), &s) == nil {
				return s
			}
			return v.AsJSON
		}
		return v.Representation
	default:
		if b, err := json.Marshal(x); err == nil {
			return string(b)
		}
		return v.String()
	}
}

// entryJSON is the JSON text a structured report entry carries: a string
// value is taken as JSON text, any other value is marshalled.
func entryJSON(v types.ReportEntryValue) []byte {
	switch x := v.GetRawValue().(type) {
	case string:
		return []byte(x)
	case []byte:
		return x
	case nil:
		var s string
		if v.AsJSON != "" && json.Unmarshal([]byte(v.AsJSON), &s) == nil {
			return []byte(s)
		}
		return []byte(v.AsJSON)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return []byte(fmt.Sprintf("%q", err.Error())) // decodes to a note, not a trace
		}
		return b
	}
}
