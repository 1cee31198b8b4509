package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/mqttspec/mqttspec/brokers"
	"github.com/mqttspec/mqttspec/reports"
	"github.com/mqttspec/mqttspec/simulator"
)

func newSimCmd() *cobra.Command {
	var (
		target, brokerName, scenarioArg, shardArg, jsonOut, htmlOut, progressMode, metricsAddr string
		cafile, cert, key                                                                      string
		nodes, sources                                                                         int
		duration, drain                                                                        time.Duration
		seed                                                                                   uint64
		printScenario                                                                          bool
	)
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Simulate a fleet of home-automation devices against a broker and account for every message",
		Long: `Simulate a fleet of home-automation devices: homes with rooms (Küche,
Wohnzimmer, Schlafzimmer, Bad, Flur), sensors publishing on topics such as
Long-Home/Küche/Temperatur, wall switches commanding lights that answer with
their state. Observers subscribe with wildcards and count every message:
lost, duplicated and reordered per QoS, and latency from the moment each
message should have been sent (open loop, no coordinated omission).

Without --target or --broker it starts the reference broker in this process.
--target takes tcp://, ssl:// (with --cafile, and --cert/--key for the
observers), ws://host:port/path or wss://; per-device credentials and client
certificates come from the scenario (see --print-scenario).
The exit status is 1 when a QoS 1/2 guarantee was broken or the run could
not be completed.`,
		Example: `  mqttspec sim --nodes 2000 --duration 30s
  mqttspec sim --target tcp://127.0.0.1:1883 --scenario my-fleet.yaml --json result.json
  mqttspec sim --target ssl://127.0.0.1:8883 --cafile ca.crt --cert observer.crt --key observer.key --scenario certs.yaml
  mqttspec sim --nodes 2000 --duration 30s --html-report sim.html
  mqttspec sim --nodes 100000 --shard 0/5 --json shard-0.json
  mqttspec report merge shard-*.json --json merged.json --html-report fleet.html
  mqttspec sim --print-scenario > my-fleet.yaml   # the built-in scenario, to edit`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if printScenario {
				src, err := simulator.BuiltinScenarioYAML(scenarioArg)
				if err != nil {
					return usageErrorf("--print-scenario: %v", err)
				}
				_, err = cmd.OutOrStdout().Write(src)
				return err
			}
			if target != "" && brokerName != "" {
				return usageErrorf("--target and --broker exclude each other")
			}
			if err := checkOutputDirs(jsonOut, htmlOut); err != nil {
				return err
			}
			if nodes < 0 {
				return usageErrorf("--nodes %d: must be positive", nodes)
			}
			if duration < 0 {
				return usageErrorf("--duration %s: must be positive", duration)
			}
			sc, err := loadSimScenario(scenarioArg)
			if err != nil {
				return usageErrorf("--scenario: %v", err)
			}
			var shard simulator.Shard
			if shardArg != "" {
				if shard, err = simulator.ParseShard(shardArg); err != nil {
					return usageErrorf("--shard: %v", err)
				}
			} else if idx, n := os.Getenv("JOB_COMPLETION_INDEX"), os.Getenv("JOB_COMPLETIONS"); idx != "" && n != "" {
				// A Kubernetes Indexed Job: each pod takes its index's shard.
				if shard, err = simulator.ParseShard(idx + "/" + n); err != nil {
					return usageErrorf("JOB_COMPLETION_INDEX=%s, JOB_COMPLETIONS=%s: %v", idx, n, err)
				}
			}
			switch progressMode {
			case "auto", "line", "plain", "off":
			default:
				return usageErrorf("--progress %q: want auto, line, plain or off", progressMode)
			}
			// The fleet is checked before a broker is started for it.
			if _, err := simulator.NewFleet(sc, nodes, shard); err != nil {
				return usageErrorf("%v", err)
			}

			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			url := target
			tlsConf, err := clientTLS(cafile, cert, key)
			if err != nil {
				return usageErrorf("%v", err)
			}
			if lt := strings.ToLower(target); tlsConf != nil && !strings.HasPrefix(lt, "ssl://") && !strings.HasPrefix(lt, "wss://") {
				return usageErrorf("--cafile, --cert and --key need an ssl:// or wss:// --target")
			}
			if target != "" {
				if _, err := brokers.FromURL(target, tlsConf); err != nil {
					return usageErrorf("--target: %v", err)
				}
			} else {
				tg, err := startSimBroker(ctx, brokerName)
				if err != nil {
					return err
				}
				defer func() {
					sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					if err := tg.Close(sctx); err != nil {
						fmt.Fprintf(cmd.ErrOrStderr(), "mqttspec: stopping %s: %v\n", tg.Name, err)
					}
				}()
				url = tg.Endpoint.URL
			}

			out := cmd.OutOrStdout()
			var metrics *simulator.Metrics
			if metricsAddr != "" {
				metrics = simulator.NewMetrics()
				stopMetrics, err := serveSimMetrics(metricsAddr, metrics, out)
				if err != nil {
					return err
				}
				defer stopMetrics()
			}
			pr := newSimProgress(out, progressMode)
			res, runErr := simulator.Run(ctx, simulator.Options{Scenario: sc, Nodes: nodes, Shard: shard, Seed: seed,
				Duration: duration, Target: url, TLS: tlsConf, Drain: drain, Progress: pr.update, SourceAddresses: sources, Metrics: metrics})
			pr.finish()
			if res != nil {
				res.WriteSummary(out)
				if jsonOut != "" {
					if err := writeSimJSON(res, jsonOut); err != nil {
						return errors.Join(runErr, err)
					}
				}
				if htmlOut != "" {
					if err := writeSimHTML(res, htmlOut); err != nil {
						return errors.Join(runErr, err)
					}
				}
			}
			if runErr != nil {
				return runErr
			}
			if n := res.Violations(); n > 0 {
				return fmt.Errorf("the broker broke %d delivery guarantees (see the accounting above)", n)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&target, "target", "", "broker URL, tcp://host:port or ssl://host:port (default: the in-process reference broker)")
	f.StringVar(&cafile, "cafile", "", "CA certificates (PEM) to trust for an ssl:// target")
	f.StringVar(&cert, "cert", "", "client certificate (PEM) for an ssl:// target: the observers', and the devices' unless the scenario's connection.tls names one per device")
	f.StringVar(&key, "key", "", "the --cert's private key (PEM)")
	f.StringVar(&brokerName, "broker", "", "broker to start: reference (default, in-process), mosquitto-local, a container profile or profile .yaml (see mqttspec run --help)")
	f.StringVar(&scenarioArg, "scenario", "home", "scenario YAML file, or the name of a built-in scenario (home)")
	f.IntVar(&nodes, "nodes", 0, "fleet size in devices, replacing the scenario's (28 devices per home in the home scenario)")
	f.DurationVar(&duration, "duration", 0, "publishing time, replacing the scenario's")
	f.DurationVar(&drain, "drain", 10*time.Second, "after publishing, wait at most this long for acknowledgements and deliveries under way")
	f.Uint64Var(&seed, "seed", 1, "seed of the device values, jitter and QoS choices")
	f.StringVar(&shardArg, "shard", "", "run only shard i of n (i/n): homes h with h mod n = i (default: from JOB_COMPLETION_INDEX/JOB_COMPLETIONS when set)")
	f.StringVar(&jsonOut, "json", "", "write the result (schema mqttspec.sim/v1, mergeable histograms) to this file")
	f.StringVar(&htmlOut, "html-report", "", "write the HTML report (summary, accounting, percentiles, rate and latency over time) to this file")
	f.StringVar(&metricsAddr, "metrics", "", "serve Prometheus metrics at http://ADDR/metrics while the run lasts (e.g. 127.0.0.1:9101)")
	f.StringVar(&progressMode, "progress", "auto", "live progress: auto (a refreshing line on a terminal, plain lines otherwise), line, plain, off")
	f.BoolVar(&printScenario, "print-scenario", false, "print the built-in scenario's YAML (see --scenario) and exit")
	f.IntVar(&sources, "source-addresses", 64, "for a 127.x target, spread connections over 127.0.0.1..N to pass the ephemeral port limit")
	return cmd
}

