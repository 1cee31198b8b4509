package specs

import (
	"errors"
	"fmt"
	"syscall"

	. "github.com/onsi/ginkgo/v2"

	"github.com/mqttspec/mqttspec/brokers"
	"github.com/mqttspec/mqttspec/reference/packet"
	. "github.com/mqttspec/mqttspec/specs/harness"
)

// Authentication, authorisation and transport security: 3.1.1 sections
// 3.1.2.8-3.1.2.9, 3.1.4, 3.3.5 and 5; 5.0 sections 3.1.4, 3.4, 3.5, 3.9
// and 5. Every spec runs against Target().Auth, the target's secured
// endpoint, and is unsupported without it. The enhanced authentication
// of 5.0 (section 4.12) is in enhanced_auth.go.
//
// What MQTT leaves to the server: whether to authenticate at all, which
// return code names a refusal (3.1.1 only SHOULD send one), and how an
// unauthorised PUBLISH or SUBSCRIBE is answered within the rules. Those
// choices are recorded with Note; the specs fail only where a statement is
// broken, or (group "Security policy") where the broker breaks the policy
// its fixture declares, which MQTT's non-normative section 5 describes
// without numbered statements.

// authRefusalIDs are the statements a refused CONNECT checks: Session
// Present 0 and the close after a refusing CONNACK (3.1.1; the close after
// a failed authentication is unnumbered there); the close after failed
// authentication, Session Present 0, the close and a defined reason code
// (5.0).
func authRefusalIDs(v packet.Version) []string {
	if v == packet.V5 {
		return []string{"MQTT-3.1.4-2", "MQTT-3.2.2-6", "MQTT-3.2.2-7", "MQTT-3.2.2-8"}
	}
	return []string{"MQTT-3.2.2-4", "MQTT-3.2.2-5"}
}

// authCheckRefusal reads the answer to a CONNECT the secured endpoint must
// refuse and records which code it chose; want names the code that fits
// best (the choice is the server's, so another refusing code is a note).
func authCheckRefusal(c *Client, want311, want5 packet.ReasonCode) {
	GinkgoHelper()
	ca := ExpectConnectRefused(c)
	if ca == nil {
		Note("the broker closed the connection without a CONNACK (3.1.1: a CONNACK is only recommended; 5.0: optional)")
		return
	}
	want := want311
	if c.V == packet.V5 {
		want = want5
		if !packet.ReasonAllowed(packet.CONNACK, ca.ReasonCode) {
			Failf("a Connect Reason Code defined for CONNACK", "CONNACK %s", ca.ReasonCode)
		}
	}
	if ca.ReasonCode != want {
		Note("the broker refused with %s; %s describes this case best", ConnackCode(c.V, ca.ReasonCode), ConnackCode(c.V, want))
	}
}

