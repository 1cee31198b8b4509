package broker

import (
	"bytes"
	"testing"

	"github.com/mqttspec/mqttspec/reference/packet"
)

func TestQoSFlowsBothVersions(t *testing.T) {
	_, addr := startBroker(t, Config{})
	for _, v := range []packet.Version{packet.V31, packet.V311, packet.V5} {
		t.Run(v.String(), func(t *testing.T) {
			id := "sub-" + v.String()
			sub := connectRaw(t, addr, v, id, true)
			sa := sub.subscribe(1, packet.Subscription{Filter: "qos/" + v.String() + "/#", QoS: 2})
			if len(sa.ReasonCodes) != 1 || sa.ReasonCodes[0] != packet.GrantedQoS2 {
				t.Fatalf("SUBACK codes %v", sa.ReasonCodes)
			}
			pub := connectRaw(t, addr, v, "pub-"+v.String(), true)
			for qos := packet.QoS(0); qos <= 2; qos++ {
				topic := "qos/" + v.String() + "/Küche/Temperatur"
				pub.send(&packet.Publish{QoS: qos, PacketID: uint16(10 + qos), Topic: []byte(topic), Payload: []byte{byte('0' + qos)}})
				switch qos {
				case 1:
					if ack, ok := pub.next().(*packet.Puback); !ok || ack.PacketID != 11 {
						t.Fatalf("want PUBACK 11, got %#v", ack)
					}
				case 2:
					if rec, ok := pub.next().(*packet.Pubrec); !ok || rec.PacketID != 12 {
						t.Fatalf("want PUBREC 12")
					}
					pub.send(&packet.Pubrel{PacketID: 12})
					if comp, ok := pub.next().(*packet.Pubcomp); !ok || comp.PacketID != 12 {
						t.Fatalf("want PUBCOMP 12")
					}
				}
				got := sub.expectPublish()
				if got.QoS != qos || string(got.Topic) != topic || !bytes.Equal(got.Payload, []byte{byte('0' + qos)}) {
					t.Fatalf("delivered %+v", got)
				}
				switch qos {
				case 1:
					sub.send(&packet.Puback{PacketID: got.PacketID})
				case 2:
					sub.send(&packet.Pubrec{PacketID: got.PacketID})
					if rel, ok := sub.next().(*packet.Pubrel); !ok || rel.PacketID != got.PacketID {
						t.Fatal("want PUBREL")
					}
					sub.send(&packet.Pubcomp{PacketID: got.PacketID})
				}
			}
		})
	}
}

func TestRetainedSetReplaceClear(t *testing.T) {
	_, addr := startBroker(t, Config{})
	pub := connectRaw(t, addr, packet.V311, "retain-pub", true)
	topic := []byte("Long-Home/Küche/Temperatur")
	for _, payload := range []string{"21.0", "21.5"} {
		pub.send(&packet.Publish{QoS: 1, PacketID: 1, Retain: true, Topic: topic, Payload: []byte(payload)})
		pub.next()
	}
	sub := connectRaw(t, addr, packet.V311, "retain-sub", true)
	sub.subscribe(1, packet.Subscription{Filter: "Long-Home/#", QoS: 1})
	got := sub.expectPublish()
	if !got.Retain || string(got.Payload) != "21.5" {
		t.Fatalf("retained delivery: retain=%v payload=%q, want retain=1 payload 21.5", got.Retain, got.Payload)
	}
	sub.send(&packet.Puback{PacketID: got.PacketID})
	// Clear it; a new subscriber must then receive only the sentinel.
	pub.send(&packet.Publish{QoS: 1, PacketID: 2, Retain: true, Topic: topic})
	pub.next()
	sub2 := connectRaw(t, addr, packet.V311, "retain-sub2", true)
	sub2.subscribe(1, packet.Subscription{Filter: "Long-Home/#", QoS: 0})
	mark := sentinel(t, addr, "Long-Home/sentinel")
	if got := sub2.expectPublish(); string(got.Payload) != mark {
		t.Fatalf("cleared retained message still delivered: %q", got.Payload)
	}
}

