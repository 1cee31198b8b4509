//go:build browser

package reports

// The report and the matrix in a real browser: Debian's chromium, headless,
// driven by chromedp. Run with `make test-browser` (or go test -tags browser
// ./reports/). Needs chromium on PATH, or its path in $CHROMIUM.
// Screenshots go to $MQTTSPEC_SCREENSHOTS (default: out/ at the repository
// root).

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// browser is a headless chromium tab. It collects what must not happen: a
// console error or warning, an uncaught exception, a browser log error (a
// failed load), a request for anything that is not a local file.
type browser struct {
	ctx      context.Context
	mu       sync.Mutex
	problems []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	exe := os.Getenv("CHROMIUM")
	if exe == "" {
		for _, name := range []string{"chromium", "chromium-browser"} {
			if p, err := exec.LookPath(name); err == nil {
				exe = p
				break
			}
		}
	}
	if exe == "" {
		t.Fatal("chromium not found: install Debian's chromium (apt-get install -y chromium) or set $CHROMIUM")
	}
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.WindowSize(1400, 1000),
	)
	if os.Geteuid() == 0 {
		// Chromium refuses to start as root with its sandbox on (CI runs as root).
		opts = append(opts, chromedp.NoSandbox)
	}
	b := &browser{}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithListener(b.listen))
	// A failure deadline, not a timing assertion: a wedged browser must not
	// hang the suite.
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	b.ctx = ctx
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium (%s): %v", exe, err)
	}
	return b
}

// listen runs in the tab's message loop: it only records.
func (b *browser) listen(ev any) {
	var problem string
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning ||
			e.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range e.Args {
				args = append(args, strings.TrimSpace(string(a.Value)+" "+a.Description))
			}
			problem = fmt.Sprintf("console.%s: %s", e.Type, strings.Join(args, " "))
		}
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		problem = fmt.Sprintf("exception at %d:%d: %s", d.LineNumber+1, d.ColumnNumber+1, d.Text)
		if d.Exception != nil {
			problem += " " + d.Exception.Description
		}
	case *cdplog.EventEntryAdded:
		if e.Entry.Level == cdplog.EntryLevelError || e.Entry.Level == cdplog.EntryLevelWarning {
			problem = fmt.Sprintf("browser log %s: %s %s", e.Entry.Level, e.Entry.Text, e.Entry.URL)
		}
	case *network.EventRequestWillBeSent:
		if u := e.Request.URL; !strings.HasPrefix(u, "file://") && !strings.HasPrefix(u, "data:") {
			problem = "network request: " + u
		}
	}
	if problem != "" {
		b.mu.Lock()
		b.problems = append(b.problems, problem)
		b.mu.Unlock()
	}
}

func (b *browser) do(t *testing.T, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// open loads a file and waits until the page's script has run.
func (b *browser) open(t *testing.T, path string) {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	b.do(t, chromedp.Navigate("file://"+abs), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"]`)))
}

func (b *browser) checkClean(t *testing.T) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		t.Error(p)
	}
	b.problems = nil
}

func eval[T any](t *testing.T, b *browser, js string) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluating %.60q: %v", js, err)
	}
	return v
}

// choose sets a filter control and fires the event a user's choice fires.
func (b *browser) choose(t *testing.T, id, value string) {
	t.Helper()
	ok := eval[bool](t, b, fmt.Sprintf(`(function () {
		var el = document.getElementById(%q);
		if (!el) { return false; }
		el.value = %q;
		el.dispatchEvent(new Event(el.tagName === "SELECT" ? "change" : "input"));
		return el.value === %q;
	})()`, id, value, value))
	if !ok {
		t.Fatalf("could not set #%s to %q (no such control or option)", id, value)
	}
}

func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	dir := os.Getenv("MQTTSPEC_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("..", "out")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// The viewport (1400×1000), in PNG: what a reader sees first, and an
	// artifact of a few hundred KB rather than a page-long image.
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Fatalf("screenshot %s is not a PNG", name)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
}

