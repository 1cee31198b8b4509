package auth

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/mqttspec/mqttspec/reference/broker/auth/scram"
)

// Hash schemes accepted by HashPassword and HashPasswordCost. The names of
// the first two are those of mosquitto_passwd's -H option.
const (
	// SchemePBKDF2 is "$7$<iterations>$<salt>$<hash>": PBKDF2-HMAC-SHA512
	// with a 12-byte salt and a 64-byte key. It is mosquitto_passwd's
	// default since Mosquitto 2.0 and the default here.
	SchemePBKDF2 = "sha512-pbkdf2"
	// SchemeSHA512 is "$6$<salt>$<hash>": one SHA-512 over the password
	// followed by the 12-byte salt. It is what Mosquitto 1.6 and earlier
	// wrote; it is fast to attack and kept only for compatibility.
	SchemeSHA512 = "sha512"
	// SchemeBcrypt is "$2a$<cost>$...". Mosquitto 2.0 cannot read it: a file
	// with bcrypt entries works with this broker only.
	SchemeBcrypt = "bcrypt"
	// SchemeSCRAM stores SCRAM-SHA-256 keys (PostgreSQL's line format), for
	// MQTT 5 enhanced authentication; plain passwords are checked too.
	SchemeSCRAM = "scram-sha-256"
)

// DefaultIterations is the PBKDF2 iteration count HashPassword uses: 101,
// the value of PW_DEFAULT_ITERATIONS that mosquitto_passwd 2.0 writes
// without -I. It is low by today's standards; pass a higher count to
// HashPasswordCost for files that guard anything of value (every CONNECT
// then costs that much more, see BenchmarkCheck).
const DefaultIterations = 101

// Mosquitto 2.0 accepts a $6$ or $7$ entry only with a salt of exactly
// saltLen bytes and a hash of exactly sumLen bytes (it drops other entries);
// these files are held to the same sizes so that they stay portable.
const (
	saltLen = 12
	sumLen  = sha512.Size
	// bcryptMaxPassword is the number of password bytes bcrypt uses; it
	// silently ignores the rest, so longer passwords are refused instead.
	bcryptMaxPassword = 72
)

type scheme uint8

const (
	schemeSHA512 scheme = iota + 1
	schemePBKDF2
	schemeBcrypt
	schemeSCRAM
)

// hash is one parsed password hash.
type hash struct {
	scheme scheme
	// cost is the PBKDF2 iteration count or the bcrypt cost; 0 for $6$.
	cost int
	// salt and sum are the decoded fields of $6$ and $7$.
	salt, sum []byte
	// encoded is the whole bcrypt string, which the bcrypt package parses
	// itself.
	encoded []byte
	scram   scram.Credentials // schemeSCRAM only
}

// verify reports whether password hashes to h. The comparison of the
// computed and the stored hash takes constant time.
func (h *hash) verify(password []byte) bool {
	switch h.scheme {
	case schemeSHA512:
		d := sha512.New()
		d.Write(password)
		d.Write(h.salt)
		return subtle.ConstantTimeCompare(d.Sum(nil), h.sum) == 1
	case schemePBKDF2:
		key, err := pbkdf2.Key(sha512.New, string(password), h.salt, h.cost, sumLen)
		return err == nil && subtle.ConstantTimeCompare(key, h.sum) == 1
	case schemeSCRAM:
		// A plain CONNECT password is checked against the stored key, so
		// a SCRAM user can also log in without enhanced authentication.
		c, err := scram.DeriveCredentials(string(password), h.scram.Salt, h.scram.Iterations)
		return err == nil && subtle.ConstantTimeCompare(c.StoredKey, h.scram.StoredKey) == 1
	case schemeBcrypt:
		if len(password) > bcryptMaxPassword {
			return false
		}
		return bcrypt.CompareHashAndPassword(h.encoded, password) == nil
	}
	return false
}

