package listener_test

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mqttspec/mqttspec/reference/broker/listener"
)

func TestRoundTripEveryKind(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			ln := listen(t, config(kind, ""))
			acc := acceptAsync(ln)
			cli := mustDial(t, kind, ln.Addr().String(), dialOpts{})
			srv := await(t, acc)

			cli.send(t, []byte("hello "), []byte("broker"))
			expectBytes(t, serverRead(t, srv, 12), []byte("hello broker"))
			srv.SetWriteDeadline(time.Now().Add(bound))
			if _, err := srv.Write([]byte("hi client")); err != nil {
				t.Fatal(err)
			}
			expectBytes(t, cli.recv(t, 9), []byte("hi client"))

			info, ok := listener.InfoOf(srv)
			if !ok {
				t.Fatalf("%T does not implement Identified", srv)
			}
			if info.Listener != "test-"+kind || info.Kind != kind || info.TLS != isSecure(kind) {
				t.Errorf("info = %+v", info)
			}
			if info.Remote == nil || info.Remote.String() != srv.RemoteAddr().String() {
				t.Errorf("remote %v, conn says %v", info.Remote, srv.RemoteAddr())
			}
			if len(info.PeerCertificates) != 0 || info.CommonName() != "" {
				t.Errorf("peer certificates without client certificates: %v", info.PeerCertificates)
			}

			// The client goes away: the server reads the end of the stream.
			cli.close()
			srv.SetReadDeadline(time.Now().Add(bound))
			if _, err := srv.Read(make([]byte, 1)); err == nil || isTimeout(err) {
				t.Errorf("read after client close: %v", err)
			}
		})
	}
}

func TestCloseUnblocksAccept(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			ln, err := listener.Listen(config(kind, ""))
			if err != nil {
				t.Fatal(err)
			}
			acc := acceptAsync(ln)
			time.Sleep(10 * time.Millisecond) // let Accept block (not needed for correctness)
			if err := ln.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
			select {
			case r := <-acc:
				if !errors.Is(r.err, net.ErrClosed) {
					t.Errorf("accept after close: %v, want net.ErrClosed", r.err)
				}
			case <-time.After(bound):
				t.Fatal("Accept still blocked after Close")
			}
			if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
				t.Errorf("second accept: %v", err)
			}
			// The port is released.
			if c, err := net.DialTimeout("tcp", ln.Addr().String(), bound); err == nil {
				c.Close()
				t.Error("still accepting TCP connections after Close")
			}
		})
	}
}

func TestWebSocketSubprotocol(t *testing.T) {
	ln := listen(t, config(listener.KindWS, ""))
	addr := ln.Addr().String()
	for _, offer := range [][]string{{}, {"mqttv3.1"}, {"MQTT"}} {
		_, resp, err := dial(listener.KindWS, addr, dialOpts{subprotocols: offer})
		if err == nil {
			t.Fatalf("offer %q: upgraded", offer)
		}
		if resp == nil || resp.StatusCode != http.StatusBadRequest {
			t.Errorf("offer %q: response %v, want 400", offer, resp)
		}
	}
	// "mqtt" among others is selected and returned [MQTT-6.0.0-4].
	acc := acceptAsync(ln)
	cli := mustDial(t, listener.KindWS, addr, dialOpts{subprotocols: []string{"wamp", "mqtt"}})
	if got := cli.ws.Subprotocol(); got != "mqtt" {
		t.Errorf("subprotocol %q", got)
	}
	await(t, acc)
}

func TestWebSocketHTTPRequests(t *testing.T) {
	cfg := config(listener.KindWS, "")
	cfg.WebSocketPath = "/custom"
	ln := listen(t, cfg)
	base := "http://" + ln.Addr().String()
	hc := &http.Client{Timeout: bound}
	for path, want := range map[string]int{"/": http.StatusNotFound, "/mqtt": http.StatusNotFound, "/custom": http.StatusBadRequest} {
		resp, err := hc.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	if _, resp, err := dial(listener.KindWS, ln.Addr().String(), dialOpts{}); err == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("upgrade on the default path: %v %v", err, resp)
	}
	acc := acceptAsync(ln)
	mustDial(t, listener.KindWS, ln.Addr().String(), dialOpts{path: "/custom"})
	await(t, acc)
}

