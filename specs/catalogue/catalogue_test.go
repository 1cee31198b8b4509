package catalogue

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
)

func TestLoadCounts(t *testing.T) {
	cat, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got, want := cat.Versions(), []string{V311, V5}; !slices.Equal(got, want) {
		t.Fatalf("Versions() = %q, want %q", got, want)
	}
	for _, tc := range []struct {
		version string
		want    int
	}{{V311, 141}, {V5, 251}} {
		sts := cat.Statements(tc.version)
		if len(sts) != tc.want {
			t.Errorf("MQTT %s: %d statements, want %d", tc.version, len(sts), tc.want)
		}
		for _, st := range sts {
			if st.Version != tc.version {
				t.Errorf("%s: version %q, want %q", st.ID, st.Version, tc.version)
			}
		}
	}
}

func TestLoadCachedAndConcurrent(t *testing.T) {
	first := MustLoad()
	var wg sync.WaitGroup
	got := make([]*Catalogue, 8)
	for i := range got {
		wg.Go(func() {
			c, err := Load()
			if err != nil {
				t.Errorf("Load: %v", err)
			}
			got[i] = c
			c.Lookup(V5, "MQTT-3.3.1-1")
		})
	}
	wg.Wait()
	for i, c := range got {
		if c != first {
			t.Errorf("Load #%d returned a different catalogue", i)
		}
	}
}

func TestMisprintedIDs(t *testing.T) {
	cat := MustLoad()
	for version, ids := range misprinted {
		for printed, regular := range ids {
			st, ok := cat.Lookup(version, printed)
			if !ok {
				t.Errorf("MQTT %s: misprinted ID %s missing", version, printed)
				continue
			}
			if !strings.Contains(st.Note, printed) {
				t.Errorf("MQTT %s %s: note does not explain the misprint: %q", version, printed, st.Note)
			}
			if _, ok := cat.Lookup(version, regular); ok {
				t.Errorf("MQTT %s: both %s and its regular form %s are present", version, printed, regular)
			}
		}
	}
}

func TestLookup(t *testing.T) {
	cat := MustLoad()
	for _, tc := range []struct {
		version, id string
		found       bool
		section     string
	}{
		{V311, "MQTT-1.5.3-1", true, "1.5.3"},
		{V311, "MQTT-3.3.1-1", true, "3.3.1.1"},
		{V311, "MQTT-3-8.3-4", true, "3.8.3"},   // kept as printed
		{V311, "MQTT-3.8.3-4", false, ""},       // the regular form is not an alias
		{V311, "MQTT-3.1.2.7", true, "3.1.2.4"}, // likewise
		{V311, "MQTT-3.1.2-7", false, ""},
		{V5, "MQTT-1.5.4-1", true, "1.5.4"},
		{V5, "MQTT-4.2.0-1", true, "4.2"},
		{V5, "MQTT-4.2-1", false, ""}, // the body's misprint; Appendix B's form is used
		{V5, "MQTT-1.5.3-1", false, ""},
		{"5", "MQTT-1.5.4-1", false, ""}, // Lookup wants the catalogue's spelling
		{"4.0", "MQTT-1.5.3-1", false, ""},
		{V5, "", false, ""},
	} {
		st, ok := cat.Lookup(tc.version, tc.id)
		if ok != tc.found {
			t.Errorf("Lookup(%q, %q) found %v, want %v", tc.version, tc.id, ok, tc.found)
			continue
		}
		if !ok {
			if st != (Statement{}) {
				t.Errorf("Lookup(%q, %q) = %+v with ok false, want the zero Statement", tc.version, tc.id, st)
			}
			continue
		}
		if st.ID != tc.id || st.Version != tc.version || st.Section != tc.section {
			t.Errorf("Lookup(%q, %q) = %s/%s §%s, want §%s", tc.version, tc.id, st.Version, st.ID, st.Section, tc.section)
		}
	}
}