var _ = Describe("Authentication", func() {
	ForVersions(func(v packet.Version) {
		It("admits a configured user with the right password",
			Statement(v, S(v, "MQTT-3.1.4-4", "MQTT-3.1.4-5")), func() {
				Requirement("A valid CONNECT whose credentials the server accepts is answered with CONNACK 0x00.")
				user := AuthUser()
				c := AuthClient(v)
				if ca := c.Connect(LoginConnect(user)); ca.ReasonCode != 0 {
					Failf(fmt.Sprintf("CONNACK 0x00 for the configured user %q", user.Username), "CONNACK %s", ca.ReasonCode)
				}
			})

		refusals := []struct {
			name           string
			connect        func(user brokers.Credential) *packet.Connect
			want311, want5 packet.ReasonCode
		}{
			{"a wrong password", func(u brokers.Credential) *packet.Connect {
				return LoginConnect(brokers.Credential{Username: u.Username, Password: u.Password + "-wrong"})
			}, packet.ConnRefusedBadUsernamePassword, packet.BadUserNameOrPassword},
			{"an unknown user name", func(u brokers.Credential) *packet.Connect {
				return LoginConnect(brokers.Credential{Username: "mqttspec-nobody-" + u.Username, Password: u.Password})
			}, packet.ConnRefusedBadUsernamePassword, packet.BadUserNameOrPassword},
			{"a user name without its password", func(u brokers.Credential) *packet.Connect {
				return &packet.Connect{CleanStart: true, KeepAlive: 60, Username: u.Username}
			}, packet.ConnRefusedBadUsernamePassword, packet.BadUserNameOrPassword},
			{"no user name (an anonymous client)", func(brokers.Credential) *packet.Connect {
				return &packet.Connect{CleanStart: true, KeepAlive: 60}
			}, packet.ConnRefusedNotAuthorized, packet.NotAuthorized},
		}
		for _, r := range refusals {
			It("refuses a CONNECT with "+r.name+" and closes the connection",
				Statement(v, authRefusalIDs(v)...), func() {
					Requirement("When authentication fails the server refuses the client (a CONNACK with a non-zero code, if any, has Session Present 0) and closes the network connection.")
					c := AuthClient(v)
					c.Send(withClientID(v, r.connect(AuthUser())))
					authCheckRefusal(c, r.want311, r.want5)
				})
		}

		It("ignores a PUBLISH that follows a refused CONNECT",
			Statement(v, S(v, "MQTT-3.1.4-5", "MQTT-3.1.4-6")), func() {
				Requirement("Once the server has refused a CONNECT it processes nothing else the client sent on that connection, even bytes that were already on their way.")
				user := AuthUser()
				topic := ACLTopic("after-refused-connect")
				sub := Login(v, user, Named("subscriber"))
				sub.MustSubscribe(topic, 1)

				payload := UniquePayload("sent-after-refused-connect")
				bad := AuthClient(v, Named("refused"))
				cp := withClientID(v, LoginConnect(brokers.Credential{Username: user.Username, Password: user.Password + "-wrong"}))
				bad.SendInOneWrite(cp, &packet.Publish{Topic: []byte(topic), Payload: payload, QoS: 1, PacketID: 1})
				got := bad.ExpectClosedWellFormed()
				for i, p := range got {
					switch p := p.(type) {
					case *packet.Connack:
						if i != 0 || p.ReasonCode == 0 {
							Failf("a refusing CONNACK (or none), then the close", "%s", packet.Summary(p, v))
						}
					case *packet.Puback:
						Failf("the PUBLISH after the refused CONNECT ignored", "PUBACK for it: the broker processed it")
					default:
						Failf("nothing but a refusing CONNACK before the close", "%s", packet.Summary(p, v))
					}
				}

				marker := authSentinel(v, user, topic)
				for _, p := range ReceiveUntilMarker(sub, string(marker), 64) {
					if string(p.Payload) == string(payload) {
						Failf("the PUBLISH after the refused CONNECT never delivered", "it reached the subscriber before the sentinel")
					}
				}
			})

		// CONNECT flags and payload fields. The flag rules bind the client;
		// the server's part is to treat a CONNECT that breaks them as
		// malformed and close the connection [MQTT-3.1.4-1].
		It("closes the connection when the user name flag is set but no user name follows",
			Statement(v, S(v, "MQTT-3.1.2-19", "MQTT-3.1.2-17"), "MQTT-3.1.4-1"), func() {
				Requirement("A set user name flag promises a user name in the payload; a CONNECT without one is malformed and the server closes the connection (3.1.1: without CONNACK).")
				c := AuthClient(v)
				c.SendRaw(RawConnect(v, ClientID(), 0x80|0x02))
				ExpectMalformedConnectClosed(c)
			})

		It("closes the connection when the password flag is set but no password follows",
			Statement(v, S(v, "MQTT-3.1.2-21", "MQTT-3.1.2-19"), "MQTT-3.1.4-1"), func() {
				Requirement("A set password flag promises a password after the user name; a CONNECT without one is malformed and the server closes the connection (3.1.1: without CONNACK).")
				user := AuthUser()
				c := AuthClient(v)
				c.SendRaw(RawConnect(v, ClientID(), 0x80|0x40|0x02, []byte(user.Username)))
				ExpectMalformedConnectClosed(c)
			})

		It("closes the connection when the user name is not valid UTF-8",
			Statement(v, S(v, "MQTT-3.1.3-11", "MQTT-3.1.3-12"), "MQTT-3.1.4-1"), func() {
				Requirement("The user name is a UTF-8 string; a CONNECT whose user name is not well-formed UTF-8 is malformed and the server closes the connection (3.1.1: without CONNACK).")
				c := AuthClient(v)
				c.SendRaw(RawConnect(v, ClientID(), 0x80|0x02, []byte{'a', 0xC3, 0x28, 'b'}))
				ExpectMalformedConnectClosed(c)
			})

		It("does not take credentials the connect flags do not announce",
			Statement(v, S(v, "MQTT-3.1.2-18", "MQTT-3.1.2-16"), S(v, "MQTT-3.1.2-20", "MQTT-3.1.2-18"), "MQTT-3.1.4-1"), func() {
				Requirement("With the user name and password flags cleared the payload holds no credentials; a CONNECT carrying valid ones anyway is malformed, so the server closes the connection (3.1.1: without CONNACK) and never admits the client.")
				user := AuthUser()
				c := AuthClient(v)
				c.SendRaw(RawConnect(v, ClientID(), 0x02, []byte(user.Username), []byte(user.Password)))
				ExpectMalformedConnectClosed(c)
			})
	})

	Only(packet.V311, func() {
		It("closes the connection when the password flag is set without the user name flag",
			Statement(packet.V311, "MQTT-3.1.2-22", "MQTT-3.1.4-1"), func() {
				Requirement("In 3.1.1 a password may be flagged only together with a user name; a CONNECT with the password flag alone is malformed and the server closes the connection without CONNACK.")
				user := AuthUser()
				c := AuthClient(packet.V311)
				c.SendRaw(RawConnect(packet.V311, ClientID(), 0x40|0x02, []byte(user.Password)))
				ExpectMalformedConnectClosed(c)
			})
	})
})

