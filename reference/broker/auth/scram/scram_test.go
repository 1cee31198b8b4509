package scram

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// The example exchange of RFC 7677 section 3.
const (
	vecUser        = "user"
	vecPassword    = "pencil"
	vecClientNonce = "rOprNGfwEbeRWgbNEkqO"
	vecServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
	vecSalt        = "W22ZaJ0SNY7soEsUEjb6gQ=="
	vecClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
	vecServerFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
	vecClientFinal = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
	vecServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
	// vecEncoded is the vector's credentials in PostgreSQL form, computed
	// independently (Python hashlib.pbkdf2_hmac and hmac).
	vecEncoded = "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
)

func vecCredentials(t testing.TB) Credentials {
	t.Helper()
	salt, err := base64.StdEncoding.DecodeString(vecSalt)
	if err != nil {
		t.Fatal(err)
	}
	return NewCredentials(vecPassword, salt, 4096)
}

// users returns a lookup that knows the given users.
func users(m map[string]Credentials) func(string) (Credentials, bool) {
	return func(u string) (Credentials, bool) {
		c, ok := m[u]
		return c, ok
	}
}

func vecServer(t testing.TB) *Server {
	return NewServer(users(map[string]Credentials{vecUser: vecCredentials(t)}), strings.NewReader(vecServerNonce))
}

func TestRFC7677Vector(t *testing.T) {
	c := NewClient(vecUser, vecPassword, strings.NewReader(vecClientNonce))
	s := vecServer(t)

	cf := c.First()
	if string(cf) != vecClientFirst {
		t.Fatalf("client-first-message\n got %s\nwant %s", cf, vecClientFirst)
	}
	sf, err := s.Start(cf)
	if err != nil {
		t.Fatal(err)
	}
	if string(sf) != vecServerFirst {
		t.Fatalf("server-first-message\n got %s\nwant %s", sf, vecServerFirst)
	}
	cfin, err := c.Final(sf)
	if err != nil {
		t.Fatal(err)
	}
	if string(cfin) != vecClientFinal {
		t.Fatalf("client-final-message\n got %s\nwant %s", cfin, vecClientFinal)
	}
	sfin, user, err := s.Finish(cfin)
	if err != nil {
		t.Fatal(err)
	}
	if string(sfin) != vecServerFinal {
		t.Fatalf("server-final-message\n got %s\nwant %s", sfin, vecServerFinal)
	}
	if user != vecUser {
		t.Fatalf("user %q, want %q", user, vecUser)
	}
	if err := c.Verify(sfin); err != nil {
		t.Fatal(err)
	}
	if got := vecCredentials(t).Encode(); got != vecEncoded {
		t.Fatalf("Encode\n got %s\nwant %s", got, vecEncoded)
	}
}

// The two sides checked separately against the RFC's literal messages.
func TestRFC7677VectorEachSide(t *testing.T) {
	s := vecServer(t)
	if sf, err := s.Start([]byte(vecClientFirst)); err != nil || string(sf) != vecServerFirst {
		t.Fatalf("server Start: %q, %v", sf, err)
	}
	if sfin, _, err := s.Finish([]byte(vecClientFinal)); err != nil || string(sfin) != vecServerFinal {
		t.Fatalf("server Finish: %q, %v", sfin, err)
	}

	c := NewClient(vecUser, vecPassword, strings.NewReader(vecClientNonce))
	c.First()
	if cfin, err := c.Final([]byte(vecServerFirst)); err != nil || string(cfin) != vecClientFinal {
		t.Fatalf("client Final: %q, %v", cfin, err)
	}
	if err := c.Verify([]byte(vecServerFinal)); err != nil {
		t.Fatal(err)
	}
}

// exchange runs a whole exchange and returns the server's and the client's
// verdicts.
func exchange(t *testing.T, c *Client, s *Server) (user string, serverErr, clientErr error) {
	t.Helper()
	sf, err := s.Start(c.First())
	if err != nil {
		return "", err, nil
	}
	cfin, err := c.Final(sf)
	if err != nil {
		t.Fatalf("client Final: %v", err)
	}
	sfin, user, serverErr := s.Finish(cfin)
	return user, serverErr, c.Verify(sfin)
}

