package packet

import (
	"errors"
	"strings"
	"testing"
)

var allVersions = []Version{V31, V311, V5}

// v3 lists the versions that follow the 3.1.1 rules.
var v3 = []Version{V31, V311}

type topicCase struct {
	in       string
	versions []Version
	// stmt and reason are the expected fault; stmt "" means valid.
	stmt   string
	reason ReasonCode
}

func TestValidateTopicName(t *testing.T) {
	long := strings.Repeat("a", MaxTopicLength)
	cases := []topicCase{
		// Valid everywhere.
		{in: "a", versions: allVersions},
		{in: "/", versions: allVersions},
		{in: "//", versions: allVersions},
		{in: "/a", versions: allVersions},
		{in: "a/", versions: allVersions},
		{in: "a//b", versions: allVersions},
		{in: " ", versions: allVersions},
		{in: "sport/tennis/player1", versions: allVersions},
		{in: "Long-Home/Küche/Temperatur", versions: allVersions},
		{in: "Long-Home/Wohnzimmer/Luftfeuchte", versions: allVersions},
		{in: "$SYS/broker/clients/connected", versions: allVersions},
		{in: "$share/group/a", versions: allVersions},
		{in: "\uFEFFbom", versions: allVersions},
		{in: "日本/東京", versions: allVersions},
		{in: "emoji/🌡", versions: allVersions},
		{in: "a b/c\td", versions: allVersions},
		{in: long, versions: allVersions},

		// Empty [MQTT-4.7.3-1].
		{in: "", versions: allVersions, stmt: "MQTT-4.7.3-1", reason: TopicNameInvalid},
		// Too long [MQTT-4.7.3-3].
		{in: long + "a", versions: allVersions, stmt: "MQTT-4.7.3-3", reason: MalformedPacket},
		{in: strings.Repeat("ü", 40000), versions: allVersions, stmt: "MQTT-4.7.3-3", reason: MalformedPacket},
		// U+0000 [MQTT-4.7.3-2].
		{in: "a\x00b", versions: allVersions, stmt: "MQTT-4.7.3-2", reason: MalformedPacket},
		{in: "\x00", versions: allVersions, stmt: "MQTT-4.7.3-2", reason: MalformedPacket},
		{in: "Küche/\x00", versions: allVersions, stmt: "MQTT-4.7.3-2", reason: MalformedPacket},
		// Ill-formed UTF-8 (1.5.3 / 1.5.4).
		{in: "a/\xff", versions: v3, stmt: "MQTT-1.5.3-1", reason: MalformedPacket},
		{in: "a/\xff", versions: []Version{V5}, stmt: "MQTT-1.5.4-1", reason: MalformedPacket},
		{in: "\xed\xa0\x80", versions: v3, stmt: "MQTT-1.5.3-1", reason: MalformedPacket},
		{in: "\xed\xa0\x80", versions: []Version{V5}, stmt: "MQTT-1.5.4-1", reason: MalformedPacket},
		{in: "\xc0\xaf", versions: v3, stmt: "MQTT-1.5.3-1", reason: MalformedPacket},
		{in: "K\xfcche", versions: []Version{V5}, stmt: "MQTT-1.5.4-1", reason: MalformedPacket},
		// Wildcards [MQTT-3.3.2-2].
		{in: "+", versions: allVersions, stmt: "MQTT-3.3.2-2", reason: ProtocolError},
		{in: "#", versions: allVersions, stmt: "MQTT-3.3.2-2", reason: ProtocolError},
		{in: "a/+", versions: allVersions, stmt: "MQTT-3.3.2-2", reason: ProtocolError},
		{in: "a/#", versions: allVersions, stmt: "MQTT-3.3.2-2", reason: ProtocolError},
		{in: "a+b", versions: allVersions, stmt: "MQTT-3.3.2-2", reason: ProtocolError},
		{in: "sport/tennis#", versions: allVersions, stmt: "MQTT-3.3.2-2", reason: ProtocolError},
		{in: "Long-Home/+/Temperatur", versions: allVersions, stmt: "MQTT-3.3.2-2", reason: ProtocolError},
		{in: "$SYS/#", versions: allVersions, stmt: "MQTT-3.3.2-2", reason: ProtocolError},
	}
	runTopicCases(t, "ValidateTopicName", ValidateTopicName, cases)
}

