package scram

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// attr is one "x=value" attribute of a SCRAM message.
type attr struct {
	name  byte
	value string
}

// checkText rejects a message that is not valid UTF-8 or contains NUL; no
// SCRAM message may (RFC 5802 section 7, value-char and saslname).
func checkText(msg []byte, what string) error {
	if len(msg) == 0 {
		return malformed(valueOtherError, "%s is empty", what)
	}
	if !utf8.Valid(msg) {
		return malformed(valueInvalidEncoding, "%s is not valid UTF-8", what)
	}
	for _, c := range msg {
		if c == 0 {
			return malformed(valueInvalidEncoding, "%s contains a NUL byte", what)
		}
	}
	return nil
}

// splitAttrs splits s at commas into attributes, each a letter, '=' and a
// non-empty value.
func splitAttrs(s, what string) ([]attr, error) {
	fields := strings.Split(s, ",")
	out := make([]attr, len(fields))
	for i, f := range fields {
		if len(f) < 3 || !isAlpha(f[0]) || f[1] != '=' {
			if f == "" {
				return nil, malformed(valueOtherError, "%s: empty attribute (stray ',')", what)
			}
			return nil, malformed(valueOtherError, "%s: field %d is not an attribute of the form x=value", what, i+1)
		}
		out[i] = attr{f[0], f[2:]}
	}
	return out, nil
}

// checkExtensions validates the optional extension attributes of a
// message. Unknown extensions are ignored as RFC 5802 requires; "m" is the
// reserved mandatory extension and fails the exchange; an attribute the
// RFC defines for a fixed position is out of place here.
func checkExtensions(ext []attr, what string) error {
	for _, a := range ext {
		switch a.name {
		case 'm':
			return newErr(ErrUnsupported, valueExtensionsNotSupported, "%s: mandatory extension m= is not supported", what)
		case 'a', 'n', 'r', 'c', 's', 'i', 'p', 'v', 'e':
			return malformed(valueOtherError, "%s: attribute %c= out of place", what, a.name)
		}
	}
	return nil
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// isPrintable reports whether c may appear in a nonce: printable ASCII
// except ','.
func isPrintable(c byte) bool { return c >= 0x21 && c <= 0x7e && c != ',' }

func checkNonce(n, what string) error {
	if n == "" {
		return malformed(valueOtherError, "%s: empty nonce", what)
	}
	for i := 0; i < len(n); i++ {
		if !isPrintable(n[i]) {
			return malformed(valueOtherError, "%s: nonce contains byte 0x%02x (only printable ASCII except ',' is allowed)", what, n[i])
		}
	}
	return nil
}

// encodeName escapes a user name for the n= and a= attributes: ',' as
// "=2C" and '=' as "=3D".
func encodeName(s string) string {
	if !strings.ContainsAny(s, ",=") {
		return s
	}
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s)
}

// decodeName reverses encodeName; any other use of '=' is an error, which
// RFC 5802 makes the server fail on.
func decodeName(s string) (string, error) {
	if s == "" {
		return "", malformed(valueInvalidUsernameEncoding, "empty user name")
	}
	if !strings.Contains(s, "=") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1 : min(i+3, len(s))] {
		case "2C":
			b.WriteByte(',')
		case "3D":
			b.WriteByte('=')
		default:
			return "", malformed(valueInvalidUsernameEncoding, "'=' in a user name must start \"=2C\" or \"=3D\"")
		}
		i += 2
	}
	return b.String(), nil
}

var b64 = base64.StdEncoding

// decodeB64 decodes standard base64 with padding, refusing what the Go
// decoder would otherwise tolerate (CR and LF, non-zero padding bits).
func decodeB64(s, what string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isAlpha(c) || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=') {
			return nil, malformed(valueInvalidEncoding, "%s is not base64", what)
		}
	}
	v, err := b64.Strict().DecodeString(s)
	if err != nil {
		return nil, malformed(valueInvalidEncoding, "%s is not base64", what)
	}
	return v, nil
}

// parseCount parses an iteration count: a decimal number without leading
// zeros (RFC 5802 posit-number) in 1..MaxIterations.
func parseCount(s string) (int, error) {
	if s == "" || s[0] < '1' || s[0] > '9' || len(s) > 10 {
		return 0, errors.New("not a positive decimal number without leading zeros")
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, errors.New("not a positive decimal number without leading zeros")
	}
	if n > MaxIterations {
		return 0, errors.New("more than " + strconv.Itoa(MaxIterations))
	}
	return n, nil
}

// Nonces. A nonce is nonceLen characters read from the nonce source, which
// keeps the bytes that are printable ASCII other than ',' and skips the
// rest: uniform random bytes then give uniform characters from a set of 93
// (about 6.5 bits each, 209 bits per nonce). A source that reaches io.EOF
// after at least minNonceLen usable characters ends the nonce early, so
// tests can replay a fixed nonce (such as the RFC 7677 example's).
const (
	nonceLen    = 32
	minNonceLen = 16
	// maxNonceRead bounds how much is read looking for usable bytes.
	maxNonceRead = 64 * 1024
)

func readNonce(r io.Reader) (string, error) {
	var out [nonceLen]byte
	var buf [64]byte
	n := 0
	for reads := 0; n < nonceLen; reads++ {
		if reads*len(buf) > maxNonceRead {
			return "", newErr(ErrNonceSource, "", "nonce source gives too few printable bytes")
		}
		m, err := r.Read(buf[:])
		for _, c := range buf[:m] {
			if n < nonceLen && isPrintable(c) {
				out[n] = c
				n++
			}
		}
		switch {
		case n == nonceLen:
		case err == io.EOF && n >= minNonceLen:
			return string(out[:n]), nil
		case err == io.EOF:
			return "", newErr(ErrNonceSource, "", "nonce source ended after %d usable bytes, fewer than %d", n, minNonceLen)
		case err != nil:
			return "", newErr(ErrNonceSource, "", "nonce source: %v", err)
		}
	}
	return string(out[:n]), nil
}

// Key derivation (RFC 5802 section 3) with SHA-256.

func hmacSum(key []byte, parts ...string) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		io.WriteString(m, p)
	}
	return m.Sum(nil)
}

// keysFromSalted returns StoredKey and ServerKey for a SaltedPassword, and
// ClientKey.
func keysFromSalted(salted []byte) (clientKey, storedKey, serverKey []byte) {
	clientKey = hmacSum(salted, "Client Key")
	sum := sha256.Sum256(clientKey)
	return clientKey, sum[:], hmacSum(salted, "Server Key")
}
