package auth

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Plain-text passwords of testdata/mosquitto-2.0.11.passwd and
// testdata/bcrypt.passwd.
var vectorPasswords = map[string]string{
	"alice": "correct horse",
	"bob":   "s3cr3t:with:colons",
	"carol": "Küche-Temperatur",
	"dave":  "p@ss w0rd!",
	"erin":  "x",
	"frank": "",
	"gina":  "bcrypt-2a",
	"hank":  "Wohnzimmer/#",
	"ivy":   "Bad Küche 2",
}

func TestVectorFiles(t *testing.T) {
	for _, file := range []string{"mosquitto-2.0.11.passwd", "bcrypt.passwd"} {
		t.Run(file, func(t *testing.T) {
			p, err := LoadPasswordFile(filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			if p.Len() == 0 {
				t.Fatal("no users")
			}
			for user := range p.users {
				pw, ok := vectorPasswords[user]
				if !ok {
					t.Fatalf("no plain text for %q", user)
				}
				if !p.Check(user, []byte(pw)) {
					t.Errorf("Check(%q, right password) = false", user)
				}
				for _, wrong := range []string{pw + "!", strings.ToUpper(pw) + "?", "", "x" + pw} {
					if wrong == pw {
						continue
					}
					if p.Check(user, []byte(wrong)) {
						t.Errorf("Check(%q, %q) = true, want false", user, wrong)
					}
				}
				// Mosquitto would stop at the zero byte and accept this.
				if p.Check(user, []byte(pw+"\x00junk")) {
					t.Errorf("Check(%q, password+NUL+junk) = true", user)
				}
			}
			if p.Check("nobody", []byte("correct horse")) {
				t.Error("unknown user accepted")
			}
		})
	}
}

// TestMosquittoPasswdLive runs the installed mosquitto_passwd, if any, so a
// newer Mosquitto is checked too. The fixed vectors above do not need it.
func TestMosquittoPasswdLive(t *testing.T) {
	bin, err := exec.LookPath("mosquitto_passwd")
	if err != nil {
		t.Skip("mosquitto_passwd not installed")
	}
	file := filepath.Join(t.TempDir(), "pw")
	const pw = "Long-Home/Küche: 21.5 °C"
	args := [][]string{
		{"-c", "-b", file, "pbkdf2", pw},
		{"-H", "sha512", "-b", file, "sha512", pw},
		{"-I", "7", "-b", file, "iter7", pw},
	}
	for _, a := range args {
		if out, err := exec.Command(bin, a...).CombinedOutput(); err != nil {
			t.Fatalf("mosquitto_passwd %v: %v\n%s", a, err, out)
		}
	}
	p, err := LoadPasswordFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"pbkdf2", "sha512", "iter7"} {
		if !p.Check(u, []byte(pw)) {
			t.Errorf("Check(%q) = false", u)
		}
		if p.Check(u, []byte(pw[:len(pw)-1])) {
			t.Errorf("Check(%q, truncated) = true", u)
		}
	}
}

func TestHashPasswordRoundTrip(t *testing.T) {
	cases := []struct {
		scheme string
		cost   int
		prefix string
	}{
		{"", 0, "$7$101$"},
		{SchemePBKDF2, 0, "$7$101$"},
		{SchemePBKDF2, 1, "$7$1$"},
		{SchemePBKDF2, 5000, "$7$5000$"},
		{SchemeSHA512, 0, "$6$"},
		{SchemeBcrypt, 4, "$2a$04$"},
	}
	passwords := []string{"", "x", "correct horse", "Küche-Temperatur", strings.Repeat("p", 72)}
	for _, c := range cases {
		for _, pw := range passwords {
			enc, err := HashPasswordCost([]byte(pw), c.scheme, c.cost)
			if err != nil {
				t.Fatalf("%s/%d: %v", c.scheme, c.cost, err)
			}
			if !strings.HasPrefix(enc, c.prefix) {
				t.Fatalf("%s/%d: hash %q lacks prefix %q", c.scheme, c.cost, enc, c.prefix)
			}
			p, err := ParsePasswords(strings.NewReader("u:" + enc + "\n"))
			if err != nil {
				t.Fatalf("%s: own hash does not parse: %v", c.scheme, err)
			}
			if !p.Check("u", []byte(pw)) {
				t.Errorf("%s/%d: Check(right %q) = false", c.scheme, c.cost, pw)
			}
			if p.Check("u", []byte(pw+"y")) {
				t.Errorf("%s/%d: Check(wrong) = true", c.scheme, c.cost)
			}
		}
	}
	// Two hashes of one password differ (random salt).
	a, _ := HashPassword([]byte("pw"), "")
	b, _ := HashPassword([]byte("pw"), "")
	if a == b {
		t.Error("two $7$ hashes of one password are equal")
	}
}

