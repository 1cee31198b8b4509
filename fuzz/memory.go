package fuzz

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// OracleResourceGrowth: the broker's memory grew beyond a bound during the
// run (containers only: the Docker engine reports it).
const OracleResourceGrowth = "resource-growth"

// MemoryReport is a container target's memory over a run.
type MemoryReport struct {
	// BoundBytes is the growth over the first sample (of the run, or after
	// a restart) beyond which the run reports a finding.
	BoundBytes uint64         `json:"bound_bytes"`
	Samples    []MemorySample `json:"samples,omitempty"`
	// Note says why memory was not (or not always) sampled.
	Note string `json:"note,omitempty"`

	sampled bool // at least one sample succeeded
}

// MemorySample is one reading.
type MemorySample struct {
	AtSeconds float64 `json:"at_s"` // since the run started
	Bytes     uint64  `json:"bytes"`
	// Restarts is how often the target had been restarted: a restart
	// starts the growth count anew.
	Restarts int `json:"restarts,omitempty"`
}

// maxMemorySamples bounds the samples a report keeps; past it every other
// one is dropped, so a long run keeps its whole shape at a coarser grain.
const maxMemorySamples = 512

// watchMemory samples the target's memory until stop is closed, the run
// ends, or the target turns out not to report memory.
func (c *campaign) watchMemory(start time.Time, stop <-chan struct{}) {
	t := time.NewTicker(c.cfg.MemoryEvery)
	defer t.Stop()
	for c.sampleMemory(start) {
		select {
		case <-stop:
			return
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sampleMemory takes one sample and checks it against the bound. It
// returns false when the target cannot report its memory at all.
func (c *campaign) sampleMemory(start time.Time) bool {
	usage := c.cfg.memoryUsage
	if usage == nil {
		usage = c.cfg.Target.MemoryUsage
	}
	ep := c.cur.Load()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 10*time.Second)
	c.targetMu.RLock()
	b, err := usage(sctx)
	c.targetMu.RUnlock()
	cancel()

	c.mu.Lock()
	m := c.memory
	switch {
	case errors.Is(err, errors.ErrUnsupported):
		m.Note = "not sampled: only a container target's memory can be read (from the Docker engine)"
		c.mu.Unlock()
		return false
	case err != nil:
		// A crashed or restarting container has no reading: skip it.
		m.Note = "a sample failed: " + err.Error()
		c.mu.Unlock()
		return true
	}
	m.sampled = true
	s := MemorySample{AtSeconds: time.Since(start).Seconds(), Bytes: b, Restarts: ep.n}
	if len(m.Samples) >= maxMemorySamples {
		kept := m.Samples[:0]
		for i, old := range m.Samples {
			if i%2 == 0 {
				kept = append(kept, old)
			}
		}
		m.Samples = kept
	}
	m.Samples = append(m.Samples, s)
	if c.memBase == nil || c.memBase.Restarts != ep.n {
		c.memBase = &s
	}
	base := *c.memBase
	grew := b > base.Bytes && b-base.Bytes > m.BoundBytes
	var samples []MemorySample
	if grew {
		samples = append(samples, m.Samples...)
	}
	c.mu.Unlock()
	if grew {
		c.reportMemory(base, s, samples)
	}
	return true
}

// reportMemory records the resource-growth finding (once a run: the
// growth has no single input to blame).
func (c *campaign) reportMemory(base, now MemorySample, samples []MemorySample) {
	key := OracleResourceGrowth + "|memory"
	if c.has(key) {
		return
	}
	f := &Finding{Format: FindingFormat, ID: idOf(key), Oracle: OracleResourceGrowth, Signature: key,
		Detail: fmt.Sprintf("the broker's memory grew from %s to %s (+%s) in %.0f s, beyond the bound of %s",
			FormatBytes(base.Bytes), FormatBytes(now.Bytes), FormatBytes(now.Bytes-base.Bytes), now.AtSeconds-base.AtSeconds,
			FormatBytes(c.cfg.MaxMemoryGrowth)),
		Target: c.cur.Load().url, Seed: c.cfg.Seed, Shard: c.cfg.ShardLabel(), Execution: c.execs.Load(), FoundAt: time.Now().UTC(),
		Memory: &MemoryReport{BoundBytes: c.cfg.MaxMemoryGrowth, Samples: samples}}
	f.LogTail = c.logTail()
	c.add(key, f)
}

// FormatBytes writes a byte count in binary units: "12.5 MiB".
func FormatBytes(b uint64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%d B", b)
	}
	div, exp := uint64(unit), 0
	for n := b / unit; n >= unit && exp < 4; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(b)/float64(div), "KMGTP"[exp])
}