func readFixture(t *testing.T, name string) *Conformance {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestBrowserConformanceReport(t *testing.T) {
	c := readFixture(t, "mosquitto.json")
	path := filepath.Join(t.TempDir(), "report.html")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(f, c); err != nil {
		t.Fatal(err)
	}
	f.Close()

	b := newBrowser(t)
	b.open(t, path)
	b.checkClean(t)

	// The counts on the page are the JSON's.
	sum := c.Summary()
	shown := pageCounts(t, b)
	for _, v := range Verdicts {
		if shown[string(v)] != sum.ByVerdict[v] {
			t.Errorf("page shows %d %s, the JSON has %d", shown[string(v)], v, sum.ByVerdict[v])
		}
	}
	if shown["total"] != len(c.Specs) {
		t.Errorf("page total %d, JSON %d", shown["total"], len(c.Specs))
	}

	visible := func() (rows int, verdicts []string, counter string) {
		type result struct {
			Rows     int      `json:"rows"`
			Verdicts []string `json:"verdicts"`
			Counter  string   `json:"counter"`
		}
		r := eval[result](t, b, `(function () {
			var vs = [];
			var rows = Array.prototype.filter.call(document.querySelectorAll("#specs tr.spec"), function (r) {
				return r.offsetParent !== null;
			});
			rows.forEach(function (r) { if (vs.indexOf(r.dataset.verdict) < 0) { vs.push(r.dataset.verdict); } });
			return {rows: rows.length, verdicts: vs, counter: document.getElementById("visible-count").getAttribute("data-visible")};
		})()`)
		return r.Rows, r.Verdicts, r.Counter
	}
	if n, _, counter := visible(); n != len(c.Specs) || counter != fmt.Sprint(n) {
		t.Fatalf("unfiltered: %d rows visible (counter %s), want all %d", n, counter, len(c.Specs))
	}
	b.screenshot(t, "report.png")

	// A verdict filter leaves exactly the rows of that verdict.
	b.choose(t, "f-verdict", string(VerdictFail))
	n, vs, counter := visible()
	if n != sum.ByVerdict[VerdictFail] || !slices.Equal(vs, []string{string(VerdictFail)}) || counter != fmt.Sprint(n) {
		t.Errorf("verdict filter fail: %d rows with verdicts %v (counter %s), want %d fail rows", n, vs, counter, sum.ByVerdict[VerdictFail])
	}
	// With a version on top, fewer (or as many) rows, all of that version.
	b.choose(t, "f-version", MQTT50)
	wrongVersion := eval[int](t, b, `Array.prototype.filter.call(document.querySelectorAll("#specs tr.spec"), function (r) {
		return r.offsetParent !== null && r.dataset.version !== "5.0";
	}).length`)
	if wrongVersion != 0 {
		t.Errorf("%d visible rows of another version", wrongVersion)
	}
	eval[bool](t, b, `(document.getElementById("spec-list").scrollIntoView(), true)`)
	b.screenshot(t, "report-filtered.png")

	// Free text narrows to a statement.
	b.choose(t, "f-version", "")
	b.choose(t, "f-verdict", "")
	b.choose(t, "f-text", "MQTT-2.2.2-2")
	n, _, _ = visible()
	want := 0
	for _, sp := range c.Specs {
		for _, st := range sp.Statements {
			if st.ID == "MQTT-2.2.2-2" {
				want++
				break
			}
		}
	}
	if want == 0 || n != want {
		t.Errorf("text filter MQTT-2.2.2-2: %d rows visible, %d specs cite it", n, want)
	}

	// A link into a hidden row clears the filter and shows the row.
	var failID string
	for _, sp := range c.Specs {
		if sp.Verdict == VerdictFail && !strings.Contains(CaseName(sp), "MQTT-2.2.2-2") {
			failID = "spec-" + sp.ID
			break
		}
	}
	if failID == "" {
		t.Fatal("the fixture has no failing spec outside MQTT-2.2.2-2")
	}
	b.do(t, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`location.hash = %q`, "#"+failID)),
		chromedp.WaitVisible(chromedp.ID(failID)))
	shownAfterLink := eval[bool](t, b, fmt.Sprintf(`document.getElementById(%q).offsetParent !== null`, failID))
	if !shownAfterLink {
		t.Errorf("following a link to %s did not reveal it", failID)
	}
	b.checkClean(t)
}

