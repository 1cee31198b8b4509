package scram

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestCredentialsRoundTrip(t *testing.T) {
	c := vecCredentials(t)
	enc := c.Encode()
	if enc != vecEncoded {
		t.Fatalf("Encode\n got %s\nwant %s", enc, vecEncoded)
	}
	back, err := ParseCredentials(enc)
	if err != nil {
		t.Fatal(err)
	}
	if back.Iterations != c.Iterations || !bytes.Equal(back.Salt, c.Salt) ||
		!bytes.Equal(back.StoredKey, c.StoredKey) || !bytes.Equal(back.ServerKey, c.ServerKey) {
		t.Fatalf("round trip changed the credentials: %+v / %+v", back, c)
	}
	// Parsed credentials authenticate.
	s := NewServer(users(map[string]Credentials{vecUser: back}), nil)
	if _, serr, cerr := exchange(t, NewClient(vecUser, vecPassword, nil), s); serr != nil || cerr != nil {
		t.Fatalf("server %v, client %v", serr, cerr)
	}
	if strings.ContainsAny(enc, " \t,#") {
		t.Fatalf("encoding %q contains a blank, ',' or '#'", enc)
	}
}

func TestParseCredentialsErrors(t *testing.T) {
	const salt = "W22ZaJ0SNY7soEsUEjb6gQ=="
	const k1 = "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY="
	const k2 = "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
	tests := []struct{ name, in, want string }{
		{"empty", "", "does not start with"},
		{"other scheme", "SCRAM-SHA-1$4096:" + salt + "$" + k1 + ":" + k2, "does not start with"},
		{"lower-case scheme", "scram-sha-256$4096:" + salt + "$" + k1 + ":" + k2, "does not start with"},
		{"leading blank", " SCRAM-SHA-256$4096:" + salt + "$" + k1 + ":" + k2, "does not start with"},
		{"no keys", "SCRAM-SHA-256$4096:" + salt, "no '$'"},
		{"no salt separator", "SCRAM-SHA-256$4096" + salt + "$" + k1 + ":" + k2, "no ':' between iteration count and salt"},
		{"one key", "SCRAM-SHA-256$4096:" + salt + "$" + k1, "no ':' between StoredKey and ServerKey"},
		{"count zero", "SCRAM-SHA-256$0:" + salt + "$" + k1 + ":" + k2, "iteration count"},
		{"count leading zero", "SCRAM-SHA-256$04096:" + salt + "$" + k1 + ":" + k2, "iteration count"},
		{"count signed", "SCRAM-SHA-256$+4096:" + salt + "$" + k1 + ":" + k2, "iteration count"},
		{"count too big", "SCRAM-SHA-256$10000001:" + salt + "$" + k1 + ":" + k2, "iteration count"},
		{"empty salt", "SCRAM-SHA-256$4096:$" + k1 + ":" + k2, "empty salt"},
		{"salt not base64", "SCRAM-SHA-256$4096:W22ZaJ0SNY7so*sUEjb6gQ==$" + k1 + ":" + k2, "salt is not"},
		{"salt unpadded", "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ$" + k1 + ":" + k2, "salt is not"},
		{"StoredKey short", "SCRAM-SHA-256$4096:" + salt + "$" + salt + ":" + k2, "StoredKey is 16 bytes"},
		{"ServerKey not base64", "SCRAM-SHA-256$4096:" + salt + "$" + k1 + ":" + k2[:43] + "!", "ServerKey is not"},
		{"ServerKey with extra field", "SCRAM-SHA-256$4096:" + salt + "$" + k1 + ":" + k2 + ":" + k2, "ServerKey is not"},
		{"trailing blank", "SCRAM-SHA-256$4096:" + salt + "$" + k1 + ":" + k2 + " ", "ServerKey is not"},
		{"trailing newline", "SCRAM-SHA-256$4096:" + salt + "$" + k1 + ":" + k2 + "\n", "ServerKey is not"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCredentials(tc.in)
			if !errors.Is(err, ErrInvalidCredentials) {
				t.Fatalf("%v, want ErrInvalidCredentials", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("message %q does not contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), k1) || strings.Contains(err.Error(), k2[:20]) {
				t.Fatalf("message %q quotes a key", err)
			}
		})
	}
}

func TestDeriveCredentialsErrors(t *testing.T) {
	for name, f := range map[string]func() error{
		"empty salt":       func() error { _, err := DeriveCredentials("pw", nil, 4096); return err },
		"zero iterations":  func() error { _, err := DeriveCredentials("pw", []byte("s"), 0); return err },
		"too many":         func() error { _, err := DeriveCredentials("pw", []byte("s"), MaxIterations+1); return err },
		"password control": func() error { _, err := DeriveCredentials("p\x7fw", []byte("s"), 1); return err },
		"password Greek":   func() error { _, err := DeriveCredentials("πw", []byte("s"), 1); return err },
	} {
		if err := f(); err == nil {
			t.Errorf("%s: no error", name)
		} else if !strings.Contains(err.Error(), "scram: ") {
			t.Errorf("%s: %q", name, err)
		}
	}
	defer func() {
		if recover() == nil {
			t.Fatal("NewCredentials did not panic on an empty salt")
		}
	}()
	NewCredentials("pw", nil, 4096)
}
