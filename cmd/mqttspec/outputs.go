package main

import (
	"os"
	"path/filepath"
)

// checkOutputDirs fails at once, before a long run, when an output file's
// directory does not exist: a report that cannot be written at the end
// would lose the run. "" and "-" (standard output) are skipped.
func checkOutputDirs(paths ...string) error {
	for _, p := range paths {
		if p == "" || p == "-" {
			continue
		}
		dir := filepath.Dir(p)
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return usageErrorf("%s: the directory %s does not exist (create it first)", p, dir)
		}
	}
	return nil
}
