package fuzz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mqttspec/mqttspec/brokers"
	"github.com/mqttspec/mqttspec/reference/packet"
)

// Config describes one fuzzing campaign. A run stops by itself: at least
// one of Duration and MaxExecs must be set.
type Config struct {
	Target *brokers.Target
	// Duration bounds the run's wall time; MaxExecs its executions (all
	// workers together).
	Duration time.Duration
	MaxExecs int64
	// Workers run in parallel, each with its own generator, mutator and
	// corpus (default 1). Worker w draws from a generator seeded with
	// (Seed, w), so one worker's inputs are reproducible from the seed.
	Workers int
	Seed    uint64
	// Versions to generate (default 3.1.1 and 5.0).
	Versions []packet.Version
	// FindingsDir receives a reproducer file per finding; empty: not saved.
	FindingsDir string
	// ExecTimeout bounds one execution (default 1 s); HangTimeout the
	// health check's round trips (default 5 s).
	ExecTimeout time.Duration
	HangTimeout time.Duration
	// HealthEvery runs the health check every N executions of a worker as
	// well as after each execution that timed out (default 1000).
	HealthEvery int
	// MaxCorpus bounds each worker's corpus (default 4096).
	MaxCorpus int
}

// SummaryFormat versions the JSON summary.
const SummaryFormat = "mqttspec.fuzz-summary/v1"

// Summary is the outcome of a run.
type Summary struct {
	Format         string           `json:"format"`
	Target         string           `json:"target"`
	Seed           uint64           `json:"seed"`
	Workers        int              `json:"workers"`
	StartedAt      time.Time        `json:"started_at"`
	Seconds        float64          `json:"seconds"`
	Executions     int64            `json:"executions"`
	ExecsPerSecond float64          `json:"execs_per_second"`
	Corpus         int              `json:"corpus"`     // inputs kept, all workers
	Behaviours     int              `json:"behaviours"` // distinct broker behaviours seen (corpus feedback)
	StoppedBecause string           `json:"stopped_because"`
	PacketTypes    map[string]int64 `json:"packet_types_sent"`
	ResponseTypes  map[string]int64 `json:"response_types"`
	Ends           map[string]int64 `json:"ends"`
	Mutations      map[string]int64 `json:"mutations"`
	Findings       []FindingRef     `json:"findings"`
}

// FindingRef lists a finding in the summary.
type FindingRef struct {
	ID        string `json:"id"`
	Oracle    string `json:"oracle"`
	Statement string `json:"statement,omitempty"`
	Detail    string `json:"detail"`
	File      string `json:"file,omitempty"`
	Execution int64  `json:"execution"`
}

// WriteJSON writes the summary as indented JSON.
func (s *Summary) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

type stats struct {
	sent, responses, ends, mutations map[string]int64
}

func newStats() *stats {
	return &stats{sent: map[string]int64{}, responses: map[string]int64{}, ends: map[string]int64{}, mutations: map[string]int64{}}
}

func (s *stats) add(in *Input, r *Result, muts []string) {
	for _, p := range in.Packets {
		if len(p) > 0 {
			s.sent[packet.Type(p[0]>>4).String()]++
		}
	}
	for _, resp := range r.Responses {
		s.responses[resp.Type.String()]++
	}
	s.ends[r.End]++
	for _, m := range muts {
		s.mutations[m]++
	}
}

func merge(dst, src map[string]int64) {
	for k, v := range src {
		dst[k] += v
	}
}

// campaign is the state the workers share.
type campaign struct {
	cfg      Config
	x        *Executor
	ctx      context.Context
	cancel   context.CancelFunc
	deadline time.Time // zero: no duration bound
	execs    atomic.Int64

	mu       sync.Mutex
	recent   []*Input // the last inputs of all workers, oldest first
	findings map[string]*Finding
	order    []*Finding
	files    map[string]string
	saveErr  error
	stopped  string
}

