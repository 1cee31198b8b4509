package broker_test

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/mqttspec/mqttspec/reference/broker"
	"github.com/mqttspec/mqttspec/reference/packet"
)

// FuzzBrokerConnection feeds an arbitrary byte stream into one broker
// connection over net.Pipe and checks that the broker neither panics nor
// deadlocks: while that connection is still open, a second connection must
// get CONNACK and PINGRESP, and Shutdown must return, each within a bound
// far above what a healthy broker needs. A panic in any broker goroutine
// ends the fuzzing process, which the fuzzing engine reports with the input.
//
//	go test -run '^$' -fuzz FuzzBrokerConnection -fuzztime 60s ./reference/broker
func FuzzBrokerConnection(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b := broker.New(broker.Config{TopicAliasMaximum: 10, MaxPacketSize: 64 << 10})
		ln := newPipeListener()
		served := make(chan error, 1)
		go func() { served <- b.Serve(ln) }()

		fuzzed := ln.dial()
		drained := drain(fuzzed)
		fuzzed.SetWriteDeadline(time.Now().Add(2 * time.Second))
		fuzzed.Write(data) // the broker may close first; that is fine

		// A healthy second client proves the first did not wedge the broker.
		if err := healthy(ln.dial(), 10*time.Second); err != nil {
			t.Fatalf("after the input, a second connection failed: %v", err)
		}

		fuzzed.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := b.Shutdown(ctx); err != nil {
			t.Fatalf("Shutdown did not return within 10 s (deadlock?): %v", err)
		}
		select {
		case <-drained:
		case <-time.After(10 * time.Second):
			t.Fatal("the fuzzed connection stayed open after Shutdown")
		}
		select {
		case err := <-served:
			if !errors.Is(err, broker.ErrClosed) {
				t.Fatalf("Serve returned %v, want ErrClosed", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Serve did not return after Shutdown")
		}
	})
}

// healthy runs CONNECT/CONNACK and PINGREQ/PINGRESP on conn within bound.
func healthy(conn net.Conn, bound time.Duration) error {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(bound))
	go func() {
		b, _ := packet.Encode(&packet.Connect{ProtocolVersion: packet.V311, CleanStart: true, ClientID: "fuzz-health"}, packet.V311)
		b = append(b, 0xc0, 0x00)
		conn.Write(b)
	}()
	r := packet.NewReader(conn, packet.DecodeOptions{Version: packet.V311})
	for _, want := range []packet.Type{packet.CONNACK, packet.PINGRESP} {
		p, err := r.ReadPacket()
		if err != nil {
			return err
		}
		if p.Type() != want {
			return errors.New("got " + p.Type().String() + ", want " + want.String())
		}
	}
	return nil
}

// drain reads and discards what the broker sends, so that its writes never
// block on a net.Pipe; the channel closes when the connection ends.
func drain(c net.Conn) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(io.Discard, c)
	}()
	return done
}

// pipeListener hands the broker the server ends of in-memory pipes.
type pipeListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

// dial returns the client end of a new connection the broker accepts.
func (l *pipeListener) dial() net.Conn {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
	case <-l.closed:
		server.Close()
	}
	return client
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// fuzzSeeds are valid sessions of 3.1.1 and 5.0, the starting points the
// fuzzing engine mutates.
func fuzzSeeds(tb testing.TB) [][]byte {
	session := func(v packet.Version, ps ...packet.Packet) []byte {
		var out []byte
		for _, p := range ps {
			b, err := packet.Encode(p, v)
			if err != nil {
				tb.Fatalf("seed %s: %v", p.Type(), err)
			}
			out = append(out, b...)
		}
		return out
	}
	topic := []byte("Long-Home/Küche/Temperatur")
	v5props := packet.Properties{SessionExpiry: 60, ReceiveMaximum: 10, TopicAliasMaximum: 5}
	v5props.AddUser("room", "Küche")
	aliasSet := packet.Properties{TopicAlias: 1}
	will5 := &packet.Will{QoS: 1, Topic: "Long-Home/status", Payload: []byte("offline"), Properties: packet.Properties{WillDelay: 1}}
	return [][]byte{
		session(packet.V311,
			&packet.Connect{ProtocolVersion: packet.V311, CleanStart: true, ClientID: "fz1", KeepAlive: 30},
			&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: "Long-Home/#", QoS: 2}}},
			&packet.Publish{QoS: 1, PacketID: 2, Topic: topic, Payload: []byte("21.5")},
			&packet.Publish{QoS: 2, PacketID: 3, Retain: true, Topic: topic, Payload: []byte("21.5")},
			&packet.Pubrel{PacketID: 3},
			&packet.Unsubscribe{PacketID: 4, Filters: []string{"Long-Home/#"}},
			&packet.Pingreq{},
			&packet.Disconnect{}),
		session(packet.V311,
			&packet.Connect{ProtocolVersion: packet.V311, ClientID: "fz2", Username: "alice", Password: []byte("pw"),
				Will: &packet.Will{QoS: 1, Retain: true, Topic: "Long-Home/status", Payload: []byte("offline")}},
			&packet.Publish{Topic: topic, Payload: []byte("x")}),
		session(packet.V5,
			&packet.Connect{ProtocolVersion: packet.V5, CleanStart: true, ClientID: "fz3", Properties: v5props, Will: will5},
			&packet.Subscribe{PacketID: 1, Properties: packet.Properties{SubscriptionIDs: []int{7}},
				Subscriptions: []packet.Subscription{{Filter: "Long-Home/+/Temperatur", QoS: 1, NoLocal: true, RetainHandling: 1},
					{Filter: "$share/g/Long-Home/#", QoS: 2}}},
			&packet.Publish{QoS: 1, PacketID: 2, Topic: topic, Properties: aliasSet, Payload: []byte("21.5")},
			&packet.Publish{QoS: 2, PacketID: 3, Properties: aliasSet, Payload: []byte("22")},
			&packet.Pubrel{PacketID: 3},
			&packet.Unsubscribe{PacketID: 4, Filters: []string{"Long-Home/+/Temperatur"}},
			&packet.Pingreq{},
			&packet.Disconnect{ReasonCode: packet.DisconnectWithWill}),
		session(packet.V5,
			&packet.Connect{ProtocolVersion: packet.V5, ClientID: "fz4", Properties: packet.Properties{AuthMethod: []byte("SCRAM-SHA-256")}},
			&packet.Auth{ReasonCode: packet.ContinueAuthentication, Properties: packet.Properties{AuthMethod: []byte("SCRAM-SHA-256")}}),
	}
}