func TestExchangeRandomNonces(t *testing.T) {
	for _, tc := range []struct{ user, pass string }{
		{"alice", "correct horse battery staple"},
		{"a,b=c", "p,a=s"},                 // characters the encoding escapes
		{"Küche", "Grüße aus der Küche ½"}, // Latin-1, and an NFKC change in the password
		{"nopass", ""},                     // MQTT allows an empty password
		{"=3D", "=2C"},
	} {
		salt := make([]byte, 16)
		rand.Read(salt)
		creds := NewCredentials(tc.pass, salt, DefaultIterations)
		s := NewServer(users(map[string]Credentials{tc.user: creds}), nil)
		user, serr, cerr := exchange(t, NewClient(tc.user, tc.pass, nil), s)
		if serr != nil || cerr != nil || user != tc.user {
			t.Errorf("%q: user %q, server %v, client %v", tc.user, user, serr, cerr)
		}
	}
}

// A password typed with a no-break space and a superscript matches the one
// stored with a space and a digit: both sides apply SASLprep.
func TestPrepBothSides(t *testing.T) {
	creds := NewCredentials("pass 2", []byte("salt"), DefaultIterations)
	s := NewServer(users(map[string]Credentials{"u": creds}), nil)
	if _, serr, cerr := exchange(t, NewClient("u", "pass\u00a0\u00b2", nil), s); serr != nil || cerr != nil {
		t.Fatalf("server %v, client %v", serr, cerr)
	}
}

func TestWrongPassword(t *testing.T) {
	s := vecServer(t)
	c := NewClient(vecUser, "pencil2", nil)
	_, serr, cerr := exchange(t, c, s)
	if !errors.Is(serr, ErrBadCredentials) {
		t.Fatalf("server: %v, want ErrBadCredentials", serr)
	}
	if !errors.Is(cerr, ErrBadCredentials) {
		t.Fatalf("client: %v, want ErrBadCredentials (from e=invalid-proof)", cerr)
	}
}

func TestUnknownUser(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	known := users(map[string]Credentials{vecUser: vecCredentials(t)})
	start := func(user string, secret []byte) (*Server, attrMap) {
		s := NewServer(known, nil, WithSecret(secret))
		c := NewClient(user, "whatever", nil)
		sf, err := s.Start(c.First())
		if err != nil {
			t.Fatalf("Start for %q: %v (an unknown user must not fail before Finish)", user, err)
		}
		return s, parseAttrMap(t, sf)
	}
	_, a1 := start("ghost", secret)
	_, a2 := start("ghost", secret)
	_, other := start("phantom", secret)
	_, otherSecret := start("ghost", []byte("another secret, also 32 bytes.."))
	_, real := start(vecUser, secret)

	// Plausible: same shape as a real user's.
	salt, err := base64.StdEncoding.DecodeString(a1["s"])
	if err != nil || len(salt) != 16 {
		t.Fatalf("fake salt %q: %v, %d bytes", a1["s"], err, len(salt))
	}
	if a1["i"] != real["i"] || len(a1["r"]) != len(real["r"]) {
		t.Fatalf("fake %v does not look like real %v", a1, real)
	}
	// Stable per user and secret, different otherwise.
	if a1["s"] != a2["s"] {
		t.Fatalf("fake salt changes between attempts: %s, %s", a1["s"], a2["s"])
	}
	if a1["s"] == other["s"] || a1["s"] == otherSecret["s"] {
		t.Fatal("fake salt does not depend on user name and secret")
	}
	if a1["r"] == a2["r"] {
		t.Fatal("server nonce repeats")
	}

	// It fails at Finish exactly as a wrong password does, even with the
	// fake salt used honestly.
	s := NewServer(known, nil, WithSecret(secret))
	c := NewClient("ghost", "whatever", nil)
	_, serr, cerr := exchange(t, c, s)
	if !errors.Is(serr, ErrBadCredentials) || !errors.Is(cerr, ErrBadCredentials) {
		t.Fatalf("server %v, client %v; want ErrBadCredentials", serr, cerr)
	}
	// Same wire answer and error value as for a known user.
	fin1, _, err1 := finishWith(t, "ghost", "x", known, secret)
	fin2, _, err2 := finishWith(t, vecUser, "x", known, secret)
	if string(fin1) != string(fin2) || string(fin1) != "e=invalid-proof" {
		t.Fatalf("server-final differs: %q vs %q", fin1, fin2)
	}
	var e1, e2 *Error
	if !errors.As(err1, &e1) || !errors.As(err2, &e2) || e1.Kind != e2.Kind || e1.Value != e2.Value ||
		strings.Replace(e1.Msg, "ghost", vecUser, 1) != e2.Msg {
		t.Fatalf("errors differ: %v / %v", err1, err2)
	}
}

