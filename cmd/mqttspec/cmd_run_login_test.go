package main

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mqttspec/mqttspec/reference/broker"
	"github.com/mqttspec/mqttspec/reference/broker/auth"
)

// TestRunWithLogin runs specs against a broker that admits no anonymous
// client: with --username and MQTTSPEC_PASSWORD every spec client logs in,
// the specs pass, and the report shows the password as *** only. Ginkgo
// runs once per process (the catalogue test runs it too), so the run
// happens in a child process: this test binary, re-executed.
func TestRunWithLogin(t *testing.T) {
	if os.Getenv("MQTTSPEC_LOGIN_CHILD") == "1" {
		runWithLogin(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRunWithLogin$", "-test.count=1")
	cmd.Env = append(os.Environ(), "MQTTSPEC_LOGIN_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func runWithLogin(t *testing.T) {
	b := broker.New(broker.Config{Authenticator: auth.CheckerFunc(func(_, user string, pw []byte, _, _ bool) bool {
		return user == "tester" && string(pw) == "s3cret-pw"
	})})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go b.Serve(ln)
	t.Cleanup(func() { b.Shutdown(t.Context()) })

	report := filepath.Join(t.TempDir(), "results.json")
	t.Setenv("MQTTSPEC_PASSWORD", "s3cret-pw")
	// Publish/subscribe specs of 3.1.1: each needs an accepted CONNECT.
	r := runArgs("run", "--target", "tcp://"+ln.Addr().String(), "--username", "tester", "--mqtt", "3.1.1",
		"--label-filter", "MQTT-3.3.1-5 || MQTT-3.3.1-6", "--json-report", report, "--html-report", "")
	if r.code != exitOK {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "s3cret-pw") || strings.Contains(string(data), "7333637265742d7077") {
		t.Error("the report contains the password (plain or as hex)")
	}
	var res struct {
		Specs []struct {
			Verdict string
			Trace   []struct{ Summary string }
		}
	}
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	passed, loggedIn := 0, false
	for _, s := range res.Specs {
		if s.Verdict == "pass" {
			passed++
		}
		for _, e := range s.Trace {
			loggedIn = loggedIn || strings.Contains(e.Summary, `user="tester"`)
		}
	}
	if passed == 0 || !loggedIn {
		t.Errorf("%d specs passed, CONNECT with user tester in a trace: %v; want both", passed, loggedIn)
	}
}
