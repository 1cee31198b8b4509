package broker

import (
	"errors"
	"time"

	"github.com/mqttspec/mqttspec/reference/packet"
)

// EnhancedAuth is an MQTT 5.0 enhanced authentication method (5.0 section
// 4.12), such as SCRAM-SHA-256: CONNECT names the method and the two sides
// exchange AUTH packets until the server accepts or refuses.
type EnhancedAuth interface {
	// Method is the Authentication Method name the client sends.
	Method() string
	// Start begins one exchange for a client.
	Start(clientID string) AuthConversation
}

// AuthConversation is one exchange of an enhanced authentication method.
type AuthConversation interface {
	// Step takes the client's Authentication Data and returns the server's.
	// done reports success, with the authenticated user name; a non-nil err
	// is a refusal (ErrBadCredentials or ErrNotAuthorized choose the code).
	Step(clientData []byte) (serverData []byte, done bool, username string, err error)
}

// Errors an AuthConversation returns to choose the reason code.
var (
	ErrBadCredentials = errors.New("bad user name or password") // 0x86
	ErrNotAuthorized  = errors.New("not authorized")            // 0x87
)

func refusalCode(err error) packet.ReasonCode {
	if errors.Is(err, ErrBadCredentials) {
		return packet.BadUserNameOrPassword
	}
	return packet.NotAuthorized
}

// enhancedConnect runs the AUTH exchange that a CONNECT with an
// Authentication Method starts. It returns the server's final data and the
// user name, or ok=false after refusing (CONNACK sent). Once it has read an
// AUTH packet, cp's byte slices no longer hold the CONNECT's data.
func (c *client) enhancedConnect(cp *packet.Connect, method, id string) (final []byte, user string, ok bool) {
	m := c.sec.enhanced(method)
	if m == nil {
		c.refuse(0, packet.BadAuthenticationMethod) // [MQTT-4.12.0-1]
		return nil, "", false
	}
	conv := m.Start(id)
	data := cp.Properties.AuthData
	for {
		reply, done, username, err := conv.Step(data)
		if err != nil {
			c.b.log.Debug("enhanced authentication refused", "client", id, "method", method)
			c.refuse(0, refusalCode(err))
			return nil, "", false
		}
		if done {
			return reply, username, true
		}
		c.pushPreConnack(&packet.Auth{ReasonCode: packet.ContinueAuthentication,
			Properties: packet.Properties{AuthMethod: []byte(method), AuthData: reply}})
		c.conn.SetReadDeadline(time.Now().Add(c.b.cfg.ConnectTimeout))
		p, rerr := c.r.ReadPacket()
		if rerr != nil {
			return nil, "", false
		}
		a, isAuth := p.(*packet.Auth)
		if !isAuth || a.ReasonCode != packet.ContinueAuthentication || string(a.Properties.AuthMethod) != method {
			// Only AUTH may follow until CONNACK [MQTT-4.12.0-4 ..-5 area].
			c.refuse(0, packet.ProtocolError)
			return nil, "", false
		}
		data = append([]byte(nil), a.Properties.AuthData...)
	}
}

// pushPreConnack queues a packet before CONNACK (AUTH during CONNECT).
func (c *client) pushPreConnack(p packet.Packet) {
	c.outMu.Lock()
	c.out = append(c.out, p)
	c.startWriterLocked()
	c.outMu.Unlock()
}

// reauth handles AUTH after CONNACK: re-authentication (0x19) and its
// continuation (0x18), with the method fixed at CONNECT [MQTT-4.12.1-1].
func (c *client) reauth(a *packet.Auth) bool {
	method := string(a.Properties.AuthMethod)
	if c.authMethod == "" || method != c.authMethod {
		c.kick(packet.ProtocolError)
		return false
	}
	switch a.ReasonCode {
	case packet.ReAuthenticate:
		// The method was found at CONNECT in the same listener's list.
		c.reauthConv = c.sec.enhanced(method).Start(c.id)
	case packet.ContinueAuthentication:
		if c.reauthConv == nil {
			c.kick(packet.ProtocolError)
			return false
		}
	default:
		c.kick(packet.ProtocolError)
		return false
	}
	reply, done, user, err := c.reauthConv.Step(append([]byte(nil), a.Properties.AuthData...))
	if err == nil && done && user != c.username {
		// Re-authentication proves the same identity again; it cannot
		// switch a live connection to another user.
		err = ErrNotAuthorized
	}
	if err != nil {
		// Failed re-authentication closes the connection [MQTT-4.12.1-2].
		// DISCONNECT has no 0x86, so every refusal is 0x87 here
		// [MQTT-3.14.2-1].
		c.reauthConv = nil
		c.kick(packet.NotAuthorized)
		return false
	}
	code := packet.ContinueAuthentication
	if done {
		code, c.reauthConv = packet.Success, nil
	}
	c.pushCtl(&packet.Auth{ReasonCode: code, Properties: packet.Properties{AuthMethod: []byte(method), AuthData: reply}})
	return true
}
