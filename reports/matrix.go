package reports

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// MatrixSchemaV1 identifies version 1 of the matrix's JSON form.
const MatrixSchemaV1 = "mqttspec.matrix/v1"

// Matrix puts several conformance runs side by side, Autobahn-style: one
// column per broker, one row per spec and one per statement. Build it with
// NewMatrix; it keeps the runs for the HTML details.
type Matrix struct {
	Schema     string            `json:"schema"` // MatrixSchemaV1
	Brokers    []MatrixBroker    `json:"brokers"`
	Specs      []MatrixSpec      `json:"specs"`
	Statements []MatrixStatement `json:"statements"`

	runs []*Conformance
}

// MatrixBroker is one column: a run against one target.
type MatrixBroker struct {
	Label    string     `json:"label"` // column heading, unique within the matrix
	Target   TargetInfo `json:"target"`
	Tool     ToolInfo   `json:"tool"`
	Versions []string   `json:"versions"`
	Strict   bool       `json:"strict"`
	Start    time.Time  `json:"start,omitzero"`
	End      time.Time  `json:"end,omitzero"`
	Counts   Counts     `json:"counts"`
	Failed   bool       `json:"failed"` // the run's exit code was 1
}

// MatrixSpec is one row of the spec view. Verdicts has one entry per
// broker, in column order; "" means the broker's run did not have the spec
// (another version set, a label filter).
type MatrixSpec struct {
	Key         string         `json:"key"` // MQTT version + " | " + name, as in expected-verdicts files
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	Area        string         `json:"area"`
	MQTTVersion string         `json:"mqttVersion,omitempty"`
	Statements  []StatementRef `json:"statements,omitempty"`
	Verdicts    []Verdict      `json:"verdicts"`
}

// MatrixStatement is one row of the statement view: per broker, the worst
// verdict of the specs that cite the statement ("" when none ran there).
type MatrixStatement struct {
	ID          string    `json:"id"`
	MQTTVersion string    `json:"mqttVersion,omitempty"`
	Level       string    `json:"level,omitempty"`
	Specs       []string  `json:"specs"` // keys of the citing specs
	Verdicts    []Verdict `json:"verdicts"`
}

// NewMatrix builds the matrix of runs, one column each in the order given.
// Columns are labelled by profile (else target name, else URL), made unique
// with a suffix when two runs share one.
func NewMatrix(runs ...*Conformance) (*Matrix, error) {
	if len(runs) == 0 {
		return nil, errors.New("reports: a matrix needs at least one run")
	}
	m := &Matrix{Schema: MatrixSchemaV1, runs: runs}
	used := map[string]int{}
	for i, c := range runs {
		if c == nil {
			return nil, fmt.Errorf("reports: run %d of the matrix is nil", i+1)
		}
		label := c.Target.Profile
		if label == "" {
			label = targetLabel(c)
		}
		if label == "" {
			label = fmt.Sprintf("run %d", i+1)
		}
		if n := used[label]; n > 0 {
			used[label] = n + 1
			label = fmt.Sprintf("%s (%d)", label, n+1)
		} else {
			used[label] = 1
		}
		t := c.Target
		t.URL = RedactURL(t.URL)
		m.Brokers = append(m.Brokers, MatrixBroker{
			Label: label, Target: t, Tool: c.Tool, Versions: slices.Clone(c.Versions), Strict: c.Strict,
			Start: c.Start, End: c.End, Counts: c.Summary().ByVerdict, Failed: c.ExitCode(c.Strict) != 0,
		})
	}

	rowOf := map[string]int{}
	for b, c := range runs {
		for _, sp := range c.Specs {
			k := specKey(sp)
			i, ok := rowOf[k]
			if !ok {
				i = len(m.Specs)
				rowOf[k] = i
				m.Specs = append(m.Specs, MatrixSpec{
					Key: k, ID: sp.ID, Name: sp.Name, Area: sp.Area, MQTTVersion: sp.MQTTVersion,
					Statements: slices.Clone(sp.Statements), Verdicts: make([]Verdict, len(runs)),
				})
			}
			if m.Specs[i].Verdicts[b] == "" {
				m.Specs[i].Verdicts[b] = sp.Verdict
			}
		}
	}
	// Group by area (suite failures first) and keep the runs' order within.
	slices.SortStableFunc(m.Specs, func(a, b MatrixSpec) int {
		if as, bs := a.Area == AreaSuite, b.Area == AreaSuite; as != bs {
			if as {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Area, b.Area)
	})

	type stKey struct{ version, id string }
	stOf := map[stKey]int{}
	for _, sp := range m.Specs {
		for _, st := range sp.Statements {
			k := stKey{sp.MQTTVersion, st.ID}
			i, ok := stOf[k]
			if !ok {
				i = len(m.Statements)
				stOf[k] = i
				m.Statements = append(m.Statements, MatrixStatement{ID: st.ID, MQTTVersion: sp.MQTTVersion, Level: st.Level,
					Verdicts: make([]Verdict, len(runs))})
			}
			ms := &m.Statements[i]
			ms.Specs = append(ms.Specs, sp.Key)
			for b, v := range sp.Verdicts {
				ms.Verdicts[b] = worse(ms.Verdicts[b], v)
			}
		}
	}
	slices.SortStableFunc(m.Statements, func(a, b MatrixStatement) int {
		if a.MQTTVersion != b.MQTTVersion {
			return strings.Compare(versionLabel(a.MQTTVersion), versionLabel(b.MQTTVersion))
		}
		return compareStatementIDs(a.ID, b.ID)
	})
	return m, nil
}

// Runs returns the conformance runs the matrix was built from, in column
// order.
func (m *Matrix) Runs() []*Conformance { return m.runs }

// WriteJSON writes the matrix (without the runs' evidence: the runs' own
// JSON files have it) as indented JSON.
func (m *Matrix) WriteJSON(w io.Writer) error {
	out := *m
	out.Schema = MatrixSchemaV1
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("reports: writing matrix JSON: %w", err)
	}
	return nil
}

// ReadMatrixJSON reads a matrix written by WriteJSON. It has no runs, so it
// renders as JSON again but not as HTML.
func ReadMatrixJSON(r io.Reader) (*Matrix, error) {
	var m Matrix
	if err := json.NewDecoder(r).Decode(&m); err != nil {
		return nil, fmt.Errorf("reports: decoding matrix JSON: %w", err)
	}
	if m.Schema != MatrixSchemaV1 {
		return nil, fmt.Errorf("reports: %w %q: this mqttspec reads %q", ErrUnknownSchema, m.Schema, MatrixSchemaV1)
	}
	for _, sp := range m.Specs {
		if len(sp.Verdicts) != len(m.Brokers) {
			return nil, fmt.Errorf("reports: matrix spec %q has %d verdicts for %d brokers", sp.Name, len(sp.Verdicts), len(m.Brokers))
		}
	}
	return &m, nil
}
