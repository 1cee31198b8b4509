package packet

import "unicode/utf8"

// checkUTF8 applies the rules for UTF-8 encoded strings (3.1.1 section 1.5.3,
// 5.0 section 1.5.4): well-formed UTF-8, no surrogate code points (Go's
// decoder already rejects them as ill-formed) and no U+0000. A byte order
// mark is legal and kept as it is [MQTT-1.5.3-3 / MQTT-1.5.4-3].
//
// The common case, plain ASCII without NUL, is checked first without
// decoding runes.
func checkUTF8(b []byte, v Version) *Error {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == 0 {
			return malformed(stmtUTF8Null(v), sectionUTF8(v), "string contains the null character U+0000 at byte %d", i)
		}
		if c >= utf8.RuneSelf {
			return checkUTF8Slow(b[i:], i, v)
		}
	}
	return nil
}

func checkUTF8Slow(b []byte, offset int, v Version) *Error {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c == 0 {
				return malformed(stmtUTF8Null(v), sectionUTF8(v), "string contains the null character U+0000 at byte %d", offset+i)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			if isSurrogate(b[i:]) {
				return malformed(stmtUTF8WellFormed(v), sectionUTF8(v), "string contains a UTF-16 surrogate code point (bytes % X) at byte %d", b[i:i+3], offset+i)
			}
			return malformed(stmtUTF8WellFormed(v), sectionUTF8(v), "string is not well-formed UTF-8 at byte %d (0x%02X)", offset+i, c)
		}
		i += size
	}
	return nil
}

// isSurrogate reports whether b starts with the CESU-style encoding of a
// surrogate (U+D800..U+DFFF: ED A0..BF xx), so the error can say so.
func isSurrogate(b []byte) bool {
	return len(b) >= 3 && b[0] == 0xED && b[1] >= 0xA0 && b[1] <= 0xBF && b[2]&0xC0 == 0x80
}

// CheckString applies the UTF-8 string rules of version v to s. It is what
// the decoder applies to every string field, exported for callers that build
// strings themselves (topic names, client identifiers, user properties).
func CheckString(s string, v Version) error {
	// Converting would allocate; checkUTF8 only reads, so reuse the bytes.
	if err := checkUTF8(unsafeBytes(s), v); err != nil {
		return err
	}
	return nil
}

func stmtUTF8WellFormed(v Version) string {
	if v == V5 {
		return "MQTT-1.5.4-1"
	}
	return "MQTT-1.5.3-1"
}

func stmtUTF8Null(v Version) string {
	if v == V5 {
		return "MQTT-1.5.4-2"
	}
	return "MQTT-1.5.3-2"
}

func sectionUTF8(v Version) string {
	if v == V5 {
		return "1.5.4"
	}
	return "1.5.3"
}
