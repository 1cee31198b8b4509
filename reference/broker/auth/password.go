package auth

import (
	"github.com/mqttspec/mqttspec/reference/broker/auth/scram"

	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// Passwords is a parsed password file: usernames and their password
// hashes. It is immutable and safe for concurrent use. A nil *Passwords
// accepts nobody.
type Passwords struct {
	users map[string]hash
	// dummy is checked instead of a real entry for unknown usernames, so
	// that they take about as long to refuse as a wrong password does.
	dummy hash
}

// LoadPasswordFile reads a password file in the format of mosquitto_passwd
// (see ParsePasswords). Errors name the file and line.
func LoadPasswordFile(path string) (*Passwords, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("password file: %w", err)
	}
	defer f.Close()
	p, err := ParsePasswords(f)
	return p, withFile(err, path)
}

// ParsePasswords reads a password file: one "username:hash" per line, as
// mosquitto_passwd writes them. Blank lines and lines whose first non-blank
// character is '#' are ignored; blanks around the username and the hash are
// dropped. The hash is $6$ or $7$ as Mosquitto 2.0 writes them, or bcrypt
// ($2a$, $2b$, $2y$).
//
// It is stricter than Mosquitto 2.0, which skips a line without ':' and
// drops an entry whose hash it cannot read, logging a warning. Here any such
// line is an error (a *ParseError with its line number), and so are an
// empty username, a username that is not UTF-8 or longer than 65,535 bytes,
// a second ':' after the username, a plain-text password and a username
// given twice (Mosquitto would keep both and match one of them).
func ParsePasswords(r io.Reader) (*Passwords, error) {
	p := &Passwords{users: map[string]hash{}}
	firstLine := map[string]int{}
	// Count the (scheme, cost) pairs to pick a representative dummy hash.
	type kind struct {
		s    scheme
		cost int
	}
	counts := map[kind]int{}
	var common hash
	best := 0

	sc := newLineScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		user, enc, ok := strings.Cut(line, ":")
		if !ok {
			return nil, lineErr(n, "no ':' between username and password hash")
		}
		user = strings.TrimSpace(user)
		enc = strings.TrimSpace(enc)
		switch {
		case user == "":
			return nil, lineErr(n, "empty username")
		case !utf8.ValidString(user):
			return nil, lineErr(n, "username is not valid UTF-8")
		case len(user) > 65535:
			return nil, lineErr(n, "username longer than 65,535 bytes")
		case enc == "":
			return nil, lineErr(n, "user %q has no password hash", user)
		case strings.Contains(enc, ":") && !strings.HasPrefix(enc, scram.Mechanism+"$"):
			// Only a SCRAM entry has a ':' of its own (between its salt
			// and iterations and between its two keys).
			return nil, lineErr(n, "user %q: unexpected ':' after the password hash field starts", user)
		}
		if prev, dup := firstLine[user]; dup {
			return nil, lineErr(n, "user %q is already defined on line %d", user, prev)
		}
		h, err := parseHash(enc)
		if err != nil {
			return nil, lineErr(n, "user %q: %v", user, err)
		}
		p.users[user] = h
		firstLine[user] = n
		k := kind{h.scheme, h.cost}
		counts[k]++
		if counts[k] > best {
			best, common = counts[k], h
		}
	}
	if err := sc.Err(); err != nil {
		return nil, scanErr(err, n)
	}
	if best == 0 {
		p.dummy = defaultDummy()
	} else {
		p.dummy = dummyFor(common)
	}
	return p, nil
}

// SCRAM returns the SCRAM-SHA-256 credentials of user, for MQTT 5
// enhanced authentication; false when the user is unknown or has another
// kind of hash (SCRAM needs its own stored keys, not a Mosquitto hash).
func (p *Passwords) SCRAM(user string) (scram.Credentials, bool) {
	if p == nil {
		return scram.Credentials{}, false
	}
	h, ok := p.users[user]
	if !ok || h.scheme != schemeSCRAM {
		return scram.Credentials{}, false
	}
	return h.scram, true
}

// Len returns the number of users.
func (p *Passwords) Len() int {
	if p == nil {
		return 0
	}
	return len(p.users)
}

// Check reports whether password is user's password. The time it takes does
// not depend on how much of the password is right (the hashes are compared
// with crypto/subtle). For a username that is not in the file it hashes the
// password against a dummy entry with the scheme and cost most common in the
// file, so that an unknown user takes about as long to refuse as a known one
// with a wrong password; only users whose scheme or cost differs from the
// most common one stand out by timing.
//
// The whole password is hashed. Mosquitto stops at the first zero byte, so
// it accepts "secret\x00anything" for "secret"; this does not. For a bcrypt
// entry a password longer than 72 bytes is refused rather than truncated.
func (p *Passwords) Check(user string, password []byte) bool {
	if p == nil {
		return false
	}
	h, known := p.users[user]
	if !known {
		h = p.dummy
	}
	ok := h.verify(password)
	return known && ok
}

// Authenticate implements Checker: a client is admitted when it sent a
// username and a password and Check accepts them. Passwords never admits an
// anonymous client; whether those get in is the broker's AllowAnonymous
// setting (see Checker). The client ID plays no part.
func (p *Passwords) Authenticate(clientID, username string, password []byte, hasUsername, hasPassword bool) bool {
	if !hasUsername || !hasPassword {
		return false
	}
	return p.Check(username, password)
}
