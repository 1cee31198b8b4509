package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// An output in a missing directory is refused before any run starts, with
// the path named; the run would otherwise lose its results at the end.
func TestOutputInMissingDirectoryRefusedUpFront(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-dir", "out.json")
	for _, args := range [][]string{
		{"run", "--html-report", missing},
		{"fuzz", "--json", missing, "--max-execs", "10"},
		{"sim", "--html-report", missing},
		{"matrix", "--broker", "reference", "--json", missing},
	} {
		r := runArgs(args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, missing) || !strings.Contains(r.stderr, "does not exist") {
			t.Errorf("%q: exit %d, stderr %q; want a usage error naming %s", args, r.code, r.stderr, missing)
		}
	}
	if err := checkOutputDirs("", "-", filepath.Join(t.TempDir(), "ok.json")); err != nil {
		t.Errorf("existing directory, empty and standard output: %v", err)
	}
}
