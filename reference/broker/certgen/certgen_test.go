package certgen_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/mqttspec/mqttspec/reference/broker/certgen"
)

func newCA(t *testing.T) *certgen.CA {
	t.Helper()
	ca, err := certgen.NewCA("test CA")
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func TestServerCertificateVerifiesForDefaultHosts(t *testing.T) {
	ca := newCA(t)
	srv, err := ca.Server()
	if err != nil {
		t.Fatal(err)
	}
	leaf := srv.Leaf
	if leaf == nil {
		t.Fatal("Leaf not set")
	}
	for _, host := range []string{"127.0.0.1", "::1", "localhost"} {
		opts := x509.VerifyOptions{Roots: ca.CertPool(), DNSName: host, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		if _, err := leaf.Verify(opts); err != nil {
			t.Errorf("verify for %s: %v", host, err)
		}
	}
	if err := leaf.VerifyHostname("example.com"); err == nil {
		t.Error("certificate covers example.com, which it was not issued for")
	}
	// A server certificate is no client certificate.
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: ca.CertPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Error("server certificate verified for client authentication")
	}
}

func TestServerCertificateForGivenHosts(t *testing.T) {
	ca := newCA(t)
	srv, err := ca.Server("broker.test", "10.1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.Leaf.Subject.CommonName; got != "broker.test" {
		t.Errorf("CN = %q", got)
	}
	if len(srv.Leaf.DNSNames) != 1 || len(srv.Leaf.IPAddresses) != 1 || !srv.Leaf.IPAddresses[0].Equal(net.ParseIP("10.1.2.3")) {
		t.Errorf("SANs = %v %v", srv.Leaf.DNSNames, srv.Leaf.IPAddresses)
	}
	if _, err := ca.Server("ok", ""); err == nil {
		t.Error("empty host accepted")
	}
}

func TestClientCertificate(t *testing.T) {
	ca := newCA(t)
	if _, err := ca.Client(""); err == nil {
		t.Error("empty common name accepted")
	}
	c, err := ca.Client("sensor-7")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Leaf.Subject.CommonName; got != "sensor-7" {
		t.Errorf("CN = %q", got)
	}
	if _, err := c.Leaf.Verify(x509.VerifyOptions{Roots: ca.CertPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("verify: %v", err)
	}
	other := newCA(t)
	if _, err := c.Leaf.Verify(x509.VerifyOptions{Roots: other.CertPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Error("verified against an unrelated CA")
	}
}

// A real mutual-TLS handshake in memory, the way listener uses the output.
func TestMutualTLSHandshake(t *testing.T) {
	ca := newCA(t)
	srv, _ := ca.Server()
	cli, _ := ca.Client("alice")
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	server := tls.Server(a, &tls.Config{Certificates: []tls.Certificate{srv}, ClientCAs: ca.CertPool(), ClientAuth: tls.RequireAndVerifyClientCert})
	client := tls.Client(b, ca.ClientConfig("localhost", cli))
	errc := make(chan error, 1)
	go func() { errc <- client.Handshake() }()
	if err := server.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	peers := server.ConnectionState().PeerCertificates
	if len(peers) == 0 || peers[0].Subject.CommonName != "alice" {
		t.Fatalf("peer certificates %v", peers)
	}
}

func TestPEMRoundTrip(t *testing.T) {
	ca := newCA(t)
	cli, _ := ca.Client("bob")
	certPEM := certgen.CertPEM(cli)
	keyPEM, err := certgen.KeyPEM(cli)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(keyPEM, []byte("-----BEGIN PRIVATE KEY-----")) {
		t.Errorf("key is not PKCS #8 PEM: %.40s", keyPEM)
	}
	pair, err := certgen.KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if pair.Leaf.Subject.CommonName != "bob" {
		t.Errorf("CN = %q", pair.Leaf.Subject.CommonName)
	}
	// The standard library reads the same bytes.
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Errorf("tls.X509KeyPair: %v", err)
	}
	other, _ := ca.Client("carol")
	otherKey, _ := certgen.KeyPEM(other)
	if _, err := certgen.KeyPair(certPEM, otherKey); err == nil {
		t.Error("mismatched key accepted")
	}

	caKey, err := ca.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	again, err := certgen.LoadCA(ca.CertPEM(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Cert.Equal(ca.Cert) {
		t.Error("reloaded CA differs")
	}
	// The reloaded CA signs certificates the original pool trusts.
	srv, err := again.Server()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Leaf.Verify(x509.VerifyOptions{Roots: ca.CertPool(), DNSName: "localhost"}); err != nil {
		t.Errorf("certificate from reloaded CA: %v", err)
	}
	if _, err := certgen.LoadCA(certPEM, keyPEM); err == nil {
		t.Error("leaf accepted as a CA")
	}
	if _, err := certgen.DecodeCertificates([]byte("not pem")); err == nil {
		t.Error("garbage decoded as certificates")
	}
	if _, err := certgen.DecodePrivateKey(certPEM); err == nil {
		t.Error("certificate decoded as a key")
	}
}

func TestWriteFiles(t *testing.T) {
	set, err := certgen.NewSet(nil, "alice", "../evil")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "tls")
	files, err := set.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]os.FileMode{"ca.crt": 0o644, "server.crt": 0o644, "server.key": 0o600,
		"client-alice.crt": 0o644, "client-alice.key": 0o600, "client-.._evil.crt": 0o644, "client-.._evil.key": 0o600}
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(want) {
		t.Errorf("wrote %d files, want %d", len(entries), len(want))
	}
	for name, perm := range want {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Error(err)
			continue
		}
		if st.Mode().Perm() != perm {
			t.Errorf("%s: mode %v, want %v", name, st.Mode().Perm(), perm)
		}
	}
	if files.Clients["alice"].Key != filepath.Join(dir, "client-alice.key") {
		t.Errorf("paths: %+v", files)
	}
	if _, err := tls.LoadX509KeyPair(files.ServerCert, files.ServerKey); err != nil {
		t.Error(err)
	}
	kf := files.Clients["alice"]
	if _, err := tls.LoadX509KeyPair(kf.Cert, kf.Key); err != nil {
		t.Error(err)
	}
	caPEM, _ := os.ReadFile(files.CA)
	if !bytes.Equal(caPEM, set.CA.CertPEM()) {
		t.Error("ca.crt differs from the CA")
	}

	// OpenSSL, which Mosquitto uses, accepts the chain in strict mode.
	if openssl, err := exec.LookPath("openssl"); err == nil {
		for _, leaf := range []string{files.ServerCert, kf.Cert} {
			out, err := exec.Command(openssl, "verify", "-x509_strict", "-CAfile", files.CA, leaf).CombinedOutput()
			if err != nil {
				t.Errorf("openssl verify %s: %v\n%s", filepath.Base(leaf), err, out)
			}
		}
	}
}

func BenchmarkNewSet(b *testing.B) {
	for b.Loop() {
		if _, err := certgen.NewSet(nil, "a"); err != nil {
			b.Fatal(err)
		}
	}
}