func TestHashPasswordErrors(t *testing.T) {
	cases := []struct {
		pw     string
		scheme string
		cost   int
		want   string
	}{
		{"a\x00b", "", 0, "zero byte"},
		{"pw", "md5", 0, "unknown hash scheme"},
		{"pw", SchemeSHA512, 5, "no cost"},
		{"pw", SchemePBKDF2, -1, "negative cost"},
		{"pw", SchemeBcrypt, 3, "outside"},
		{"pw", SchemeBcrypt, 32, "outside"},
		{strings.Repeat("p", 73), SchemeBcrypt, 4, "72 bytes"},
	}
	for _, c := range cases {
		_, err := HashPasswordCost([]byte(c.pw), c.scheme, c.cost)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("HashPasswordCost(%q, %q, %d) error = %v, want it to mention %q", c.pw, c.scheme, c.cost, err, c.want)
		}
	}
}

// A bcrypt hash of the first 72 bytes must not admit a longer password.
func TestBcryptLongPasswordRefused(t *testing.T) {
	pw := strings.Repeat("k", 72)
	enc, err := HashPasswordCost([]byte(pw), SchemeBcrypt, 4)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePasswords(strings.NewReader("u:" + enc))
	if err != nil {
		t.Fatal(err)
	}
	if !p.Check("u", []byte(pw)) {
		t.Fatal("72-byte password refused")
	}
	if p.Check("u", []byte(pw+"extra")) {
		t.Error("73+ byte password accepted against bcrypt")
	}
}

func TestParsePasswordsAccepts(t *testing.T) {
	h6, _ := HashPassword([]byte("six"), SchemeSHA512)
	h7, _ := HashPassword([]byte("seven"), "")
	in := strings.Join([]string{
		"# comment",
		"",
		"   ",
		"  # indented comment",
		"six:" + h6,
		"  seven  :  " + h7 + "  \r",
		"Küche:" + h7,
		"with space:" + h6,
	}, "\n")
	p, err := ParsePasswords(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		user, pw string
		want     bool
	}{
		{"six", "six", true},
		{"seven", "seven", true},
		{"Küche", "seven", true},
		{"with space", "six", true},
		{"  seven  ", "seven", false},
		{"six", "seven", false},
		{"# comment", "", false},
	}
	for _, c := range checks {
		if got := p.Check(c.user, []byte(c.pw)); got != c.want {
			t.Errorf("Check(%q, %q) = %v, want %v", c.user, c.pw, got, c.want)
		}
	}
	if p.Len() != 4 {
		t.Errorf("Len = %d, want 4", p.Len())
	}
	empty, err := ParsePasswords(strings.NewReader("# nothing\n\n"))
	if err != nil || empty.Len() != 0 || empty.Check("six", []byte("six")) {
		t.Errorf("empty file: %v, %d users", err, empty.Len())
	}
}

