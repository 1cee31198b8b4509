package catalogue

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Filter selects the statements WriteText and WriteJSON list. The zero
// Filter selects everything.
type Filter struct {
	// Version keeps one version (V311 or V5), statements and coverage alike;
	// "" keeps all.
	Version string `json:"version,omitempty"`
	// Level keeps the statements whose Level.Class is this (Must, Should or
	// May; MUST NOT counts as MUST); "" keeps all. It does not narrow the
	// coverage counts.
	Level Level `json:"level,omitempty"`
	// Uncovered keeps only the wire-testable statements that no spec cites.
	// It does not narrow the coverage counts.
	Uncovered bool `json:"uncovered,omitempty"`
}

// Match reports whether f selects st, given the coverage cov.
func (f Filter) Match(st Statement, cov Coverage) bool {
	if f.Version != "" && st.Version != f.Version {
		return false
	}
	if f.Level != "" && st.Level.Class() != f.Level.Class() {
		return false
	}
	if f.Uncovered && (!st.WireTestable() || len(cov.citedBy[st.Version][st.ID]) > 0) {
		return false
	}
	return true
}

func (f Filter) versions(cat *Catalogue) []string {
	if f.Version != "" {
		return []string{f.Version}
	}
	return cat.Versions()
}

func (f Filter) describe() string {
	var parts []string
	if f.Level != "" {
		parts = append(parts, "level "+string(f.Level))
	}
	if f.Uncovered {
		parts = append(parts, "uncovered wire-testable only")
	}
	return strings.Join(parts, ", ")
}

// NoSpecsNotice is what the output says when no conformance spec cited
// anything.
const NoSpecsNotice = "no conformance specs registered in this build: coverage 0"

