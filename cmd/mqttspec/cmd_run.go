package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/mqttspec/mqttspec/brokers"
	"github.com/mqttspec/mqttspec/reference/packet"
	"github.com/mqttspec/mqttspec/reports"
	"github.com/mqttspec/mqttspec/specs"
	"github.com/mqttspec/mqttspec/specs/catalogue"
)

// The catalogue command lists coverage from the specs built into this
// binary.
func init() {
	specCitations = func() []catalogue.Citation {
		c, err := specs.Citations()
		if err != nil {
			return nil
		}
		return c
	}
}

// defaultHTMLReport is where `mqttspec run` writes its HTML report unless
// told otherwise: the report is what people read, so a run without flags
// leaves one behind.
const defaultHTMLReport = "mqttspec-report.html"

// errChecksFailed makes the exit code 1 after the reports are written.
var errChecksFailed = errors.New("conformance: at least one MUST statement is broken")

func newRunCmd() *cobra.Command {
	var (
		target, cafile, cert, key string
		mqttVersions              string
		labelFilter               string
		strict, verbose           bool
		htmlOut, jsonOut, junit   string
		timeout                   time.Duration
		brokerName, targetFile    string
		expectFile, writeExpect   string
		username, password        string
	)
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the conformance suite against a broker (default: the in-process reference broker)",
		Long: `Run the MQTT 3.1.1 / 5.0 conformance suite. Without --target it starts the
reference broker in this process and tests it. Each spec names the normative
statements it checks; the exit status is 0 only when no MUST statement is broken
(with --strict, SHOULD statements count too).`,
		Example: `  mqttspec run --html-report report.html
  mqttspec run --target tcp://127.0.0.1:1883 --mqtt 5 --json-report results.json
  mqttspec run --target ssl://broker:8883 --cafile ca.crt --label-filter 'MQTT-3.3.1-4'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			versions, err := parseVersions(mqttVersions)
			if err != nil {
				return usageErrorf("--mqtt: %v", err)
			}
			if err := checkOutputDirs(htmlOut, jsonOut, junit, writeExpect); err != nil {
				return err
			}
			ctx := cmd.Context()
			if n := countSet(target, brokerName, targetFile); n > 1 {
				return usageErrorf("--target, --target-file and --broker exclude each other")
			}
			if (username != "" || password != "") && target == "" {
				return usageErrorf("--username and --password go with --target (a target file or profile has login:)")
			}
			var tg *brokers.Target
			switch {
			case targetFile != "":
				if tg, err = brokers.LoadTargetFile(targetFile); err != nil {
					return usageErrorf("%v", err)
				}
				pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				err = tg.Alive(pctx)
				cancel()
				if err != nil {
					return fmt.Errorf("target %s does not answer a CONNECT: %w", tg.Endpoint.URL, err)
				}
			case target != "":
				tlsConf, err := clientTLS(cafile, cert, key)
				if err != nil {
					return usageErrorf("%v", err)
				}
				if tg, err = brokers.FromURL(target, tlsConf); err != nil {
					return usageErrorf("--target: %v", err)
				}
				if password == "" {
					password = os.Getenv("MQTTSPEC_PASSWORD")
				}
				if username != "" {
					tg.Login = &brokers.Credential{Username: username, Password: password}
				} else if password != "" {
					return usageErrorf("--password (or MQTTSPEC_PASSWORD) needs --username")
				}
				pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				err = tg.Alive(pctx)
				cancel()
				if err != nil {
					return fmt.Errorf("target %s does not answer a CONNECT: %w", target, err)
				}
			default:
				// An interrupt (or SIGTERM) stops what was started, a container
				// above all, before the process ends.
				sigCtx, stopSignals := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
				defer stopSignals()
				if tg, err = startBroker(sigCtx, brokerName); err != nil {
					if sigCtx.Err() != nil {
						return fmt.Errorf("interrupted while starting the broker: %w", err)
					}
					return err
				}
				closeTarget := sync.OnceFunc(func() {
					sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					if err := tg.Close(sctx); err != nil {
						fmt.Fprintf(cmd.ErrOrStderr(), "mqttspec: stopping %s: %v\n", tg.Name, err)
					}
				})
				defer closeTarget()
				go func() {
					// On a signal, or (harmlessly) when the run ends: a second
					// interrupt then ends the process the default way.
					<-sigCtx.Done()
					closeTarget()
					stopSignals()
				}()
			}
			res, err := specs.Run(ctx, specs.Options{Target: tg, Versions: versions, LabelFilter: labelFilter,
				Timeout: timeout, Verbose: verbose, ToolVersion: versionString()})
			if err != nil {
				return err
			}
			res.Strict = strict
			if err := writeReports(res, htmlOut, jsonOut, junit); err != nil {
				return err
			}
			printSummary(cmd, res)
			for _, out := range []struct{ what, path string }{{"HTML report", htmlOut}, {"JSON results", jsonOut}, {"JUnit XML", junit}} {
				if out.path != "" {
					fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", out.what, out.path)
				}
			}
			if writeExpect != "" {
				if err := writeExpectations(res, writeExpect); err != nil {
					return err
				}
			}
			if expectFile != "" {
				// Compared with known verdicts, a run fails only when a verdict
				// changes: known failures are recorded, not hidden.
				return checkExpectations(cmd, res, expectFile)
			}
			if res.ExitCode(strict) != 0 {
				return errChecksFailed
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&target, "target", "", "broker URL: tcp://host:port, ssl://host:port (default: in-process reference broker)")
	f.StringVar(&cafile, "cafile", "", "CA certificates (PEM) to trust for ssl:// targets")
	f.StringVar(&cert, "cert", "", "client certificate (PEM) for ssl:// targets")
	f.StringVar(&key, "key", "", "client private key (PEM)")
	f.StringVar(&username, "username", "", "user name every spec client sends, for a --target without anonymous access (the password: --password or MQTTSPEC_PASSWORD)")
	f.StringVar(&password, "password", "", "password for --username (prefer MQTTSPEC_PASSWORD: a flag shows in the process list); reports show it as ***")
	f.StringVar(&mqttVersions, "mqtt", "3.1.1,5", "MQTT versions to test, comma-separated: 3.1.1, 5")
	f.StringVar(&labelFilter, "label-filter", "", "Ginkgo label filter, e.g. 'MQTT-3.3.1-4' or 'mqtt-5.0 && !MQTT-4.7.1-1'")
	f.BoolVar(&strict, "strict", false, "fail on broken SHOULD statements too")
	f.BoolVar(&verbose, "verbose", false, "print every spec as it runs")
	f.StringVar(&htmlOut, "html-report", defaultHTMLReport, `write the HTML report to this file ("" for none)`)
	f.StringVar(&jsonOut, "json-report", "", "write the JSON results to this file")
	f.StringVar(&junit, "junit-report", "", "write JUnit XML to this file")
	f.DurationVar(&timeout, "timeout", 10*time.Minute, "bound for the whole run")
	f.StringVar(&targetFile, "target-file", "", "YAML file describing a running broker: URL, capabilities, users, ACL topics and client certificate for the auth specs (see brokers/targetfile.go)")
	f.StringVar(&brokerName, "broker", "", "broker to start and test: reference (default, in-process), mosquitto-local (Debian's mosquitto as a local process), a container from a built-in profile (mosquitto, nats, rabbitmq, mochi, reference-container: images from make images) or from a profile .yaml file")
	f.StringVar(&expectFile, "expect", "", "expected-verdicts file: exit 1 only when a verdict differs from it")
	f.StringVar(&writeExpect, "write-expect", "", "write this run's verdicts as an expected-verdicts file (keeps existing notes)")
	return cmd
}

func parseVersions(s string) ([]packet.Version, error) {
	var out []packet.Version
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		v, err := packet.ParseVersion(part)
		if err != nil {
			return nil, err
		}
		if v == packet.V31 {
			return nil, errors.New("the suite covers 3.1.1 and 5.0; 3.1 is not supported")
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, errors.New("no version given")
	}
	return out, nil
}

func clientTLS(cafile, cert, key string) (*tls.Config, error) {
	if cafile == "" && cert == "" && key == "" {
		return nil, nil
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if cafile != "" {
		pem, err := os.ReadFile(cafile)
		if err != nil {
			return nil, fmt.Errorf("--cafile: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--cafile %s: no PEM certificate found", cafile)
		}
		conf.RootCAs = pool
	}
	if (cert == "") != (key == "") {
		return nil, errors.New("--cert and --key go together")
	}
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("--cert/--key: %w", err)
		}
		conf.Certificates = []tls.Certificate{pair}
	}
	return conf, nil
}

func writeReports(res *reports.Conformance, htmlOut, jsonOut, junit string) error {
	return errors.Join(
		writeFile(jsonOut, func(w io.Writer) error { return res.WriteJSON(w) }),
		writeFile(junit, func(w io.Writer) error { return reports.WriteJUnit(w, res) }),
		writeFile(htmlOut, func(w io.Writer) error { return reports.WriteHTML(w, res) }),
	)
}

// writeFile renders into the file at path; an empty path writes nothing.
func writeFile(path string, render func(w io.Writer) error) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := render(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

func printSummary(cmd *cobra.Command, res *reports.Conformance) {
	s := res.Summary()
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "\nmqttspec: %s — %d specs:", res.Target.Name, len(res.Specs))
	for _, v := range reports.Verdicts {
		if n := s.ByVerdict[v]; n > 0 {
			fmt.Fprintf(w, " %d %s", n, v)
		}
	}
	fmt.Fprintln(w)
	for _, sp := range res.Specs {
		if sp.Verdict == reports.VerdictFail || (res.Strict && sp.Verdict == reports.VerdictNonStrict) {
			fmt.Fprintf(w, "  FAIL [%s] %s\n       %s\n", strings.Join(statementIDs(sp), " "), sp.Name, sp.Message)
		}
	}
}

func statementIDs(sp reports.Spec) []string {
	out := make([]string, 0, len(sp.Statements))
	for _, s := range sp.Statements {
		out = append(out, s.ID)
	}
	return out
}

// startBroker starts a named broker as the target.
func startBroker(ctx context.Context, name string) (*brokers.Target, error) {
	switch name {
	case "", "reference":
		tg, err := brokers.StartReference(ctx, brokers.ReferenceOptions{})
		if err != nil {
			return nil, fmt.Errorf("starting the reference broker: %w", err)
		}
		return tg, nil
	case "mosquitto-local":
		return brokers.StartMosquitto(ctx)
	}
	// Any other name is a built-in container profile, or a profile file.
	// "reference" is the in-process broker; its container profile is
	// reference-container here.
	profile := name
	if name == "reference-container" {
		profile = "reference"
	}
	p, err := brokers.LoadProfile(profile)
	if err != nil {
		if !strings.HasSuffix(name, ".yaml") && !strings.HasSuffix(name, ".yml") && !strings.Contains(name, "/") {
			return nil, usageErrorf("--broker %q: unknown broker; one of %s, or a profile .yaml file", name, strings.Join(brokerNames(), ", "))
		}
		return nil, usageErrorf("--broker: %v", err)
	}
	// testcontainers prints the Docker engine's details to stderr otherwise.
	tclog.SetDefault(tclog.NewNoopLogger())
	tg, err := brokers.StartContainer(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	return tg, nil
}

// brokerNames lists what --broker accepts besides a profile file.
func brokerNames() []string {
	names := []string{"reference (in-process, the default)", "mosquitto-local"}
	for _, b := range brokers.BuiltinProfiles() {
		if b == "reference" {
			b = "reference-container"
		}
		names = append(names, b)
	}
	return names
}

func writeExpectations(res *reports.Conformance, path string) error {
	var prev *reports.Expectations
	if f, err := os.Open(path); err == nil {
		prev, _ = reports.ReadExpectations(f)
		f.Close()
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := reports.ExpectationsFrom(res, prev).WriteJSON(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func checkExpectations(cmd *cobra.Command, res *reports.Conformance, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return usageErrorf("--expect: %v", err)
	}
	exp, err := reports.ReadExpectations(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("--expect %s: %w", path, err)
	}
	changes := reports.Compare(exp, res)
	if len(changes) == 0 {
		fmt.Fprintf(cmd.OutOrStdout(), "all %d verdicts as expected (%s)\n", len(res.Specs), path)
		return nil
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%d verdicts differ from %s:\n", len(changes), path)
	for _, c := range changes {
		fmt.Fprintf(cmd.OutOrStdout(), "  %s\n", c)
	}
	return fmt.Errorf("%d verdicts differ from the expected ones in %s", len(changes), path)
}

func countSet(values ...string) int {
	n := 0
	for _, v := range values {
		if v != "" {
			n++
		}
	}
	return n
}
