package specs

import (
	"slices"

	. "github.com/onsi/ginkgo/v2"

	"github.com/mqttspec/mqttspec/brokers"
	"github.com/mqttspec/mqttspec/reference/broker/auth/scram"
	"github.com/mqttspec/mqttspec/reference/packet"
	. "github.com/mqttspec/mqttspec/specs/harness"
)

// MQTT 5.0 enhanced authentication and re-authentication (section 4.12,
// the AUTH packet of section 3.15), against Target().Auth. The exchanges
// use SCRAM-SHA-256 (RFC 7677), the method the target must declare in
// AuthSetup.EnhancedAuth; the specs about methods the server does not
// offer, or about AUTH from a client that never chose a method, need no
// method at all.

// scramUser returns the user to authenticate with SCRAM-SHA-256, or marks
// the spec unsupported when the secured endpoint does not offer it.
func scramUser() brokers.Credential {
	GinkgoHelper()
	a := AuthSetup()
	if !slices.Contains(a.EnhancedAuth, scram.Mechanism) {
		Unsupported("the target's authentication endpoint offers no %s enhanced authentication", scram.Mechanism)
	}
	return AuthUser()
}

// scramAuth is an AUTH packet of the SCRAM-SHA-256 exchange.
func scramAuth(code packet.ReasonCode, data []byte) *packet.Auth {
	return &packet.Auth{ReasonCode: code, Properties: packet.Properties{AuthMethod: []byte(scram.Mechanism), AuthData: data}}
}

// scramBegin sends a CONNECT naming SCRAM-SHA-256 with the client-first
// message and returns the server's first answer.
func scramBegin(c *Client, sc *scram.Client) packet.Packet {
	GinkgoHelper()
	cp := &packet.Connect{ProtocolVersion: packet.V5, ClientID: ClientID(), CleanStart: true, KeepAlive: 60}
	cp.Properties.AuthMethod = []byte(scram.Mechanism)
	cp.Properties.AuthData = sc.First()
	c.ID = cp.ClientID
	c.Send(cp)
	return c.Next()
}

// scramContinue expects the server's AUTH 0x18 carrying the
// server-first-message and returns the client-final-message.
func scramContinue(c *Client, sc *scram.Client, p packet.Packet) []byte {
	GinkgoHelper()
	a, ok := p.(*packet.Auth)
	if !ok || a.ReasonCode != packet.ContinueAuthentication {
		Failf("AUTH 0x18 Continue authentication with the SCRAM server-first-message", "%s", packet.Summary(p, c.V))
	}
	if string(a.Properties.AuthMethod) != scram.Mechanism {
		Failf("AUTH naming the method "+scram.Mechanism, "method %q", a.Properties.AuthMethod)
	}
	final, err := sc.Final(a.Properties.AuthData)
	if err != nil {
		Failf("a SCRAM server-first-message in the AUTH", "%v", err)
	}
	return final
}

// scramLogin connects c as user with SCRAM-SHA-256 and expects success.
func scramLogin(c *Client, user brokers.Credential) {
	GinkgoHelper()
	sc := scram.NewClient(user.Username, user.Password, nil)
	final := scramContinue(c, sc, scramBegin(c, sc))
	c.Send(scramAuth(packet.ContinueAuthentication, final))
	ca := Expect[*packet.Connack](c)
	if ca.ReasonCode != 0 {
		Failf("CONNACK 0x00 after a SCRAM exchange with the right password", "CONNACK %s", ca.ReasonCode)
	}
	if err := sc.Verify(ca.Properties.AuthData); err != nil {
		Note("the server-final-message in CONNACK does not verify: %v", err)
	}
}

