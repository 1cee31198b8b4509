package main

import (
	"github.com/spf13/cobra"
)

// newReportCheckCmd compares saved results with an expected-verdicts file,
// as `mqttspec run --expect` does for a fresh run: CI runs the matrix once
// and then checks each broker's results against its own file.
func newReportCheckCmd() *cobra.Command {
	var expectFile string
	cmd := &cobra.Command{
		Use:   "check results.json --expect expected.json",
		Short: "Compare a JSON result file with an expected-verdicts file (exit 1 when a verdict differs)",
		Example: `  mqttspec matrix --broker mosquitto --broker nats --json-dir out/ --html-report out/matrix.html
  mqttspec report check out/mosquitto.json --expect docs/results/mosquitto-2.0.11.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if expectFile == "" {
				return usageErrorf("--expect is required")
			}
			res, err := readResults(args[0])
			if err != nil {
				return err
			}
			return checkExpectations(cmd, res, expectFile)
		},
	}
	cmd.Flags().StringVar(&expectFile, "expect", "", "expected-verdicts file (docs/results/*.json; `mqttspec run --write-expect` writes one)")
	return cmd
}
