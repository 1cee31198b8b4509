package catalogue

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// The protocol versions the catalogue knows, as Statement.Version spells them.
const (
	V311 = "3.1.1"
	V5   = "5.0"
)

// Level is the strength of a statement, as its RFC 2119 keyword says.
type Level string

// The levels a statement can have.
const (
	Must      Level = "MUST"
	MustNot   Level = "MUST NOT"
	Should    Level = "SHOULD"
	ShouldNot Level = "SHOULD NOT"
	May       Level = "MAY"
)

// IsMust reports whether l is MUST or MUST NOT: breaking it is a failure.
func (l Level) IsMust() bool { return l == Must || l == MustNot }

// IsShould reports whether l is SHOULD or SHOULD NOT: breaking it is
// non-strict.
func (l Level) IsShould() bool { return l == Should || l == ShouldNot }

// IsMay reports whether l is MAY: an allowed choice, recorded.
func (l Level) IsMay() bool { return l == May }

// Class returns the positive form of l (MUST, SHOULD or MAY), which is how
// levels are grouped and filtered; it returns "" for an unknown level.
func (l Level) Class() Level {
	switch {
	case l.IsMust():
		return Must
	case l.IsShould():
		return Should
	case l.IsMay():
		return May
	}
	return ""
}

func (l Level) valid() bool { return l.Class() != "" }

// Binds says whose behaviour a statement constrains.
type Binds string

// The parties a statement can bind.
const (
	BindsServer Binds = "server"
	BindsClient Binds = "client"
	BindsBoth   Binds = "both"
)

// BindsServer reports whether the statement constrains the server (alone or
// together with the client).
func (b Binds) BindsServer() bool { return b == BindsServer || b == BindsBoth }

func (b Binds) valid() bool { return b == BindsServer || b == BindsClient || b == BindsBoth }

// Testable says whether a test client can check a server against a statement
// by what it sends and receives.
type Testable string

// The testability judgements.
const (
	TestableYes    Testable = "yes"
	TestablePartly Testable = "partly" // only some cases, or only some servers; Reason says which
	TestableNo     Testable = "no"     // Reason says why
)

func (t Testable) valid() bool { return t == TestableYes || t == TestablePartly || t == TestableNo }

// Statement is one numbered normative statement of an MQTT standard.
type Statement struct {
	ID       string   `json:"id"`      // as the standard prints it, e.g. "MQTT-3.3.1-6"
	Version  string   `json:"version"` // V311 or V5
	Section  string   `json:"section"` // the section the statement is in, e.g. "3.3.1.3"
	Level    Level    `json:"level"`
	Binds    Binds    `json:"binds"`
	Testable Testable `json:"testable"`
	Reason   string   `json:"reason,omitempty"` // why testable is partly or no; empty for yes
	Text     string   `json:"text"`             // our paraphrase, not the OASIS wording
	Note     string   `json:"note,omitempty"`   // remarks on the source, e.g. a misprinted ID
}

// WireTestable reports whether s counts towards the coverage target: a test
// client can check it, at least partly, and it binds the server.
func (s Statement) WireTestable() bool {
	return s.Testable != TestableNo && s.Binds.BindsServer()
}

// Catalogue holds the statements of every known version. It is immutable
// once built and safe for concurrent use.
type Catalogue struct {
	versions   []string
	statements map[string][]Statement    // version → statements in spec order
	index      map[string]map[string]int // version → ID → position in statements
	sections   map[string][]string       // version → sections in order of first appearance
}

// Versions returns the protocol versions in the catalogue, oldest first.
func (c *Catalogue) Versions() []string { return slices.Clone(c.versions) }

// Statements returns the statements of version in spec order, or nil for an
// unknown version. The slice is a copy.
func (c *Catalogue) Statements(version string) []Statement {
	return slices.Clone(c.statements[version])
}

// Lookup returns the statement of version with the given ID, which must be
// spelled exactly as the standard prints it.
func (c *Catalogue) Lookup(version, id string) (Statement, bool) {
	i, ok := c.index[version][id]
	if !ok {
		return Statement{}, false
	}
	return c.statements[version][i], true
}

// Sections returns the sections of version that hold statements, in the
// order they first appear in the spec.
func (c *Catalogue) Sections(version string) []string { return slices.Clone(c.sections[version]) }

