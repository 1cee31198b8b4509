package certgen

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// EncodeCertificates returns certs as concatenated PEM "CERTIFICATE" blocks,
// in the order given (leaf first for a chain).
func EncodeCertificates(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// EncodePrivateKey returns key as a PKCS #8 "PRIVATE KEY" PEM block, which
// Go, OpenSSL (and so Mosquitto) and Java all read.
func EncodePrivateKey(key crypto.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("certgen: marshal private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// CertPEM returns the certificate chain of c as PEM.
func CertPEM(c tls.Certificate) []byte {
	var out []byte
	for _, der := range c.Certificate {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	return out
}

// KeyPEM returns the private key of c as PKCS #8 PEM.
func KeyPEM(c tls.Certificate) ([]byte, error) {
	if c.PrivateKey == nil {
		return nil, errors.New("certgen: certificate has no private key")
	}
	return EncodePrivateKey(c.PrivateKey)
}

// DecodeCertificates parses every "CERTIFICATE" block in data, skipping
// other block types. It fails when there is none.
func DecodeCertificates(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certgen: parse certificate: %w", err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("certgen: no PEM certificate found")
	}
	return certs, nil
}

// DecodePrivateKey parses the first private key block in data: PKCS #8
// ("PRIVATE KEY"), SEC 1 ("EC PRIVATE KEY") or PKCS #1 ("RSA PRIVATE KEY").
func DecodePrivateKey(data []byte) (crypto.Signer, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, errors.New("certgen: no PEM private key found")
		}
		var key any
		var err error
		switch block.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("certgen: parse %s: %w", block.Type, err)
		}
		s, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("certgen: %T is not a signing key", key)
		}
		return s, nil
	}
}

// KeyPair builds a tls.Certificate from PEM certificate chain and key, like
// tls.X509KeyPair but accepting what EncodePrivateKey and common tools
// write, and with Leaf set.
func KeyPair(certPEM, keyPEM []byte) (tls.Certificate, error) {
	certs, err := DecodeCertificates(certPEM)
	if err != nil {
		return tls.Certificate{}, err
	}
	key, err := DecodePrivateKey(keyPEM)
	if err != nil {
		return tls.Certificate{}, err
	}
	if !publicKeysEqual(certs[0].PublicKey, key.Public()) {
		return tls.Certificate{}, errors.New("certgen: private key does not match the certificate")
	}
	out := tls.Certificate{PrivateKey: key, Leaf: certs[0]}
	for _, c := range certs {
		out.Certificate = append(out.Certificate, c.Raw)
	}
	return out, nil
}
