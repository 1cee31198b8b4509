package broker

import (
	"crypto/tls"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mqttspec/mqttspec/reference/broker/auth"
	"github.com/mqttspec/mqttspec/reference/packet"
)

// aliceACL lets alice use Long-Home/Küche/# except Long-Home/Küche/secret,
// read Long-Home/status and write her own clients/<id>/state.
const aliceACL = `user alice
topic readwrite Long-Home/Küche/#
topic read Long-Home/status
topic deny Long-Home/Küche/secret
pattern write clients/%c/state
`

// aliceSecurity admits only alice (password s3cret) and applies aliceACL.
func aliceSecurity(t *testing.T) *Security {
	t.Helper()
	hash, err := auth.HashPassword([]byte("s3cret"), auth.SchemePBKDF2)
	if err != nil {
		t.Fatal(err)
	}
	pw, err := auth.ParsePasswords(strings.NewReader("alice:" + hash + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	acl, err := auth.ParseACL(strings.NewReader(aliceACL))
	if err != nil {
		t.Fatal(err)
	}
	return &Security{Authenticator: pw, Authorizer: acl}
}

// serveListeners serves b on one loopback listener per options, returning
// their addresses. Security is registered before any listener accepts, as
// StartServer does.
func serveListeners(t *testing.T, b *Broker, opts ...ServeOptions) []string {
	t.Helper()
	addrs := make([]string, len(opts))
	for i, o := range opts {
		if err := b.registerSecurity(o); err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go b.ServeWith(ln, o)
		addrs[i] = ln.Addr().String()
	}
	return addrs
}

// twoListeners serves one broker with an open listener (the broker-wide
// security: anonymous, no ACL) and a listener "secured" with its own
// security (aliceSecurity).
func twoListeners(t *testing.T) (open, secured string) {
	t.Helper()
	b, open := startBroker(t, Config{})
	addrs := serveListeners(t, b, ServeOptions{Name: "secured", Security: aliceSecurity(t)})
	return open, addrs[0]
}

// loginAlice connects alice through addr, failing the test on refusal.
func loginAlice(t *testing.T, addr string, v packet.Version, cp packet.Connect) *raw {
	t.Helper()
	c := dialRaw(t, addr, v)
	cp.Username, cp.Password, cp.KeepAlive = "alice", []byte("s3cret"), 30
	if ca := c.connect(&cp); ca.ReasonCode != 0 {
		t.Fatalf("alice %s: CONNACK %s", cp.ClientID, ca.ReasonCode)
	}
	return c
}

// publishAcked sends a QoS 1 PUBLISH and returns the PUBACK's code, after
// any deliveries that the client's own subscriptions brought first.
func (c *raw) publishAcked(id uint16, topic, payload string, retain bool) packet.ReasonCode {
	c.t.Helper()
	c.send(&packet.Publish{QoS: 1, PacketID: id, Retain: retain, Topic: []byte(topic), Payload: []byte(payload)})
	for {
		switch p := c.next().(type) {
		case *packet.Puback:
			if p.PacketID == id {
				return p.ReasonCode
			}
		case *packet.Publish:
			if p.QoS > 0 {
				c.send(&packet.Puback{PacketID: p.PacketID})
			}
		default:
			c.t.Fatalf("want PUBACK %d, got %s", id, p.Type())
		}
	}
}

// expectPayload reads the next PUBLISH and checks its topic and payload.
func (c *raw) expectPayload(topic, payload string) {
	c.t.Helper()
	got := c.expectPublish()
	if string(got.Topic) != topic || string(got.Payload) != payload {
		c.t.Fatalf("got %q on %q, want %q on %q", got.Payload, got.Topic, payload, topic)
	}
	if got.QoS > 0 {
		c.send(&packet.Puback{PacketID: got.PacketID})
	}
}

func TestListenerSecurityAuthentication(t *testing.T) {
	open, secured := twoListeners(t)
	for _, tc := range []struct {
		name string
		addr string
		v    packet.Version
		cp   packet.Connect
		want packet.ReasonCode
	}{
		{"secured v311 anonymous", secured, packet.V311, packet.Connect{}, packet.ConnRefusedNotAuthorized},
		{"secured v5 anonymous", secured, packet.V5, packet.Connect{}, packet.NotAuthorized},
		{"secured v5 wrong password", secured, packet.V5, packet.Connect{Username: "alice", Password: []byte("nope")}, packet.BadUserNameOrPassword},
		{"secured v311 alice", secured, packet.V311, packet.Connect{Username: "alice", Password: []byte("s3cret")}, 0},
		{"open v311 anonymous", open, packet.V311, packet.Connect{}, 0},
		{"open v5 anonymous", open, packet.V5, packet.Connect{}, 0},
		// The open listener has no password file: any name is accepted.
		{"open v5 unknown user", open, packet.V5, packet.Connect{Username: "mallory", Password: []byte("x")}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, tc.addr, tc.v)
			cp := tc.cp
			cp.ClientID, cp.CleanStart = "ls-"+strings.ReplaceAll(tc.name, " ", "-"), true
			ca := c.connect(&cp)
			if ca.ReasonCode != tc.want {
				t.Fatalf("CONNACK %s, want %s", ca.ReasonCode, tc.want)
			}
			if tc.want != 0 {
				c.expectClosed()
			} else {
				c.ping() // the connection stays usable
			}
		})
	}
}

