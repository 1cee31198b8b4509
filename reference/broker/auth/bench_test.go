package auth

import (
	"strings"
	"testing"
)

// BenchmarkCheck measures one password check, the cost the broker pays per
// CONNECT with a username: $7$ at Mosquitto's default 101 iterations and at
// a stronger 10,000, $6$, and bcrypt at its default cost 10.
func BenchmarkCheck(b *testing.B) {
	cases := []struct {
		name, scheme string
		cost         int
	}{
		{"pbkdf2-101", SchemePBKDF2, 0},
		{"pbkdf2-10000", SchemePBKDF2, 10000},
		{"sha512", SchemeSHA512, 0},
		{"bcrypt-10", SchemeBcrypt, 0},
	}
	pw := []byte("correct horse battery staple")
	for _, c := range cases {
		enc, err := HashPasswordCost(pw, c.scheme, c.cost)
		if err != nil {
			b.Fatal(err)
		}
		p, err := ParsePasswords(strings.NewReader("u:" + enc))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if !p.Check("u", pw) {
					b.Fatal("refused")
				}
			}
		})
		b.Run(c.name+"/unknown-user", func(b *testing.B) {
			for b.Loop() {
				if p.Check("nobody", pw) {
					b.Fatal("accepted")
				}
			}
		})
	}
}

func BenchmarkClientACLAllowed(b *testing.B) {
	a, err := ParseACL(strings.NewReader(`
user sensor
topic read Long-Home/+/config
topic deny Long-Home/Keller/#
topic write Long-Home/#
pattern readwrite clients/%c/#
pattern read users/%u/#
`))
	if err != nil {
		b.Fatal(err)
	}
	c := a.For("sensor", "node-0042")
	b.ReportAllocs()
	for b.Loop() {
		if !c.Allowed("Long-Home/Küche/Temperatur", Write) {
			b.Fatal("denied")
		}
	}
}
