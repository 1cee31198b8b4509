package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/mqttspec/mqttspec/brokers"
	"github.com/mqttspec/mqttspec/fuzz"
	"github.com/mqttspec/mqttspec/reports"
)

// errFindings makes the exit code 1 once the summary is written.
var errFindings = errors.New("fuzz: the broker has findings")

// errReproduced makes replay exit 1: the bug is still there.
var errReproduced = errors.New("fuzz replay: the finding reproduces")

// targetFlags choose the broker a fuzz command talks to.
type targetFlags struct {
	target, broker, cafile, cert, key string
	username, password                string
}

func (f *targetFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.target, "target", "", "broker URL: tcp://host:port, ssl://host:port, ws://host:port/path (default: the in-process reference broker)")
	fl.StringVar(&f.broker, "broker", "", "broker to start: reference (default, in-process), mosquitto-local, or a container profile (mosquitto, nats, rabbitmq, mochi, reference-container, or a .yaml file)")
	fl.StringVar(&f.cafile, "cafile", "", "CA certificates (PEM) to trust for ssl:// targets")
	fl.StringVar(&f.cert, "cert", "", "client certificate (PEM) for ssl:// targets")
	fl.StringVar(&f.key, "key", "", "client private key (PEM)")
	fl.StringVar(&f.username, "username", "", "user name the fuzzer's CONNECTs and health checks send, for a broker without anonymous access (the password: MQTTSPEC_PASSWORD or --password)")
	fl.StringVar(&f.password, "password", "", "password for --username (prefer MQTTSPEC_PASSWORD: a flag shows in the process list)")
}

func (f *targetFlags) check() error {
	if f.target != "" && f.broker != "" {
		return usageErrorf("--target and --broker exclude each other")
	}
	if f.password == "" {
		f.password = os.Getenv("MQTTSPEC_PASSWORD")
	}
	if f.username == "" && f.password != "" && f.target != "" {
		return usageErrorf("--password (or MQTTSPEC_PASSWORD) needs --username")
	}
	return nil
}

// login is the credential --username asks for, or nil.
func (f *targetFlags) login() *brokers.Credential {
	if f.username == "" {
		return nil
	}
	return &brokers.Credential{Username: f.username, Password: f.password}
}

// open returns the target and a function that stops what was started.
// The in-process reference broker logs at warning level only: per-connection
// debug logs would cost more than the fuzzing itself.
func (f *targetFlags) open(ctx context.Context) (*brokers.Target, func(), error) {
	noop := func() {}
	if f.target != "" {
		tlsConf, err := clientTLS(f.cafile, f.cert, f.key)
		if err != nil {
			return nil, noop, usageErrorf("%v", err)
		}
		tg, err := brokers.FromURL(f.target, tlsConf)
		if err != nil {
			return nil, noop, usageErrorf("--target: %v", err)
		}
		tg.Login = f.login()
		return tg, noop, nil
	}
	var tg *brokers.Target
	var err error
	if f.broker == "" || f.broker == "reference" {
		tg, err = brokers.StartReference(ctx, brokers.ReferenceOptions{LogLevel: slog.LevelWarn})
		if err != nil {
			err = fmt.Errorf("starting the reference broker: %w", err)
		}
	} else {
		tg, err = startBroker(ctx, f.broker)
	}
	if err != nil {
		return nil, noop, err
	}
	if l := f.login(); l != nil {
		tg.Login = l // else what the profile says
	}
	stop := sync.OnceFunc(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		tg.Close(sctx)
	})
	return tg, stop, nil
}