// Run fuzzes cfg.Target until the duration or execution budget is spent,
// the context ends, or the target crashes or hangs (it cannot be fuzzed any
// further; restarting a container target is a later step).
func Run(ctx context.Context, cfg Config) (*Summary, error) {
	if cfg.Target == nil {
		return nil, errors.New("fuzz: no target")
	}
	if cfg.Duration <= 0 && cfg.MaxExecs <= 0 {
		return nil, errors.New("fuzz: set a duration or a maximum number of executions, so the run stops by itself")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	if cfg.HangTimeout <= 0 {
		cfg.HangTimeout = 5 * time.Second
	}
	if cfg.HealthEvery <= 0 {
		cfg.HealthEvery = 1000
	}
	if cfg.MaxCorpus <= 0 {
		cfg.MaxCorpus = 4096
	}
	x, err := NewExecutor(cfg.Target.Endpoint, cfg.ExecTimeout)
	if err != nil {
		return nil, err
	}
	// The target must be healthy before anything is blamed on an input.
	if h := x.HealthCheck(ctx, cfg.HangTimeout, cfg.Target.Alive); !h.OK {
		return nil, fmt.Errorf("fuzz: target %s is not healthy before the run: %s: %s", cfg.Target.Endpoint.URL, h.Oracle, h.Detail)
	}
	c := &campaign{cfg: cfg, x: x, findings: map[string]*Finding{}, files: map[string]string{}}
	// The duration is checked between executions, not imposed on their
	// I/O: a deadline that cuts a dial short would look like a hang.
	c.ctx, c.cancel = context.WithCancel(ctx)
	defer c.cancel()
	start := time.Now()
	if cfg.Duration > 0 {
		c.deadline = start.Add(cfg.Duration)
	}

	results := make([]*workerResult, cfg.Workers)
	var wg sync.WaitGroup
	for w := range cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[w] = c.worker(w)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	sum := &Summary{Format: SummaryFormat, Target: cfg.Target.Endpoint.URL, Seed: cfg.Seed, Workers: cfg.Workers,
		StartedAt: start.UTC(), Seconds: elapsed.Seconds(), Executions: c.execs.Load(),
		PacketTypes: map[string]int64{}, ResponseTypes: map[string]int64{}, Ends: map[string]int64{}, Mutations: map[string]int64{}}
	if cfg.Target.Name != "" {
		sum.Target = cfg.Target.Name + " " + cfg.Target.Endpoint.URL
	}
	if elapsed > 0 {
		sum.ExecsPerSecond = float64(sum.Executions) / elapsed.Seconds()
	}
	for _, r := range results {
		sum.Corpus += r.corpus
		sum.Behaviours += r.behaviours
		merge(sum.PacketTypes, r.stats.sent)
		merge(sum.ResponseTypes, r.stats.responses)
		merge(sum.Ends, r.stats.ends)
		merge(sum.Mutations, r.stats.mutations)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	sum.StoppedBecause = c.stopped
	if sum.StoppedBecause == "" {
		switch {
		case ctx.Err() != nil:
			sum.StoppedBecause = "interrupted"
		case cfg.MaxExecs > 0 && sum.Executions >= cfg.MaxExecs:
			sum.StoppedBecause = "execution budget spent"
		default:
			sum.StoppedBecause = "duration elapsed"
		}
	}
	for _, f := range c.order {
		ref := FindingRef{ID: f.ID, Oracle: f.Oracle, Detail: f.Detail, File: c.files[f.ID], Execution: f.Execution}
		if f.Violation != nil {
			ref.Statement = f.Violation.Statement
		}
		sum.Findings = append(sum.Findings, ref)
	}
	sort.SliceStable(sum.Findings, func(i, j int) bool { return sum.Findings[i].Oracle < sum.Findings[j].Oracle })
	return sum, c.saveErr
}

type workerResult struct {
	stats              *stats
	corpus, behaviours int
}

// lastRun is one execution of a worker.
type lastRun struct {
	in   *Input
	res  *Result
	muts []string
	n    int64
	// since are the executions before this one since the broker last
	// proved healthy: suspects when this one finds it dead or hung.
	since []*lastRun
}

// maxBehaviours bounds the behaviours a worker remembers, and so its
// memory in a long run; past it the corpus keeps only what it has.
const maxBehaviours = 1 << 20

// maxSuspects bounds the executions without proof of health: after that
// many a health check runs, so a reproducer never holds more connections.
const maxSuspects = 8

func (c *campaign) worker(w int) *workerResult {
	rng := rand.New(rand.NewPCG(c.cfg.Seed, uint64(w)+1))
	gen := NewGenerator(rng, c.cfg.Versions, w)
	mut := NewMutator(rng, gen)
	st := newStats()
	seen := map[uint64]bool{}
	var corpus []*Input
	var prev *lastRun
	var since []*lastRun // executions since the broker last proved healthy
	var n int64
	for c.ctx.Err() == nil && (c.deadline.IsZero() || time.Now().Before(c.deadline)) {
		if c.cfg.MaxExecs > 0 && c.execs.Add(1) > c.cfg.MaxExecs {
			c.execs.Add(-1)
			break
		} else if c.cfg.MaxExecs <= 0 {
			c.execs.Add(1)
		}
		n++
		var in *Input
		var muts []string
		if len(corpus) == 0 || rng.IntN(5) == 0 {
			in = gen.Session()
		} else {
			in = corpus[rng.IntN(len(corpus))].Clone()
			muts = mut.Mutate(in)
		}
		if c.cfg.Workers > 1 {
			// Remembered before it runs: it may bring the broker down
			// while another worker is the one to notice.
			c.remember(in)
		}
		res := c.x.Run(c.ctx, in)
		if res.End == EndDial {
			if c.ctx.Err() != nil {
				c.execs.Add(-1)
				break
			}
			// The broker refused a connection it accepted a moment ago:
			// the previous input of this worker is the first suspect.
			h := c.x.HealthCheck(c.ctx, c.cfg.HangTimeout, c.cfg.Target.Alive)
			if !h.OK && c.ctx.Err() == nil {
				culprit := prev
				if culprit == nil {
					culprit = &lastRun{in: in, res: res, muts: muts, n: n}
				} else {
					culprit.since = slices.Clone(since[:max(0, len(since)-1)])
				}
				c.report(h.Oracle, w, culprit, &h, fmt.Sprintf("after this input a new connection failed (%v); %s", res.Err, h.Detail))
				break
			}
			continue
		}
		st.add(in, res, muts)
		if b := res.behaviour(); !seen[b] && len(seen) < maxBehaviours {
			seen[b] = true
			if len(corpus) < c.cfg.MaxCorpus {
				corpus = append(corpus, in)
			} else {
				corpus[rng.IntN(len(corpus))] = in
			}
		}
		cur := &lastRun{in: in, res: res, muts: muts, n: n, since: slices.Clone(since)}
		if res.End == EndPong {
			// Every PINGREQ answered: the broker was healthy after the
			// input; a later failure starts with this input at the latest.
			since = []*lastRun{cur}
			cur.since = nil
		} else {
			since = append(since, cur)
		}
		if v := CheckViolation(in, res); v != nil {
			c.reportViolation(w, cur, v)
		}
		if bad := CheckResponses(in, res); bad != nil {
			c.reportMalformed(w, cur, bad)
		}
		if res.End == EndTimeout || len(since) > maxSuspects || n%int64(c.cfg.HealthEvery) == 0 {
			h := c.x.HealthCheck(c.ctx, c.cfg.HangTimeout, c.cfg.Target.Alive)
			if !h.OK && c.ctx.Err() == nil {
				c.report(h.Oracle, w, cur, &h, h.Detail)
				break
			}
			if h.OK {
				since = since[:0]
			}
		}
		prev = cur
	}
	// A crash caused by the very last input shows only now.
	if prev != nil && !c.isStopped() {
		prev.since = slices.Clone(since[:max(0, len(since)-1)])
		hctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 2*c.cfg.HangTimeout)
		h := c.x.HealthCheck(hctx, c.cfg.HangTimeout, c.cfg.Target.Alive)
		cancel()
		if !h.OK {
			c.report(h.Oracle, w, prev, &h, "after the run's last input: "+h.Detail)
		}
	}
	return &workerResult{stats: st, corpus: len(corpus), behaviours: len(seen)}
}

func (c *campaign) isStopped() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopped != ""
}