func TestListenerSecurityACL(t *testing.T) {
	open, secured := twoListeners(t)
	const secret, temp = "Long-Home/Küche/secret", "Long-Home/Küche/Temperatur"

	// Subscriptions: the ACL refuses alice's wide filter on the secured
	// listener; the open listener grants the same filter to anyone.
	o := connectRaw(t, open, packet.V5, "ls-open", true)
	if sa := o.subscribe(1, packet.Subscription{Filter: "Long-Home/#", QoS: 1}); sa.ReasonCodes[0] != packet.GrantedQoS1 {
		t.Fatalf("open listener SUBACK %v, want granted QoS 1", sa.ReasonCodes)
	}
	a := loginAlice(t, secured, packet.V5, packet.Connect{ClientID: "ls-alice", CleanStart: true})
	sa := a.subscribe(1, packet.Subscription{Filter: "Long-Home/#", QoS: 1}, packet.Subscription{Filter: "Long-Home/Küche/#", QoS: 1})
	if sa.ReasonCodes[0] != packet.NotAuthorized || sa.ReasonCodes[1] != packet.GrantedQoS1 {
		t.Fatalf("secured listener SUBACK %v, want [0x87 0x01]", sa.ReasonCodes)
	}

	// Publishing to the denied topic: refused on the secured listener,
	// accepted on the open one.
	if code := a.publishAcked(2, secret, "from-alice", false); code != packet.NotAuthorized {
		t.Fatalf("alice's PUBLISH to %s: PUBACK %s, want 0x87", secret, code)
	}
	if code := o.publishAcked(2, secret, "from-open", false); code != packet.Success {
		t.Fatalf("open PUBLISH to %s: PUBACK %s, want 0x00", secret, code)
	}
	// Delivery: the open subscriber got the secret, alice did not; the
	// message after it is the sentinel.
	if code := o.publishAcked(3, temp, "21.5", false); code != packet.Success {
		t.Fatalf("open PUBLISH to %s: PUBACK %s", temp, code)
	}
	a.expectPayload(temp, "21.5")

	// Retained: the secret retained message reaches a new open subscriber
	// but not a new subscription of alice's.
	if code := o.publishAcked(4, secret, "kept", true); code != packet.Success {
		t.Fatalf("retained PUBLISH: PUBACK %s", code)
	}
	o2 := connectRaw(t, open, packet.V311, "ls-open2", true)
	o2.subscribe(1, packet.Subscription{Filter: "Long-Home/Küche/#", QoS: 1})
	o2.expectPayload(secret, "kept")
	a3 := loginAlice(t, secured, packet.V311, packet.Connect{ClientID: "ls-alice3", CleanStart: true})
	a3.subscribe(1, packet.Subscription{Filter: "Long-Home/Küche/#", QoS: 1})
	o.publishAcked(5, temp, "22.0", false)
	a3.expectPayload(temp, "22.0")

	// Offline: alice's session keeps the secured listener's rights while
	// no connection of hers is there.
	off := loginAlice(t, secured, packet.V5, packet.Connect{ClientID: "ls-offline", CleanStart: true,
		Properties: packet.Properties{SessionExpiry: 300}})
	off.subscribe(1, packet.Subscription{Filter: "Long-Home/Küche/#", QoS: 1})
	off.send(&packet.Disconnect{})
	off.expectClosed()
	o.publishAcked(6, secret, "while-offline", false)
	o.publishAcked(7, temp, "23.0", false)
	back := loginAlice(t, secured, packet.V5, packet.Connect{ClientID: "ls-offline"})
	back.expectPayload(temp, "23.0")
}

