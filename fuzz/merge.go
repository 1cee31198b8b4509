package fuzz

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// MergeResult is the outcome of merging the findings of several runs (the
// shards of one campaign, or runs on several days).
type MergeResult struct {
	// Findings has one reproducer per signature, the smallest, with
	// Occurrences set to how many reproducers had that signature.
	Findings []*Finding
	// Files counts the reproducers read; Skipped lists other JSON files in
	// the directories (summaries), which are not findings.
	Files   int
	Skipped []string
}

// MergeFindings reads the reproducers (*.json) of each directory and keeps
// one per signature: the smallest input (fewest bytes over all its
// connections, then fewest connections, then the earliest found). A JSON
// file that is not a finding, such as a run summary, is skipped; a file
// that claims to be a finding but does not load is an error.
func MergeFindings(dirs []string) (*MergeResult, error) {
	if len(dirs) == 0 {
		return nil, fmt.Errorf("merge: no directories")
	}
	res := &MergeResult{}
	type entry struct {
		f    *Finding
		path string
		n    int
	}
	bySig := map[string]*entry{}
	var order []string
	for _, dir := range dirs {
		st, err := os.Stat(dir)
		if err != nil {
			return nil, fmt.Errorf("merge: %w", err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("merge: %s is not a directory of findings", dir)
		}
		paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
		if err != nil {
			return nil, err
		}
		sort.Strings(paths)
		for _, path := range paths {
			if !isFindingFile(path) {
				res.Skipped = append(res.Skipped, path)
				continue
			}
			f, err := LoadFinding(path)
			if err != nil {
				return nil, fmt.Errorf("merge: %w", err)
			}
			res.Files++
			sig := f.Signature
			if sig == "" {
				sig = f.Oracle + "|" + f.ID
			}
			e, ok := bySig[sig]
			if !ok {
				bySig[sig] = &entry{f: f, path: path, n: max(1, f.Occurrences)}
				order = append(order, sig)
				continue
			}
			e.n += max(1, f.Occurrences)
			if smaller(f, e.f) {
				e.f, e.path = f, path
			}
		}
	}
	for _, sig := range order {
		e := bySig[sig]
		f := *e.f
		f.Occurrences = e.n
		res.Findings = append(res.Findings, &f)
	}
	sort.SliceStable(res.Findings, func(i, j int) bool {
		a, b := res.Findings[i], res.Findings[j]
		if a.Oracle != b.Oracle {
			return a.Oracle < b.Oracle
		}
		return a.ID < b.ID
	})
	return res, nil
}

// isFindingFile reports whether a JSON file says it is a reproducer.
func isFindingFile(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return true // let LoadFinding name the problem
	}
	var head struct {
		Format string `json:"format"`
	}
	if json.Unmarshal(b, &head) != nil {
		return false
	}
	return strings.HasPrefix(head.Format, "mqttspec.fuzz-finding/")
}

// reproducerSize is the bytes and connections a reproducer sends.
func reproducerSize(f *Finding) (bytes, conns int) {
	for _, p := range f.Packets {
		bytes += len(p.Hex) / 2
	}
	for _, c := range f.Preceding {
		for _, p := range c.Packets {
			bytes += len(p.Hex) / 2
		}
	}
	return bytes, 1 + len(f.Preceding)
}

// smaller reports whether a is the better reproducer to keep than b.
func smaller(a, b *Finding) bool {
	ab, ac := reproducerSize(a)
	bb, bc := reproducerSize(b)
	switch {
	case ab != bb:
		return ab < bb
	case ac != bc:
		return ac < bc
	}
	return a.FoundAt.Before(b.FoundAt)
}

// WriteFindings saves each finding into dir (created if need be) and
// returns the paths.
func WriteFindings(dir string, findings []*Finding) ([]string, error) {
	var paths []string
	for _, f := range findings {
		p, err := f.Save(dir)
		if err != nil {
			return paths, fmt.Errorf("writing %s: %w", f.FileName(), err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}