// TopSection returns the top-level part of a section number, the first two
// components ("3.3" for "3.3.2.3.4", "1.5" for "1.5.3"); a section of one
// component ("6") is its own top level.
func TopSection(section string) string {
	if i := strings.IndexByte(section, '.'); i >= 0 {
		if j := strings.IndexByte(section[i+1:], '.'); j >= 0 {
			return section[:i+1+j]
		}
	}
	return section
}

// ParseVersion maps a version as a user writes it ("3.1.1", "5", "5.0") to
// the catalogue's spelling.
func ParseVersion(s string) (string, error) {
	switch strings.TrimSpace(s) {
	case "3.1.1":
		return V311, nil
	case "5", "5.0":
		return V5, nil
	}
	return "", fmt.Errorf("unknown MQTT version %q (want 3.1.1 or 5)", s)
}

// ParseLevelClass maps a level class as a user writes it (MUST, SHOULD or
// MAY, in any case) to the Level Class returns.
func ParseLevelClass(s string) (Level, error) {
	l := Level(strings.ToUpper(strings.TrimSpace(s)))
	switch l {
	case Must, Should, May:
		return l, nil
	}
	return "", fmt.Errorf("unknown level %q (want MUST, SHOULD or MAY)", s)
}

//go:embed data/*.yaml
var dataFS embed.FS

var loadEmbedded = sync.OnceValues(func() (*Catalogue, error) {
	sub, err := fs.Sub(dataFS, "data")
	if err != nil {
		return nil, err
	}
	return loadFS(sub)
})

// Load returns the catalogue built into the binary. It parses and validates
// the data on the first call and returns the same result afterwards; it is
// safe for concurrent use.
func Load() (*Catalogue, error) { return loadEmbedded() }

// MustLoad is Load for callers that cannot go on without the catalogue; it
// panics if the built-in data is invalid, which a test of this package rules
// out.
func MustLoad() *Catalogue {
	c, err := Load()
	if err != nil {
		panic(err)
	}
	return c
}

// fileName matches the data files; the capture is the version.
var fileName = regexp.MustCompile(`^mqtt-(\d+(?:\.\d+)*)\.yaml$`)

// loadFS builds a catalogue from the mqtt-<version>.yaml files at the root
// of fsys.
func loadFS(fsys fs.FS) (*Catalogue, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	files := map[string][]Statement{}
	for _, name := range names {
		m := fileName.FindStringSubmatch(name)
		if m == nil {
			return nil, fmt.Errorf("catalogue: unexpected data file %s", name)
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("catalogue: %w", err)
		}
		sts, err := parse(m[1], data)
		if err != nil {
			return nil, fmt.Errorf("catalogue: %s: %w", name, err)
		}
		files[m[1]] = sts
	}
	if len(files) == 0 {
		return nil, errors.New("catalogue: no data files")
	}
	return build(files), nil
}

// entry is one statement as the data files write it. The version is not a
// field: it comes from the file name.
type entry struct {
	ID       string `yaml:"id"`
	Section  string `yaml:"section"`
	Level    string `yaml:"level"`
	Binds    string `yaml:"binds"`
	Testable string `yaml:"testable"`
	Reason   string `yaml:"reason"`
	Text     string `yaml:"text"`
	Note     string `yaml:"note"`
}