// withClientID fills the version and a fresh client identifier into a
// CONNECT sent with Send rather than Connect.
func withClientID(v packet.Version, cp *packet.Connect) *packet.Connect {
	cp.ProtocolVersion = v
	if cp.ClientID == "" {
		cp.ClientID = ClientID()
	}
	return cp
}

// authSentinel publishes a QoS 1 marker on topic as user (a fresh
// connection to the secured endpoint) and returns its payload: a
// subscriber that receives it has received, before it, everything routed
// to it earlier.
func authSentinel(v packet.Version, user brokers.Credential, topic string) []byte {
	GinkgoHelper()
	c := Login(v, user, Named("sentinel"))
	payload := UniquePayload("sentinel")
	if ack := c.Publish(topic, payload, 1, false); ack != nil {
		if pa, ok := ack.(*packet.Puback); ok && pa.ReasonCode.IsError() {
			Failf("the sentinel accepted on "+topic, "PUBACK %s", pa.ReasonCode)
		}
	}
	c.Disconnect()
	return payload
}

var _ = Describe("Authorisation", func() {
	ForVersions(func(v packet.Version) {
		topics := []struct {
			name  string
			topic func(*brokers.ACLSetup) string
		}{
			{"a topic its ACL denies", func(a *brokers.ACLSetup) string { return a.DeniedTopic }},
			{"a topic its ACL makes read-only", func(a *brokers.ACLSetup) string { return a.ReadOnlyTopic }},
		}
		for _, t := range topics {
			It("answers a QoS 1 PUBLISH to "+t.name+" within the QoS 1 rules or closes the connection",
				Statement(v, S(v, "MQTT-3.3.5-2", "MQTT-3.3.4-1"), S(v, "MQTT-3.3.4-1", "MQTT-3.4.2-1")), func() {
					if v == packet.V5 {
						Requirement("An unauthorised QoS 1 PUBLISH is still answered with a PUBACK carrying a defined reason code (0x87 Not authorized fits), unless the server closes the connection.")
					} else {
						Requirement("A 3.1.1 server cannot report an unauthorised PUBLISH: it acknowledges it as usual (PUBACK for QoS 1) or closes the connection.")
					}
					acl := AuthACL()
					c := Login(v, acl.User)
					c.Send(&packet.Publish{Topic: []byte(t.topic(acl)), Payload: UniquePayload("unauthorised"), QoS: 1, PacketID: 1})
					authExpectDeniedAck(c, packet.PUBACK, 1)
				})

			It("answers a QoS 2 PUBLISH to "+t.name+" within the QoS 2 rules or closes the connection",
				Statement(v, S(v, "MQTT-3.3.5-2", "MQTT-3.3.4-1"), S(v, "MQTT-3.3.4-1", "MQTT-3.5.2-1")), func() {
					if v == packet.V5 {
						Requirement("An unauthorised QoS 2 PUBLISH is still answered with a PUBREC carrying a defined reason code (0x87 fits, and ends the exchange); a successful PUBREC continues to PUBCOMP; or the server closes the connection.")
					} else {
						Requirement("A 3.1.1 server cannot report an unauthorised PUBLISH: it runs the usual QoS 2 exchange (PUBREC, PUBREL, PUBCOMP) or closes the connection.")
					}
					acl := AuthACL()
					c := Login(v, acl.User)
					c.Send(&packet.Publish{Topic: []byte(t.topic(acl)), Payload: UniquePayload("unauthorised"), QoS: 2, PacketID: 1})
					if !authExpectDeniedAck(c, packet.PUBREC, 1) {
						return
					}
					c.Send(&packet.Pubrel{PacketID: 1})
					if comp := Expect[*packet.Pubcomp](c); comp.PacketID != 1 || comp.ReasonCode != 0 {
						Failf("PUBCOMP 0x00 for packet identifier 1", "%s", packet.Summary(comp, v))
					}
				})
		}

		It("answers a SUBSCRIBE to a denied topic with one valid SUBACK code",
			Statement(v, S(v, "MQTT-3.8.4-5", "MQTT-3.8.4-7"), "MQTT-3.9.3-2"), func() {
				Requirement("Refused or not, a subscription gets exactly one SUBACK code, either a granted QoS or a failure code the version defines (3.1.1: 0x80; 5.0: 0x87 Not authorized fits).")
				acl := AuthACL()
				c := Login(v, acl.User)
				sa := c.Subscribe(packet.Subscription{Filter: acl.DeniedTopic, QoS: 1})
				if len(sa.ReasonCodes) != 1 {
					Failf("one SUBACK code", "%d codes", len(sa.ReasonCodes))
				}
				code := sa.ReasonCodes[0]
				switch {
				case v == packet.V311 && code != packet.SubackFailure311 && code > 2:
					Failf("0x00, 0x01, 0x02 or 0x80", "SUBACK code 0x%02X", byte(code))
				case v == packet.V5 && !packet.ReasonAllowed(packet.SUBACK, code):
					Failf("a Subscribe Reason Code defined for SUBACK", "SUBACK code %s", code)
				case !code.IsError() && code > 1:
					Failf("at most the requested QoS 1", "granted QoS %d", code)
				case !code.IsError():
					Note("the broker grants the subscription and, presumably, filters messages one by one (Mosquitto's way); the policy specs check that nothing leaks")
				case v == packet.V5 && code != packet.NotAuthorized:
					Note("the broker refused with %s; 0x87 Not authorized describes this case best", code)
				}
				Observed("SUBACK code %s", code)
			})
	})
})

