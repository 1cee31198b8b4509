package brokers

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mqttspec/mqttspec/reference/broker/listener"
	"github.com/mqttspec/mqttspec/reference/packet"
)

// Target is a broker under test.
type Target struct {
	// Name says what it is, for reports: "reference (in-process)".
	Name string
	// Profile is the profile it was started from ("reference", "address").
	Profile string
	// BrokerVersion, when known.
	BrokerVersion string
	// Endpoint is where anonymous MQTT clients connect.
	Endpoint Endpoint
	// WebSocket, when set, is where anonymous clients reach the same broker
	// over MQTT-over-WebSocket (ws:// or wss://); the specs of section 6
	// (WebSocket transport) need it and are unsupported without it.
	WebSocket *Endpoint
	// Capabilities are what the target declares it supports; features it
	// lacks make their specs "unsupported" instead of failed.
	Capabilities Capabilities
	// Auth describes a second endpoint with authentication configured; nil
	// makes the authentication and authorisation specs unsupported.
	Auth *AuthSetup
	// Login, when set, is a user name and password the broker requires of
	// every client on Endpoint and WebSocket (a broker without anonymous
	// access): the specs' clients send it in each CONNECT that names no
	// user. Nil: clients connect anonymously.
	Login *Credential

	alive func(context.Context) error
	logs  func(context.Context) (string, error)
	close func(context.Context) error
	ctl   *containerHandle // container targets: Stop, Start, Pause (container.go)
}

// Endpoint is one way to reach the broker.
type Endpoint struct {
	// URL is tcp://host:port, ssl://host:port, ws://host:port/path or
	// wss://host:port/path.
	URL string
	// TLS is the client configuration for ssl:// and wss:// (trusted CAs,
	// server name, client certificate).
	TLS *tls.Config
}

// Capabilities a target declares.
type Capabilities struct {
	Versions                []packet.Version
	MaximumQoS              packet.QoS
	Retain                  bool
	Wildcards               bool
	SharedSubscriptions     bool
	SubscriptionIdentifiers bool
	TopicAliasMaximum       uint16
	EnhancedAuth            []string // MQTT 5 authentication methods
	// WillDelay and SessionExpiry report whether 5.0 timers are honoured.
	SessionExpiry bool
}

// FullCapabilities is what a complete MQTT 3.1.1 and 5.0 broker offers.
func FullCapabilities() Capabilities {
	return Capabilities{Versions: []packet.Version{packet.V311, packet.V5}, MaximumQoS: 2, Retain: true, Wildcards: true,
		SharedSubscriptions: true, SubscriptionIdentifiers: true, TopicAliasMaximum: 10, SessionExpiry: true}
}

// AuthSetup is what the authentication specs may rely on: an endpoint
// that refuses anonymous clients and the credentials it accepts.
type AuthSetup struct {
	Endpoint Endpoint
	Users    []Credential
	// ACL, when set, describes rights the specs can check.
	ACL *ACLSetup
	// CertEndpoint requires (or accepts) client certificates; CertTLS
	// carries a valid one whose Common Name is CertUser.
	CertEndpoint *Endpoint
	CertUser     string
	NoCertTLS    *tls.Config // the same trust, without a client certificate
	// RestrictedEndpoint admits only AllowedSource and refuses DeniedSource
	// (loopback addresses the specs bind to).
	RestrictedEndpoint          *Endpoint
	AllowedSource, DeniedSource string
	// EnhancedAuth lists the MQTT 5 enhanced authentication methods
	// (5.0 section 4.12) Endpoint offers to every user in Users; the specs
	// speak "SCRAM-SHA-256" (RFC 7677). Empty: password login only.
	EnhancedAuth []string
}

// Credential is a user name and password.
type Credential struct{ Username, Password string }

// ACLSetup names topics whose rights the ACL fixes for ACL.User.
type ACLSetup struct {
	User Credential
	// Prefix is a topic prefix (ending in '/') the user may read and write.
	Prefix string
	// DeniedTopic may be neither read nor written (it lies under Prefix, so
	// a wildcard subscription on Prefix must not leak it).
	DeniedTopic string
	// ReadOnlyTopic may be read but not written.
	ReadOnlyTopic string
	// Writer, when set, is a user (one of Users) who may read and write
	// every topic under Prefix, DeniedTopic and ReadOnlyTopic included: the
	// specs use it to put messages where User may not, and to see whether
	// User's refused messages got through.
	Writer *Credential
}

