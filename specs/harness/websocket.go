package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
	. "github.com/onsi/ginkgo/v2"

	"github.com/mqttspec/mqttspec/brokers"
	"github.com/mqttspec/mqttspec/reference/packet"
)

// WebSocketEndpoint is where the target speaks MQTT over WebSocket; the
// running spec is unsupported when the target has none.
func WebSocketEndpoint() brokers.Endpoint {
	GinkgoHelper()
	t := Target()
	if t == nil || t.WebSocket == nil {
		Unsupported("the target declares no WebSocket endpoint, so the WebSocket transport (section 6) cannot be checked")
	}
	return *t.WebSocket
}

// WebSocket is a raw WebSocket connection to the target, for the specs that
// need frames the MQTT client (which writes one binary frame per packet)
// does not send: text frames, and the handshake itself.
type WebSocket struct {
	Conn *websocket.Conn
	// Subprotocol is what the server selected in its handshake answer.
	Subprotocol string
	name        string
	v           packet.Version
	tr          *trace
}

// DialWebSocket opens a WebSocket to e offering the given subprotocols and
// records the handshake in the spec's trace.
func DialWebSocket(v packet.Version, e brokers.Endpoint, subprotocols ...string) *WebSocket {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), Cfg().ReadTimeout)
	defer cancel()
	d := &websocket.Dialer{Subprotocols: subprotocols, TLSClientConfig: e.TLS, HandshakeTimeout: Cfg().ReadTimeout,
		NetDialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}
	conn, resp, err := d.DialContext(ctx, e.URL, nil)
	if err != nil {
		status := ""
		if resp != nil {
			status = " (HTTP " + resp.Status + ")"
		}
		Fail(fmt.Sprintf("cannot open a WebSocket to %s%s: %v", e.URL, status, err))
	}
	tr := specTrace()
	ws := &WebSocket{Conn: conn, Subprotocol: conn.Subprotocol(), v: v, tr: tr,
		name: fmt.Sprintf("ws%d", len(tr.clients())+1)}
	tr.register(ws.name)
	TraceNote("%s: WebSocket handshake with %s offering subprotocols %q; the server selected %q (HTTP %d)",
		ws.name, e.URL, subprotocols, ws.Subprotocol, statusOf(resp))
	DeferCleanup(func() { conn.Close() })
	return ws
}

func statusOf(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

// WriteFrame sends b as one WebSocket message of the given type
// (websocket.TextMessage or websocket.BinaryMessage).
func (w *WebSocket) WriteFrame(messageType int, b []byte) {
	GinkgoHelper()
	kind := "binary"
	if messageType == websocket.TextMessage {
		kind = "text"
	}
	w.tr.add("send", w.name, b, kind+" frame: "+describeRaw(b, w.v))
	w.Conn.SetWriteDeadline(time.Now().Add(Cfg().ReadTimeout))
	if err := w.Conn.WriteMessage(messageType, b); err != nil {
		Fail(fmt.Sprintf("writing a %s frame: %v", kind, err))
	}
}

// ExpectClosedWithoutAnswer waits, within the read timeout, for the server
// to close the connection, failing the spec if an MQTT packet arrives
// first or the connection stays open.
func (w *WebSocket) ExpectClosedWithoutAnswer(expected string) {
	GinkgoHelper()
	w.Conn.SetReadDeadline(time.Now().Add(Cfg().ReadTimeout))
	for {
		kind, b, err := w.Conn.ReadMessage()
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			Failf(expected, "the connection was still open after %s", Cfg().ReadTimeout)
		case err != nil:
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				w.tr.add("recv", w.name, nil, fmt.Sprintf("WebSocket close frame, code %d %q", ce.Code, ce.Text))
			} else {
				w.tr.add("recv", w.name, nil, "connection closed ("+readError(err)+")")
			}
			return
		case kind == websocket.BinaryMessage:
			w.tr.add("recv", w.name, b, "binary frame: "+describeRaw(b, w.v))
			Failf(expected, "the server answered with %s", describeRaw(b, w.v))
		default:
			w.tr.add("recv", w.name, b, fmt.Sprintf("frame of type %d", kind))
			Failf(expected, "the server sent a WebSocket frame of type %d", kind)
		}
	}
}
