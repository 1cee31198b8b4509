package broker

import (
	"sync"
	"testing"
	"time"

	"github.com/mqttspec/mqttspec/reference/packet"
)

// Retain Handling 1 sends retained messages only for a new subscription,
// 2 never; Retain As Published keeps the flag on live messages.
func TestRetainHandling(t *testing.T) {
	_, addr := startBroker(t, Config{})
	pub := connectRaw(t, addr, packet.V5, "rh-pub", true)
	pub.send(&packet.Publish{QoS: 1, PacketID: 1, Retain: true, Topic: []byte("rh/t"), Payload: []byte("kept")})
	pub.next()
	c := connectRaw(t, addr, packet.V5, "rh-sub", true)
	c.subscribe(1, packet.Subscription{Filter: "rh/#", RetainHandling: 1})
	if got := c.expectPublish(); string(got.Payload) != "kept" || !got.Retain {
		t.Fatalf("new subscription with RH=1: %+v", got)
	}
	c.subscribe(2, packet.Subscription{Filter: "rh/#", RetainHandling: 1}) // existing: nothing
	c.subscribe(3, packet.Subscription{Filter: "rh/+", RetainHandling: 2}) // never
	pub.send(&packet.Publish{QoS: 1, PacketID: 2, Topic: []byte("rh/sentinel"), Payload: []byte("sentinel")})
	pub.next()
	if got := c.expectPublish(); string(got.Payload) != "sentinel" {
		t.Fatalf("retained message re-sent for RH=1 on an existing subscription or RH=2: %q", got.Payload)
	}
}

// An expired message is not delivered; a queued one carries the remaining
// lifetime [MQTT-3.3.2-5, MQTT-3.3.2-6].
func TestMessageExpiry(t *testing.T) {
	var clock fakeClock
	clock.set(time.Now())
	_, addr := startBroker(t, Config{Now: clock.now})
	sub := dialRaw(t, addr, packet.V5)
	cp := &packet.Connect{ClientID: "exp-sub", CleanStart: true}
	cp.Properties.SessionExpiry = 60
	sub.connect(cp)
	sub.subscribe(1, packet.Subscription{Filter: "exp/#", QoS: 1})
	sub.send(&packet.Disconnect{})
	sub.expectClosed()

	pub := connectRaw(t, addr, packet.V5, "exp-pub", true)
	short := &packet.Publish{QoS: 1, PacketID: 1, Topic: []byte("exp/short"), Payload: []byte("gone")}
	short.Properties.MessageExpiry = 1
	long := &packet.Publish{QoS: 1, PacketID: 2, Topic: []byte("exp/long"), Payload: []byte("kept")}
	long.Properties.MessageExpiry = 3600
	pub.send(short)
	pub.next()
	pub.send(long)
	pub.next()
	clock.advance(2 * time.Second)
	again := dialRaw(t, addr, packet.V5)
	cp2 := &packet.Connect{ClientID: "exp-sub"}
	cp2.Properties.SessionExpiry = 60
	if ca := again.connect(cp2); !ca.SessionPresent {
		t.Fatal("session lost")
	}
	got := again.expectPublish()
	if string(got.Payload) != "kept" {
		t.Fatalf("expired message delivered: %q", got.Payload)
	}
	if e := got.Properties.MessageExpiry; e == 0 || e > 3599 {
		t.Fatalf("Message Expiry Interval %d, want the remaining lifetime below 3600", e)
	}
}

// The broker never has more unacknowledged QoS 1 messages towards a client
// than its Receive Maximum [MQTT-3.3.4-7].
func TestClientReceiveMaximum(t *testing.T) {
	_, addr := startBroker(t, Config{})
	sub := dialRaw(t, addr, packet.V5)
	cp := &packet.Connect{ClientID: "rm-sub", CleanStart: true}
	cp.Properties.ReceiveMaximum = 2
	sub.connect(cp)
	sub.subscribe(1, packet.Subscription{Filter: "rm/#", QoS: 1})
	pub := connectRaw(t, addr, packet.V5, "rm-pub", true)
	for i := 1; i <= 3; i++ {
		pub.send(&packet.Publish{QoS: 1, PacketID: uint16(i), Topic: []byte("rm/t"), Payload: []byte{byte('0' + i)}})
		pub.next()
	}
	first, second := sub.expectPublish(), sub.expectPublish()
	// A QoS 0 sentinel is queued behind the third message; with the window
	// full, nothing may arrive until an acknowledgement frees a place.
	pub.send(&packet.Publish{Topic: []byte("rm/t"), Payload: []byte("sentinel")})
	sub.ping()
	sub.send(&packet.Puback{PacketID: first.PacketID})
	third := sub.expectPublish()
	if string(third.Payload) != "3" {
		t.Fatalf("after one PUBACK got %q, want the third message", third.Payload)
	}
	sub.send(&packet.Puback{PacketID: second.PacketID})
	sub.send(&packet.Puback{PacketID: third.PacketID})
	if got := sub.expectPublish(); string(got.Payload) != "sentinel" {
		t.Fatalf("got %q, want the sentinel", got.Payload)
	}
}

