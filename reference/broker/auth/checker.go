package auth

// Checker decides whether a connecting client may log in. The broker calls
// it while handling CONNECT; password is the Password field (nil when
// absent) and hasUsername / hasPassword are the CONNECT flags, so that a
// zero-length username or password can be told apart from a missing one.
//
// The policy, which matches Mosquitto 2.0 with a password_file:
//
//   - A client without a username is anonymous. The broker admits it if and
//     only if its AllowAnonymous setting is on, without asking the Checker.
//     (Passwords.Authenticate returns false for it anyway, so a broker that
//     asks every client stays safe.)
//   - A client with a username is admitted only if the Checker says so, even
//     when anonymous clients are allowed: an unknown username or a wrong or
//     missing password is refused (CONNACK "bad user name or password").
//   - With no Checker configured, every client with a username is admitted.
//
// Implementations must be safe for concurrent use.
type Checker interface {
	Authenticate(clientID, username string, password []byte, hasUsername, hasPassword bool) bool
}

// CheckerFunc adapts a function to Checker.
type CheckerFunc func(clientID, username string, password []byte, hasUsername, hasPassword bool) bool

// Authenticate calls f.
func (f CheckerFunc) Authenticate(clientID, username string, password []byte, hasUsername, hasPassword bool) bool {
	return f(clientID, username, password, hasUsername, hasPassword)
}

// Authorizer decides what a logged-in client may do with topics. username
// is "" for an anonymous client (and for one that sent a zero-length
// username: both get the rules for anonymous clients). The broker should
// call Allowed with Write for every PUBLISH it receives (including a will
// message when it is published), Allowed with Read for every message before
// delivering it (retained ones included), and AllowedSubscribe for every
// filter of a SUBSCRIBE. Without an Authorizer everything is allowed.
//
// Rules that do not depend on the ACL file stay with the broker. Mosquitto
// 2.0, for example, refuses any client PUBLISH to a $SYS topic (except its
// bridges' $SYS/broker/connection/+/state) and to a "$share/..." topic,
// before it consults the ACL.
//
// Implementations must be safe for concurrent use. *ACL implements it.
type Authorizer interface {
	Allowed(username, clientID, topic string, access Access) bool
	AllowedSubscribe(username, clientID, filter string) bool
}

var (
	_ Checker    = (*Passwords)(nil)
	_ Authorizer = (*ACL)(nil)
)
