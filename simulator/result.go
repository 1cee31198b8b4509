package simulator

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// ResultSchema names the JSON form of Result; it changes when a field
// changes meaning.
const ResultSchema = "mqttspec.sim/v1"

// Result is the outcome of a run (one shard). Histograms are kept in the
// HdrHistogram V2 compressed form so that shard results merge exactly.
type Result struct {
	Schema   string `json:"schema"`
	Scenario string `json:"scenario"`
	Target   string `json:"target"`
	MQTT     string `json:"mqtt"`
	Seed     uint64 `json:"seed"`
	Shard    string `json:"shard"`
	Run      string `json:"run"`
	// Shards and Runs, in a merged result (Merge), list the shards it
	// holds and their run ids; Shard then reads like "0,1,2/3".
	Shards []string `json:"shards,omitempty"`
	Runs   []string `json:"runs,omitempty"`
	// Source names where the result was read from (a file), for messages;
	// it is not part of the JSON form.
	Source    string    `json:"-"`
	Started   time.Time `json:"started"`
	Publish   float64   `json:"publish_seconds"` // the publishing phase
	Elapsed   float64   `json:"elapsed_seconds"` // whole run, drain included
	Nodes     int       `json:"nodes"`           // devices in this shard
	Fleet     int       `json:"fleet_nodes"`     // devices in all shards
	Homes     int       `json:"homes"`           // homes in all shards
	Observers int       `json:"observers"`
	// Complete is false when the run ended early or an observer lost its
	// connection: the accounting then does not cover the whole run.
	Complete bool   `json:"complete"`
	Failure  string `json:"failure,omitempty"`
	// Drained is false when the drain reached its bound with QoS 1/2
	// messages unacknowledged or not yet at an observer (they are then
	// counted as unacked or lost).
	Drained bool `json:"drained"`

	Connections Connections  `json:"connections"`
	Publishing  Publishing   `json:"publishing"`
	Accounting  [3]Tally     `json:"accounting"`
	Latency     [3]Latency   `json:"latency"`
	Foreign     uint64       `json:"foreign_messages"`    // not ours: wills, other runs, retained leftovers
	Downgraded  uint64       `json:"downgraded_messages"` // delivered below the QoS allowed
	Errors      []ErrorCount `json:"errors,omitempty"`
	Timeline    []Sample     `json:"timeline,omitempty"`
}

// Connections counts connection events.
type Connections struct {
	Connects    int64 `json:"connects"` // successful, reconnects included
	Failures    int64 `json:"failures"`
	Disconnects int64 `json:"disconnects"` // unplanned, before the end
	// AllConnectedSeconds: when every device was first connected at once
	// (0: never).
	AllConnectedSeconds float64 `json:"all_connected_seconds"`
	// ObserverReconnects: persistent observers that lost their connection
	// and resumed. SessionsLost: reconnects (devices and observers) on
	// which the broker had not kept the persistent session asked for; what
	// the session held is then missing, and counted (lost, not unacked).
	ObserverReconnects int64 `json:"observer_reconnects,omitempty"`
	SessionsLost       int64 `json:"sessions_lost,omitempty"`
	// Refused counts the failures that were a CONNACK refusing a device,
	// by its code ("0x04" bad user name or password in 3.1.1, "0x86" in
	// 5.0, ...): a wrong credentials template shows here.
	Refused map[string]int64 `json:"refused,omitempty"`
}

// Publishing counts publishes that could not be made.
type Publishing struct {
	// SkippedDisconnected: due while the device was disconnected.
	SkippedDisconnected uint64 `json:"skipped_disconnected"`
	// BlockedInflight: due while the device had maxInflight QoS 1/2
	// messages unacknowledged.
	BlockedInflight uint64 `json:"blocked_inflight"`
	// Backpressure: the connection's write buffer was full.
	Backpressure uint64 `json:"backpressure"`
	// Refused: the broker answered with a failure reason code.
	Refused uint64 `json:"refused"`
	// Commands: commands actuators received.
	Commands uint64 `json:"commands"`
	// SchedulerLagMaxUs: the longest a publish went out after its intended
	// time. Latency counts from the intended time regardless (no
	// coordinated omission); a large lag means the simulator was short of
	// CPU and its own delay is part of the latency measured.
	SchedulerLagMaxUs int64 `json:"scheduler_lag_max_us"`
}

// Latency is the latency of one QoS from the intended send time to the
// observer, in microseconds.
type Latency struct {
	QoS   int   `json:"qos"`
	Count int64 `json:"count"`
	P50   int64 `json:"p50_us"`
	P90   int64 `json:"p90_us"`
	P99   int64 `json:"p99_us"`
	P999  int64 `json:"p99_9_us"`
	P9999 int64 `json:"p99_99_us"`
	Max   int64 `json:"max_us"`
	// Histogram: HdrHistogram V2 compressed, base64 (1 µs to 1 h, 3
	// significant digits): decode with DecodeHistogram and merge.
	Histogram string `json:"hdr_histogram"`
}