func finishWith(t *testing.T, user, pass string, lookup func(string) (Credentials, bool), secret []byte) ([]byte, string, error) {
	t.Helper()
	s := NewServer(lookup, nil, WithSecret(secret))
	c := NewClient(user, pass, nil)
	sf, err := s.Start(c.First())
	if err != nil {
		t.Fatal(err)
	}
	cfin, err := c.Final(sf)
	if err != nil {
		t.Fatal(err)
	}
	return s.Finish(cfin)
}

func TestFakeIterations(t *testing.T) {
	s := NewServer(nil, nil, WithFakeIterations(10000))
	sf, err := s.Start([]byte("n,,n=x,r=abc"))
	if err != nil {
		t.Fatal(err)
	}
	if a := parseAttrMap(t, sf); a["i"] != "10000" {
		t.Fatalf("i=%s, want 10000", a["i"])
	}
}

type attrMap map[string]string

func parseAttrMap(t *testing.T, msg []byte) attrMap {
	t.Helper()
	m := attrMap{}
	for _, f := range strings.Split(string(msg), ",") {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			t.Fatalf("bad attribute %q in %q", f, msg)
		}
		m[k] = v
	}
	return m
}

// replaceAttr replaces the value of attribute name in msg.
func replaceAttr(msg, name, value string) string {
	fields := strings.Split(msg, ",")
	for i, f := range fields {
		if strings.HasPrefix(f, name+"=") {
			fields[i] = name + "=" + value
		}
	}
	return strings.Join(fields, ",")
}

func TestTampering(t *testing.T) {
	flip := func(b64s string) string {
		v, _ := base64.StdEncoding.DecodeString(b64s)
		v[0] ^= 1
		return base64.StdEncoding.EncodeToString(v)
	}
	tests := []struct {
		name  string
		final string // client-final-message sent to a server in the vector's state
		kind  error
		value string
	}{
		{"nonce changed", replaceAttr(vecClientFinal, "r", vecClientNonce+"%hvYDpWUa2RaTCAfuxFIlj)hNlF$k1"), ErrMalformed, "other-error"},
		{"server nonce dropped", replaceAttr(vecClientFinal, "r", vecClientNonce), ErrMalformed, "other-error"},
		{"nonce extended", replaceAttr(vecClientFinal, "r", vecClientNonce+vecServerNonce+"x"), ErrMalformed, "other-error"},
		{"proof bit flipped", replaceAttr(vecClientFinal, "p", flip("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")), ErrBadCredentials, "invalid-proof"},
		{"gs2 header y instead of n", replaceAttr(vecClientFinal, "c", "eSws"), ErrMalformed, "channel-bindings-dont-match"},
		{"cbind-data appended", replaceAttr(vecClientFinal, "c", base64.StdEncoding.EncodeToString([]byte("n,,x"))), ErrMalformed, "channel-bindings-dont-match"},
		{"extension inserted (changes AuthMessage)", strings.Replace(vecClientFinal, ",p=", ",x=1,p=", 1), ErrBadCredentials, "invalid-proof"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := vecServer(t)
			if _, err := s.Start([]byte(vecClientFirst)); err != nil {
				t.Fatal(err)
			}
			sfin, user, err := s.Finish([]byte(tc.final))
			checkErr(t, err, tc.kind, tc.value)
			if user != "" || string(sfin) != "e="+tc.value {
				t.Fatalf("got user %q, server-final %q", user, sfin)
			}
		})
	}

	// The server's side tampered with, as the client sees it.
	t.Run("server nonce does not extend the client's", func(t *testing.T) {
		c := NewClient(vecUser, vecPassword, strings.NewReader(vecClientNonce))
		c.First()
		_, err := c.Final([]byte(replaceAttr(vecServerFirst, "r", "XOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0")))
		checkErr(t, err, ErrMalformed, "")
	})
	t.Run("server signature bit flipped", func(t *testing.T) {
		c := NewClient(vecUser, vecPassword, strings.NewReader(vecClientNonce))
		c.First()
		if _, err := c.Final([]byte(vecServerFirst)); err != nil {
			t.Fatal(err)
		}
		err := c.Verify([]byte("v=" + flip("6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")))
		checkErr(t, err, ErrServerSignature, "")
	})
	t.Run("salt changed by an impostor", func(t *testing.T) {
		// An impostor without ServerKey cannot produce v=.
		c := NewClient(vecUser, vecPassword, strings.NewReader(vecClientNonce))
		c.First()
		if _, err := c.Final([]byte(replaceAttr(vecServerFirst, "s", "c2FsdHNhbHQ="))); err != nil {
			t.Fatal(err)
		}
		checkErr(t, c.Verify([]byte(vecServerFinal)), ErrServerSignature, "")
	})
}

