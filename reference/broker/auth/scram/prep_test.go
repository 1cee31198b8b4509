package scram

import (
	"errors"
	"testing"
)

func TestPrep(t *testing.T) {
	// Expected values checked against Python's unicodedata NFKC and
	// stringprep tables B.1 and C.1.2.
	ok := []struct{ in, want string }{
		{"", ""},
		{"user", "user"},
		{"pass word!~", "pass word!~"},
		{"Küche", "Küche"},
		{"Straße", "Straße"},
		{"Kü\u00a0che\u00bc\u00aa\u00b2", "Kü che1\u20444a2"},
		{"soft\u00adhyphen", "softhyphen"},
		{"zero\u200bwidth\ufeff", "zerowidth"},
		{"ideo\u3000space\u2003", "ideo space "},
		{"\u00b5s", "\u03bcs"},
		{"caf\u00b4e", "caf \u0301e"},
		{"\u00ba\u00b9\u00b3\u00be\u00bd\u00a8\u00af\u00b8", "o133\u204441\u20442 \u0308 \u0304 \u0327"},
		{"×÷¿¡ÿ", "×÷¿¡ÿ"},
	}
	for _, tc := range ok {
		got, err := Prep(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Prep(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	bad := []struct {
		in   string
		kind error
	}{
		{"tab\there", ErrMalformed},
		{"nul\x00", ErrMalformed},
		{"del\x7f", ErrMalformed},
		{"c1\u0085", ErrMalformed},
		{"\xc3", ErrMalformed},
		{"Ωmega", ErrUnsupported},
		{"e\u0301", ErrUnsupported}, // combining mark: would need NFKC composition
		{"日本", ErrUnsupported},
		{"emoji😀", ErrUnsupported},
	}
	for _, tc := range bad {
		if got, err := Prep(tc.in); !errors.Is(err, tc.kind) {
			t.Errorf("Prep(%q) = %q, %v; want %v", tc.in, got, err, tc.kind)
		}
	}
}

func TestNameEncoding(t *testing.T) {
	for _, s := range []string{"a", "a,b", "a=b", "=2C", ",=,=", "Küche"} {
		enc := encodeName(s)
		dec, err := decodeName(enc)
		if err != nil || dec != s {
			t.Errorf("%q -> %q -> %q, %v", s, enc, dec, err)
		}
	}
	if got := encodeName("a,b=c"); got != "a=2Cb=3Dc" {
		t.Errorf("encodeName = %q", got)
	}
}
