package scram

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"strconv"
	"strings"
	"sync"
)

// Server is the server side of one SCRAM-SHA-256 exchange: Start with the
// client-first-message, then Finish with the client-final-message. Make a
// new Server for every exchange (every CONNECT or re-authentication); it is
// cheap. A Server is not safe for concurrent use; its exchange is
// sequential anyway.
//
// A user the lookup does not know gets a server-first-message that looks
// like a real one (a salt derived from a secret and the user name, so it is
// the same on every attempt, and the usual iteration count), and the
// exchange fails only at Finish, exactly as for a wrong password: neither
// the messages nor the errors reveal whether a user exists. The server does
// about the same work in both cases, and none of it depends on the
// password (the expensive PBKDF2 is the client's).
type Server struct {
	lookup     func(username string) (Credentials, bool)
	nonces     io.Reader
	secret     []byte
	fakeIter   int
	state      state
	user       string
	known      bool
	creds      Credentials
	gs2        string // gs2-header of the client-first-message
	nonce      string // c-nonce + s-nonce
	authPrefix string // client-first-message-bare "," server-first-message ","
}

type state uint8

const (
	stateNew state = iota
	stateStarted
	stateDone
	stateFailed
)

// ServerOption configures a Server.
type ServerOption func(*Server)

// WithSecret sets the secret from which the fake salts and keys of unknown
// users are derived. Give every Server of a broker the same secret, kept
// across restarts (for example from the broker's configuration), at least
// 32 random bytes: otherwise an unknown user's salt changes when the
// process restarts while a real user's does not. Without this option a
// random secret is made once per process.
func WithSecret(secret []byte) ServerOption {
	s := append([]byte(nil), secret...)
	return func(srv *Server) { srv.secret = s }
}

// WithFakeIterations sets the iteration count announced to unknown users
// (DefaultIterations unless set). Make it the count most real users have.
func WithFakeIterations(n int) ServerOption {
	return func(srv *Server) { srv.fakeIter = n }
}

// processSecret is the fake-user secret of Servers made without WithSecret.
var processSecret = sync.OnceValue(func() []byte {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand crashes the program instead)
	return b
})

// NewServer returns a Server for one exchange. lookup returns the stored
// credentials of a user name (already SASLprep'd, see Prep; it is called
// once, from Start); a nil lookup knows nobody. nonceSource supplies the
// server's nonce (see the nonce rules in Client's documentation); nil means
// crypto/rand.
func NewServer(lookup func(username string) (Credentials, bool), nonceSource io.Reader, opts ...ServerOption) *Server {
	s := &Server{lookup: lookup, nonces: nonceSource, fakeIter: DefaultIterations}
	for _, o := range opts {
		o(s)
	}
	if s.nonces == nil {
		s.nonces = rand.Reader
	}
	if len(s.secret) == 0 {
		s.secret = processSecret()
	}
	if s.fakeIter < 1 || s.fakeIter > MaxIterations {
		s.fakeIter = DefaultIterations
	}
	return s
}

// Start reads the client-first-message and returns the server-first-message.
//
// It accepts gs2 headers "n,," and "y,," (the client could do channel
// binding but believes the server cannot, which is true), and "n,a=<name>,"
// / "y,a=<name>," when the authorization identity equals the user name.
// Channel binding ("p=...") fails with ErrUnsupported (Value
// "channel-binding-not-supported"), a mandatory extension (m=) with
// ErrUnsupported, syntax errors with ErrMalformed. A user name outside the
// SASLprep subset (see Prep) fails with ErrUnsupported or ErrMalformed
// (Value "invalid-username-encoding"). An unknown user does not fail here.
// If the lookup returns unusable credentials, Start fails with
// ErrInvalidCredentials. After any failure the Server is spent.
func (s *Server) Start(clientFirst []byte) (serverFirst []byte, err error) {
	if s.state != stateNew {
		return nil, newErr(ErrSequence, valueOtherError, "server: Start called twice or after a failure")
	}
	s.state = stateFailed
	m, err := parseClientFirst(clientFirst)
	if err != nil {
		return nil, err
	}
	// Derive the fake credentials for every user, so that known and
	// unknown users cost the same.
	fake := s.fakeCredentials(m.user)
	creds, known := Credentials{}, false
	if s.lookup != nil {
		creds, known = s.lookup(m.user)
	}
	if known {
		if err := creds.check(); err != nil {
			e := err.(*Error)
			e.Msg = "user " + strconv.Quote(m.user) + ": stored " + e.Msg
			return nil, e
		}
	} else {
		creds = fake
	}
	sn, err := readNonce(s.nonces)
	if err != nil {
		return nil, err
	}
	nonce := m.nonce + sn
	sf := "r=" + nonce + ",s=" + b64.EncodeToString(creds.Salt) + ",i=" + strconv.Itoa(creds.Iterations)

	s.user, s.known, s.creds = m.user, known, creds
	s.gs2, s.nonce = m.gs2, nonce
	s.authPrefix = m.bare + "," + sf + ","
	s.state = stateStarted
	return []byte(sf), nil
}

