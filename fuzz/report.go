package fuzz

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mqttspec/mqttspec/reports"
)

// ParseShard reads "i/n" (0 <= i < n).
func ParseShard(s string) (shard, shards int, err error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, fmt.Errorf("shard %q: want i/n with 0 <= i < n, e.g. 0/4", s)
	}
	return i, n, nil
}

// Report is the run as the HTML summary's model. reportPath is where the
// page will be written: links to the reproducer files are made relative
// to it, so the page and the findings directory can move together.
func (s *Summary) Report(tool reports.ToolInfo, reportPath string) *reports.Fuzz {
	r := &reports.Fuzz{Tool: tool, Target: s.Target, Seed: s.Seed, Shard: s.Shard, Workers: s.Workers, Started: s.StartedAt,
		Seconds: s.Seconds, Executions: s.Executions, ExecsPerSecond: s.ExecsPerSecond, Corpus: s.Corpus, Behaviours: s.Behaviours,
		StoppedBecause: s.StoppedBecause, Restarts: s.Restarts,
		ExecsByPacketType: reports.FuzzCounts(s.ExecsByPacketType), Mutations: reports.FuzzCounts(s.Mutations),
		PacketsSent: reports.FuzzCounts(s.PacketTypes), Responses: reports.FuzzCounts(s.ResponseTypes), Ends: reports.FuzzCounts(s.Ends),
		Memory: memoryModel(s.Memory)}
	files := map[string]string{}
	for _, ref := range s.Findings {
		files[ref.ID] = ref.File
	}
	for _, f := range s.findings {
		if f != nil {
			r.Findings = append(r.Findings, FindingModel(f, relativeLink(reportPath, files[f.ID])))
		}
	}
	return r
}

// FindingModel is one finding as the HTML summary shows it; link is the
// reproducer's address relative to the page ("" when it was not saved).
func FindingModel(f *Finding, link string) reports.FuzzFinding {
	m := reports.FuzzFinding{ID: f.ID, Oracle: f.Oracle, Detail: f.Detail, File: link, Execution: f.Execution, Worker: f.Worker,
		Version: f.Version, Mutations: f.Mutations, Occurrences: f.Occurrences, Preceding: len(f.Preceding), End: f.End,
		TargetState: f.TargetState, Restart: f.Restart, LogTail: f.LogTail, Memory: memoryModel(f.Memory)}
	if f.Violation != nil {
		m.Statement = f.Violation.Statement
	}
	if f.Health != nil {
		m.Health = fmt.Sprintf("%s after %v: %s", f.Health.Oracle, f.Health.Took.Round(time.Millisecond), f.Health.Detail)
		if f.Health.OK {
			m.Health = "healthy"
		}
	}
	for _, p := range f.Packets {
		m.Packets = append(m.Packets, reports.FuzzPacket{Hex: p.Hex, Summary: p.Summary, Fields: string(p.Fields), Error: p.Error})
	}
	for _, p := range f.Responses {
		m.Responses = append(m.Responses, reports.FuzzPacket{Hex: p.Hex, Summary: p.Summary, Error: p.Error,
			At: time.Duration(p.AtNs).Round(time.Microsecond).String()})
	}
	return m
}

func memoryModel(m *MemoryReport) *reports.FuzzMemory {
	if m == nil {
		return nil
	}
	out := &reports.FuzzMemory{BoundBytes: m.BoundBytes, Note: m.Note}
	for _, s := range m.Samples {
		out.Samples = append(out.Samples, reports.FuzzMemorySample{AtSeconds: s.AtSeconds, Bytes: s.Bytes, Restarts: s.Restarts})
	}
	return out
}

// relativeLink is file's path relative to the report's directory, with
// forward slashes; file itself when no relative path exists.
func relativeLink(reportPath, file string) string {
	if file == "" {
		return ""
	}
	if reportPath == "" || reportPath == "-" {
		return filepath.ToSlash(file)
	}
	absReport, err1 := filepath.Abs(reportPath)
	absFile, err2 := filepath.Abs(file)
	if err1 != nil || err2 != nil {
		return filepath.ToSlash(file)
	}
	rel, err := filepath.Rel(filepath.Dir(absReport), absFile)
	if err != nil {
		return filepath.ToSlash(absFile)
	}
	return filepath.ToSlash(rel)
}
