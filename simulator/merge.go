package simulator

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
)

// Merge combines the results of the shards of one fleet into one result,
// exactly: counters add, latency histograms merge bucket by bucket (so the
// merged percentiles are those of all messages, not an average of the
// shards'), and timelines add second by second. A merged result lists the
// shards it holds and can itself be merged with further shards.
//
// Merge refuses results that are not of one run: another scenario, seed,
// MQTT version, fleet size or shard count, or a shard given twice.
func Merge(results ...*Result) (*Result, error) {
	if len(results) == 0 {
		return nil, errors.New("no results to merge")
	}
	first := results[0]
	seen := map[string]string{}
	var n int
	for i, r := range results {
		name := r.label(i)
		if r.Schema != ResultSchema {
			return nil, fmt.Errorf("%s: schema %q, want %q", name, r.Schema, ResultSchema)
		}
		shards, count, err := r.shardList()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if i == 0 {
			n = count
		}
		if mismatch := first.sameRun(r, n, count); mismatch != "" {
			return nil, fmt.Errorf("%s (shard %s) is not of the same run as %s (shard %s): %s",
				name, r.Shard, first.label(0), first.Shard, mismatch)
		}
		for _, sh := range shards {
			if other, dup := seen[sh]; dup {
				return nil, fmt.Errorf("shard %s is given twice (%s and %s)", sh, other, name)
			}
			seen[sh] = name
		}
	}

	m := &Result{Schema: ResultSchema, Scenario: first.Scenario, MQTT: first.MQTT, Seed: first.Seed,
		Fleet: first.Fleet, Homes: first.Homes, Started: first.Started, Complete: true, Drained: true}
	var targets, failures []string
	allConnected := true
	var hists [3][]string
	errs := map[string]int64{}
	var timelines [][]Sample
	for _, r := range results {
		shards, _, _ := r.shardList()
		m.Shards = append(m.Shards, shards...)
		if len(r.Runs) > 0 {
			m.Runs = append(m.Runs, r.Runs...)
		} else {
			m.Runs = append(m.Runs, r.Run)
		}
		if !containsString(targets, r.Target) {
			targets = append(targets, r.Target)
		}
		if r.Started.Before(m.Started) {
			m.Started = r.Started
		}
		m.Publish = math.Max(m.Publish, r.Publish)
		m.Elapsed = math.Max(m.Elapsed, r.Elapsed)
		m.Nodes += r.Nodes
		m.Observers += r.Observers
		m.Complete = m.Complete && r.Complete
		m.Drained = m.Drained && r.Drained
		if r.Failure != "" {
			failures = append(failures, fmt.Sprintf("shard %s: %s", r.Shard, r.Failure))
		}

		c := &m.Connections
		c.Connects += r.Connections.Connects
		c.Failures += r.Connections.Failures
		c.Disconnects += r.Connections.Disconnects
		c.ObserverReconnects += r.Connections.ObserverReconnects
		c.SessionsLost += r.Connections.SessionsLost
		for code, n := range r.Connections.Refused {
			if c.Refused == nil {
				c.Refused = map[string]int64{}
			}
			c.Refused[code] += n
		}
		// Shards run side by side, each timed from its own start: the
		// fleet was all connected once the slowest shard was.
		if r.Connections.AllConnectedSeconds == 0 {
			allConnected = false
		}
		c.AllConnectedSeconds = math.Max(c.AllConnectedSeconds, r.Connections.AllConnectedSeconds)

		p := &m.Publishing
		p.SkippedDisconnected += r.Publishing.SkippedDisconnected
		p.BlockedInflight += r.Publishing.BlockedInflight
		p.Backpressure += r.Publishing.Backpressure
		p.Refused += r.Publishing.Refused
		p.Commands += r.Publishing.Commands
		p.SchedulerLagMaxUs = max(p.SchedulerLagMaxUs, r.Publishing.SchedulerLagMaxUs)

		for q := range m.Accounting {
			a, b := &m.Accounting[q], r.Accounting[q]
			a.QoS = q
			a.Sent += b.Sent
			a.Expected += b.Expected
			a.Received += b.Received
			a.Lost += b.Lost
			a.Duplicates += b.Duplicates
			a.Reordered += b.Reordered
			a.Abandoned += b.Abandoned
			a.Unacked += b.Unacked
			a.Late += b.Late
			hists[q] = append(hists[q], r.Latency[q].Histogram)
		}
		m.Foreign += r.Foreign
		m.Downgraded += r.Downgraded
		for _, e := range r.Errors {
			errs[e.Message] += e.Count
		}
		timelines = append(timelines, r.Timeline)
	}
	if !allConnected {
		m.Connections.AllConnectedSeconds = 0
	}
	for q := range hists {
		h := newHistogram()
		for i, enc := range hists[q] {
			part, err := DecodeHistogram(enc)
			if err != nil {
				return nil, fmt.Errorf("%s: QoS %d latency histogram: %w", results[i].label(i), q, err)
			}
			if dropped := h.Merge(part); dropped > 0 {
				return nil, fmt.Errorf("%s: QoS %d latency histogram: %d values outside 1 µs .. 1 h", results[i].label(i), q, dropped)
			}
		}
		m.Latency[q] = latencyOf(q, h)
	}
	sort.Slice(m.Shards, func(i, j int) bool { return shardIndex(m.Shards[i]) < shardIndex(m.Shards[j]) })
	idx := make([]string, len(m.Shards))
	for i, sh := range m.Shards {
		idx[i], _, _ = strings.Cut(sh, "/")
	}
	m.Shard = fmt.Sprintf("%s/%d", strings.Join(idx, ","), n)
	m.Target = strings.Join(targets, ", ")
	m.Failure = strings.Join(failures, "; ")
	for msg, c := range errs {
		m.Errors = append(m.Errors, ErrorCount{Message: msg, Count: c})
	}
	sort.Slice(m.Errors, func(i, j int) bool {
		if m.Errors[i].Count != m.Errors[j].Count {
			return m.Errors[i].Count > m.Errors[j].Count
		}
		return m.Errors[i].Message < m.Errors[j].Message
	})
	m.Timeline = mergeTimelines(timelines)
	return m, nil
}