// Finish reads the client-final-message, checks the proof and returns the
// server-final-message ("v=<ServerSignature>") and the authenticated user
// name.
//
// A wrong proof, whether the password is wrong or the user unknown, fails
// with ErrBadCredentials. A nonce or channel-binding header (c=) that
// differs from the earlier messages, or a syntax error, fails with
// ErrMalformed. On failure serverFinal is still set, to "e=<Value>" (RFC
// 5802 server-error); a broker may send it as the Authentication Data of
// the refusing CONNACK, or send nothing.
func (s *Server) Finish(clientFinal []byte) (serverFinal []byte, username string, err error) {
	if s.state != stateStarted {
		return nil, "", newErr(ErrSequence, valueOtherError, "server: Finish called before Start, twice or after a failure")
	}
	s.state = stateFailed
	authMessage, verr := s.verify(clientFinal)
	if verr != nil {
		return []byte("e=" + verr.Value), "", verr
	}
	s.state = stateDone
	sig := hmacSum(s.creds.ServerKey, authMessage)
	return []byte("v=" + b64.EncodeToString(sig)), s.user, nil
}

// verify checks a client-final-message and returns the AuthMessage.
func (s *Server) verify(clientFinal []byte) (string, *Error) {
	const what = "client-final-message"
	fail := func(err error) (string, *Error) { return "", err.(*Error) }
	if err := checkText(clientFinal, what); err != nil {
		return fail(err)
	}
	msg := string(clientFinal)
	attrs, err := splitAttrs(msg, what)
	if err != nil {
		return fail(err)
	}
	last := len(attrs) - 1
	if len(attrs) < 3 || attrs[0].name != 'c' || attrs[1].name != 'r' || attrs[last].name != 'p' {
		return fail(malformed(valueOtherError, "%s: expected c=...,r=...[,extensions],p=...", what))
	}
	if err := checkExtensions(attrs[2:last], what); err != nil {
		return fail(err)
	}
	cb, err := decodeB64(attrs[0].value, "channel binding (c=)")
	if err != nil {
		return fail(err)
	}
	proof, err := decodeB64(attrs[last].value, "proof (p=)")
	if err != nil {
		return fail(err)
	}
	if len(proof) != keyLen {
		return fail(malformed(valueInvalidEncoding, "%s: proof is %d bytes, not %d", what, len(proof), keyLen))
	}
	// c= must repeat the gs2 header; with no channel binding there is no
	// cbind-data after it.
	if string(cb) != s.gs2 {
		return fail(malformed(valueChannelBindingsMismatch, "%s: c= does not repeat the gs2 header of the client-first-message", what))
	}
	if attrs[1].value != s.nonce {
		return fail(malformed(valueOtherError, "%s: nonce differs from the one the server sent", what))
	}

	// AuthMessage = client-first-message-bare "," server-first-message ","
	// client-final-message-without-proof. ClientKey = ClientProof XOR
	// HMAC(StoredKey, AuthMessage), and the proof is right when
	// H(ClientKey) = StoredKey (compared in constant time).
	authMessage := s.authPrefix + msg[:len(msg)-len(attrs[last].value)-len(",p=")]
	key := hmacSum(s.creds.StoredKey, authMessage)
	for i := range key {
		key[i] ^= proof[i]
	}
	h := sha256.Sum256(key)
	if !hmac.Equal(h[:], s.creds.StoredKey) || !s.known {
		return fail(newErr(ErrBadCredentials, valueInvalidProof, "bad user name or password for user %q", s.user))
	}
	return authMessage, nil
}

// Step drives the exchange one message at a time, for an MQTT broker's
// AUTH loop: the first call is Start (done false), the second Finish (done
// true, with the user name). On error serverData is what Start or Finish
// returned with it.
func (s *Server) Step(clientData []byte) (serverData []byte, done bool, username string, err error) {
	switch s.state {
	case stateNew:
		serverData, err = s.Start(clientData)
		return serverData, false, "", err
	case stateStarted:
		serverData, username, err = s.Finish(clientData)
		return serverData, err == nil, username, err
	default:
		return nil, false, "", newErr(ErrSequence, valueOtherError, "server: Step after the exchange ended")
	}
}