var _ = Describe("Enhanced authentication", func() {
	Only(packet.V5, func() {
		v := packet.V5

		It("refuses an authentication method it does not support and closes the connection",
			Statement(v, "MQTT-4.12.0-1"), func() {
				Requirement("A CONNECT naming an authentication method the server does not offer is refused (a CONNACK 0x8C or 0x87 may say so) and the connection closed.")
				c := AuthClient(v)
				cp := withClientID(v, &packet.Connect{CleanStart: true, KeepAlive: 60})
				cp.Properties.AuthMethod = []byte("mqttspec-no-such-method")
				c.Send(cp)
				if ca := ExpectConnectRefused(c); ca != nil && ca.ReasonCode != packet.BadAuthenticationMethod && ca.ReasonCode != packet.NotAuthorized {
					Note("the broker refused with %s; 0x8C Bad authentication method or 0x87 Not authorized are the codes for this case", ca.ReasonCode)
				}
			})

		It("ignores a PUBLISH that follows a CONNECT refused for its authentication method",
			Statement(v, "MQTT-3.1.4-6", "MQTT-4.12.0-1"), func() {
				Requirement("Once the server has refused a CONNECT it processes nothing but AUTH from that connection: a PUBLISH sent right behind the CONNECT is never delivered.")
				AuthSetup()
				// The open endpoint: there a PUBLISH that slipped through
				// would be delivered whoever sent it, so the check does not
				// depend on an ACL.
				topic := Topic("after-refused-connect")
				sub := Connected(v, Named("subscriber"))
				sub.MustSubscribe(topic, 1)

				payload := UniquePayload("sent-after-refused-connect")
				bad := NewClient(v, Named("refused"))
				cp := withClientID(v, &packet.Connect{CleanStart: true, KeepAlive: 60})
				cp.Properties.AuthMethod = []byte("mqttspec-no-such-method")
				bad.SendInOneWrite(cp, &packet.Publish{Topic: []byte(topic), Payload: payload, QoS: 1, PacketID: 1})
				for i, p := range bad.ExpectClosedWellFormed() {
					switch p := p.(type) {
					case *packet.Connack:
						if i != 0 || !p.ReasonCode.IsError() {
							Failf("a refusing CONNACK (or none), then the close", "%s", packet.Summary(p, v))
						}
					case *packet.Puback:
						Failf("the PUBLISH after the refused CONNECT ignored", "PUBACK for it: the broker processed it")
					default:
						Failf("nothing but a refusing CONNACK before the close", "%s", packet.Summary(p, v))
					}
				}
				marker := Sentinel(v, topic)
				for _, p := range ReceiveUntilMarker(sub, marker, 64) {
					if string(p.Payload) == string(payload) {
						Failf("the PUBLISH after the refused CONNECT never delivered", "it reached the subscriber before the sentinel")
					}
				}
			})

		It("sends no AUTH and no Authentication Method to a client that did not choose one",
			Statement(v, "MQTT-4.12.0-6"), func() {
				Requirement("Without an Authentication Method in CONNECT, the server neither sends AUTH nor puts an Authentication Method in CONNACK.")
				c := AuthClient(v)
				ca := c.Connect(LoginConnect(AuthUser()))
				if ca.ReasonCode != 0 {
					Failf("CONNACK 0x00 for a password login", "CONNACK %s", ca.ReasonCode)
				}
				if ca.Properties.Has(packet.PropAuthMethod) {
					Failf("a CONNACK without Authentication Method", "Authentication Method %q", ca.Properties.AuthMethod)
				}
				c.Send(&packet.Pingreq{})
				if p := c.Next(); p.Type() != packet.PINGRESP {
					Failf("PINGRESP and no AUTH", "%s", packet.Summary(p, v))
				}
			})

		It("continues the exchange with AUTH 0x18 naming the client's method",
			Statement(v, "MQTT-4.12.0-2", "MQTT-3.15.2-1", "MQTT-3.2.0-1"), func() {
				Requirement("When the server needs more authentication data it sends AUTH with reason code 0x18 (a defined AUTH code), before any CONNACK, naming the client's method.")
				user := scramUser()
				c := AuthClient(v)
				sc := scram.NewClient(user.Username, user.Password, nil)
				p := scramBegin(c, sc)
				a, ok := p.(*packet.Auth)
				if !ok {
					Failf("AUTH 0x18 (SCRAM needs a second round)", "%s", packet.Summary(p, v))
				}
				if !packet.ReasonAllowed(packet.AUTH, a.ReasonCode) {
					Failf("an Authenticate Reason Code defined for AUTH", "AUTH %s", a.ReasonCode)
				}
				if a.ReasonCode != packet.ContinueAuthentication {
					Failf("AUTH 0x18 Continue authentication", "AUTH %s", a.ReasonCode)
				}
				if string(a.Properties.AuthMethod) != scram.Mechanism {
					Failf("the Authentication Method "+scram.Mechanism, "%q", a.Properties.AuthMethod)
				}
			})

		It("names the client's method in every AUTH and in the successful CONNACK",
			Statement(v, "MQTT-4.12.0-5", "MQTT-3.1.4-5"), func() {
				Requirement("Once CONNECT has named an Authentication Method, every AUTH and the successful CONNACK carry the same method.")
				user := scramUser()
				c := AuthClient(v)
				sc := scram.NewClient(user.Username, user.Password, nil)
				final := scramContinue(c, sc, scramBegin(c, sc))
				c.Send(scramAuth(packet.ContinueAuthentication, final))
				ca := Expect[*packet.Connack](c)
				if ca.ReasonCode != 0 {
					Failf("CONNACK 0x00 after a SCRAM exchange with the right password", "CONNACK %s", ca.ReasonCode)
				}
				if string(ca.Properties.AuthMethod) != scram.Mechanism {
					Failf("CONNACK naming the method "+scram.Mechanism, "method %q", ca.Properties.AuthMethod)
				}
				if err := sc.Verify(ca.Properties.AuthData); err != nil {
					Note("the server-final-message in CONNACK does not verify: %v", err)
				}
			})

		It("refuses a failed enhanced authentication and closes the connection",
			Statement(v, "MQTT-4.12.0-4", "MQTT-3.2.2-6", "MQTT-3.2.2-7"), func() {
				Requirement("When the server rejects the authentication it refuses the client (a CONNACK 0x80 or above may say so, with Session Present 0) and closes the connection.")
				user := scramUser()
				c := AuthClient(v)
				sc := scram.NewClient(user.Username, user.Password+"-wrong", nil)
				final := scramContinue(c, sc, scramBegin(c, sc))
				c.Send(scramAuth(packet.ContinueAuthentication, final))
				if ca := ExpectConnectRefused(c); ca != nil && ca.ReasonCode != packet.BadUserNameOrPassword && ca.ReasonCode != packet.NotAuthorized {
					Note("the broker refused with %s; 0x86 or 0x87 fit a wrong password best", ca.ReasonCode)
				}
			})

		It("treats an AUTH naming another method during the exchange as a protocol error",
			Statement(v, "MQTT-4.12.0-5", "MQTT-4.13.1-1"), func() {
				Requirement("Every AUTH of an exchange names the method of the CONNECT; one naming another method is a Protocol Error, so the server refuses the client and closes the connection.")
				user := scramUser()
				c := AuthClient(v)
				sc := scram.NewClient(user.Username, user.Password, nil)
				final := scramContinue(c, sc, scramBegin(c, sc))
				wrong := scramAuth(packet.ContinueAuthentication, final)
				wrong.Properties.AuthMethod = []byte("mqttspec-other-method")
				c.Send(wrong)
				if ca := ExpectConnectRefused(c); ca != nil && ca.ReasonCode != packet.ProtocolError {
					Note("the broker refused with %s; 0x82 Protocol Error describes this case best", ca.ReasonCode)
				}
			})

		It("closes the connection on an AUTH whose reserved flags are set",
			Statement(v, "MQTT-3.15.1-1"), func() {
				Requirement("The AUTH fixed-header flags are all zero; any other value makes the packet malformed and the server closes the connection.")
				user := scramUser()
				c := AuthClient(v)
				sc := scram.NewClient(user.Username, user.Password, nil)
				final := scramContinue(c, sc, scramBegin(c, sc))
				b, err := packet.Encode(scramAuth(packet.ContinueAuthentication, final), v)
				if err != nil {
					Fail(err.Error())
				}
				b[0] |= 0x01
				c.SendRaw(b)
				ExpectMalformedConnectClosed(c)
			})

		It("closes the connection of a client that sends AUTH without having chosen a method",
			Statement(v, "MQTT-4.12.0-7", "MQTT-4.13.1-1"), func() {
				Requirement("A client whose CONNECT named no Authentication Method must not send AUTH; one that does commits a Protocol Error and the server closes the connection (DISCONNECT 0x82 may say why).")
				c := AuthClient(v)
				if ca := c.Connect(LoginConnect(AuthUser())); ca.ReasonCode != 0 {
					Failf("CONNACK 0x00 for a password login", "CONNACK %s", ca.ReasonCode)
				}
				sc := scram.NewClient("mqttspec", "mqttspec", nil)
				c.Send(scramAuth(packet.ReAuthenticate, sc.First()))
				for _, p := range c.ExpectClosedWellFormed() {
					d, ok := p.(*packet.Disconnect)
					if !ok {
						Failf("the connection closed (at most a DISCONNECT first)", "%s", packet.Summary(p, v))
					}
					if d.ReasonCode != packet.ProtocolError {
						Note("the broker disconnected with %s; 0x82 Protocol Error describes this case best", d.ReasonCode)
					}
				}
			})

		It("re-authenticates a connected client with AUTH exchanges ending in AUTH 0x00",
			Statement(v, "MQTT-4.12.0-2", "MQTT-4.12.0-5"), func() {
				Requirement("A client that authenticated with a method may re-authenticate with AUTH 0x19; the server continues with AUTH 0x18, ends with AUTH 0x00, names the same method throughout, and the connection goes on.")
				user := scramUser()
				c := AuthClient(v)
				scramLogin(c, user)

				sc := scram.NewClient(user.Username, user.Password, nil)
				c.Send(scramAuth(packet.ReAuthenticate, sc.First()))
				final := scramContinue(c, sc, c.Next())
				c.Send(scramAuth(packet.ContinueAuthentication, final))
				a := Expect[*packet.Auth](c)
				if a.ReasonCode != packet.Success {
					Failf("AUTH 0x00 Success", "AUTH %s", a.ReasonCode)
				}
				if string(a.Properties.AuthMethod) != scram.Mechanism {
					Failf("AUTH naming the method "+scram.Mechanism, "method %q", a.Properties.AuthMethod)
				}
				if err := sc.Verify(a.Properties.AuthData); err != nil {
					Note("the server-final-message in AUTH does not verify: %v", err)
				}
				c.Ping()
			})

		It("closes the connection after a failed re-authentication",
			Statement(v, "MQTT-4.12.1-2", "MQTT-3.14.2-1"), func() {
				Requirement("When re-authentication fails the server closes the connection, preferably after a DISCONNECT with a reason code.")
				user := scramUser()
				c := AuthClient(v)
				scramLogin(c, user)

				sc := scram.NewClient(user.Username, user.Password+"-wrong", nil)
				c.Send(scramAuth(packet.ReAuthenticate, sc.First()))
				final := scramContinue(c, sc, c.Next())
				c.Send(scramAuth(packet.ContinueAuthentication, final))
				var sent bool
				for _, p := range c.ExpectClosedWellFormed() {
					d, ok := p.(*packet.Disconnect)
					if !ok {
						Failf("the connection closed (a DISCONNECT first is recommended)", "%s", packet.Summary(p, v))
					}
					sent = true
					if !d.ReasonCode.IsError() {
						Failf("a DISCONNECT with a reason code of 0x80 or more", "DISCONNECT %s", d.ReasonCode)
					}
					Observed("DISCONNECT %s, then the close", d.ReasonCode)
				}
				if !sent {
					Note("the broker closed the connection without DISCONNECT (one is recommended)")
				}
			})

		It("treats a re-authentication naming another method as a protocol error",
			Statement(v, "MQTT-4.12.1-1", "MQTT-4.12.0-5", "MQTT-4.13.1-1"), func() {
				Requirement("Re-authentication uses the method of the original authentication; an AUTH 0x19 naming another one is a Protocol Error and the server closes the connection (DISCONNECT 0x82 may say why).")
				user := scramUser()
				c := AuthClient(v)
				scramLogin(c, user)

				sc := scram.NewClient(user.Username, user.Password, nil)
				wrong := scramAuth(packet.ReAuthenticate, sc.First())
				wrong.Properties.AuthMethod = []byte("mqttspec-other-method")
				c.Send(wrong)
				for _, p := range c.ExpectClosedWellFormed() {
					d, ok := p.(*packet.Disconnect)
					if !ok {
						Failf("the connection closed (at most a DISCONNECT first)", "%s", packet.Summary(p, v))
					}
					if d.ReasonCode != packet.ProtocolError {
						Note("the broker disconnected with %s; 0x82 Protocol Error describes this case best", d.ReasonCode)
					}
				}
			})
	})
})