// label names the i-th result given to Merge in messages.
func (r *Result) label(i int) string {
	if r.Source != "" {
		return r.Source
	}
	return fmt.Sprintf("result %d", i+1)
}

// shardList is the shards a result holds ("i/n") and n.
func (r *Result) shardList() ([]string, int, error) {
	list := r.Shards
	if len(list) == 0 {
		list = []string{r.Shard}
	}
	n := 0
	for _, s := range list {
		sh, err := ParseShard(s)
		if err != nil {
			return nil, 0, err
		}
		if n != 0 && sh.N != n {
			return nil, 0, fmt.Errorf("shards %v are of different shard counts", list)
		}
		n = sh.N
	}
	return list, n, nil
}

// sameRun says how r differs from the run of first ("" when it does not).
func (first *Result) sameRun(r *Result, n, count int) string {
	var diffs []string
	if r.Scenario != first.Scenario {
		diffs = append(diffs, fmt.Sprintf("scenario %q, not %q", r.Scenario, first.Scenario))
	}
	if r.Seed != first.Seed {
		diffs = append(diffs, fmt.Sprintf("seed %d, not %d", r.Seed, first.Seed))
	}
	if r.MQTT != first.MQTT {
		diffs = append(diffs, fmt.Sprintf("MQTT %s, not %s", r.MQTT, first.MQTT))
	}
	if r.Fleet != first.Fleet {
		diffs = append(diffs, fmt.Sprintf("a fleet of %d devices, not %d", r.Fleet, first.Fleet))
	}
	if count != n {
		diffs = append(diffs, fmt.Sprintf("%d shards, not %d", count, n))
	}
	return strings.Join(diffs, ", ")
}

func shardIndex(s string) int {
	sh, _ := ParseShard(s)
	return sh.I
}

// MissingShards lists the shards of the fleet a (merged) result lacks.
func (r *Result) MissingShards() []string {
	have, n, err := r.shardList()
	if err != nil {
		return nil
	}
	var missing []string
	for i := range n {
		if s := (Shard{I: i, N: n}).String(); !containsString(have, s) {
			missing = append(missing, s)
		}
	}
	return missing
}

// mergeTimelines adds the shards' progress samples second by second, each
// timeline counted from its own shard's start (the shards of an Indexed
// Job start together). Within a second a shard contributes its last
// connected count and its mean rates; the rates and counts of the shards
// add. Per-second histograms are not kept, so the merged p99 of a second
// is the highest of the shards' (an upper bound of the true one).
func mergeTimelines(timelines [][]Sample) []Sample {
	bySecond := map[int]*Sample{}
	for _, tl := range timelines {
		type acc struct {
			last       Sample
			sent, recv float64
			samples    int
			p99        int64
			second     int
		}
		var cur *acc
		flush := func() {
			if cur == nil {
				return
			}
			s := bySecond[cur.second]
			if s == nil {
				s = &Sample{T: float64(cur.second)}
				bySecond[cur.second] = s
			}
			s.Connected += cur.last.Connected
			s.SentPerSec += cur.sent / float64(cur.samples)
			s.ReceivedPerSec += cur.recv / float64(cur.samples)
			s.P99us = max(s.P99us, cur.p99)
		}
		for _, smp := range tl {
			sec := int(math.Round(smp.T))
			if cur == nil || cur.second != sec {
				flush()
				cur = &acc{second: sec}
			}
			cur.last = smp
			cur.sent += smp.SentPerSec
			cur.recv += smp.ReceivedPerSec
			cur.samples++
			cur.p99 = max(cur.p99, smp.P99us)
		}
		flush()
	}
	out := make([]Sample, 0, len(bySecond))
	for _, s := range bySecond {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].T < out[j].T })
	return out
}