// Username returns the user name of the client-first-message once Start
// has succeeded. It is not authenticated until Finish succeeds.
func (s *Server) Username() string { return s.user }

// fakeCredentials derives stable, plausible credentials for a user name.
// StoredKey is a random-looking value no proof can match (that would need
// a SHA-256 preimage); Finish also checks that the user was known.
func (s *Server) fakeCredentials(user string) Credentials {
	mac := func(label string) []byte { return hmacSum(s.secret, label, "\x00", user) }
	return Credentials{
		Salt:       mac("scram fake salt")[:16],
		Iterations: s.fakeIter,
		StoredKey:  mac("scram fake StoredKey"),
		ServerKey:  mac("scram fake ServerKey"),
	}
}

// clientFirst is a parsed client-first-message.
type clientFirst struct {
	gs2   string // "n,," or "y,," or with a=
	bare  string // client-first-message-bare
	user  string // decoded and SASLprep'd
	nonce string // c-nonce
}

func parseClientFirst(msg []byte) (clientFirst, error) {
	const what = "client-first-message"
	if err := checkText(msg, what); err != nil {
		return clientFirst{}, err
	}
	s := string(msg)
	flag, rest, ok := strings.Cut(s, ",")
	if !ok {
		return clientFirst{}, malformed(valueOtherError, "%s: no gs2 header (expected \"n,,\")", what)
	}
	switch {
	case flag == "n", flag == "y":
	case strings.HasPrefix(flag, "p="):
		if !validCBName(flag[2:]) {
			return clientFirst{}, malformed(valueOtherError, "%s: invalid channel binding type name", what)
		}
		return clientFirst{}, newErr(ErrUnsupported, valueChannelBindingNotSupp,
			"%s: channel binding (%s) is not supported; use gs2 header \"n,,\"", what, flag)
	default:
		return clientFirst{}, malformed(valueOtherError, "%s: gs2 channel-binding flag must be \"n\", \"y\" or \"p=<type>\"", what)
	}
	authz, bare, ok := strings.Cut(rest, ",")
	if !ok {
		return clientFirst{}, malformed(valueOtherError, "%s: gs2 header not terminated by ','", what)
	}
	var m clientFirst
	m.gs2, m.bare = s[:len(s)-len(bare)], bare
	if authz != "" && !strings.HasPrefix(authz, "a=") {
		return clientFirst{}, malformed(valueOtherError, "%s: second gs2 field must be empty or a=<authzid>", what)
	}
	attrs, err := splitAttrs(bare, what)
	if err != nil {
		return clientFirst{}, err
	}
	if attrs[0].name == 'm' {
		return clientFirst{}, newErr(ErrUnsupported, valueExtensionsNotSupported, "%s: mandatory extension m= is not supported", what)
	}
	if len(attrs) < 2 || attrs[0].name != 'n' || attrs[1].name != 'r' {
		return clientFirst{}, malformed(valueOtherError, "%s: expected n=<user>,r=<nonce> after the gs2 header", what)
	}
	if err := checkExtensions(attrs[2:], what); err != nil {
		return clientFirst{}, err
	}
	if m.user, err = prepName(attrs[0].value); err != nil {
		return clientFirst{}, err
	}
	if err := checkNonce(attrs[1].value, what); err != nil {
		return clientFirst{}, err
	}
	m.nonce = attrs[1].value
	if authz != "" {
		az, err := prepName(authz[2:])
		if err != nil {
			return clientFirst{}, err
		}
		if az != m.user {
			return clientFirst{}, newErr(ErrUnsupported, valueOtherError,
				"%s: authorization identity differs from the user name (acting as another user is not supported)", what)
		}
	}
	return m, nil
}

// prepName decodes a saslname and applies Prep.
func prepName(enc string) (string, error) {
	name, err := decodeName(enc)
	if err != nil {
		return "", err
	}
	p, err := Prep(name)
	if err != nil {
		e := *err.(*Error)
		e.Value = valueInvalidUsernameEncoding
		e.Msg = "user name: " + e.Msg
		return "", &e
	}
	if p == "" {
		return "", malformed(valueInvalidUsernameEncoding, "user name is empty after SASLprep")
	}
	return p, nil
}

// validCBName checks a channel binding type name (RFC 5802 cb-name).
func validCBName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isAlpha(c) || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}
