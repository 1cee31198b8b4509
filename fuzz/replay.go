package fuzz

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mqttspec/mqttspec/brokers"
)

// ReplayOptions tune Replay and Minimize.
type ReplayOptions struct {
	ExecTimeout time.Duration // default 1 s
	HangTimeout time.Duration // default 5 s
}

func (o ReplayOptions) withDefaults() ReplayOptions {
	if o.ExecTimeout <= 0 {
		o.ExecTimeout = time.Second
	}
	if o.HangTimeout <= 0 {
		o.HangTimeout = 5 * time.Second
	}
	return o
}

// Outcome is what one replay observed.
type Outcome struct {
	Reproduced bool    `json:"reproduced"`
	Oracle     string  `json:"oracle"`
	Detail     string  `json:"detail"`
	End        string  `json:"end"`
	Signature  string  `json:"signature"`
	Health     *Health `json:"health,omitempty"`
	result     *Result
}

// Replay sends the finding's input once to target and applies the
// finding's oracle. The target must be healthy first. A crash or hang that
// reproduces leaves the target dead or hung.
func Replay(ctx context.Context, target *brokers.Target, f *Finding, o ReplayOptions) (*Outcome, error) {
	if err := f.Replayable(); err != nil {
		return nil, err
	}
	seq, err := f.loginSequence(target.Login)
	if err != nil {
		return nil, err
	}
	return replaySeq(ctx, target, f, seq, o)
}

// replaySeq runs every input of seq on its own connection, in order, and
// applies the finding's oracle to the last.
func replaySeq(ctx context.Context, target *brokers.Target, f *Finding, seq []*Input, o ReplayOptions) (*Outcome, error) {
	o = o.withDefaults()
	x, err := NewExecutor(target.Endpoint, o.ExecTimeout)
	if err != nil {
		return nil, err
	}
	x.Login = target.Login
	if h := x.HealthCheck(ctx, o.HangTimeout, target.Alive); !h.OK {
		return nil, fmt.Errorf("target %s is not healthy before the replay: %s: %s", target.Endpoint.URL, h.Oracle, h.Detail)
	}
	for _, p := range seq[:len(seq)-1] {
		x.Run(ctx, p)
	}
	in := seq[len(seq)-1]
	res := x.Run(ctx, in)
	out := &Outcome{Oracle: f.Oracle, End: res.End, Signature: res.Signature(), result: res}
	switch f.Oracle {
	case OracleCrash, OracleHang:
		h := x.HealthCheck(ctx, o.HangTimeout, target.Alive)
		out.Health = &h
		out.Reproduced = !h.OK && h.Oracle == f.Oracle
		out.Detail = h.Detail
		if h.OK {
			out.Detail = "the target answered CONNECT and PINGREQ after the input"
		}
	case OracleSpecViolation:
		v := CheckViolation(in, res)
		switch {
		case v == nil:
			out.Detail = "the broker did not answer after the offending packet (" + res.End + ")"
		case f.Violation != nil && (v.Statement != f.Violation.Statement || v.Type != f.Violation.Type):
			out.Detail = fmt.Sprintf("a different violation: %s %s", v.Type, v.Statement)
		default:
			out.Reproduced, out.Detail = true, v.Detail
		}
	case OracleMalformedResponse:
		if bad := CheckResponses(in, res); bad != nil {
			out.Reproduced, out.Detail = true, fmt.Sprintf("the broker sent a %s the codec rejects: %v", bad.Type, bad.Err)
		} else {
			out.Detail = "every packet the broker sent was well-formed"
		}
	default:
		return nil, fmt.Errorf("unknown oracle %q", f.Oracle)
	}
	return out, nil
}

// MinimizeOptions bound Minimize.
type MinimizeOptions struct {
	ReplayOptions
	// MaxTries bounds the replays (default 300).
	MaxTries int
	// Fresh starts a new target for a try and returns it with its stop
	// function. Crashes and hangs need it: each try that reproduces kills
	// the target. Spec violations and malformed responses can use Target.
	Fresh  func(ctx context.Context) (*brokers.Target, func(), error)
	Target *brokers.Target
	// Login puts back a password the finding's file had taken out (default:
	// Target's login); the minimized file has it taken out again.
	Login *brokers.Credential
}

