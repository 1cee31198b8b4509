package broker

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/mqttspec/mqttspec/reference/packet"
)

// benchTarget returns the address to benchmark: MQTTSPEC_BENCH_ADDR when set
// (to measure another broker, e.g. Mosquitto, in the same run), otherwise an
// in-process reference broker.
func benchTarget(b *testing.B) (string, string) {
	if addr := os.Getenv("MQTTSPEC_BENCH_ADDR"); addr != "" {
		return addr, os.Getenv("MQTTSPEC_BENCH_NAME")
	}
	br := New(Config{MaxQueued: 1 << 20})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go br.Serve(ln)
	b.Cleanup(func() { br.Shutdown(context.Background()) })
	return ln.Addr().String(), "reference"
}

// benchConn is a minimal pipelining client for load generation.
type benchConn struct {
	conn net.Conn
	bw   *bufio.Writer
	r    *packet.Reader
	buf  []byte
}

func dialBench(b *testing.B, addr, id string) *benchConn {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	c := &benchConn{conn: conn, bw: bufio.NewWriterSize(conn, 64<<10), r: packet.NewReader(conn, packet.DecodeOptions{Version: packet.V311})}
	c.r.Reuse = true
	c.write(&packet.Connect{ProtocolVersion: packet.V311, ClientID: id, CleanStart: true})
	c.bw.Flush()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if p, err := c.r.ReadPacket(); err != nil || p.Type() != packet.CONNACK {
		b.Fatalf("connect %s: %v", id, err)
	}
	return c
}

func (c *benchConn) write(p packet.Packet) {
	c.buf, _ = p.Append(c.buf[:0], packet.V311)
	c.bw.Write(c.buf)
}

func (c *benchConn) subscribe(b *testing.B, filter string, qos packet.QoS) {
	c.write(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: filter, QoS: qos}}})
	c.bw.Flush()
	if p, err := c.r.ReadPacket(); err != nil || p.Type() != packet.SUBACK {
		b.Fatalf("subscribe: %v", err)
	}
}

// receive counts n PUBLISH packets, acknowledging QoS 1.
func (c *benchConn) receive(n int, done chan<- error) {
	c.conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	for got := 0; got < n; {
		p, err := c.r.ReadPacket()
		if err != nil {
			done <- fmt.Errorf("after %d of %d: %w", got, n, err)
			return
		}
		if pub, ok := p.(*packet.Publish); ok {
			got++
			if pub.QoS == 1 {
				c.write(&packet.Puback{PacketID: pub.PacketID})
				if c.r.Buffered() == 0 {
					c.bw.Flush()
				}
			}
		}
	}
	c.bw.Flush()
	done <- nil
}

// publishN sends n messages; at QoS 1 it keeps a window of 64 unacknowledged.
func (c *benchConn) publishN(n int, topic []byte, qos packet.QoS, payload []byte) error {
	if qos == 0 {
		for i := 0; i < n; i++ {
			c.write(&packet.Publish{Topic: topic, Payload: payload})
		}
		return c.bw.Flush()
	}
	// A window of 64 unacknowledged publishes, so packet identifiers are
	// reused only after their PUBACK, as the protocol requires.
	window := make(chan struct{}, 64)
	acks := make(chan error, 1)
	go func() {
		for got := 0; got < n; got++ {
			if _, err := c.r.ReadPacket(); err != nil {
				acks <- err
				return
			}
			<-window
		}
		acks <- nil
	}()
	for i := 0; i < n; i++ {
		select {
		case window <- struct{}{}:
		default:
			c.bw.Flush() // the window is full: let the acks come
			window <- struct{}{}
		}
		c.write(&packet.Publish{QoS: 1, PacketID: uint16(i%60000 + 1), Topic: topic, Payload: payload})
	}
	c.bw.Flush()
	return <-acks
}

// BenchmarkFanIn: several publishers, one subscriber on a wildcard. One op
// is one message delivered.
func BenchmarkFanIn(b *testing.B) {
	for _, qos := range []packet.QoS{0, 1} {
		b.Run(fmt.Sprintf("qos%d/10pub", qos), func(b *testing.B) {
			addr, _ := benchTarget(b)
			sub := dialBench(b, addr, "fanin-sub")
			sub.subscribe(b, "bench/fanin/#", qos)
			const pubs = 10
			conns := make([]*benchConn, pubs)
			for i := range conns {
				conns[i] = dialBench(b, addr, fmt.Sprintf("fanin-pub-%d", i))
			}
			per := b.N/pubs + 1
			done := make(chan error, 1)
			payload := make([]byte, 64)
			b.SetBytes(int64(len(payload)))
			b.ResetTimer()
			go sub.receive(per*pubs, done)
			var wg sync.WaitGroup
			for i, c := range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c.publishN(per, []byte(fmt.Sprintf("bench/fanin/%d", i)), qos, payload)
				}()
			}
			wg.Wait()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(per*pubs)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkFanOut: one publisher, ten subscribers. One op is one message
// published (delivered ten times).
func BenchmarkFanOut(b *testing.B) {
	for _, qos := range []packet.QoS{0, 1} {
		b.Run(fmt.Sprintf("qos%d/10sub", qos), func(b *testing.B) {
			addr, _ := benchTarget(b)
			const subs = 10
			done := make(chan error, subs)
			conns := make([]*benchConn, subs)
			for i := range conns {
				conns[i] = dialBench(b, addr, fmt.Sprintf("fanout-sub-%d", i))
				conns[i].subscribe(b, "bench/fanout/+", qos)
			}
			pub := dialBench(b, addr, "fanout-pub")
			payload := make([]byte, 64)
			b.ResetTimer()
			for _, c := range conns {
				go c.receive(b.N, done)
			}
			if err := pub.publishN(b.N, []byte("bench/fanout/t"), qos, payload); err != nil {
				b.Fatal(err)
			}
			for range conns {
				if err := <-done; err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*subs)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}

// BenchmarkIdleConnectionMemory measures heap and stack per connected idle
// client (CONNECT done, one subscription). It counts both ends of the
// loopback connection, so it is an upper bound for the broker's share.
func BenchmarkIdleConnectionMemory(b *testing.B) {
	const n = 2000
	for i := 0; i < b.N; i++ {
		br := New(Config{})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		go br.Serve(ln)
		addr := ln.Addr().String()
		before := memInUse()
		conns := make([]net.Conn, 0, n)
		for j := 0; j < n; j++ {
			c := dialBench(b, addr, fmt.Sprintf("idle-%d", j))
			c.subscribe(b, fmt.Sprintf("Long-Home/idle-%d/#", j), 1)
			conns = append(conns, c.conn)
		}
		after := memInUse()
		b.ReportMetric(float64(after-before)/n, "B/conn")
		for _, c := range conns {
			c.Close()
		}
		br.Shutdown(context.Background())
	}
}

func memInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}
