package reports

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteMatrixHTML writes m as one self-contained HTML page: the brokers
// with their counts per verdict, the statements × brokers table, the specs ×
// brokers table grouped by area, and below them one detail block per cell
// (id "c-<column>-<spec ID>") that every cell links to: requirement,
// expected, observed, wire trace and log excerpt for specs that did not
// pass, a one-line record for those that did. Tables are server-rendered;
// the inline script adds the same filters as the conformance report.
//
// Stable hooks: <body data-report="matrix">, #brokers tr[data-broker] with
// td[data-verdict][data-count], #matrix-specs tr[data-verdict] (the verdicts
// of the row's cells, space-separated), #matrix-statements, #visible-count.
//
// m must come from NewMatrix (a matrix read back from JSON has no runs).
func WriteMatrixHTML(w io.Writer, m *Matrix) error {
	if len(m.runs) != len(m.Brokers) {
		return errors.New("reports: this matrix has no runs to render (build it with NewMatrix from the JSON results)")
	}
	if err := matrixTmpl.Execute(w, newMatrixView(m)); err != nil {
		return fmt.Errorf("reports: writing matrix HTML: %w", err)
	}
	return nil
}

type matrixView struct {
	Title      string
	Tool       ToolInfo
	Brokers    []matrixBrokerView
	Verdicts   []htmlCount // verdicts present anywhere, for the filter
	Statements []matrixRow
	Areas      []matrixArea
	Details    []matrixBrokerDetails
	SpecCount  int
}

type matrixBrokerView struct {
	Index       int
	Label       string
	Target      TargetInfo
	Versions    string
	Start       string
	Result      string
	ResultClass string
	Counts      []htmlCount
	Total       int
}

type matrixArea struct {
	Key, Label string
	Rows       []matrixRow
}

// matrixRow is a statement or a spec with one cell per broker.
type matrixRow struct {
	Anchor     string
	Name       string // spec name or statement ID
	Level      string
	Version    string
	Area       string
	StmtLinks  []htmlStmtLink
	VerdictSet string // the cells' distinct verdicts, space-separated ("none" for an empty cell)
	Cells      []matrixCell
}

type matrixCell struct {
	Verdict Verdict // "" when the broker did not run it
	Href    string
	Title   string
}

type matrixBrokerDetails struct {
	Anchor string
	Label  string
	Cells  []matrixCellDetail
}

type matrixCellDetail struct {
	Anchor   string
	RowHref  string
	Full     bool // render the evidence, not just a line
	Spec     htmlSpec
	Duration string
}

// HasVerdict reports whether any broker has a spec with verdict vd: the
// broker table shows only those columns.
func (v matrixView) HasVerdict(vd Verdict) bool {
	for _, c := range v.Verdicts {
		if c.Verdict == vd {
			return true
		}
	}
	return false
}

// Columns is the number of columns of the spec table.
func (v matrixView) Columns() int { return 2 + len(v.Brokers) }

func cellAnchor(broker int, specID string) string { return fmt.Sprintf("c-%d-%s", broker, specID) }

