package reports

import (
	"testing"

	"github.com/onsi/ginkgo/v2/types"
)

// A failure marked with EntryShould breaks a recommendation only: it is
// non-strict, and fails the run only with --strict.
func TestShouldEntryMakesFailureNonStrict(t *testing.T) {
	sr := types.SpecReport{
		LeafNodeType:            types.NodeTypeIt,
		State:                   types.SpecStateFailed,
		ContainerHierarchyTexts: []string{"Topic aliases"},
		LeafNodeText:            "closes on alias 0",
		LeafNodeLabels:          []string{"MQTT-3.3.2-8", LabelMQTT50},
		ReportEntries:           types.ReportEntries{{Name: EntryShould, Value: types.WrapEntryValue("DISCONNECT reason code")}},
	}
	c := FromGinkgo(types.Report{SpecReports: types.SpecReports{sr}}, AdapterOptions{LevelOf: func(string, string) string { return "MUST" }})
	if got := c.Specs[0].Verdict; got != VerdictNonStrict {
		t.Fatalf("verdict %s, want non-strict", got)
	}
	if c.ExitCode(false) != 0 || c.ExitCode(true) != 1 {
		t.Fatal("non-strict must fail only with --strict")
	}
}
