package listener

import (
	"net"
	"testing"
)

func TestIPFilterAdmits(t *testing.T) {
	f, err := newIPFilter([]string{"10.0.0.0/8", "2001:db8::/32", " 192.0.2.7 "}, []string{"10.9.0.0/16", "2001:db8:bad::1"})
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]bool{
		"10.1.2.3:1":              true,
		"[::ffff:10.1.2.3]:1":     true, // a v4 peer on a dual-stack socket
		"10.9.1.1:1":              false,
		"[::ffff:10.9.1.1]:1":     false,
		"192.0.2.7:1":             true,
		"192.0.2.8:1":             false,
		"[2001:db8::5]:1":         true,
		"[2001:db8:bad::1]:1":     false,
		"[2001:db8::5%eth0]:1":    true,
		"[2001:db9::1]:1":         false,
		"127.0.0.1:1":             false,
		"[fe80::1%lo]:1":          false,
		"[::ffff:192.0.2.7]:1883": true,
	} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.admits(a); got != want {
			t.Errorf("%s: admitted %v, want %v", addr, got, want)
		}
	}
	if f.admits(&net.UnixAddr{Name: "/tmp/x", Net: "unix"}) {
		t.Error("non-IP peer admitted")
	}

	none, err := newIPFilter(nil, nil)
	if err != nil || none != nil || !none.admits(&net.TCPAddr{IP: net.ParseIP("203.0.113.1")}) {
		t.Errorf("empty filter: %v %v", none, err)
	}
	denyOnly, _ := newIPFilter(nil, []string{"::ffff:203.0.113.0/120"})
	if denyOnly.admits(&net.TCPAddr{IP: net.ParseIP("203.0.113.9")}) || !denyOnly.admits(&net.TCPAddr{IP: net.ParseIP("203.0.114.9")}) {
		t.Error("mapped deny prefix not applied to IPv4 peers")
	}
}