func checkErr(t *testing.T, err, kind error, value string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error %v, want kind %v", err, kind)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T is not *Error", err)
	}
	if value != "" && e.Value != value {
		t.Fatalf("error value %q, want %q (%v)", e.Value, value, err)
	}
	if !strings.HasPrefix(err.Error(), "scram: ") {
		t.Fatalf("message %q lacks the package prefix", err)
	}
}

func TestClientFirstMalformed(t *testing.T) {
	tests := []struct {
		name, msg string
		kind      error
		value     string
	}{
		{"empty", "", ErrMalformed, ""},
		{"no gs2 header", "n=user,r=abc", ErrMalformed, ""},
		{"gs2 header only", "n,,", ErrMalformed, ""},
		{"gs2 header unterminated", "n,", ErrMalformed, ""},
		{"bad cbind flag", "x,,n=user,r=abc", ErrMalformed, ""},
		{"upper-case flag", "N,,n=user,r=abc", ErrMalformed, ""},
		{"channel binding", "p=tls-server-end-point,,n=user,r=abc", ErrUnsupported, "channel-binding-not-supported"},
		{"channel binding, bad name", "p=tls_unique,,n=user,r=abc", ErrMalformed, ""},
		{"channel binding, empty name", "p=,,n=user,r=abc", ErrMalformed, ""},
		{"bad authzid field", "n,b=x,n=user,r=abc", ErrMalformed, ""},
		{"authzid of another user", "n,a=admin,n=user,r=abc", ErrUnsupported, "other-error"},
		{"mandatory extension", "n,,m=ext,n=user,r=abc", ErrUnsupported, "extensions-not-supported"},
		{"mandatory extension after nonce", "n,,n=user,r=abc,m=ext", ErrUnsupported, "extensions-not-supported"},
		{"no nonce", "n,,n=user", ErrMalformed, ""},
		{"nonce first", "n,,r=abc,n=user", ErrMalformed, ""},
		{"empty user", "n,,n=,r=abc", ErrMalformed, ""},
		{"empty nonce", "n,,n=user,r=", ErrMalformed, ""},
		{"nonce with space", "n,,n=user,r=a c", ErrMalformed, ""},
		{"nonce with non-ASCII", "n,,n=user,r=aé", ErrMalformed, ""},
		{"bad escape", "n,,n=us=er,r=abc", ErrMalformed, "invalid-username-encoding"},
		{"lower-case escape", "n,,n=a=2c,r=abc", ErrMalformed, "invalid-username-encoding"},
		{"truncated escape", "n,,n=a=2,r=abc", ErrMalformed, "invalid-username-encoding"},
		{"escape at end", "n,,n=a=,r=abc", ErrMalformed, "invalid-username-encoding"},
		{"user outside the SASLprep subset", "n,,n=Ωmega,r=abc", ErrUnsupported, "invalid-username-encoding"},
		{"user with control character", "n,,n=a\tb,r=abc", ErrMalformed, "invalid-username-encoding"},
		{"user only soft hyphen", "n,,n=\u00ad,r=abc", ErrMalformed, "invalid-username-encoding"},
		{"invalid UTF-8", "n,,n=\xff,r=abc", ErrMalformed, "invalid-encoding"},
		{"NUL", "n,,n=us\x00er,r=abc", ErrMalformed, "invalid-encoding"},
		{"trailing comma", "n,,n=user,r=abc,", ErrMalformed, ""},
		{"empty extension value", "n,,n=user,r=abc,x=", ErrMalformed, ""},
		{"extension without '='", "n,,n=user,r=abc,x", ErrMalformed, ""},
		{"extension with digit name", "n,,n=user,r=abc,1=x", ErrMalformed, ""},
		{"repeated nonce", "n,,n=user,r=abc,r=def", ErrMalformed, ""},
		{"repeated user", "n,,n=user,r=abc,n=user", ErrMalformed, ""},
		{"client-final sent first", vecClientFinal, ErrMalformed, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := vecServer(t)
			sf, err := s.Start([]byte(tc.msg))
			if sf != nil {
				t.Fatalf("server-first %q returned with an error", sf)
			}
			checkErr(t, err, tc.kind, tc.value)
			// The Server is spent after a failure.
			if _, err := s.Start([]byte(vecClientFirst)); !errors.Is(err, ErrSequence) {
				t.Fatalf("Start after failure: %v, want ErrSequence", err)
			}
		})
	}
}

