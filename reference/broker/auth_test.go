package broker

import (
	"strings"
	"testing"

	"github.com/mqttspec/mqttspec/reference/packet"
)

func authBroker(t *testing.T) string {
	t.Helper()
	sec := aliceSecurity(t)
	_, addr := startBroker(t, Config{Authenticator: sec.Authenticator, Authorizer: sec.Authorizer})
	return addr
}

func TestAuthenticationRefusals(t *testing.T) {
	addr := authBroker(t)
	for _, tc := range []struct {
		name     string
		v        packet.Version
		cp       packet.Connect
		want     packet.ReasonCode
		wantName string
	}{
		{"v311 good", packet.V311, packet.Connect{Username: "alice", Password: []byte("s3cret")}, 0, ""},
		{"v311 bad password", packet.V311, packet.Connect{Username: "alice", Password: []byte("nope")}, packet.ConnRefusedBadUsernamePassword, ""},
		{"v311 anonymous", packet.V311, packet.Connect{}, packet.ConnRefusedNotAuthorized, ""},
		{"v5 bad password", packet.V5, packet.Connect{Username: "alice", Password: []byte("nope")}, packet.BadUserNameOrPassword, ""},
		{"v5 unknown user", packet.V5, packet.Connect{Username: "mallory", Password: []byte("s3cret")}, packet.BadUserNameOrPassword, ""},
		{"v5 anonymous", packet.V5, packet.Connect{}, packet.NotAuthorized, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, addr, tc.v)
			cp := tc.cp
			cp.ClientID, cp.CleanStart = "auth-"+strings.ReplaceAll(tc.name, " ", "-"), true
			ca := c.connect(&cp)
			if ca.ReasonCode != tc.want {
				t.Fatalf("CONNACK %s, want %s", ca.ReasonCode, tc.want)
			}
			if tc.want != 0 {
				c.expectClosed() // a refused CONNECT closes [MQTT-3.2.2-5]
			}
		})
	}
}

func TestACLPublishSubscribeRetained(t *testing.T) {
	addr := authBroker(t)
	login := func(v packet.Version, id string) *raw {
		c := dialRaw(t, addr, v)
		if ca := c.connect(&packet.Connect{ClientID: id, CleanStart: true, Username: "alice", Password: []byte("s3cret")}); ca.ReasonCode != 0 {
			t.Fatalf("login: %s", ca.ReasonCode)
		}
		return c
	}
	c := login(packet.V5, "acl5")
	sa := c.subscribe(1, packet.Subscription{Filter: "Long-Home/#", QoS: 1}, packet.Subscription{Filter: "Long-Home/Küche/#", QoS: 1})
	if sa.ReasonCodes[0] != packet.NotAuthorized || sa.ReasonCodes[1] != packet.GrantedQoS1 {
		t.Fatalf("SUBACK %v, want [0x87 0x01]", sa.ReasonCodes)
	}
	// Denied publish: PUBACK 0x87 and no delivery.
	c.send(&packet.Publish{QoS: 1, PacketID: 2, Topic: []byte("Long-Home/Küche/secret"), Payload: []byte("x")})
	if ack := c.next().(*packet.Puback); ack.ReasonCode != packet.NotAuthorized {
		t.Fatalf("PUBACK %s, want 0x87", ack.ReasonCode)
	}
	c.send(&packet.Publish{QoS: 1, PacketID: 3, Topic: []byte("Long-Home/Küche/Temperatur"), Payload: []byte("21.5")})
	var got *packet.Publish
	for got == nil {
		switch p := c.next().(type) {
		case *packet.Puback:
		case *packet.Publish:
			got = p
		}
	}
	if string(got.Topic) != "Long-Home/Küche/Temperatur" {
		t.Fatalf("first delivery %q: the denied publish leaked", got.Topic)
	}
	// 3.1.1: a denied SUBSCRIBE gets 0x80.
	c3 := login(packet.V311, "acl3")
	if sa := c3.subscribe(1, packet.Subscription{Filter: "Long-Home/Bad/#"}); sa.ReasonCodes[0] != packet.SubackFailure311 {
		t.Fatalf("3.1.1 SUBACK %v, want 0x80", sa.ReasonCodes)
	}
	// %c pattern: own client id only.
	c3.send(&packet.Publish{QoS: 1, PacketID: 4, Topic: []byte("clients/acl3/state"), Payload: []byte("on")})
	c3.next()
	c3.send(&packet.Publish{QoS: 1, PacketID: 5, Topic: []byte("clients/other/state"), Payload: []byte("on")})
	c3.next() // 3.1.1 acknowledges a denied publish normally [MQTT-3.3.5-2]
}
