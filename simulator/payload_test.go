package simulator

import "testing"

func TestPayloadRoundTrip(t *testing.T) {
	h := header{id: 123456, q: 2, seq: 4000000000, t: 98765432101, run: []byte("5f3a9c01")}
	b := appendPayload(nil, 21.37, 1, &h)
	if string(b) != `{"v":21.4,"id":123456,"q":2,"seq":4000000000,"t":98765432101,"run":"5f3a9c01"}` {
		t.Fatalf("payload %s", b)
	}
	got, v, ok := parsePayload(b)
	if !ok || v != 21.4 || got.id != h.id || got.q != h.q || got.seq != h.seq || got.t != h.t || string(got.run) != "5f3a9c01" {
		t.Fatalf("parsed %+v %g %v", got, v, ok)
	}
	for _, bad := range []string{"offline", "", `{"v":1}`, `{"v":1,"id":1,"q":3,"seq":1,"t":1,"run":"x"}`,
		`{"v":1,"id":1,"q":1,"seq":1,"t":1,"run":"x"`, `{"v":x,"id":1,"q":1,"seq":1,"t":1,"run":"x"}`,
		`{"v":1,"id":99999999999,"q":1,"seq":1,"t":1,"run":"x"}`, `{"v":1,"id":1,"q":1,"seq":1,"t":1,"run":"x"}trailing`} {
		if _, _, ok := parsePayload([]byte(bad)); ok {
			t.Errorf("accepted %q", bad)
		}
	}
}