// A will passes the write check of the listener its client connected
// through, whichever listener the connection that ends it comes from.
func TestListenerSecurityWill(t *testing.T) {
	open, secured := twoListeners(t)
	const secret, temp = "Long-Home/Küche/secret", "Long-Home/Küche/Temperatur"
	obs := connectRaw(t, open, packet.V311, "ls-observer", true)
	obs.subscribe(1, packet.Subscription{Filter: "Long-Home/#", QoS: 1})

	withWill := func(id, topic, payload string) packet.Connect {
		return packet.Connect{ClientID: id, CleanStart: true,
			Will: &packet.Will{QoS: 1, Topic: topic, Payload: []byte(payload)}}
	}
	// A session takeover ends the first connection without DISCONNECT: its
	// will is handled before the new connection's CONNACK.
	takeOver := func(addr, id string) {
		t.Helper()
		connectRaw(t, addr, packet.V5, id, true)
	}

	// The open listener has no ACL: its client's will on the secret topic
	// is published.
	c := dialRaw(t, open, packet.V5)
	if ca := c.connect(ptr(withWill("ls-will-open", secret, "open-will"))); ca.ReasonCode != 0 {
		t.Fatalf("CONNACK %s", ca.ReasonCode)
	}
	takeOver(open, "ls-will-open")
	obs.expectPayload(secret, "open-will")

	// alice's will on the denied topic is dropped, even though the
	// connection taking over comes through the open listener.
	loginAlice(t, secured, packet.V5, withWill("ls-will-denied", secret, "denied-will"))
	takeOver(open, "ls-will-denied")
	// Her will on an allowed topic is published: the first message the
	// observer sees after the denied one.
	loginAlice(t, secured, packet.V5, withWill("ls-will-allowed", temp, "allowed-will"))
	loginAlice(t, secured, packet.V5, packet.Connect{ClientID: "ls-will-allowed", CleanStart: true})
	obs.expectPayload(temp, "allowed-will")
}

func ptr[T any](v T) *T { return &v }

// A session restored from persistence is held to its listener's security,
// found again by the listener's name; while that listener is not served,
// the session receives nothing.
func TestListenerSecurityRestoredSession(t *testing.T) {
	path := filepath.Join(t.TempDir(), "broker.db")
	const secret, temp = "Long-Home/Küche/secret", "Long-Home/Küche/Temperatur"
	start := func(withSecured bool) (b *Broker, open, secured string) {
		b, err := Open(Config{PersistencePath: path})
		if err != nil {
			t.Fatal(err)
		}
		opts := []ServeOptions{{}}
		if withSecured {
			opts = append(opts, ServeOptions{Name: "secured", Security: aliceSecurity(t)})
		}
		addrs := serveListeners(t, b, opts...)
		if withSecured {
			secured = addrs[1]
		}
		return b, addrs[0], secured
	}
	persistent := packet.Properties{SessionExpiry: 300}

	b, _, secured := start(true)
	a := loginAlice(t, secured, packet.V5, packet.Connect{ClientID: "ls-restored", CleanStart: true, Properties: persistent})
	a.subscribe(1, packet.Subscription{Filter: "Long-Home/Küche/#", QoS: 1})
	a.send(&packet.Disconnect{})
	a.expectClosed()
	shutdown(t, b)

	// Restarted with the secured listener: its ACL applies to the restored
	// session.
	b, open, secured := start(true)
	o := connectRaw(t, open, packet.V5, "ls-restored-pub", true)
	o.publishAcked(1, secret, "after-restart", false)
	o.publishAcked(2, temp, "20.0", false)
	a = loginAlice(t, secured, packet.V5, packet.Connect{ClientID: "ls-restored", Properties: persistent})
	a.expectPayload(temp, "20.0")
	a.send(&packet.Disconnect{})
	a.expectClosed()
	shutdown(t, b)

	// Restarted without it: even an allowed message is withheld.
	b, open, _ = start(false)
	o = connectRaw(t, open, packet.V5, "ls-restored-pub", true)
	o.publishAcked(1, temp, "withheld", false)
	shutdown(t, b)
	b, open, secured = start(true)
	t.Cleanup(func() { shutdown(t, b) })
	a = loginAlice(t, secured, packet.V5, packet.Connect{ClientID: "ls-restored", Properties: persistent})
	o = connectRaw(t, open, packet.V5, "ls-restored-pub", true)
	o.publishAcked(1, temp, "sentinel", false)
	a.expectPayload(temp, "sentinel")
}

