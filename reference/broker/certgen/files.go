package certgen

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Set is the TLS material for one broker and its clients: a CA, a server
// certificate it signed and client certificates by Common Name. A Set is
// plain data; do not modify it from several goroutines at once.
type Set struct {
	CA      *CA
	Server  tls.Certificate
	Clients map[string]tls.Certificate
}

// NewSet creates a CA, a server certificate for hosts (DefaultHosts when
// nil) and one client certificate per Common Name in clients.
func NewSet(hosts []string, clients ...string) (*Set, error) {
	ca, err := NewCA("")
	if err != nil {
		return nil, err
	}
	srv, err := ca.Server(hosts...)
	if err != nil {
		return nil, err
	}
	s := &Set{CA: ca, Server: srv, Clients: map[string]tls.Certificate{}}
	for _, cn := range clients {
		if _, err := s.AddClient(cn); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// AddClient issues a client certificate for cn and records it in Clients.
func (s *Set) AddClient(cn string) (tls.Certificate, error) {
	c, err := s.CA.Client(cn)
	if err != nil {
		return tls.Certificate{}, err
	}
	if s.Clients == nil {
		s.Clients = map[string]tls.Certificate{}
	}
	s.Clients[cn] = c
	return c, nil
}

// Files are the paths WriteFiles wrote.
type Files struct {
	Dir        string
	CA         string // ca.crt
	ServerCert string // server.crt
	ServerKey  string // server.key
	// Clients maps each client Common Name to its client-<cn>.crt and .key.
	Clients map[string]KeyFiles
}

// KeyFiles is a certificate file and its private key file.
type KeyFiles struct {
	Cert, Key string
}

// WriteFiles writes the set as PEM files into dir, creating it if needed:
// ca.crt, server.crt, server.key and client-<cn>.crt / client-<cn>.key for
// every client. In file names, characters of cn other than ASCII letters,
// digits, '.', '-' and '_' become '_'. Certificates are mode 0644, keys
// 0600. The CA's key is not written.
func (s *Set) WriteFiles(dir string) (Files, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Files{}, fmt.Errorf("certgen: %w", err)
	}
	f := Files{
		Dir:        dir,
		CA:         filepath.Join(dir, "ca.crt"),
		ServerCert: filepath.Join(dir, "server.crt"),
		ServerKey:  filepath.Join(dir, "server.key"),
		Clients:    map[string]KeyFiles{},
	}
	if err := writeFile(f.CA, s.CA.CertPEM(), 0o644); err != nil {
		return Files{}, err
	}
	if err := writePair(f.ServerCert, f.ServerKey, s.Server); err != nil {
		return Files{}, err
	}
	used := map[string]string{}
	for cn, c := range s.Clients {
		base := "client-" + fileSafe(cn)
		if other, dup := used[base]; dup {
			return Files{}, fmt.Errorf("certgen: client names %q and %q map to the same file %s", other, cn, base)
		}
		used[base] = cn
		kf := KeyFiles{Cert: filepath.Join(dir, base+".crt"), Key: filepath.Join(dir, base+".key")}
		if err := writePair(kf.Cert, kf.Key, c); err != nil {
			return Files{}, err
		}
		f.Clients[cn] = kf
	}
	return f, nil
}

func writePair(certPath, keyPath string, c tls.Certificate) error {
	key, err := KeyPEM(c)
	if err != nil {
		return err
	}
	if err := writeFile(certPath, CertPEM(c), 0o644); err != nil {
		return err
	}
	return writeFile(keyPath, key, 0o600)
}

// writeFile writes data with exactly perm, also when the file existed with
// other permissions.
func writeFile(path string, data []byte, perm os.FileMode) error {
	if err := os.WriteFile(path, data, perm); err != nil {
		return fmt.Errorf("certgen: %w", err)
	}
	if err := os.Chmod(path, perm); err != nil {
		return fmt.Errorf("certgen: %w", err)
	}
	return nil
}

func fileSafe(s string) string {
	if s == "" || s == "." || s == ".." {
		return strings.Repeat("_", max(len(s), 1))
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}
