package listener_test

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mqttspec/mqttspec/reference/broker/certgen"
	"github.com/mqttspec/mqttspec/reference/broker/listener"
)

// bound is how long any single step of a test may take.
const bound = 5 * time.Second

var kinds = []string{listener.KindTCP, listener.KindTLS, listener.KindWS, listener.KindWSS}

// pki is one CA with a server certificate and clients alice and bob,
// shared by the tests (generation is cheap, but there is no need).
var pki = sync.OnceValue(func() *certgen.Set {
	s, err := certgen.NewSet(nil, "alice", "bob")
	if err != nil {
		panic(err)
	}
	return s
})

func isSecure(kind string) bool { return kind == listener.KindTLS || kind == listener.KindWSS }

// config returns a loopback configuration for kind; secure kinds use the
// shared server certificate and the given client certificate policy.
func config(kind, clientCerts string) listener.Config {
	cfg := listener.Config{Name: "test-" + kind, Kind: kind, Address: "127.0.0.1:0"}
	if isSecure(kind) {
		cert := pki().Server
		cfg.TLS = &listener.TLSConfig{Certificate: &cert, ClientCerts: clientCerts}
		if clientCerts != "" && clientCerts != listener.ClientCertsNone {
			cfg.TLS.ClientCAs = pki().CA.CertPool()
		}
	}
	return cfg
}

func listen(t *testing.T, cfg listener.Config) net.Listener {
	t.Helper()
	ln, err := listener.Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

type acceptResult struct {
	c   net.Conn
	err error
}

// acceptAsync runs one Accept in the background.
func acceptAsync(ln net.Listener) <-chan acceptResult {
	ch := make(chan acceptResult, 1)
	go func() {
		c, err := ln.Accept()
		ch <- acceptResult{c, err}
	}()
	return ch
}

func await(t *testing.T, ch <-chan acceptResult) net.Conn {
	t.Helper()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("accept: %v", r.err)
		}
		t.Cleanup(func() { r.c.Close() })
		return r.c
	case <-time.After(bound):
		t.Fatal("accept: timed out")
		return nil
	}
}

// dialOpts says how a test client connects.
type dialOpts struct {
	source       string // local IP, e.g. "127.0.0.2"
	cert         *tls.Certificate
	subprotocols []string // ws, wss; nil means {"mqtt"}
	path         string   // ws, wss; "" means /mqtt
}

// client is the test's end of a connection, whatever the kind: a byte
// stream over TCP or TLS, binary messages over WebSocket.
type client struct {
	conn net.Conn        // tcp, tls
	ws   *websocket.Conn // ws, wss
	buf  []byte          // received and not yet consumed (ws)
}

func dial(kind, addr string, o dialOpts) (*client, *http.Response, error) {
	d := &net.Dialer{Timeout: bound}
	if o.source != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(o.source)}
	}
	var tc *tls.Config
	if isSecure(kind) {
		tc = pki().CA.ClientConfig("")
		if o.cert != nil {
			tc.Certificates = []tls.Certificate{*o.cert}
		}
	}
	switch kind {
	case listener.KindTCP:
		c, err := d.Dial("tcp", addr)
		if err != nil {
			return nil, nil, err
		}
		return &client{conn: c}, nil, nil
	case listener.KindTLS:
		c, err := tls.DialWithDialer(d, "tcp", addr, tc)
		if err != nil {
			return nil, nil, err
		}
		return &client{conn: c}, nil, nil
	}
	scheme := "ws://"
	if kind == listener.KindWSS {
		scheme = "wss://"
	}
	path := o.path
	if path == "" {
		path = "/mqtt"
	}
	sub := o.subprotocols
	if sub == nil {
		sub = []string{"mqtt"}
	}
	wd := websocket.Dialer{NetDialContext: d.DialContext, TLSClientConfig: tc, Subprotocols: sub, HandshakeTimeout: bound}
	ws, resp, err := wd.Dial(scheme+addr+path, nil)
	if err != nil {
		return nil, resp, err
	}
	return &client{ws: ws}, resp, nil
}

func mustDial(t *testing.T, kind, addr string, o dialOpts) *client {
	t.Helper()
	c, _, err := dial(kind, addr, o)
	if err != nil {
		t.Fatalf("dial %s: %v", kind, err)
	}
	t.Cleanup(func() { c.close() })
	return c
}

// send writes b; over WebSocket, as one binary message per argument.
func (c *client) send(t *testing.T, parts ...[]byte) {
	t.Helper()
	for _, b := range parts {
		var err error
		if c.ws != nil {
			c.ws.SetWriteDeadline(time.Now().Add(bound))
			err = c.ws.WriteMessage(websocket.BinaryMessage, b)
		} else {
			c.conn.SetWriteDeadline(time.Now().Add(bound))
			_, err = c.conn.Write(b)
		}
		if err != nil {
			t.Fatalf("send: %v", err)
		}
	}
}

// recv reads exactly n bytes.
func (c *client) recv(t *testing.T, n int) []byte {
	t.Helper()
	out := make([]byte, n)
	if c.ws == nil {
		c.conn.SetReadDeadline(time.Now().Add(bound))
		if _, err := io.ReadFull(c.conn, out); err != nil {
			t.Fatalf("recv: %v", err)
		}
		return out
	}
	c.ws.SetReadDeadline(time.Now().Add(bound))
	for len(c.buf) < n {
		typ, msg, err := c.ws.ReadMessage()
		if err != nil {
			t.Fatalf("recv: %v", err)
		}
		if typ != websocket.BinaryMessage {
			t.Fatalf("recv: message type %d, want binary", typ)
		}
		c.buf = append(c.buf, msg...)
	}
	copy(out, c.buf)
	c.buf = c.buf[n:]
	return out
}

// readErr reads until an error and returns it (nil if data arrives).
func (c *client) readErr() error {
	if c.ws != nil {
		c.ws.SetReadDeadline(time.Now().Add(bound))
		_, _, err := c.ws.ReadMessage()
		return err
	}
	c.conn.SetReadDeadline(time.Now().Add(bound))
	var b [1]byte
	_, err := c.conn.Read(b[:])
	return err
}

func (c *client) close() {
	if c.ws != nil {
		c.ws.Close()
	} else {
		c.conn.Close()
	}
}

// serverRead reads exactly n bytes from an accepted connection.
func serverRead(t *testing.T, c net.Conn, n int) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(bound))
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("server read: %v", err)
	}
	return b
}

func expectBytes(t *testing.T, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("got % x, want % x", got, want)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func otherCA(t *testing.T) *certgen.CA {
	t.Helper()
	ca, err := certgen.NewCA("unrelated")
	if err != nil {
		t.Fatal(err)
	}
	return ca
}