// parse decodes one data file strictly (unknown keys, a second document or
// an empty list are errors) and validates its statements.
func parse(version string, data []byte) ([]Statement, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var entries []entry
	if err := dec.Decode(&entries); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one YAML document")
	}
	if len(entries) == 0 {
		return nil, errors.New("no statements")
	}
	sts := make([]Statement, len(entries))
	seen := make(map[string]int, len(entries))
	var errs []error
	for i, e := range entries {
		st := Statement{
			ID:       e.ID,
			Version:  version,
			Section:  e.Section,
			Level:    Level(e.Level),
			Binds:    Binds(e.Binds),
			Testable: Testable(e.Testable),
			Reason:   e.Reason,
			Text:     e.Text,
			Note:     e.Note,
		}
		sts[i] = st
		if err := validate(st); err != nil {
			errs = append(errs, fmt.Errorf("statement #%d (%s): %w", i+1, st.ID, err))
		}
		if j, dup := seen[st.ID]; dup {
			errs = append(errs, fmt.Errorf("statement #%d: ID %s already used by statement #%d", i+1, st.ID, j))
		} else {
			seen[st.ID] = i + 1
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return sts, nil
}

var (
	// idShape is the regular form of a statement ID: MQTT-<a.b.c>-<n>.
	idShape = regexp.MustCompile(`^MQTT-(\d+\.\d+\.\d+)-[1-9]\d*$`)
	// sectionShape is a section number: one or more dot-separated numbers.
	sectionShape = regexp.MustCompile(`^[1-9]\d*(\.[1-9]\d*)*$`)
)

// misprinted lists, per version, the IDs the standard prints in an irregular
// form (in its body and its Appendix B alike), mapped to their regular form.
// The catalogue keeps them as printed, as the data files' notes explain; no
// other irregular ID is accepted.
var misprinted = map[string]map[string]string{
	V311: {
		"MQTT-3.1.2.7": "MQTT-3.1.2-7",
		"MQTT-3-8.3-4": "MQTT-3.8.3-4",
	},
}

// validate checks one statement on its own: every field set, enumerations
// known, the ID well formed and consistent with the section.
func validate(st Statement) error {
	var errs []error
	for _, f := range []struct{ name, value string }{
		{"id", st.ID}, {"section", st.Section}, {"level", string(st.Level)},
		{"binds", string(st.Binds)}, {"testable", string(st.Testable)}, {"text", st.Text},
	} {
		if strings.TrimSpace(f.value) == "" {
			errs = append(errs, fmt.Errorf("%s is empty", f.name))
		}
	}
	if st.Level != "" && !st.Level.valid() {
		errs = append(errs, fmt.Errorf("unknown level %q", st.Level))
	}
	if st.Binds != "" && !st.Binds.valid() {
		errs = append(errs, fmt.Errorf("unknown binds %q", st.Binds))
	}
	if st.Testable != "" && !st.Testable.valid() {
		errs = append(errs, fmt.Errorf("unknown testable %q", st.Testable))
	}
	if st.Testable == TestableYes && st.Reason != "" {
		errs = append(errs, errors.New("reason given although testable is yes"))
	}
	if (st.Testable == TestablePartly || st.Testable == TestableNo) && strings.TrimSpace(st.Reason) == "" {
		errs = append(errs, fmt.Errorf("testable is %s but no reason is given", st.Testable))
	}
	if st.Section != "" && !sectionShape.MatchString(st.Section) {
		errs = append(errs, fmt.Errorf("malformed section %q", st.Section))
	}
	if st.ID != "" {
		if err := checkID(st); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// checkID checks the shape of st.ID and that the section it names, with
// trailing ".0" components dropped (MQTT-4.1.0-1 → 4.1), is st.Section or
// contains it.
func checkID(st Statement) error {
	id := st.ID
	if regular, ok := misprinted[st.Version][id]; ok {
		if strings.TrimSpace(st.Note) == "" {
			return fmt.Errorf("misprinted ID %s needs a note", id)
		}
		id = regular
	}
	m := idShape.FindStringSubmatch(id)
	if m == nil {
		return fmt.Errorf("malformed ID %q (want MQTT-x.x.x-n)", st.ID)
	}
	parts := strings.Split(m[1], ".")
	for len(parts) > 1 && parts[len(parts)-1] == "0" {
		parts = parts[:len(parts)-1]
	}
	named := strings.Join(parts, ".")
	if st.Section != named && !strings.HasPrefix(st.Section, named+".") {
		return fmt.Errorf("ID names section %s but the statement is in section %s", named, st.Section)
	}
	return nil
}

// build indexes validated statements.
func build(files map[string][]Statement) *Catalogue {
	c := &Catalogue{
		statements: files,
		index:      map[string]map[string]int{},
		sections:   map[string][]string{},
	}
	for v, sts := range files {
		c.versions = append(c.versions, v)
		idx := make(map[string]int, len(sts))
		for i, st := range sts {
			idx[st.ID] = i
			if !slices.Contains(c.sections[v], st.Section) {
				c.sections[v] = append(c.sections[v], st.Section)
			}
		}
		c.index[v] = idx
	}
	slices.SortFunc(c.versions, compareVersions)
	return c
}

// compareVersions orders dotted version numbers numerically.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, _ := strconv.Atoi(as[i])
		y, _ := strconv.Atoi(bs[i])
		if x != y {
			return x - y
		}
	}
	return len(as) - len(bs)
}