func TestValidateTopicFilter(t *testing.T) {
	long := strings.Repeat("a", MaxTopicLength)
	v5 := []Version{V5}
	cases := []topicCase{
		// Valid everywhere.
		{in: "a", versions: allVersions},
		{in: "#", versions: allVersions},
		{in: "+", versions: allVersions},
		{in: "/", versions: allVersions},
		{in: "/#", versions: allVersions},
		{in: "+/", versions: allVersions},
		{in: "/+", versions: allVersions},
		{in: "+/+", versions: allVersions},
		{in: "+/#", versions: allVersions},
		{in: "a//b", versions: allVersions},
		{in: "a/+/+/b", versions: allVersions},
		{in: "a/+//#", versions: allVersions},
		{in: "sport/tennis/player1/#", versions: allVersions},
		{in: "sport/+/player1", versions: allVersions},
		{in: "Long-Home/+/Temperatur", versions: allVersions},
		{in: "Long-Home/Wohnzimmer/#", versions: allVersions},
		{in: "Long-Home/Küche/Temperatur", versions: allVersions},
		{in: "$SYS/#", versions: allVersions},
		{in: "$SYS/+/load", versions: allVersions},
		{in: "$share", versions: allVersions},
		{in: "$shared/g/a", versions: allVersions},
		{in: "a/$share/g/b", versions: allVersions},
		{in: long, versions: allVersions},
		{in: long[:MaxTopicLength-2] + "/#", versions: allVersions},

		// Shared subscriptions: valid in 5.0 and, being ordinary filters,
		// in 3.1 and 3.1.1.
		{in: "$share/g/a", versions: allVersions},
		{in: "$share/g/#", versions: allVersions},
		{in: "$share/g/+", versions: allVersions},
		{in: "$share/g/+/Temperatur", versions: allVersions},
		{in: "$share/consumers/Long-Home/Wohnzimmer/#", versions: allVersions},
		{in: "$share/g//", versions: allVersions},
		{in: "$share/g/$SYS/#", versions: allVersions},
		{in: "$share/Küche/a", versions: allVersions},
		{in: "$share/g/$share/h/a", versions: allVersions},
		// Malformed shared subscriptions: faults in 5.0 only.
		{in: "$share/", versions: v3},
		{in: "$share/", versions: v5, stmt: "MQTT-4.8.2-1", reason: TopicFilterInvalid},
		{in: "$share//a", versions: v3},
		{in: "$share//a", versions: v5, stmt: "MQTT-4.8.2-1", reason: TopicFilterInvalid},
		{in: "$share//", versions: v5, stmt: "MQTT-4.8.2-1", reason: TopicFilterInvalid},
		{in: "$share/g", versions: v3},
		{in: "$share/g", versions: v5, stmt: "MQTT-4.8.2-2", reason: TopicFilterInvalid},
		{in: "$share/g/", versions: v3},
		{in: "$share/g/", versions: v5, stmt: "MQTT-4.8.2-2", reason: TopicFilterInvalid},
		// A wildcard in the ShareName is a 4.8.2 fault in 5.0 and a
		// misplaced wildcard in 3.1.1 only if it does not fill a level.
		{in: "$share/+/a", versions: v3},
		{in: "$share/+/a", versions: v5, stmt: "MQTT-4.8.2-2", reason: TopicFilterInvalid},
		{in: "$share/#", versions: v3},
		{in: "$share/#", versions: v5, stmt: "MQTT-4.8.2-2", reason: TopicFilterInvalid},
		{in: "$share/g+/a", versions: v3, stmt: "MQTT-4.7.1-3", reason: TopicFilterInvalid},
		{in: "$share/g+/a", versions: v5, stmt: "MQTT-4.8.2-2", reason: TopicFilterInvalid},
		{in: "$share/g#/a", versions: v3, stmt: "MQTT-4.7.1-2", reason: TopicFilterInvalid},
		{in: "$share/g#/a", versions: v5, stmt: "MQTT-4.8.2-2", reason: TopicFilterInvalid},
		{in: "$share/g+", versions: v5, stmt: "MQTT-4.8.2-2", reason: TopicFilterInvalid},
		// The filter after the ShareName follows the wildcard rules.
		{in: "$share/g/a#", versions: v5, stmt: "MQTT-4.7.1-1", reason: TopicFilterInvalid},
		{in: "$share/g/#/a", versions: v5, stmt: "MQTT-4.7.1-1", reason: TopicFilterInvalid},
		{in: "$share/g/a+", versions: v5, stmt: "MQTT-4.7.1-2", reason: TopicFilterInvalid},
		{in: "$share/g/a/+b", versions: v5, stmt: "MQTT-4.7.1-2", reason: TopicFilterInvalid},
		{in: "$share/g/a#", versions: v3, stmt: "MQTT-4.7.1-2", reason: TopicFilterInvalid},
		{in: "$share/g/a+", versions: v3, stmt: "MQTT-4.7.1-3", reason: TopicFilterInvalid},

		// Empty [MQTT-4.7.3-1], too long [MQTT-4.7.3-3], U+0000 [MQTT-4.7.3-2].
		{in: "", versions: allVersions, stmt: "MQTT-4.7.3-1", reason: TopicFilterInvalid},
		{in: long + "/", versions: allVersions, stmt: "MQTT-4.7.3-3", reason: MalformedPacket},
		{in: "$share/g/" + long, versions: v5, stmt: "MQTT-4.7.3-3", reason: MalformedPacket},
		{in: "a/\x00", versions: allVersions, stmt: "MQTT-4.7.3-2", reason: MalformedPacket},
		{in: "\x00/#", versions: allVersions, stmt: "MQTT-4.7.3-2", reason: MalformedPacket},
		{in: "$share/g/\x00", versions: v5, stmt: "MQTT-4.7.3-2", reason: MalformedPacket},
		// Ill-formed UTF-8.
		{in: "+/\xff", versions: v3, stmt: "MQTT-1.5.3-1", reason: MalformedPacket},
		{in: "+/\xff", versions: v5, stmt: "MQTT-1.5.4-1", reason: MalformedPacket},
		{in: "\xed\xbf\xbf/#", versions: v5, stmt: "MQTT-1.5.4-1", reason: MalformedPacket},
		{in: "$share/\xff/a", versions: v5, stmt: "MQTT-1.5.4-1", reason: MalformedPacket},

		// '#' alone and last: MQTT-4.7.1-2 in 3.1.1, MQTT-4.7.1-1 in 5.0.
		{in: "a#", versions: v3, stmt: "MQTT-4.7.1-2", reason: TopicFilterInvalid},
		{in: "a#", versions: v5, stmt: "MQTT-4.7.1-1", reason: TopicFilterInvalid},
		{in: "#/a", versions: v3, stmt: "MQTT-4.7.1-2", reason: TopicFilterInvalid},
		{in: "#/a", versions: v5, stmt: "MQTT-4.7.1-1", reason: TopicFilterInvalid},
		{in: "a/#b", versions: v3, stmt: "MQTT-4.7.1-2", reason: TopicFilterInvalid},
		{in: "a/#b", versions: v5, stmt: "MQTT-4.7.1-1", reason: TopicFilterInvalid},
		{in: "a/#/", versions: v3, stmt: "MQTT-4.7.1-2", reason: TopicFilterInvalid},
		{in: "a/#/", versions: v5, stmt: "MQTT-4.7.1-1", reason: TopicFilterInvalid},
		{in: "##", versions: v3, stmt: "MQTT-4.7.1-2", reason: TopicFilterInvalid},
		{in: "##", versions: v5, stmt: "MQTT-4.7.1-1", reason: TopicFilterInvalid},
		{in: "sport/tennis#", versions: v3, stmt: "MQTT-4.7.1-2", reason: TopicFilterInvalid},
		{in: "sport/tennis/#/ranking", versions: v5, stmt: "MQTT-4.7.1-1", reason: TopicFilterInvalid},
		{in: "#+", versions: v3, stmt: "MQTT-4.7.1-2", reason: TopicFilterInvalid},
		// '+' fills its level: MQTT-4.7.1-3 in 3.1.1, MQTT-4.7.1-2 in 5.0.
		{in: "a+", versions: v3, stmt: "MQTT-4.7.1-3", reason: TopicFilterInvalid},
		{in: "a+", versions: v5, stmt: "MQTT-4.7.1-2", reason: TopicFilterInvalid},
		{in: "a+/b", versions: v3, stmt: "MQTT-4.7.1-3", reason: TopicFilterInvalid},
		{in: "a+/b", versions: v5, stmt: "MQTT-4.7.1-2", reason: TopicFilterInvalid},
		{in: "a/+b", versions: v3, stmt: "MQTT-4.7.1-3", reason: TopicFilterInvalid},
		{in: "a/+b", versions: v5, stmt: "MQTT-4.7.1-2", reason: TopicFilterInvalid},
		{in: "++", versions: v3, stmt: "MQTT-4.7.1-3", reason: TopicFilterInvalid},
		{in: "++", versions: v5, stmt: "MQTT-4.7.1-2", reason: TopicFilterInvalid},
		{in: "+#", versions: v5, stmt: "MQTT-4.7.1-2", reason: TopicFilterInvalid},
		{in: "sport+", versions: v5, stmt: "MQTT-4.7.1-2", reason: TopicFilterInvalid},
		{in: "Long-Home/K+che/Temperatur", versions: v3, stmt: "MQTT-4.7.1-3", reason: TopicFilterInvalid},
		{in: "Long-Home/K+che/Temperatur", versions: v5, stmt: "MQTT-4.7.1-2", reason: TopicFilterInvalid},
	}
	runTopicCases(t, "ValidateTopicFilter", ValidateTopicFilter, cases)
}