// A message larger than the client's Maximum Packet Size is discarded
// [MQTT-3.1.2-25]; a packet larger than the broker's is refused with 0x95.
func TestMaximumPacketSize(t *testing.T) {
	_, addr := startBroker(t, Config{MaxPacketSize: 256})
	sub := dialRaw(t, addr, packet.V5)
	cp := &packet.Connect{ClientID: "mps-sub", CleanStart: true}
	cp.Properties.MaximumPacketSize = 64
	if ca := sub.connect(cp); ca.Properties.MaximumPacketSize != 256 {
		t.Fatalf("CONNACK Maximum Packet Size %d, want 256", ca.Properties.MaximumPacketSize)
	}
	sub.subscribe(1, packet.Subscription{Filter: "mps/#"})
	pub := connectRaw(t, addr, packet.V5, "mps-pub", true)
	pub.send(&packet.Publish{Topic: []byte("mps/big"), Payload: make([]byte, 100)})
	pub.send(&packet.Publish{Topic: []byte("mps/small"), Payload: []byte("ok")})
	if got := sub.expectPublish(); string(got.Topic) != "mps/small" {
		t.Fatalf("a message over the client's maximum was sent: %q", got.Topic)
	}
	pub.send(&packet.Publish{Topic: []byte("mps/huge"), Payload: make([]byte, 300)})
	got := pub.expectClosed()
	if len(got) != 1 || got[0].(*packet.Disconnect).ReasonCode != packet.PacketTooLarge {
		t.Fatalf("want DISCONNECT 0x95, got %v", got)
	}
}

// A will with a delay is not sent when the client comes back in time.
func TestWillDelayCancelledByReconnect(t *testing.T) {
	_, addr := startBroker(t, Config{})
	watch := connectRaw(t, addr, packet.V5, "wd-watch", true)
	watch.subscribe(1, packet.Subscription{Filter: "wd/#"})
	c := dialRaw(t, addr, packet.V5)
	cp := &packet.Connect{ClientID: "wd", CleanStart: true, Will: &packet.Will{Topic: "wd/will", Payload: []byte("dead")}}
	cp.Properties.SessionExpiry = 60
	cp.Will.Properties.WillDelay = 30
	c.connect(cp)
	c.conn.Close()
	back := dialRaw(t, addr, packet.V5)
	cp2 := &packet.Connect{ClientID: "wd"}
	cp2.Properties.SessionExpiry = 60
	if ca := back.connect(cp2); !ca.SessionPresent {
		t.Fatal("session not resumed")
	}
	mark := sentinel(t, addr, "wd/sentinel")
	if got := watch.expectPublish(); string(got.Payload) != mark {
		t.Fatalf("will sent although the session resumed within the delay: %q", got.Payload)
	}
}

// Clients cannot publish into $SYS, and '#' does not match $SYS topics
// [MQTT-4.7.2-1].
func TestSysTopics(t *testing.T) {
	_, addr := startBroker(t, Config{SysInterval: time.Hour})
	c := connectRaw(t, addr, packet.V311, "sys", true)
	c.subscribe(1, packet.Subscription{Filter: "#"})
	c.subscribe(2, packet.Subscription{Filter: "$SYS/broker/version"})
	if got := c.expectPublish(); string(got.Topic) != "$SYS/broker/version" || !got.Retain {
		t.Fatalf("got %q", got.Topic)
	}
	c.send(&packet.Publish{Topic: []byte("$SYS/broker/version"), Payload: []byte("fake")})
	mark := sentinel(t, addr, "sys/sentinel")
	if got := c.expectPublish(); string(got.Payload) != mark {
		t.Fatalf("a client's $SYS publish was delivered: %q %q", got.Topic, got.Payload)
	}
}

// fakeClock is a broker clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}
func (c *fakeClock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
