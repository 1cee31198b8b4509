package scram

import (
	"crypto/hmac"
	"crypto/rand"
	"io"
	"strings"
)

// Client is the client side of one SCRAM-SHA-256 exchange: First gives the
// client-first-message (MQTT: CONNECT Authentication Data, or AUTH 0x19 to
// re-authenticate), Final answers the server-first-message (AUTH 0x18) and
// Verify checks the server-final-message (CONNACK or AUTH 0x00), which
// proves that the server holds the user's credentials. Make a new Client
// for every exchange. It sends gs2 header "n,," (no channel binding, no
// authorization identity).
//
// Nonces (Client's and Server's alike) are 32 characters read from the
// nonce source: bytes that are printable ASCII other than ',' are kept,
// others skipped, so crypto/rand (the default, for a nil source) gives 32
// characters out of 93, about 209 bits. A source that reaches io.EOF after
// at least 16 usable bytes ends the nonce there: a strings.Reader holding a
// fixed nonce replays it exactly, for tests.
type Client struct {
	user, pass string
	nonces     io.Reader
	state      state
	err        error // why First failed, reported by Final
	first      []byte
	cnonce     string
	bare       string
	serverSig  []byte
}

// gs2Header is what Client sends: no channel binding, no authzid.
const gs2Header = "n,,"

// NewClient returns a Client for one exchange. The user name and password
// are prepared with Prep (see there for the characters accepted); a
// nonceSource of nil means crypto/rand.
func NewClient(username, password string, nonceSource io.Reader) *Client {
	if nonceSource == nil {
		nonceSource = rand.Reader
	}
	return &Client{user: username, pass: password, nonces: nonceSource}
}

// First returns the client-first-message, "n,,n=<user>,r=<nonce>". Later
// calls return the same message. It returns nil if the user name is empty
// or refused by Prep, or the nonce source fails; Final then reports why.
func (c *Client) First() []byte {
	if c.state != stateNew {
		return c.first
	}
	c.state = stateFailed
	user, err := Prep(c.user)
	if err == nil && user == "" {
		err = malformed(valueInvalidUsernameEncoding, "empty user name")
	}
	if err != nil {
		e := *err.(*Error)
		e.Msg = "user name: " + e.Msg
		c.err = &e
		return nil
	}
	c.cnonce, err = readNonce(c.nonces)
	if err != nil {
		c.err = err
		return nil
	}
	c.bare = "n=" + encodeName(user) + ",r=" + c.cnonce
	c.first = []byte(gs2Header + c.bare)
	c.state = stateStarted
	return c.first
}

// Final reads the server-first-message and returns the client-final-message
// "c=biws,r=<nonce>,p=<proof>". This is where the password is hashed
// (PBKDF2 with the server's salt and iteration count).
//
// It fails with ErrMalformed when the message breaks the syntax or its
// nonce does not extend the client's, ErrUnsupported for a mandatory
// extension (m=), for an iteration count outside
// MinIterations..MaxIterations or for a password Prep refuses, and
// ErrSequence when First has not produced a message.
func (c *Client) Final(serverFirst []byte) ([]byte, error) {
	if c.state != stateStarted {
		if c.err != nil {
			return nil, c.err
		}
		return nil, newErr(ErrSequence, "", "client: Final called before First, twice or after a failure")
	}
	c.state = stateFailed
	const what = "server-first-message"
	if err := checkText(serverFirst, what); err != nil {
		return nil, err
	}
	attrs, err := splitAttrs(string(serverFirst), what)
	if err != nil {
		return nil, err
	}
	if attrs[0].name == 'm' {
		return nil, newErr(ErrUnsupported, valueExtensionsNotSupported, "%s: mandatory extension m= is not supported", what)
	}
	if len(attrs) < 3 || attrs[0].name != 'r' || attrs[1].name != 's' || attrs[2].name != 'i' {
		return nil, malformed("", "%s: expected r=<nonce>,s=<salt>,i=<count>", what)
	}
	if err := checkExtensions(attrs[3:], what); err != nil {
		return nil, err
	}
	nonce := attrs[0].value
	if err := checkNonce(nonce, what); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(nonce, c.cnonce) || len(nonce) == len(c.cnonce) {
		return nil, malformed("", "%s: nonce does not extend the client's nonce", what)
	}
	salt, err := decodeB64(attrs[1].value, "salt (s=)")
	if err != nil {
		return nil, err
	}
	if len(salt) == 0 {
		return nil, malformed("", "%s: empty salt", what)
	}
	iter, err := parseCount(attrs[2].value)
	if err != nil {
		return nil, malformed("", "%s: iteration count: %v", what, err)
	}
	if iter < MinIterations {
		return nil, newErr(ErrUnsupported, "", "%s: iteration count %d is below %d (RFC 7677 minimum)", what, iter, MinIterations)
	}
	pass, err := Prep(c.pass)
	if err != nil {
		e := *err.(*Error)
		e.Msg = "password: " + e.Msg
		return nil, &e
	}
	salted, err := saltPassword(pass, salt, iter)
	if err != nil {
		return nil, newErr(ErrUnsupported, "", "salting the password: %v", err)
	}
	clientKey, storedKey, serverKey := keysFromSalted(salted)
	withoutProof := "c=" + b64.EncodeToString([]byte(gs2Header)) + ",r=" + nonce
	authMessage := c.bare + "," + string(serverFirst) + "," + withoutProof
	proof := hmacSum(storedKey, authMessage)
	for i := range proof {
		proof[i] ^= clientKey[i]
	}
	c.serverSig = hmacSum(serverKey, authMessage)
	c.state = stateDone
	return []byte(withoutProof + ",p=" + b64.EncodeToString(proof)), nil
}

// Verify checks the server-final-message. It returns nil when the server's
// signature (v=) is right. It fails with ErrServerSignature when it is
// not, with ErrBadCredentials when the server answered e=invalid-proof or
// e=unknown-user, ErrRejected for any other e= value, ErrMalformed for a
// syntax error and ErrSequence when Final has not succeeded.
func (c *Client) Verify(serverFinal []byte) error {
	if c.state != stateDone || c.serverSig == nil {
		return newErr(ErrSequence, "", "client: Verify called before Final succeeded, or twice")
	}
	sig := c.serverSig
	c.serverSig = nil
	const what = "server-final-message"
	if err := checkText(serverFinal, what); err != nil {
		return err
	}
	attrs, err := splitAttrs(string(serverFinal), what)
	if err != nil {
		return err
	}
	if err := checkExtensions(attrs[1:], what); err != nil {
		return err
	}
	switch attrs[0].name {
	case 'e':
		v := attrs[0].value
		if v == valueInvalidProof || v == "unknown-user" {
			return newErr(ErrBadCredentials, v, "server refused: e=%q", v)
		}
		return newErr(ErrRejected, v, "server refused: e=%q", v)
	case 'v':
		got, err := decodeB64(attrs[0].value, "server signature (v=)")
		if err != nil {
			return err
		}
		if !hmac.Equal(got, sig) {
			return newErr(ErrServerSignature, "", "%s: server signature does not verify", what)
		}
		return nil
	default:
		return malformed("", "%s: expected v=<signature> or e=<error>", what)
	}
}