func newFuzzCmd() *cobra.Command {
	var (
		tf                       targetFlags
		duration                 time.Duration
		maxExecs                 int64
		workers                  int
		seed                     uint64
		findingsDir, jsonOut     string
		htmlOut, shardArg        string
		mqttVersions             string
		execTimeout, hangTimeout time.Duration
		maxRestarts              int
		memGrowthArg             string
		memoryEvery              time.Duration
	)
	cmd := &cobra.Command{
		Use:   "fuzz",
		Short: "Fuzz a broker's packet parser over the network (default: the in-process reference broker)",
		Long: `fuzz sends valid MQTT 3.1.1 and 5.0 sessions, mutated at field and byte level,
to a broker, each on a fresh connection, and keeps the inputs that make the
broker behave in a new way. It reports:

  crash              the broker stopped accepting connections
  hang               a fresh connection's CONNECT and PINGREQ round trips exceed --hang-timeout
  spec-violation     the broker answered after a packet the specification obliges it to
                     close the connection on (with the statement ID)
  malformed-response the broker sent a packet the strict codec rejects
  resource-growth    a container's memory grew by more than --max-memory-growth

Each finding is saved once, as a JSON reproducer in --findings. After a crash
or hang a container target (--broker NAME) is restarted, up to --max-restarts
times, and fuzzing goes on at its new address; any other target ends the run.
The run stops after --duration or --max-execs, whichever comes first; the same
--seed gives the same inputs (for one worker, exactly).

--shard i/n splits one campaign (one --seed) between n runs, on one machine or
several (in a Kubernetes Indexed Job, JOB_COMPLETION_INDEX and JOB_COMPLETIONS
choose the shard): each draws its own inputs; give every shard the same
--workers. mqttspec fuzz merge then joins their findings directories.

The default target, the reference broker in this process, shares the process
with the fuzzer: a panic in it ends both (its parser is also covered by native
Go fuzz targets). For crash isolation run it apart, e.g. mqttspec broker in
another shell with --target, or --broker reference-container.

Exit status: 0 without findings, 1 with findings, 2 for a usage error.`,
		Example: `  mqttspec fuzz --duration 30s
  mqttspec fuzz --target tcp://127.0.0.1:1883 --duration 10m --findings findings --workers 4
  mqttspec fuzz --broker mosquitto-local --max-execs 100000 --seed 7 --json summary.json
  mqttspec fuzz --broker mosquitto --duration 1h --max-memory-growth 256MiB --html-report fuzz.html
  mqttspec fuzz --target tcp://127.0.0.1:1883 --seed 9 --shard 0/4 --findings shard-0 --duration 30m
  mqttspec fuzz merge shard-0 shard-1 shard-2 shard-3 -o findings
  mqttspec fuzz replay findings/crash-0123456789ab.json --target tcp://127.0.0.1:1883`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := tf.check(); err != nil {
				return err
			}
			if err := checkOutputDirs(jsonOut, htmlOut); err != nil {
				return err
			}
			if duration <= 0 && maxExecs <= 0 {
				return usageErrorf("--duration or --max-execs must be positive, so the run stops by itself")
			}
			if workers < 1 || workers > 256 {
				return usageErrorf("--workers %d: want 1 to 256", workers)
			}
			versions, err := parseVersions(mqttVersions)
			if err != nil {
				return usageErrorf("--mqtt: %v", err)
			}
			shard, shards := 0, 1
			if shardArg != "" {
				if shard, shards, err = fuzz.ParseShard(shardArg); err != nil {
					return usageErrorf("--shard: %v", err)
				}
			} else if idx, n := os.Getenv("JOB_COMPLETION_INDEX"), os.Getenv("JOB_COMPLETIONS"); idx != "" && n != "" {
				// A Kubernetes Indexed Job: each pod takes its index's shard.
				if shard, shards, err = fuzz.ParseShard(idx + "/" + n); err != nil {
					return usageErrorf("JOB_COMPLETION_INDEX=%s, JOB_COMPLETIONS=%s: %v", idx, n, err)
				}
			}
			memGrowth, err := parseBytes(memGrowthArg)
			if err != nil {
				return usageErrorf("--max-memory-growth: %v", err)
			}
			if maxRestarts < 0 {
				return usageErrorf("--max-restarts %d: want 0 or more", maxRestarts)
			}
			if memoryEvery <= 0 {
				return usageErrorf("--memory-every %v: want a positive duration", memoryEvery)
			}
			// Thousands of short executions a second make garbage at a high
			// rate while the live heap stays small (the corpus): collect
			// less often, at the price of some memory.
			defer debug.SetGCPercent(debug.SetGCPercent(400))
			ctx, stopSignals := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stopSignals()
			tg, stop, err := tf.open(ctx)
			if err != nil {
				return err
			}
			defer stop()
			if tg.ContainerID() == "" && !cmd.Flags().Changed("max-memory-growth") {
				memGrowth = 0 // only the Docker engine reports a broker's memory
			}
			cfg := fuzz.Config{Target: tg, Duration: duration, MaxExecs: maxExecs, Workers: workers, Seed: seed,
				Versions: versions, FindingsDir: findingsDir, ExecTimeout: execTimeout, HangTimeout: hangTimeout,
				MaxRestarts: maxRestarts, Shard: shard, Shards: shards, MaxMemoryGrowth: memGrowth, MemoryEvery: memoryEvery}
			shardNote := ""
			if l := cfg.ShardLabel(); l != "" {
				shardNote = ", shard " + l
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "mqttspec: fuzzing %s (%s) with seed %d%s, %d worker(s)\n", tg.Name, tg.Endpoint.URL, seed, shardNote, workers)
			sum, err := fuzz.Run(ctx, cfg)
			if err != nil && sum == nil {
				return err
			}
			printFuzzSummary(cmd.OutOrStdout(), sum)
			if jsonOut != "" {
				if werr := writeJSONFile(cmd.OutOrStdout(), jsonOut, sum.WriteJSON); werr != nil {
					return werr
				}
			}
			if htmlOut != "" {
				model := sum.Report(reports.ToolInfo{Name: "mqttspec", Version: version}, htmlOut)
				if werr := writeJSONFile(cmd.OutOrStdout(), htmlOut, func(w io.Writer) error { return reports.WriteFuzzHTML(w, model) }); werr != nil {
					return werr
				}
			}
			if err != nil {
				return err
			}
			if len(sum.Findings) > 0 {
				return errFindings
			}
			return nil
		},
	}
	tf.register(cmd)
	f := cmd.Flags()
	f.DurationVar(&duration, "duration", time.Minute, "stop after this long (0: only --max-execs bounds the run)")
	f.Int64Var(&maxExecs, "max-execs", 0, "stop after this many executions (0: only --duration bounds the run)")
	f.IntVar(&workers, "workers", 8, "parallel connections (the fuzzer mostly waits on the network: more workers than cores pay off)")
	f.Uint64Var(&seed, "seed", 1, "seed of the input generator")
	f.StringVar(&findingsDir, "findings", "fuzz-findings", "directory for the reproducer files")
	f.StringVar(&jsonOut, "json", "", "write the JSON summary to this file (- for standard output)")
	f.StringVar(&mqttVersions, "mqtt", "3.1.1,5", "MQTT versions to generate, comma-separated")
	f.DurationVar(&execTimeout, "exec-timeout", time.Second, "bound for one execution")
	f.DurationVar(&hangTimeout, "hang-timeout", 5*time.Second, "a fresh connection's CONNECT and PINGREQ round trips beyond this are a hang")
	f.StringVar(&htmlOut, "html-report", "", "write a self-contained HTML summary to this file")
	f.StringVar(&shardArg, "shard", "", "run shard i of n of the campaign (i/n, 0 <= i < n); see mqttspec fuzz merge")
	f.IntVar(&maxRestarts, "max-restarts", 5, "restart a crashed or hung container target at most this often, so fuzzing goes on (0: the first crash or hang ends the run)")
	f.StringVar(&memGrowthArg, "max-memory-growth", "256MiB", "report a container target whose memory grows by more than this during the run (other targets: not watched unless set)")
	f.DurationVar(&memoryEvery, "memory-every", 5*time.Second, "how often --max-memory-growth samples the container's memory")
	cmd.AddCommand(newFuzzReplayCmd(), newFuzzMinimizeCmd(), newFuzzMergeCmd())
	return cmd
}

