package listener

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"
)

// Listener kinds.
const (
	KindTCP = "tcp" // MQTT over TCP
	KindTLS = "tls" // MQTT over TLS
	KindWS  = "ws"  // MQTT over WebSocket
	KindWSS = "wss" // MQTT over WebSocket over TLS
)

// Defaults.
const (
	DefaultWebSocketPath    = "/mqtt"
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultMaxPending       = 1024
)

// Config describes one listener.
type Config struct {
	// Name identifies the listener in logs and in ConnInfo. Default: Kind.
	Name string
	// Kind is "tcp", "tls", "ws" or "wss".
	Kind string
	// Address is the host:port to listen on; port 0 picks a free port.
	Address string
	// WebSocketPath is the HTTP path upgraded to MQTT over WebSocket (ws and
	// wss only). Default "/mqtt".
	WebSocketPath string
	// CheckOrigin, when set, decides whether a WebSocket upgrade request is
	// allowed from its Origin header. Nil allows every origin: MQTT
	// authenticates in CONNECT, not with browser cookies.
	CheckOrigin func(*http.Request) bool
	// TLS configures tls and wss listeners; it is required for them.
	TLS *TLSConfig
	// Allow and Deny are CIDR prefixes ("10.0.0.0/8") or single addresses
	// ("192.0.2.7") matched against the peer's IP address. A peer matching
	// Deny is refused; otherwise it is admitted when Allow is empty or
	// matches it.
	Allow, Deny []string
	// HandshakeTimeout bounds the TLS handshake and, for WebSocket, the
	// HTTP upgrade. Default 10 s.
	HandshakeTimeout time.Duration
	// MaxPending bounds connections still in their TLS handshake or
	// WebSocket upgrade; beyond it, new connections wait in the kernel's
	// backlog. Default 1024.
	MaxPending int
	// Logger receives refusals and handshake failures (addresses and
	// errors only). Nil discards them.
	Logger *slog.Logger
}

// Client certificate policies (TLSConfig.ClientCerts).
const (
	ClientCertsNone     = "none"     // not requested
	ClientCertsOptional = "optional" // verified when the client sends one
	ClientCertsRequire  = "require"  // required and verified
)

// TLSConfig is the TLS side of a tls or wss listener. Files and in-memory
// values are alternatives; in-memory values win when both are set.
type TLSConfig struct {
	// CertFile and KeyFile hold the server's PEM certificate chain and key.
	CertFile, KeyFile string
	// CAFile holds the PEM certificates that client certificates must chain
	// to (needed unless ClientCerts is "none").
	CAFile string
	// ClientCerts is "none" (default), "optional" or "require".
	ClientCerts string
	// Certificate replaces CertFile and KeyFile.
	Certificate *tls.Certificate
	// ClientCAs replaces CAFile.
	ClientCAs *x509.CertPool
	// MinVersion is "1.2" (default) or "1.3".
	MinVersion string
}

// build checks the configuration and fills in defaults.
func (cfg Config) build() (Config, error) {
	switch cfg.Kind {
	case KindTCP, KindTLS, KindWS, KindWSS:
	case "":
		return cfg, errors.New("listener: kind is required")
	default:
		return cfg, fmt.Errorf("listener: unknown kind %q (want tcp, tls, ws or wss)", cfg.Kind)
	}
	if cfg.Name == "" {
		cfg.Name = cfg.Kind
	}
	if cfg.Address == "" {
		return cfg, fmt.Errorf("listener %s: address is required", cfg.Name)
	}
	if cfg.WebSocketPath == "" {
		cfg.WebSocketPath = DefaultWebSocketPath
	}
	if cfg.WebSocketPath[0] != '/' {
		return cfg, fmt.Errorf("listener %s: websocket path %q must start with /", cfg.Name, cfg.WebSocketPath)
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = DefaultMaxPending
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	secure := cfg.Kind == KindTLS || cfg.Kind == KindWSS
	if secure && cfg.TLS == nil {
		return cfg, fmt.Errorf("listener %s: kind %s needs a TLS configuration", cfg.Name, cfg.Kind)
	}
	if !secure && cfg.TLS != nil {
		return cfg, fmt.Errorf("listener %s: kind %s takes no TLS configuration", cfg.Name, cfg.Kind)
	}
	return cfg, nil
}

// serverConfig turns a TLSConfig into a crypto/tls server configuration.
func (t *TLSConfig) serverConfig() (*tls.Config, error) {
	out := &tls.Config{MinVersion: tls.VersionTLS12}
	switch t.MinVersion {
	case "", "1.2":
	case "1.3":
		out.MinVersion = tls.VersionTLS13
	default:
		return nil, fmt.Errorf("TLS minimum version %q not supported (want 1.2 or 1.3)", t.MinVersion)
	}

	switch {
	case t.Certificate != nil:
		out.Certificates = []tls.Certificate{*t.Certificate}
	case t.CertFile != "" && t.KeyFile != "":
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("server certificate: %w", err)
		}
		out.Certificates = []tls.Certificate{cert}
	default:
		return nil, errors.New("a server certificate is required (Certificate, or CertFile and KeyFile)")
	}

	switch t.ClientCerts {
	case "", ClientCertsNone:
		out.ClientAuth = tls.NoClientCert
		return out, nil
	case ClientCertsOptional:
		out.ClientAuth = tls.VerifyClientCertIfGiven
	case ClientCertsRequire:
		out.ClientAuth = tls.RequireAndVerifyClientCert
	default:
		return nil, fmt.Errorf("client certificate policy %q not supported (want none, optional or require)", t.ClientCerts)
	}
	switch {
	case t.ClientCAs != nil:
		out.ClientCAs = t.ClientCAs
	case t.CAFile != "":
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client CA: no PEM certificate in %s", t.CAFile)
		}
		out.ClientCAs = pool
	default:
		return nil, fmt.Errorf("client certificates %q need a CA (ClientCAs or CAFile)", t.ClientCerts)
	}
	return out, nil
}
