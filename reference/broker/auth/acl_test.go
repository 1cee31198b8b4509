package auth

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustACL(t *testing.T, src string) *ACL {
	t.Helper()
	a, err := ParseACL(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

type accessCase struct {
	user, client, topic string
	access              Access
	want                bool
}

func runAccess(t *testing.T, a *ACL, cases []accessCase) {
	t.Helper()
	for _, c := range cases {
		if got := a.Allowed(c.user, c.client, c.topic, c.access); got != c.want {
			t.Errorf("Allowed(user %q, client %q, %q, %v) = %v, want %v", c.user, c.client, c.topic, c.access, got, c.want)
		}
	}
}

func TestACLFile(t *testing.T) {
	a, err := LoadACLFile(filepath.Join("testdata", "home.acl"))
	if err != nil {
		t.Fatal(err)
	}
	runAccess(t, a, []accessCase{
		// Anonymous: the rules before the first user line.
		{"", "anon1", "Long-Home/Wohnzimmer/Temperatur", Read, true},
		{"", "anon1", "Long-Home/Wohnzimmer/Temperatur", Write, false},
		{"", "anon1", "Long-Home/public/notice", Write, true},
		{"", "anon1", "Long-Home/Keller/Temperatur", Read, false},
		// A user with a section does not get the anonymous rules.
		{"kueche", "k1", "Long-Home/Wohnzimmer/Temperatur", Read, false},
		{"kueche", "k1", "Long-Home/Küche/Temperatur", Read, true},
		{"kueche", "k1", "Long-Home/Küche/Temperatur", Write, true},
		{"kueche", "k1", "Long-Home/Küche/Licht/set", Write, false}, // deny
		{"kueche", "k1", "Long-Home/Küche/Licht/set", Read, false},  // deny covers read too
		// The second section of "admin" adds to the first; a user name with a space.
		{"admin", "a1", "anything/at/all", Write, true},
		{"admin", "a1", "Long-Home/Keller/Tür", Read, true},
		{"admin", "a1", "$SYS/broker/uptime", Read, true},
		{"admin", "a1", "$SYS/broker/uptime", Write, false},
		{"house keeper", "h1", "Long-Home/Keller/Tür", Read, true},
		// A user without a section: patterns only.
		{"stranger", "s1", "clients/s1/out", Write, true},
		{"stranger", "s1", "Long-Home/Wohnzimmer/Temperatur", Read, false},
		// Patterns: %c and %u.
		{"kueche", "k1", "clients/k1/out", Write, true},
		{"kueche", "k1", "clients/k2/out", Write, false},
		{"kueche", "k1", "users/kueche/inbox", Read, true},
		{"kueche", "k1", "users/kueche/inbox", Write, false},
		{"", "anon1", "users//inbox", Read, false}, // %u never applies to anonymous
		{"", "anon1", "clients/anon1/x", Read, true},
		// Pattern deny, for everyone.
		{"kueche", "k1", "clients/k1/secret", Read, false},
		{"admin", "a1", "clients/a1/secret", Read, false}, // beats admin's "topic #"
		// '#' matches the parent level.
		{"kueche", "k1", "Long-Home/Küche", Read, true},
	})
}

func TestACLEmptyDeniesEverything(t *testing.T) {
	for _, src := range []string{"", "# only a comment\n\n   \n"} {
		a := mustACL(t, src)
		runAccess(t, a, []accessCase{
			{"", "c", "a", Read, false},
			{"u", "c", "a", Write, false},
		})
		if a.AllowedSubscribe("u", "c", "#") {
			t.Error("empty ACL allows subscribe")
		}
	}
	var nilACL *ACL
	if nilACL.Allowed("u", "c", "a", Read) || nilACL.AllowedSubscribe("u", "c", "a") {
		t.Error("nil ACL allows")
	}
}

func TestACLDenyPrecedence(t *testing.T) {
	a := mustACL(t, `
topic readwrite a/#
topic deny a/secret/#
topic read a/secret/public
user u
topic deny x/+/private
topic readwrite x/#
pattern deny p/%u/#
pattern readwrite p/#
user v
topic readwrite p/#
`)
	runAccess(t, a, []accessCase{
		// Order in the file does not matter: deny wins.
		{"", "c", "a/b", Write, true},
		{"", "c", "a/secret", Read, false},
		{"", "c", "a/secret/public", Read, false},
		{"u", "c", "x/1/private", Read, false},
		{"u", "c", "x/1/public", Read, true},
		// A pattern deny beats a pattern allow...
		{"u", "c", "p/u/z", Read, false},
		{"u", "c", "p/other/z", Read, true},
		// ...and, unlike Mosquitto 2.0, a topic allow too.
		{"v", "c", "p/v/z", Read, false},
		{"v", "c", "p/w/z", Read, true},
	})
}

func TestACLAccessKinds(t *testing.T) {
	a := mustACL(t, "topic r\ntopic read r2\ntopic write w\ntopic readwrite rw\ntopic deny d\n")
	runAccess(t, a, []accessCase{
		{"", "c", "r", Read, true},
		{"", "c", "r", Write, true}, // default is readwrite
		{"", "c", "r2", Read, true},
		{"", "c", "r2", Write, false},
		{"", "c", "w", Read, false},
		{"", "c", "w", Write, true},
		{"", "c", "rw", Read, true},
		{"", "c", "rw", Write, true},
		{"", "c", "d", Read, false},
		{"", "c", "d", Write, false},
		{"", "c", "r", Read | Write, false}, // only Read or Write are questions
		{"", "c", "r", 0, false},
	})
}

func TestACLPatternIdentities(t *testing.T) {
	a := mustACL(t, `
pattern readwrite clients/%c/#
pattern read users/%u/%c
pattern deny clients/%c/locked
pattern deny secret/#
user bob
topic read secret/#
topic read bob/#
`)
	runAccess(t, a, []accessCase{
		{"bob", "dev1", "clients/dev1/x", Write, true},
		{"bob", "dev1", "users/bob/dev1", Read, true},
		{"bob", "dev1", "users/bob/dev2", Read, false},
		{"bob", "dev1", "clients/dev1/locked", Write, false},
		{"bob", "dev1", "secret/plans", Read, false}, // pattern deny without %c/%u
		// '+', '#' and '/' in an identity: patterns grant nothing...
		{"bob", "+", "clients/other/x", Write, false},
		{"bob", "#", "clients/other/x", Write, false},
		{"bob", "a#", "clients/a#/x", Write, false},
		{"bob", "victim/x", "clients/victim/x/y", Write, false},
		{"b+b", "dev1", "clients/dev1/x", Write, false}, // any unsafe field disables all pattern grants
		{"b/b", "dev1", "users/b/b/dev1", Read, false},
		// ...topic rules still apply...
		{"bob", "+", "bob/anything", Read, true},
		// ...and so do deny patterns, substituted literally.
		{"bob", "+", "secret/x", Read, false},
		{"bob", "+", "clients/anyone/locked", Read, false}, // "+" widened the deny
		// Empty client ID: %c patterns grant nothing.
		{"bob", "", "clients//x", Write, false},
		// Anonymous clients: %u patterns do not apply.
		{"", "dev1", "users//dev1", Read, false},
		{"", "dev1", "clients/dev1/x", Read, true},
	})
}

func TestACLDollarTopics(t *testing.T) {
	a := mustACL(t, "topic read #\ntopic read +/status\ntopic read $SYS/broker/#\n")
	runAccess(t, a, []accessCase{
		{"", "c", "a/b", Read, true},
		{"", "c", "$SYS/broker/load", Read, true},
		{"", "c", "$SYS/other", Read, false},       // "#" does not reach '$' topics
		{"", "c", "$internal/status", Read, false}, // nor does "+/..."
	})
}

func TestParseACLSyntax(t *testing.T) {
	a := mustACL(t, "topic\tread\tx/y\n  topic write a b/c  \nuser   spaced name  \ntopic read z\npattern  deny  q/%c\n")
	runAccess(t, a, []accessCase{
		{"", "c", "x/y", Read, true},
		{"", "c", "a b/c", Write, true}, // a filter with a space
		{"spaced name", "c", "z", Read, true},
		{"", "c", "z", Read, false},
	})
	if len(a.patterns) != 1 || a.patterns[0].access != 0 || a.patterns[0].filter != "q/%c" {
		t.Errorf("patterns = %+v", a.patterns)
	}
}

func TestParseACLErrors(t *testing.T) {
	cases := []struct {
		line, want string
	}{
		{"topic", `missing topic filter after "topic"`},
		{"pattern   ", `missing topic filter after "pattern"`},
		{"user", `missing username after "user"`},
		{"user   \t", `missing username after "user"`},
		{"topic readonly a/b", `invalid access "readonly"`},
		{"topic a b", `invalid access "a"`},
		{"topic Read a/b", `invalid access "Read"`},
		{"Topic a/b", `unknown keyword "Topic"`},
		{"deny a/b", `unknown keyword "deny"`},
		{"topic read a/#/b", `invalid topic filter "a/#/b"`},
		{"topic read a+/b", `invalid topic filter "a+/b"`},
		{"topic read a/b # trailing comment", `invalid topic filter "a/b # trailing comment"`},
		{"pattern read sensors/%u-data", `%u and %c must each fill a whole topic level`},
		{"pattern read x%c/y", `%u and %c must each fill a whole topic level`},
	}
	for _, c := range cases {
		t.Run(c.line, func(t *testing.T) {
			_, err := ParseACL(strings.NewReader("# header\ntopic read ok\n\nuser u\n" + c.line + "\ntopic read later\n"))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error = %v, want *ParseError", err)
			}
			if pe.Line != 5 {
				t.Errorf("line = %d, want 5 (%v)", pe.Line, err)
			}
			if !strings.HasPrefix(err.Error(), "line 5: ") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want line 5 and %q", err, c.want)
			}
		})
	}
}

func TestLoadACLFileErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "acl")
	if err := os.WriteFile(path, []byte("topic read a\nbogus\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadACLFile(path)
	if err == nil || err.Error() != path+`:line 2: unknown keyword "bogus" (want user, topic or pattern)` {
		t.Errorf("error = %v", err)
	}
	if _, err := LoadACLFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: error = %v", err)
	}
}

func TestAllowedSubscribe(t *testing.T) {
	a := mustACL(t, `
user kueche
topic read Long-Home/Küche/#
topic write Long-Home/Küche/Licht/set
user haus
topic read Long-Home/#
topic deny Long-Home/Keller/#
topic read +/status
user sys
topic read $SYS/#
topic read #
pattern read clients/%c/#
pattern deny clients/%c/private
`)
	cases := []struct {
		user, client, filter string
		want                 bool
	}{
		{"kueche", "k", "Long-Home/Küche/#", true},
		{"kueche", "k", "Long-Home/Küche/+", true},
		{"kueche", "k", "Long-Home/Küche/Temperatur", true},
		{"kueche", "k", "Long-Home/Küche", true}, // '#' includes the parent
		{"kueche", "k", "Long-Home/#", false},    // the brief's example
		{"kueche", "k", "Long-Home/+/Temperatur", false},
		{"kueche", "k", "#", false},
		{"kueche", "k", "Long-Home/Küche/Licht/set", true}, // covered by the read rule
		{"haus", "h", "Long-Home/Wohnzimmer/#", true},
		{"haus", "h", "Long-Home/#", true},             // Keller topics are filtered per message
		{"haus", "h", "Long-Home/+/Temperatur", true},  // ditto: Long-Home/Keller/Temperatur
		{"haus", "h", "Long-Home/Keller/#", false},     // wholly denied
		{"haus", "h", "Long-Home/Keller/Licht", false}, // wholly denied
		{"haus", "h", "Long-Home/Keller", false},       // "Long-Home/Keller/#" matches its parent too
		{"haus", "h", "a/status", true},
		{"haus", "h", "$x/status", false}, // "+/status" does not reach '$' topics
		{"sys", "s", "#", true},           // the pattern deny clients/s/private applies per message
		{"sys", "s", "Long-Home/#", true},
		{"sys", "s", "$SYS/#", true},
		{"sys", "s", "$SYS/broker/+", true},
		{"sys", "s", "+/x", true},
		{"", "c1", "clients/c1/#", true}, // the deny pattern applies per message
		{"", "c1", "clients/c1/public/#", true},
		{"", "c1", "clients/c1/private", false},
		{"", "c1", "clients/c2/public", false},
		{"", "c+", "clients/c+/public", false}, // invalid filter anyway
		{"", "c1", "clients/c1/public/", true},
		{"", "c1", "a/#/b", false}, // invalid filter
		{"", "c1", "", false},
	}
	for _, c := range cases {
		if got := a.AllowedSubscribe(c.user, c.client, c.filter); got != c.want {
			t.Errorf("AllowedSubscribe(%q, %q, %q) = %v, want %v", c.user, c.client, c.filter, got, c.want)
		}
	}
}

// ClientACL.Allowed must not allocate: the broker calls it per message.
func TestClientACLAllowedAllocs(t *testing.T) {
	a := mustACL(t, "user u\ntopic read a/#\ntopic deny a/x/#\npattern readwrite c/%c/#\n")
	c := a.For("u", "dev")
	n := testing.AllocsPerRun(100, func() {
		if !c.Allowed("c/dev/t", Write) || c.Allowed("a/x/y", Read) {
			t.Fatal("wrong answer")
		}
	})
	if n != 0 {
		t.Errorf("ClientACL.Allowed allocates %v times", n)
	}
}