func TestParsePasswordsErrors(t *testing.T) {
	good := "$7$101$RIQ7tng937G89qtp$RCCC41MgJUC72keivP4CEgfMPFrL+K13VNQd/Ty3/lY7CbMWp3sI9g+bjoETjcT0Dt1qAVAj5AY3NxhkL9ZrEA=="
	good6 := "$6$gQ04Ysc/uPcrC8BQ$YVZlHnd6cdMiaj5wya2gMx4Wii9anFb7Pb3gxdnfyZN1PYdHcRYT1C0vrk5rVSYXQ38XVLt/WwdxyuHFTOxQmw=="
	salt, sum := "RIQ7tng937G89qtp", "RCCC41MgJUC72keivP4CEgfMPFrL+K13VNQd/Ty3/lY7CbMWp3sI9g+bjoETjcT0Dt1qAVAj5AY3NxhkL9ZrEA=="
	cases := []struct {
		name string
		line string
		want string
	}{
		{"no colon", "alice", "no ':'"},
		{"empty user", ":" + good, "empty username"},
		{"blank user", "   :" + good, "empty username"},
		{"no hash", "alice:", "no password hash"},
		{"blank hash", "alice:   ", "no password hash"},
		{"second colon", "alice:" + good + ":x", "unexpected ':'"},
		{"plain text", "alice:secret", "plain-text"},
		{"unknown type", "alice:$1$abc$def", "unsupported hash type $1$"},
		{"argon2", "alice:$argon2id$v=19$m=65536", "unsupported hash type $argon2id$"},
		{"6 too few", "alice:$6$" + salt, "$6$<salt>$<hash>"},
		{"6 too many", "alice:$6$" + salt + "$" + sum + "$x", "$6$<salt>$<hash>"},
		{"7 too few", "alice:$7$101$" + salt, "$7$<iterations>$<salt>$<hash>"},
		{"7 iter zero", "alice:$7$0$" + salt + "$" + sum, "between 1 and"},
		{"7 iter huge", "alice:$7$99999999999$" + salt + "$" + sum, "between 1 and"},
		{"7 iter text", "alice:$7$10x$" + salt + "$" + sum, "not a decimal"},
		{"7 iter sign", "alice:$7$+10$" + salt + "$" + sum, "not a decimal"},
		{"7 iter empty", "alice:$7$$" + salt + "$" + sum, "not a decimal"},
		{"salt b64", "alice:$7$101$R!Q7tng937G89qtp$" + sum, "salt is not valid base64"},
		{"salt url b64", "alice:$7$101$RIQ7tng937G89q-_$" + sum, "salt is not valid base64"},
		{"salt short", "alice:$7$101$RIQ7tng937G8$" + sum, "salt is 9 bytes, want 12"},
		{"hash b64", "alice:$7$101$" + salt + "$" + sum[:len(sum)-2], "hash is not valid base64"},
		{"hash short", "alice:$6$" + salt + "$" + sum[:64], "hash is 48 bytes, want 64"},
		{"bcrypt short", "alice:$2b$04$vIB6H.I8LZ/HG1zLIw8LJO", "malformed bcrypt"},
		{"bcrypt cost", "alice:$2b$99$vIB6H.I8LZ/HG1zLIw8LJOpvd18Ftg2ZIjfYAlxHcAyqq9naq24zS", "malformed bcrypt"},
		{"bcrypt 2x", "alice:$2x$04$vIB6H.I8LZ/HG1zLIw8LJOpvd18Ftg2ZIjfYAlxHcAyqq9naq24zS", "unsupported hash type $2x$"},
		{"bad utf8", "al\xffice:" + good, "not valid UTF-8"},
		{"long user", strings.Repeat("u", 65536) + ":" + good, "longer than 65,535"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := "# header\n\nbob:" + good6 + "\n" + c.line + "\n"
			_, err := ParsePasswords(strings.NewReader(in))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error = %v, want *ParseError", err)
			}
			if pe.Line != 4 {
				t.Errorf("line = %d, want 4 (%v)", pe.Line, err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "line 4: ") {
				t.Errorf("error %q does not start with the line", err)
			}
			// Never leak the hash (or a would-be plain-text password).
			for _, secret := range []string{salt, sum, "secret", "vIB6H.I8LZ"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q contains hash material %q", err, secret)
				}
			}
		})
	}
}

