package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// ExpectSchema versions the expected-verdicts file.
const ExpectSchema = "mqttspec.expected-verdicts/v1"

// Expectations are the verdicts a broker is known to get, checked in so
// that CI notices when any of them changes: a regression of the broker, a
// fix, or a flaky spec.
type Expectations struct {
	Schema string     `json:"schema"`
	Target string     `json:"target"`
	Specs  []Expected `json:"specs"`
}

// Expected is one spec's known verdict. Note explains a failing verdict in
// one line (the observed behaviour); it is kept when the file is rewritten.
type Expected struct {
	Key        string   `json:"key"` // version + " | " + spec name
	Statements []string `json:"statements,omitempty"`
	Verdict    Verdict  `json:"verdict"`
	Note       string   `json:"note,omitempty"`
	// Varies marks a spec whose verdict depends on the broker's timing
	// (seen both ways on the same broker build); a change between pass and
	// fail is then not reported. Set by hand, with the evidence in Note.
	Varies bool `json:"varies,omitempty"`
}

func specKey(s Spec) string { return s.MQTTVersion + " | " + s.Name }

// ExpectationsFrom records the verdicts of a run, keeping the notes of
// prev (may be nil) for specs whose verdict did not change.
func ExpectationsFrom(c *Conformance, prev *Expectations) *Expectations {
	notes := map[string]Expected{}
	if prev != nil {
		for _, e := range prev.Specs {
			notes[e.Key] = e
		}
	}
	out := &Expectations{Schema: ExpectSchema, Target: c.Target.Name}
	for _, s := range c.Specs {
		e := Expected{Key: specKey(s), Verdict: s.Verdict}
		for _, st := range s.Statements {
			e.Statements = append(e.Statements, st.ID)
		}
		if old, ok := notes[e.Key]; ok && old.Varies && passOrFail(old.Verdict) && passOrFail(e.Verdict) {
			e.Verdict, e.Note, e.Varies = old.Verdict, old.Note, true
		} else if ok && old.Verdict == e.Verdict {
			e.Note = old.Note
		} else if s.Verdict != VerdictPass {
			e.Note = firstLine(s.Message)
		}
		out.Specs = append(out.Specs, e)
	}
	sort.Slice(out.Specs, func(i, j int) bool { return out.Specs[i].Key < out.Specs[j].Key })
	return out
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// WriteJSON writes the expectations, one spec per line-friendly entry.
func (e *Expectations) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(e)
}

// ReadExpectations reads an expected-verdicts file.
func ReadExpectations(r io.Reader) (*Expectations, error) {
	var e Expectations
	if err := json.NewDecoder(r).Decode(&e); err != nil {
		return nil, err
	}
	if e.Schema != ExpectSchema {
		return nil, fmt.Errorf("%w: %q (want %q)", ErrUnknownSchema, e.Schema, ExpectSchema)
	}
	return &e, nil
}

// Change is a spec whose verdict differs from the expected one.
type Change struct {
	Key       string
	Want, Got Verdict // "" when the spec is new or gone
	Note      string
}

// Regression reports whether the change makes things worse: a spec that
// used to pass (or is new) now fails, or a known spec vanished.
func (c Change) Regression() bool {
	return c.Got == "" || (c.Got.Failing(true) && !c.Want.Failing(true))
}

func (c Change) String() string {
	switch {
	case c.Want == "":
		return fmt.Sprintf("new spec %s: %s", c.Key, c.Got)
	case c.Got == "":
		return fmt.Sprintf("spec gone %s (was %s)", c.Key, c.Want)
	}
	s := fmt.Sprintf("%s: %s -> %s", c.Key, c.Want, c.Got)
	if c.Note != "" {
		s += " (" + c.Note + ")"
	}
	return s
}

// Compare lists every difference between the expectations and a run,
// regressions first.
func Compare(exp *Expectations, c *Conformance) []Change {
	want := map[string]Expected{}
	for _, e := range exp.Specs {
		want[e.Key] = e
	}
	var out []Change
	seen := map[string]bool{}
	for _, s := range c.Specs {
		k := specKey(s)
		seen[k] = true
		e, ok := want[k]
		switch {
		case !ok:
			out = append(out, Change{Key: k, Got: s.Verdict, Note: firstLine(s.Message)})
		case e.Varies && passOrFail(e.Verdict) && passOrFail(s.Verdict):
		case e.Verdict != s.Verdict:
			out = append(out, Change{Key: k, Want: e.Verdict, Got: s.Verdict, Note: firstLine(s.Message)})
		}
	}
	for _, e := range exp.Specs {
		if !seen[e.Key] {
			out = append(out, Change{Key: e.Key, Want: e.Verdict})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Regression() != out[j].Regression() {
			return out[i].Regression()
		}
		return out[i].Key < out[j].Key
	})
	return out
}

func passOrFail(v Verdict) bool { return v == VerdictPass || v == VerdictFail }