// authExpectDeniedAck reads the answer to an unauthorised PUBLISH with
// packet identifier id: an acknowledgement of type want (PUBACK or PUBREC)
// or the close (5.0: possibly after DISCONNECT). It returns whether the
// exchange goes on (a successful PUBREC).
func authExpectDeniedAck(c *Client, want packet.Type, id uint16) bool {
	GinkgoHelper()
	p, closed := c.ReadOrClosed(want.String() + " or the connection closed")
	if closed {
		Note("the broker closed the connection instead of acknowledging")
		return false
	}
	var code packet.ReasonCode
	var pid uint16
	switch p := p.(type) {
	case *packet.Puback:
		code, pid = p.ReasonCode, p.PacketID
	case *packet.Pubrec:
		code, pid = p.ReasonCode, p.PacketID
	case *packet.Disconnect:
		if c.V != packet.V5 {
			Failf(want.String()+" or the connection closed", "%s", packet.Summary(p, c.V))
		}
		if !packet.ReasonAllowed(packet.DISCONNECT, p.ReasonCode) {
			Failf("a Disconnect Reason Code defined for DISCONNECT", "DISCONNECT %s", p.ReasonCode)
		}
		c.ExpectClosedWellFormed()
		Note("the broker disconnected the client with %s instead of acknowledging", p.ReasonCode)
		return false
	default:
		Failf(want.String()+" or the connection closed", "%s", packet.Summary(p, c.V))
	}
	if p.Type() != want {
		Failf(want.String()+" (the QoS of the PUBLISH decides)", "%s", packet.Summary(p, c.V))
	}
	if pid != id {
		Failf(fmt.Sprintf("%s for packet identifier %d", want, id), "%s", packet.Summary(p, c.V))
	}
	Observed("%s", packet.Summary(p, c.V))
	if c.V != packet.V5 {
		return want == packet.PUBREC
	}
	if !packet.ReasonAllowed(want, code) {
		Failf("a reason code defined for "+want.String(), "%s %s", want, code)
	}
	if !code.IsError() {
		Note("the broker acknowledged the unauthorised PUBLISH with %s; 0x87 Not authorized would tell the client", code)
		return want == packet.PUBREC
	}
	if code != packet.NotAuthorized {
		Note("the broker answered with %s; 0x87 Not authorized describes this case best", code)
	}
	return false
}