// Minimize shrinks a finding's input by delta debugging, first over whole
// packets, then over the bytes of each packet, keeping only changes after
// which the finding still reproduces. It returns the smaller finding and the
// number of replays it took.
func Minimize(ctx context.Context, f *Finding, o MinimizeOptions) (*Finding, int, error) {
	if err := f.Replayable(); err != nil {
		return nil, 0, err
	}
	if o.Login == nil && o.Target != nil {
		o.Login = o.Target.Login
	}
	seq, err := f.loginSequence(o.Login)
	if err != nil {
		return nil, 0, err
	}
	if o.MaxTries <= 0 {
		o.MaxTries = 300
	}
	if o.Fresh == nil && o.Target == nil {
		return nil, 0, errors.New("minimize: no target")
	}
	if o.Fresh == nil && (f.Oracle == OracleCrash || f.Oracle == OracleHang) {
		return nil, 0, fmt.Errorf("minimize: a %s kills the target, so each try needs a fresh one (start a broker rather than give an address)", f.Oracle)
	}
	tries := 0
	var lastOK *Outcome
	test := func(cand []*Input) bool {
		if tries >= o.MaxTries || ctx.Err() != nil || len(cand) == 0 {
			return false
		}
		for _, in := range cand {
			if len(in.Packets) == 0 {
				return false
			}
		}
		tries++
		tg, stop := o.Target, func() {}
		if o.Fresh != nil {
			t, s, err := o.Fresh(ctx)
			if err != nil {
				return false
			}
			tg, stop = t, s
		}
		defer stop()
		out, err := replaySeq(ctx, tg, f, cand, o.ReplayOptions)
		if err != nil || !out.Reproduced {
			return false
		}
		lastOK = out
		return true
	}
	if !test(seq) {
		return nil, tries, fmt.Errorf("minimize: finding %s does not reproduce", f.ID)
	}
	size := func(s []*Input) (packets, bytes int) {
		for _, in := range s {
			packets += len(in.Packets)
			bytes += len(in.Bytes())
		}
		return
	}
	p0, b0 := size(seq)
	// Connections first, then the packets of each, then the bytes of each
	// packet: each step tries the largest cuts first.
	cur := ddmin(seq, test)
	clone := func(s []*Input) []*Input {
		out := make([]*Input, len(s))
		for i, in := range s {
			out[i] = in.Clone()
		}
		return out
	}
	for ci := range cur {
		cur[ci].Packets = ddmin(cur[ci].Packets, func(ps [][]byte) bool {
			c := clone(cur)
			c[ci].Packets = ps
			return test(c)
		})
	}
	for ci := range cur {
		for pi := range cur[ci].Packets {
			cur[ci].Packets[pi] = ddmin(cur[ci].Packets[pi], func(b []byte) bool {
				c := clone(cur)
				c[ci].Packets[pi] = b
				return test(c)
			})
		}
	}
	out := *f
	last := cur[len(cur)-1]
	out.Preceding = nil
	redactFinding(&out, last, cur[:len(cur)-1], o.Login)
	if lastOK != nil && lastOK.result != nil {
		out.Responses = recordResponses(lastOK.result)
		out.End = lastOK.End
		out.ExecNs = lastOK.result.Duration.Nanoseconds()
		if lastOK.Health != nil {
			out.Health = lastOK.Health
		}
	}
	p1, b1 := size(cur)
	out.Detail = fmt.Sprintf("%s (minimized from %d to %d packets in %d to %d connections, %d to %d bytes)", f.Detail,
		p0, p1, len(seq), len(cur), b0, b1)
	return &out, tries, nil
}

// ddmin is Zeller's delta debugging: it returns a subsequence of items for
// which test still holds, trying to remove ever smaller chunks.
func ddmin[T any](items []T, test func([]T) bool) []T {
	n := 2
	for len(items) >= 2 {
		chunk := (len(items) + n - 1) / n
		reduced := false
		for start := 0; start < len(items); start += chunk {
			end := min(len(items), start+chunk)
			// the complement of one chunk
			cand := append(append([]T(nil), items[:start]...), items[end:]...)
			if len(cand) > 0 && test(cand) {
				items = cand
				n = max(n-1, 2)
				reduced = true
				break
			}
		}
		if !reduced {
			if n >= len(items) {
				break
			}
			n = min(len(items), n*2)
		}
	}
	return items
}

// Replayable says why a finding cannot be replayed (nil: it can): no single
// input reproduces a resource-growth finding.
func (f *Finding) Replayable() error {
	if f.Oracle == OracleResourceGrowth {
		seed := fmt.Sprintf("--seed %d", f.Seed)
		if f.Shard != "" {
			seed += " --shard " + f.Shard
		}
		return fmt.Errorf("finding %s: a %s finding is the whole campaign's effect, not one input's: run the campaign again (%s) to see it", f.ID, f.Oracle, seed)
	}
	return nil
}