func TestWillOnAbnormalCloseNotOnDisconnect(t *testing.T) {
	_, addr := startBroker(t, Config{})
	sub := connectRaw(t, addr, packet.V5, "will-watch", true)
	sub.subscribe(1, packet.Subscription{Filter: "will/#", QoS: 1})

	normal := dialRaw(t, addr, packet.V5)
	normal.connect(&packet.Connect{ClientID: "will-normal", CleanStart: true, Will: &packet.Will{Topic: "will/normal", Payload: []byte("gone")}})
	normal.send(&packet.Disconnect{})
	normal.expectClosed()

	abrupt := dialRaw(t, addr, packet.V5)
	abrupt.connect(&packet.Connect{ClientID: "will-abrupt", CleanStart: true, Will: &packet.Will{Topic: "will/abrupt", Payload: []byte("dead"), QoS: 1}})
	abrupt.conn.Close()

	got := sub.expectPublish()
	if string(got.Topic) != "will/abrupt" || string(got.Payload) != "dead" {
		t.Fatalf("first message on will/# is %q %q; the normal DISCONNECT's will must not be sent", got.Topic, got.Payload)
	}
}

func TestPersistentSessionQueuesAndRedeliversWithDup(t *testing.T) {
	_, addr := startBroker(t, Config{})
	sub := connectRaw(t, addr, packet.V311, "persist", false)
	sub.subscribe(1, packet.Subscription{Filter: "persist/t", QoS: 1})
	pub := connectRaw(t, addr, packet.V311, "persist-pub", true)
	pub.send(&packet.Publish{QoS: 1, PacketID: 1, Topic: []byte("persist/t"), Payload: []byte("one")})
	pub.next()
	first := sub.expectPublish() // not acknowledged
	sub.conn.Close()
	pub.send(&packet.Publish{QoS: 1, PacketID: 2, Topic: []byte("persist/t"), Payload: []byte("two")})
	pub.next()

	again := dialRaw(t, addr, packet.V311)
	ca := again.connect(&packet.Connect{ClientID: "persist", KeepAlive: 30})
	if !ca.SessionPresent {
		t.Fatal("Session Present is 0 for a resumed session [MQTT-3.2.2-2]")
	}
	re := again.expectPublish()
	if !re.Dup || re.PacketID != first.PacketID || string(re.Payload) != "one" {
		t.Fatalf("redelivery: dup=%v id=%d payload=%q, want dup=1 id=%d one", re.Dup, re.PacketID, re.Payload, first.PacketID)
	}
	again.send(&packet.Puback{PacketID: re.PacketID})
	// "two" was queued while offline, or sent to the closing connection and
	// so redelivered with DUP: both are correct, its order is not optional.
	queued := again.expectPublish()
	if string(queued.Payload) != "two" {
		t.Fatalf("queued message: %+v", queued)
	}
}

func TestSessionTakeover(t *testing.T) {
	_, addr := startBroker(t, Config{})
	first := connectRaw(t, addr, packet.V5, "takeover", true)
	connectRaw(t, addr, packet.V5, "takeover", true)
	got := first.expectClosed()
	if len(got) != 1 {
		t.Fatalf("old connection got %d packets, want one DISCONNECT", len(got))
	}
	if d, ok := got[0].(*packet.Disconnect); !ok || d.ReasonCode != packet.SessionTakenOver {
		t.Fatalf("old connection got %#v, want DISCONNECT 0x8E", got[0])
	}
}

func TestMalformedCloses(t *testing.T) {
	_, addr := startBroker(t, Config{})
	c5 := connectRaw(t, addr, packet.V5, "malformed5", true)
	c5.sendBytes([]byte{0x36, 0x05, 0x00, 0x01, 'a', 0x00, 0x01}) // QoS 3
	got := c5.expectClosed()
	if len(got) != 1 || got[0].(*packet.Disconnect).ReasonCode != packet.MalformedPacket {
		t.Fatalf("want DISCONNECT 0x81 before close, got %v", got)
	}
	c3 := connectRaw(t, addr, packet.V311, "malformed3", true)
	c3.sendBytes([]byte{0x82, 0x02, 0x00, 0x01}) // SUBSCRIBE with wrong flags and no payload
	if got := c3.expectClosed(); len(got) != 0 {
		t.Fatalf("3.1.1 connection got %d packets before close, want none", len(got))
	}
}

func TestKeepAliveClosesSilentClient(t *testing.T) {
	_, addr := startBroker(t, Config{})
	c := dialRaw(t, addr, packet.V5)
	c.connect(&packet.Connect{ClientID: "silent", CleanStart: true, KeepAlive: 1})
	got := c.expectClosed() // within waitBound; the broker allows 1.5 s
	if len(got) != 1 || got[0].(*packet.Disconnect).ReasonCode != packet.KeepAliveTimeout {
		t.Fatalf("want DISCONNECT 0x8D, got %v", got)
	}
}

