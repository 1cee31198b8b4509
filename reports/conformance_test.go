package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestSummary(t *testing.T) {
	s := sampleConformance().Summary()
	if s.Total != 10 {
		t.Errorf("Total = %d, want 10", s.Total)
	}
	wantVerdicts := Counts{
		VerdictPass: 3, VerdictFail: 2, VerdictNonStrict: 1, VerdictInformational: 1,
		VerdictUnsupported: 1, VerdictBrokerDown: 1, VerdictSkipped: 1,
	}
	if !reflect.DeepEqual(s.ByVerdict, wantVerdicts) {
		t.Errorf("ByVerdict = %v, want %v", s.ByVerdict, wantVerdicts)
	}
	if s.ByVerdict.Total() != s.Total {
		t.Errorf("ByVerdict.Total() = %d", s.ByVerdict.Total())
	}
	wantVersions := map[string]Counts{
		"":      {VerdictFail: 1, VerdictPass: 1},
		MQTT311: {VerdictPass: 1, VerdictNonStrict: 1, VerdictInformational: 1, VerdictBrokerDown: 1, VerdictSkipped: 1},
		MQTT50:  {VerdictPass: 1, VerdictFail: 1, VerdictUnsupported: 1},
	}
	if !reflect.DeepEqual(s.ByVersion, wantVersions) {
		t.Errorf("ByVersion = %v, want %v", s.ByVersion, wantVersions)
	}
	if got := s.VersionKeys(); !reflect.DeepEqual(got, []string{"", MQTT311, MQTT50}) {
		t.Errorf("VersionKeys = %q", got)
	}
	if got := s.ByArea["CONNECT"]; !reflect.DeepEqual(got, Counts{VerdictPass: 2, VerdictInformational: 1}) {
		t.Errorf("ByArea[CONNECT] = %v", got)
	}
	if got := s.AreaKeys(); got[0] != AreaSuite || len(got) != 7 {
		t.Errorf("AreaKeys = %q", got)
	}
}

func TestExitCode(t *testing.T) {
	mk := func(vs ...Verdict) *Conformance {
		c := &Conformance{}
		for _, v := range vs {
			c.Specs = append(c.Specs, Spec{Verdict: v})
		}
		return c
	}
	tests := []struct {
		c              *Conformance
		normal, strict int
	}{
		{mk(), 0, 0},
		{mk(VerdictPass, VerdictInformational, VerdictUnsupported, VerdictBrokerDown, VerdictSkipped), 0, 0},
		{mk(VerdictPass, VerdictNonStrict), 0, 1},
		{mk(VerdictPass, VerdictFail), 1, 1},
		{mk(VerdictFail, VerdictNonStrict), 1, 1},
	}
	for i, tc := range tests {
		if got := tc.c.ExitCode(false); got != tc.normal {
			t.Errorf("%d: ExitCode(false) = %d, want %d", i, got, tc.normal)
		}
		if got := tc.c.ExitCode(true); got != tc.strict {
			t.Errorf("%d: ExitCode(true) = %d, want %d", i, got, tc.strict)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	c := sampleConformance()
	var buf bytes.Buffer
	if err := c.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{`"schema": "mqttspec.conformance/v1"`, `"summary": {`, `"durationNs": 25000000`, `"mqttVersion": "5.0"`, `"verdict": "non-strict"`} {
		if !strings.Contains(out, want) {
			t.Errorf("JSON lacks %s", want)
		}
	}
	back, err := ReadJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, c) {
		g, _ := json.MarshalIndent(back, "", " ")
		w, _ := json.MarshalIndent(c, "", " ")
		t.Errorf("round trip differs:\n%s\nwant\n%s", g, w)
	}

	// An empty model writes [] rather than null and still reads back.
	buf.Reset()
	if err := (&Conformance{}).WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"specs": []`) || !strings.Contains(buf.String(), `"schema": "mqttspec.conformance/v1"`) {
		t.Errorf("empty model JSON:\n%s", buf.String())
	}
	if _, err := ReadJSON(&buf); err != nil {
		t.Errorf("reading the empty model: %v", err)
	}
}

func TestWriteJSONRedactsAndRefusesOtherSchemas(t *testing.T) {
	c := &Conformance{Target: TargetInfo{URL: "ssl://alice:s3cret@broker.example:8883"}}
	var buf bytes.Buffer
	if err := c.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "s3cret") || !strings.Contains(buf.String(), "alice:xxxxx@broker.example") {
		t.Errorf("password not redacted:\n%s", buf.String())
	}
	if c.Target.URL != "ssl://alice:s3cret@broker.example:8883" {
		t.Errorf("WriteJSON modified the model: %q", c.Target.URL)
	}
	if err := (&Conformance{Schema: "mqttspec.conformance/v9"}).WriteJSON(&buf); err == nil {
		t.Error("WriteJSON accepted an unknown schema")
	}
}

func TestReadJSONRejects(t *testing.T) {
	tests := []struct {
		name, in, want string
		unknown        bool
	}{
		{"newer schema", `{"schema":"mqttspec.conformance/v2","specs":[]}`, `unknown report schema "mqttspec.conformance/v2": this mqttspec reads "mqttspec.conformance/v1"; it was written by a different mqttspec version`, true},
		{"other tool", `{"schema":"ginkgo"}`, `unknown report schema "ginkgo"`, true},
		{"no schema", `{"specs":[]}`, `no "schema" field`, true},
		{"not an object", `[1,2]`, "not a conformance report", false},
		{"not JSON", `<xml/>`, "not a conformance report", false},
		{"bad verdict", `{"schema":"mqttspec.conformance/v1","specs":[{"name":"x","verdict":"meh"}]}`, `unknown verdict "meh"`, false},
		{"bad field type", `{"schema":"mqttspec.conformance/v1","specs":{}}`, "decoding conformance report", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadJSON(strings.NewReader(tc.in))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to contain %q", err, tc.want)
			}
			if errors.Is(err, ErrUnknownSchema) != tc.unknown {
				t.Errorf("errors.Is(err, ErrUnknownSchema) = %v, want %v", !tc.unknown, tc.unknown)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"":                               "",
		"tcp://127.0.0.1:1883":           "tcp://127.0.0.1:1883",
		"tcp://bob@host:1883":            "tcp://bob@host:1883",
		"ws://bob:pw@host:80/mqtt":       "ws://bob:xxxxx@host:80/mqtt",
		"not a url @ all":                "not a url @ all",
		"reference (in-process)":         "reference (in-process)",
		"ssl://u:p%40ss@h:8883?x=1#frag": "ssl://u:xxxxx@h:8883?x=1#frag",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