func runTopicCases(t *testing.T, fn string, validate func(string, Version) error, cases []topicCase) {
	t.Helper()
	for _, c := range cases {
		for _, v := range c.versions {
			err := validate(c.in, v)
			in := c.in
			if len(in) > 40 {
				in = in[:40] + "..."
			}
			if c.stmt == "" {
				if err != nil {
					t.Errorf("%s(%q, %v) = %v, want nil", fn, in, v, err)
				}
				continue
			}
			if err == nil {
				t.Errorf("%s(%q, %v) = nil, want %s", fn, in, v, c.stmt)
				continue
			}
			if !errors.Is(err, &Error{Statement: c.stmt}) {
				t.Errorf("%s(%q, %v) = %v, want statement %s", fn, in, v, err, c.stmt)
			}
			if !errors.Is(err, &Error{Reason: c.reason}) {
				t.Errorf("%s(%q, %v) reason = %v, want %v", fn, in, v, AsError(err).Reason, c.reason)
			}
			if e := AsError(err); e == nil || e.Section == "" || e.Msg == "" {
				t.Errorf("%s(%q, %v) = %#v, want an *Error with section and message", fn, in, v, err)
			}
		}
	}
}

func TestTopicErrorSections(t *testing.T) {
	cases := []struct {
		err     error
		section string
	}{
		{ValidateTopicName("", V311), "4.7"},
		{ValidateTopicName("a/+", V5), "3.3.2"},
		{ValidateTopicFilter("a#", V5), "4.7"},
		{ValidateTopicFilter("a+", V311), "4.7"},
		{ValidateTopicFilter("$share//a", V5), "4.8.2"},
		{ValidateTopicFilter("$share/g", V5), "4.8.2"},
		{ValidateTopicFilter("a/\xff", V5), "1.5.4"},
		{ValidateTopicFilter("a/\xff", V311), "1.5.3"},
	}
	for _, c := range cases {
		if !errors.Is(c.err, &Error{Section: c.section}) {
			t.Errorf("%v: want section %s", c.err, c.section)
		}
		if !strings.Contains(c.err.Error(), AsError(c.err).Statement) {
			t.Errorf("%q does not name its statement", c.err.Error())
		}
	}
}