// Enhanced authentication methods, and re-authentication, are those of
// the listener the client connected through.
func TestListenerSecurityEnhancedAuth(t *testing.T) {
	b, open := startBroker(t, Config{})
	secured := serveListeners(t, b, ServeOptions{Name: "challenge",
		Security: &Security{EnhancedAuth: []EnhancedAuth{challengeAuth{}}}})[0]
	method := []byte("test-challenge")
	begin := func(addr, id string) (*raw, packet.Packet) {
		c := dialRaw(t, addr, packet.V5)
		cp := &packet.Connect{ProtocolVersion: packet.V5, ClientID: id, CleanStart: true}
		cp.Properties.AuthMethod = method
		c.send(cp)
		return c, c.next()
	}
	if _, p := begin(open, "ls-ea-open"); p.Type() != packet.CONNACK || p.(*packet.Connack).ReasonCode != packet.BadAuthenticationMethod {
		t.Fatalf("open listener: want CONNACK 0x8C, got %s", packet.Summary(p, packet.V5))
	}
	answer := func(c *raw, p packet.Packet, want packet.Type) packet.Packet {
		t.Helper()
		if a, ok := p.(*packet.Auth); !ok || a.ReasonCode != packet.ContinueAuthentication {
			t.Fatalf("want AUTH 0x18, got %s", packet.Summary(p, packet.V5))
		}
		c.send(&packet.Auth{ReasonCode: packet.ContinueAuthentication, Properties: packet.Properties{AuthMethod: method, AuthData: []byte("nonce:secret")}})
		got := c.next()
		if got.Type() != want {
			t.Fatalf("want %s, got %s", want, packet.Summary(got, packet.V5))
		}
		return got
	}
	c, p := begin(secured, "ls-ea-secured")
	if ca := answer(c, p, packet.CONNACK).(*packet.Connack); ca.ReasonCode != 0 {
		t.Fatalf("secured listener: CONNACK %s", ca.ReasonCode)
	}
	c.send(&packet.Auth{ReasonCode: packet.ReAuthenticate, Properties: packet.Properties{AuthMethod: method}})
	if a := answer(c, c.next(), packet.AUTH).(*packet.Auth); a.ReasonCode != packet.Success {
		t.Fatalf("re-authentication: AUTH %s, want 0x00", a.ReasonCode)
	}
}

func TestServeWithConflictingListenerNames(t *testing.T) {
	b, _ := startBroker(t, Config{})
	serveListeners(t, b, ServeOptions{Name: "secured", Security: aliceSecurity(t)})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	err = b.ServeWith(ln, ServeOptions{Name: "secured", Security: &Security{AllowAnonymous: true}})
	if err == nil || !strings.Contains(err.Error(), `"secured"`) {
		t.Fatalf("ServeWith: %v, want an error naming the listener", err)
	}
}