func newMatrixView(m *Matrix) matrixView {
	v := matrixView{Title: "MQTT conformance matrix", SpecCount: len(m.Specs)}
	labels := make([]string, len(m.Brokers))
	for i, b := range m.Brokers {
		labels[i] = b.Label
	}
	if len(labels) > 0 {
		v.Title += ": " + strings.Join(labels, ", ")
	}
	present := Counts{}
	for i, b := range m.Brokers {
		if v.Tool.Name == "" {
			v.Tool = b.Tool
		}
		bv := matrixBrokerView{Index: i, Label: b.Label, Target: b.Target, Versions: strings.Join(b.Versions, ", "), Total: b.Counts.Total()}
		if !b.Start.IsZero() {
			bv.Start = b.Start.Format(time.RFC3339)
		}
		if b.Failed {
			bv.Result, bv.ResultClass = "FAIL", "fail"
		} else {
			bv.Result, bv.ResultClass = "PASS", "pass"
		}
		for _, vd := range Verdicts {
			bv.Counts = append(bv.Counts, htmlCount{vd, b.Counts[vd]})
			present[vd] += b.Counts[vd]
		}
		v.Brokers = append(v.Brokers, bv)
	}
	if v.Tool.Name == "" {
		v.Tool.Name = "mqttspec"
	}
	for _, vd := range Verdicts {
		if present[vd] > 0 {
			v.Verdicts = append(v.Verdicts, htmlCount{vd, present[vd]})
		}
	}

	// Per run: the spec of each key, for the details.
	specsOf := make([]map[string]Spec, len(m.runs))
	for b, c := range m.runs {
		specsOf[b] = map[string]Spec{}
		for _, sp := range c.Specs {
			if _, dup := specsOf[b][specKey(sp)]; !dup {
				specsOf[b][specKey(sp)] = sp
			}
		}
	}
	idOf := map[string]string{}
	for _, sp := range m.Specs {
		idOf[sp.Key] = sp.ID
	}

	areaIdx := map[string]int{}
	for _, sp := range m.Specs {
		row := matrixRow{Anchor: "m-" + sp.ID, Name: sp.Name, Version: versionLabel(sp.MQTTVersion), Area: areaLabel(sp.Area)}
		for _, st := range sp.Statements {
			row.StmtLinks = append(row.StmtLinks, htmlStmtLink{Anchor: "ms-" + versionLabel(sp.MQTTVersion) + "-" + st.ID, ID: st.ID, Level: st.Level})
		}
		for b, vd := range sp.Verdicts {
			cell := matrixCell{Verdict: vd, Title: m.Brokers[b].Label + ": " + verdictOrNone(vd)}
			if vd != "" {
				cell.Href = "#" + cellAnchor(b, sp.ID)
			}
			row.Cells = append(row.Cells, cell)
		}
		row.VerdictSet = verdictSet(sp.Verdicts)
		i, ok := areaIdx[sp.Area]
		if !ok {
			i = len(v.Areas)
			areaIdx[sp.Area] = i
			v.Areas = append(v.Areas, matrixArea{Key: areaKey(sp.Area), Label: areaLabel(sp.Area)})
		}
		v.Areas[i].Rows = append(v.Areas[i].Rows, row)
	}

	for _, st := range m.Statements {
		row := matrixRow{Anchor: "ms-" + versionLabel(st.MQTTVersion) + "-" + st.ID, Name: st.ID, Level: st.Level, Version: versionLabel(st.MQTTVersion)}
		for b, vd := range st.Verdicts {
			cell := matrixCell{Verdict: vd, Title: m.Brokers[b].Label + ": " + verdictOrNone(vd)}
			// Link the cell to the broker's worst spec for the statement.
			for _, k := range st.Specs {
				if sp, ok := specsOf[b][k]; ok && sp.Verdict == vd {
					cell.Href = "#" + cellAnchor(b, idOf[k])
					cell.Title += " — " + sp.Name
					break
				}
			}
			row.Cells = append(row.Cells, cell)
		}
		row.VerdictSet = verdictSet(st.Verdicts)
		v.Statements = append(v.Statements, row)
	}

	for b, c := range m.runs {
		d := matrixBrokerDetails{Anchor: fmt.Sprintf("b-%d", b), Label: m.Brokers[b].Label}
		for _, ms := range m.Specs {
			sp, ok := specsOf[b][ms.Key]
			if !ok {
				continue
			}
			hs := newHTMLSpec(sp, c.Strict, c.Logs)
			d.Cells = append(d.Cells, matrixCellDetail{
				Anchor: cellAnchor(b, ms.ID), RowHref: "#m-" + ms.ID, Spec: hs,
				Full: sp.Verdict != VerdictPass && hs.HasDetail, Duration: hs.DurationText,
			})
		}
		v.Details = append(v.Details, d)
	}
	return v
}

func verdictSet(vs []Verdict) string {
	var out []string
	for _, vd := range vs {
		s := string(vd)
		if s == "" {
			s = "none"
		}
		if !strings.Contains(" "+strings.Join(out, " ")+" ", " "+s+" ") {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}
