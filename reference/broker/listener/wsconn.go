package listener

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// closeGrace is how long a closing connection waits for the peer to answer
// the WebSocket close frame before the TCP connection is dropped, and how
// long sending that frame may take.
const closeGrace = time.Second

// ErrTextFrame is the read error of a WebSocket connection on which the
// peer sent a text (not binary) data frame; the connection is then closed
// with status 1003 [MQTT-6.0.0-1].
var ErrTextFrame = errors.New("listener: text frame on an MQTT WebSocket connection")

// wsConn adapts a WebSocket connection to net.Conn: Read returns the
// payload bytes of binary messages as one stream, with no regard for
// message boundaries [MQTT-6.0.0-2], and each Write sends one binary
// message.
//
// A pump goroutine reads the WebSocket and hands Read one chunk at a time.
// Deadlines are therefore enforced here rather than on the socket: a read
// timeout interrupts a blocked Read without breaking the WebSocket framing
// underneath, so Read works again once the deadline moves, as with TCP.
type wsConn struct {
	ws   *websocket.Conn
	raw  net.Conn // below the WebSocket: TCP, or TLS for wss
	info ConnInfo

	rmu     sync.Mutex // serialises Read
	pending []byte     // unread part of the current chunk
	readErr error      // the pump's final error, once seen
	rd      *deadline

	chunks   chan []byte   // pump to Read; closed when the pump ends
	consumed chan struct{} // Read to pump: the chunk has been read
	pumpErr  error         // written before chunks is closed

	wmu sync.Mutex // serialises Write
	wdl struct {
		sync.Mutex
		t time.Time
	}

	closing   chan struct{}
	closeOnce sync.Once
}

func newWSConn(ws *websocket.Conn, info ConnInfo) *wsConn {
	c := &wsConn{ws: ws, raw: ws.NetConn(), info: info, rd: newDeadline(),
		chunks: make(chan []byte), consumed: make(chan struct{}, 1), closing: make(chan struct{})}
	go c.pump()
	return c
}

func (c *wsConn) ConnInfo() ConnInfo { return c.info }

// pump reads messages until the WebSocket ends, then closes the socket.
// Gorilla answers pings and close frames while it reads.
func (c *wsConn) pump() {
	defer c.ws.Close()
	defer close(c.chunks)
	buf := make([]byte, 16<<10)
	for {
		typ, r, err := c.ws.NextReader()
		if err != nil {
			c.pumpErr = readError(err)
			return
		}
		if typ != websocket.BinaryMessage {
			// MQTT travels in binary frames only [MQTT-6.0.0-1].
			c.pumpErr = ErrTextFrame
			c.ws.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseUnsupportedData, "MQTT needs binary frames"),
				time.Now().Add(closeGrace))
			return
		}
		for {
			n, err := r.Read(buf)
			if n > 0 && !c.hand(buf[:n]) {
				c.drain()
				return
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				c.pumpErr = readError(err)
				return
			}
		}
	}
}

// hand gives a chunk to Read and waits until it is consumed, so buf can be
// reused; false means Close was called.
func (c *wsConn) hand(b []byte) bool {
	select {
	case c.chunks <- b:
	case <-c.closing:
		return false
	}
	select {
	case <-c.consumed:
		return true
	case <-c.closing:
		return false
	}
}

// drain discards what the peer still sends after Close until its close
// frame arrives or the grace period Close set on the socket runs out.
func (c *wsConn) drain() {
	c.pumpErr = net.ErrClosed
	for {
		_, r, err := c.ws.NextReader()
		if err != nil {
			return
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			return
		}
	}
}

// readError maps the end of a WebSocket to what a TCP reader would see: a
// close frame with a normal status, or none, is the end of the stream.
func readError(err error) error {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		switch ce.Code {
		case websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived:
			return io.EOF
		case websocket.CloseAbnormalClosure:
			return io.ErrUnexpectedEOF
		}
	}
	return err
}

func (c *wsConn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if isClosed(c.closing) {
		return 0, c.opError("read", net.ErrClosed)
	}
	wait := c.rd.wait()
	if isClosed(wait) {
		return 0, c.opError("read", os.ErrDeadlineExceeded)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if len(c.pending) == 0 {
		if c.readErr != nil {
			return 0, c.readErr
		}
		select {
		case b, ok := <-c.chunks:
			if !ok {
				c.readErr = c.pumpErr
				if c.readErr != io.EOF {
					c.readErr = c.opError("read", c.readErr)
				}
				return 0, c.readErr
			}
			c.pending = b
		case <-wait:
			return 0, c.opError("read", os.ErrDeadlineExceeded)
		case <-c.closing:
			return 0, c.opError("read", net.ErrClosed)
		}
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	if len(c.pending) == 0 {
		c.pending = nil
		c.consumed <- struct{}{}
	}
	return n, nil
}

// Write sends p as one binary message.
func (c *wsConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if isClosed(c.closing) {
		return 0, c.opError("write", net.ErrClosed)
	}
	if len(p) == 0 {
		return 0, nil
	}
	c.wdl.Lock()
	t := c.wdl.t
	c.wdl.Unlock()
	// Gorilla applies its write deadline to the socket before each frame.
	c.ws.SetWriteDeadline(t)
	if err := c.ws.WriteMessage(websocket.BinaryMessage, p); err != nil {
		return 0, c.opError("write", err)
	}
	return len(p), nil
}

// Close sends a normal close frame and returns; the socket itself is closed
// when the peer answers, or after closeGrace.
func (c *wsConn) Close() error {
	first := false
	c.closeOnce.Do(func() {
		first = true
		close(c.closing)
		c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""),
			time.Now().Add(closeGrace))
		c.raw.SetReadDeadline(time.Now().Add(closeGrace))
	})
	if !first {
		return c.opError("close", net.ErrClosed)
	}
	return nil
}

func (c *wsConn) LocalAddr() net.Addr  { return c.raw.LocalAddr() }
func (c *wsConn) RemoteAddr() net.Addr { return c.raw.RemoteAddr() }

func (c *wsConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

func (c *wsConn) SetReadDeadline(t time.Time) error {
	if isClosed(c.closing) {
		return c.opError("set", net.ErrClosed)
	}
	c.rd.set(t)
	return nil
}

// SetWriteDeadline applies to later writes and, by moving the socket's own
// deadline, to one blocked now. Unlike a read timeout, a write that times
// out may have sent part of a frame, so the connection cannot be written to
// again; close it.
func (c *wsConn) SetWriteDeadline(t time.Time) error {
	if isClosed(c.closing) {
		return c.opError("set", net.ErrClosed)
	}
	c.wdl.Lock()
	c.wdl.t = t
	c.wdl.Unlock()
	return c.raw.SetWriteDeadline(t)
}

func (c *wsConn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: c.info.Kind, Source: c.raw.LocalAddr(), Addr: c.raw.RemoteAddr(), Err: err}
}