func wsPair(t *testing.T) (*client, net.Conn) {
	t.Helper()
	ln := listen(t, config(listener.KindWS, ""))
	acc := acceptAsync(ln)
	cli := mustDial(t, listener.KindWS, ln.Addr().String(), dialOpts{})
	return cli, await(t, acc)
}

// A read spans messages and a message spans reads [MQTT-6.0.0-2].
func TestWebSocketStreamIgnoresMessageBoundaries(t *testing.T) {
	cli, srv := wsPair(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), 10_000) // larger than any internal buffer
	cli.send(t, []byte("ab"), []byte{}, []byte("cd"), big, []byte("z"))
	expectBytes(t, serverRead(t, srv, 4), []byte("abcd"))
	got := serverRead(t, srv, len(big)+1)
	expectBytes(t, got[len(got)-1:], []byte("z"))
	if !bytes.Equal(got[:len(big)], big) {
		t.Fatal("large message corrupted")
	}
	// Small reads of one message.
	cli.send(t, []byte("xyz"))
	for _, want := range []string{"x", "y", "z"} {
		expectBytes(t, serverRead(t, srv, 1), []byte(want))
	}
}

func TestWebSocketTextFrameClosesConnection(t *testing.T) {
	cli, srv := wsPair(t)
	cli.send(t, []byte("ok"))
	if err := cli.ws.WriteMessage(websocket.TextMessage, []byte("not mqtt")); err != nil {
		t.Fatal(err)
	}
	// Bytes before the text frame are still delivered, then the error.
	expectBytes(t, serverRead(t, srv, 2), []byte("ok"))
	srv.SetReadDeadline(time.Now().Add(bound))
	_, err := srv.Read(make([]byte, 10))
	if !errors.Is(err, listener.ErrTextFrame) {
		t.Errorf("server read: %v, want ErrTextFrame", err)
	}
	err = cli.readErr()
	if !websocket.IsCloseError(err, websocket.CloseUnsupportedData) {
		t.Errorf("client: %v, want close 1003", err)
	}
}

func TestWebSocketCloseIsClean(t *testing.T) {
	cli, srv := wsPair(t)
	srv.SetWriteDeadline(time.Now().Add(bound))
	if _, err := srv.Write([]byte("bye")); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	expectBytes(t, cli.recv(t, 3), []byte("bye"))
	if err := cli.readErr(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Errorf("client: %v, want close 1000", err)
	}
	if _, err := srv.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("read after close: %v", err)
	}
	if _, err := srv.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
	if err := srv.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second close: %v", err)
	}
}

func TestWebSocketPeerCloseIsEOF(t *testing.T) {
	cli, srv := wsPair(t)
	cli.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(bound))
	srv.SetReadDeadline(time.Now().Add(bound))
	if _, err := srv.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("read: %v, want io.EOF", err)
	}
	// The server answered the close frame.
	if err := cli.readErr(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Errorf("client: %v", err)
	}
}

// The broker wakes a reader by moving its deadline (keep alive, kicks).
func TestWebSocketReadDeadline(t *testing.T) {
	cli, srv := wsPair(t)
	errc := make(chan error, 1)
	go func() {
		_, err := srv.Read(make([]byte, 10))
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond) // let Read block
	srv.SetReadDeadline(time.Now())
	select {
	case err := <-errc:
		if !isTimeout(err) || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read: %v, want a timeout", err)
		}
	case <-time.After(bound):
		t.Fatal("SetReadDeadline did not interrupt Read")
	}

	// A deadline in the future expires during the read.
	srv.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	start := time.Now()
	if _, err := srv.Read(make([]byte, 1)); !isTimeout(err) {
		t.Fatalf("read: %v, want a timeout", err)
	}
	if d := time.Since(start); d > bound {
		t.Errorf("timed out after %v", d)
	}

	// As with TCP, the connection works again once the deadline moves.
	srv.SetReadDeadline(time.Time{})
	cli.send(t, []byte("still here"))
	expectBytes(t, serverRead(t, srv, 10), []byte("still here"))

	// Write deadlines: a past deadline fails the write, a cleared one works.
	srv.SetWriteDeadline(time.Now().Add(-time.Second))
	if _, err := srv.Write([]byte("late")); !isTimeout(err) {
		t.Errorf("write past deadline: %v", err)
	}
}

