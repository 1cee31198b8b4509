package scram

import (
	"strings"
	"unicode/utf8"
)

// Prep applies SASLprep (RFC 4013, the stringprep profile SCRAM uses for
// user names and passwords) to s, for the subset of Unicode this package
// supports: after the mapping step, every character must be printable ASCII
// (U+0020..U+007E) or in the Latin-1 Supplement (U+00A0..U+00FF). That
// covers the user names and passwords of most western European languages
// ("Küche", "Straße", "garçon"). For those strings the result is exactly
// what a full SASLprep gives:
//
//   - mapping: the "commonly mapped to nothing" characters (RFC 3454 table
//     B.1, e.g. U+00AD soft hyphen, U+200B zero width space, U+FEFF) are
//     removed and the non-ASCII spaces (table C.1.2, e.g. U+00A0, U+3000)
//     become U+0020; these are handled for all of Unicode;
//   - normalisation (NFKC): the thirteen Latin-1 characters it changes are
//     rewritten ("²" becomes "2", "µ" becomes "μ", "¼" becomes "1⁄4", "´"
//     becomes a space and a combining accent ...); every other accepted
//     character, and any sequence of them, is already in NFKC;
//   - prohibited output and the bidirectional rule cannot be violated by
//     the accepted characters, and none of them is unassigned.
//
// Any other character is refused with ErrUnsupported (full NFKC and the
// bidirectional tables are not in Go's standard library). Control
// characters, which SASLprep prohibits, and invalid UTF-8 are refused with
// ErrMalformed.
// The empty string, and a string that maps to it, are returned unchanged.
func Prep(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", malformed(valueInvalidUsernameEncoding, "string is not valid UTF-8")
	}
	ascii := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			ascii = false
			break
		}
	}
	if ascii {
		return s, nil // SASLprep leaves printable ASCII alone
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case mappedToNothing(r):
			continue
		case nonASCIISpace(r):
			b.WriteByte(' ')
		case r >= 0x20 && r <= 0x7e:
			b.WriteRune(r)
		case r < 0x20 || (r >= 0x7f && r <= 0x9f):
			return "", malformed(valueInvalidUsernameEncoding,
				"control character U+%04X is prohibited by SASLprep", r)
		case r >= 0xa0 && r <= 0xff:
			if m, ok := latin1NFKC[r]; ok {
				b.WriteString(m)
			} else {
				b.WriteRune(r)
			}
		default:
			return "", newErr(ErrUnsupported, valueInvalidUsernameEncoding,
				"character U+%04X is outside the SASLprep subset supported here (ASCII and Latin-1)", r)
		}
	}
	return b.String(), nil
}

// mappedToNothing reports whether r is in RFC 3454 table B.1. U+200B is
// also in table C.1.2; like other implementations we remove it.
func mappedToNothing(r rune) bool {
	switch {
	case r == 0x00ad, r == 0x034f, r == 0x1806, r >= 0x180b && r <= 0x180d,
		r >= 0x200b && r <= 0x200d, r == 0x2060, r >= 0xfe00 && r <= 0xfe0f, r == 0xfeff:
		return true
	}
	return false
}

// nonASCIISpace reports whether r is in RFC 3454 table C.1.2.
func nonASCIISpace(r rune) bool {
	switch {
	case r == 0x00a0, r == 0x1680, r >= 0x2000 && r <= 0x200b, r == 0x202f, r == 0x205f, r == 0x3000:
		return true
	}
	return false
}

// latin1NFKC lists the characters of U+00A1..U+00FF that NFKC changes, with
// their NFKC forms (Unicode compatibility decompositions).
var latin1NFKC = map[rune]string{
	0x00a8: " \u0308",  // diaeresis
	0x00aa: "a",        // feminine ordinal indicator
	0x00af: " \u0304",  // macron
	0x00b2: "2",        // superscript two
	0x00b3: "3",        // superscript three
	0x00b4: " \u0301",  // acute accent
	0x00b5: "\u03bc",   // micro sign -> Greek small letter mu
	0x00b8: " \u0327",  // cedilla
	0x00b9: "1",        // superscript one
	0x00ba: "o",        // masculine ordinal indicator
	0x00bc: "1\u20444", // vulgar fraction one quarter -> 1 FRACTION SLASH 4
	0x00bd: "1\u20442",
	0x00be: "3\u20444",
}