// A nil result must be a nil interface, not a typed nil *Error.
func TestValidateTopicNilInterface(t *testing.T) {
	for _, v := range allVersions {
		if err := ValidateTopicName("a/b", v); err != nil {
			t.Errorf("ValidateTopicName: %#v", err)
		}
		if err := ValidateTopicFilter("a/+/#", v); err != nil {
			t.Errorf("ValidateTopicFilter: %#v", err)
		}
		if err := ValidateTopicFilter("$share/g/a/#", v); err != nil {
			t.Errorf("ValidateTopicFilter shared: %#v", err)
		}
	}
}

func TestParseShared(t *testing.T) {
	cases := []struct {
		in    string
		want  SharedFilter
		ok    bool
		valid bool // ValidateTopicFilter(in, V5) == nil
	}{
		{"$share/g/a", SharedFilter{"g", "a"}, true, true},
		{"$share/group/Long-Home/Wohnzimmer/#", SharedFilter{"group", "Long-Home/Wohnzimmer/#"}, true, true},
		{"$share/g/#", SharedFilter{"g", "#"}, true, true},
		{"$share/g//", SharedFilter{"g", "/"}, true, true},
		{"$share/g/$share/h/a", SharedFilter{"g", "$share/h/a"}, true, true},
		{"$share/Küche/+", SharedFilter{"Küche", "+"}, true, true},
		// Shaped like a shared subscription but with invalid parts:
		// ParseShared splits, ValidateTopicFilter refuses.
		{"$share/g+/a", SharedFilter{"g+", "a"}, true, false},
		{"$share/g/a#", SharedFilter{"g", "a#"}, true, false},
		// Not shared subscriptions.
		{"a/b", SharedFilter{}, false, true},
		{"#", SharedFilter{}, false, true},
		{"$share", SharedFilter{}, false, true},
		{"$SHARE/g/a", SharedFilter{}, false, true},
		{"$shared/g/a", SharedFilter{}, false, true},
		{"a/$share/g/a", SharedFilter{}, false, true},
		{"", SharedFilter{}, false, false},
		{"$share/", SharedFilter{}, false, false},
		{"$share//a", SharedFilter{}, false, false},
		{"$share/g", SharedFilter{}, false, false},
		{"$share/g/", SharedFilter{}, false, false},
	}
	for _, c := range cases {
		got, ok := ParseShared(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("ParseShared(%q) = %+v, %v; want %+v, %v", c.in, got, ok, c.want, c.ok)
		}
		if err := ValidateTopicFilter(c.in, V5); (err == nil) != c.valid {
			t.Errorf("ValidateTopicFilter(%q, V5) = %v, want valid=%v", c.in, err, c.valid)
		}
	}
}

