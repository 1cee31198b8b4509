package listener

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
)

// ipFilter admits or refuses peers by address. Deny wins over Allow; an
// empty Allow admits everyone not denied.
type ipFilter struct {
	allow, deny []netip.Prefix
}

func newIPFilter(allow, deny []string) (*ipFilter, error) {
	a, err := parsePrefixes(allow)
	if err != nil {
		return nil, fmt.Errorf("allow: %w", err)
	}
	d, err := parsePrefixes(deny)
	if err != nil {
		return nil, fmt.Errorf("deny: %w", err)
	}
	if len(a) == 0 && len(d) == 0 {
		return nil, nil
	}
	return &ipFilter{allow: a, deny: d}, nil
}

// parsePrefixes reads CIDR prefixes or bare addresses (a prefix of one).
// IPv4-mapped IPv6 forms are unmapped, as peer addresses are.
func parsePrefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		var p netip.Prefix
		if strings.Contains(s, "/") {
			var err error
			if p, err = netip.ParsePrefix(s); err != nil {
				return nil, err
			}
			if p.Addr().Is4In6() && p.Bits() >= 96 {
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
		} else {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, err
			}
			a = a.Unmap().WithZone("")
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// admits reports whether a peer at addr may connect. Addresses that are not
// IP (which TCP listeners never produce) are refused.
func (f *ipFilter) admits(addr net.Addr) bool {
	if f == nil {
		return true
	}
	ip, ok := peerIP(addr)
	if !ok {
		return false
	}
	for _, p := range f.deny {
		if p.Contains(ip) {
			return false
		}
	}
	if len(f.allow) == 0 {
		return true
	}
	for _, p := range f.allow {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func peerIP(addr net.Addr) (netip.Addr, bool) {
	if t, ok := addr.(*net.TCPAddr); ok {
		ap := t.AddrPort()
		return ap.Addr().Unmap().WithZone(""), ap.Addr().IsValid()
	}
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap().WithZone(""), true
}

// filterListener drops refused peers right after accept, before reading
// anything from them.
type filterListener struct {
	net.Listener
	f    *ipFilter
	name string
	log  *slog.Logger
}

func (l *filterListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.f.admits(c.RemoteAddr()) {
			return c, nil
		}
		l.log.Info("connection refused by IP filter", "listener", l.name, "remote", c.RemoteAddr().String())
		c.Close()
	}
}
