package certgen

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// DefaultHosts are the names a server certificate covers when Server is
// given none: the loopback addresses and localhost.
var DefaultHosts = []string{"127.0.0.1", "::1", "localhost"}

// Validity is how long generated certificates are valid. They also start
// an hour in the past so that a little clock skew between a test host and
// a container does not make them "not yet valid".
const Validity = 365 * 24 * time.Hour

const backdate = time.Hour

// CA is a certificate authority that signs server and client certificates.
// It is safe for concurrent use.
type CA struct {
	// Cert is the self-signed CA certificate.
	Cert *x509.Certificate
	// Key is the CA's private key.
	Key crypto.Signer
}

// NewCA creates a self-signed CA whose subject Common Name is name.
func NewCA(name string) (*CA, error) {
	if name == "" {
		name = "mqttspec test CA"
	}
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	tmpl, err := template(name, key.Public())
	if err != nil {
		return nil, err
	}
	tmpl.IsCA = true
	tmpl.BasicConstraintsValid = true
	tmpl.MaxPathLenZero = true // signs leaves only
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("certgen: create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("certgen: parse CA certificate: %w", err)
	}
	return &CA{Cert: cert, Key: key}, nil
}

// LoadCA rebuilds a CA from its PEM certificate and private key, for
// example to keep one CA across runs.
func LoadCA(certPEM, keyPEM []byte) (*CA, error) {
	certs, err := DecodeCertificates(certPEM)
	if err != nil {
		return nil, err
	}
	key, err := DecodePrivateKey(keyPEM)
	if err != nil {
		return nil, err
	}
	cert := certs[0]
	if !cert.IsCA {
		return nil, errors.New("certgen: certificate is not a CA")
	}
	if !publicKeysEqual(cert.PublicKey, key.Public()) {
		return nil, errors.New("certgen: private key does not match the CA certificate")
	}
	return &CA{Cert: cert, Key: key}, nil
}

// Server issues a server certificate for hosts, each a DNS name or an IP
// address; with no hosts it covers DefaultHosts. The subject Common Name is
// the first host. The returned certificate holds the leaf only (clients
// trust the CA directly) and has Leaf set.
func (ca *CA) Server(hosts ...string) (tls.Certificate, error) {
	if len(hosts) == 0 {
		hosts = DefaultHosts
	}
	return ca.issue(hosts[0], x509.ExtKeyUsageServerAuth, func(t *x509.Certificate) error {
		for _, h := range hosts {
			if h == "" {
				return errors.New("certgen: empty host name")
			}
			if ip := net.ParseIP(h); ip != nil {
				t.IPAddresses = append(t.IPAddresses, ip)
			} else {
				t.DNSNames = append(t.DNSNames, h)
			}
		}
		return nil
	})
}

// Client issues a client certificate whose subject Common Name is cn, the
// name a broker may take as the user name.
func (ca *CA) Client(cn string) (tls.Certificate, error) {
	if cn == "" {
		return tls.Certificate{}, errors.New("certgen: client certificate needs a common name")
	}
	return ca.issue(cn, x509.ExtKeyUsageClientAuth, nil)
}

// CertPool returns a pool holding only the CA certificate: use it as
// tls.Config.RootCAs on clients and ClientCAs on servers.
func (ca *CA) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return pool
}

// CertPEM returns the CA certificate in PEM form (the usual ca.crt).
func (ca *CA) CertPEM() []byte { return EncodeCertificates(ca.Cert) }

// KeyPEM returns the CA private key in PKCS #8 PEM form.
func (ca *CA) KeyPEM() ([]byte, error) { return EncodePrivateKey(ca.Key) }

// ClientConfig returns a TLS client configuration that trusts the CA and,
// when certs are given, presents them. serverName may be empty when the
// client dials an address the server certificate covers.
func (ca *CA) ClientConfig(serverName string, certs ...tls.Certificate) *tls.Config {
	return &tls.Config{RootCAs: ca.CertPool(), ServerName: serverName, Certificates: certs, MinVersion: tls.VersionTLS12}
}

func (ca *CA) issue(cn string, usage x509.ExtKeyUsage, adjust func(*x509.Certificate) error) (tls.Certificate, error) {
	key, err := newKey()
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl, err := template(cn, key.Public())
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{usage}
	tmpl.BasicConstraintsValid = true
	if adjust != nil {
		if err := adjust(tmpl); err != nil {
			return tls.Certificate{}, err
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("certgen: sign certificate for %q: %w", cn, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("certgen: parse certificate for %q: %w", cn, err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

func newKey() (*ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("certgen: generate key: %w", err)
	}
	return key, nil
}

// template fills what every certificate has: a random serial, the subject,
// the validity window and a subject key identifier (OpenSSL's strict mode
// wants one on leaves too; Go adds it only to CAs).
func template(cn string, pub crypto.PublicKey) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("certgen: serial number: %w", err)
	}
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("certgen: marshal public key: %w", err)
	}
	// RFC 5280 4.2.1.2 method 1 hashes the subjectPublicKey bit string;
	// hashing the whole SubjectPublicKeyInfo is just as unique, which is
	// all an identifier needs to be.
	ski := sha1.Sum(spki)
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"mqttspec"}},
		NotBefore:    now.Add(-backdate),
		NotAfter:     now.Add(Validity),
		SubjectKeyId: ski[:],
	}, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}