// parseHash parses the hash field of a password file line. Its errors say
// what is wrong without repeating the hash.
func parseHash(s string) (hash, error) {
	switch {
	case strings.HasPrefix(s, "$6$"):
		f := strings.Split(s[len("$6$"):], "$")
		if len(f) != 2 {
			return hash{}, errors.New("$6$ hash must have the form $6$<salt>$<hash>")
		}
		salt, sum, err := decodeSaltSum(f[0], f[1])
		return hash{scheme: schemeSHA512, salt: salt, sum: sum}, err
	case strings.HasPrefix(s, "$7$"):
		f := strings.Split(s[len("$7$"):], "$")
		if len(f) != 3 {
			return hash{}, errors.New("$7$ hash must have the form $7$<iterations>$<salt>$<hash>")
		}
		iter, err := parseIterations(f[0])
		if err != nil {
			return hash{}, err
		}
		salt, sum, err := decodeSaltSum(f[1], f[2])
		return hash{scheme: schemePBKDF2, cost: iter, salt: salt, sum: sum}, err
	case strings.HasPrefix(s, "$2a$"), strings.HasPrefix(s, "$2b$"), strings.HasPrefix(s, "$2y$"):
		cost, err := bcrypt.Cost([]byte(s))
		if err != nil || len(s) != 60 {
			return hash{}, errors.New("malformed bcrypt hash (want $2a$, $2b$ or $2y$, a two-digit cost and 53 characters of salt and hash)")
		}
		return hash{scheme: schemeBcrypt, cost: cost, encoded: []byte(s)}, nil
	case strings.HasPrefix(s, scram.Mechanism+"$"):
		c, err := scram.ParseCredentials(s)
		if err != nil {
			return hash{}, err
		}
		return hash{scheme: schemeSCRAM, cost: c.Iterations, scram: c}, nil
	case strings.HasPrefix(s, "$"):
		id, _, _ := strings.Cut(s[1:], "$")
		if len(id) > 8 {
			id = id[:8] + "..."
		}
		return hash{}, fmt.Errorf("unsupported hash type $%s$ (want $6$, $7$, $2a$, $2b$ or $2y$)", id)
	}
	return hash{}, errors.New("not a password hash (plain-text passwords are not accepted; hash them with mosquitto_passwd -U)")
}

// parseIterations parses the iteration field of $7$: decimal digits only,
// 1 to 2^31-1 (Mosquitto reads it with atoi into an int).
func parseIterations(s string) (int, error) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, errors.New("$7$ iteration count is not a decimal number")
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("$7$ iteration count must be between 1 and %d", math.MaxInt32)
	}
	return int(n), nil
}

// decodeSaltSum decodes the salt and hash fields, standard base64 with
// padding as OpenSSL's base64 BIO writes them.
func decodeSaltSum(salt64, sum64 string) (salt, sum []byte, err error) {
	salt, err = base64.StdEncoding.Strict().DecodeString(salt64)
	if err != nil {
		return nil, nil, errors.New("salt is not valid base64")
	}
	if len(salt) != saltLen {
		return nil, nil, fmt.Errorf("salt is %d bytes, want %d", len(salt), saltLen)
	}
	sum, err = base64.StdEncoding.Strict().DecodeString(sum64)
	if err != nil {
		return nil, nil, errors.New("hash is not valid base64")
	}
	if len(sum) != sumLen {
		return nil, nil, fmt.Errorf("hash is %d bytes, want %d", len(sum), sumLen)
	}
	return salt, sum, nil
}

// HashPassword hashes password for a password file line "user:<result>".
// scheme is SchemePBKDF2 (also when empty; DefaultIterations iterations),
// SchemeSHA512 or SchemeBcrypt (bcrypt.DefaultCost). The salt is random.
func HashPassword(password []byte, scheme string) (string, error) {
	return HashPasswordCost(password, scheme, 0)
}

