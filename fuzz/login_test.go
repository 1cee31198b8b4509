package fuzz

import (
	"context"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/mqttspec/mqttspec/brokers"
	"github.com/mqttspec/mqttspec/reference/broker"
	"github.com/mqttspec/mqttspec/reference/broker/auth"
	"github.com/mqttspec/mqttspec/reference/packet"
)

// startAuthBroker serves a reference broker that admits only user
// "fuzzer" with password "s3cret".
func startAuthBroker(t *testing.T) string {
	t.Helper()
	_, url := serveReference(t, broker.Config{TopicAliasMaximum: 10, AllowAnonymous: false,
		Authenticator: auth.CheckerFunc(func(_, user string, pw []byte, hasUser, hasPw bool) bool {
			return hasUser && hasPw && user == "fuzzer" && string(pw) == "s3cret"
		})})
	return url
}

// Against a broker without anonymous access, the target's login gets the
// sessions past CONNACK; without it they end there.
func TestLoginReachesPastConnack(t *testing.T) {
	url := startAuthBroker(t)
	run := func(login *brokers.Credential) *Summary {
		tg, err := brokers.FromURL(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		tg.Login = login
		sum, err := Run(context.Background(), Config{Target: tg, MaxExecs: 300, Seed: 4, Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range sum.Findings {
			if f.Oracle == OracleCrash || f.Oracle == OracleHang {
				t.Errorf("%s: %s", f.Oracle, f.Detail)
			}
		}
		return sum
	}
	with := run(&brokers.Credential{Username: "fuzzer", Password: "s3cret"})
	without := run(nil)
	if with.ResponseTypes["SUBACK"] == 0 || with.ResponseTypes["PUBACK"]+with.ResponseTypes["PUBREC"] == 0 {
		t.Errorf("with the login no session got past CONNACK: answers %v", with.ResponseTypes)
	}
	if without.ResponseTypes["SUBACK"] != 0 {
		t.Errorf("without a login the broker answered SUBSCRIBE: %v (is anonymous access really off?)", without.ResponseTypes)
	}
}

// A reproducer file never holds the login's password; replay puts it back
// (the broker admits the replayed CONNECT) and refuses without the login.
func TestFindingsHideThePassword(t *testing.T) {
	login := &brokers.Credential{Username: "fuzzer", Password: "s3cret"}
	connect, err := packet.Encode(&packet.Connect{ProtocolVersion: packet.V311, CleanStart: true, ClientID: "c1",
		Username: login.Username, Password: []byte(login.Password)}, packet.V311)
	if err != nil {
		t.Fatal(err)
	}
	in := &Input{Version: packet.V311, Packets: [][]byte{connect, {0xa2, 0x02, 0x00, 0x01}}}
	f := &Finding{Format: FindingFormat, ID: "0123456789ab", Oracle: OracleCrash}
	redactFinding(f, in, []*Input{in.Clone()}, login)
	if len(f.Redacted) != 2 {
		t.Fatalf("redactions %+v, want one per connection", f.Redacted)
	}
	path, err := f.Save(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), login.Password) || strings.Contains(string(b), hex.EncodeToString([]byte(login.Password))) {
		t.Fatalf("the reproducer file holds the password:\n%s", b)
	}
	loaded, err := LoadFinding(path)
	if err != nil {
		t.Fatal(err)
	}
	seq, err := loaded.loginSequence(login)
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(seq[1].Packets[0]) != hex.EncodeToString(connect) || hex.EncodeToString(seq[0].Packets[0]) != hex.EncodeToString(connect) {
		t.Errorf("restored CONNECT %x, want %x", seq[1].Packets[0], connect)
	}
	if _, err := loaded.loginSequence(nil); err == nil || !strings.Contains(err.Error(), "MQTTSPEC_PASSWORD") {
		t.Errorf("without the login: %v", err)
	}
	if _, err := loaded.loginSequence(&brokers.Credential{Username: "fuzzer", Password: "longer-one"}); err == nil {
		t.Error("a password of another length was put in")
	}

	// The replayed CONNECT carries the password again: the broker admits it.
	tg, err := brokers.FromURL(startAuthBroker(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	tg.Login = login
	out, err := Replay(context.Background(), tg, loaded, ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.Signature, "CONNACK:00") {
		t.Errorf("replay signature %q: the broker did not admit the restored CONNECT", out.Signature)
	}
}
