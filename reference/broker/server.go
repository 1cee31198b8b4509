package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/mqttspec/mqttspec/reference/broker/listener"
)

// ServeOptions are per-listener settings for ServeWith.
type ServeOptions struct {
	// Name identifies the listener. A session remembers it, and keeps it
	// across a restart with persistence, so that a restored session is
	// held to the rights of the listener its client last connected through.
	// Until a listener of that name with its own Security is served (or
	// forever, for an unnamed one), such a restored session receives
	// nothing: it fails closed rather than fall back to the broker-wide
	// rights.
	Name string
	// Security, when set, replaces the broker-wide security of Config for
	// clients of this listener: who may connect, with which enhanced
	// authentication, and what they may publish, subscribe to and receive.
	// Listeners sharing a Name must share the same *Security.
	Security *Security
	// UseIdentityAsUsername takes the user name from the client
	// certificate's Common Name instead of CONNECT; such a client needs no
	// password. Connections without a certificate authenticate normally.
	UseIdentityAsUsername bool
}

// Server is a broker with its listeners and metrics endpoint, as
// `mqttspec broker` runs it.
type Server struct {
	Broker    *Broker
	listeners []net.Listener
	metrics   *http.Server
	metricsLn net.Listener
	errs      chan error
}

// StartServer opens the broker (restoring persisted state), its listeners
// and its metrics endpoint. On error nothing is left running.
func StartServer(fc *FileConfig, logger *slog.Logger) (*Server, error) {
	cfg, err := fc.BrokerConfig()
	if err != nil {
		return nil, err
	}
	secs, err := fc.ListenerSecurities()
	if err != nil {
		return nil, err
	}
	cfg.Logger = logger
	b, err := Open(cfg)
	if err != nil {
		return nil, err
	}
	s := &Server{Broker: b, errs: make(chan error, len(fc.Listeners)+1)}
	fail := func(err error) (*Server, error) {
		s.Close(context.Background())
		return nil, err
	}
	if len(fc.Listeners) == 0 {
		return fail(errors.New("no listener configured"))
	}
	lcs := fc.ListenerConfigs()
	opts := make([]ServeOptions, len(lcs))
	for i, lc := range lcs {
		opts[i] = ServeOptions{Name: lc.Name, Security: secs[i], UseIdentityAsUsername: fc.Listeners[i].UseIdentityAsUsername}
		// Known before any listener accepts, so that a restored session
		// of one listener is never judged before its security is known.
		if err := b.registerSecurity(opts[i]); err != nil {
			return fail(err)
		}
	}
	for i, lc := range lcs {
		lc.Logger = logger
		ln, err := listener.Listen(lc)
		if err != nil {
			return fail(err)
		}
		s.listeners = append(s.listeners, ln)
		go func() { s.errs <- b.ServeWith(ln, opts[i]) }()
		logger.Info("listener ready", "name", lc.Name, "kind", lc.Kind, "addr", ln.Addr().String())
	}
	if addr := fc.Metrics.Address; addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fail(fmt.Errorf("metrics: %w", err))
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", b.MetricsHandler())
		s.metrics = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		s.metricsLn = ln
		go func() {
			if err := s.metrics.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.errs <- fmt.Errorf("metrics: %w", err)
			}
		}()
		logger.Info("metrics ready", "addr", "http://"+ln.Addr().String()+"/metrics")
	}
	return s, nil
}

// Addrs returns the listeners' addresses, in configuration order.
func (s *Server) Addrs() []net.Addr {
	out := make([]net.Addr, len(s.listeners))
	for i, ln := range s.listeners {
		out[i] = ln.Addr()
	}
	return out
}

// MetricsAddr is the metrics endpoint's address, nil when off.
func (s *Server) MetricsAddr() net.Addr {
	if s.metricsLn == nil {
		return nil
	}
	return s.metricsLn.Addr()
}

// Errors reports a listener that stopped serving for a reason other than
// Close.
func (s *Server) Errors() <-chan error { return s.errs }

// Close shuts the broker down (saving persisted state) and stops the
// metrics endpoint.
func (s *Server) Close(ctx context.Context) error {
	if s.metrics != nil {
		s.metrics.Shutdown(ctx)
	}
	for _, ln := range s.listeners {
		ln.Close()
	}
	return s.Broker.Shutdown(ctx)
}
