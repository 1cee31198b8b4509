package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mqttspec/mqttspec/reference/broker"
	"github.com/mqttspec/mqttspec/reference/broker/certgen"
	"github.com/mqttspec/mqttspec/reference/broker/listener"
)

func TestSimSmallFleet(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sim.json")
	r := runArgs("sim", "--nodes", "30", "--duration", "1s", "--progress", "plain", "--json", out, "--seed", "9",
		"--metrics", "127.0.0.1:0")
	if r.code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"scenario home, 30 devices", "latency from the intended send time", "OK: every acknowledged",
		"metrics: http://127.0.0.1:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Schema      string `json:"schema"`
		Nodes       int    `json:"nodes"`
		Seed        uint64 `json:"seed"`
		Complete    bool   `json:"complete"`
		Connections struct {
			Connects int `json:"connects"`
		} `json:"connections"`
		Latency []struct {
			Histogram string `json:"hdr_histogram"`
		} `json:"latency"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if res.Schema != "mqttspec.sim/v1" || res.Nodes != 30 || res.Seed != 9 || !res.Complete || res.Connections.Connects != 30 {
		t.Errorf("result %+v", res)
	}
	if len(res.Latency) != 3 || res.Latency[0].Histogram == "" {
		t.Errorf("latency histograms missing: %+v", res.Latency)
	}
}

func TestSimUsageErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: x\nrooms: [A]\nhomes: {count: 1}\nwat: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"sim", "--shard", "3/2"}, "--shard"},
		{[]string{"sim", "--scenario", "nowhere"}, "neither a file nor a built-in scenario"},
		{[]string{"sim", "--scenario", bad}, "field wat not found"},
		{[]string{"sim", "--target", "tcp://127.0.0.1:1", "--broker", "reference"}, "exclude each other"},
		{[]string{"sim", "--target", "http://x"}, "unknown scheme"},
		{[]string{"sim", "--progress", "loud"}, "--progress"},
		{[]string{"sim", "--cafile", bad}, "--cafile"},
		{[]string{"sim", "--target", "ssl://127.0.0.1:1", "--cert", bad}, "--cert and --key go together"},
		{[]string{"sim", "--nodes", "-3"}, "--nodes"},
		{[]string{"sim", "--nodes", "5", "--metrics", "256.0.0.1:x"}, "--metrics 256.0.0.1:x"},
	} {
		r := runArgs(c.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d naming %q", c.args, r.code, r.stderr, exitUsage, c.want)
		}
	}
}

func TestSimShardFromIndexedJob(t *testing.T) {
	t.Setenv("JOB_COMPLETION_INDEX", "4")
	t.Setenv("JOB_COMPLETIONS", "3")
	r := runArgs("sim", "--nodes", "10")
	if r.code != exitUsage || !strings.Contains(r.stderr, "JOB_COMPLETION_INDEX=4") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// The printed built-in scenario is a valid scenario file.
func TestSimPrintScenario(t *testing.T) {
	r := runArgs("sim", "--print-scenario")
	if r.code != exitOK || !strings.Contains(r.stdout, "Long-Home") {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	path := filepath.Join(t.TempDir(), "home.yaml")
	if err := os.WriteFile(path, []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadSimScenario(path); err != nil {
		t.Errorf("printed scenario does not load: %v", err)
	}
}

// Two shards run by the CLI, merged by `report merge`, rendered by
// `report render`; the report commands refuse what cannot be merged.
func TestSimShardsMergedAndRendered(t *testing.T) {
	dir := t.TempDir()
	shard := func(i int) string {
		path := filepath.Join(dir, fmt.Sprintf("shard-%d.json", i))
		args := []string{"sim", "--nodes", "56", "--duration", "1s", "--progress", "off", "--shard", fmt.Sprintf("%d/2", i), "--json", path}
		if i == 0 {
			args = append(args, "--html-report", filepath.Join(dir, "shard-0.html"))
		}
		if r := runArgs(args...); r.code != exitOK {
			t.Fatalf("shard %d: exit %d\n%s\n%s", i, r.code, r.stdout, r.stderr)
		}
		return path
	}
	s0, s1 := shard(0), shard(1)
	if h := readFile(t, filepath.Join(dir, "shard-0.html")); !strings.Contains(h, `data-report="sim"`) || !strings.Contains(h, "<svg") {
		t.Error("sim --html-report wrote no simulation report")
	}

	merged, mergedHTML := filepath.Join(dir, "merged.json"), filepath.Join(dir, "merged.html")
	r := runArgs("report", "merge", s1, s0, "--json", merged, "--html-report", mergedHTML)
	if r.code != exitOK || !strings.Contains(r.stdout, "shard 0,1/2 of 56") || !strings.Contains(r.stdout, "OK: every acknowledged") {
		t.Fatalf("merge: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	var res struct {
		Nodes      int      `json:"nodes"`
		Shards     []string `json:"shards"`
		Accounting []struct {
			Sent uint64 `json:"sent"`
		} `json:"accounting"`
	}
	if err := json.Unmarshal([]byte(readFile(t, merged)), &res); err != nil {
		t.Fatal(err)
	}
	if res.Nodes != 56 || strings.Join(res.Shards, " ") != "0/2 1/2" {
		t.Errorf("merged result: %+v", res)
	}
	if h := readFile(t, mergedHTML); !strings.Contains(h, `data-report="sim"`) || !strings.Contains(h, "0,1/2") {
		t.Error("merge --html-report wrote no simulation report")
	}
	partial := runArgs("report", "merge", s0, "--json", filepath.Join(dir, "partial.json"))
	if partial.code != exitOK || !strings.Contains(partial.stdout, "shards 1/2 of the fleet are missing") {
		t.Errorf("one shard alone: exit %d\n%s", partial.code, partial.stdout)
	}

	rendered := filepath.Join(dir, "rendered.html")
	if r := runArgs("report", "render", merged, "--html-report", rendered); r.code != exitOK ||
		!strings.Contains(readFile(t, rendered), `id="percentiles"`) {
		t.Errorf("render: exit %d, %s", r.code, r.stderr)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "merge", s0, s0, "--json", merged}, "shard 0/2 is given twice (" + s0 + " and " + s0 + ")"},
		{[]string{"report", "merge", s0, mosquittoResults, "--json", merged}, "cannot merge simulator results"},
		{[]string{"report", "render", merged, "--junit-report", filepath.Join(dir, "j.xml")}, "no JUnit form"},
	} {
		if r := runArgs(c.args...); r.code != exitUsage || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want a usage error naming %q", c.args, r.code, r.stderr, c.want)
		}
	}
}

// An ssl:// target that requires client certificates: the observer uses
// --cert/--key, each device the certificate its scenario names for it.
func TestSimTLSTargetWithDeviceCertificates(t *testing.T) {
	dir := t.TempDir()
	set, err := certgen.NewSet(nil, "observer", "dev-0", "dev-1", "dev-2", "dev-3")
	if err != nil {
		t.Fatal(err)
	}
	files, err := set.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	b := broker.New(broker.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ln, err := listener.Listen(listener.Config{Kind: listener.KindTLS, Address: "127.0.0.1:0",
		TLS: &listener.TLSConfig{Certificate: &set.Server, ClientCAs: set.CA.CertPool(), ClientCerts: listener.ClientCertsRequire}})
	if err != nil {
		t.Fatal(err)
	}
	go b.ServeWith(ln, broker.ServeOptions{UseIdentityAsUsername: true})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ln.Close()
		b.Shutdown(ctx)
	})
	scenario := filepath.Join(dir, "certs.yaml")
	src := `
name: certs
duration: 5s
homes: {count: 1}
rooms: [Flur]
connection:
  tls: {cert: "client-dev-{device}.crt", key: "client-dev-{device}.key"}
devices:
  - class: Temperatur
    count: 4
    topic: "{home}/{room}/Temperatur/{k}"
    interval: 40ms
    messages: 5
    qos: {1: 1}
    model: {kind: counter, inc_min: 1, inc_max: 2}
observers:
  - filters: ["{home}/#"]
    qos: 1
`
	if err := os.WriteFile(scenario, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	obs := files.Clients["observer"]
	r := runArgs("sim", "--target", "ssl://"+ln.Addr().String(), "--cafile", files.CA, "--cert", obs.Cert, "--key", obs.Key,
		"--scenario", scenario, "--progress", "off")
	if r.code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"4 devices", "ssl://", "4 connects, 0 failures", "OK: every acknowledged"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	// Without --cafile the broker's certificate is not trusted: the run
	// cannot start, and says why.
	r = runArgs("sim", "--target", "ssl://"+ln.Addr().String(), "--scenario", scenario, "--progress", "off")
	if r.code == exitOK || !strings.Contains(r.stderr+r.stdout, "certificate") {
		t.Errorf("untrusted broker: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}
