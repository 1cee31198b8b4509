package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeMqttspec stands in for this program in the matrix's subprocesses: it
// records its arguments, and "runs" a broker by copying that broker's
// results where --json-report says, exiting 1 as a run with failures does.
// The broker "broken" fails to start and writes nothing.
func fakeMqttspec(t *testing.T) (exe, argsLog string) {
	t.Helper()
	dir := t.TempDir()
	fixtures, err := filepath.Abs(filepath.Join("..", "..", "reports", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	argsLog = filepath.Join(dir, "args.log")
	exe = filepath.Join(dir, "mqttspec")
	script := `#!/bin/sh
echo "$@" >> '` + argsLog + `'
broker=""; out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --broker) broker="$2"; shift ;;
    --json-report) out="$2"; shift ;;
  esac
  shift
done
if [ "$broker" = broken ]; then echo "cannot start broken" >&2; exit 3; fi
cp '` + fixtures + `'/"$broker".json "$out" || exit 4
echo "ran $broker"
exit 1
`
	if err := os.WriteFile(exe, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	old := matrixExecutable
	matrixExecutable = func() (string, error) { return exe, nil }
	t.Cleanup(func() { matrixExecutable = old })
	return exe, argsLog
}

func TestMatrix(t *testing.T) {
	_, argsLog := fakeMqttspec(t)
	dir := t.TempDir()
	htmlPath, jsonDir := filepath.Join(dir, "matrix.html"), filepath.Join(dir, "results")
	r := runArgs("matrix", "--broker", "mosquitto", "--broker", "nats", "--html-report", htmlPath,
		"--json-dir", jsonDir, "--mqtt", "3.1.1", "--label-filter", "MQTT-2.2.2-2")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	args := strings.Split(strings.TrimSpace(readFile(t, argsLog)), "\n")
	if len(args) != 2 || !strings.HasPrefix(args[0], "run --broker mosquitto --json-report "+filepath.Join(jsonDir, "mosquitto.json")) ||
		!strings.Contains(args[1], "--mqtt 3.1.1") || !strings.Contains(args[1], "--label-filter MQTT-2.2.2-2") {
		t.Errorf("subprocess arguments:\n%s", strings.Join(args, "\n"))
	}
	for _, b := range []string{"mosquitto", "nats"} {
		if _, err := os.Stat(filepath.Join(jsonDir, b+".json")); err != nil {
			t.Errorf("results of %s not kept: %v", b, err)
		}
	}
	h := readFile(t, htmlPath)
	if !strings.Contains(h, `data-broker="mosquitto"`) || !strings.Contains(h, `data-broker="nats"`) {
		t.Error("the matrix lacks a broker")
	}
	if !strings.Contains(r.stderr, "ran mosquitto") || !strings.Contains(r.stdout, "nats") {
		t.Errorf("child output should go to stderr, the summary to stdout:\nstdout %s\nstderr %s", r.stdout, r.stderr)
	}
}

func TestMatrixBrokerThatCannotRun(t *testing.T) {
	fakeMqttspec(t)
	htmlPath := filepath.Join(t.TempDir(), "matrix.html")
	r := runArgs("matrix", "--broker", "broken", "--broker", "nats", "--html-report", htmlPath)
	if r.code != exitFail || !strings.Contains(r.stderr, "1 of 2 brokers could not be tested: broken") ||
		!strings.Contains(r.stderr, "cannot start broken") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	if h := readFile(t, htmlPath); !strings.Contains(h, `data-broker="nats"`) || strings.Contains(h, `data-broker="broken"`) {
		t.Error("the matrix should hold the brokers that ran")
	}
	r = runArgs("matrix", "--broker", "broken", "--html-report", htmlPath)
	if r.code != exitFail || !strings.Contains(r.stderr, "no broker could be tested") {
		t.Errorf("all broken: exit %d, %q", r.code, r.stderr)
	}
}

func TestMatrixUsage(t *testing.T) {
	fakeMqttspec(t)
	out := filepath.Join(t.TempDir(), "m.html")
	for _, args := range [][]string{
		{"matrix", "--html-report", out},
		{"matrix", "--broker", "nats"},
		{"matrix", "--broker", "nats", "--broker", "nats", "--html-report", out},
		{"matrix", "--broker", " ", "--html-report", out},
	} {
		if r := runArgs(args...); r.code != exitUsage {
			t.Errorf("%q: exit %d, want %d (%s)", args, r.code, exitUsage, r.stderr)
		}
	}
	matrixExecutable = func() (string, error) { return "", errors.New("no executable") }
	if r := runArgs("matrix", "--broker", "nats", "--html-report", out); r.code != exitFail || !strings.Contains(r.stderr, "no executable") {
		t.Errorf("no executable: exit %d, %q", r.code, r.stderr)
	}
}

func TestResultFileName(t *testing.T) {
	for in, want := range map[string]string{
		"mosquitto":                  "mosquitto.json",
		"reference-container":        "reference-container.json",
		"profiles/my broker.yaml":    "my_broker.json",
		"/etc/mqttspec/nats-2.9.yml": "nats-2.9.json",
		"../..":                      "broker.json",
	} {
		if got := resultFileName(in); got != want {
			t.Errorf("resultFileName(%q) = %q, want %q", in, got, want)
		}
	}
}