func TestClientFirstAccepted(t *testing.T) {
	for _, msg := range []string{
		"n,,n=user,r=abc",
		"y,,n=user,r=abc",
		"n,a=user,n=user,r=abc",
		"n,,n=user,r=abc,x=ignored,Y=also ignored",
		"n,,n=us=2Cer=3D,r=!\"#$%&'()*+-./~",
	} {
		if _, err := NewServer(nil, nil).Start([]byte(msg)); err != nil {
			t.Errorf("%q: %v", msg, err)
		}
	}
}

// clientFinalFor computes a client-final-message by hand for a server in
// the vector's state, so that unusual but valid first messages can be
// completed.
func clientFinalFor(t *testing.T, bare, serverFirst, withoutProof string) string {
	t.Helper()
	creds := vecCredentials(t)
	salt, _ := base64.StdEncoding.DecodeString(vecSalt)
	salted, err := saltPassword(vecPassword, salt, creds.Iterations)
	if err != nil {
		t.Fatal(err)
	}
	clientKey, storedKey, _ := keysFromSalted(salted)
	proof := hmacSum(storedKey, bare+","+serverFirst+","+withoutProof)
	for i := range proof {
		proof[i] ^= clientKey[i]
	}
	return withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)
}

func TestGS2Variants(t *testing.T) {
	tests := []struct{ gs2, extra string }{
		{"y,,", ""},                // client could bind, believes the server cannot: fine
		{"n,a=user,", ""},          // authzid equal to the user name
		{"y,a=user,", ""},          //
		{"n,,", ",x=an extension"}, // extension in client-final, ignored but signed
	}
	for _, tc := range tests {
		t.Run(tc.gs2+tc.extra, func(t *testing.T) {
			s := vecServer(t)
			bare := "n=user,r=" + vecClientNonce
			sf, err := s.Start([]byte(tc.gs2 + bare))
			if err != nil {
				t.Fatal(err)
			}
			nonce := parseAttrMap(t, sf)["r"]
			wp := "c=" + base64.StdEncoding.EncodeToString([]byte(tc.gs2)) + ",r=" + nonce + tc.extra
			sfin, user, err := s.Finish([]byte(clientFinalFor(t, bare, string(sf), wp)))
			if err != nil || user != vecUser || !bytes.HasPrefix(sfin, []byte("v=")) {
				t.Fatalf("%q, %q, %v", sfin, user, err)
			}
		})
	}
}

