package broker

import (
	"strings"
	"testing"

	"github.com/mqttspec/mqttspec/reference/broker/auth"
	"github.com/mqttspec/mqttspec/reference/broker/auth/scram"

	"github.com/mqttspec/mqttspec/reference/packet"
)

// challengeAuth is a two-step test method: the server sends "nonce", the
// client must answer "nonce:secret".
type challengeAuth struct{}

func (challengeAuth) Method() string { return "test-challenge" }
func (challengeAuth) Start(string) AuthConversation {
	return &challengeConv{}
}

type challengeConv struct{ sent bool }

func (c *challengeConv) Step(data []byte) ([]byte, bool, string, error) {
	if !c.sent {
		c.sent = true
		return []byte("nonce"), false, "", nil
	}
	if string(data) != "nonce:secret" {
		return nil, false, "", ErrBadCredentials
	}
	return []byte("welcome"), true, "alice", nil
}

func TestEnhancedAuthentication(t *testing.T) {
	_, addr := startBroker(t, Config{EnhancedAuth: []EnhancedAuth{challengeAuth{}}})
	connectWith := func(method, answer string) (*raw, packet.Packet) {
		c := dialRaw(t, addr, packet.V5)
		cp := &packet.Connect{ProtocolVersion: packet.V5, ClientID: "ea", CleanStart: true}
		cp.Properties.AuthMethod = []byte(method)
		c.send(cp)
		p := c.next()
		if a, ok := p.(*packet.Auth); ok {
			if a.ReasonCode != packet.ContinueAuthentication || string(a.Properties.AuthData) != "nonce" {
				t.Fatalf("AUTH %+v", a)
			}
			c.send(&packet.Auth{ReasonCode: packet.ContinueAuthentication, Properties: packet.Properties{AuthMethod: []byte(method), AuthData: []byte(answer)}})
			p = c.next()
		}
		return c, p
	}
	c, p := connectWith("test-challenge", "nonce:secret")
	ca, ok := p.(*packet.Connack)
	if !ok || ca.ReasonCode != 0 || string(ca.Properties.AuthData) != "welcome" || string(ca.Properties.AuthMethod) != "test-challenge" {
		t.Fatalf("want CONNACK 0 with final data, got %+v", p)
	}
	// Re-authentication.
	c.send(&packet.Auth{ReasonCode: packet.ReAuthenticate, Properties: packet.Properties{AuthMethod: []byte("test-challenge")}})
	if a, ok := c.next().(*packet.Auth); !ok || a.ReasonCode != packet.ContinueAuthentication {
		t.Fatal("re-authentication: want AUTH 0x18")
	}
	c.send(&packet.Auth{ReasonCode: packet.ContinueAuthentication, Properties: packet.Properties{AuthMethod: []byte("test-challenge"), AuthData: []byte("nonce:secret")}})
	if a, ok := c.next().(*packet.Auth); !ok || a.ReasonCode != packet.Success {
		t.Fatal("re-authentication: want AUTH 0x00")
	}

	_, p = connectWith("test-challenge", "nonce:wrong")
	if ca, ok := p.(*packet.Connack); !ok || ca.ReasonCode != packet.BadUserNameOrPassword {
		t.Fatalf("wrong answer: want CONNACK 0x86, got %+v", p)
	}
	_, p = connectWith("UNKNOWN", "")
	if ca, ok := p.(*packet.Connack); !ok || ca.ReasonCode != packet.BadAuthenticationMethod {
		t.Fatalf("unknown method: want CONNACK 0x8C, got %+v", p)
	}
}

func TestSCRAMEnhancedAuthentication(t *testing.T) {
	hash, err := auth.HashPassword([]byte("pencil"), auth.SchemeSCRAM)
	if err != nil {
		t.Fatal(err)
	}
	pw, err := auth.ParsePasswords(strings.NewReader("user:" + hash + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, addr := startBroker(t, Config{Authenticator: pw, EnhancedAuth: []EnhancedAuth{SCRAMAuth(pw.SCRAM, []byte("k"))}})
	for _, tc := range []struct {
		password string
		want     packet.ReasonCode
	}{{"pencil", packet.Success}, {"crayon", packet.BadUserNameOrPassword}} {
		cl := scram.NewClient("user", tc.password, nil)
		c := dialRaw(t, addr, packet.V5)
		cp := &packet.Connect{ProtocolVersion: packet.V5, ClientID: "scram-" + tc.password, CleanStart: true}
		cp.Properties.AuthMethod, cp.Properties.AuthData = []byte(scram.Mechanism), cl.First()
		c.send(cp)
		a, ok := c.next().(*packet.Auth)
		if !ok || a.ReasonCode != packet.ContinueAuthentication {
			t.Fatal("want AUTH 0x18 with server-first")
		}
		final, err := cl.Final(a.Properties.AuthData)
		if err != nil {
			t.Fatal(err)
		}
		c.send(&packet.Auth{ReasonCode: packet.ContinueAuthentication, Properties: packet.Properties{AuthMethod: []byte(scram.Mechanism), AuthData: final}})
		ca, ok := c.next().(*packet.Connack)
		if !ok || ca.ReasonCode != tc.want {
			t.Fatalf("password %q: want CONNACK %s, got %+v", tc.password, tc.want, ca)
		}
		if tc.want == packet.Success {
			if err := cl.Verify(ca.Properties.AuthData); err != nil {
				t.Fatalf("server signature: %v", err)
			}
		}
	}
}

// The AUTH packets of the exchange are read into the buffer the CONNECT
// was decoded from: the will and the method must survive them intact.
func TestEnhancedAuthKeepsConnectData(t *testing.T) {
	_, addr := startBroker(t, Config{EnhancedAuth: []EnhancedAuth{challengeAuth{}}})
	obs := connectRaw(t, addr, packet.V5, "ea-observer", true)
	obs.subscribe(1, packet.Subscription{Filter: "ea/will", QoS: 1})

	method := []byte("test-challenge")
	c := dialRaw(t, addr, packet.V5)
	cp := &packet.Connect{ProtocolVersion: packet.V5, ClientID: "ea-client-with-a-longer-identifier", CleanStart: true,
		Will: &packet.Will{QoS: 1, Topic: "ea/will", Payload: []byte("will payload, intact"),
			Properties: packet.Properties{ContentType: []byte("text/plain")}},
		Password: []byte(strings.Repeat("p", 400))}
	cp.Properties.AuthMethod = method
	c.send(cp)
	if a, ok := c.next().(*packet.Auth); !ok || a.ReasonCode != packet.ContinueAuthentication {
		t.Fatal("want AUTH 0x18")
	}
	// A user property makes this AUTH long enough to overwrite the will in
	// a reused buffer (the CONNECT's password keeps the buffer larger).
	c.send(&packet.Auth{ReasonCode: packet.ContinueAuthentication,
		Properties: packet.Properties{AuthMethod: method, AuthData: []byte("nonce:secret"),
			User: []packet.UserProperty{{Key: []byte("padding"), Value: []byte(strings.Repeat("x", 200))}}}})
	ca, ok := c.next().(*packet.Connack)
	if !ok || ca.ReasonCode != 0 || string(ca.Properties.AuthMethod) != string(method) {
		t.Fatalf("want CONNACK 0x00 naming %q, got %+v", method, ca)
	}
	c.conn.Close() // without DISCONNECT: the will is published
	w := obs.expectPublish()
	if string(w.Payload) != "will payload, intact" || string(w.Properties.ContentType) != "text/plain" {
		t.Fatalf("will %q (content type %q), want the CONNECT's", w.Payload, w.Properties.ContentType)
	}
}
