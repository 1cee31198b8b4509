package auth

import (
	"strings"
	"testing"

	"github.com/mqttspec/mqttspec/reference/broker/auth/scram"
)

// A SCRAM-SHA-256 line lives in the same password file: it serves MQTT 5
// enhanced authentication and still checks a plain CONNECT password.
func TestSCRAMEntry(t *testing.T) {
	line, err := HashPassword([]byte("pencil"), SchemeSCRAM)
	if err != nil {
		t.Fatal(err)
	}
	pw, err := ParsePasswords(strings.NewReader("user:" + line + "\nother:" + mustHash(t, "x") + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !pw.Check("user", []byte("pencil")) || pw.Check("user", []byte("pencil!")) {
		t.Fatal("plain password check against a SCRAM entry is wrong")
	}
	creds, ok := pw.SCRAM("user")
	if !ok || creds.Iterations != scram.DefaultIterations {
		t.Fatalf("SCRAM(user) = %+v, %v", creds, ok)
	}
	if _, ok := pw.SCRAM("other"); ok {
		t.Fatal("a $7$ entry has no SCRAM keys")
	}
	// A full exchange against the stored keys.
	srv := scram.NewServer(pw.SCRAM, nil)
	cl := scram.NewClient("user", "pencil", nil)
	first, err := srv.Start(cl.First())
	if err != nil {
		t.Fatal(err)
	}
	final, err := cl.Final(first)
	if err != nil {
		t.Fatal(err)
	}
	sf, name, err := srv.Finish(final)
	if err != nil || name != "user" {
		t.Fatalf("finish: %v %q", err, name)
	}
	if err := cl.Verify(sf); err != nil {
		t.Fatal(err)
	}
}

func mustHash(t *testing.T, pw string) string {
	t.Helper()
	h, err := HashPassword([]byte(pw), "")
	if err != nil {
		t.Fatal(err)
	}
	return h
}
