package catalogue

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// CoverageFormat names the JSON form of Coverage; it changes when the form
// changes incompatibly.
const CoverageFormat = "mqttspec.coverage/v1"

// Target is the share, in percent, of wire-testable statements that the
// conformance specs aim to cover in each version.
const Target = 95.0

// Citation says that a conformance spec checks a statement.
type Citation struct {
	Version     string `json:"version"`      // V311 or V5 ("5" is accepted too)
	StatementID string `json:"statement_id"` // exactly as the standard prints it
	Spec        string `json:"spec"`         // the spec's full name, e.g. its Ginkgo text path
}

// CitationError is a citation that names no statement of the catalogue, or
// no spec. Each one is a defect in the conformance specs.
type CitationError struct {
	Citation
	Reason string `json:"reason"`
}

func (e CitationError) Error() string {
	return fmt.Sprintf("spec %q cites %s (MQTT %s): %s", e.Spec, e.StatementID, e.Version, e.Reason)
}

// Counts are the coverage numbers of a set of statements.
type Counts struct {
	Total       int `json:"total"`         // statements
	Wire        int `json:"wire_testable"` // of those, wire-testable (see Statement.WireTestable)
	Covered     int `json:"covered"`       // statements cited by at least one spec, whether wire-testable or not
	WireCovered int `json:"wire_covered"`  // wire-testable statements cited by at least one spec
	// Percent is 100 × WireCovered / Wire, the target metric; 0 when Wire is 0.
	Percent float64 `json:"wire_covered_percent"`
}

// MeetsTarget reports whether the wire-testable statements are covered to
// at least Target percent. A set without wire-testable statements meets it.
func (c Counts) MeetsTarget() bool { return c.Wire == 0 || c.Percent >= Target }

func (c *Counts) add(st Statement, cited bool) {
	c.Total++
	wire := st.WireTestable()
	if wire {
		c.Wire++
	}
	if cited {
		c.Covered++
		if wire {
			c.WireCovered++
		}
	}
}

func (c *Counts) finish() {
	if c.Wire > 0 {
		c.Percent = 100 * float64(c.WireCovered) / float64(c.Wire)
	}
}

// SectionCoverage are the counts of one section.
type SectionCoverage struct {
	Section string `json:"section"`
	Counts
}

// VersionCoverage are the counts of one protocol version.
type VersionCoverage struct {
	Version string `json:"version"`
	Counts
	// TopSections groups by top-level section (see TopSection), Sections by
	// the section each statement is in; both in spec order.
	TopSections []SectionCoverage `json:"top_sections"`
	Sections    []SectionCoverage `json:"sections"`
	// Uncovered lists the wire-testable statements no spec cites, in spec
	// order.
	Uncovered []string `json:"uncovered"`
}

// Coverage is how far a set of citations covers the catalogue. Build it
// with Compute.
type Coverage struct {
	Format    string            `json:"format"`    // CoverageFormat
	Citations int               `json:"citations"` // citations given, valid or not
	Specs     int               `json:"specs"`     // distinct specs with at least one valid citation
	Versions  []VersionCoverage `json:"versions"`  // oldest first
	Errors    []CitationError   `json:"errors"`    // invalid citations, in the order given

	// citedBy maps version → statement ID → names of the citing specs,
	// sorted and without repeats.
	citedBy map[string]map[string][]string
}

// Compute measures how far citations cover cat. Invalid citations (unknown
// version or statement ID, empty spec name) do not count; they are listed in
// Errors.
func Compute(cat *Catalogue, citations []Citation) Coverage {
	cov := Coverage{
		Format:    CoverageFormat,
		Citations: len(citations),
		Versions:  []VersionCoverage{},
		Errors:    []CitationError{},
		citedBy:   map[string]map[string][]string{},
	}
	specs := map[string]bool{}
	for _, c := range citations {
		version, reason := check(cat, c)
		if reason != "" {
			cov.Errors = append(cov.Errors, CitationError{Citation: c, Reason: reason})
			continue
		}
		specs[c.Spec] = true
		if cov.citedBy[version] == nil {
			cov.citedBy[version] = map[string][]string{}
		}
		names := cov.citedBy[version][c.StatementID]
		if i, found := slices.BinarySearch(names, c.Spec); !found {
			cov.citedBy[version][c.StatementID] = slices.Insert(names, i, c.Spec)
		}
	}
	cov.Specs = len(specs)

	for _, v := range cat.Versions() {
		vc := VersionCoverage{Version: v, TopSections: []SectionCoverage{}, Sections: []SectionCoverage{}, Uncovered: []string{}}
		top := map[string]int{} // section → index into vc.TopSections
		full := map[string]int{}
		for _, st := range cat.statements[v] {
			cited := len(cov.citedBy[v][st.ID]) > 0
			vc.add(st, cited)
			vc.TopSections = addTo(vc.TopSections, top, TopSection(st.Section), st, cited)
			vc.Sections = addTo(vc.Sections, full, st.Section, st, cited)
			if st.WireTestable() && !cited {
				vc.Uncovered = append(vc.Uncovered, st.ID)
			}
		}
		vc.finish()
		for i := range vc.TopSections {
			vc.TopSections[i].finish()
		}
		for i := range vc.Sections {
			vc.Sections[i].finish()
		}
		cov.Versions = append(cov.Versions, vc)
	}
	return cov
}

// addTo counts st in the entry of secs for section, appending the entry if
// it is new; at maps sections to their index.
func addTo(secs []SectionCoverage, at map[string]int, section string, st Statement, cited bool) []SectionCoverage {
	i, ok := at[section]
	if !ok {
		i = len(secs)
		at[section] = i
		secs = append(secs, SectionCoverage{Section: section})
	}
	secs[i].add(st, cited)
	return secs
}

// check validates a citation and returns the catalogue's spelling of its
// version, or the reason it is invalid.
func check(cat *Catalogue, c Citation) (version, reason string) {
	if strings.TrimSpace(c.Spec) == "" {
		return "", "the spec name is empty"
	}
	version, err := ParseVersion(c.Version)
	if err != nil || cat.statements[version] == nil {
		return "", fmt.Sprintf("unknown MQTT version %q", c.Version)
	}
	if _, ok := cat.Lookup(version, c.StatementID); ok {
		return version, ""
	}
	reason = "no such statement in MQTT " + version
	for printed, regular := range misprinted[version] {
		if c.StatementID == regular {
			return "", reason + "; the standard prints this ID as " + printed
		}
	}
	for _, other := range cat.versions {
		if _, ok := cat.Lookup(other, c.StatementID); ok && other != version {
			return "", reason + " (MQTT " + other + " has it)"
		}
	}
	return "", reason
}

// CitedBy returns the names of the specs that cite the statement, sorted;
// nil if none does.
func (cov Coverage) CitedBy(version, id string) []string {
	return slices.Clone(cov.citedBy[version][id])
}

// Version returns the counts of one version.
func (cov Coverage) Version(v string) (VersionCoverage, bool) {
	for _, vc := range cov.Versions {
		if vc.Version == v {
			return vc, true
		}
	}
	return VersionCoverage{}, false
}

// Err joins the citation errors into one error, nil if there are none.
func (cov Coverage) Err() error {
	errs := make([]error, len(cov.Errors))
	for i, e := range cov.Errors {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// only returns a copy of cov restricted to version v; "" keeps all.
func (cov Coverage) only(v string) Coverage {
	if v == "" {
		return cov
	}
	out := cov
	out.Versions = slices.DeleteFunc(slices.Clone(cov.Versions), func(vc VersionCoverage) bool { return vc.Version != v })
	return out
}
