package reports

import (
	"strconv"
	"strings"
	"time"
)

// DefaultExcerptLines bounds a spec's log excerpt: enough for the lines
// one spec causes on a chatty broker, small enough that a report with a
// hundred failures stays light.
const DefaultExcerptLines = 60

// maxExcerptLineBytes cuts single log lines that are longer (a broker
// dumping a payload): the point is to see what happened, not the bytes.
const maxExcerptLineBytes = 600

// windowSlack widens a spec's time window at its end: a broker may log the
// consequence of the last packet (a close, an error) just after the spec
// saw it.
const windowSlack = 20 * time.Millisecond

// ExcerptLog returns the part of a broker log that belongs to the time
// window [from, to]: the lines whose time stamp falls in it (a line without
// a readable time stamp, such as a continuation, takes the previous line's).
// It understands the stamps of the brokers mqttspec runs: RFC 3339 at the
// start of a line or as slog's time= (mochi, the reference broker), "date
// time+zone" (RabbitMQ), "[pid] yyyy/mm/dd hh:mm:ss.us" (NATS, read as UTC)
// and Unix seconds followed by a colon (Mosquitto); a stamp's precision
// counts, so a Mosquitto line stamped with the spec's first second is in.
//
// When no line falls in the window but the log reaches back before it, the
// excerpt's Text is empty: the broker logged nothing meanwhile. When the log has no such stamps, or the window is
// unknown (zero from or to), the excerpt is the log's tail and its Method
// says so. At most maxLines lines are kept (the latest ones; Omitted
// counts the others); maxLines <= 0 means DefaultExcerptLines. An empty log
// gives nil.
func ExcerptLog(log string, from, to time.Time, maxLines int) *LogExcerpt {
	if maxLines <= 0 {
		maxLines = DefaultExcerptLines
	}
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	if len(lines) == 1 && strings.TrimSpace(lines[0]) == "" {
		return nil
	}
	if !from.IsZero() && !to.IsZero() && !to.Before(from) {
		if ex := windowExcerpt(lines, from, to.Add(windowSlack), maxLines); ex != nil {
			return ex
		}
	}
	return keepLast(lines, maxLines, &LogExcerpt{Method: LogTail})
}

func windowExcerpt(lines []string, from, to time.Time, maxLines int) *LogExcerpt {
	var (
		in            []string
		stamped       int
		last          time.Time
		lastPrecision time.Duration
		haveLast      bool
		reachesBack   bool // a stamp before the window: the log covers its start
	)
	for _, l := range lines {
		if t, p, ok := parseLogTime(l); ok {
			stamped++
			last, lastPrecision, haveLast = t, p, true
			if t.Before(from) {
				reachesBack = true
			}
		}
		if !haveLast {
			continue
		}
		// A stamp of precision p covers [t, t+p): the line is in when that
		// interval meets the window.
		if last.Add(lastPrecision).After(from) && !last.After(to) {
			in = append(in, l)
		}
	}
	// A log in which most lines carry no stamp we read is not one we
	// understand: a few matches could be coincidences.
	if stamped == 0 || stamped*2 < nonEmpty(lines) {
		return nil
	}
	ex := &LogExcerpt{Method: LogWindow, From: from, To: to}
	if len(in) == 0 {
		if !reachesBack {
			return nil // the log starts after the window: it says nothing about it
		}
		return ex // the broker logged nothing while the spec ran: that is a finding too
	}
	return keepLast(in, maxLines, ex)
}

func nonEmpty(lines []string) int {
	n := 0
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			n++
		}
	}
	return n
}

func keepLast(lines []string, maxLines int, ex *LogExcerpt) *LogExcerpt {
	if len(lines) > maxLines {
		ex.Omitted = len(lines) - maxLines
		lines = lines[len(lines)-maxLines:]
	}
	var b strings.Builder
	for i, l := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		if len(l) > maxExcerptLineBytes {
			l = strings.ToValidUTF8(l[:maxExcerptLineBytes], "") + " …"
		}
		b.WriteString(l)
	}
	ex.Text = b.String()
	return ex
}

// parseLogTime reads the time stamp a broker log line starts with and its
// precision (1s for whole seconds, 1ms for three decimals, ...).
func parseLogTime(line string) (time.Time, time.Duration, bool) {
	s := strings.TrimLeft(line, " \t")
	switch {
	case strings.HasPrefix(s, "time="): // slog text handler
		v := strings.TrimPrefix(s, "time=")
		if end := strings.IndexByte(v, ' '); end >= 0 {
			v = v[:end]
		}
		return parseStamp(strings.Trim(v, `"`))
	case strings.HasPrefix(s, "{"): // JSON lines: {"time":"..."} or {"ts":"..."}
		for _, key := range []string{`"time":"`, `"ts":"`, `"timestamp":"`} {
			if i := strings.Index(s, key); i >= 0 {
				v := s[i+len(key):]
				if end := strings.IndexByte(v, '"'); end >= 0 {
					return parseStamp(v[:end])
				}
			}
		}
		return time.Time{}, 0, false
	case strings.HasPrefix(s, "["): // NATS: "[1] 2026/11/26 00:10:03.212751 [INF] ..."
		if end := strings.IndexByte(s, ']'); end > 0 && isDigits(s[1:end]) {
			s = strings.TrimLeft(s[end+1:], " ")
		}
	}
	if t, p, ok := parseStamp(s); ok {
		return t, p, ok
	}
	return parseEpoch(s)
}

