package scram

import (
	"errors"
	"fmt"
)

// Kinds of error. Every error this package returns is an *Error whose Kind
// is one of these, so errors.Is(err, ErrBadCredentials) and the like work.
var (
	// ErrBadCredentials: the client's proof does not match the stored
	// credentials, because the password is wrong or the user does not exist
	// (the server does not tell the two apart, on the wire or in the
	// error). On the client side: the server answered e=invalid-proof or
	// e=unknown-user. MQTT reason code 0x86 Bad User Name or Password.
	ErrBadCredentials = errors.New("bad user name or password")

	// ErrMalformed: a message breaks the SCRAM syntax (RFC 5802 section 7)
	// or contradicts an earlier message of the same exchange (a different
	// nonce or gs2 header).
	ErrMalformed = errors.New("malformed SCRAM message")

	// ErrUnsupported: the message is valid SCRAM but asks for something this
	// implementation does not do: channel binding, a mandatory extension
	// (m=), an authorization identity other than the user name, a user name
	// or password outside the SASLprep subset (see Prep), or (client side)
	// an iteration count outside MinIterations..MaxIterations.
	ErrUnsupported = errors.New("unsupported SCRAM feature")

	// ErrRejected: (client side) the server ended the exchange with an
	// e= error other than invalid-proof or unknown-user.
	ErrRejected = errors.New("SCRAM exchange refused by the server")

	// ErrServerSignature: (client side) the server's signature (v=) does
	// not match: the server does not hold this user's credentials, so it
	// is not the server it claims to be.
	ErrServerSignature = errors.New("server signature does not verify")

	// ErrSequence: a method was called out of order or twice, or after the
	// exchange failed.
	ErrSequence = errors.New("SCRAM step out of order")

	// ErrNonceSource: the nonce source failed (or ended too early).
	ErrNonceSource = errors.New("nonce source failed")

	// ErrInvalidCredentials: stored credentials are unusable (a bad
	// credentials string, or a lookup that returned an incomplete value).
	ErrInvalidCredentials = errors.New("invalid SCRAM credentials")
)

// Error is the error type of this package.
type Error struct {
	// Kind is one of the Err* values above.
	Kind error
	// Value is the RFC 5802 server-error-value that names the fault on the
	// wire ("invalid-proof", "invalid-encoding", ...), or "" when none
	// applies. A server's failed Finish also returns it as "e=<Value>".
	Value string
	// Msg says what was wrong. It never contains a password, a key, a salt
	// or a proof.
	Msg string
}

func (e *Error) Error() string { return "scram: " + e.Msg }

// Unwrap returns Kind.
func (e *Error) Unwrap() error { return e.Kind }

// RFC 5802 server-error-values used here.
const (
	valueInvalidEncoding         = "invalid-encoding"
	valueExtensionsNotSupported  = "extensions-not-supported"
	valueInvalidProof            = "invalid-proof"
	valueChannelBindingsMismatch = "channel-bindings-dont-match"
	valueChannelBindingNotSupp   = "channel-binding-not-supported"
	valueInvalidUsernameEncoding = "invalid-username-encoding"
	valueOtherError              = "other-error"
)

func newErr(kind error, value, format string, args ...any) *Error {
	return &Error{Kind: kind, Value: value, Msg: fmt.Sprintf(format, args...)}
}

func malformed(value, format string, args ...any) *Error {
	return newErr(ErrMalformed, value, format, args...)
}