func TestStatementsOrderAndCopy(t *testing.T) {
	cat := MustLoad()
	sts := cat.Statements(V311)
	if sts[0].ID != "MQTT-1.5.3-1" {
		t.Errorf("first 3.1.1 statement %s, want MQTT-1.5.3-1", sts[0].ID)
	}
	if got := cat.Statements(V5)[0].ID; got != "MQTT-1.5.4-1" {
		t.Errorf("first 5.0 statement %s, want MQTT-1.5.4-1", got)
	}
	sts[0].ID = "changed"
	if cat.Statements(V311)[0].ID != "MQTT-1.5.3-1" {
		t.Error("Statements returned the catalogue's own slice")
	}
	if cat.Statements("9") != nil {
		t.Error("Statements of an unknown version is not nil")
	}
	secs := cat.Sections(V5)
	if secs[0] != "1.5.4" || len(secs) < 50 {
		t.Errorf("Sections(5.0) = %q..., want 1.5.4 first and many more", secs[:min(3, len(secs))])
	}
}

func TestLevelHelpers(t *testing.T) {
	for _, tc := range []struct {
		level             Level
		must, should, may bool
		class             Level
	}{
		{Must, true, false, false, Must},
		{MustNot, true, false, false, Must},
		{Should, false, true, false, Should},
		{ShouldNot, false, true, false, Should},
		{May, false, false, true, May},
		{"MAY NOT", false, false, false, ""},
		{"must", false, false, false, ""},
		{"", false, false, false, ""},
	} {
		if got := tc.level.IsMust(); got != tc.must {
			t.Errorf("%q.IsMust() = %v", tc.level, got)
		}
		if got := tc.level.IsShould(); got != tc.should {
			t.Errorf("%q.IsShould() = %v", tc.level, got)
		}
		if got := tc.level.IsMay(); got != tc.may {
			t.Errorf("%q.IsMay() = %v", tc.level, got)
		}
		if got := tc.level.Class(); got != tc.class {
			t.Errorf("%q.Class() = %q, want %q", tc.level, got, tc.class)
		}
	}
}

func TestWireTestable(t *testing.T) {
	for _, tc := range []struct {
		binds    Binds
		testable Testable
		want     bool
	}{
		{BindsServer, TestableYes, true},
		{BindsBoth, TestablePartly, true},
		{BindsServer, TestableNo, false},
		{BindsClient, TestableYes, false},
	} {
		st := Statement{Binds: tc.binds, Testable: tc.testable}
		if got := st.WireTestable(); got != tc.want {
			t.Errorf("binds %s, testable %s: WireTestable() = %v, want %v", tc.binds, tc.testable, got, tc.want)
		}
	}
}

