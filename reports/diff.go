package reports

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Kinds of change between two runs.
const (
	DiffRegression = "regression" // worse: a spec now fails (or fails harder), or a passing spec vanished
	DiffFix        = "fix"        // better: a failing spec now passes (or fails less)
	DiffNew        = "new"        // a spec the old run did not have, not failing
	DiffChanged    = "changed"    // any other change (e.g. pass -> unsupported)
)

// RunDiff is what changed between two runs of the same broker.
type RunDiff struct {
	Old, New TargetInfo
	// SameTarget is false when the runs name different targets: the diff is
	// still computed, but it compares brokers, not builds.
	SameTarget bool
	Changes    []DiffChange // regressions first, then fixes, new, changed; by key within
}

// DiffChange is one spec whose verdict changed.
type DiffChange struct {
	Change
	Kind       string
	Statements []string
}

// Regressions counts the regressions.
func (d RunDiff) Regressions() int {
	n := 0
	for _, c := range d.Changes {
		if c.Kind == DiffRegression {
			n++
		}
	}
	return n
}

// failingVerdict: the verdicts that mean the broker did something wrong.
func failingVerdict(v Verdict) bool {
	return v == VerdictFail || v == VerdictNonStrict || v == VerdictBrokerDown
}

// Diff compares two runs spec by spec (by MQTT version and name, as
// expected-verdicts files do: it is Compare with the old run as the
// expectation) and classifies each change. Unlike Compare's Regression, a
// vanished spec is a regression only when it used to pass (a lost check);
// broker-down counts as failing.
func Diff(old, new *Conformance) RunDiff {
	d := RunDiff{Old: old.Target, New: new.Target}
	d.Old.URL, d.New.URL = RedactURL(d.Old.URL), RedactURL(d.New.URL)
	d.SameTarget = sameTarget(old.Target, new.Target)
	stmts := map[string][]string{}
	for _, c := range []*Conformance{old, new} {
		for _, sp := range c.Specs {
			if _, ok := stmts[specKey(sp)]; !ok {
				ids := make([]string, 0, len(sp.Statements))
				for _, st := range sp.Statements {
					ids = append(ids, st.ID)
				}
				stmts[specKey(sp)] = ids
			}
		}
	}
	for _, ch := range Compare(ExpectationsFrom(old, nil), new) {
		d.Changes = append(d.Changes, DiffChange{Change: ch, Kind: classify(ch.Want, ch.Got), Statements: stmts[ch.Key]})
	}
	kindOrder := []string{DiffRegression, DiffFix, DiffNew, DiffChanged}
	slices.SortStableFunc(d.Changes, func(a, b DiffChange) int {
		if ka, kb := slices.Index(kindOrder, a.Kind), slices.Index(kindOrder, b.Kind); ka != kb {
			return ka - kb
		}
		return strings.Compare(a.Key, b.Key)
	})
	return d
}

func classify(old, new Verdict) string {
	switch {
	case new == "" && (old == VerdictPass || old == VerdictInformational):
		return DiffRegression // a check that held is no longer made
	case new == "":
		return DiffChanged // it checked nothing, or its failure is no longer reported
	case old == "" && failingVerdict(new):
		return DiffRegression
	case old == "":
		return DiffNew
	case failingVerdict(new) && verdictRank(new) < verdictRank(old):
		return DiffRegression
	case failingVerdict(old) && verdictRank(new) > verdictRank(old) && new != VerdictUnsupported && new != VerdictSkipped && new != VerdictBrokerDown:
		return DiffFix
	}
	return DiffChanged
}

func sameTarget(a, b TargetInfo) bool {
	if a.Profile != "" || b.Profile != "" {
		return a.Profile == b.Profile
	}
	return a.Name == b.Name
}

// WriteText writes the diff for a terminal: a headline with the counts, then
// one line per change, regressions first.
func (d RunDiff) WriteText(w io.Writer) error {
	var b strings.Builder
	counts := map[string]int{}
	for _, c := range d.Changes {
		counts[c.Kind]++
	}
	name := func(t TargetInfo) string {
		s := t.Name
		if s == "" {
			s = t.Profile
		}
		if s == "" {
			s = t.URL
		}
		return s
	}
	fmt.Fprintf(&b, "old: %s\nnew: %s\n", name(d.Old), name(d.New))
	if !d.SameTarget {
		b.WriteString("note: the runs name different targets; this compares two brokers, not two builds of one\n")
	}
	if len(d.Changes) == 0 {
		b.WriteString("no verdict changed\n")
	} else {
		fmt.Fprintf(&b, "%d changes: %d regressions, %d fixes, %d new, %d other\n",
			len(d.Changes), counts[DiffRegression], counts[DiffFix], counts[DiffNew], counts[DiffChanged])
		for _, c := range d.Changes {
			fmt.Fprintf(&b, "  %-10s %s", strings.ToUpper(c.Kind), c.Key)
			if len(c.Statements) > 0 {
				fmt.Fprintf(&b, " [%s]", strings.Join(c.Statements, " "))
			}
			fmt.Fprintf(&b, ": %s -> %s", verdictOrNone(c.Want), verdictOrNone(c.Got))
			if c.Note != "" {
				fmt.Fprintf(&b, " (%s)", c.Note)
			}
			b.WriteByte('\n')
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func verdictOrNone(v Verdict) string {
	if v == "" {
		return "(absent)"
	}
	return string(v)
}
