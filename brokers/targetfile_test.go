package brokers

import (
	"strings"
	"testing"
)

func TestParseTargetFile(t *testing.T) {
	tg, err := ParseTargetFile(strings.NewReader(`url: tcp://127.0.0.1:1883
name: my broker
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
	for _, bad := range []struct{ yaml, want string }{
		{"name: x\n", "url is required"},
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
