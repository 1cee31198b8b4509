package listener_test

import (
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mqttspec/mqttspec/reference/broker"
	"github.com/mqttspec/mqttspec/reference/broker/listener"
)

// serve runs a reference broker on a listener of the given configuration.
func serve(t *testing.T, cfg listener.Config) net.Addr {
	t.Helper()
	ln, err := listener.Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := broker.New(broker.Config{})
	go b.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), bound)
		defer cancel()
		if err := b.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return ln.Addr()
}

// The broker speaks MQTT over every kind of listener.
func TestBrokerOverEveryKind(t *testing.T) {
	// CONNECT: MQTT 3.1.1, clean session, keep alive 60 s, empty client ID.
	connect := []byte{0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x00}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			addr := serve(t, config(kind, ""))
			cli := mustDial(t, kind, addr.String(), dialOpts{})
			// Over WebSocket the packet is split across messages on purpose.
			cli.send(t, connect[:3], connect[3:])
			expectBytes(t, cli.recv(t, 4), []byte{0x20, 0x02, 0x00, 0x00}) // CONNACK, accepted
			cli.send(t, []byte{0xc0, 0x00})                                // PINGREQ
			expectBytes(t, cli.recv(t, 2), []byte{0xd0, 0x00})             // PINGRESP
			cli.send(t, []byte{0xe0, 0x00})                                // DISCONNECT
			if err := cli.readErr(); err == nil {
				t.Error("connection still open after DISCONNECT")
			}
		})
	}
}

// The broker's keep alive works through the WebSocket adapter: its read
// deadline interrupts the blocked read and the connection is closed after
// 1.5 times the interval [MQTT-3.1.2-24].
func TestBrokerKeepAliveOverWebSocket(t *testing.T) {
	addr := serve(t, config(listener.KindWS, ""))
	cli := mustDial(t, listener.KindWS, addr.String(), dialOpts{})
	// CONNECT as above, keep alive 1 s.
	cli.send(t, []byte{0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x01, 0x00, 0x00})
	expectBytes(t, cli.recv(t, 4), []byte{0x20, 0x02, 0x00, 0x00})
	start := time.Now()
	err := cli.readErr()
	if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Fatalf("client: %v, want a normal close", err)
	}
	if d := time.Since(start); d < time.Second || d > 3*time.Second {
		t.Errorf("closed after %v, want about 1.5 s", d)
	}
}

// Mosquitto's client accepts the files certgen writes and authenticates
// with its client certificate.
func TestMosquittoClientOverTLS(t *testing.T) {
	pub, err := exec.LookPath("mosquitto_pub")
	if err != nil {
		t.Skip("mosquitto_pub not installed")
	}
	files, err := pki().WriteFiles(filepath.Join(t.TempDir(), "pki"))
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, config(listener.KindTLS, listener.ClientCertsRequire)).(*net.TCPAddr)
	run := func(args ...string) error {
		ctx, cancel := context.WithTimeout(context.Background(), bound)
		defer cancel()
		base := []string{"-h", "127.0.0.1", "-p", strconv.Itoa(addr.Port), "--cafile", files.CA, "-t", "listener/test", "-m", "hi", "-q", "1", "-V", "mqttv311"}
		out, err := exec.CommandContext(ctx, pub, append(base, args...)...).CombinedOutput()
		if err != nil {
			t.Logf("mosquitto_pub %v: %v\n%s", args, err, out)
		}
		return err
	}
	alice := files.Clients["alice"]
	if err := run("--cert", alice.Cert, "--key", alice.Key); err != nil {
		t.Error("mosquitto_pub with a client certificate failed")
	}
	if err := run(); err == nil {
		t.Error("mosquitto_pub without a client certificate succeeded")
	}
}
