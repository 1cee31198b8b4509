package auth

import (
	"testing"

	"github.com/mqttspec/mqttspec/reference/packet"
)

func TestCoversTable(t *testing.T) {
	cases := []struct {
		a, f   string
		covers bool
	}{
		{"#", "#", true},
		{"#", "a/b", true},
		{"#", "$SYS/x", false},
		{"$SYS/#", "#", false},
		{"+/#", "#", true},
		{"#", "+/#", true},
		{"+", "#", false},
		{"a/#", "a", true},
		{"a", "a/#", false},
		{"a/#", "a/#", true},
		{"a/+/#", "a/#", false},
		{"a/+", "a/b", true},
		{"a/b", "a/+", false},
		{"a/+", "a/+/c", false},
		{"a/+/c", "a/b/c", true},
		{"a/b", "a/c", false},
		{"a/", "a/+", false},
		{"a/+", "a/", true},
		{"a/b/#", "a/+/c", false},
		{"+/+", "$x/y", false},
		{"$x/+", "$x/y", true},
		{"Long-Home/Küche/#", "Long-Home/#", false},
		{"Long-Home/#", "Long-Home/Küche/#", true},
	}
	for _, c := range cases {
		if got := covers(c.a, c.f); got != c.covers {
			t.Errorf("covers(%q, %q) = %v, want %v", c.a, c.f, got, c.covers)
		}
	}
}

// TestCoversExhaustive checks covers against its
// definition, using packet.MatchTopic over every topic of up to four
// levels drawn from a small alphabet, for every valid filter of up to three
// levels over the same alphabet plus wildcards.
func TestCoversExhaustive(t *testing.T) {
	topicLevels := []string{"a", "b", "$s", ""}
	var topics []string
	var grow func(prefix string, depth int)
	grow = func(prefix string, depth int) {
		for _, l := range topicLevels {
			tp := l
			if depth > 0 {
				tp = prefix + "/" + l
			}
			topics = append(topics, tp)
			if depth < 3 {
				grow(tp, depth+1)
			}
		}
	}
	grow("", 0)

	filterLevels := []string{"a", "$s", "", "+", "#"}
	var filters []string
	var growF func(prefix string, depth int)
	growF = func(prefix string, depth int) {
		for _, l := range filterLevels {
			f := l
			if depth > 0 {
				f = prefix + "/" + l
			}
			if packet.ValidateTopicFilter(f, packet.V311) == nil && f != "" {
				filters = append(filters, f)
			}
			if depth < 2 && l != "#" {
				growF(f, depth+1)
			}
		}
	}
	growF("", 0)

	// matches[i] lists, per filter, which topics it matches.
	matches := make([][]bool, len(filters))
	for i, f := range filters {
		matches[i] = make([]bool, len(topics))
		for j, tp := range topics {
			matches[i][j] = packet.MatchTopic(f, tp)
		}
	}
	for i, a := range filters {
		for k, f := range filters {
			wantCover := true
			for j := range topics {
				if matches[k][j] && !matches[i][j] {
					wantCover = false
				}
			}
			if got := covers(a, f); got != wantCover {
				t.Errorf("covers(%q, %q) = %v, want %v", a, f, got, wantCover)
			}
		}
	}
	if t.Failed() {
		return
	}
	t.Logf("%d filters x %d topics", len(filters), len(topics))
}

// Malformed filters (as a deny pattern can become) never panic and compare
// the odd levels literally.
func TestFilterRelationsMalformed(t *testing.T) {
	odd := []string{"", "/", "//", "a#", "#/a", "a/#/b", "+a", "a/b+", "#/#", "+/+/"}
	for _, x := range odd {
		for _, y := range append(odd, "a/#", "#", "+") {
			_ = covers(x, y)
		}
	}
	if covers("a/#/b", "a/x/b") || !covers("a/#/b", "a/#/b") {
		t.Error("a '#' before the last level must be literal")
	}
}
