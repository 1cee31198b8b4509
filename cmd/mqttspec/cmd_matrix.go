package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mqttspec/mqttspec/reports"
)

// matrixExecutable is the program the matrix runs once per broker: this
// one. Tests replace it.
var matrixExecutable = os.Executable

func newMatrixCmd() *cobra.Command {
	var (
		brokerNames          []string
		htmlOut, jsonOut     string
		jsonDir              string
		mqttVersions, filter string
		strict               bool
		timeout              time.Duration
	)
	cmd := &cobra.Command{
		Use:   "matrix --broker A --broker B ... --html-report F",
		Short: "Run the suite against several brokers and put the results side by side",
		Long: `Run the conformance suite against each --broker in turn, each run in its own
mqttspec process (the suite runs once per process), then merge the JSON
results into one matrix: statements × brokers and specs × brokers, every cell
linking to that broker's evidence, in one self-contained HTML file.

Broker names are those of 'mqttspec run --broker'. The per-broker JSON results
go to --json-dir (kept) or to a temporary directory (removed). The exit status
is 0 when every broker was tested, whatever the verdicts; 1 when a broker could
not be tested (the matrix then has the others).`,
		Example: `  mqttspec matrix --broker mosquitto --broker nats --broker rabbitmq --broker mochi \
    --broker reference-container --html-report matrix.html --json-dir out/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(brokerNames) == 0 {
				return usageErrorf("give at least one --broker")
			}
			if err := checkOutputDirs(htmlOut, jsonOut); err != nil {
				return err
			}
			if htmlOut == "" && jsonOut == "" {
				return usageErrorf("nothing to write: give --html-report and/or --json")
			}
			seen := map[string]bool{}
			for _, b := range brokerNames {
				if strings.TrimSpace(b) == "" {
					return usageErrorf("--broker: empty name")
				}
				if seen[b] {
					return usageErrorf("--broker %s: given twice", b)
				}
				seen[b] = true
			}
			exe, err := matrixExecutable()
			if err != nil {
				return fmt.Errorf("finding this program to run each broker: %w", err)
			}
			dir := jsonDir
			if dir == "" {
				if dir, err = os.MkdirTemp("", "mqttspec-matrix-"); err != nil {
					return err
				}
				defer os.RemoveAll(dir)
			} else if err := os.MkdirAll(dir, 0o755); err != nil {
				return usageErrorf("--json-dir: %v", err)
			}

			var runs []*reports.Conformance
			var failed []string
			usedNames := map[string]bool{}
			for i, b := range brokerNames {
				name := resultFileName(b)
				if usedNames[name] { // two profile files with one base name
					name = fmt.Sprintf("%d-%s", i+1, name)
				}
				usedNames[name] = true
				path := filepath.Join(dir, name)
				args := []string{"run", "--broker", b, "--json-report", path, "--html-report", "", "--mqtt", mqttVersions,
					"--timeout", timeout.String()}
				if filter != "" {
					args = append(args, "--label-filter", filter)
				}
				if strict {
					args = append(args, "--strict")
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "mqttspec matrix: %s: %s %s\n", b, filepath.Base(exe), strings.Join(args, " "))
				res, err := runBroker(cmd.Context(), exe, args, path, cmd)
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "mqttspec matrix: %s: %v\n", b, err)
					failed = append(failed, b)
					continue
				}
				runs = append(runs, res)
			}
			if len(runs) == 0 {
				return fmt.Errorf("no broker could be tested (%s)", strings.Join(failed, ", "))
			}
			m, err := reports.NewMatrix(runs...)
			if err != nil {
				return err
			}
			if err := writeMatrix(m, htmlOut, jsonOut); err != nil {
				return err
			}
			printMatrixSummary(cmd.OutOrStdout(), m)
			if len(failed) > 0 {
				return fmt.Errorf("%d of %d brokers could not be tested: %s", len(failed), len(brokerNames), strings.Join(failed, ", "))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&brokerNames, "broker", nil, "broker to test, as for 'mqttspec run --broker' (repeat for each column)")
	f.StringVar(&htmlOut, "html-report", "", "write the matrix as HTML to this file")
	f.StringVar(&jsonOut, "json", "", "write the matrix as JSON to this file")
	f.StringVar(&jsonDir, "json-dir", "", "keep each broker's JSON results in this directory (<broker>.json)")
	f.StringVar(&mqttVersions, "mqtt", "3.1.1,5", "MQTT versions to test, comma-separated: 3.1.1, 5")
	f.StringVar(&filter, "label-filter", "", "Ginkgo label filter for every run")
	f.BoolVar(&strict, "strict", false, "fail on broken SHOULD statements too")
	f.DurationVar(&timeout, "timeout", 10*time.Minute, "bound for each broker's run")
	return cmd
}

// runBroker runs one `mqttspec run` and reads its JSON. The child's exit
// status 1 only means the broker failed some specs; what counts is that it
// wrote its results.
func runBroker(ctx context.Context, exe string, args []string, jsonPath string, cmd *cobra.Command) (*reports.Conformance, error) {
	if err := os.Remove(jsonPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	child := exec.CommandContext(ctx, exe, args...)
	child.Stdout = cmd.ErrOrStderr() // the matrix's own stdout is its summary
	child.Stderr = cmd.ErrOrStderr()
	runErr := child.Run()
	f, err := os.Open(jsonPath)
	if err != nil {
		if runErr != nil {
			return nil, fmt.Errorf("the run failed (%v) and wrote no results", runErr)
		}
		return nil, fmt.Errorf("the run wrote no results: %w", err)
	}
	defer f.Close()
	res, err := reports.ReadJSON(f)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", jsonPath, err)
	}
	return res, nil
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// resultFileName is a broker's JSON file name: the broker name, or for a
// profile file its base name, made safe for a file system.
func resultFileName(broker string) string {
	name := filepath.Base(broker)
	for _, ext := range []string{".yaml", ".yml"} {
		name = strings.TrimSuffix(name, ext)
	}
	name = strings.Trim(unsafeFileChars.ReplaceAllString(name, "_"), "._")
	if name == "" {
		name = "broker"
	}
	return name + ".json"
}