// parseStamp reads a date and time at the start of s: yyyy-mm-dd or
// yyyy/mm/dd, then 'T' or ' ', hh:mm:ss with optional fraction, then an
// optional zone (Z, ±hh:mm, ±hhmm; none means UTC).
func parseStamp(s string) (time.Time, time.Duration, bool) {
	if len(s) < 19 || !isDigits(s[0:4]) || (s[4] != '-' && s[4] != '/') || s[7] != s[4] ||
		(s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':' {
		return time.Time{}, 0, false
	}
	i := 19
	digits := 0
	if i < len(s) && (s[i] == '.' || s[i] == ',') {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' && digits < 9 {
			i++
			digits++
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' { // beyond nanoseconds
			i++
		}
	}
	var norm strings.Builder
	norm.WriteString(s[0:4] + "-" + s[5:7] + "-" + s[8:10] + "T" + s[11:19])
	if digits > 0 {
		frac := s[20 : 20+digits]
		norm.WriteString("." + frac)
	}
	zone := "Z"
	switch {
	case i < len(s) && s[i] == 'Z':
	case i+6 <= len(s) && (s[i] == '+' || s[i] == '-') && s[i+3] == ':':
		zone = s[i : i+6]
	case i+5 <= len(s) && (s[i] == '+' || s[i] == '-') && isDigits(s[i+1:i+5]):
		zone = s[i:i+3] + ":" + s[i+3:i+5]
	}
	norm.WriteString(zone)
	t, err := time.Parse(time.RFC3339Nano, norm.String())
	if err != nil {
		return time.Time{}, 0, false
	}
	return t, precision(digits), true
}

// parseEpoch reads Unix seconds (9 to 11 digits, optional fraction)
// followed by a colon or a space, as Mosquitto writes them.
func parseEpoch(s string) (time.Time, time.Duration, bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i < 9 || i > 11 {
		return time.Time{}, 0, false
	}
	sec, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return time.Time{}, 0, false
	}
	digits := 0
	var nanos int64
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		frac := s[i+1 : j]
		if len(frac) > 9 {
			frac = frac[:9]
		}
		digits = len(frac)
		if digits > 0 {
			n, _ := strconv.ParseInt(frac+strings.Repeat("0", 9-digits), 10, 64)
			nanos = n
		}
		i = j
	}
	if i >= len(s) || (s[i] != ':' && s[i] != ' ') {
		return time.Time{}, 0, false
	}
	return time.Unix(sec, nanos).UTC(), precision(digits), true
}

func precision(fractionDigits int) time.Duration {
	p := time.Second
	for range fractionDigits {
		p /= 10
	}
	if p <= 0 {
		p = time.Nanosecond
	}
	return p
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// specWindow is the time a spec ran: its start and duration when known,
// otherwise the span of its wire trace.
func specWindow(sp Spec) (from, to time.Time) {
	if !sp.Start.IsZero() {
		return sp.Start, sp.Start.Add(sp.Duration)
	}
	for _, e := range sp.Trace {
		if e.At.IsZero() {
			continue
		}
		if from.IsZero() || e.At.Before(from) {
			from = e.At
		}
		if e.At.After(to) {
			to = e.At
		}
	}
	return from, to
}

// needsLogExcerpt: the specs whose broker log a reader wants to see.
func needsLogExcerpt(v Verdict) bool {
	return v == VerdictFail || v == VerdictNonStrict || v == VerdictBrokerDown
}

// FillLogExcerpts sets LogExcerpt on every failing, non-strict and
// broker-down spec that has none: from the run's log (c.Logs) when its time
// stamps cover the spec's window, otherwise from the spec's own Logs. Call
// it after setting c.Logs; FromGinkgo already fills excerpts from the
// specs' own logs.
func (c *Conformance) FillLogExcerpts(maxLines int) {
	for i := range c.Specs {
		sp := &c.Specs[i]
		if sp.LogExcerpt == nil && needsLogExcerpt(sp.Verdict) {
			sp.LogExcerpt = excerptFor(*sp, c.Logs, maxLines)
		}
	}
}

// excerptFor picks the best excerpt for sp: a time window of the run log,
// else a window of the spec's own log, else the tail of the spec's own log
// (what the harness captured at the failure), else nothing.
func excerptFor(sp Spec, runLog string, maxLines int) *LogExcerpt {
	from, to := specWindow(sp)
	if runLog != "" {
		// The run log is the better source only where it has the lines: it
		// may be a tail that ends before the spec ran.
		if ex := ExcerptLog(runLog, from, to, maxLines); ex != nil && ex.Method == LogWindow && ex.Text != "" {
			return ex
		}
	}
	return ExcerptLog(sp.Logs, from, to, maxLines)
}
