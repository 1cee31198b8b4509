package listener

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"slices"

	"github.com/gorilla/websocket"
)

// subprotocol is the WebSocket subprotocol MQTT uses, 3.1.1 and 5.0 alike.
const subprotocol = "mqtt"

// newWSListener serves HTTP on inner and turns each upgrade request on the
// WebSocket path into an accepted connection. For wss the HTTP server also
// runs the TLS handshake, bounded by HandshakeTimeout like the request head.
func newWSListener(inner net.Listener, cfg Config, conf *tls.Config) net.Listener {
	l := newChanListener(inner, cfg)
	checkOrigin := cfg.CheckOrigin
	if checkOrigin == nil {
		checkOrigin = func(*http.Request) bool { return true }
	}
	up := &websocket.Upgrader{
		HandshakeTimeout: cfg.HandshakeTimeout,
		Subprotocols:     []string{subprotocol},
		CheckOrigin:      checkOrigin,
	}
	srv := &http.Server{
		Handler:           &wsHandler{l: l, up: up},
		ReadHeaderTimeout: cfg.HandshakeTimeout,
		IdleTimeout:       cfg.HandshakeTimeout,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelInfo),
		ConnState:         l.trackHTTP,
	}
	// One request per connection: an upgrade takes the connection over, and
	// anything else is answered and closed.
	srv.SetKeepAlivesEnabled(false)
	l.onClose = func() { srv.Close() }

	var hl net.Listener = inner
	if conf != nil {
		hl = tls.NewListener(inner, conf)
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		if err := srv.Serve(hl); !errors.Is(err, http.ErrServerClosed) {
			l.stop(err)
		}
	}()
	return l
}

// trackHTTP bounds connections still before their upgrade. The server calls
// it for StateNew from its accept loop, so waiting here holds new
// connections in the kernel's backlog.
func (l *chanListener) trackHTTP(_ net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		l.acquire()
	case http.StateHijacked, http.StateClosed:
		l.release()
	}
}

type wsHandler struct {
	l  *chanListener
	up *websocket.Upgrader
}

func (h *wsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l := h.l
	if r.URL.Path != l.cfg.WebSocketPath {
		http.NotFound(w, r)
		return
	}
	// The server must answer with the "mqtt" subprotocol [MQTT-6.0.0-4],
	// which a client must offer [MQTT-6.0.0-3]; one that does not is not
	// speaking MQTT, so it is refused rather than upgraded without one.
	if websocket.IsWebSocketUpgrade(r) && !slices.Contains(websocket.Subprotocols(r), subprotocol) {
		l.log.Info("websocket upgrade refused: client does not offer the mqtt subprotocol",
			"listener", l.cfg.Name, "remote", r.RemoteAddr)
		http.Error(w, "MQTT over WebSocket needs the \"mqtt\" subprotocol", http.StatusBadRequest)
		return
	}
	ws, err := h.up.Upgrade(w, r, nil)
	if err != nil {
		// Upgrade has answered with an HTTP error already.
		l.log.Info("websocket upgrade failed", "listener", l.cfg.Name, "remote", r.RemoteAddr, "err", err.Error())
		return
	}
	info := ConnInfo{Listener: l.cfg.Name, Kind: l.cfg.Kind, Remote: ws.RemoteAddr(), TLS: r.TLS != nil}
	if r.TLS != nil {
		info.PeerCertificates = r.TLS.PeerCertificates
	}
	l.deliver(newWSConn(ws, info))
}