func TestClientFinalMalformed(t *testing.T) {
	const r = "r=" + vecClientNonce + vecServerNonce
	const p = "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
	tests := []struct {
		name, msg string
		value     string
	}{
		{"empty", "", "other-error"},
		{"no proof", "c=biws," + r, "other-error"},
		{"proof not last", "c=biws," + p + "," + r, "other-error"},
		{"nonce missing", "c=biws," + p, "other-error"},
		{"order swapped", r + ",c=biws," + p, "other-error"},
		{"channel binding not base64", "c=bi*s," + r + "," + p, "invalid-encoding"},
		{"channel binding unpadded", "c=biw," + r + "," + p, "invalid-encoding"},
		{"proof not base64", "c=biws," + r + ",p=!!!!", "invalid-encoding"},
		{"proof with newline", "c=biws," + r + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgs\nqmmiz7AndVQ=", "invalid-encoding"},
		{"proof short", "c=biws," + r + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7An", "invalid-encoding"},
		{"proof long", "c=biws," + r + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQA", "invalid-encoding"},
		{"empty proof", "c=biws," + r + ",p=", "other-error"},
		{"mandatory extension", "c=biws," + r + ",m=x," + p, "extensions-not-supported"},
		{"repeated nonce", "c=biws," + r + "," + r + "," + p, "other-error"},
		{"trailing comma", "c=biws," + r + "," + p + ",", "other-error"},
		{"NUL", "c=biws," + r + ",x=\x00," + p, "invalid-encoding"},
		{"client-first sent again", vecClientFirst, "other-error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := vecServer(t)
			if _, err := s.Start([]byte(vecClientFirst)); err != nil {
				t.Fatal(err)
			}
			_, _, err := s.Finish([]byte(tc.msg))
			kind := ErrMalformed
			if tc.value == "extensions-not-supported" {
				kind = ErrUnsupported
			}
			checkErr(t, err, kind, tc.value)
		})
	}
}

func TestServerFirstMalformed(t *testing.T) {
	const r = "r=" + vecClientNonce + vecServerNonce
	tests := []struct {
		name, msg string
		kind      error
	}{
		{"empty", "", ErrMalformed},
		{"error instead", "e=other-error", ErrMalformed},
		{"no salt", r + ",i=4096", ErrMalformed},
		{"no count", r + ",s=" + vecSalt, ErrMalformed},
		{"order swapped", "s=" + vecSalt + "," + r + ",i=4096", ErrMalformed},
		{"nonce not extended", "r=" + vecClientNonce + ",s=" + vecSalt + ",i=4096", ErrMalformed},
		{"nonce with comma-free junk", "r=" + vecClientNonce + "x y,s=" + vecSalt + ",i=4096", ErrMalformed},
		{"salt not base64", r + ",s=W22Z*J0SNY7soEsUEjb6gQ==,i=4096", ErrMalformed},
		{"salt empty", r + ",s=,i=4096", ErrMalformed},
		{"count zero", r + ",s=" + vecSalt + ",i=0", ErrMalformed},
		{"count leading zero", r + ",s=" + vecSalt + ",i=04096", ErrMalformed},
		{"count negative", r + ",s=" + vecSalt + ",i=-4096", ErrMalformed},
		{"count not a number", r + ",s=" + vecSalt + ",i=4k", ErrMalformed},
		{"count huge", r + ",s=" + vecSalt + ",i=99999999999", ErrMalformed},
		{"count above maximum", r + ",s=" + vecSalt + ",i=10000001", ErrMalformed},
		{"count below 4096", r + ",s=" + vecSalt + ",i=4095", ErrUnsupported},
		{"mandatory extension", "m=x," + r + ",s=" + vecSalt + ",i=4096", ErrUnsupported},
		{"mandatory extension at end", r + ",s=" + vecSalt + ",i=4096,m=x", ErrUnsupported},
		{"trailing comma", r + ",s=" + vecSalt + ",i=4096,", ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewClient(vecUser, vecPassword, strings.NewReader(vecClientNonce))
			c.First()
			out, err := c.Final([]byte(tc.msg))
			if out != nil {
				t.Fatalf("client-final %q returned with an error", out)
			}
			checkErr(t, err, tc.kind, "")
		})
	}
	// An unknown extension is ignored (and signed over).
	c := NewClient(vecUser, vecPassword, strings.NewReader(vecClientNonce))
	c.First()
	if _, err := c.Final([]byte(vecServerFirst + ",x=ext")); err != nil {
		t.Fatalf("extension: %v", err)
	}
}

func TestServerFinalMalformed(t *testing.T) {
	tests := []struct {
		name, msg string
		kind      error
		value     string
	}{
		{"empty", "", ErrMalformed, ""},
		{"unknown attribute", "x=1", ErrMalformed, ""},
		{"signature not base64", "v=****", ErrMalformed, "invalid-encoding"},
		{"signature short", "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5n", ErrServerSignature, ""},
		{"wrong signature", "v=" + base64.StdEncoding.EncodeToString(make([]byte, 32)), ErrServerSignature, ""},
		{"mandatory extension", vecServerFinal + ",m=x", ErrUnsupported, "extensions-not-supported"},
		{"server error", "e=other-error", ErrRejected, "other-error"},
		{"server error invalid-proof", "e=invalid-proof", ErrBadCredentials, "invalid-proof"},
		{"server error unknown-user", "e=unknown-user", ErrBadCredentials, "unknown-user"},
		{"empty server error", "e=", ErrMalformed, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewClient(vecUser, vecPassword, strings.NewReader(vecClientNonce))
			c.First()
			if _, err := c.Final([]byte(vecServerFirst)); err != nil {
				t.Fatal(err)
			}
			checkErr(t, c.Verify([]byte(tc.msg)), tc.kind, tc.value)
		})
	}
	// An unknown extension after v= is ignored.
	c := NewClient(vecUser, vecPassword, strings.NewReader(vecClientNonce))
	c.First()
	c.Final([]byte(vecServerFirst))
	if err := c.Verify([]byte(vecServerFinal + ",x=ext")); err != nil {
		t.Fatal(err)
	}
}

