// Package scram implements SCRAM-SHA-256 (RFC 5802, RFC 7677) for MQTT 5.0
// enhanced authentication (MQTT 5.0 section 4.12), server and client side.
//
// On the wire the four SCRAM messages ride in the Authentication Data of
// MQTT packets, with Authentication Method "SCRAM-SHA-256" (Mechanism):
//
//	client  CONNECT  AuthData = client-first-message    e.g. n,,n=user,r=<c-nonce>
//	server  AUTH 0x18 AuthData = server-first-message   r=<c-nonce><s-nonce>,s=<salt>,i=<count>
//	client  AUTH 0x18 AuthData = client-final-message   c=biws,r=<nonce>,p=<proof>
//	server  CONNACK 0x00 AuthData = server-final-message v=<signature>
//
// Re-authentication starts with AUTH 0x19 carrying a client-first-message
// and ends with AUTH 0x00 carrying the server-final-message. A refusal is
// CONNACK (or, after CONNACK, DISCONNECT) with a reason code chosen from the
// error: errors.Is(err, ErrBadCredentials) means 0x86 Bad User Name or
// Password; every other error (ErrMalformed, ErrUnsupported,
// ErrInvalidCredentials, ErrSequence) fits 0x87 Not authorized. The MQTT
// packet itself was well formed in those cases, so 0x81 Malformed Packet
// would misstate the fault.
//
// Server is one exchange on the server side; it looks users up through a
// function and never sees a password. Credentials are what the server stores
// per user (salt, iteration count, StoredKey, ServerKey), with a one-line
// text form compatible with PostgreSQL's (Encode, ParseCredentials). Client
// is one exchange on the client side, for tests and the conformance harness.
//
// Scope: no channel binding (the "-PLUS" variant): a client-first-message
// with gs2 flag "p=" is refused with ErrUnsupported; "n" and "y" are
// accepted. SASLprep (RFC 4013) is implemented exactly for a subset of
// Unicode, see Prep. Only the standard library is used.
//
// The package knows nothing about sockets or MQTT packets; the broker
// decides when to call it and which reason code to send.
package scram