func TestBrowserMatrix(t *testing.T) {
	runs := []*Conformance{readFixture(t, "mosquitto.json"), readFixture(t, "nats.json")}
	m, err := NewMatrix(runs...)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "matrix.html")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteMatrixHTML(f, m); err != nil {
		t.Fatal(err)
	}
	f.Close()

	b := newBrowser(t)
	b.open(t, path)
	b.checkClean(t)

	counts := matrixCounts(t, b)
	if len(counts) != len(runs) {
		t.Fatalf("page lists %d brokers, want %d", len(counts), len(runs))
	}
	for i, c := range runs {
		got := counts[m.Brokers[i].Label]
		sum := c.Summary()
		if got["total"] != len(c.Specs) {
			t.Errorf("%s: total %d, JSON %d", m.Brokers[i].Label, got["total"], len(c.Specs))
		}
		for _, v := range Verdicts {
			if n, ok := got[string(v)]; ok && n != sum.ByVerdict[v] {
				t.Errorf("%s: %d %s on the page, JSON %d", m.Brokers[i].Label, n, v, sum.ByVerdict[v])
			}
		}
	}

	// Every cell link lands on an element of the page.
	dangling := eval[[]string](t, b, `Array.prototype.filter.call(document.querySelectorAll("a[href^='#']"), function (a) {
		return a.getAttribute("href").length > 1 && !document.getElementById(a.getAttribute("href").slice(1));
	}).map(function (a) { return a.getAttribute("href"); })`)
	if len(dangling) > 0 {
		t.Errorf("%d links lead nowhere, e.g. %v", len(dangling), dangling[:min(3, len(dangling))])
	}

	rowsVisible := func() int {
		return eval[int](t, b, `Array.prototype.filter.call(document.querySelectorAll("#matrix-specs tr[data-verdict]"), function (r) {
			return r.offsetParent !== null;
		}).length`)
	}
	if n := rowsVisible(); n != len(m.Specs) {
		t.Fatalf("%d matrix rows visible, want %d", n, len(m.Specs))
	}
	b.screenshot(t, "matrix.png")
	b.choose(t, "f-verdict", string(VerdictFail))
	want := 0
	for _, sp := range m.Specs {
		if slices.Contains(sp.Verdicts, VerdictFail) {
			want++
		}
	}
	if n := rowsVisible(); n != want || want == 0 || want == len(m.Specs) {
		t.Errorf("verdict filter fail: %d rows visible, want the %d rows with a failing cell (of %d)", n, want, len(m.Specs))
	}
	eval[bool](t, b, `(document.getElementById("spec-list").scrollIntoView(), true)`)
	b.screenshot(t, "matrix-filtered.png")
	b.checkClean(t)
}

