package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/mqttspec/mqttspec/reports"
)

// errRegressions makes `report diff` exit 1 after printing the diff.
var errRegressions = errors.New("the new run has regressions")

func newReportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Render, merge and compare JSON conformance and simulator results",
		Long: `Work with the JSON results that 'mqttspec run --json-report' writes:
render them again as HTML or JUnit, merge several brokers' results into one
side-by-side matrix, or list what changed between two runs of one broker.

Render and merge also take the results of 'mqttspec sim --json'
(mqttspec.sim/v1): merge adds the shards of one fleet into one result, and
render writes its HTML report.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newReportRenderCmd(), newReportMergeCmd(), newReportDiffCmd(), newReportCheckCmd())
	return cmd
}

func newReportRenderCmd() *cobra.Command {
	var htmlOut, junitOut, jsonOut string
	cmd := &cobra.Command{
		Use:   "render results.json",
		Short: "Write the HTML report (and/or JUnit, JSON) of a JSON result file",
		Example: `  mqttspec report render out/mosquitto.json --html-report mosquitto.html
  mqttspec report render results.json --junit-report junit.xml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if htmlOut == "" && junitOut == "" && jsonOut == "" {
				return usageErrorf("nothing to write: give --html-report, --junit-report or --json-report")
			}
			if sim, err := isSimResult(args[0]); err != nil || sim {
				if err != nil {
					return err
				}
				return renderSimResult(args[0], htmlOut, jsonOut, junitOut)
			}
			res, err := readResults(args[0])
			if err != nil {
				return err
			}
			return writeReports(res, htmlOut, jsonOut, junitOut)
		},
	}
	f := cmd.Flags()
	f.StringVar(&htmlOut, "html-report", "", "write the HTML report to this file")
	f.StringVar(&junitOut, "junit-report", "", "write JUnit XML to this file")
	f.StringVar(&jsonOut, "json-report", "", "write the JSON results again (current form) to this file")
	return cmd
}

func newReportMergeCmd() *cobra.Command {
	var htmlOut, jsonOut string
	cmd := &cobra.Command{
		Use:   "merge results.json... --html-report F [--json F]",
		Short: "Put several brokers' JSON results side by side in one matrix, or add up simulator shards",
		Long: `Merge the JSON results of several runs (one per broker) into a matrix:
statements × brokers and specs × brokers, every cell linking to that
broker's evidence for the spec, in one self-contained HTML file. --json writes
the matrix's verdicts as JSON. A summary table goes to standard output.

Given the results of 'mqttspec sim --shard i/n --json' instead, merge adds the
shards of one fleet into one result, exactly: counters add, latency
histograms merge, timelines add second by second. Shards of different runs
(scenario, seed, fleet size, shard count) or a shard given twice are refused;
missing shards are reported. Conformance and simulator results cannot be
mixed.`,
		Example: `  mqttspec report merge out/mosquitto.json out/nats.json --html-report matrix.html
  mqttspec report merge shard-*.json --json merged.json --html-report fleet.html`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if htmlOut == "" && jsonOut == "" {
				return usageErrorf("nothing to write: give --html-report and/or --json")
			}
			if sims, err := simResultFiles(args); err != nil || sims {
				if err != nil {
					return err
				}
				return mergeSimResults(cmd.OutOrStdout(), args, htmlOut, jsonOut)
			}
			var runs []*reports.Conformance
			for _, path := range args {
				res, err := readResults(path)
				if err != nil {
					return err
				}
				runs = append(runs, res)
			}
			m, err := reports.NewMatrix(runs...)
			if err != nil {
				return err
			}
			if err := writeMatrix(m, htmlOut, jsonOut); err != nil {
				return err
			}
			printMatrixSummary(cmd.OutOrStdout(), m)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&htmlOut, "html-report", "", "write the matrix as HTML to this file")
	f.StringVar(&jsonOut, "json", "", "write the matrix (or the merged simulator result) as JSON to this file")
	return cmd
}

func newReportDiffCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "diff old.json new.json",
		Short: "List the verdicts that changed between two runs of a broker (exit 1 on regressions)",
		Long: `Compare two JSON results of the same broker spec by spec (MQTT version and
name) and list every changed verdict, regressions first: a spec that now fails
(or is down, or vanished), then fixes, new specs and other changes. The exit
status is 1 when there is at least one regression, 0 otherwise.`,
		Example: `  mqttspec report diff docs/old-mosquitto.json out/mosquitto.json`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			old, err := readResults(args[0])
			if err != nil {
				return err
			}
			cur, err := readResults(args[1])
			if err != nil {
				return err
			}
			d := reports.Diff(old, cur)
			if err := d.WriteText(cmd.OutOrStdout()); err != nil {
				return err
			}
			if n := d.Regressions(); n > 0 {
				return fmt.Errorf("%w: %d", errRegressions, n)
			}
			return nil
		},
	}
	return cmd
}

// readResults reads a JSON result file; a file that is not one is the
// user's mistake, so the error names it.
func readResults(path string) (*reports.Conformance, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	defer f.Close()
	res, err := reports.ReadJSON(f)
	if err != nil {
		return nil, usageErrorf("%s: %v", path, err)
	}
	return res, nil
}

func writeMatrix(m *reports.Matrix, htmlOut, jsonOut string) error {
	return errors.Join(
		writeFile(jsonOut, m.WriteJSON),
		writeFile(htmlOut, func(w io.Writer) error { return reports.WriteMatrixHTML(w, m) }),
	)
}

func printMatrixSummary(w io.Writer, m *reports.Matrix) {
	fmt.Fprintf(w, "%-20s %-6s", "broker", "result")
	for _, v := range reports.Verdicts {
		fmt.Fprintf(w, " %13s", v)
	}
	fmt.Fprintln(w)
	for _, b := range m.Brokers {
		result := "PASS"
		if b.Failed {
			result = "FAIL"
		}
		fmt.Fprintf(w, "%-20s %-6s", b.Label, result)
		for _, v := range reports.Verdicts {
			fmt.Fprintf(w, " %13d", b.Counts[v])
		}
		fmt.Fprintln(w)
	}
}
