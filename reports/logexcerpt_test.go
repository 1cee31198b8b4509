package reports

import (
	"strings"
	"testing"
	"time"
)

func TestParseLogTime(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			panic(err)
		}
		return v
	}
	tests := []struct {
		line string
		want time.Time
		prec time.Duration
	}{
		{`time=2026-11-26T00:08:48.945Z level=WARN msg="x"`, at("2026-11-26T00:08:48.945Z"), time.Millisecond},
		{`2026-11-26 00:11:22.559489+00:00 [info] <0.9709.0> accepting MQTT connection`, at("2026-11-26T00:11:22.559489Z"), time.Microsecond},
		{`2026-11-26 01:11:22.5+01:00 [info] x`, at("2026-11-26T00:11:22.5Z"), 100 * time.Millisecond},
		{`[1] 2026/11/26 00:10:29.392614 [ERR] 172.17.0.1:48830 - mid:575`, at("2026-11-26T00:10:29.392614Z"), time.Microsecond},
		{`1795651984: New connection from 172.17.0.1:33910 on port 1883.`, time.Unix(1795651984, 0).UTC(), time.Second},
		{`1795651984.250: New connection`, time.Unix(1795651984, 250_000_000).UTC(), time.Millisecond},
		{`{"time":"2026-11-26T00:08:48Z","level":"INFO"}`, at("2026-11-26T00:08:48Z"), time.Second},
		{`2026-11-26T00:08:48.123456789123Z beyond nanoseconds`, at("2026-11-26T00:08:48.123456789Z"), time.Nanosecond},
	}
	for _, tc := range tests {
		got, prec, ok := parseLogTime(tc.line)
		if !ok || !got.Equal(tc.want) || prec != tc.prec {
			t.Errorf("parseLogTime(%q) = %v, %v, %v; want %v, %v", tc.line, got, prec, ok, tc.want, tc.prec)
		}
	}
	for _, line := range []string{
		"", "\tmqttspec/a/b (QoS 1)", "mosquitto version 2.0.11 running", "12345: too short for an epoch",
		"[INF] no pid", "2026-11-26 broken", "{\"level\":\"INFO\"}", "2026-13-45T99:99:99Z impossible",
	} {
		if _, _, ok := parseLogTime(line); ok {
			t.Errorf("parseLogTime(%q) found a time stamp", line)
		}
	}
}

func TestExcerptLogWindow(t *testing.T) {
	base := time.Date(2026, 11, 26, 0, 13, 4, 0, time.UTC)
	log := strings.Join([]string{
		"1795651983: before the spec",
		"1795651984: New client connected as mqttspec-x-c357",
		"1795651984: \tcontinuation of the line above",
		"1795651985: Received PINGREQ from mqttspec-x-c357",
		"1795651990: long after the spec",
	}, "\n")
	// The spec ran from 04.516 to 05.2: the second-precision lines of
	// 04 and 05 are in, 03 and 10 are out.
	ex := ExcerptLog(log, base.Add(516*time.Millisecond), base.Add(1200*time.Millisecond), 0)
	if ex == nil || ex.Method != LogWindow {
		t.Fatalf("excerpt %+v, want a window", ex)
	}
	want := "1795651984: New client connected as mqttspec-x-c357\n1795651984: \tcontinuation of the line above\n1795651985: Received PINGREQ from mqttspec-x-c357"
	if ex.Text != want || ex.Omitted != 0 {
		t.Errorf("window text %q (omitted %d), want %q", ex.Text, ex.Omitted, want)
	}

	// Bounded: the latest lines are kept.
	ex = ExcerptLog(log, base.Add(516*time.Millisecond), base.Add(1200*time.Millisecond), 2)
	if ex.Omitted != 1 || !strings.HasPrefix(ex.Text, "1795651984: \tcontinuation") {
		t.Errorf("bounded excerpt %q, omitted %d", ex.Text, ex.Omitted)
	}

	// A quiet broker: the log reaches back before the window, nothing in it.
	ex = ExcerptLog(log, base.Add(2*time.Second), base.Add(3*time.Second), 0)
	if ex == nil || ex.Method != LogWindow || ex.Text != "" {
		t.Errorf("quiet window: %+v, want an empty window excerpt", ex)
	}
	// A log that starts after the window says nothing about it: its tail.
	ex = ExcerptLog(log, base.Add(-time.Hour), base.Add(-time.Hour+time.Second), 0)
	if ex == nil || ex.Method != LogTail || !strings.HasSuffix(ex.Text, "long after the spec") {
		t.Errorf("log after the window: %+v, want the tail", ex)
	}
	// No window: the tail.
	if ex := ExcerptLog(log, time.Time{}, time.Time{}, 2); ex.Method != LogTail || ex.Omitted != 3 {
		t.Errorf("no window: %+v", ex)
	}
	// A log without stamps: the tail, whatever the window.
	ex = ExcerptLog("starting\nrunning\nstopped", base, base.Add(time.Second), 2)
	if ex.Method != LogTail || ex.Text != "running\nstopped" || ex.Omitted != 1 {
		t.Errorf("unstamped log: %+v", ex)
	}
	if ExcerptLog("", base, base, 0) != nil || ExcerptLog("\n\n", base, base, 0) != nil {
		t.Error("an empty log gave an excerpt")
	}
	// Very long lines are cut.
	ex = ExcerptLog("time=2026-11-26T00:13:04.600Z "+strings.Repeat("x", 5000), base, base.Add(time.Second), 0)
	if len(ex.Text) > maxExcerptLineBytes+10 || !strings.HasSuffix(ex.Text, "…") {
		t.Errorf("long line kept at %d bytes", len(ex.Text))
	}
}