// TestBrowserRealRuns checks pages that the CLI wrote in this very run of
// CI, not fixtures: $MQTTSPEC_BROWSER_RUNS lists "page.html=results.json"
// pairs (the report of `mqttspec run` and its JSON), and
// $MQTTSPEC_BROWSER_MATRIX one "matrix.html=a.json+b.json+..." (the page of
// `mqttspec report merge` and the runs it merged). Each page must load
// cleanly and show its JSON's counts, and a verdict filter must leave
// exactly the failing rows. Without the variables there is nothing to check.
func TestBrowserRealRuns(t *testing.T) {
	runs, matrix := os.Getenv("MQTTSPEC_BROWSER_RUNS"), os.Getenv("MQTTSPEC_BROWSER_MATRIX")
	if runs == "" && matrix == "" {
		t.Skip("MQTTSPEC_BROWSER_RUNS and MQTTSPEC_BROWSER_MATRIX name no page")
	}
	b := newBrowser(t)
	for _, pair := range strings.Split(runs, ",") {
		if pair == "" {
			continue
		}
		page, results, ok := strings.Cut(pair, "=")
		if !ok {
			t.Fatalf("MQTTSPEC_BROWSER_RUNS: %q is not page.html=results.json", pair)
		}
		c := readResults(t, results)
		b.open(t, absPath(t, page))
		b.checkClean(t)
		sum := c.Summary()
		shown := pageCounts(t, b)
		for _, v := range Verdicts {
			if shown[string(v)] != sum.ByVerdict[v] {
				t.Errorf("%s: page shows %d %s, %s has %d", page, shown[string(v)], v, results, sum.ByVerdict[v])
			}
		}
		if shown["total"] != len(c.Specs) {
			t.Errorf("%s: page total %d, %s has %d specs", page, shown["total"], results, len(c.Specs))
		}
		visibleRows := func() int {
			return eval[int](t, b, `Array.prototype.filter.call(document.querySelectorAll("#specs tr.spec"), function (r) {
				return r.offsetParent !== null;
			}).length`)
		}
		if n := visibleRows(); n != len(c.Specs) {
			t.Errorf("%s: %d rows visible unfiltered, want %d", page, n, len(c.Specs))
		}
		b.screenshot(t, "run-"+strings.TrimSuffix(filepath.Base(page), ".html")+".png")
		if fails := sum.ByVerdict[VerdictFail]; fails > 0 {
			b.choose(t, "f-verdict", string(VerdictFail))
			if n := visibleRows(); n != fails {
				t.Errorf("%s: the fail filter shows %d rows, want %d", page, n, fails)
			}
			b.choose(t, "f-verdict", "")
		}
		b.checkClean(t)
	}
	if matrix == "" {
		return
	}
	page, list, ok := strings.Cut(matrix, "=")
	if !ok {
		t.Fatalf("MQTTSPEC_BROWSER_MATRIX: %q is not matrix.html=a.json+b.json", matrix)
	}
	var merged []*Conformance
	for _, f := range strings.Split(list, "+") {
		merged = append(merged, readResults(t, f))
	}
	m, err := NewMatrix(merged...)
	if err != nil {
		t.Fatal(err)
	}
	b.open(t, absPath(t, page))
	b.checkClean(t)
	counts := matrixCounts(t, b)
	if len(counts) != len(merged) {
		t.Fatalf("%s lists %d brokers, want %d", page, len(counts), len(merged))
	}
	for i, c := range merged {
		got, sum := counts[m.Brokers[i].Label], c.Summary()
		if got["total"] != len(c.Specs) {
			t.Errorf("%s: %s total %d, JSON %d", page, m.Brokers[i].Label, got["total"], len(c.Specs))
		}
		for _, v := range Verdicts {
			if n, ok := got[string(v)]; ok && n != sum.ByVerdict[v] {
				t.Errorf("%s: %s %d %s on the page, JSON %d", page, m.Brokers[i].Label, n, v, sum.ByVerdict[v])
			}
		}
	}
	b.screenshot(t, "run-matrix.png")
	b.checkClean(t)
}

func readResults(t *testing.T, path string) *Conformance {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := ReadJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

func absPath(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// pageCounts reads the report's counts: verdict -> number, and "total".
func pageCounts(t *testing.T, b *browser) map[string]int {
	t.Helper()
	return eval[map[string]int](t, b, `(function () {
		var out = {};
		document.querySelectorAll("#counts li[data-verdict]").forEach(function (li) {
			out[li.getAttribute("data-verdict")] = parseInt(li.querySelector(".n").textContent, 10);
		});
		out.total = parseInt(document.getElementById("counts").getAttribute("data-total"), 10);
		return out;
	})()`)
}

// matrixCounts reads the matrix's broker table: broker -> verdict -> number,
// and "total".
func matrixCounts(t *testing.T, b *browser) map[string]map[string]int {
	t.Helper()
	return eval[map[string]map[string]int](t, b, `(function () {
		var out = {};
		document.querySelectorAll("#brokers tr[data-broker]").forEach(function (tr) {
			var c = {total: parseInt(tr.dataset.total, 10)};
			tr.querySelectorAll("td[data-verdict]").forEach(function (td) { c[td.dataset.verdict] = parseInt(td.textContent, 10); });
			out[tr.dataset.broker] = c;
		});
		return out;
	})()`)
}
