package harness

import (
	"errors"
	"fmt"
	"net"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/mqttspec/mqttspec/brokers"
	"github.com/mqttspec/mqttspec/reference/packet"
)

// Helpers of the authentication and authorisation specs (specs/auth.go,
// specs/enhanced_auth.go). They all work against Target().Auth, the
// target's secured endpoint, which may be a different broker from the
// open one: never mix clients of the two in one spec.

// AuthSetup returns the target's authentication fixtures, or marks the
// running spec unsupported when it declares none.
func AuthSetup() *brokers.AuthSetup {
	GinkgoHelper()
	a := Target().Auth
	if a == nil {
		Unsupported("the target declares no authentication setup")
	}
	return a
}

// AuthACL returns the ACL fixture, or marks the spec unsupported.
func AuthACL() *brokers.ACLSetup {
	GinkgoHelper()
	a := AuthSetup()
	if a.ACL == nil {
		Unsupported("the target declares no ACL for its authentication endpoint")
	}
	return a.ACL
}

// AuthWriter returns the ACL's writer (a user who may write where the ACL
// user may not), or marks the spec unsupported.
func AuthWriter() brokers.Credential {
	GinkgoHelper()
	acl := AuthACL()
	if acl.Writer == nil {
		Unsupported("the target's ACL fixture names no writer for the topics its user may not write")
	}
	return *acl.Writer
}

// AuthUser returns the first user the secured endpoint accepts (the ACL's
// user when there is an ACL).
func AuthUser() brokers.Credential {
	GinkgoHelper()
	a := AuthSetup()
	if a.ACL != nil {
		return a.ACL.User
	}
	if len(a.Users) == 0 {
		Unsupported("the target's authentication setup lists no users")
	}
	return a.Users[0]
}

// AuthClient opens a client to the secured endpoint without connecting.
func AuthClient(v packet.Version, opts ...ClientOption) *Client {
	GinkgoHelper()
	a := AuthSetup()
	return NewClient(v, append([]ClientOption{At(a.Endpoint)}, opts...)...)
}

// LoginConnect is the CONNECT of user with a clean session.
func LoginConnect(cred brokers.Credential) *packet.Connect {
	return &packet.Connect{CleanStart: true, KeepAlive: 60, Username: cred.Username, Password: []byte(cred.Password)}
}

// Login opens a client to the secured endpoint and connects it as cred,
// expecting success.
func Login(v packet.Version, cred brokers.Credential, opts ...ClientOption) *Client {
	GinkgoHelper()
	c := AuthClient(v, opts...)
	if ca := c.Connect(LoginConnect(cred)); ca.ReasonCode != 0 {
		Failf(fmt.Sprintf("CONNACK 0x00 for the configured user %q", cred.Username), "CONNACK %s", ca.ReasonCode)
	}
	return c
}

// ACLTopic returns a topic unique to this spec and run under the ACL's
// read-write prefix (Prefix + "<run>/<n>/levels...").
func ACLTopic(levels ...string) string {
	GinkgoHelper()
	acl := AuthACL()
	return acl.Prefix + strings.TrimPrefix(Topic(levels...), "mqttspec/")
}

// UniquePayload is a message body no other spec or run publishes.
func UniquePayload(what string) []byte {
	return []byte(what + "-" + strings.TrimPrefix(ClientID(), "mqttspec-"))
}

// SendInOneWrite encodes packets and writes them with a single write, so
// that the broker receives them together (e.g. a CONNECT and the PUBLISH
// a client sends before the CONNACK arrives). Each is traced.
func (c *Client) SendInOneWrite(ps ...packet.Packet) {
	GinkgoHelper()
	var all []byte
	for _, p := range ps {
		b, err := packet.Encode(p, c.V)
		if err != nil {
			Fail(fmt.Sprintf("cannot encode %s: %v", p.Type(), err))
		}
		c.tr.send(c.Name, b, p, c.V)
		all = append(all, b...)
	}
	c.write(all)
}