// WriteText writes the statements f selects, grouped by section, then the
// coverage per version and per section and any citation errors, as text for
// a terminal.
func WriteText(w io.Writer, cat *Catalogue, cov Coverage, f Filter) error {
	var b bytes.Buffer
	for _, v := range f.versions(cat) {
		writeStatements(&b, cat, cov, f, v)
	}
	b.WriteString("Coverage\n")
	b.WriteString("  wire-testable: testable from the wire (yes or partly) and binding the server\n")
	b.WriteString("  covered: cited by at least one conformance spec\n")
	if cov.Specs == 0 {
		fmt.Fprintf(&b, "\n%s\n", NoSpecsNotice)
	} else {
		fmt.Fprintf(&b, "\n%s from %s\n", plural(cov.Citations-len(cov.Errors), "valid citation"), plural(cov.Specs, "conformance spec"))
	}
	for _, vc := range cov.only(f.Version).Versions {
		writeCoverage(&b, vc)
	}
	if len(cov.Errors) > 0 {
		fmt.Fprintf(&b, "\nCitation errors (%d): specs cite statements the catalogue lacks\n", len(cov.Errors))
		for _, e := range cov.Errors {
			fmt.Fprintf(&b, "  %s\n", e.Error())
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

func writeStatements(b *bytes.Buffer, cat *Catalogue, cov Coverage, f Filter, v string) {
	all := cat.statements[v]
	var shown []Statement
	idWidth := 0
	for _, st := range all {
		if f.Match(st, cov) {
			shown = append(shown, st)
			idWidth = max(idWidth, len(st.ID))
		}
	}
	fmt.Fprintf(b, "MQTT %s: %d statements", v, len(all))
	if d := f.describe(); d != "" {
		fmt.Fprintf(b, ", %d shown (%s)", len(shown), d)
	}
	b.WriteString("\n")
	if len(shown) == 0 {
		b.WriteString("\n  (no statement matches)\n\n")
		return
	}
	section := ""
	for _, st := range shown {
		if st.Section != section {
			section = st.Section
			fmt.Fprintf(b, "\n%s\n", section)
		}
		specs := cov.citedBy[v][st.ID]
		var state string
		switch {
		case len(specs) > 0:
			state = "covered by " + plural(len(specs), "spec")
		case st.WireTestable():
			state = "uncovered"
		default:
			state = "not wire-testable"
		}
		fmt.Fprintf(b, "  %-*s  %-10s  %-6s  %-6s  %s\n", idWidth, st.ID, st.Level, st.Binds, st.Testable, state)
		fmt.Fprintf(b, "      %s\n", st.Text)
		if st.Reason != "" {
			fmt.Fprintf(b, "      testable %s: %s\n", st.Testable, st.Reason)
		}
		if st.Note != "" {
			fmt.Fprintf(b, "      note: %s\n", st.Note)
		}
		for _, s := range specs {
			fmt.Fprintf(b, "      spec: %s\n", s)
		}
	}
	b.WriteString("\n")
}

func writeCoverage(b *bytes.Buffer, vc VersionCoverage) {
	fmt.Fprintf(b, "\nMQTT %s: %d of %d wire-testable statements covered (%s, target %.0f%%); %d of %d statements cited\n",
		vc.Version, vc.WireCovered, vc.Wire, percent(vc.Counts), Target, vc.Covered, vc.Total)
	width := len("section")
	for _, s := range vc.Sections {
		width = max(width, len(s.Section)+2)
	}
	row := func(label string, c Counts) {
		fmt.Fprintf(b, "  %-*s  %5d  %5d  %7d  %12d  %7s\n", width, label, c.Total, c.Wire, c.Covered, c.WireCovered, percent(c))
	}
	fmt.Fprintf(b, "  %-*s  %5s  %5s  %7s  %12s  %7s\n", width, "section", "total", "wire", "covered", "wire-covered", "percent")
	row("all", vc.Counts)
	for _, top := range vc.TopSections {
		row(top.Section, top.Counts)
		var members []SectionCoverage
		for _, s := range vc.Sections {
			if TopSection(s.Section) == top.Section {
				members = append(members, s)
			}
		}
		if len(members) == 1 && members[0].Section == top.Section {
			continue // the same row again
		}
		for _, m := range members {
			row("  "+m.Section, m.Counts)
		}
	}
}

// percent formats the covered share of c's wire-testable statements; "-"
// when there are none.
func percent(c Counts) string {
	if c.Wire == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", c.Percent)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// DocumentFormat names the JSON form of Document.
const DocumentFormat = "mqttspec.catalogue/v1"

// Document is the JSON form of the catalogue with its coverage.
type Document struct {
	Format     string           `json:"format"`           // DocumentFormat
	Notice     string           `json:"notice,omitempty"` // NoSpecsNotice when no spec cites anything
	Filter     Filter           `json:"filter"`
	Statements []CitedStatement `json:"statements"` // those Filter selects, versions oldest first, in spec order
	Coverage   Coverage         `json:"coverage"`   // restricted to Filter.Version
}

// CitedStatement is a statement with the specs that cite it.
type CitedStatement struct {
	Statement
	WireTestable bool     `json:"wire_testable"`
	Specs        []string `json:"specs"` // sorted; empty when uncovered
}

// NewDocument builds the Document of the statements f selects.
func NewDocument(cat *Catalogue, cov Coverage, f Filter) Document {
	doc := Document{
		Format:     DocumentFormat,
		Filter:     f,
		Statements: []CitedStatement{},
		Coverage:   cov.only(f.Version),
	}
	if cov.Specs == 0 {
		doc.Notice = NoSpecsNotice
	}
	for _, v := range f.versions(cat) {
		for _, st := range cat.statements[v] {
			if !f.Match(st, cov) {
				continue
			}
			specs := cov.CitedBy(v, st.ID)
			if specs == nil {
				specs = []string{}
			}
			doc.Statements = append(doc.Statements, CitedStatement{Statement: st, WireTestable: st.WireTestable(), Specs: specs})
		}
	}
	return doc
}

// WriteJSON writes NewDocument(cat, cov, f) as one indented JSON document.
func WriteJSON(w io.Writer, cat *Catalogue, cov Coverage, f Filter) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(NewDocument(cat, cov, f))
}
