package listener

import (
	"crypto/tls"
	"crypto/x509"
	"net"
)

// ConnInfo describes an accepted connection.
type ConnInfo struct {
	// Listener is the Name of the listener that accepted the connection.
	Listener string
	// Kind is the listener's kind: "tcp", "tls", "ws" or "wss".
	Kind string
	// Remote is the peer's TCP address (never a forwarded-for header).
	Remote net.Addr
	// TLS reports whether the connection is encrypted (tls, wss).
	TLS bool
	// PeerCertificates is the client's certificate chain, leaf first. It is
	// set only when the client sent a certificate and it verified against
	// the listener's client CAs; the TLS handshake has completed before the
	// connection is accepted.
	PeerCertificates []*x509.Certificate
}

// CommonName returns the subject Common Name of the verified client
// certificate, or "" when there is none.
func (i ConnInfo) CommonName() string {
	if len(i.PeerCertificates) == 0 {
		return ""
	}
	return i.PeerCertificates[0].Subject.CommonName
}

// Identified is implemented by every connection a listener accepts.
type Identified interface {
	ConnInfo() ConnInfo
}

// InfoOf returns the ConnInfo of c if c came from this package.
func InfoOf(c net.Conn) (ConnInfo, bool) {
	if id, ok := c.(Identified); ok {
		return id.ConnInfo(), true
	}
	return ConnInfo{}, false
}

// tcpConn is a plain TCP connection with its ConnInfo.
type tcpConn struct {
	net.Conn
	info ConnInfo
}

func (c *tcpConn) ConnInfo() ConnInfo { return c.info }

// NetConn returns the underlying connection.
func (c *tcpConn) NetConn() net.Conn { return c.Conn }

// tlsConn is a TLS connection whose handshake has completed. It embeds
// *tls.Conn, so ConnectionState and the rest stay available.
type tlsConn struct {
	*tls.Conn
	info ConnInfo
}

func (c *tlsConn) ConnInfo() ConnInfo { return c.info }