func writeJSONFile(stdout io.Writer, path string, write func(io.Writer) error) error {
	if path == "-" {
		return write(stdout)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

func printFuzzSummary(w io.Writer, s *fuzz.Summary) {
	fmt.Fprintf(w, "mqttspec fuzz: %s\n", s.Target)
	fmt.Fprintf(w, "  %d executions in %.1f s (%.0f/s), %d distinct behaviours, corpus %d; stopped: %s\n",
		s.Executions, s.Seconds, s.ExecsPerSecond, s.Behaviours, s.Corpus, s.StoppedBecause)
	if s.Restarts > 0 {
		fmt.Fprintf(w, "  the target was restarted %d time(s) after a crash or hang\n", s.Restarts)
	}
	if m := s.Memory; m != nil {
		if n := len(m.Samples); n > 0 {
			fmt.Fprintf(w, "  memory: %s at the start, %s at the end (%d samples)\n", fuzz.FormatBytes(m.Samples[0].Bytes), fuzz.FormatBytes(m.Samples[n-1].Bytes), n)
		}
		if m.Note != "" {
			fmt.Fprintf(w, "  memory: %s\n", m.Note)
		}
	}
	var types []string
	for t, n := range s.PacketTypes {
		types = append(types, fmt.Sprintf("%s %d", t, n))
	}
	sort.Strings(types)
	fmt.Fprintf(w, "  packets sent: %s\n", strings.Join(types, ", "))
	if len(s.Findings) == 0 {
		fmt.Fprintln(w, "  no findings")
		return
	}
	fmt.Fprintf(w, "  %d finding(s):\n", len(s.Findings))
	for _, f := range s.Findings {
		stmt := ""
		if f.Statement != "" {
			stmt = " [" + f.Statement + "]"
		}
		fmt.Fprintf(w, "  - %s%s: %s\n    %s\n", f.Oracle, stmt, f.Detail, f.File)
	}
}

func newFuzzReplayCmd() *cobra.Command {
	var (
		tf                       targetFlags
		jsonOut                  bool
		count                    int
		execTimeout, hangTimeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "replay FILE",
		Short: "Re-run a saved finding against a broker and say whether it reproduces",
		Long: `replay sends a reproducer's input (and the connections that preceded it) to a
broker and applies the finding's oracle. Exit status: 1 when the finding
reproduces (the bug is still there), 0 when it does not, 2 for a usage error.
A crash or hang that reproduces leaves the broker dead or hung, so --count
above 1 needs a broker started anew for each run: --broker (the default
in-process reference broker included), not --target.`,
		Example: `  mqttspec fuzz replay fuzz-findings/crash-0123456789ab.json --target tcp://127.0.0.1:1883
  mqttspec fuzz replay fuzz-findings/spec-violation-0123456789ab.json --count 10`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := tf.check(); err != nil {
				return err
			}
			f, err := fuzz.LoadFinding(args[0])
			if err != nil {
				return usageErrorf("%v", err)
			}
			if err := f.Replayable(); err != nil {
				return usageErrorf("%v", err)
			}
			if count < 1 {
				return usageErrorf("--count %d: want at least 1", count)
			}
			ctx, stopSignals := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stopSignals()
			opts := fuzz.ReplayOptions{ExecTimeout: execTimeout, HangTimeout: hangTimeout}
			reproduced := 0
			var tg *brokers.Target
			stop := func() {}
			defer func() { stop() }()
			for i := 0; i < count; i++ {
				// A fresh broker for every run that can have one.
				if tg == nil || tf.target == "" {
					stop()
					if tg, stop, err = tf.open(ctx); err != nil {
						return err
					}
				}
				out, err := fuzz.Replay(ctx, tg, f, opts)
				if err != nil {
					return err
				}
				if out.Reproduced {
					reproduced++
				}
				if jsonOut {
					writeJSONLine(cmd.OutOrStdout(), out)
				} else {
					verdict := "does not reproduce"
					if out.Reproduced {
						verdict = "REPRODUCES"
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%s: %s %s: %s (%s)\n", filepath.Base(args[0]), f.Oracle, verdict, out.Detail, out.End)
				}
			}
			if count > 1 && !jsonOut {
				fmt.Fprintf(cmd.OutOrStdout(), "reproduced %d of %d\n", reproduced, count)
			}
			if reproduced > 0 {
				return errReproduced
			}
			return nil
		},
	}
	tf.register(cmd)
	fl := cmd.Flags()
	fl.BoolVar(&jsonOut, "json", false, "print the outcome as JSON")
	fl.IntVar(&count, "count", 1, "replay this many times")
	fl.DurationVar(&execTimeout, "exec-timeout", time.Second, "bound for one execution")
	fl.DurationVar(&hangTimeout, "hang-timeout", 5*time.Second, "a fresh connection's round trips beyond this are a hang")
	return cmd
}

func newFuzzMinimizeCmd() *cobra.Command {
	var (
		tf       targetFlags
		out      string
		maxTries int
	)
	cmd := &cobra.Command{
		Use:   "minimize FILE",
		Short: "Shrink a saved finding by delta debugging over connections, packets, then bytes",
		Long: `minimize replays smaller and smaller versions of a finding's input, keeping a
change only when the finding still reproduces, and writes the smallest one.
A crash or hang kills the broker on every try that reproduces, so each try
starts a fresh broker: use --broker (default: the in-process reference
broker); --target serves spec violations and malformed responses only.`,
		Example: `  mqttspec fuzz minimize fuzz-findings/crash-0123456789ab.json --broker mosquitto-local
  mqttspec fuzz minimize fuzz-findings/spec-violation-0123456789ab.json --target tcp://127.0.0.1:1883 -o small.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := tf.check(); err != nil {
				return err
			}
			f, err := fuzz.LoadFinding(args[0])
			if err != nil {
				return usageErrorf("%v", err)
			}
			if err := f.Replayable(); err != nil {
				return usageErrorf("%v", err)
			}
			if maxTries < 1 {
				return usageErrorf("--max-tries %d: want at least 1", maxTries)
			}
			if out == "" {
				out = strings.TrimSuffix(args[0], ".json") + ".min.json"
			}
			ctx, stopSignals := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stopSignals()
			opts := fuzz.MinimizeOptions{MaxTries: maxTries, Login: tf.login()}
			if tf.target != "" {
				tg, _, err := tf.open(ctx)
				if err != nil {
					return err
				}
				opts.Target = tg
			} else {
				opts.Fresh = tf.open
			}
			small, tries, err := fuzz.Minimize(ctx, f, opts)
			if err != nil {
				return err
			}
			if err := small.WriteFile(out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\nwritten to %s after %d tries\n", filepath.Base(args[0]), small.Detail, out, tries)
			return nil
		},
	}
	tf.register(cmd)
	cmd.Flags().StringVarP(&out, "output", "o", "", "where to write the minimized finding (default: FILE with .min.json)")
	cmd.Flags().IntVar(&maxTries, "max-tries", 300, "bound on the replays")
	return cmd
}

func writeJSONLine(w io.Writer, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		fmt.Fprintf(w, "{\"error\": %q}\n", err.Error())
		return
	}
	fmt.Fprintf(w, "%s\n", b)
}

func newFuzzMergeCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "merge DIR... -o DIR",
		Short: "Join the findings of several runs (the shards of a campaign): one reproducer per signature, the smallest",
		Long: `merge reads the reproducers of each findings directory and writes one per
signature into the output directory: of several reproducers of the same bug it
keeps the one that sends the fewest bytes, and records in "occurrences" how many
there were. Other JSON files (a run's summary) are skipped. The output may be
one of the inputs. Exit status: 0 when the merge is written, 2 for a usage
error.`,
		Example: `  mqttspec fuzz merge shard-0 shard-1 shard-2 shard-3 -o findings`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, dirs []string) error {
			if out == "" {
				return usageErrorf("-o DIR is required: where to write the merged findings")
			}
			res, err := fuzz.MergeFindings(dirs)
			if err != nil {
				return usageErrorf("%v", err)
			}
			paths, err := fuzz.WriteFindings(out, res.Findings)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "merged %d reproducer(s) from %d director(y/ies) into %d finding(s) in %s\n", res.Files, len(dirs), len(res.Findings), out)
			for i, f := range res.Findings {
				fmt.Fprintf(w, "  - %s ×%d: %s\n    %s\n", f.Oracle, f.Occurrences, f.Detail, paths[i])
			}
			for _, s := range res.Skipped {
				fmt.Fprintf(w, "  skipped %s: not a finding\n", s)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "directory for the merged findings")
	return cmd
}

// parseBytes reads a size such as 256MiB, 1GiB, 500MB or 1048576: binary
// units (KiB, MiB, GiB) are powers of 1024, decimal ones (kB, MB, GB) of
// 1000, and a bare number counts bytes.
func parseBytes(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	mult := map[string]float64{"": 1, "b": 1, "k": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gib": 1 << 30,
		"kb": 1e3, "mb": 1e6, "gb": 1e9}[unit]
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || mult == 0 || v <= 0 {
		return 0, fmt.Errorf("%q: want a positive size such as 256MiB, 1GiB or 500MB", s)
	}
	return uint64(v * mult), nil
}
