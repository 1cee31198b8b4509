package brokers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"

	"github.com/mqttspec/mqttspec/reference/broker"
	"github.com/mqttspec/mqttspec/reference/broker/auth"
	"github.com/mqttspec/mqttspec/reference/broker/auth/scram"
	"github.com/mqttspec/mqttspec/reference/broker/certgen"
	"github.com/mqttspec/mqttspec/reference/broker/listener"
)

// ReferenceOptions adjust the in-process reference broker.
type ReferenceOptions struct {
	// Config is the open broker's configuration (zero: defaults).
	Config broker.Config
	// LogLevel of the captured broker logs (default debug).
	LogLevel slog.Level
}

// StartReference runs the reference broker in this process on loopback
// ports: an open broker for most specs, and a secured one for the
// authentication specs (password file users, an ACL, SCRAM-SHA-256 enhanced
// authentication for 5.0, a TLS listener that takes client certificates,
// and a listener that admits only 127.0.0.1).
func StartReference(ctx context.Context, opts ReferenceOptions) (*Target, error) {
	logs := newRingLog(256 << 10)
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: opts.LogLevel}))
	if opts.LogLevel == 0 {
		logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	var closers []func(context.Context) error
	fail := func(err error) (*Target, error) {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i](context.Background())
		}
		return nil, err
	}

	cfg := opts.Config
	cfg.Logger = logger.With("broker", "open")
	cfg.TopicAliasMaximum = max(cfg.TopicAliasMaximum, 10)
	open := broker.New(cfg)
	closers = append(closers, open.Shutdown)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	go open.Serve(ln)
	// The same broker over WebSocket, for the transport specs of section 6.
	wsLn, err := listener.Listen(listener.Config{Name: "websocket", Kind: listener.KindWS, Address: "127.0.0.1:0",
		WebSocketPath: "/mqtt", Logger: logger.With("listener", "websocket")})
	if err != nil {
		return fail(err)
	}
	go open.Serve(wsLn)

	sec, err := startSecured(logger.With("broker", "secured"))
	if err != nil {
		return fail(err)
	}
	closers = append(closers, sec.close)

	caps := FullCapabilities()
	caps.TopicAliasMaximum = cfg.TopicAliasMaximum
	t := &Target{
		Name: "reference (in-process)", Profile: "reference", BrokerVersion: broker.Version,
		Endpoint:     Endpoint{URL: "tcp://" + ln.Addr().String()},
		WebSocket:    &Endpoint{URL: "ws://" + wsLn.Addr().String() + "/mqtt"},
		Capabilities: caps,
		Auth:         sec.setup,
		logs:         func(context.Context) (string, error) { return logs.String(), nil },
	}
	t.close = func(ctx context.Context) error {
		var errs []error
		for i := len(closers) - 1; i >= 0; i-- {
			errs = append(errs, closers[i](ctx))
		}
		return errors.Join(errs...)
	}
	return t, nil
}

// The secured broker's fixtures.
var (
	refUser  = Credential{Username: "alice", Password: "correct horse"}
	refOther = Credential{Username: "bob", Password: "battery staple"}
)

// refWriter and writerACL: a user who may write where alice may not, for
// the specs that check what alice receives (DeniedTopic, ReadOnlyTopic).
var refWriter = Credential{Username: "carol", Password: "staple battery horse"}

const writerACL = `
user carol
topic readwrite mqttspec/acl/#
topic readwrite mqttspec/acl-readonly
`

type secured struct {
	setup *AuthSetup
	close func(context.Context) error
}