// ErrorCount is an error message and how often it happened.
type ErrorCount struct {
	Message string `json:"message"`
	Count   int64  `json:"count"`
}

// Sample is one progress interval.
type Sample struct {
	T              float64 `json:"t"` // seconds since start
	Connected      int64   `json:"connected"`
	SentPerSec     float64 `json:"sent_per_s"`
	ReceivedPerSec float64 `json:"received_per_s"`
	P99us          int64   `json:"p99_us"`
}

// DecodeHistogram reads a Latency.Histogram.
func DecodeHistogram(s string) (*hdrhistogram.Histogram, error) {
	if s == "" {
		return newHistogram(), nil
	}
	return hdrhistogram.Decode([]byte(s))
}

func latencyOf(q int, h *hdrhistogram.Histogram) Latency {
	l := Latency{QoS: q, Count: h.TotalCount()}
	if l.Count > 0 {
		l.P50, l.P90, l.P99 = h.ValueAtQuantile(50), h.ValueAtQuantile(90), h.ValueAtQuantile(99)
		l.P999, l.P9999, l.Max = h.ValueAtQuantile(99.9), h.ValueAtQuantile(99.99), h.Max()
	}
	if b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase); err == nil {
		l.Histogram = string(b)
	}
	return l
}

// Violations counts broken guarantees: QoS 1/2 messages lost, QoS 2
// duplicates, messages delivered out of order or below their QoS.
func (r *Result) Violations() uint64 {
	a := r.Accounting
	return a[1].Lost + a[2].Lost + a[2].Duplicates + a[0].Reordered + a[1].Reordered + a[2].Reordered + r.Downgraded
}

// ReadResult reads a result written by WriteJSON; a file of another
// schema is refused with an error naming it.
func ReadResult(rd io.Reader) (*Result, error) {
	var r Result
	dec := json.NewDecoder(rd)
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("not a simulator result: %w", err)
	}
	if r.Schema != ResultSchema {
		return nil, fmt.Errorf("schema %q is not a simulator result (%s)", r.Schema, ResultSchema)
	}
	return &r, nil
}

// WriteJSON writes the result as indented JSON.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteSummary prints the accounting and latency tables.
func (r *Result) WriteSummary(w io.Writer) {
	run := "run " + r.Run
	if len(r.Runs) > 0 {
		run = "runs " + strings.Join(r.Runs, " ")
	}
	fmt.Fprintf(w, "\nmqttspec sim: scenario %s, %d devices (shard %s of %d), %s, MQTT %s, %s\n",
		r.Scenario, r.Nodes, r.Shard, r.Fleet, r.Target, r.MQTT, run)
	c := r.Connections
	fmt.Fprintf(w, "connections: %d connects, %d failures, %d drops", c.Connects, c.Failures, c.Disconnects)
	if c.AllConnectedSeconds > 0 {
		fmt.Fprintf(w, "; all connected after %.2fs", c.AllConnectedSeconds)
	}
	if c.ObserverReconnects > 0 {
		fmt.Fprintf(w, "; observers reconnected %d times", c.ObserverReconnects)
	}
	if c.SessionsLost > 0 {
		fmt.Fprintf(w, "; the broker had not kept %d persistent sessions", c.SessionsLost)
	}
	if len(c.Refused) > 0 {
		codes := make([]string, 0, len(c.Refused))
		for code := range c.Refused {
			codes = append(codes, code)
		}
		sort.Strings(codes)
		fmt.Fprint(w, "; refused by CONNACK:")
		for _, code := range codes {
			fmt.Fprintf(w, " %d × %s", c.Refused[code], code)
		}
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "QoS\tsent\texpected\treceived\tlost\tduplicates\treordered\tabandoned\tunacked\t")
	for _, t := range r.Accounting {
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", t.QoS, t.Sent, t.Expected, t.Received, t.Lost,
			t.Duplicates, t.Reordered, t.Abandoned, t.Unacked)
	}
	tw.Flush()
	fmt.Fprintln(w, "latency from the intended send time (ms):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "QoS\tcount\tp50\tp90\tp99\tp99.9\tp99.99\tmax\t")
	ms := func(us int64) string { return fmt.Sprintf("%.2f", float64(us)/1000) }
	for _, l := range r.Latency {
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", l.QoS, l.Count, ms(l.P50), ms(l.P90), ms(l.P99), ms(l.P999), ms(l.P9999), ms(l.Max))
	}
	tw.Flush()
	p := r.Publishing
	fmt.Fprintf(w, "not published: %d while disconnected, %d in-flight window full, %d write buffer full; %d refused; %d commands reached actuators; %d foreign messages; scheduler lag at most %.1f ms\n",
		p.SkippedDisconnected, p.BlockedInflight, p.Backpressure, p.Refused, p.Commands, r.Foreign, float64(p.SchedulerLagMaxUs)/1000)
	if !r.Drained && r.Complete {
		fmt.Fprintln(w, "the drain reached its bound (--drain) before every QoS 1/2 message was acknowledged and delivered")
	}
	for i, e := range r.Errors {
		if i == 5 {
			fmt.Fprintf(w, "  ... %d more kinds of error (see the JSON result)\n", len(r.Errors)-5)
			break
		}
		fmt.Fprintf(w, "  error ×%d: %s\n", e.Count, e.Message)
	}
	fmt.Fprintln(w, r.Verdict())
}

