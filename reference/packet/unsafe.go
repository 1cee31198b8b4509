package packet

import "unsafe"

// unsafeBytes views a string's bytes without copying. The result must never
// be written to; it is used only to run read-only checks over strings.
func unsafeBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