// Alive checks that the target still answers: a TCP connection and a
// CONNECT/CONNACK round trip within the timeout.
func (t *Target) Alive(ctx context.Context) error {
	if t.alive != nil {
		return t.alive(ctx)
	}
	return Probe(ctx, t.Endpoint)
}

// Logs returns the broker's logs, if the launcher can get them.
func (t *Target) Logs(ctx context.Context) (string, error) {
	if t.logs == nil {
		return "", errors.ErrUnsupported
	}
	return t.logs(ctx)
}

// Close stops what the launcher started (nothing for an address).
func (t *Target) Close(ctx context.Context) error {
	if t.close == nil {
		return nil
	}
	return t.close(ctx)
}

// Dial opens a network connection to an endpoint: TCP, TLS, or MQTT over
// WebSocket (ws://, wss://).
func Dial(ctx context.Context, e Endpoint, local net.Addr) (net.Conn, error) {
	u, err := url.Parse(e.URL)
	if err != nil {
		return nil, fmt.Errorf("endpoint %q: %w", e.URL, err)
	}
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: local}
	switch u.Scheme {
	case "tcp", "mqtt":
		return d.DialContext(ctx, "tcp", u.Host)
	case "ssl", "tls", "mqtts":
		td := &tls.Dialer{NetDialer: d, Config: e.TLS}
		return td.DialContext(ctx, "tcp", u.Host)
	case "ws", "wss":
		// MQTT over WebSocket: subprotocol "mqtt" (MQTT-6.0.0-3/-4), binary
		// messages read as one stream.
		wd := &websocket.Dialer{Subprotocols: []string{"mqtt"}, TLSClientConfig: e.TLS, HandshakeTimeout: 5 * time.Second,
			NetDialContext: d.DialContext}
		ws, resp, err := wd.DialContext(ctx, e.URL, nil)
		if err != nil {
			if resp != nil {
				return nil, fmt.Errorf("websocket %s: HTTP %s: %w", e.URL, resp.Status, err)
			}
			return nil, fmt.Errorf("websocket %s: %w", e.URL, err)
		}
		if ws.Subprotocol() != "mqtt" {
			ws.Close()
			return nil, fmt.Errorf("websocket %s: the server did not select the mqtt subprotocol", e.URL)
		}
		return listener.WebSocketConn(ws), nil
	}
	return nil, fmt.Errorf("endpoint %q: unknown scheme %q (want tcp, ssl, ws or wss)", e.URL, u.Scheme)
}

// Probe connects, sends a 3.1.1 CONNECT and waits for CONNACK.
func Probe(ctx context.Context, e Endpoint) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := Dial(ctx, e, nil)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	b, _ := packet.Encode(&packet.Connect{ProtocolVersion: packet.V311, ClientID: "mqttspec-probe", CleanStart: true}, packet.V311)
	if _, err := conn.Write(b); err != nil {
		return err
	}
	p, err := packet.NewReader(conn, packet.DecodeOptions{Version: packet.V311}).ReadPacket()
	if err != nil {
		return fmt.Errorf("no CONNACK: %w", err)
	}
	if _, ok := p.(*packet.Connack); !ok {
		return fmt.Errorf("answered CONNECT with %s", p.Type())
	}
	return nil
}

// FromURL is a target at an address the user gives: tcp://, ssl:// (with
// tlsConfig), ws:// or wss://. Its capabilities are assumed complete until
// CONNACK says otherwise; authentication specs are unsupported unless the
// caller fills Auth.
func FromURL(raw string, tlsConfig *tls.Config) (*Target, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("target %q: want a URL such as tcp://127.0.0.1:1883", raw)
	}
	switch strings.ToLower(u.Scheme) {
	case "tcp", "mqtt", "ssl", "tls", "mqtts", "ws", "wss":
	default:
		return nil, fmt.Errorf("target %q: unknown scheme %q (want tcp, ssl, ws or wss)", raw, u.Scheme)
	}
	t := &Target{Name: raw, Profile: "address", Endpoint: Endpoint{URL: raw, TLS: tlsConfig}, Capabilities: FullCapabilities()}
	if ws := strings.ToLower(u.Scheme); ws == "ws" || ws == "wss" {
		t.WebSocket = &Endpoint{URL: raw, TLS: tlsConfig}
	}
	return t, nil
}
