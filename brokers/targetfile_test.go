package brokers

import (
	"strings"
	"testing"
)

func TestParseTargetFile(t *testing.T) {
	tg, err := ParseTargetFile(strings.NewReader(`url: tcp://127.0.0.1:1883
name: my broker
websocket: ws://127.0.0.1:8080/mqtt
login: {username: tester, password: pw}
capabilities: {maximum_qos: 1, shared_subscriptions: false, versions: ["3.1.1"]}
auth:
  url: tcp://127.0.0.1:1884
  users: [{username: alice, password: secret}]
  acl:
    user: {username: alice, password: secret}
    prefix: t/
    denied_topic: t/denied
`), ".")
	if err != nil {
		t.Fatal(err)
	}
	if tg.Name != "my broker" || tg.Capabilities.MaximumQoS != 1 || tg.Capabilities.SharedSubscriptions || !tg.Capabilities.Retain {
		t.Fatalf("capabilities %+v", tg.Capabilities)
	}
	if len(tg.Capabilities.Versions) != 1 || tg.Auth == nil || tg.Auth.ACL.DeniedTopic != "t/denied" || tg.Auth.Users[0].Password != "secret" {
		t.Fatalf("auth %+v", tg.Auth)
	}
	if tg.WebSocket == nil || tg.WebSocket.URL != "ws://127.0.0.1:8080/mqtt" || tg.Login == nil || tg.Login.Username != "tester" || tg.Login.Password != "pw" {
		t.Fatalf("websocket %+v, login %+v", tg.WebSocket, tg.Login)
	}
	for _, bad := range []struct{ yaml, want string }{
		{"name: x\n", "url is required"},
		{"url: tcp://h:1\nwebsocket: tcp://h:2\n", "websocket"},
		{"url: tcp://h:1\nlogin: {password: p}\n", "login.username"},
		{"url: tcp://h:1\nauth: {users: []}\n", "auth.url"},
		{"url: tcp://h:1\ncapabilities: {maximum_qos: 3}\n", "maximum_qos"},
		{"url: tcp://h:1\nbogus: 1\n", "bogus"},
		{"url: ftp://h:1\n", "scheme"},
	} {
		if _, err := ParseTargetFile(strings.NewReader(bad.yaml), "."); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: error %v, want one mentioning %q", bad.yaml, err, bad.want)
		}
	}
}