// newFinding fills what every finding has.
func (c *campaign) newFinding(oracle, key string, w int, run *lastRun, detail string) *Finding {
	f := &Finding{Format: FindingFormat, ID: idOf(key), Oracle: oracle, Signature: key, Detail: detail,
		Target: c.cfg.Target.Endpoint.URL, Seed: c.cfg.Seed, Worker: w, Execution: run.n, Mutations: run.muts,
		FoundAt: time.Now().UTC(), Version: run.in.Version.String(), Packets: recordPackets(run.in),
		Responses: recordResponses(run.res), End: run.res.End, ExecNs: run.res.Duration.Nanoseconds()}
	for _, p := range run.since {
		conn := Connection{Version: p.in.Version.String(), Packets: recordPackets(p.in)}
		if p.res != nil {
			conn.End = p.res.End
		}
		f.Preceding = append(f.Preceding, conn)
	}
	lctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 10*time.Second)
	defer cancel()
	if logs, err := c.cfg.Target.Logs(lctx); err == nil {
		f.LogTail = logTail(logs, 60)
	}
	return f
}

// add records a finding unless its key was seen; it reports whether it was
// new.
func (c *campaign) add(key string, f *Finding) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.findings[key]; dup {
		return false
	}
	c.findings[key] = f
	c.order = append(c.order, f)
	if c.cfg.FindingsDir != "" {
		path, err := f.Save(c.cfg.FindingsDir)
		if err != nil && c.saveErr == nil {
			c.saveErr = fmt.Errorf("saving finding %s: %w", f.ID, err)
		}
		c.files[f.ID] = path
	}
	return true
}

