package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

type result struct {
	code           int
	stdout, stderr string
}

func runArgs(args ...string) result {
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {}} {
		r := runArgs(args...)
		if r.code != exitOK {
			t.Errorf("%q: exit %d, want %d; stderr %q", args, r.code, exitOK, r.stderr)
		}
		if !strings.Contains(r.stdout, "Usage:\n  mqttspec") || !strings.Contains(r.stdout, "MQTT brokers") {
			t.Errorf("%q: stdout lacks usage and description:\n%s", args, r.stdout)
		}
		if r.stderr != "" {
			t.Errorf("%q: stderr %q, want empty", args, r.stderr)
		}
	}
}

func TestVersion(t *testing.T) {
	old := version
	version = "v9.8.7-test"
	t.Cleanup(func() { version = old })

	r := runArgs("--version")
	if r.code != exitOK {
		t.Fatalf("exit %d, want %d; stderr %q", r.code, exitOK, r.stderr)
	}
	if want := "mqttspec version v9.8.7-test\n"; r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
}

func TestVersionDefault(t *testing.T) {
	old := version
	version = ""
	t.Cleanup(func() { version = old })
	if v := versionString(); v == "" {
		t.Error("versionString() is empty without -ldflags")
	}
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		args    []string
		message string
	}{
		{[]string{"--bogus"}, "mqttspec: unknown flag: --bogus\n"},
		{[]string{"nosuch"}, `mqttspec: unknown command "nosuch" for "mqttspec"` + "\n"},
	}
	for _, c := range cases {
		r := runArgs(c.args...)
		if r.code != exitUsage {
			t.Errorf("%q: exit %d, want %d", c.args, r.code, exitUsage)
		}
		if !strings.HasPrefix(r.stderr, c.message) {
			t.Errorf("%q: stderr %q, want it to start with %q", c.args, r.stderr, c.message)
		}
		if n := strings.Count(r.stderr, "mqttspec: "); n != 1 {
			t.Errorf("%q: error printed %d times, want once:\n%s", c.args, n, r.stderr)
		}
		if !strings.Contains(r.stderr, "Run 'mqttspec --help'") {
			t.Errorf("%q: stderr lacks the usage hint:\n%s", c.args, r.stderr)
		}
		if r.stdout != "" {
			t.Errorf("%q: stdout %q, want empty", c.args, r.stdout)
		}
	}
}

// TestSubcommandErrors checks the exit-code contract for a subcommand: errors
// from cobra's own checks and usageErrorf are usage errors (2), any other error
// from the body is a failed check (1).
func TestSubcommandErrors(t *testing.T) {
	newRoot := func() *cobra.Command {
		root := newRootCmd()
		root.AddCommand(&cobra.Command{
			Use:  "probe ARG",
			Args: cobra.ExactArgs(1),
			RunE: func(_ *cobra.Command, args []string) error {
				switch args[0] {
				case "fail":
					return errors.New("malformed packet")
				case "usage":
					return usageErrorf("bad argument %q", args[0])
				}
				return nil
			},
		})
		return root
	}
	cases := []struct {
		args []string
		code int
		hint bool
	}{
		{[]string{"probe", "ok"}, exitOK, false},
		{[]string{"probe", "fail"}, exitFail, false},
		{[]string{"probe", "usage"}, exitUsage, true},
		{[]string{"probe"}, exitUsage, true},
		{[]string{"probe", "ok", "--bogus"}, exitUsage, true},
	}
	for _, c := range cases {
		var out, errOut bytes.Buffer
		code := execute(newRoot(), c.args, &out, &errOut)
		stderr := errOut.String()
		if code != c.code {
			t.Errorf("%q: exit %d, want %d; stderr %q", c.args, code, c.code, stderr)
		}
		if c.code != exitOK && strings.Count(stderr, "mqttspec: ") != 1 {
			t.Errorf("%q: error not printed exactly once:\n%s", c.args, stderr)
		}
		if hint := strings.Contains(stderr, "Run 'mqttspec probe --help'"); hint != c.hint {
			t.Errorf("%q: usage hint shown %v, want %v:\n%s", c.args, hint, c.hint, stderr)
		}
	}
}
