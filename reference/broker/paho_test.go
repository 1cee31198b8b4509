package broker

import (
	"context"
	"net"
	"testing"
	"time"

	paho5 "github.com/eclipse/paho.golang/paho"
	paho3 "github.com/eclipse/paho.mqtt.golang"
)

// A standard 3.1.1 client works: subscribe with a wildcard, publish at every
// QoS, retained state included.
func TestPahoV311(t *testing.T) {
	_, addr := startBroker(t, Config{})
	got := make(chan paho3.Message, 8)
	opts := paho3.NewClientOptions().AddBroker("tcp://" + addr).SetClientID("paho3").SetAutoReconnect(false)
	c := paho3.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(waitBound) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer c.Disconnect(0)
	if tok := c.Subscribe("Long-Home/#", 2, func(_ paho3.Client, m paho3.Message) { got <- m }); !tok.WaitTimeout(waitBound) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	for qos := byte(0); qos <= 2; qos++ {
		if tok := c.Publish("Long-Home/Küche/Temperatur", qos, qos == 2, []byte{'0' + qos}); !tok.WaitTimeout(waitBound) || tok.Error() != nil {
			t.Fatalf("publish qos %d: %v", qos, tok.Error())
		}
	}
	for qos := byte(0); qos <= 2; qos++ {
		select {
		case m := <-got:
			if m.Topic() != "Long-Home/Küche/Temperatur" || m.Qos() != qos || string(m.Payload()) != string([]byte{'0' + qos}) {
				t.Fatalf("message %d: topic %q qos %d payload %q", qos, m.Topic(), m.Qos(), m.Payload())
			}
		case <-time.After(waitBound):
			t.Fatalf("message at QoS %d not delivered", qos)
		}
	}
}

// A standard 5.0 client works: user properties, response topic and
// correlation data travel unchanged.
func TestPahoV5(t *testing.T) {
	_, addr := startBroker(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *paho5.Publish, 1)
	c := paho5.NewClient(paho5.ClientConfig{Conn: conn, OnPublishReceived: []func(paho5.PublishReceived) (bool, error){
		func(pr paho5.PublishReceived) (bool, error) { got <- pr.Packet; return true, nil }}})
	ca, err := c.Connect(ctx, &paho5.Connect{ClientID: "paho5", CleanStart: true, KeepAlive: 30})
	if err != nil || ca.ReasonCode != 0 {
		t.Fatalf("connect: %v %+v", err, ca)
	}
	defer c.Disconnect(&paho5.Disconnect{})
	if _, err := c.Subscribe(ctx, &paho5.Subscribe{Subscriptions: []paho5.SubscribeOptions{{Topic: "Long-Home/Wohnzimmer/#", QoS: 2}}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Publish(ctx, &paho5.Publish{Topic: "Long-Home/Wohnzimmer/Licht/set", QoS: 2, Payload: []byte("on"),
		Properties: &paho5.PublishProperties{ResponseTopic: "Long-Home/reply", CorrelationData: []byte{1, 2},
			User: paho5.UserProperties{{Key: "room", Value: "Wohnzimmer"}}}})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if string(m.Payload) != "on" || m.QoS != 2 || m.Properties.ResponseTopic != "Long-Home/reply" ||
			string(m.Properties.CorrelationData) != "\x01\x02" || m.Properties.User.Get("room") != "Wohnzimmer" {
			t.Fatalf("delivered %+v props %+v", m, m.Properties)
		}
	case <-time.After(waitBound):
		t.Fatal("not delivered")
	}
}
