package main

import (
	"fmt"

	"github.com/mqttspec/mqttspec/specs/catalogue"
	"github.com/spf13/cobra"
)

// specCitations returns the statements the conformance specs cite. The
// conformance specs package does not exist yet; once it does, it sets this
// variable (from an init function in a file of this package) to a function
// returning its citations. Until then there are none, and the catalogue
// command says so and reports coverage 0.
var specCitations = func() []catalogue.Citation { return nil }

type catalogueFlags struct {
	json      bool
	mqtt      string
	uncovered bool
	level     string
}

func newCatalogueCmd() *cobra.Command {
	var f catalogueFlags
	cmd := &cobra.Command{
		Use:   "catalogue",
		Short: "List the normative statements of MQTT 3.1.1 and 5.0 and their test coverage",
		Long: `catalogue prints the numbered normative statements of MQTT 3.1.1 and MQTT 5.0,
grouped by section: the ID and section as the standard prints them, the level
(MUST, SHOULD, MAY), whom the statement binds (server, client or both),
whether a test client can check a server against it on the wire (yes, partly
or no, with the reason), and a paraphrase in our own words.

It ends with the coverage per version and per section: how many statements
are wire-testable (testable yes or partly, and binding the server) and how
many of those the conformance specs cite. The target is 95% per version.

--level and --uncovered narrow the list, not the coverage counts; --mqtt
narrows both. A conformance spec citing an ID the catalogue lacks is reported
and makes the exit code 1.`,
		Example: `  mqttspec catalogue
  mqttspec catalogue --mqtt 5 --uncovered
  mqttspec catalogue --level SHOULD
  mqttspec catalogue --json | jq '.coverage.versions[] | {version, wire_covered_percent}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCatalogue(cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.json, "json", false, "print one JSON document: the statements with the specs citing them, and the coverage")
	fl.StringVar(&f.mqtt, "mqtt", "", "only protocol `VERSION` 3.1.1 or 5 (default both)")
	fl.BoolVar(&f.uncovered, "uncovered", false, "list only wire-testable statements that no conformance spec cites")
	fl.StringVar(&f.level, "level", "", "list only statements of `LEVEL` MUST, SHOULD or MAY (MUST includes MUST NOT, SHOULD includes SHOULD NOT)")
	return cmd
}

func runCatalogue(cmd *cobra.Command, f catalogueFlags) error {
	var filter catalogue.Filter
	if f.mqtt != "" {
		v, err := catalogue.ParseVersion(f.mqtt)
		if err != nil {
			return usageErrorf("--mqtt: %v", err)
		}
		filter.Version = v
	}
	if f.level != "" {
		l, err := catalogue.ParseLevelClass(f.level)
		if err != nil {
			return usageErrorf("--level: %v", err)
		}
		filter.Level = l
	}
	filter.Uncovered = f.uncovered

	cat, err := catalogue.Load()
	if err != nil {
		return err
	}
	var citations []catalogue.Citation
	if specCitations != nil {
		citations = specCitations()
	}
	cov := catalogue.Compute(cat, citations)

	out := cmd.OutOrStdout()
	if f.json {
		err = catalogue.WriteJSON(out, cat, cov, filter)
	} else {
		err = catalogue.WriteText(out, cat, cov, filter)
	}
	if err != nil {
		return err
	}
	if n := len(cov.Errors); n > 0 {
		return fmt.Errorf("conformance specs cite statements the catalogue lacks: %d citation(s), listed in the output", n)
	}
	return nil
}