// The target's ACL and listener fixtures declare a policy; MQTT describes
// such policies only in its non-normative section 5 (Security), so these
// specs cite no statement: they fail when the broker breaks the policy the
// target says it enforces.
var _ = Describe("Security policy (section 5, no numbered statement)", func() {
	ForVersions(func(v packet.Version) {
		It("does not deliver a PUBLISH its sender was not allowed to send", func() {
			Requirement("A message the ACL forbids its publisher to send reaches no subscriber, not even one allowed to read the topic.")
			acl := AuthACL()
			writer := AuthWriter()
			reader := Login(v, writer, Named("reader"))
			reader.MustSubscribe(acl.DeniedTopic, 1)

			payload := UniquePayload("unauthorised")
			c := Login(v, acl.User, Named("publisher"))
			c.Send(&packet.Publish{Topic: []byte(acl.DeniedTopic), Payload: payload, QoS: 1, PacketID: 1})
			if p, err := c.Read(); err == nil {
				if _, ok := p.(*packet.Puback); !ok {
					TraceNote("the publisher got %s", packet.Summary(p, v))
				}
			}

			marker := authSentinel(v, writer, acl.DeniedTopic)
			for _, p := range ReceiveUntilMarker(reader, string(marker), 64) {
				if string(p.Payload) == string(payload) {
					Failf("the unauthorised message never delivered", "it reached a subscriber")
				}
			}
		})

		It("does not deliver messages on a denied topic through a wildcard subscription", func() {
			Requirement("A subscription whose filter covers a topic the subscriber may not read never delivers messages on that topic.")
			acl := AuthACL()
			writer := AuthWriter()
			c := Login(v, acl.User, Named("reader"))
			sa := c.Subscribe(packet.Subscription{Filter: acl.Prefix + "#", QoS: 1})
			if len(sa.ReasonCodes) != 1 || sa.ReasonCodes[0].IsError() {
				Note("the broker refused the wildcard subscription (%v): nothing can leak through it", sa.ReasonCodes)
				return
			}
			w := Login(v, writer, Named("writer"))
			w.Publish(acl.DeniedTopic, UniquePayload("secret"), 1, false)
			marker := UniquePayload("marker")
			w.Publish(ACLTopic("marker"), marker, 1, false)
			for _, p := range ReceiveUntilMarker(c, string(marker), 64) {
				if string(p.Topic) == acl.DeniedTopic {
					Failf("no message on "+acl.DeniedTopic, "%s", packet.Summary(p, v))
				}
			}
		})

		It("does not send a retained message the subscriber may not read", func() {
			Requirement("The retained message of a topic the subscriber may not read is not sent when a wildcard subscription covers that topic.")
			acl := AuthACL()
			writer := AuthWriter()
			w := Login(v, writer, Named("writer"))
			w.Publish(acl.DeniedTopic, UniquePayload("retained-secret"), 1, true)
			// The writer's connection closes after this cleanup (cleanups
			// run last-registered first).
			DeferCleanup(func() { w.Publish(acl.DeniedTopic, nil, 1, true) })

			c := Login(v, acl.User, Named("reader"))
			sa := c.Subscribe(packet.Subscription{Filter: acl.Prefix + "#", QoS: 1})
			if len(sa.ReasonCodes) != 1 || sa.ReasonCodes[0].IsError() {
				Note("the broker refused the wildcard subscription (%v): nothing can leak through it", sa.ReasonCodes)
				return
			}
			marker := UniquePayload("marker")
			w.Publish(ACLTopic("marker"), marker, 1, false)
			for _, p := range ReceiveUntilMarker(c, string(marker), 64) {
				if string(p.Topic) == acl.DeniedTopic {
					Failf("no retained message from "+acl.DeniedTopic, "%s", packet.Summary(p, v))
				}
			}
		})

		It("does not deliver messages on a denied topic through a granted direct subscription", func() {
			Requirement("If the broker grants a subscription to a topic the subscriber may not read, it still delivers nothing on it.")
			acl := AuthACL()
			writer := AuthWriter()
			c := Login(v, acl.User, Named("reader"))
			markerTopic := ACLTopic("marker")
			sa := c.Subscribe(packet.Subscription{Filter: acl.DeniedTopic, QoS: 1}, packet.Subscription{Filter: markerTopic, QoS: 1})
			if len(sa.ReasonCodes) != 2 || sa.ReasonCodes[1].IsError() {
				Failf("two SUBACK codes, the second granting "+markerTopic, "%v", sa.ReasonCodes)
			}
			if sa.ReasonCodes[0].IsError() {
				Note("the broker refused the subscription (%s): nothing can be delivered on it", sa.ReasonCodes[0])
			}
			w := Login(v, writer, Named("writer"))
			w.Publish(acl.DeniedTopic, UniquePayload("secret"), 1, false)
			marker := UniquePayload("marker")
			w.Publish(markerTopic, marker, 1, false)
			for _, p := range ReceiveUntilMarker(c, string(marker), 64) {
				if string(p.Topic) == acl.DeniedTopic {
					Failf("no message on "+acl.DeniedTopic, "%s", packet.Summary(p, v))
				}
			}
		})

		It("grants a subscription to a read-only topic and delivers its messages", func() {
			Requirement("A topic the ACL lets the user read but not write can be subscribed to, and messages others publish there are delivered.")
			acl := AuthACL()
			c := Login(v, acl.User, Named("reader"))
			sa := c.Subscribe(packet.Subscription{Filter: acl.ReadOnlyTopic, QoS: 1})
			if len(sa.ReasonCodes) != 1 || sa.ReasonCodes[0].IsError() {
				Failf("the subscription to "+acl.ReadOnlyTopic+" granted", "SUBACK codes %v", sa.ReasonCodes)
			}
			if acl.Writer == nil {
				Note("the target's ACL fixture names no writer: only the subscription was checked, not the delivery")
				return
			}
			payload := UniquePayload("readable")
			w := Login(v, *acl.Writer, Named("writer"))
			w.Publish(acl.ReadOnlyTopic, payload, 1, false)
			ReceiveUntilMarker(c, string(payload), 64)
		})
	})
})

