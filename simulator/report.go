package simulator

import (
	"fmt"

	"github.com/mqttspec/mqttspec/reports"
)

// Report is the result as the reports package's model, for the HTML
// report (reports.WriteSimHTML). tool names the program that wrote it.
func (r *Result) Report(tool reports.ToolInfo) (*reports.Sim, error) {
	s := &reports.Sim{Tool: tool, Scenario: r.Scenario, Target: r.Target, MQTT: r.MQTT, Seed: r.Seed,
		Shard: r.Shard, MissingShards: r.MissingShards(), Runs: r.Runs, Started: r.Started,
		PublishSeconds: r.Publish, ElapsedSeconds: r.Elapsed, Nodes: r.Nodes, FleetNodes: r.Fleet, Homes: r.Homes,
		Observers: r.Observers, Complete: r.Complete, Failure: r.Failure, Drained: r.Drained,
		Verdict: r.Verdict(), Violations: r.Violations(),
		Connects: r.Connections.Connects, ConnectFailures: r.Connections.Failures,
		Disconnects: r.Connections.Disconnects, AllConnectedSeconds: r.Connections.AllConnectedSeconds}
	if len(s.Runs) == 0 && r.Run != "" {
		s.Runs = []string{r.Run}
	}
	for _, t := range r.Accounting {
		s.Accounting = append(s.Accounting, reports.SimTally{QoS: t.QoS, Sent: t.Sent, Expected: t.Expected,
			Received: t.Received, Lost: t.Lost, Duplicates: t.Duplicates, Reordered: t.Reordered,
			Abandoned: t.Abandoned, Unacked: t.Unacked, Late: t.Late})
	}
	all := newHistogram()
	for q, l := range r.Latency {
		s.Latency = append(s.Latency, simLatency(fmt.Sprintf("QoS %d", q), l))
		h, err := DecodeHistogram(l.Histogram)
		if err != nil {
			return nil, fmt.Errorf("QoS %d latency histogram: %w", q, err)
		}
		all.Merge(h)
	}
	s.Latency = append(s.Latency, simLatency("all", latencyOf(0, all)))

	p := r.Publishing
	note := func(n uint64, format string) {
		if n > 0 {
			s.Notes = append(s.Notes, fmt.Sprintf(format, n))
		}
	}
	note(p.SkippedDisconnected, "%d publishes fell due while their device was disconnected (not sent)")
	note(p.BlockedInflight, "%d publishes fell due while their device's QoS 1/2 in-flight window was full (not sent)")
	note(p.Backpressure, "%d publishes did not fit the connection's write buffer (not sent)")
	note(p.Refused, "%d publishes or subscriptions refused by the broker")
	note(p.Commands, "%d commands reached actuators")
	note(uint64(r.Connections.ObserverReconnects), "%d observer reconnects (persistent sessions)")
	note(uint64(r.Connections.SessionsLost), "%d reconnects found that the broker had not kept the persistent session (its messages are counted as lost)")
	note(r.Foreign, "%d messages that are not this run's (last wills, other runs, retained leftovers)")
	note(r.Downgraded, "%d messages delivered below the QoS they were published and subscribed with")
	var late uint64
	for _, t := range r.Accounting {
		late += t.Late
	}
	note(late, "%d arrivals too far behind to tell from duplicates")
	if p.SchedulerLagMaxUs > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("the simulator sent a publish at most %.1f ms after its intended time (counted in the latency)",
			float64(p.SchedulerLagMaxUs)/1000))
	}
	for _, e := range r.Errors {
		s.Errors = append(s.Errors, reports.SimError{Message: e.Message, Count: e.Count})
	}
	for _, t := range r.Timeline {
		s.Timeline = append(s.Timeline, reports.SimSample{T: t.T, Connected: t.Connected, SentPerSec: t.SentPerSec,
			ReceivedPerSec: t.ReceivedPerSec, P99us: t.P99us})
	}
	return s, nil
}

func simLatency(label string, l Latency) reports.SimLatency {
	return reports.SimLatency{Label: label, Count: l.Count, P50: l.P50, P90: l.P90, P99: l.P99, P999: l.P999,
		P9999: l.P9999, Max: l.Max}
}