func TestTopicLevels(t *testing.T) {
	cases := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"a", 1},
		{"#", 1},
		{"/", 2},
		{"a/", 2},
		{"/a", 2},
		{"a//b", 3},
		{"Long-Home/Küche/Temperatur", 3},
		{"$SYS/broker/load/bytes/received", 5},
		{"$share/g/a/b", 4},
		{"///", 4},
	}
	for _, c := range cases {
		if got := TopicLevels(c.in); got != c.want {
			t.Errorf("TopicLevels(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}

var matchCases = []struct {
	filter, topic string
	want          bool
}{
	// Exact levels.
	{"a", "a", true},
	{"a", "b", false},
	{"a/b", "a/b", true},
	{"a/b", "a/b/c", false},
	{"a/b/c", "a/b", false},
	{"a/b", "a/b/", false},
	{"a/b/", "a/b", false},
	{"a/b/", "a/b/", true},
	{"a", "ab", false},
	{"ab", "a", false},
	{"a/b", "a/bc", false},
	{"sport/tennis/player1", "sport/tennis/player1", true},

	// Case sensitive and no normalisation [MQTT-4.7.3-4].
	{"A/b", "a/b", false},
	{"Long-Home/Küche/Temperatur", "Long-Home/Küche/Temperatur", true},
	{"Long-Home/Küche/Temperatur", "Long-Home/Ku\u0308che/Temperatur", false},
	{"Long-Home/KÜCHE/Temperatur", "Long-Home/Küche/Temperatur", false},
	{"\uFEFFa", "a", false},

	// Empty levels are real levels.
	{"/", "/", true},
	{"/a", "a", false},
	{"a", "/a", false},
	{"/a", "/a", true},
	{"a//b", "a/b", false},
	{"a/b", "a//b", false},
	{"a//b", "a//b", true},
	{"//", "/", false},
	{"/", "//", false},

	// '+' is exactly one level, possibly empty.
	{"+", "a", true},
	{"+", "Küche", true},
	{"+", "a/b", false},
	{"+", "/", false},
	{"+", "/a", false},
	{"+/+", "/", true},
	{"+/+", "/a", true},
	{"+/+", "a/", true},
	{"+/+", "a/b", true},
	{"+/+", "a/b/c", false},
	{"+/+", "a", false},
	{"/+", "/a", true},
	{"/+", "/", true},
	{"/+", "a", false},
	{"+/b", "/b", true},
	{"a/+", "a/", true},
	{"a/+", "a", false},
	{"a/+", "a/b/c", false},
	{"a/+/c", "a/b/c", true},
	{"a/+/c", "a//c", true},
	{"a/+/c", "a/c", false},
	{"a/+/c", "a/b/d", false},
	{"a/+/+", "a/b/c", true},
	{"a/+/+", "a/b", false},
	{"sport/tennis/+", "sport/tennis/player1", true},
	{"sport/tennis/+", "sport/tennis/player1/ranking", false},
	{"sport/+", "sport", false},
	{"sport/+", "sport/", true},
	{"Long-Home/+/Temperatur", "Long-Home/Küche/Temperatur", true},
	{"Long-Home/+/Temperatur", "Long-Home/Wohnzimmer/Temperatur", true},
	{"Long-Home/+/Temperatur", "Long-Home/Küche/Luftfeuchte", false},
	{"Long-Home/+/Temperatur", "Long-Home/Küche/Herd/Temperatur", false},
	{"Long-Home/+/Temperatur", "Long-Home//Temperatur", true},

	// '#' is this level and all below, the parent included.
	{"#", "a", true},
	{"#", "/", true},
	{"#", "a/b/c", true},
	{"#", "Long-Home/Küche/Temperatur", true},
	{"a/#", "a", true},
	{"a/#", "a/", true},
	{"a/#", "a/b", true},
	{"a/#", "a/b/c/d", true},
	{"a/#", "ab", false},
	{"a/#", "b/a", false},
	{"a/#", "/a", false},
	{"a/b/#", "a", false},
	{"a/b/#", "a/b", true},
	{"a/b/#", "a/c", false},
	{"/#", "/", true},
	{"/#", "/a/b", true},
	{"/#", "a", false},
	{"+/#", "a", true},
	{"+/#", "/", true},
	{"+/#", "a/b/c", true},
	{"a/+/#", "a/b", true},
	{"a/+/#", "a/b/c", true},
	{"a/+/#", "a", false},
	{"+/+/#", "a/b", true},
	{"+/+/#", "a", false},
	{"sport/tennis/player1/#", "sport/tennis/player1", true},
	{"sport/tennis/player1/#", "sport/tennis/player1/ranking", true},
	{"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true},
	{"sport/#", "sport", true},
	{"Long-Home/Wohnzimmer/#", "Long-Home/Wohnzimmer", true},
	{"Long-Home/Wohnzimmer/#", "Long-Home/Wohnzimmer/Temperatur", true},
	{"Long-Home/Wohnzimmer/#", "Long-Home/Wohnzimmer/Sofa/Lampe/Helligkeit", true},
	{"Long-Home/Wohnzimmer/#", "Long-Home/Küche/Temperatur", false},
	{"Long-Home/Wohnzimmer/#", "Long-Home/Wohnzimmerlampe", false},
	{"Long-Home/Wohnzimmer/#", "Long-Home", false},

	// Topics starting with '$' and wildcard-led filters [MQTT-4.7.2-1].
	{"#", "$SYS", false},
	{"#", "$SYS/broker/load", false},
	{"#", "$", false},
	{"+", "$SYS", false},
	{"+", "$", false},
	{"+/#", "$SYS/broker", false},
	{"+/monitor/Clients", "$SYS/monitor/Clients", false},
	{"+/+", "$SYS/x", false},
	{"$SYS/#", "$SYS", true},
	{"$SYS/#", "$SYS/broker/load", true},
	{"$SYS/+", "$SYS/uptime", true},
	{"$SYS/monitor/+", "$SYS/monitor/Clients", true},
	{"$SYS/monitor/Clients", "$SYS/monitor/Clients", true},
	{"$", "$", true},
	{"+", "a$", true},
	{"#", "a/$SYS", true},
	{"a/+", "a/$SYS", true},
	{"$sys/#", "$SYS/uptime", false},

	// $share: the caller strips a shared subscription; the raw filter is
	// compared literally, and a "$share/..." topic is a '$' topic.
	{"$share/g/a", "a", false},
	{"$share/g/#", "a", false},
	{"$share/g/a", "$share/g/a", true},
	{"#", "$share/g/a", false},
	{"+/g/a", "$share/g/a", false},
	{"$share/+/a", "$share/g/a", true},
}

func TestMatchTopic(t *testing.T) {
	for _, c := range matchCases {
		if got := MatchTopic(c.filter, c.topic); got != c.want {
			t.Errorf("MatchTopic(%q, %q) = %v, want %v", c.filter, c.topic, got, c.want)
		}
		// The table uses only valid topics and filters, and the reference
		// matcher must agree with it.
		if err := ValidateTopicName(c.topic, V5); err != nil {
			t.Errorf("table topic %q is invalid: %v", c.topic, err)
		}
		if err := ValidateTopicFilter(c.filter, V311); err != nil {
			t.Errorf("table filter %q is invalid: %v", c.filter, err)
		}
		if ref := referenceMatch(c.filter, c.topic); ref != c.want {
			t.Errorf("referenceMatch(%q, %q) = %v, want %v", c.filter, c.topic, ref, c.want)
		}
	}
}

// Shared subscriptions match through their inner filter.
func TestMatchTopicShared(t *testing.T) {
	sf, ok := ParseShared("$share/kitchen/Long-Home/+/Temperatur")
	if !ok {
		t.Fatal("ParseShared failed")
	}
	if !MatchTopic(sf.Filter, "Long-Home/Küche/Temperatur") {
		t.Error("shared inner filter does not match")
	}
	if MatchTopic(sf.Filter, "Long-Home/Küche/Luftfeuchte") {
		t.Error("shared inner filter matches the wrong topic")
	}
}

// Invalid inputs give some answer but never panic, and misplaced wildcards
// are compared literally.
func TestMatchTopicInvalidInputs(t *testing.T) {
	cases := []struct {
		filter, topic string
		want          bool
	}{
		{"", "", true},
		{"", "a", false},
		{"a", "", false},
		{"#", "", true},
		{"+", "", true},
		{"#/a", "x/a", false},
		{"#/a", "#/a", true},
		{"a+", "ab", false},
		{"a+", "a+", true},
		{"a/#b", "a/x", false},
		{"+#", "a", false},
	}
	for _, c := range cases {
		if got := MatchTopic(c.filter, c.topic); got != c.want {
			t.Errorf("MatchTopic(%q, %q) = %v, want %v", c.filter, c.topic, got, c.want)
		}
	}
}

func TestTopicNoAllocs(t *testing.T) {
	filters := []string{"Long-Home/+/Temperatur", "Long-Home/Wohnzimmer/#", "#", "$SYS/#", "a/b/c"}
	topic := "Long-Home/Küche/Temperatur"
	allocs := testing.AllocsPerRun(100, func() {
		for _, f := range filters {
			MatchTopic(f, topic)
			_ = ValidateTopicFilter(f, V5)
		}
		_ = ValidateTopicName(topic, V5)
		_, _ = ParseShared("$share/g/Long-Home/#")
		_ = TopicLevels(topic)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run, want 0", allocs)
	}
}

func BenchmarkMatchTopic(b *testing.B) {
	cases := []struct{ name, filter, topic string }{
		{"exact", "Long-Home/Küche/Temperatur", "Long-Home/Küche/Temperatur"},
		{"plus", "Long-Home/+/Temperatur", "Long-Home/Küche/Temperatur"},
		{"hash", "Long-Home/Wohnzimmer/#", "Long-Home/Wohnzimmer/Sofa/Lampe/Helligkeit"},
		{"miss", "Long-Home/Wohnzimmer/#", "Long-Home/Küche/Temperatur"},
		{"dollar", "#", "$SYS/broker/load/bytes/received"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				MatchTopic(c.filter, c.topic)
			}
		})
	}
}

func BenchmarkValidateTopicFilter(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = ValidateTopicFilter("$share/g/Long-Home/+/Temperatur", V5)
	}
}

func BenchmarkValidateTopicName(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = ValidateTopicName("Long-Home/Küche/Temperatur", V5)
	}
}

// referenceMatch is a deliberately naive matcher, written independently of
// MatchTopic (split into levels, then compare), for differential testing.
// It expects a valid filter and topic name.
func referenceMatch(filter, topic string) bool {
	fl := strings.Split(filter, "/")
	tl := strings.Split(topic, "/")
	if strings.HasPrefix(topic, "$") && (fl[0] == "+" || fl[0] == "#") {
		return false
	}
	for i, f := range fl {
		if f == "#" {
			return true
		}
		if i >= len(tl) {
			return false
		}
		if f != "+" && f != tl[i] {
			return false
		}
	}
	return len(fl) == len(tl)
}

func FuzzMatchTopic(f *testing.F) {
	for _, c := range matchCases {
		f.Add(c.filter, c.topic)
	}
	f.Add("", "")
	f.Add("#/a", "b")
	f.Add("a/\x00", "a/\x00")
	f.Add("+/\xff", "a/\xff")
	f.Fuzz(func(t *testing.T, filter, topic string) {
		got := MatchTopic(filter, topic) // must not panic, whatever the input
		TopicLevels(filter)
		ParseShared(filter)

		nameValid := ValidateTopicName(topic, V5) == nil
		if (ValidateTopicName(topic, V311) == nil) != nameValid {
			t.Fatalf("topic %q: 3.1.1 and 5.0 disagree on validity", topic)
		}
		if nameValid {
			if !MatchTopic(topic, topic) {
				t.Fatalf("valid topic %q does not match itself", topic)
			}
			if MatchTopic("#", topic) == (topic[0] == '$') {
				t.Fatalf("MatchTopic(\"#\", %q) = %v", topic, topic[0] == '$')
			}
			if MatchTopic("+", topic) != (topic[0] != '$' && !strings.Contains(topic, "/")) {
				t.Fatalf("MatchTopic(\"+\", %q) is wrong", topic)
			}
			// A valid name is a valid filter without wildcards.
			if err := ValidateTopicFilter(topic, V311); err != nil {
				t.Fatalf("valid name %q is not a valid filter: %v", topic, err)
			}
		}
		filterValid := ValidateTopicFilter(filter, V311) == nil
		if !filterValid || !nameValid {
			return
		}
		if ref := referenceMatch(filter, topic); got != ref {
			t.Fatalf("MatchTopic(%q, %q) = %v, reference says %v", filter, topic, got, ref)
		}
		if got && !strings.Contains(filter, "#") && TopicLevels(filter) != TopicLevels(topic) {
			t.Fatalf("MatchTopic(%q, %q): level counts differ without '#'", filter, topic)
		}
		if !strings.ContainsAny(filter, "+#") && got != (filter == topic) {
			t.Fatalf("wildcard-free filter %q vs %q: got %v", filter, topic, got)
		}
	})
}
