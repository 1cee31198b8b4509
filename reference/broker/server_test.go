package broker

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mqttspec/mqttspec/reference/broker/auth"
	"github.com/mqttspec/mqttspec/reference/broker/certgen"
	"github.com/mqttspec/mqttspec/reference/packet"
)

// A configuration file as a user writes it: a plain listener with
// passwords, a TLS listener taking the certificate's CN as user name, and
// an ACL that applies to both.
func TestServerFromConfigFile(t *testing.T) {
	dir := t.TempDir()
	set, write := writeAuthFixture(t, dir)
	write("broker.yaml", `listeners:
  - {name: plain, kind: tcp, address: "127.0.0.1:0"}
  - name: secure
    kind: tls
    address: "127.0.0.1:0"
    use_identity_as_username: true
    tls: {cert: server.crt, key: server.key, ca: ca.crt, client_certs: require}
auth:
  password_file: passwd
  acl_file: acl
limits:
  max_packet_size: 4096
sys_interval: 0s
metrics: {address: "127.0.0.1:0"}
`)
	srv := startServerFromFile(t, filepath.Join(dir, "broker.yaml"))
	plain, secure := srv.Addrs()[0].String(), srv.Addrs()[1].String()

	bob := dialRaw(t, plain, packet.V5)
	ca := bob.connect(&packet.Connect{ClientID: "bob", CleanStart: true, Username: "bob", Password: []byte("s3cret")})
	if ca.ReasonCode != 0 || ca.Properties.MaximumPacketSize != 4096 {
		t.Fatalf("bob: %s, max packet %d", ca.ReasonCode, ca.Properties.MaximumPacketSize)
	}
	bob.subscribe(1, packet.Subscription{Filter: "Long-Home/#", QoS: 1})

	// alice authenticates with her certificate only.
	conf := set.CA.ClientConfig("127.0.0.1", set.Clients["alice"])
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: waitBound}, "tcp", secure, conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	alice := &raw{t: t, conn: conn, r: packet.NewReader(conn, packet.DecodeOptions{Version: packet.V5}), v: packet.V5}
	if ca := alice.connect(&packet.Connect{ClientID: "alice", CleanStart: true}); ca.ReasonCode != 0 {
		t.Fatalf("alice over TLS: %s", ca.ReasonCode)
	}
	alice.send(&packet.Publish{QoS: 1, PacketID: 1, Topic: []byte("Long-Home/Küche/Temperatur"), Payload: []byte("21.5")})
	if ack := alice.next().(*packet.Puback); ack.ReasonCode.IsError() {
		t.Fatalf("alice may write Long-Home/#: %s", ack.ReasonCode)
	}
	if got := bob.expectPublish(); string(got.Payload) != "21.5" {
		t.Fatalf("bob got %q", got.Payload)
	}
	// bob may only read.
	bob.send(&packet.Publish{QoS: 1, PacketID: 2, Topic: []byte("Long-Home/Küche/Temperatur"), Payload: []byte("99")})
	if ack, ok := bob.next().(*packet.Puback); !ok || ack.ReasonCode != packet.NotAuthorized {
		t.Fatal("bob's publish must be refused with 0x87")
	}
	// Without a certificate the TLS listener refuses the handshake.
	noCert := set.CA.ClientConfig("127.0.0.1")
	if c, err := tls.Dial("tcp", secure, noCert); err == nil {
		c.SetReadDeadline(time.Now().Add(waitBound))
		_, err = c.Read(make([]byte, 1))
		c.Close()
		if err == nil {
			t.Fatal("TLS without a client certificate was accepted")
		}
	}
}

func TestConfigFileErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"listeners: [{kind: tcp, address: x}]\nlimits: {max_packet_sise: 1}\n", "max_packet_sise"},
		{"listeners: [{address: 127.0.0.1:1883}]\n", "kind is required"},
		{"listeners: [{kind: tls, address: 127.0.0.1:8883}]\n", "needs a tls section"},
		{"features: {maximum_qos: 3}\n", "maximum_qos"},
		{"listeners: [{kind: tls, address: a, use_identity_as_username: true, tls: {cert: c, key: k}}]\n", "client_certs"},
	} {
		_, err := ParseConfig(strings.NewReader(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("config %q: error %v, want one mentioning %q", tc.yaml, err, tc.want)
		}
	}
}

// writeAuthFixture writes into dir certificates for the user alice (ca.crt,
// server.crt, server.key, alice's pair), a password file for bob (s3cret)
// and an ACL giving alice Long-Home/# read-write and bob read-only; write
// adds more files there.
func writeAuthFixture(t *testing.T, dir string) (set *certgen.Set, write func(name, content string)) {
	t.Helper()
	set, err := certgen.NewSet(nil, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := set.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	hash, err := auth.HashPassword([]byte("s3cret"), "")
	if err != nil {
		t.Fatal(err)
	}
	write = func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("passwd", "bob:"+hash+"\n")
	write("acl", "user alice\ntopic readwrite Long-Home/#\nuser bob\ntopic read Long-Home/#\n")
	return set, write
}

// startServerFromFile starts `mqttspec broker --config path` in this
// process and stops it when the test ends.
func startServerFromFile(t *testing.T, path string) *Server {
	t.Helper()
	fc, err := LoadConfigFile(path)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := StartServer(fc, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Close(ctx)
	})
	return srv
}
