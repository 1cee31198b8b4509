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
	// MaxRestarts bounds how often a container target that crashed or hung
	// is restarted so that fuzzing goes on (0: never; the first crash or
	// hang ends the run). Targets that cannot restart end the run anyway.
	MaxRestarts int
	// Shard and Shards split one campaign (the same Seed) between Shards
	// runs, on one machine or several: shard i of n runs Workers workers
	// whose generators are seeded with (Seed, i, worker), so the shards
	// draw disjoint input streams and keep their topics and client
	// identifiers apart. Every shard of a campaign uses the same Workers.
	// Shards 0 or 1: not sharded (the same as shard 0).
	Shard, Shards int
	// MaxMemoryGrowth, when set, samples a container target's memory at the
	// start, every MemoryEvery (default 5 s) and at the end, and reports a
	// resource-growth finding when it exceeds the first sample (or the
	// first after a restart) by more than this many bytes.
	MaxMemoryGrowth uint64
	MemoryEvery     time.Duration

	// observe, when set (tests), sees each input before it is sent.
	observe func(worker int, n int64, in *Input)
	// memoryUsage replaces Target.MemoryUsage (tests).
	memoryUsage func(context.Context) (uint64, error)
}

// ShardLabel is "i/n", or "" when the campaign is not sharded.
func (c *Config) ShardLabel() string {
	if c.Shards <= 1 {
		return ""
	}
	return fmt.Sprintf("%d/%d", c.Shard, c.Shards)
}

// SummaryFormat versions the JSON summary.
const SummaryFormat = "mqttspec.fuzz-summary/v1"

// Summary is the outcome of a run.
type Summary struct {
	Format         string    `json:"format"`
	Target         string    `json:"target"`
	Seed           uint64    `json:"seed"`
	Workers        int       `json:"workers"`
	Shard          string    `json:"shard,omitempty"`
	StartedAt      time.Time `json:"started_at"`
	Seconds        float64   `json:"seconds"`
	Executions     int64     `json:"executions"`
	ExecsPerSecond float64   `json:"execs_per_second"`
	Corpus         int       `json:"corpus"`     // inputs kept, all workers
	Behaviours     int       `json:"behaviours"` // distinct broker behaviours seen (corpus feedback)
	StoppedBecause string    `json:"stopped_because"`
	// Restarts counts the restarts of a container target after a crash or
	// hang.
	Restarts    int              `json:"restarts,omitempty"`
	PacketTypes map[string]int64 `json:"packet_types_sent"`
	// ExecsByPacketType counts the executions whose input holds at least
	// one packet of each type (by the type nibble, malformed or not).
	ExecsByPacketType map[string]int64 `json:"executions_by_packet_type"`
	ResponseTypes     map[string]int64 `json:"response_types"`
	Ends              map[string]int64 `json:"ends"`
	// Mutations counts, per mutated field (mutator), the executions whose
	// input it changed.
	Mutations map[string]int64 `json:"mutations"`
	// Memory is the container's memory over the run, when sampled.
	Memory   *MemoryReport `json:"memory,omitempty"`
	Findings []FindingRef  `json:"findings"`

	findings []*Finding // in full, for the HTML report
}

// FindingDetails are the run's findings in full, in the order of
// Findings.
func (s *Summary) FindingDetails() []*Finding { return s.findings }

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
	sent, execTypes, responses, ends, mutations map[string]int64
}

func newStats() *stats {
	return &stats{sent: map[string]int64{}, execTypes: map[string]int64{}, responses: map[string]int64{}, ends: map[string]int64{},
		mutations: map[string]int64{}}
}

func (s *stats) add(in *Input, r *Result, muts []string) {
	var types uint16 // one bit per packet type nibble
	for _, p := range in.Packets {
		if len(p) > 0 {
			s.sent[packet.Type(p[0]>>4).String()]++
			types |= 1 << (p[0] >> 4)
		}
	}
	for t := range 16 {
		if types&(1<<t) != 0 {
			s.execTypes[packet.Type(t).String()]++
		}
	}
	for _, resp := range r.Responses {
		s.responses[resp.Type.String()]++
	}
	s.ends[r.End]++
	for i, m := range muts {
		if !slices.Contains(muts[:i], m) {
			s.mutations[m]++
		}
	}
}

func merge(dst, src map[string]int64) {
	for k, v := range src {
		dst[k] += v
	}
}