func startSecured(logger *slog.Logger) (*secured, error) {
	var lines []string
	// SCRAM-SHA-256 entries serve both a plain CONNECT password and MQTT 5
	// enhanced authentication (SCRAMAuth below).
	for _, u := range []Credential{refUser, refOther, refWriter} {
		h, err := auth.HashPassword([]byte(u.Password), auth.SchemeSCRAM)
		if err != nil {
			return nil, err
		}
		lines = append(lines, u.Username+":"+h)
	}
	pw, err := auth.ParsePasswords(strings.NewReader(strings.Join(lines, "\n")))
	if err != nil {
		return nil, err
	}
	acl, err := auth.ParseACL(strings.NewReader(referenceACL + writerACL))
	if err != nil {
		return nil, err
	}
	certs, err := certgen.NewSet(nil, refUser.Username)
	if err != nil {
		return nil, err
	}
	b := broker.New(broker.Config{Authenticator: pw, Authorizer: acl, Logger: logger,
		EnhancedAuth: []broker.EnhancedAuth{broker.SCRAMAuth(pw.SCRAM, nil)}})
	var lns []net.Listener
	closeAll := func(ctx context.Context) error {
		for _, ln := range lns {
			ln.Close()
		}
		return b.Shutdown(ctx)
	}
	listen := func(lc listener.Config, opts broker.ServeOptions) (net.Listener, error) {
		lc.Logger = logger
		ln, err := listener.Listen(lc)
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		go b.ServeWith(ln, opts)
		return ln, nil
	}
	plain, err := listen(listener.Config{Name: "auth", Kind: listener.KindTCP, Address: "127.0.0.1:0"}, broker.ServeOptions{})
	if err != nil {
		closeAll(context.Background())
		return nil, err
	}
	tlsLn, err := listen(listener.Config{Name: "certs", Kind: listener.KindTLS, Address: "127.0.0.1:0",
		TLS: &listener.TLSConfig{Certificate: &certs.Server, ClientCAs: certs.CA.CertPool(), ClientCerts: listener.ClientCertsRequire}},
		broker.ServeOptions{UseIdentityAsUsername: true})
	if err != nil {
		closeAll(context.Background())
		return nil, err
	}
	// The restricted listener binds every loopback address so that a client
	// bound to the denied source can reach it and be refused by the filter.
	restricted, err := listen(listener.Config{Name: "restricted", Kind: listener.KindTCP, Address: "127.0.0.1:0",
		Allow: []string{"127.0.0.1"}, Deny: []string{"127.0.0.2"}}, broker.ServeOptions{})
	if err != nil {
		closeAll(context.Background())
		return nil, err
	}
	setup := &AuthSetup{
		Endpoint: Endpoint{URL: "tcp://" + plain.Addr().String()},
		Users:    []Credential{refUser, refOther, refWriter},
		ACL: &ACLSetup{User: refUser, Prefix: "mqttspec/acl/", DeniedTopic: "mqttspec/acl/denied",
			ReadOnlyTopic: "mqttspec/acl-readonly", Writer: &refWriter},
		EnhancedAuth:       []string{scram.Mechanism},
		CertEndpoint:       &Endpoint{URL: "ssl://" + tlsLn.Addr().String(), TLS: certs.CA.ClientConfig("127.0.0.1", certs.Clients[refUser.Username])},
		CertUser:           refUser.Username,
		NoCertTLS:          certs.CA.ClientConfig("127.0.0.1"),
		RestrictedEndpoint: &Endpoint{URL: "tcp://" + restricted.Addr().String()},
		AllowedSource:      "127.0.0.1",
		DeniedSource:       "127.0.0.2",
	}
	return &secured{setup: setup, close: closeAll}, nil
}

// ringLog keeps the last bytes written to it: broker logs for reports.
type ringLog struct {
	mu   sync.Mutex
	buf  []byte
	size int
	cut  bool
}

func newRingLog(size int) *ringLog { return &ringLog{size: size} }

func (r *ringLog) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf = append(r.buf, p...)
	if over := len(r.buf) - r.size; over > 0 {
		r.buf = append(r.buf[:0], r.buf[over:]...)
		r.cut = true
	}
	return len(p), nil
}

func (r *ringLog) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cut {
		return fmt.Sprintf("[earlier logs cut]\n%s", r.buf)
	}
	return string(r.buf)
}
