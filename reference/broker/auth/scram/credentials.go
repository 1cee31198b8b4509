package scram

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"strconv"
	"strings"
)

const (
	// Mechanism is the SASL mechanism name, which is also the MQTT 5.0
	// Authentication Method.
	Mechanism = "SCRAM-SHA-256"

	// DefaultIterations is the iteration count a server announces for
	// unknown users unless told otherwise (see WithFakeIterations), and the
	// smallest RFC 7677 recommends for stored credentials.
	DefaultIterations = 4096

	// MinIterations is the smallest iteration count Client accepts from a
	// server. RFC 7677 section 4 asks servers for at least 4096; a client
	// that accepted fewer would let an active attacker who forged the
	// server-first-message obtain a proof that is cheap to brute-force.
	// Credentials may still be made with fewer (for a server talking to
	// other clients), but this package's Client refuses them.
	MinIterations = 4096

	// MaxIterations bounds iteration counts everywhere, so that a hostile
	// server cannot make a client hash for minutes.
	MaxIterations = 10_000_000

	// keyLen is the size of StoredKey, ServerKey, proofs and signatures.
	keyLen = sha256.Size
)

// Credentials is what a server stores for one user: never the password,
// only values derived from it (RFC 5802 section 3).
//
// StoredKey lets an attacker who steals it test password guesses at the
// cost of Iterations hashes each, and ServerKey lets them impersonate the
// server, so treat both like password hashes.
type Credentials struct {
	Salt       []byte
	Iterations int
	StoredKey  []byte // H(ClientKey), 32 bytes
	ServerKey  []byte // HMAC(SaltedPassword, "Server Key"), 32 bytes
}

// NewCredentials derives the credentials for password with the given salt
// and iteration count. It is for fixed inputs (tests, examples): it panics
// where DeriveCredentials returns an error. Use DeriveCredentials for a
// password that comes from outside the program.
func NewCredentials(password string, salt []byte, iterations int) Credentials {
	c, err := DeriveCredentials(password, salt, iterations)
	if err != nil {
		panic(err)
	}
	return c
}

// DeriveCredentials derives the credentials for password: it applies Prep
// to the password (see there for the characters accepted), then computes
// SaltedPassword with PBKDF2-HMAC-SHA-256 and the keys. The salt must not
// be empty (16 random bytes from crypto/rand are usual) and iterations must
// be in 1..MaxIterations; DefaultIterations is a sensible minimum. Errors
// wrap ErrInvalidCredentials, or ErrUnsupported / ErrMalformed from Prep.
func DeriveCredentials(password string, salt []byte, iterations int) (Credentials, error) {
	if len(salt) == 0 {
		return Credentials{}, newErr(ErrInvalidCredentials, "", "credentials: empty salt")
	}
	if iterations < 1 || iterations > MaxIterations {
		return Credentials{}, newErr(ErrInvalidCredentials, "", "credentials: iteration count %d is outside 1..%d", iterations, MaxIterations)
	}
	p, err := Prep(password)
	if err != nil {
		e := *err.(*Error)
		e.Msg = "password: " + e.Msg
		return Credentials{}, &e
	}
	salted, err := saltPassword(p, salt, iterations)
	if err != nil {
		return Credentials{}, newErr(ErrInvalidCredentials, "", "credentials: %v", err)
	}
	_, stored, server := keysFromSalted(salted)
	return Credentials{
		Salt:       append([]byte(nil), salt...),
		Iterations: iterations,
		StoredKey:  stored,
		ServerKey:  server,
	}, nil
}

// saltPassword is Hi(password, salt, i) of RFC 5802: PBKDF2 with
// HMAC-SHA-256 and one output block.
func saltPassword(prepped string, salt []byte, iterations int) ([]byte, error) {
	return pbkdf2.Key(sha256.New, prepped, salt, iterations, keyLen)
}

// check reports why c cannot be used by a server, or nil.
func (c Credentials) check() error {
	switch {
	case len(c.Salt) == 0:
		return newErr(ErrInvalidCredentials, valueOtherError, "credentials: empty salt")
	case c.Iterations < 1 || c.Iterations > MaxIterations:
		return newErr(ErrInvalidCredentials, valueOtherError, "credentials: iteration count %d is outside 1..%d", c.Iterations, MaxIterations)
	case len(c.StoredKey) != keyLen:
		return newErr(ErrInvalidCredentials, valueOtherError, "credentials: StoredKey is %d bytes, not %d", len(c.StoredKey), keyLen)
	case len(c.ServerKey) != keyLen:
		return newErr(ErrInvalidCredentials, valueOtherError, "credentials: ServerKey is %d bytes, not %d", len(c.ServerKey), keyLen)
	}
	return nil
}

// credPrefix starts the text form of credentials.
const credPrefix = Mechanism + "$"

// Encode returns the credentials as one line of text, in the form
// PostgreSQL stores SCRAM verifiers (pg_authid.rolpassword):
//
//	SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>
//
// with standard, padded base64. The text contains ':' and '$' but no
// space, ',' or '#'. It is as secret as a password hash.
func (c Credentials) Encode() string {
	return credPrefix + strconv.Itoa(c.Iterations) + ":" + b64.EncodeToString(c.Salt) +
		"$" + b64.EncodeToString(c.StoredKey) + ":" + b64.EncodeToString(c.ServerKey)
}

// ParseCredentials reads the form Encode writes (and PostgreSQL stores).
// It is strict: exactly that layout, an iteration count in
// 1..MaxIterations without leading zeros, a non-empty salt, 32-byte keys
// and canonical padded base64; no surrounding blanks. Errors wrap
// ErrInvalidCredentials and never quote the keys.
func ParseCredentials(s string) (Credentials, error) {
	bad := func(format string, args ...any) (Credentials, error) {
		return Credentials{}, newErr(ErrInvalidCredentials, "", "credentials: "+format, args...)
	}
	rest, ok := strings.CutPrefix(s, credPrefix)
	if !ok {
		return bad("does not start with %q", credPrefix)
	}
	params, keys, ok := strings.Cut(rest, "$")
	if !ok {
		return bad("no '$' between <iterations>:<salt> and <StoredKey>:<ServerKey>")
	}
	iter, salt64, ok := strings.Cut(params, ":")
	if !ok {
		return bad("no ':' between iteration count and salt")
	}
	stored64, server64, ok := strings.Cut(keys, ":")
	if !ok {
		return bad("no ':' between StoredKey and ServerKey")
	}
	n, err := parseCount(iter)
	if err != nil {
		return bad("iteration count: %v", err)
	}
	var c Credentials
	c.Iterations = n
	for _, f := range []struct {
		name, text string
		dst        *[]byte
	}{{"salt", salt64, &c.Salt}, {"StoredKey", stored64, &c.StoredKey}, {"ServerKey", server64, &c.ServerKey}} {
		v, err := decodeB64(f.text, f.name)
		if err != nil {
			return bad("%s is not canonical padded base64", f.name)
		}
		*f.dst = v
	}
	if err := c.check(); err != nil {
		e := err.(*Error)
		e.Value = ""
		return Credentials{}, e
	}
	return c, nil
}