func TestParsePasswordsDuplicate(t *testing.T) {
	h, _ := HashPassword([]byte("pw"), "")
	in := "alice:" + h + "\n# c\nbob:" + h + "\nalice:" + h + "\n"
	_, err := ParsePasswords(strings.NewReader(in))
	if err == nil || err.Error() != `line 4: user "alice" is already defined on line 1` {
		t.Errorf("error = %v", err)
	}
}

func TestLoadPasswordFileErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pw")
	if err := os.WriteFile(path, []byte("ok:$6$gQ04Ysc/uPcrC8BQ$YVZlHnd6cdMiaj5wya2gMx4Wii9anFb7Pb3gxdnfyZN1PYdHcRYT1C0vrk5rVSYXQ38XVLt/WwdxyuHFTOxQmw==\nbroken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadPasswordFile(path)
	if err == nil || err.Error() != path+":line 2: no ':' between username and password hash" {
		t.Errorf("error = %v", err)
	}
	_, err = LoadPasswordFile(filepath.Join(dir, "missing"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: error = %v, want ErrNotExist", err)
	}
	long := filepath.Join(dir, "long")
	if err := os.WriteFile(long, []byte("# ok\n"+strings.Repeat("x", maxLine+1)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = LoadPasswordFile(long)
	if err == nil || !strings.Contains(err.Error(), ":line 2: line longer than") {
		t.Errorf("long line: error = %v", err)
	}
}

func TestAuthenticate(t *testing.T) {
	h, _ := HashPassword([]byte("pw"), "")
	p, err := ParsePasswords(strings.NewReader("alice:" + h))
	if err != nil {
		t.Fatal(err)
	}
	var nilP *Passwords
	cases := []struct {
		name           string
		c              Checker
		user           string
		pw             []byte
		hasUser, hasPw bool
		want           bool
	}{
		{"right", p, "alice", []byte("pw"), true, true, true},
		{"wrong", p, "alice", []byte("pX"), true, true, false},
		{"no password flag", p, "alice", []byte("pw"), true, false, false},
		{"no username flag", p, "alice", []byte("pw"), false, true, false},
		{"anonymous", p, "", nil, false, false, false},
		{"unknown", p, "mallory", []byte("pw"), true, true, false},
		{"nil passwords", nilP, "alice", []byte("pw"), true, true, false},
		{"func", CheckerFunc(func(id, u string, _ []byte, hu, _ bool) bool { return hu && u == id }), "dev1", nil, true, false, true},
	}
	for _, c := range cases {
		if got := c.c.Authenticate("dev1", c.user, c.pw, c.hasUser, c.hasPw); got != c.want {
			t.Errorf("%s: Authenticate = %v, want %v", c.name, got, c.want)
		}
	}
}

// The dummy hash for unknown users follows the file's most common scheme.
func TestDummyFollowsCommonScheme(t *testing.T) {
	h7, _ := HashPasswordCost([]byte("pw"), SchemePBKDF2, 2000)
	hb, _ := HashPasswordCost([]byte("pw"), SchemeBcrypt, 4)
	p, err := ParsePasswords(strings.NewReader("a:" + h7 + "\nb:" + hb + "\nc:" + h7))
	if err != nil {
		t.Fatal(err)
	}
	if p.dummy.scheme != schemePBKDF2 || p.dummy.cost != 2000 {
		t.Errorf("dummy = scheme %d cost %d, want PBKDF2 2000", p.dummy.scheme, p.dummy.cost)
	}
	p, err = ParsePasswords(strings.NewReader("b:" + hb))
	if err != nil {
		t.Fatal(err)
	}
	if p.dummy.scheme != schemeBcrypt || p.dummy.cost != 4 || p.dummy.verify([]byte("pw")) {
		t.Errorf("bcrypt dummy wrong: scheme %d cost %d", p.dummy.scheme, p.dummy.cost)
	}
}