func TestClientCertificates(t *testing.T) {
	alice := pki().Clients["alice"]
	for _, kind := range []string{listener.KindTLS, listener.KindWSS} {
		t.Run(kind+"/require", func(t *testing.T) {
			ln := listen(t, config(kind, listener.ClientCertsRequire))
			addr := ln.Addr().String()
			acc := acceptAsync(ln)
			// No certificate: the handshake fails (with TLS 1.3 the client
			// learns it on its first read) and nothing is accepted.
			c, _, err := dial(kind, addr, dialOpts{})
			if err == nil {
				err = c.readErr()
				c.close()
			}
			if err == nil {
				t.Fatal("connected without a client certificate")
			}
			// A certificate from another CA fails too.
			stranger, _ := otherCA(t).Client("mallory")
			if c, _, err := dial(kind, addr, dialOpts{cert: &stranger}); err == nil {
				if c.readErr() == nil {
					t.Fatal("connected with a certificate from an unknown CA")
				}
				c.close()
			}
			// With one, its Common Name is visible; it is the first
			// connection Accept returns.
			mustDial(t, kind, addr, dialOpts{cert: &alice})
			srv := await(t, acc)
			info, _ := listener.InfoOf(srv)
			if info.CommonName() != "alice" || !info.TLS {
				t.Errorf("info = %+v", info)
			}
		})
		t.Run(kind+"/optional", func(t *testing.T) {
			ln := listen(t, config(kind, listener.ClientCertsOptional))
			addr := ln.Addr().String()
			acc := acceptAsync(ln)
			mustDial(t, kind, addr, dialOpts{})
			info, _ := listener.InfoOf(await(t, acc))
			if len(info.PeerCertificates) != 0 {
				t.Errorf("certificates without one sent: %v", info.PeerCertificates)
			}
			acc = acceptAsync(ln)
			mustDial(t, kind, addr, dialOpts{cert: &alice})
			info, _ = listener.InfoOf(await(t, acc))
			if info.CommonName() != "alice" {
				t.Errorf("CN %q", info.CommonName())
			}
		})
	}
}

// A client that connects and says nothing holds up nobody else, and is
// dropped after the handshake timeout.
func TestSlowHandshakeDoesNotBlockAccept(t *testing.T) {
	for _, kind := range []string{listener.KindTLS, listener.KindWS, listener.KindWSS} {
		t.Run(kind, func(t *testing.T) {
			cfg := config(kind, "")
			cfg.HandshakeTimeout = 300 * time.Millisecond
			ln := listen(t, cfg)
			idle, err := net.DialTimeout("tcp", ln.Addr().String(), bound)
			if err != nil {
				t.Fatal(err)
			}
			defer idle.Close()
			acc := acceptAsync(ln)
			mustDial(t, kind, ln.Addr().String(), dialOpts{})
			await(t, acc)
			idle.SetReadDeadline(time.Now().Add(bound))
			if _, err := io.Copy(io.Discard, idle); err != nil && isTimeout(err) {
				t.Error("idle connection not dropped after the handshake timeout")
			}
		})
	}
}

func TestIPFilter(t *testing.T) {
	cases := []struct {
		name        string
		allow, deny []string
	}{
		{"allow list", []string{"127.0.0.1/32"}, nil},
		{"deny list", nil, []string{"127.0.0.2"}},
		{"deny wins", []string{"127.0.0.0/8"}, []string{"127.0.0.2/32"}},
		{"mapped form", nil, []string{"::ffff:127.0.0.2/128"}},
	}
	for _, kind := range kinds {
		for _, tc := range cases {
			t.Run(kind+"/"+tc.name, func(t *testing.T) {
				cfg := config(kind, "")
				cfg.Allow, cfg.Deny = tc.allow, tc.deny
				ln := listen(t, cfg)
				addr := ln.Addr().String()
				acc := acceptAsync(ln)
				c, _, err := dial(kind, addr, dialOpts{source: "127.0.0.2"})
				if err == nil {
					err = c.readErr()
					c.close()
				}
				if err == nil || isTimeout(err) {
					t.Fatalf("refused peer: %v, want the connection closed", err)
				}
				mustDial(t, kind, addr, dialOpts{source: "127.0.0.1"})
				srv := await(t, acc)
				if ip := srv.RemoteAddr().(*net.TCPAddr).IP; !ip.Equal(net.ParseIP("127.0.0.1")) {
					t.Errorf("accepted %v first", ip)
				}
			})
		}
	}
}

