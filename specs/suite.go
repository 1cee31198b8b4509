package specs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/formatter"
	"github.com/onsi/ginkgo/v2/types"
	"github.com/onsi/gomega"

	"github.com/mqttspec/mqttspec/brokers"
	"github.com/mqttspec/mqttspec/reference/packet"
	"github.com/mqttspec/mqttspec/reports"
	"github.com/mqttspec/mqttspec/specs/catalogue"
	"github.com/mqttspec/mqttspec/specs/harness"
)

var _ = harness.InstallHooks()

var (
	reportMu   sync.Mutex
	lastReport *types.Report
)

var _ = ReportAfterSuite("mqttspec conformance report", func(r Report) {
	reportMu.Lock()
	defer reportMu.Unlock()
	lastReport = &r
})

// Options configure one run of the suite.
type Options struct {
	Target      *brokers.Target
	Versions    []packet.Version
	LabelFilter string
	// Timeout bounds the whole run (default 10 minutes).
	Timeout time.Duration
	// Verbose prints every spec as it runs, not only failures.
	Verbose bool
	// ToolVersion is recorded in the report.
	ToolVersion string
	// DryRun builds the spec tree and reports every spec without running
	// it: how the statement citations are listed.
	DryRun bool
}

// errT satisfies Ginkgo's testing interface outside `go test`.
type errT struct{ failed bool }

func (t *errT) Fail() { t.failed = true }

// Run runs the suite in this process and returns its results. It can run
// once per process (a Ginkgo rule); run several targets as several
// processes.
func Run(ctx context.Context, opts Options) (*reports.Conformance, error) {
	if opts.Target == nil && !opts.DryRun {
		return nil, errors.New("specs: no target")
	}
	versions := opts.Versions
	if opts.Target != nil && len(opts.Target.Capabilities.Versions) > 0 {
		// A target that declares the versions it speaks is tested in those
		// only: its 5.0 specs are not "failed" when it has no 5.0 at all.
		if len(versions) == 0 {
			versions = []packet.Version{packet.V311, packet.V5}
		}
		versions = slices.DeleteFunc(slices.Clone(versions), func(v packet.Version) bool {
			return !slices.Contains(opts.Target.Capabilities.Versions, v)
		})
		if len(versions) == 0 {
			return nil, fmt.Errorf("specs: the target speaks none of the requested MQTT versions (it declares %v)", opts.Target.Capabilities.Versions)
		}
	}
	harness.Configure(harness.Config{Target: opts.Target, Versions: versions})
	gomega.RegisterFailHandler(Fail)
	suite, rep := GinkgoConfiguration()
	suite.LabelFilter = opts.LabelFilter
	suite.Timeout = opts.Timeout
	if suite.Timeout <= 0 {
		suite.Timeout = 10 * time.Minute
	}
	if dl, ok := ctx.Deadline(); ok {
		suite.Timeout = min(suite.Timeout, time.Until(dl))
	}
	rep.Succinct = !opts.Verbose
	rep.Verbose = opts.Verbose
	rep.NoColor = true
	suite.DryRun = opts.DryRun
	if opts.DryRun {
		rep.Succinct, rep.Verbose = true, false
	}
	start := time.Now()
	RunSpecs(&errT{}, "mqttspec conformance", suite, rep)
	reportMu.Lock()
	r := lastReport
	reportMu.Unlock()
	if r == nil {
		return nil, errors.New("specs: the suite produced no report")
	}
	return Convert(*r, opts, start), nil
}

// Convert turns a Ginkgo report into the conformance report, with the
// statement levels from the catalogue.
func Convert(r types.Report, opts Options, start time.Time) *reports.Conformance {
	cat := catalogue.MustLoad()
	c := reports.FromGinkgo(r, reports.AdapterOptions{LabelFilter: opts.LabelFilter, LevelOf: func(version, id string) string {
		if s, ok := cat.Lookup(version, id); ok {
			return string(s.Level)
		}
		return ""
	}})
	c.Tool = reports.ToolInfo{Name: "mqttspec", Version: opts.ToolVersion}
	if t := opts.Target; t != nil {
		c.Target = reports.TargetInfo{Name: t.Name, URL: t.Endpoint.URL, Profile: t.Profile, BrokerVersion: t.BrokerVersion}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if logs, err := t.Logs(ctx); err == nil {
			c.Logs = logs
		}
	}
	c.Versions = nil
	for _, v := range harness.Cfg().Versions {
		c.Versions = append(c.Versions, harness.VersionName(v))
	}
	c.Catalogue = catalogueStatements(cat, c.Versions)
	if t := opts.Target; t != nil && !opts.DryRun {
		c.Observed = observedCapabilities(t, harness.Cfg().Versions)
	}
	// The excerpts from the whole log (the per-spec capture holds only its
	// last part).
	c.FillLogExcerpts(0)
	return c
}

// Citations lists the statements each spec cites, for every version, by
// building the spec tree in a dry run (nothing is sent anywhere). Like Run,
// it can be called once per process.
func Citations() ([]catalogue.Citation, error) {
	citationsOnce.Do(func() { citations, citationsErr = listCitations() })
	return citations, citationsErr
}

var (
	citationsOnce sync.Once
	citations     []catalogue.Citation
	citationsErr  error
)

func listCitations() ([]catalogue.Citation, error) {
	// Ginkgo's console reporter has nothing to say about a listing.
	saved := formatter.ColorableStdOut
	formatter.ColorableStdOut = io.Discard
	defer func() { formatter.ColorableStdOut = saved }()
	res, err := Run(context.Background(), Options{DryRun: true, Versions: []packet.Version{packet.V311, packet.V5}})
	if err != nil {
		return nil, err
	}
	var out []catalogue.Citation
	for _, sp := range res.Specs {
		for _, st := range sp.Statements {
			out = append(out, catalogue.Citation{Version: sp.MQTTVersion, StatementID: st.ID, Spec: sp.Name})
		}
	}
	return out, nil
}