func TestFillLogExcerptsPrefersTheRunLog(t *testing.T) {
	start := time.Date(2026, 11, 26, 0, 8, 48, 900_000_000, time.UTC)
	c := &Conformance{
		Logs: "time=2026-11-26T00:08:48.800Z before\ntime=2026-11-26T00:08:48.950Z during the failing spec\ntime=2026-11-26T00:08:49.500Z after",
		Specs: []Spec{
			{Name: "fails", Verdict: VerdictFail, Start: start, Duration: 100 * time.Millisecond, Logs: "harness tail only"},
			{Name: "passes", Verdict: VerdictPass, Start: start, Duration: 100 * time.Millisecond},
			{Name: "has one", Verdict: VerdictFail, LogExcerpt: &LogExcerpt{Method: LogTail, Text: "kept"}},
		},
	}
	c.FillLogExcerpts(0)
	if ex := c.Specs[0].LogExcerpt; ex == nil || ex.Text != "time=2026-11-26T00:08:48.950Z during the failing spec" {
		t.Errorf("failing spec excerpt %+v", ex)
	}
	if c.Specs[1].LogExcerpt != nil {
		t.Error("a passing spec got an excerpt")
	}
	if c.Specs[2].LogExcerpt.Text != "kept" {
		t.Error("an existing excerpt was replaced")
	}
	// Without the run log, the spec's own log (no stamps) gives its tail.
	c.Logs, c.Specs[0].LogExcerpt = "", nil
	c.FillLogExcerpts(0)
	if ex := c.Specs[0].LogExcerpt; ex == nil || ex.Method != LogTail || ex.Text != "harness tail only" {
		t.Errorf("fallback excerpt %+v", ex)
	}
}

func TestFromGinkgoFillsStartAndExcerpt(t *testing.T) {
	c := sampleConformance()
	for _, sp := range c.Specs {
		if sp.Area != AreaSuite && !sp.Start.Equal(t0) {
			t.Errorf("%s: start %v, want the spec's start %v", sp.Name, sp.Start, t0)
		}
		if sp.Area == "PUBLISH" {
			// Its log line is stamped with the spec's second (Unix 1741964966 = t0).
			if ex := sp.LogExcerpt; ex == nil || ex.Method != LogWindow || ex.Text != "1741964966: Client c1 sent PUBLISH (q3)" {
				t.Errorf("failing spec excerpt %+v", ex)
			}
		}
		if sp.Verdict == VerdictPass && sp.LogExcerpt != nil {
			t.Errorf("%s passed but has an excerpt", sp.Name)
		}
	}
}