func (c *campaign) has(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.findings[key]
	return ok
}

// remember keeps an input among the recent ones of all workers.
func (c *campaign) remember(r *Input) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.recent) >= max(maxSuspects, 4*c.cfg.Workers) {
		c.recent = c.recent[1:]
	}
	c.recent = append(c.recent, r)
}

// report records a crash or hang and stops the run: the target is unusable.
// With several workers, any worker's recent input may be the cause, so
// they all precede the culprit in the reproducer, oldest first; minimize
// drops those that do not matter.
func (c *campaign) report(oracle string, w int, run *lastRun, h *Health, detail string) {
	// Several workers may notice the same death at once; the first one
	// reports it.
	c.mu.Lock()
	if c.stopped != "" {
		c.mu.Unlock()
		return
	}
	c.stopped = fmt.Sprintf("%s found: the target cannot be fuzzed further", oracle)
	c.mu.Unlock()
	defer c.cancel()
	if c.cfg.Workers > 1 {
		c.mu.Lock()
		var others []*lastRun
		for _, in := range c.recent {
			if in != run.in {
				others = append(others, &lastRun{in: in})
			}
		}
		c.mu.Unlock()
		run = &lastRun{in: run.in, res: run.res, muts: run.muts, n: run.n, since: others}
		detail += fmt.Sprintf(" (%d recent inputs of all workers precede it in the reproducer)", len(others))
	}
	key := dedupKey(oracle, run.in, run.res, nil, nil)
	f := c.newFinding(oracle, key, w, run, detail)
	f.Health = h
	c.add(key, f)
}

func (c *campaign) reportViolation(w int, run *lastRun, v *Violation) {
	key := dedupKey(OracleSpecViolation, run.in, run.res, v, nil)
	if c.has(key) {
		return
	}
	// A violation shows on one connection: earlier ones are no suspects.
	run = &lastRun{in: run.in, res: run.res, muts: run.muts, n: run.n}
	f := c.newFinding(OracleSpecViolation, key, w, run, v.Detail)
	f.Violation = v
	c.add(key, f)
}

func (c *campaign) reportMalformed(w int, run *lastRun, bad *Response) {
	key := dedupKey(OracleMalformedResponse, run.in, run.res, nil, bad)
	if c.has(key) {
		return
	}
	run = &lastRun{in: run.in, res: run.res, muts: run.muts, n: run.n}
	c.add(key, c.newFinding(OracleMalformedResponse, key, w, run, fmt.Sprintf("the broker sent a %s the codec rejects: %v", bad.Type, bad.Err)))
}
