package simulator

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"time"

	"github.com/mqttspec/mqttspec/brokers"
	"github.com/mqttspec/mqttspec/reference/packet"
)

// Stream connections (TLS, WebSocket) cannot be read through their file descriptor:
// the bytes on the socket are records that crypto/tls must decrypt, or
// WebSocket frames. Each
// such device therefore has one reader goroutine, blocked in Read while
// the device is idle, and, only while it has bytes to send, a writer
// goroutine; the accounting is the same as for plain TCP connections,
// which the poller reads without any goroutine.

// inbound is what decoding incoming packets needs: the poller has one,
// every stream reader its own.
type inbound struct {
	dec  packet.Decoder
	bufs scratch
}

// errSetup is a mistake in the run's configuration found while connecting
// (a device's certificate file missing): it stops the run, as every
// retry would fail the same way.
type errSetup struct{ err error }

func (e *errSetup) Error() string { return e.err.Error() }
func (e *errSetup) Unwrap() error { return e.err }

// receive hands what arrived on a device connection to handleIncoming and
// keeps the bytes of a packet not yet complete (node locked).
func (e *engine) receive(nd *node, idx int32, data []byte, ib *inbound) {
	if len(nd.in) > 0 {
		nd.in = append(nd.in, data...)
		data = nd.in
	}
	rest := e.handleIncoming(nd, idx, data, ib)
	if nd.state != stateUp {
		return
	}
	if len(rest) == 0 {
		nd.in = nil
	} else if len(nd.in) > 0 {
		nd.in = nd.in[:copy(nd.in, rest)]
	} else {
		nd.in = append([]byte(nil), rest...)
	}
}

// readStream reads one stream connection of a device until it is closed
// or replaced (gen changes).
func (e *engine) readStream(conn net.Conn, idx int32, gen uint32) {
	nd := &e.nodes[idx]
	var ib inbound
	buf := make([]byte, 4<<10)
	for {
		n, err := conn.Read(buf)
		nd.mu.Lock()
		if nd.state != stateUp || nd.gen != gen {
			nd.mu.Unlock()
			return
		}
		if n > 0 {
			e.receive(nd, idx, buf[:n], &ib)
		}
		if err != nil && nd.state == stateUp && nd.gen == gen {
			if errors.Is(err, io.EOF) {
				err = errors.New("the broker closed the connection")
			} else {
				err = fmt.Errorf("read: %w", err)
			}
			e.lost(nd, idx, err)
		}
		up := nd.state == stateUp && nd.gen == gen
		nd.mu.Unlock()
		if err != nil || !up {
			return
		}
	}
}

// writeStreamLocked queues b for a stream connection's writer (node
// locked); like the TCP path it never blocks, and bytes beyond maxPending
// are counted as backpressure.
func (e *engine) writeStreamLocked(nd *node, idx int32, b []byte) bool {
	if len(nd.out)+len(b) > maxPending {
		e.backpressure.Add(1)
		return false
	}
	nd.out = append(nd.out, b...)
	nd.lastSend = e.clock()
	if !nd.writing {
		nd.writing = true
		go e.writeStream(nd.conn, idx, nd.gen)
	}
	return true
}

// writeStream sends what is queued until nothing is left, then ends.
func (e *engine) writeStream(conn net.Conn, idx int32, gen uint32) {
	nd := &e.nodes[idx]
	timeout := e.plan.s.Connection.ConnectTimeout.D()
	for {
		nd.mu.Lock()
		if nd.gen != gen || nd.state != stateUp {
			nd.mu.Unlock()
			return
		}
		out := nd.out
		nd.out = nil
		if len(out) == 0 {
			nd.writing = false
			nd.mu.Unlock()
			return
		}
		nd.mu.Unlock()
		// A broker that stops reading must not hold the writer forever.
		conn.SetWriteDeadline(time.Now().Add(timeout))
		if _, err := conn.Write(out); err != nil {
			nd.mu.Lock()
			if nd.gen == gen {
				e.lost(nd, idx, fmt.Errorf("write: %w", err))
			}
			nd.mu.Unlock()
			return
		}
	}
}

// dial opens a connection to the broker: plain TCP, or TLS with the base
// configuration and, when given, a device's own client certificate.
func (e *engine) dial(ctx context.Context, d *net.Dialer, addr string, cert *tls.Certificate) (net.Conn, error) {
	if !e.target.stream() {
		return d.DialContext(ctx, "tcp", addr)
	}
	cfg := e.tls
	if cert != nil {
		cfg = cfg.Clone()
		cfg.Certificates = []tls.Certificate{*cert}
	}
	if e.target.ws {
		// Subprotocol mqtt, binary frames read as one stream.
		scheme := "ws://"
		if e.target.secure {
			scheme = "wss://"
		}
		return brokers.Dial(ctx, brokers.Endpoint{URL: scheme + addr + e.target.path, TLS: cfg}, d.LocalAddr)
	}
	td := tls.Dialer{NetDialer: d, Config: cfg}
	return td.DialContext(ctx, "tcp", addr)
}

// deviceCertificate loads a device's client certificate from the
// scenario's templates (nil when it has none). It is read at every
// connection attempt: reconnects are rare and the files may be renewed.
func (e *engine) deviceCertificate(global int) (*tls.Certificate, error) {
	if e.tls == nil || e.plan.tlsCert.empty() {
		return nil, nil
	}
	vr := e.varsOf(global)
	certPath := e.plan.s.resolvePath(e.plan.tlsCert.expand(&vr))
	keyPath := e.plan.s.resolvePath(e.plan.tlsKey.expand(&vr))
	c, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return nil, &errSetup{fmt.Errorf("device %d: connection.tls: client certificate %s / key %s: %w", global, certPath, keyPath, err)}
	}
	return &c, nil
}

// resolvePath makes a path from the scenario relative to the scenario
// file's folder.
func (s *Scenario) resolvePath(p string) string {
	if filepath.IsAbs(p) || s.dir == "" {
		return p
	}
	return filepath.Join(s.dir, p)
}