// HashPasswordCost is HashPassword with a chosen cost: the iteration count
// for SchemePBKDF2 (like mosquitto_passwd -I) or the bcrypt cost (4 to 31)
// for SchemeBcrypt. 0 selects the default; SchemeSHA512 has no cost and
// accepts only 0.
//
// Passwords containing a zero byte are refused: Mosquitto hashes a password
// only up to its first zero byte, so such an entry would mean something
// else there. bcrypt refuses passwords longer than 72 bytes.
func HashPasswordCost(password []byte, scheme string, cost int) (string, error) {
	if bytes.IndexByte(password, 0) >= 0 {
		return "", errors.New("auth: password contains a zero byte, which Mosquitto would cut it at")
	}
	if cost < 0 {
		return "", fmt.Errorf("auth: negative cost %d", cost)
	}
	switch scheme {
	case "", SchemePBKDF2:
		if cost == 0 {
			cost = DefaultIterations
		}
		if cost > math.MaxInt32 {
			return "", fmt.Errorf("auth: iteration count %d exceeds %d", cost, math.MaxInt32)
		}
		salt := make([]byte, saltLen)
		rand.Read(salt)
		key, err := pbkdf2.Key(sha512.New, string(password), salt, cost, sumLen)
		if err != nil {
			return "", fmt.Errorf("auth: %w", err)
		}
		return "$7$" + strconv.Itoa(cost) + "$" + b64(salt) + "$" + b64(key), nil
	case SchemeSHA512:
		if cost != 0 {
			return "", errors.New("auth: the sha512 scheme has no cost")
		}
		salt := make([]byte, saltLen)
		rand.Read(salt)
		d := sha512.New()
		d.Write(password)
		d.Write(salt)
		return "$6$" + b64(salt) + "$" + b64(d.Sum(nil)), nil
	case SchemeBcrypt:
		if cost == 0 {
			cost = bcrypt.DefaultCost
		}
		if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
			return "", fmt.Errorf("auth: bcrypt cost %d is outside %d..%d", cost, bcrypt.MinCost, bcrypt.MaxCost)
		}
		h, err := bcrypt.GenerateFromPassword(password, cost)
		if err != nil {
			return "", fmt.Errorf("auth: %w", err)
		}
		return string(h), nil
	case SchemeSCRAM:
		if cost == 0 {
			cost = scram.DefaultIterations
		}
		salt := make([]byte, 16)
		rand.Read(salt)
		c, err := scram.DeriveCredentials(string(password), salt, cost)
		if err != nil {
			return "", fmt.Errorf("auth: %w", err)
		}
		return c.Encode(), nil
	}
	return "", fmt.Errorf("auth: unknown hash scheme %q (want %q, %q, %q or %q)", scheme, SchemePBKDF2, SchemeSHA512, SchemeBcrypt, SchemeSCRAM)
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// dummyFor returns a hash with the same scheme and cost as h whose password
// is unknown to anyone: checking a password against it takes as long as
// against h and always fails.
func dummyFor(h hash) hash {
	d := hash{scheme: h.scheme, cost: h.cost}
	switch h.scheme {
	case schemeSCRAM:
		d.scram = scram.Credentials{Salt: make([]byte, 16), Iterations: h.cost, StoredKey: make([]byte, 32), ServerKey: make([]byte, 32)}
		rand.Read(d.scram.Salt)
		rand.Read(d.scram.StoredKey)
	case schemeSHA512, schemePBKDF2:
		d.salt = make([]byte, saltLen)
		d.sum = make([]byte, sumLen)
		rand.Read(d.salt)
		rand.Read(d.sum)
	case schemeBcrypt:
		secret := make([]byte, 32)
		rand.Read(secret)
		enc, err := bcrypt.GenerateFromPassword(secret, h.cost)
		if err != nil {
			// The cost came from a hash bcrypt parsed, so this cannot happen;
			// fall back to the default scheme rather than to no work at all.
			return defaultDummy()
		}
		d.encoded = enc
	}
	return d
}

// defaultDummy is the dummy for a file without entries: what HashPassword
// writes by default.
func defaultDummy() hash {
	return dummyFor(hash{scheme: schemePBKDF2, cost: DefaultIterations})
}