var _ = Describe("Transport security", func() {
	ForVersions(func(v packet.Version) {
		It("admits a client presenting a valid certificate",
			Statement(v, S(v, "MQTT-3.1.4-4", "MQTT-3.1.4-5")), func() {
				Requirement("On a TLS endpoint that authenticates clients by certificate, a valid CONNECT from a client with a trusted certificate is accepted with CONNACK 0x00.")
				a := AuthSetup()
				if a.CertEndpoint == nil {
					Unsupported("the target declares no TLS endpoint taking client certificates")
				}
				c := NewClient(v, At(*a.CertEndpoint))
				if ca := c.Connect(&packet.Connect{CleanStart: true, KeepAlive: 60}); ca.ReasonCode != 0 {
					Failf(fmt.Sprintf("CONNACK 0x00 for the certificate of %q", a.CertUser), "CONNACK %s", ca.ReasonCode)
				}
			})

		It("refuses a TLS client without a certificate",
			Statement(v, S(v, "MQTT-3.2.2-5", "MQTT-3.1.4-2")), func() {
				Requirement("Where the certificate is the credential, a client without one fails authentication: the TLS handshake fails, or the server refuses the CONNECT and closes the connection.")
				a := AuthSetup()
				if a.CertEndpoint == nil || a.NoCertTLS == nil {
					Unsupported("the target declares no TLS endpoint requiring client certificates")
				}
				c, err := DialClient(v, At(brokers.Endpoint{URL: a.CertEndpoint.URL, TLS: a.NoCertTLS}))
				if err != nil {
					Observed("the TLS handshake failed: %v", err)
					return
				}
				c.Send(withClientID(v, &packet.Connect{CleanStart: true, KeepAlive: 60}))
				ExpectConnectRefused(c)
			})

		It("admits a client from an allowed source address",
			Statement(v, S(v, "MQTT-3.1.4-4", "MQTT-3.1.4-5")), func() {
				Requirement("On an endpoint restricted by source address, a valid CONNECT from an allowed address is accepted with CONNACK 0x00.")
				a := AuthSetup()
				if a.RestrictedEndpoint == nil || a.AllowedSource == "" {
					Unsupported("the target declares no endpoint restricted by source address")
				}
				c := authDialFrom(v, *a.RestrictedEndpoint, a.AllowedSource)
				if c == nil {
					Failf("a connection from "+a.AllowedSource, "the broker refused it")
				}
				if ca := c.Connect(LoginConnect(AuthUser())); ca.ReasonCode != 0 {
					Failf("CONNACK 0x00 from the allowed source "+a.AllowedSource, "CONNACK %s", ca.ReasonCode)
				}
			})

		It("refuses a client from a denied source address",
			Statement(v, S(v, "MQTT-3.2.2-5", "MQTT-3.1.4-2")), func() {
				Requirement("On an endpoint restricted by source address, a client from a denied address never gets in: the connection is refused or closed, at most after a refusing CONNACK.")
				a := AuthSetup()
				if a.RestrictedEndpoint == nil || a.DeniedSource == "" {
					Unsupported("the target declares no endpoint restricted by source address")
				}
				c := authDialFrom(v, *a.RestrictedEndpoint, a.DeniedSource)
				if c == nil {
					Observed("the connection from %s was refused", a.DeniedSource)
					return
				}
				c.Send(withClientID(v, LoginConnect(AuthUser())))
				ExpectConnectRefused(c)
			})
	})
})

// authDialFrom connects to e from the local address ip; nil when the
// broker refused the connection. It marks the spec unsupported when this
// machine cannot use that source address.
func authDialFrom(v packet.Version, e brokers.Endpoint, ip string) *Client {
	GinkgoHelper()
	c, err := DialClient(v, At(e), From(ip))
	switch {
	case err == nil:
		return c
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		Unsupported("this machine cannot send from %s: %v", ip, err)
	}
	TraceNote("dial from %s: %v", ip, err)
	return nil
}