// Verdict is the result in one line: INCOMPLETE, VIOLATIONS (which) or
// OK.
func (r *Result) Verdict() string {
	switch {
	case !r.Complete:
		return "INCOMPLETE: " + r.Failure
	case r.Violations() > 0:
		var parts []string
		a := r.Accounting
		if n := a[1].Lost + a[2].Lost; n > 0 {
			parts = append(parts, fmt.Sprintf("%d QoS 1/2 messages lost", n))
		}
		if a[2].Duplicates > 0 {
			parts = append(parts, fmt.Sprintf("%d QoS 2 duplicates", a[2].Duplicates))
		}
		if n := a[0].Reordered + a[1].Reordered + a[2].Reordered; n > 0 {
			parts = append(parts, fmt.Sprintf("%d reordered", n))
		}
		if r.Downgraded > 0 {
			parts = append(parts, fmt.Sprintf("%d downgraded", r.Downgraded))
		}
		return "VIOLATIONS: " + strings.Join(parts, ", ")
	default:
		return fmt.Sprintf("OK: every acknowledged QoS 1/2 message arrived exactly once and in order (QoS 0 lost: %d)", r.Accounting[0].Lost)
	}
}

// result assembles the Result after the run.
func (e *engine) result(started time.Time, timeline []Sample) *Result {
	s := e.plan.s
	r := &Result{Schema: ResultSchema, Scenario: s.Name, Target: e.opts.Target, MQTT: e.plan.version.String(),
		Seed: e.opts.Seed, Shard: e.fleet.Shard.String(), Run: e.run, Started: started,
		Publish: float64(e.publishEnd-(e.end-e.opts.Duration.Microseconds())) / 1e6, Elapsed: time.Since(started).Seconds(),
		Nodes: len(e.nodes), Fleet: e.fleet.Total, Homes: e.fleet.Homes, Observers: len(e.observers),
		Complete: true, Drained: e.drained, Timeline: timeline, Errors: e.errorList()}
	r.Connections = Connections{Connects: e.connects.Load(), Failures: e.connectFailures.Load(),
		Disconnects: e.disconnects.Load(), AllConnectedSeconds: float64(e.allConnectedAt.Load()) / 1e6,
		ObserverReconnects: e.observerReconnects.Load(), SessionsLost: e.sessionsLost.Load()}
	for code := range e.refusedConnects {
		if n := e.refusedConnects[code].Load(); n > 0 {
			if r.Connections.Refused == nil {
				r.Connections.Refused = map[string]int64{}
			}
			r.Connections.Refused[fmt.Sprintf("0x%02X", code)] = n
		}
	}
	r.Publishing = Publishing{SkippedDisconnected: e.skipped.Load(), BlockedInflight: e.blocked.Load(),
		Backpressure: e.backpressure.Load(), Refused: e.refused.Load(), Commands: e.commands.Load(),
		SchedulerLagMaxUs: e.maxLag.Load()}

	ledgers := map[uint64]*ledger{}
	for l := range e.nodes {
		nd := &e.nodes[l]
		g := e.fleet.Global(l)
		nd.mu.Lock()
		for q := range 3 {
			if nd.seq[q] == 0 {
				continue
			}
			key := uint64(g)<<2 | uint64(q)
			ledgers[key] = &ledger{sent: nd.seq[q], abandoned: e.abandoned[key]}
		}
		for _, m := range nd.inflight {
			if m.stage == 0 {
				key := uint64(g)<<2 | uint64(m.q)
				ledgers[key].unacked = append(ledgers[key].unacked, m.seq)
			}
		}
		nd.mu.Unlock()
	}
	var tallies [3]Tally
	for q := range 3 {
		tallies[q].QoS = q
		tallies[q].Sent = e.sent[q].Load()
	}
	for key, l := range ledgers {
		tallies[key&3].Abandoned += uint64(len(l.abandoned))
		tallies[key&3].Unacked += uint64(len(l.unacked))
	}
	var lat [3]*hdrhistogram.Histogram
	for q := range lat {
		lat[q] = newHistogram()
	}
	for _, ob := range e.observers {
		ob.mu.Lock()
		ob.acct.reconcile(ledgers, func(id uint32) bool { return ob.interested(int(id)) }, &tallies)
		for q := range lat {
			lat[q].Merge(ob.acct.latency[q])
		}
		r.Foreign += ob.acct.foreign
		r.Downgraded += ob.acct.downgraded
		ob.mu.Unlock()
	}
	r.Accounting = tallies
	for q := range lat {
		r.Latency[q] = latencyOf(q, lat[q])
	}
	return r
}
