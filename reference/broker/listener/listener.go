package listener

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Listen opens the listener cfg describes. Its Accept returns connections
// that implement Identified and carry raw MQTT bytes whatever the kind; a
// TLS handshake or WebSocket upgrade has completed before Accept returns the
// connection, and runs in its own goroutine so a slow client never holds up
// the others. Peers refused by the IP filter are closed before anything is
// read from them. After Close, Accept returns an error satisfying
// errors.Is(err, net.ErrClosed).
func Listen(cfg Config) (net.Listener, error) {
	cfg, err := cfg.build()
	if err != nil {
		return nil, err
	}
	filter, err := newIPFilter(cfg.Allow, cfg.Deny)
	if err != nil {
		return nil, fmt.Errorf("listener %s: %w", cfg.Name, err)
	}
	var tlsConf *tls.Config
	if cfg.TLS != nil {
		if tlsConf, err = cfg.TLS.serverConfig(); err != nil {
			return nil, fmt.Errorf("listener %s: %w", cfg.Name, err)
		}
	}
	raw, err := net.Listen("tcp", cfg.Address)
	if err != nil {
		return nil, fmt.Errorf("listener %s: %w", cfg.Name, err)
	}
	var inner net.Listener = raw
	if filter != nil {
		inner = &filterListener{Listener: raw, f: filter, name: cfg.Name, log: cfg.Logger}
	}
	switch cfg.Kind {
	case KindTCP:
		return &tcpListener{inner: inner, cfg: cfg}, nil
	case KindTLS:
		return newTLSListener(inner, cfg, tlsConf), nil
	default:
		return newWSListener(inner, cfg, tlsConf), nil
	}
}

// tcpListener hands out plain TCP connections directly.
type tcpListener struct {
	inner net.Listener
	cfg   Config
}

func (l *tcpListener) Accept() (net.Conn, error) {
	c, err := acceptRetry(l.inner, nil, l.cfg)
	if err != nil {
		return nil, err
	}
	return &tcpConn{Conn: c, info: ConnInfo{Listener: l.cfg.Name, Kind: l.cfg.Kind, Remote: c.RemoteAddr()}}, nil
}

func (l *tcpListener) Close() error   { return l.inner.Close() }
func (l *tcpListener) Addr() net.Addr { return l.inner.Addr() }

// acceptRetry accepts from ln, waiting out temporary failures such as
// running out of file descriptors (as net/http does) instead of giving up
// on the listener. stop, when closed, ends the wait.
func acceptRetry(ln net.Listener, stop <-chan struct{}, cfg Config) (net.Conn, error) {
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err == nil {
			return c, nil
		}
		var tmp interface{ Temporary() bool }
		if errors.Is(err, net.ErrClosed) || !errors.As(err, &tmp) || !tmp.Temporary() {
			return nil, err
		}
		backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
		cfg.Logger.Warn("accept failed; retrying", "listener", cfg.Name, "err", err.Error(), "in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-stop:
			t.Stop()
			return nil, err
		}
	}
}

// chanListener is the listener for kinds whose connections need a
// handshake first (tls, ws, wss): goroutines complete it and hand ready
// connections to Accept through a channel.
type chanListener struct {
	cfg   Config
	inner net.Listener
	log   *slog.Logger

	conns   chan net.Conn
	pending chan struct{} // a token per connection still in its handshake
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	once    sync.Once
	done    chan struct{} // closed when the listener stops
	err     error         // why it stopped; written before done is closed
	onClose func()
}

func newChanListener(inner net.Listener, cfg Config) *chanListener {
	ctx, cancel := context.WithCancel(context.Background())
	return &chanListener{cfg: cfg, inner: inner, log: cfg.Logger, conns: make(chan net.Conn),
		pending: make(chan struct{}, cfg.MaxPending), ctx: ctx, cancel: cancel, done: make(chan struct{})}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case <-l.done:
		return nil, l.err
	default:
	}
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, l.err
	}
}

func (l *chanListener) Addr() net.Addr { return l.inner.Addr() }

// Close stops accepting, aborts handshakes in progress and waits for the
// goroutines that ran them. Connections already accepted stay open.
func (l *chanListener) Close() error {
	err := l.stop(&net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: net.ErrClosed})
	l.wg.Wait()
	return err
}

// stop ends the listener once, recording err for Accept.
func (l *chanListener) stop(err error) error {
	var closeErr error
	l.once.Do(func() {
		l.err = err
		close(l.done)
		l.cancel()
		if l.onClose != nil {
			l.onClose()
		}
		if cerr := l.inner.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			closeErr = cerr
		}
	})
	return closeErr
}

// deliver hands a ready connection to Accept, or closes it if the listener
// stops first.
func (l *chanListener) deliver(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.done:
		c.Close()
	}
}

// acquire takes a pending-handshake token, waiting while MaxPending
// handshakes run; false means the listener stopped.
func (l *chanListener) acquire() bool {
	select {
	case l.pending <- struct{}{}:
		return true
	case <-l.done:
		return false
	}
}

func (l *chanListener) release() {
	select {
	case <-l.pending:
	default:
	}
}

func newTLSListener(inner net.Listener, cfg Config, conf *tls.Config) net.Listener {
	l := newChanListener(inner, cfg)
	l.wg.Add(1)
	go l.acceptTLS(conf)
	return l
}

func (l *chanListener) acceptTLS(conf *tls.Config) {
	defer l.wg.Done()
	for {
		c, err := acceptRetry(l.inner, l.done, l.cfg)
		if err != nil {
			l.stop(err)
			return
		}
		if !l.acquire() {
			c.Close()
			return
		}
		l.wg.Add(1)
		go l.handshake(c, conf)
	}
}

// handshake completes the TLS handshake, bounded by HandshakeTimeout and
// aborted by Close, so ConnInfo can report the verified client chain.
func (l *chanListener) handshake(raw net.Conn, conf *tls.Config) {
	defer l.wg.Done()
	defer l.release()
	tc := tls.Server(raw, conf)
	ctx, cancel := context.WithTimeout(l.ctx, l.cfg.HandshakeTimeout)
	err := tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		if l.ctx.Err() == nil {
			l.log.Info("TLS handshake failed", "listener", l.cfg.Name, "remote", raw.RemoteAddr().String(), "err", err.Error())
		}
		raw.Close()
		return
	}
	info := ConnInfo{Listener: l.cfg.Name, Kind: l.cfg.Kind, Remote: raw.RemoteAddr(), TLS: true,
		PeerCertificates: tc.ConnectionState().PeerCertificates}
	l.deliver(&tlsConn{Conn: tc, info: info})
}