func TestSequence(t *testing.T) {
	s := vecServer(t)
	if _, _, err := s.Finish([]byte(vecClientFinal)); !errors.Is(err, ErrSequence) {
		t.Fatalf("Finish before Start: %v", err)
	}
	s = vecServer(t)
	s.Start([]byte(vecClientFirst))
	if _, err := s.Start([]byte(vecClientFirst)); !errors.Is(err, ErrSequence) {
		t.Fatalf("Start twice: %v", err)
	}
	s = vecServer(t)
	s.Start([]byte(vecClientFirst))
	if _, _, err := s.Finish([]byte(vecClientFinal)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Finish([]byte(vecClientFinal)); !errors.Is(err, ErrSequence) {
		t.Fatalf("Finish twice: %v", err)
	}
	if _, _, _, err := s.Step([]byte(vecClientFinal)); !errors.Is(err, ErrSequence) {
		t.Fatalf("Step after the end: %v", err)
	}
	// A failed Finish spends the Server: no second guess.
	s = vecServer(t)
	s.Start([]byte(vecClientFirst))
	s.Finish([]byte(replaceAttr(vecClientFinal, "p", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")))
	if _, _, err := s.Finish([]byte(vecClientFinal)); !errors.Is(err, ErrSequence) {
		t.Fatalf("Finish after a failed Finish: %v", err)
	}

	c := NewClient(vecUser, vecPassword, strings.NewReader(vecClientNonce))
	if _, err := c.Final([]byte(vecServerFirst)); !errors.Is(err, ErrSequence) {
		t.Fatalf("Final before First: %v", err)
	}
	c = NewClient(vecUser, vecPassword, strings.NewReader(vecClientNonce))
	if err := c.Verify([]byte(vecServerFinal)); !errors.Is(err, ErrSequence) {
		t.Fatalf("Verify before Final: %v", err)
	}
	if a, b := c.First(), c.First(); string(a) != vecClientFirst || string(b) != vecClientFirst {
		t.Fatalf("First twice: %q, %q", a, b)
	}
	c.Final([]byte(vecServerFirst))
	if _, err := c.Final([]byte(vecServerFirst)); !errors.Is(err, ErrSequence) {
		t.Fatalf("Final twice: %v", err)
	}
	c.Verify([]byte(vecServerFinal))
	if err := c.Verify([]byte(vecServerFinal)); !errors.Is(err, ErrSequence) {
		t.Fatalf("Verify twice: %v", err)
	}
}

func TestClientBadInput(t *testing.T) {
	c := NewClient("", "pw", nil)
	if c.First() != nil {
		t.Fatal("First with an empty user name returned a message")
	}
	checkErr(t, errOf(c.Final([]byte(vecServerFirst))), ErrMalformed, "")

	c = NewClient("Ωmega", "pw", nil)
	if c.First() != nil {
		t.Fatal("First with an unsupported user name returned a message")
	}
	checkErr(t, errOf(c.Final([]byte(vecServerFirst))), ErrUnsupported, "")

	c = NewClient(vecUser, "pass\x01", strings.NewReader(vecClientNonce))
	c.First()
	checkErr(t, errOf(c.Final([]byte(vecServerFirst))), ErrMalformed, "")

	c = NewClient(vecUser, "pw", strings.NewReader("short"))
	if c.First() != nil {
		t.Fatal("First with a failing nonce source returned a message")
	}
	checkErr(t, errOf(c.Final([]byte(vecServerFirst))), ErrNonceSource, "")
}

func errOf(_ []byte, err error) error { return err }

func TestStep(t *testing.T) {
	c := NewClient(vecUser, vecPassword, strings.NewReader(vecClientNonce))
	s := vecServer(t)
	sf, done, _, err := s.Step(c.First())
	if err != nil || done || string(sf) != vecServerFirst {
		t.Fatalf("first Step: %q, %v, %v", sf, done, err)
	}
	if s.Username() != vecUser {
		t.Fatalf("Username %q", s.Username())
	}
	cfin, _ := c.Final(sf)
	sfin, done, user, err := s.Step(cfin)
	if err != nil || !done || user != vecUser || string(sfin) != vecServerFinal {
		t.Fatalf("second Step: %q, %v, %q, %v", sfin, done, user, err)
	}
}

func TestLookupReturnsUnusableCredentials(t *testing.T) {
	good := vecCredentials(t)
	for name, bad := range map[string]Credentials{
		"zero":          {},
		"no salt":       {Iterations: 4096, StoredKey: good.StoredKey, ServerKey: good.ServerKey},
		"no iterations": {Salt: good.Salt, StoredKey: good.StoredKey, ServerKey: good.ServerKey},
		"short key":     {Salt: good.Salt, Iterations: 4096, StoredKey: good.StoredKey[:31], ServerKey: good.ServerKey},
	} {
		s := NewServer(users(map[string]Credentials{vecUser: bad}), nil)
		_, err := s.Start([]byte(vecClientFirst))
		if !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("%s: %v, want ErrInvalidCredentials", name, err)
		}
	}
}

func TestNonceSource(t *testing.T) {
	// Unusable bytes are skipped; a source that ends after 16+ usable bytes
	// ends the nonce.
	n, err := readNonce(strings.NewReader("\x00ab,cd efgh\xffijklmnopqrst"))
	if err != nil || n != "abcdefghijklmnopqrst" {
		t.Fatalf("%q, %v", n, err)
	}
	// A long source gives nonceLen characters.
	n, err = readNonce(strings.NewReader(strings.Repeat("x", 100)))
	if err != nil || n != strings.Repeat("x", nonceLen) {
		t.Fatalf("%q, %v", n, err)
	}
	// Random nonces are printable and distinct.
	a, _ := readNonce(rand.Reader)
	b, _ := readNonce(rand.Reader)
	if len(a) != nonceLen || a == b || checkNonce(a, "nonce") != nil {
		t.Fatalf("%q, %q", a, b)
	}
	for name, r := range map[string]interface{ Read([]byte) (int, error) }{
		"too short":       strings.NewReader("fifteen chars.."),
		"never printable": zeroReader{},
		"error":           errReader{},
		"empty":           strings.NewReader(""),
		"never any bytes": emptyReader{},
	} {
		if _, err := readNonce(r); !errors.Is(err, ErrNonceSource) {
			t.Errorf("%s: %v, want ErrNonceSource", name, err)
		}
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("entropy exhausted") }

type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }
