package fuzz

import (
	"bufio"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mqttspec/mqttspec/brokers"
)

// brokenBroker is a deliberately bad MQTT server for the fuzzer's own tests.
// It answers just enough of MQTT for sessions to go on (CONNACK, PUBACK,
// PUBREC, PUBCOMP, SUBACK, UNSUBACK, PINGRESP), accepts malformed packets
// without complaint, and carries one planted bug.
type brokenBroker struct {
	bug bug
	ln  net.Listener

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	// crashed: the listener is closed and every connection dropped, as if
	// the process had died. hung: PINGREQ goes unanswered on every
	// connection, old and new.
	crashed, hung atomic.Bool
}

type bug int

const (
	// crashEmptyTopic: a 3.1.1 PUBLISH with a zero-length topic takes the
	// server down (the shape of Mosquitto's CVE-2021-34432).
	crashEmptyTopic bug = iota + 1
	// crashLongPropertyLength: a 5.0 CONNECT whose Property Length takes
	// five bytes takes the server down (NanoMQ's CVE-2026-21888 shape).
	crashLongPropertyLength
	// hangUnsubscribeID0: an UNSUBSCRIBE with packet identifier 0 makes the
	// server stop answering PINGREQ.
	hangUnsubscribeID0
)

// startBroken serves a broken broker on loopback and returns it as a
// target; it is stopped when the test ends.
func startBroken(t testing.TB, b bug) (*brokenBroker, *brokers.Target) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bb := &brokenBroker{bug: b, ln: ln, conns: map[net.Conn]struct{}{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		bb.serve()
	}()
	t.Cleanup(func() {
		bb.crash()
		<-done
	})
	tg, err := brokers.FromURL("tcp://"+ln.Addr().String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return bb, tg
}

func (bb *brokenBroker) serve() {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := bb.ln.Accept()
		if err != nil {
			return
		}
		bb.mu.Lock()
		if bb.crashed.Load() {
			bb.mu.Unlock()
			c.Close()
			return
		}
		bb.conns[c] = struct{}{}
		bb.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			bb.handle(c)
			bb.mu.Lock()
			delete(bb.conns, c)
			bb.mu.Unlock()
			c.Close()
		}()
	}
}

// crash stops accepting and drops every connection.
func (bb *brokenBroker) crash() {
	bb.mu.Lock()
	defer bb.mu.Unlock()
	bb.crashed.Store(true)
	bb.ln.Close()
	for c := range bb.conns {
		c.Close()
	}
}

var errBadHeader = errors.New("bad header")

// readPacket reads one packet leniently: any flags, any type, any body.
func readPacket(r *bufio.Reader) (first byte, body []byte, err error) {
	first, err = r.ReadByte()
	if err != nil {
		return 0, nil, err
	}
	n, mult := 0, 1
	for i := 0; ; i++ {
		if i == 4 {
			return 0, nil, errBadHeader
		}
		b, err := r.ReadByte()
		if err != nil {
			return 0, nil, err
		}
		n += int(b&0x7f) * mult
		mult *= 128
		if b&0x80 == 0 {
			break
		}
	}
	if n > 1<<20 {
		return 0, nil, errBadHeader
	}
	body = make([]byte, n)
	_, err = io.ReadFull(r, body)
	return first, body, err
}

func (bb *brokenBroker) handle(c net.Conn) {
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	v5 := false
	id := func(body []byte, off int) []byte {
		if len(body) < off+2 {
			return []byte{0, 0}
		}
		return body[off : off+2]
	}
	for {
		first, body, err := readPacket(r)
		if err != nil {
			return
		}
		switch first >> 4 {
		case 1: // CONNECT
			if len(body) >= 7 {
				nameLen := int(body[0])<<8 | int(body[1])
				if 2+nameLen < len(body) {
					v5 = body[2+nameLen] == 5
				}
			}
			if bb.bug == crashLongPropertyLength && v5 && len(body) >= 14 &&
				body[10]&0x80 != 0 && body[11]&0x80 != 0 && body[12]&0x80 != 0 && body[13]&0x80 != 0 {
				bb.crash()
				return
			}
			if v5 {
				w.Write([]byte{0x20, 3, 0, 0, 0})
			} else {
				w.Write([]byte{0x20, 2, 0, 0})
			}
		case 3: // PUBLISH
			if bb.bug == crashEmptyTopic && !v5 && len(body) >= 2 && body[0] == 0 && body[1] == 0 {
				bb.crash()
				return
			}
			topicEnd := 2
			if len(body) >= 2 {
				topicEnd += int(body[0])<<8 | int(body[1])
			}
			switch (first >> 1) & 3 {
			case 1:
				w.Write(append([]byte{0x40, 2}, id(body, topicEnd)...))
			case 2:
				w.Write(append([]byte{0x50, 2}, id(body, topicEnd)...))
			}
		case 6: // PUBREL
			w.Write(append([]byte{0x70, 2}, id(body, 0)...))
		case 8: // SUBSCRIBE
			if v5 {
				w.Write(append(append([]byte{0x90, 4}, id(body, 0)...), 0, 0))
			} else {
				w.Write(append(append([]byte{0x90, 3}, id(body, 0)...), 0))
			}
		case 10: // UNSUBSCRIBE
			if bb.bug == hangUnsubscribeID0 && len(body) >= 2 && body[0] == 0 && body[1] == 0 {
				bb.hung.Store(true)
			}
			if v5 {
				w.Write(append(append([]byte{0xb0, 4}, id(body, 0)...), 0, 0))
			} else {
				w.Write(append([]byte{0xb0, 2}, id(body, 0)...))
			}
		case 12: // PINGREQ
			if !bb.hung.Load() {
				w.Write([]byte{0xd0, 0})
			}
		case 14: // DISCONNECT
			w.Flush()
			return
		}
		if r.Buffered() == 0 {
			if w.Flush() != nil {
				return
			}
		}
	}
}