func TestTopSection(t *testing.T) {
	for in, want := range map[string]string{
		"3.3.2.3.4": "3.3",
		"1.5.3":     "1.5",
		"3.14":      "3.14",
		"4.2":       "4.2",
		"6":         "6",
	} {
		if got := TopSection(in); got != want {
			t.Errorf("TopSection(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseVersionAndLevel(t *testing.T) {
	for in, want := range map[string]string{"3.1.1": V311, "5": V5, "5.0": V5, "3.1": "", "9": "", "": ""} {
		got, err := ParseVersion(in)
		if got != want || (err == nil) != (want != "") {
			t.Errorf("ParseVersion(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]Level{"MUST": Must, "should": Should, "May": May, "MUST NOT": "", "x": ""} {
		got, err := ParseLevelClass(in)
		if got != want || (err == nil) != (want != "") {
			t.Errorf("ParseLevelClass(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// entryYAML renders one data-file entry; fields overrides or, with an empty
// value, removes the defaults.
func entryYAML(fields map[string]string) string {
	def := map[string]string{
		"id": "MQTT-3.3.1-1", "section": `"3.3.1.1"`, "level": "MUST", "binds": "server",
		"testable": "yes", "reason": `""`, "text": `"Paraphrase."`,
	}
	for k, v := range fields {
		def[k] = v
	}
	var b strings.Builder
	first := true
	for _, k := range []string{"id", "section", "level", "binds", "testable", "reason", "text", "note", "extra"} {
		v, ok := def[k]
		if !ok || v == "-" {
			continue
		}
		if first {
			b.WriteString("- ")
			first = false
		} else {
			b.WriteString("  ")
		}
		b.WriteString(k + ": " + v + "\n")
	}
	return b.String()
}

func TestParseValidation(t *testing.T) {
	ok := entryYAML(nil)
	for _, tc := range []struct {
		name, version, data string
		wantErr             string // "" for valid
	}{
		{"valid", V5, ok, ""},
		{"valid MUST NOT partly", V5, entryYAML(map[string]string{"level": "MUST NOT", "testable": "partly", "reason": "only some servers"}), ""},
		{"valid misprint", V311, entryYAML(map[string]string{"id": "MQTT-3-8.3-4", "section": `"3.8.3"`, "note": "printed so"}), ""},
		{"valid .0 section", V5, entryYAML(map[string]string{"id": "MQTT-4.2.0-1", "section": `"4.2"`}), ""},
		{"unknown key", V5, entryYAML(map[string]string{"extra": "x"}), "field extra not found"},
		{"version key", V5, ok + "  version: \"5.0\"\n", "field version not found"},
		{"missing text", V5, entryYAML(map[string]string{"text": "-"}), "text is empty"},
		{"blank section", V5, entryYAML(map[string]string{"section": `" "`}), "section is empty"},
		{"bad level", V5, entryYAML(map[string]string{"level": "MUSTN'T"}), `unknown level "MUSTN'T"`},
		{"lower-case level", V5, entryYAML(map[string]string{"level": "must"}), "unknown level"},
		{"bad binds", V5, entryYAML(map[string]string{"binds": "broker"}), `unknown binds "broker"`},
		{"bad testable", V5, entryYAML(map[string]string{"testable": "maybe"}), `unknown testable "maybe"`},
		{"partly without reason", V5, entryYAML(map[string]string{"testable": "partly"}), "no reason"},
		{"yes with reason", V5, entryYAML(map[string]string{"reason": "why"}), "reason given"},
		{"malformed ID", V5, entryYAML(map[string]string{"id": "MQTT-3.3.1"}), "malformed ID"},
		{"ID number 0", V5, entryYAML(map[string]string{"id": "MQTT-3.3.1-0"}), "malformed ID"},
		{"ID prefix", V5, entryYAML(map[string]string{"id": "mqtt-3.3.1-1"}), "malformed ID"},
		{"misprint in other version", V5, entryYAML(map[string]string{"id": "MQTT-3-8.3-4", "section": `"3.8.3"`, "note": "x"}), "malformed ID"},
		{"misprint without note", V311, entryYAML(map[string]string{"id": "MQTT-3.1.2.7", "section": `"3.1.2.4"`}), "needs a note"},
		{"ID and section disagree", V5, entryYAML(map[string]string{"section": `"3.4.1"`}), "ID names section 3.3.1"},
		{"section prefix is not a component prefix", V5, entryYAML(map[string]string{"section": `"3.3.11"`}), "ID names section 3.3.1"},
		{"malformed section", V5, entryYAML(map[string]string{"section": `"3.3.1.a"`}), "malformed section"},
		{"duplicate ID", V5, ok + ok, "already used by statement #1"},
		{"duplicate key", V5, ok + "  id: MQTT-3.3.1-2\n", "already defined"},
		{"empty", V5, "# nothing\n", "no statements"},
		{"not a list", V5, "id: MQTT-3.3.1-1\n", "cannot unmarshal"},
		{"two documents", V5, ok + "---\n" + ok, "more than one YAML document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sts, err := parse(tc.version, []byte(tc.data))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("parse: %v\n%s", err, tc.data)
				}
				if len(sts) < 1 || sts[0].Version != tc.version {
					t.Fatalf("parse = %+v", sts)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("parse error %v, want one containing %q\n%s", err, tc.wantErr, tc.data)
			}
		})
	}
}

func TestLoadFS(t *testing.T) {
	good := []byte(entryYAML(nil))
	if _, err := loadFS(fstest.MapFS{"mqtt-5.0.yaml": {Data: good}, "notes.md": {Data: []byte("x")}}); err != nil {
		t.Errorf("loadFS ignoring non-YAML files: %v", err)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"no files":      {},
		"bad file name": {"mqtt5.yaml": {Data: good}},
		"bad data":      {"mqtt-5.0.yaml": {Data: []byte("- id: x\n")}},
	} {
		if _, err := loadFS(fsys); err == nil {
			t.Errorf("%s: loadFS succeeded", name)
		}
	}
}