// epoch is the target between two restarts: where it listens and the
// executor that reaches it.
type epoch struct {
	n   int // restarts before it
	x   *Executor
	url string
}

// campaign is the state the workers share.
type campaign struct {
	cfg      Config
	ctx      context.Context
	cancel   context.CancelFunc
	deadline time.Time // zero: no duration bound
	execs    atomic.Int64
	cur      atomic.Pointer[epoch]

	// restartMu serialises the handling of a dead or hung target: the
	// first worker to notice reports it and restarts the target; the
	// others, which noticed the same death, wait and go on in the new
	// epoch.
	restartMu sync.Mutex
	restarts  int // under restartMu
	// targetMu keeps everything that asks the Target (liveness, logs,
	// state, memory) out of the way of a restart, which changes its
	// endpoint.
	targetMu sync.RWMutex

	mu       sync.Mutex
	recent   []*Input // the last inputs of all workers, oldest first
	findings map[string]*Finding
	order    []*Finding
	files    map[string]string
	saveErr  error
	stopped  string
	memory   *MemoryReport
	memBase  *MemorySample // the first sample of the current epoch
}

// Run fuzzes cfg.Target until the duration or execution budget is spent,
// the context ends, or the target crashes or hangs and cannot be restarted
// (see Config.MaxRestarts).
func Run(ctx context.Context, cfg Config) (*Summary, error) {
	if cfg.Target == nil {
		return nil, errors.New("fuzz: no target")
	}
	if cfg.Duration <= 0 && cfg.MaxExecs <= 0 {
		return nil, errors.New("fuzz: set a duration or a maximum number of executions, so the run stops by itself")
	}
	if cfg.Shards <= 0 {
		cfg.Shards = 1
	}
	if cfg.Shard < 0 || cfg.Shard >= cfg.Shards {
		return nil, fmt.Errorf("fuzz: shard %d of %d: want 0 to %d", cfg.Shard, cfg.Shards, cfg.Shards-1)
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
	if cfg.MaxRestarts < 0 {
		cfg.MaxRestarts = 0
	}
	if cfg.MemoryEvery <= 0 {
		cfg.MemoryEvery = 5 * time.Second
	}
	x, err := NewExecutor(cfg.Target.Endpoint, cfg.ExecTimeout)
	if err != nil {
		return nil, err
	}
	x.Login = cfg.Target.Login
	c := &campaign{cfg: cfg, findings: map[string]*Finding{}, files: map[string]string{}}
	// The target must be healthy before anything is blamed on an input.
	if h := x.HealthCheck(ctx, cfg.HangTimeout, c.alive); !h.OK {
		return nil, fmt.Errorf("fuzz: target %s is not healthy before the run: %s: %s", cfg.Target.Endpoint.URL, h.Oracle, h.Detail)
	}
	c.cur.Store(&epoch{x: x, url: cfg.Target.Endpoint.URL})
	// The duration is checked between executions, not imposed on their
	// I/O: a deadline that cuts a dial short would look like a hang.
	c.ctx, c.cancel = context.WithCancel(ctx)
	defer c.cancel()
	start := time.Now()
	if cfg.Duration > 0 {
		c.deadline = start.Add(cfg.Duration)
	}

	var watch sync.WaitGroup
	stopWatch := make(chan struct{})
	if cfg.MaxMemoryGrowth > 0 {
		c.memory = &MemoryReport{BoundBytes: cfg.MaxMemoryGrowth}
		watch.Add(1)
		go func() {
			defer watch.Done()
			c.watchMemory(start, stopWatch)
		}()
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
	close(stopWatch)
	watch.Wait()
	if c.memory != nil && c.memory.sampled {
		// The last sample: growth late in a short run shows only here.
		c.sampleMemory(start)
	}
	elapsed := time.Since(start)

	sum := &Summary{Format: SummaryFormat, Target: cfg.Target.Endpoint.URL, Seed: cfg.Seed, Workers: cfg.Workers,
		Shard: cfg.ShardLabel(), StartedAt: start.UTC(), Seconds: elapsed.Seconds(), Executions: c.execs.Load(),
		PacketTypes: map[string]int64{}, ExecsByPacketType: map[string]int64{}, ResponseTypes: map[string]int64{},
		Ends: map[string]int64{}, Mutations: map[string]int64{}}
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
		merge(sum.ExecsByPacketType, r.stats.execTypes)
		merge(sum.ResponseTypes, r.stats.responses)
		merge(sum.Ends, r.stats.ends)
		merge(sum.Mutations, r.stats.mutations)
	}
	c.restartMu.Lock()
	sum.Restarts = c.restarts
	c.restartMu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	sum.Memory = c.memory
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
	byID := map[string]*Finding{}
	for _, f := range c.order {
		byID[f.ID] = f
	}
	for _, r := range sum.Findings {
		sum.findings = append(sum.findings, byID[r.ID])
	}
	return sum, c.saveErr
}

// alive is the target's own liveness check, out of a restart's way.
func (c *campaign) alive(ctx context.Context) error {
	c.targetMu.RLock()
	defer c.targetMu.RUnlock()
	return c.cfg.Target.Alive(ctx)
}

// running reports whether the budget allows another execution.
func (c *campaign) running() bool {
	return c.ctx.Err() == nil && (c.deadline.IsZero() || time.Now().Before(c.deadline)) &&
		(c.cfg.MaxExecs <= 0 || c.execs.Load() < c.cfg.MaxExecs)
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

// workerSeed is the second word of worker w's generator seed in a shard:
// shard 0 (and an unsharded run) keeps the plain worker numbers, so
// sharding a campaign leaves its first shard's inputs as they were.
func workerSeed(shard, w int) uint64 { return uint64(shard)<<32 | uint64(w+1) }

func (c *campaign) worker(w int) *workerResult {
	rng := rand.New(rand.NewPCG(c.cfg.Seed, workerSeed(c.cfg.Shard, w)))
	// Topics and client identifiers carry the worker's number across all
	// shards, so shards sharing a broker do not take each other's sessions
	// over.
	gen := NewGenerator(rng, c.cfg.Versions, c.cfg.Shard*c.cfg.Workers+w)
	if l := c.cfg.Target.Login; l != nil {
		gen.UseLogin(l.Username, l.Password)
	}
	mut := NewMutator(rng, gen)
	st := newStats()
	seen := map[uint64]bool{}
	var corpus []*Input
	var prev *lastRun
	var since []*lastRun // executions since the broker last proved healthy
	var n int64
	ep := c.cur.Load()
	for c.ctx.Err() == nil && (c.deadline.IsZero() || time.Now().Before(c.deadline)) {
		if e := c.cur.Load(); e != ep {
			// The target was restarted: nothing that ran before is a
			// suspect any more.
			ep, prev, since = e, nil, nil
		}
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
		if c.cfg.observe != nil {
			c.cfg.observe(w, n, in)
		}
		if c.cfg.Workers > 1 {
			// Remembered before it runs: it may bring the broker down
			// while another worker is the one to notice.
			c.remember(in)
		}
		res := ep.x.Run(c.ctx, in)
		if res.End == EndDial {
			if c.ctx.Err() != nil {
				c.execs.Add(-1)
				break
			}
			// The broker refused a connection it accepted a moment ago:
			// the previous input of this worker is the first suspect.
			h := ep.x.HealthCheck(c.ctx, c.cfg.HangTimeout, c.alive)
			if !h.OK && c.ctx.Err() == nil {
				culprit := prev
				if culprit == nil {
					culprit = &lastRun{in: in, res: res, muts: muts, n: n}
				} else {
					culprit.since = slices.Clone(since[:max(0, len(since)-1)])
				}
				if !c.died(ep, h.Oracle, w, culprit, &h, fmt.Sprintf("after this input a new connection failed (%v); %s", res.Err, h.Detail), true) {
					break
				}
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
			h := ep.x.HealthCheck(c.ctx, c.cfg.HangTimeout, c.alive)
			if !h.OK && c.ctx.Err() == nil {
				if !c.died(ep, h.Oracle, w, cur, &h, h.Detail, true) {
					break
				}
				continue
			}
			if h.OK {
				since = since[:0]
			}
		}
		prev = cur
	}
	// A crash caused by the very last input shows only now.
	if prev != nil && !c.isStopped() && c.cur.Load() == ep {
		prev.since = slices.Clone(since[:max(0, len(since)-1)])
		hctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 2*c.cfg.HangTimeout)
		h := ep.x.HealthCheck(hctx, c.cfg.HangTimeout, c.alive)
		cancel()
		if !h.OK {
			c.died(ep, h.Oracle, w, prev, &h, "after the run's last input: "+h.Detail, false)
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
		Target: c.cur.Load().url, Seed: c.cfg.Seed, Shard: c.cfg.ShardLabel(), Worker: w, Execution: run.n, Mutations: run.muts,
		FoundAt: time.Now().UTC(), Responses: recordResponses(run.res), End: run.res.End, ExecNs: run.res.Duration.Nanoseconds()}
	var preceding []*Input
	for _, p := range run.since {
		preceding = append(preceding, p.in)
	}
	// The reproducer is a file anyone may be sent: no password in it.
	redactFinding(f, run.in, preceding, c.cfg.Target.Login)
	for i, p := range run.since {
		if p.res != nil {
			f.Preceding[i].End = p.res.End
		}
	}
	f.LogTail = c.logTail()
	return f
}

// logTail is the end of the target's log, if it has one.
func (c *campaign) logTail() string {
	lctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 10*time.Second)
	defer cancel()
	c.targetMu.RLock()
	defer c.targetMu.RUnlock()
	if logs, err := c.cfg.Target.Logs(lctx); err == nil {
		return logTail(logs, 60)
	}
	return ""
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

// died records a crash or hang seen in epoch ep and restarts the target
// when it can and may; it reports whether fuzzing goes on. Several workers
// may notice the same death at once: the first one reports it and
// restarts the target, the others find the epoch changed and go on. With
// several workers, any worker's recent input may be the cause, so they all
// precede the culprit in the reproducer, oldest first; minimize drops those
// that do not matter.
func (c *campaign) died(ep *epoch, oracle string, w int, run *lastRun, h *Health, detail string, mayRestart bool) bool {
	c.restartMu.Lock()
	defer c.restartMu.Unlock()
	if c.cur.Load() != ep {
		return c.ctx.Err() == nil
	}
	if c.isStopped() {
		return false
	}
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
	sctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 10*time.Second)
	c.targetMu.RLock()
	if s, err := c.cfg.Target.ContainerState(sctx); err == nil {
		f.TargetState = s
	}
	canRestart := c.cfg.Target.ContainerID() != ""
	c.targetMu.RUnlock()
	cancel()

	var why string
	switch {
	case !canRestart:
		why = "only a container target can be restarted"
	case c.cfg.MaxRestarts == 0:
		why = "restarts are off"
	case c.restarts >= c.cfg.MaxRestarts:
		why = fmt.Sprintf("it was restarted %d times, the most allowed", c.restarts)
	case !mayRestart || !c.running():
		why = "the run's budget is spent"
	}
	if why == "" {
		url, err := c.restart(ep)
		if err == nil {
			f.Restart = fmt.Sprintf("the target was restarted (restart %d of at most %d) and fuzzing went on at %s", c.restarts, c.cfg.MaxRestarts, url)
			c.add(key, f)
			return true
		}
		why = "restarting it failed: " + err.Error()
	}
	f.Restart = "not restarted: " + why
	c.mu.Lock()
	c.stopped = fmt.Sprintf("%s found: the target cannot be fuzzed further (%s)", oracle, why)
	c.mu.Unlock()
	c.add(key, f)
	c.cancel()
	return false
}

// restart restarts a container target after a crash or hang, waits until
// it answers at its new address and starts a new epoch there.
func (c *campaign) restart(ep *epoch) (string, error) {
	rctx, cancel := context.WithTimeout(c.ctx, 3*time.Minute)
	defer cancel()
	c.targetMu.Lock()
	err := c.cfg.Target.Restart(rctx)
	endpoint := c.cfg.Target.Endpoint // the mapped port changes
	c.targetMu.Unlock()
	if err != nil {
		return "", err
	}
	x, err := NewExecutor(endpoint, c.cfg.ExecTimeout)
	if err != nil {
		return "", err
	}
	x.Login = c.cfg.Target.Login
	if h := x.HealthCheck(rctx, c.cfg.HangTimeout, c.alive); !h.OK {
		return "", fmt.Errorf("after the restart, %s: %s", h.Oracle, h.Detail)
	}
	c.restarts++
	c.mu.Lock()
	c.recent = nil // inputs sent before the restart cause nothing after it
	c.mu.Unlock()
	c.cur.Store(&epoch{n: ep.n + 1, x: x, url: endpoint.URL})
	return endpoint.URL, nil
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
