package scram

import (
	"io"
	"testing"
)

// BenchmarkExchange is one whole exchange, both sides, at 4096 iterations:
// nearly all of it is the client's PBKDF2.
func BenchmarkExchange(b *testing.B) {
	creds := vecCredentials(b)
	lookup := users(map[string]Credentials{vecUser: creds})
	b.ReportAllocs()
	for b.Loop() {
		c := NewClient(vecUser, vecPassword, nil)
		s := NewServer(lookup, nil)
		sf, err := s.Start(c.First())
		if err != nil {
			b.Fatal(err)
		}
		cf, err := c.Final(sf)
		if err != nil {
			b.Fatal(err)
		}
		sfin, _, err := s.Finish(cf)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Verify(sfin); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkServer is the broker's share of an exchange (Start and Finish,
// replaying the RFC 7677 messages): what a CONNECT with SCRAM costs it.
func BenchmarkServer(b *testing.B) {
	creds := vecCredentials(b)
	lookup := users(map[string]Credentials{vecUser: creds})
	cf, fin := []byte(vecClientFirst), []byte(vecClientFinal)
	b.ReportAllocs()
	for b.Loop() {
		s := NewServer(lookup, fixedNonce{})
		if _, err := s.Start(cf); err != nil {
			b.Fatal(err)
		}
		if _, _, err := s.Finish(fin); err != nil {
			b.Fatal(err)
		}
	}
}

// fixedNonce replays the RFC's server nonce.
type fixedNonce struct{}

func (fixedNonce) Read(p []byte) (int, error) {
	return copy(p, vecServerNonce), io.EOF
}