func TestConfigErrors(t *testing.T) {
	cert := pki().Server
	good := &listener.TLSConfig{Certificate: &cert}
	cases := map[string]listener.Config{
		"no kind":          {Address: "127.0.0.1:0"},
		"unknown kind":     {Kind: "quic", Address: "127.0.0.1:0"},
		"no address":       {Kind: "tcp"},
		"tls without TLS":  {Kind: "tls", Address: "127.0.0.1:0"},
		"tcp with TLS":     {Kind: "tcp", Address: "127.0.0.1:0", TLS: good},
		"bad path":         {Kind: "ws", Address: "127.0.0.1:0", WebSocketPath: "mqtt"},
		"bad allow":        {Kind: "tcp", Address: "127.0.0.1:0", Allow: []string{"10.0.0.0/33"}},
		"bad deny":         {Kind: "tcp", Address: "127.0.0.1:0", Deny: []string{"localhost"}},
		"no certificate":   {Kind: "tls", Address: "127.0.0.1:0", TLS: &listener.TLSConfig{}},
		"missing files":    {Kind: "tls", Address: "127.0.0.1:0", TLS: &listener.TLSConfig{CertFile: "/nonexistent.crt", KeyFile: "/nonexistent.key"}},
		"require, no CA":   {Kind: "tls", Address: "127.0.0.1:0", TLS: &listener.TLSConfig{Certificate: &cert, ClientCerts: "require"}},
		"bad policy":       {Kind: "wss", Address: "127.0.0.1:0", TLS: &listener.TLSConfig{Certificate: &cert, ClientCerts: "maybe"}},
		"bad min version":  {Kind: "tls", Address: "127.0.0.1:0", TLS: &listener.TLSConfig{Certificate: &cert, MinVersion: "1.0"}},
		"unusable address": {Kind: "tcp", Address: "127.0.0.1:http-nonexistent"},
	}
	for name, cfg := range cases {
		ln, err := listener.Listen(cfg)
		if err == nil {
			ln.Close()
			t.Errorf("%s: accepted", name)
		}
	}
}

// The files certgen writes configure a listener, as they would a broker
// in a container.
func TestTLSFromFiles(t *testing.T) {
	files, err := pki().WriteFiles(filepath.Join(t.TempDir(), "pki"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := listener.Config{Kind: listener.KindTLS, Address: "127.0.0.1:0", TLS: &listener.TLSConfig{
		CertFile: files.ServerCert, KeyFile: files.ServerKey, CAFile: files.CA,
		ClientCerts: listener.ClientCertsRequire, MinVersion: "1.3"}}
	ln := listen(t, cfg)
	acc := acceptAsync(ln)
	bob := pki().Clients["bob"]
	cli := mustDial(t, listener.KindTLS, ln.Addr().String(), dialOpts{cert: &bob})
	srv := await(t, acc)
	if v := cli.conn.(*tls.Conn).ConnectionState().Version; v != tls.VersionTLS13 {
		t.Errorf("TLS version %x", v)
	}
	if info, _ := listener.InfoOf(srv); info.CommonName() != "bob" || info.Listener != "tls" {
		t.Errorf("info = %+v", info)
	}

	// A CA file without certificates is an error.
	bad := filepath.Join(t.TempDir(), "empty.pem")
	os.WriteFile(bad, []byte("nothing"), 0o644)
	cfg.TLS.CAFile = bad
	if ln, err := listener.Listen(cfg); err == nil || !strings.Contains(err.Error(), "no PEM") {
		if ln != nil {
			ln.Close()
		}
		t.Errorf("empty CA file: %v", err)
	}
}