// A configuration file with Mosquitto's per-listener layout: an open
// listener, a password listener and a TLS listener taking the certificate's
// CN as user name, the latter two with their own auth sections.
func TestServerPerListenerAuthFromConfigFile(t *testing.T) {
	dir := t.TempDir()
	set, write := writeAuthFixture(t, dir)
	write("broker.yaml", `listeners:
  - {name: open, kind: tcp, address: "127.0.0.1:0"}
  - name: auth
    kind: tcp
    address: "127.0.0.1:0"
    auth: {allow_anonymous: false, password_file: passwd, acl_file: acl}
  - name: certs
    kind: tls
    address: "127.0.0.1:0"
    use_identity_as_username: true
    tls: {cert: server.crt, key: server.key, ca: ca.crt, client_certs: require}
    auth: {allow_anonymous: false, password_file: passwd, acl_file: acl}
sys_interval: 0s
`)
	srv := startServerFromFile(t, filepath.Join(dir, "broker.yaml"))
	open, authAddr, certs := srv.Addrs()[0].String(), srv.Addrs()[1].String(), srv.Addrs()[2].String()

	// Open listener: anonymous, and no ACL.
	anon := connectRaw(t, open, packet.V5, "cf-anon", true)
	if code := anon.publishAcked(1, "elsewhere/x", "1", false); code != packet.NoMatchingSubscribers {
		t.Fatalf("anonymous PUBLISH on the open listener: PUBACK %s, want 0x10", code)
	}
	// Password listener: no anonymous clients; bob may only read.
	refused := dialRaw(t, authAddr, packet.V5)
	if ca := refused.connect(&packet.Connect{ClientID: "cf-anon2", CleanStart: true}); ca.ReasonCode != packet.NotAuthorized {
		t.Fatalf("anonymous CONNECT on the auth listener: CONNACK %s, want 0x87", ca.ReasonCode)
	}
	bob := dialRaw(t, authAddr, packet.V5)
	if ca := bob.connect(&packet.Connect{ClientID: "cf-bob", CleanStart: true, Username: "bob", Password: []byte("s3cret")}); ca.ReasonCode != 0 {
		t.Fatalf("bob: CONNACK %s", ca.ReasonCode)
	}
	bob.subscribe(1, packet.Subscription{Filter: "Long-Home/#", QoS: 1})
	if code := bob.publishAcked(2, "Long-Home/x", "1", false); code != packet.NotAuthorized {
		t.Fatalf("bob's PUBLISH: PUBACK %s, want 0x87", code)
	}
	// TLS listener: alice by certificate, held to the ACL.
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: waitBound}, "tcp", certs, set.CA.ClientConfig("127.0.0.1", set.Clients["alice"]))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	alice := &raw{t: t, conn: conn, r: packet.NewReader(conn, packet.DecodeOptions{Version: packet.V5}), v: packet.V5}
	if ca := alice.connect(&packet.Connect{ClientID: "cf-alice", CleanStart: true}); ca.ReasonCode != 0 {
		t.Fatalf("alice over TLS: CONNACK %s", ca.ReasonCode)
	}
	if code := alice.publishAcked(1, "elsewhere/x", "1", false); code != packet.NotAuthorized {
		t.Fatalf("alice's PUBLISH outside her ACL: PUBACK %s, want 0x87", code)
	}
	if code := alice.publishAcked(2, "Long-Home/Küche/Temperatur", "21.5", false); code != packet.Success {
		t.Fatalf("alice's PUBLISH in her ACL: PUBACK %s, want 0x00", code)
	}
	bob.expectPayload("Long-Home/Küche/Temperatur", "21.5")
}

func TestConfigFileListenerAuthErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"listeners: [{kind: tcp, address: a, auth: {password_fil: x}}]\n", "password_fil"},
		{"listeners: [{kind: tcp, address: a, auth: {scram: true}}]\n", "listeners[0] (a): auth.scram needs a password_file"},
		{"listeners: [{name: x, kind: tcp, address: a, auth: {}}, {name: x, kind: tcp, address: b, auth: {}}]\n", `both named "x"`},
	} {
		_, err := ParseConfig(strings.NewReader(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("config %q: error %v, want one mentioning %q", tc.yaml, err, tc.want)
		}
	}
	// Files that cannot be read are named with the listener they belong to.
	dir := t.TempDir()
	for _, tc := range []struct{ yaml, want string }{
		{"listeners: [{kind: tcp, address: a}, {kind: tcp, address: b, auth: {password_file: missing}}]\n", "listeners[1].auth.password_file"},
		{"listeners: [{kind: tcp, address: a, auth: {acl_file: missing}}]\n", "listeners[0].auth.acl_file"},
	} {
		path := filepath.Join(dir, "broker.yaml")
		if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		fc, err := LoadConfigFile(path)
		if err != nil {
			t.Fatalf("config %q: %v", tc.yaml, err)
		}
		if _, err := fc.ListenerSecurities(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("config %q: error %v, want one mentioning %q", tc.yaml, err, tc.want)
		}
		if _, err := StartServer(fc, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("StartServer with %q: error %v, want one mentioning %q", tc.yaml, err, tc.want)
		}
	}
}