// loadSimScenario takes a file, or a built-in scenario's name.
func loadSimScenario(arg string) (*simulator.Scenario, error) {
	if _, err := os.Stat(arg); err == nil {
		return simulator.LoadScenario(arg)
	}
	if sc, err := simulator.BuiltinScenario(arg); err == nil {
		return sc, nil
	}
	return nil, fmt.Errorf("%q is neither a file nor a built-in scenario (built-in: home)", arg)
}

// startSimBroker starts the broker to simulate against. The in-process
// reference broker logs only warnings: a fleet's connects at debug level
// would cost more than the broker's work.
func startSimBroker(ctx context.Context, name string) (*brokers.Target, error) {
	if name == "" || name == "reference" {
		tg, err := brokers.StartReference(ctx, brokers.ReferenceOptions{LogLevel: slog.LevelWarn})
		if err != nil {
			return nil, fmt.Errorf("starting the reference broker: %w", err)
		}
		return tg, nil
	}
	return startBroker(ctx, name)
}

func writeSimJSON(res *simulator.Result, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := res.WriteJSON(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

// simProgress shows live progress: one refreshing line on a terminal,
// plain lines every few seconds otherwise (CI logs, pipes).
type simProgress struct {
	w        io.Writer
	line     bool
	off      bool
	lastLine time.Time
	wrote    bool
}

func newSimProgress(w io.Writer, mode string) *simProgress {
	p := &simProgress{w: w}
	switch mode {
	case "off":
		p.off = true
	case "line":
		p.line = true
	case "auto":
		if f, ok := w.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				p.line = true
			}
		}
	}
	return p
}

