package broker

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/mqttspec/mqttspec/reference/packet"
)

// openAt serves a persistent broker on a fresh port.
func openAt(t *testing.T, path string) (*Broker, string) {
	t.Helper()
	b, err := Open(Config{PersistencePath: path})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go b.Serve(ln)
	return b, ln.Addr().String()
}

func shutdown(t *testing.T, b *Broker) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

// The broker is stopped in the middle of QoS 1 and QoS 2 exchanges in both
// directions; after a restart nothing is lost and the QoS 2 message is not
// delivered twice.
func TestPersistenceAcrossRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "broker.db")
	b, addr := openAt(t, path)

	sub := connectRaw(t, addr, packet.V311, "p-sub", false)
	sub.subscribe(1, packet.Subscription{Filter: "p/#", QoS: 2})
	pub := connectRaw(t, addr, packet.V311, "p-pub", false)

	// Outbound QoS 1: delivered, never acknowledged.
	pub.send(&packet.Publish{QoS: 1, PacketID: 1, Topic: []byte("p/q1"), Payload: []byte("q1")})
	pub.next()
	q1 := sub.expectPublish()
	// Outbound QoS 2: PUBREC sent, PUBCOMP never.
	pub.send(&packet.Publish{QoS: 2, PacketID: 2, Topic: []byte("p/q2"), Payload: []byte("q2")})
	pub.next() // PUBREC
	pub.send(&packet.Pubrel{PacketID: 2})
	pub.next() // PUBCOMP
	q2 := sub.expectPublish()
	sub.send(&packet.Pubrec{PacketID: q2.PacketID})
	if rel, ok := sub.next().(*packet.Pubrel); !ok || rel.PacketID != q2.PacketID {
		t.Fatal("want PUBREL")
	}
	// Inbound QoS 2: the broker holds identifier 3 until PUBREL.
	pub.send(&packet.Publish{QoS: 2, PacketID: 3, Topic: []byte("p/in"), Payload: []byte("once")})
	pub.next() // PUBREC
	once := sub.expectPublish()
	sub.send(&packet.Pubrec{PacketID: once.PacketID})
	sub.next() // PUBREL
	sub.send(&packet.Pubcomp{PacketID: once.PacketID})
	// Retained.
	pub.send(&packet.Publish{QoS: 1, PacketID: 4, Retain: true, Topic: []byte("p/retained"), Payload: []byte("kept")})
	pub.next()
	r := sub.expectPublish() // at QoS 1, the publish QoS
	sub.send(&packet.Puback{PacketID: r.PacketID})
	sub.ping() // the broker handles packets in order: all acks above are processed

	shutdown(t, b)
	b2, addr2 := openAt(t, path)
	defer shutdown(t, b2)

	sub2 := dialRaw(t, addr2, packet.V311)
	if ca := sub2.connect(&packet.Connect{ClientID: "p-sub", KeepAlive: 30}); !ca.SessionPresent {
		t.Fatal("session not restored")
	}
	re1 := sub2.expectPublish()
	if !re1.Dup || re1.PacketID != q1.PacketID || string(re1.Payload) != "q1" {
		t.Fatalf("QoS 1 redelivery: %+v", re1)
	}
	sub2.send(&packet.Puback{PacketID: re1.PacketID})
	if rel, ok := sub2.next().(*packet.Pubrel); !ok || rel.PacketID != q2.PacketID {
		t.Fatal("PUBREL of the QoS 2 exchange not resent with its identifier")
	}
	sub2.send(&packet.Pubcomp{PacketID: q2.PacketID})

	// The publisher resends its QoS 2 PUBLISH (DUP): acknowledged, not forwarded again.
	pub2 := dialRaw(t, addr2, packet.V311)
	if ca := pub2.connect(&packet.Connect{ClientID: "p-pub", KeepAlive: 30}); !ca.SessionPresent {
		t.Fatal("publisher session not restored")
	}
	pub2.send(&packet.Publish{Dup: true, QoS: 2, PacketID: 3, Topic: []byte("p/in"), Payload: []byte("once")})
	if rec, ok := pub2.next().(*packet.Pubrec); !ok || rec.PacketID != 3 {
		t.Fatal("want PUBREC 3")
	}
	pub2.send(&packet.Pubrel{PacketID: 3})
	if comp, ok := pub2.next().(*packet.Pubcomp); !ok || comp.PacketID != 3 || comp.ReasonCode != 0 {
		t.Fatal("want PUBCOMP 3")
	}
	pub2.send(&packet.Publish{QoS: 1, PacketID: 5, Topic: []byte("p/sentinel"), Payload: []byte("sentinel")})
	pub2.next()
	if got := sub2.expectPublish(); string(got.Payload) != "sentinel" {
		t.Fatalf("QoS 2 message delivered twice (got %q before the sentinel)", got.Payload)
	}
	// Retained survived.
	fresh := connectRaw(t, addr2, packet.V311, "p-fresh", true)
	fresh.subscribe(1, packet.Subscription{Filter: "p/retained", QoS: 0})
	if got := fresh.expectPublish(); string(got.Payload) != "kept" || !got.Retain {
		t.Fatalf("retained after restart: %+v", got)
	}
}