// ExpectConnectRefused reads the answer to a CONNECT the broker must not
// accept: a CONNACK with a non-zero code followed by the close, or a close
// without CONNACK. It fails the spec on CONNACK 0x00, on Session Present 1
// in a refusing CONNACK, on any packet after the refusing CONNACK and when
// the connection stays open. It returns the CONNACK (nil when none came).
func ExpectConnectRefused(c *Client) *packet.Connack {
	GinkgoHelper()
	p, closed := c.ReadOrClosed("a refusing CONNACK or the connection closed")
	if closed {
		Observed("the broker closed the connection without CONNACK")
		return nil
	}
	ca, ok := p.(*packet.Connack)
	if !ok {
		Failf("a refusing CONNACK or the connection closed", "%s", packet.Summary(p, c.V))
	}
	if ca.ReasonCode == 0 {
		Failf("a refusal", "CONNACK 0x00: the client was admitted")
	}
	if ca.SessionPresent {
		Failf("Session Present 0 in the refusing CONNACK", "Session Present 1 with %s", ConnackCode(c.V, ca.ReasonCode))
	}
	if rest := c.ExpectClosedWellFormed(); len(rest) > 0 {
		Failf("the connection closed right after the refusing CONNACK", "%s after it", packet.Summary(rest[0], c.V))
	}
	Observed("CONNACK %s, then the broker closed the connection", ConnackCode(c.V, ca.ReasonCode))
	return ca
}

// ExpectMalformedConnectClosed reads the answer to a CONNECT that breaks
// section 3.1: the broker closes the connection; 3.1.1 forbids any CONNACK
// [MQTT-3.1.4-1], 5.0 allows a CONNACK with a code of 0x80 or more first.
func ExpectMalformedConnectClosed(c *Client) {
	GinkgoHelper()
	got := c.ExpectClosedWellFormed()
	for _, p := range got {
		ca, ok := p.(*packet.Connack)
		switch {
		case ok && ca.ReasonCode == 0:
			Failf("the connection closed without accepting the client", "CONNACK 0x00: the client was admitted")
		case ok && c.V != packet.V5:
			Failf("the connection closed without CONNACK (3.1.1)", "CONNACK %s before the close", ConnackCode(c.V, ca.ReasonCode))
		case ok && !ca.ReasonCode.IsError():
			Failf("the connection closed, at most after a CONNACK with a code of 0x80 or more", "CONNACK %s", ca.ReasonCode)
		case !ok:
			Failf("the connection closed (at most a refusing CONNACK first)", "%s", packet.Summary(p, c.V))
		}
	}
}

// RawConnect builds the bytes of a CONNECT by hand, for CONNECT packets
// the codec will not encode: the connect flags are exactly flags, and the
// payload is the client identifier followed by fields, each written as a
// two-byte length and its bytes. A 5.0 CONNECT gets empty properties.
func RawConnect(v packet.Version, clientID string, flags byte, fields ...[]byte) []byte {
	str := func(b []byte) []byte { return append([]byte{byte(len(b) >> 8), byte(len(b))}, b...) }
	var body []byte
	body = append(body, str([]byte(v.ProtocolName()))...)
	body = append(body, byte(v), flags, 0, 60) // level, flags, keep alive 60 s
	if v == packet.V5 {
		body = append(body, 0) // property length
	}
	body = append(body, str([]byte(clientID))...)
	for _, f := range fields {
		body = append(body, str(f)...)
	}
	out := []byte{0x10}
	n := len(body)
	for {
		b := byte(n % 128)
		n /= 128
		if n > 0 {
			b |= 0x80
		}
		out = append(out, b)
		if n == 0 {
			break
		}
	}
	return append(out, body...)
}

// ConnackCode names a CONNACK code as version v defines it: "0x04 bad
// user name or password" in 3.1.1, "0x86 Bad User Name or Password" in 5.0.
func ConnackCode(v packet.Version, code packet.ReasonCode) string {
	if v == packet.V5 {
		return code.String()
	}
	return fmt.Sprintf("0x%02X %s", byte(code), packet.ReturnCode311Name(code))
}

// ReadOrClosed reads the next packet; closed reports that the broker
// closed the connection instead. A timeout fails the spec (expected says
// what should have come), and so does a packet the codec cannot decode,
// which ExpectClosed would take for a close.
func (c *Client) ReadOrClosed(expected string) (p packet.Packet, closed bool) {
	GinkgoHelper()
	p, err := c.Read()
	if err == nil {
		return p, false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		Failf(expected, "nothing within %v", Cfg().ReadTimeout)
	}
	if perr := packet.AsError(err); perr != nil {
		Failf("well-formed packets from the broker", "a packet the codec refuses: %v", perr)
	}
	return nil, true
}

// ExpectClosedWellFormed is ExpectClosed, except that a malformed packet
// from the broker (for example a DISCONNECT with a reason code DISCONNECT
// may not carry) fails the spec instead of counting as the close.
func (c *Client) ExpectClosedWellFormed() []packet.Packet {
	GinkgoHelper()
	var got []packet.Packet
	for {
		p, closed := c.ReadOrClosed("the broker closes the network connection")
		if closed {
			return got
		}
		got = append(got, p)
	}
}