func (p *simProgress) update(pr simulator.Progress) {
	if p.off {
		return
	}
	text := fmt.Sprintf("%6.1fs %-10s connected %d/%d  sent %d  received %d  %.0f msg/s  p99 %.1f ms  errors %d",
		pr.Elapsed.Seconds(), pr.Phase, pr.Connected, pr.Nodes, pr.Sent, pr.Received, pr.Rate,
		float64(pr.P99)/float64(time.Millisecond), pr.Errors)
	if p.line {
		fmt.Fprintf(p.w, "\r%s\x1b[K", text)
		p.wrote = true
		return
	}
	if time.Since(p.lastLine) >= 5*time.Second || pr.Phase == "done" {
		fmt.Fprintln(p.w, text)
		p.lastLine = time.Now()
	}
}

func (p *simProgress) finish() {
	if p.line && p.wrote {
		fmt.Fprintln(p.w)
	}
}

// isSimResult tells a simulator result file (mqttspec.sim/…) from a
// conformance one by its "schema" field.
func isSimResult(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, usageErrorf("%v", err)
	}
	defer f.Close()
	var probe struct {
		Schema string `json:"schema"`
	}
	if err := json.NewDecoder(f).Decode(&probe); err != nil {
		return false, usageErrorf("%s: not a JSON result: %v", path, err)
	}
	return strings.HasPrefix(probe.Schema, "mqttspec.sim/"), nil
}

// simResultFiles reports whether the files are simulator results; a mix
// of simulator and conformance results is a usage error.
func simResultFiles(paths []string) (bool, error) {
	var sims []string
	var others []string
	for _, p := range paths {
		sim, err := isSimResult(p)
		if err != nil {
			return false, err
		}
		if sim {
			sims = append(sims, p)
		} else {
			others = append(others, p)
		}
	}
	if len(sims) > 0 && len(others) > 0 {
		return false, usageErrorf("cannot merge simulator results (%s) with other results (%s)",
			strings.Join(sims, ", "), strings.Join(others, ", "))
	}
	return len(sims) > 0, nil
}

func readSimResult(path string) (*simulator.Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	defer f.Close()
	res, err := simulator.ReadResult(f)
	if err != nil {
		return nil, usageErrorf("%s: %v", path, err)
	}
	res.Source = path
	return res, nil
}

func renderSimResult(path, htmlOut, jsonOut, junitOut string) error {
	if junitOut != "" {
		return usageErrorf("--junit-report: %s is a simulator result, which has no JUnit form", path)
	}
	res, err := readSimResult(path)
	if err != nil {
		return err
	}
	if jsonOut != "" {
		if err := writeSimJSON(res, jsonOut); err != nil {
			return err
		}
	}
	if htmlOut != "" {
		return writeSimHTML(res, htmlOut)
	}
	return nil
}

// mergeSimResults adds the shards of one fleet into one result.
func mergeSimResults(out io.Writer, paths []string, htmlOut, jsonOut string) error {
	var parts []*simulator.Result
	for _, p := range paths {
		res, err := readSimResult(p)
		if err != nil {
			return err
		}
		parts = append(parts, res)
	}
	merged, err := simulator.Merge(parts...)
	if err != nil {
		// Results of different runs, or a shard twice: the user's choice of
		// files, which the error names.
		return usageErrorf("report merge: %v", err)
	}
	merged.WriteSummary(out)
	if missing := merged.MissingShards(); len(missing) > 0 {
		fmt.Fprintf(out, "NOTE: shards %s of the fleet are missing: the totals cover only the shards given\n", strings.Join(missing, ", "))
	}
	if jsonOut != "" {
		if err := writeSimJSON(merged, jsonOut); err != nil {
			return err
		}
	}
	if htmlOut != "" {
		return writeSimHTML(merged, htmlOut)
	}
	return nil
}

func writeSimHTML(res *simulator.Result, path string) error {
	model, err := res.Report(reports.ToolInfo{Name: "mqttspec", Version: versionString()})
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := reports.WriteSimHTML(f, model); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

// serveSimMetrics serves /metrics on addr until the returned stop is
// called. The address actually bound is printed (":0" picks a port).
func serveSimMetrics(addr string, m *simulator.Metrics, out io.Writer) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, usageErrorf("--metrics %s: %v", addr, err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(m, collectors.NewGoCollector())
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	fmt.Fprintf(out, "metrics: http://%s/metrics\n", ln.Addr())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}
