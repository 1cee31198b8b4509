package listener

import (
	"net"

	"github.com/gorilla/websocket"
)

// WebSocketConn adapts a WebSocket connection carrying MQTT, on either
// side, to net.Conn, with the same semantics as the connections this
// package accepts: binary messages read as one byte stream, one message per
// Write, deadlines that interrupt a blocked Read. Clients that dial MQTT
// over WebSocket (the conformance harness) use it.
func WebSocketConn(ws *websocket.Conn) net.Conn {
	return newWSConn(ws, ConnInfo{Kind: KindWS, Remote: ws.RemoteAddr()})
}