func TestSharedSubscriptionRoundRobin(t *testing.T) {
	_, addr := startBroker(t, Config{})
	a := connectRaw(t, addr, packet.V5, "share-a", true)
	b := connectRaw(t, addr, packet.V5, "share-b", true)
	a.subscribe(1, packet.Subscription{Filter: "$share/g/shared/t", QoS: 0})
	b.subscribe(1, packet.Subscription{Filter: "$share/g/shared/t", QoS: 0})
	pub := connectRaw(t, addr, packet.V5, "share-pub", true)
	for i := 0; i < 4; i++ {
		pub.send(&packet.Publish{Topic: []byte("shared/t"), Payload: []byte{byte(i)}})
	}
	pa, pb := a.expectPublish(), b.expectPublish()
	if pa.Payload[0] == pb.Payload[0] {
		t.Fatal("both members received the same message")
	}
	pa2, pb2 := a.expectPublish(), b.expectPublish()
	seen := map[byte]bool{pa.Payload[0]: true, pb.Payload[0]: true, pa2.Payload[0]: true, pb2.Payload[0]: true}
	if len(seen) != 4 {
		t.Fatalf("messages not spread over the group: %v", seen)
	}
}

func TestV5Features(t *testing.T) {
	_, addr := startBroker(t, Config{})
	c := connectRaw(t, addr, packet.V5, "feat", true)
	c.send(&packet.Subscribe{PacketID: 1, Properties: packet.Properties{SubscriptionIDs: []int{7}},
		Subscriptions: []packet.Subscription{{Filter: "feat/#", QoS: 1, NoLocal: true}}})
	c.next()
	c.send(&packet.Subscribe{PacketID: 2, Properties: packet.Properties{SubscriptionIDs: []int{9}},
		Subscriptions: []packet.Subscription{{Filter: "feat/+/x", QoS: 0, RetainAsPublished: true}}})
	c.next()
	// Own message with No Local on feat/# but not on feat/+/x: one copy, with
	// only subscription 9, at QoS 0.
	pub := &packet.Publish{QoS: 0, Retain: true, Topic: []byte("feat/a/x"), Payload: []byte("p")}
	pub.Properties.TopicAlias = 3
	pub.Properties.AddUser("k", "v")
	c.send(pub)
	got := c.expectPublish()
	if len(got.Properties.SubscriptionIDs) != 1 || got.Properties.SubscriptionIDs[0] != 9 || got.QoS != 0 || !got.Retain {
		t.Fatalf("got ids=%v qos=%d retain=%v", got.Properties.SubscriptionIDs, got.QoS, got.Retain)
	}
	if len(got.Properties.User) != 1 || string(got.Properties.User[0].Key) != "k" {
		t.Fatal("user property not forwarded")
	}
	// The alias alone now stands for feat/a/x.
	alias := &packet.Publish{Payload: []byte("q")}
	alias.Properties.TopicAlias = 3
	c.send(alias)
	if got := c.expectPublish(); string(got.Topic) != "feat/a/x" || string(got.Payload) != "q" {
		t.Fatalf("alias publish delivered as %q %q", got.Topic, got.Payload)
	}
}

// A second CONNECT on a 5.0 connection that the decoder refuses with a code
// only CONNACK may carry (here an unknown protocol level, 0x84) ends the
// connection with DISCONNECT 0x82 Protocol Error [MQTT-3.1.0-2]: the
// network fuzzer found the broker sending DISCONNECT 0x84, which DISCONNECT
// may not carry.
func TestSecondConnectWithBadLevelIsProtocolError(t *testing.T) {
	_, addr := startBroker(t, Config{})
	c := connectRaw(t, addr, packet.V5, "second-connect", true)
	c.sendBytes([]byte{0x10, 0x0f, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x80, 0x02, 0xff, 0xff, 0x02, 0x19, 0x01, 0x00, 0x00})
	got := c.expectClosed()
	if len(got) != 1 {
		t.Fatalf("got %d packets before the close, want one DISCONNECT: %v", len(got), got)
	}
	d, ok := got[0].(*packet.Disconnect)
	if !ok || d.ReasonCode != packet.ProtocolError {
		t.Fatalf("got %v, want DISCONNECT 0x82 Protocol Error", got[0])
	}
}
