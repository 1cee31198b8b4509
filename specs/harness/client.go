package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/mqttspec/mqttspec/brokers"
	"github.com/mqttspec/mqttspec/reference/packet"
	"github.com/mqttspec/mqttspec/reports"
)

// Client is a raw MQTT client over our codec: it sends exactly the bytes a
// spec asks for and records every packet both ways in the spec's trace.
// Every wait is bounded by the suite's read timeout. Its methods fail the
// running spec on unexpected outcomes, so specs read as a sequence of steps.
type Client struct {
	Name string
	V    packet.Version
	conn net.Conn
	r    *packet.Reader
	tr   *trace
	// ID is the client identifier used in CONNECT.
	ID     string
	closed bool
	// login, when set, is the user name and password the target requires
	// of every client on its main endpoints (Target.Login): CONNECTs
	// without a user name get them (see Send).
	login *brokers.Credential
}

// ClientOption adjusts NewClient.
type ClientOption func(*clientOpts)

type clientOpts struct {
	endpoint *brokers.Endpoint
	local    net.Addr
	name     string
}

// At connects to another endpoint than the target's main one.
func At(e brokers.Endpoint) ClientOption { return func(o *clientOpts) { o.endpoint = &e } }

// From binds the client's source address (e.g. 127.0.0.2 on loopback).
func From(ip string) ClientOption {
	return func(o *clientOpts) { o.local = &net.TCPAddr{IP: net.ParseIP(ip)} }
}

// Named sets the client's name in the trace.
func Named(name string) ClientOption { return func(o *clientOpts) { o.name = name } }

// NewClient opens a network connection to the target for version v. The
// connection is closed when the spec ends.
func NewClient(v packet.Version, opts ...ClientOption) *Client {
	GinkgoHelper()
	c, err := DialClient(v, opts...)
	if err != nil {
		Fail(fmt.Sprintf("cannot connect to the target: %v", err))
	}
	return c
}

// DialClient is NewClient returning the error instead of failing.
func DialClient(v packet.Version, opts ...ClientOption) (*Client, error) {
	o := clientOpts{}
	for _, f := range opts {
		f(&o)
	}
	e := Target().Endpoint
	if o.endpoint != nil {
		e = *o.endpoint
	}
	ctx, cancel := context.WithTimeout(context.Background(), Cfg().ReadTimeout)
	defer cancel()
	conn, err := brokers.Dial(ctx, e, o.local)
	if err != nil {
		return nil, err
	}
	tr := specTrace()
	if o.name == "" {
		o.name = fmt.Sprintf("c%d", len(tr.clients())+1)
	}
	tr.register(o.name)
	c := &Client{Name: o.name, V: v, conn: conn, r: packet.NewReader(conn, packet.DecodeOptions{Version: v}), tr: tr}
	if t := Target(); t.Login != nil && (o.endpoint == nil || e.URL == t.Endpoint.URL || (t.WebSocket != nil && e.URL == t.WebSocket.URL)) {
		c.login = t.Login
	}
	c.r.KeepRaw = true // the trace shows the bytes that arrived, not a re-encoding
	DeferCleanup(func() { c.Close() })
	return c, nil
}

// Close closes the network connection without DISCONNECT.
func (c *Client) Close() {
	if !c.closed {
		c.closed = true
		c.conn.Close()
	}
}

// WithLogin adds the target's login to cp (a CONNECT a spec encodes
// itself, e.g. to split it across frames) as Send would, and returns it.
func (c *Client) WithLogin(cp *packet.Connect) *packet.Connect {
	if c.login != nil && !cp.UsernameFlag && !cp.PasswordFlag {
		cp.Username, cp.UsernameFlag = c.login.Username, true
		cp.Password, cp.PasswordFlag = []byte(c.login.Password), c.login.Password != ""
	}
	return cp
}

// Send encodes and writes a packet. On a target that requires a login of
// every client, a CONNECT without a user name carries the login; the trace
// shows it with the password replaced by "***".
func (c *Client) Send(p packet.Packet) {
	GinkgoHelper()
	traced := p
	if cp, ok := p.(*packet.Connect); ok && c.login != nil && !cp.UsernameFlag && !cp.PasswordFlag {
		c.WithLogin(cp)
		redacted := *cp
		if redacted.PasswordFlag {
			redacted.Password = []byte("***")
		}
		traced = &redacted
	}
	b, err := packet.Encode(p, c.V)
	if err != nil {
		Fail(fmt.Sprintf("cannot encode %s: %v", p.Type(), err))
	}
	tb := b
	if traced != p {
		tb, _ = packet.Encode(traced, c.V)
	}
	c.tr.send(c.Name, tb, traced, c.V)
	c.write(b)
}

// SendRaw writes bytes a spec crafted by hand (malformed packets).
func (c *Client) SendRaw(b []byte) {
	GinkgoHelper()
	traced := b
	if c.login != nil && c.login.Password != "" && bytes.Contains(b, []byte(c.login.Password)) {
		// The trace goes into reports: the login's password never does.
		pw := []byte(c.login.Password)
		traced = bytes.ReplaceAll(b, pw, bytes.Repeat([]byte("*"), len(pw)))
	}
	c.tr.send(c.Name, traced, nil, c.V)
	c.write(b)
}

func (c *Client) write(b []byte) {
	GinkgoHelper()
	c.conn.SetWriteDeadline(time.Now().Add(Cfg().ReadTimeout))
	if _, err := c.conn.Write(b); err != nil {
		// A broker may close the connection before it reads everything
		// (e.g. after a malformed packet); the spec decides what that means.
		c.tr.add("note", c.Name, nil, "write failed: "+err.Error())
	}
}

// Read waits up to the read timeout for the next packet.
func (c *Client) Read() (packet.Packet, error) {
	return c.ReadWithin(Cfg().ReadTimeout)
}

// ReadWithin waits up to d for the next packet.
func (c *Client) ReadWithin(d time.Duration) (packet.Packet, error) {
	c.conn.SetReadDeadline(time.Now().Add(d))
	p, err := c.r.ReadPacket()
	if err != nil {
		if perr := packet.AsError(err); perr != nil {
			c.tr.add("recv", c.Name, append([]byte(nil), c.r.LastRaw()...), "malformed: "+perr.Error())
			return nil, err
		}
		c.tr.add("note", c.Name, nil, "read: "+readError(err))
		return nil, err
	}
	c.tr.add("recv", c.Name, append([]byte(nil), c.r.LastRaw()...), packet.Summary(p, c.V))
	return p, nil
}

func readError(err error) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "nothing arrived within the timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed by the broker"
	}
	return err.Error()
}

// Next returns the next packet, failing the spec when none arrives.
func (c *Client) Next() packet.Packet {
	GinkgoHelper()
	p, err := c.Read()
	if err != nil {
		Failf("a packet from the broker", "%s", readError(err))
	}
	return p
}

// Expect returns the next packet as type T, failing otherwise.
func Expect[T packet.Packet](c *Client) T {
	GinkgoHelper()
	p := c.Next()
	t, ok := p.(T)
	if !ok {
		var zero T
		Failf(fmt.Sprintf("%T", zero), "%s", packet.Summary(p, c.V))
	}
	return t
}

// Connect sends CONNECT (client identifier, version filled in when empty)
// and returns the CONNACK.
func (c *Client) Connect(cp *packet.Connect) *packet.Connack {
	GinkgoHelper()
	cp.ProtocolVersion = c.V
	if cp.ClientID == "" && c.ID == "" {
		cp.ClientID = ClientID()
	}
	if cp.ClientID == "" {
		cp.ClientID = c.ID
	}
	c.ID = cp.ClientID
	c.Send(cp)
	return Expect[*packet.Connack](c)
}

// ConnectExact sends the CONNECT as given (only the version is filled in),
// for specs about the client identifier itself, and returns the CONNACK.
func (c *Client) ConnectExact(cp *packet.Connect) *packet.Connack {
	GinkgoHelper()
	cp.ProtocolVersion = c.V
	c.ID = cp.ClientID
	c.Send(cp)
	return Expect[*packet.Connack](c)
}

// MustConnect connects with a clean session and expects success.
func (c *Client) MustConnect() *packet.Connack {
	GinkgoHelper()
	ca := c.Connect(&packet.Connect{CleanStart: true, KeepAlive: 60})
	if ca.ReasonCode != 0 {
		Failf("CONNACK with code 0x00", "CONNACK %s", ca.ReasonCode)
	}
	return ca
}

// Connected opens a client and connects it with a clean session.
func Connected(v packet.Version, opts ...ClientOption) *Client {
	GinkgoHelper()
	c := NewClient(v, opts...)
	c.MustConnect()
	return c
}

// Subscribe sends SUBSCRIBE and returns the SUBACK.
func (c *Client) Subscribe(subs ...packet.Subscription) *packet.Suback {
	GinkgoHelper()
	id := nextPacketID()
	c.Send(&packet.Subscribe{PacketID: id, Subscriptions: subs})
	sa := Expect[*packet.Suback](c)
	if sa.PacketID != id {
		Failf(fmt.Sprintf("SUBACK for packet identifier %d", id), "SUBACK for %d", sa.PacketID)
	}
	return sa
}

// MustSubscribe subscribes to one filter and expects it granted.
func (c *Client) MustSubscribe(filter string, qos packet.QoS) {
	GinkgoHelper()
	sa := c.Subscribe(packet.Subscription{Filter: filter, QoS: qos})
	if len(sa.ReasonCodes) != 1 || sa.ReasonCodes[0].IsError() {
		Failf(fmt.Sprintf("the subscription to %q granted", filter), "SUBACK codes %v", sa.ReasonCodes)
	}
}

// Publish sends an application message and completes its QoS flow as the
// sender (PUBACK, or PUBREC/PUBREL/PUBCOMP). It returns the broker's
// acknowledgement (nil for QoS 0).
func (c *Client) Publish(topic string, payload []byte, qos packet.QoS, retain bool) packet.Packet {
	GinkgoHelper()
	p := &packet.Publish{Topic: []byte(topic), Payload: payload, QoS: qos, Retain: retain}
	return c.PublishPacket(p)
}

// PublishPacket is Publish for a prepared packet (properties, DUP, ...);
// the packet identifier is assigned when zero.
func (c *Client) PublishPacket(p *packet.Publish) packet.Packet {
	GinkgoHelper()
	if p.QoS > 0 && p.PacketID == 0 {
		p.PacketID = nextPacketID()
	}
	c.Send(p)
	switch p.QoS {
	case 1:
		return Expect[*packet.Puback](c)
	case 2:
		rec := Expect[*packet.Pubrec](c)
		if rec.ReasonCode.IsError() {
			return rec
		}
		c.Send(&packet.Pubrel{PacketID: p.PacketID})
		return Expect[*packet.Pubcomp](c)
	}
	return nil
}

// Receive waits for a PUBLISH and completes its QoS flow as the receiver.
func (c *Client) Receive() *packet.Publish {
	GinkgoHelper()
	p := Expect[*packet.Publish](c)
	c.Ack(p)
	return p
}

// Ack completes the receiver's side of a PUBLISH's QoS flow.
func (c *Client) Ack(p *packet.Publish) {
	GinkgoHelper()
	switch p.QoS {
	case 1:
		c.Send(&packet.Puback{PacketID: p.PacketID})
	case 2:
		c.Send(&packet.Pubrec{PacketID: p.PacketID})
		rel := Expect[*packet.Pubrel](c)
		c.Send(&packet.Pubcomp{PacketID: rel.PacketID})
	}
}

// Ping is a round trip: when PINGRESP arrives the broker has handled every
// packet this client sent before. Packets that arrive first fail the spec.
func (c *Client) Ping() {
	GinkgoHelper()
	c.Send(&packet.Pingreq{})
	Expect[*packet.Pingresp](c)
}

// Disconnect sends a normal DISCONNECT and closes the connection.
func (c *Client) Disconnect() {
	GinkgoHelper()
	c.Send(&packet.Disconnect{})
	c.Close()
}

// ExpectClosedAnswer is ExpectClosed for an answer whose format the server
// must guess: to a CONNECT with a protocol name or level it does not know, a
// server may answer in the 3.1.1 or the 5.0 form. Packets are framed by the
// fixed header, which every version shares, and each is read as the
// client's version or else as the other one; only bytes that neither
// version decodes are a finding.
func (c *Client) ExpectClosedAnswer() []packet.Packet {
	GinkgoHelper()
	other := packet.V5
	if c.V == packet.V5 {
		other = packet.V311
	}
	var got []packet.Packet
	c.conn.SetReadDeadline(time.Now().Add(Cfg().ReadTimeout))
	for {
		frame, err := readFrame(c.conn)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				Failf("the broker closes the network connection", "the connection was still open after %v", Cfg().ReadTimeout)
			}
			c.tr.add("note", c.Name, nil, "read: "+readError(err))
			return got
		}
		p, _, err := packet.Decode(frame, packet.DecodeOptions{Version: c.V})
		if err != nil {
			var err2 error
			if p, _, err2 = packet.Decode(frame, packet.DecodeOptions{Version: other}); err2 != nil {
				c.tr.add("recv", c.Name, frame, "undecodable: "+err.Error())
				Failf("well-formed packets from the broker (in the 3.1.1 or the 5.0 form)", "a malformed packet: %v", err)
			}
			c.tr.add("recv", c.Name, frame, packet.Summary(p, other)+" (read as "+VersionName(other)+")")
		} else {
			c.tr.add("recv", c.Name, frame, packet.Summary(p, c.V))
		}
		got = append(got, p)
	}
}

// readFrame reads one MQTT packet's bytes: the fixed header byte, the
// Remaining Length (at most four bytes) and that many bytes.
func readFrame(r io.Reader) ([]byte, error) {
	head := make([]byte, 1, 5)
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, err
	}
	n, mul := 0, 1
	for i := 0; ; i++ {
		var b [1]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, err
		}
		head = append(head, b[0])
		n += int(b[0]&0x7f) * mul
		if b[0]&0x80 == 0 {
			break
		}
		if i == 3 {
			return nil, errors.New("a Remaining Length longer than four bytes")
		}
		mul *= 128
	}
	frame := append(head, make([]byte, n)...)
	_, err := io.ReadFull(r, frame[len(head):])
	return frame, err
}

// ExpectClosed waits until the broker closes the connection and returns the
// packets it sent first (e.g. a 5.0 DISCONNECT). It fails the spec when the
// connection is still open after the read timeout.
func (c *Client) ExpectClosed() []packet.Packet {
	GinkgoHelper()
	var got []packet.Packet
	for {
		p, err := c.Read()
		if err == nil {
			got = append(got, p)
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			Failf("the broker closes the network connection", "the connection was still open after %v", Cfg().ReadTimeout)
		}
		if perr := packet.AsError(err); perr != nil {
			// A broker that answers with a packet our codec refuses has
			// broken a rule of its own: that is a finding, not a close.
			Failf("well-formed packets from the broker", "a malformed packet: %v", perr)
		}
		return got
	}
}

// ExpectDisconnect waits for the broker to close the connection; for 5.0 it
// also accepts a DISCONNECT first, and returns its reason code (0 when none
// was sent; the specification lets the server close without one).
func (c *Client) ExpectDisconnect() (packet.ReasonCode, bool) {
	GinkgoHelper()
	got := c.ExpectClosed()
	for _, p := range got {
		if d, ok := p.(*packet.Disconnect); ok {
			return d.ReasonCode, true
		}
	}
	return 0, false
}

// Failf fails the spec h2spec-style: what was expected and what was
// observed, both recorded for the report.
func Failf(expected, observedFormat string, args ...any) {
	GinkgoHelper()
	observed := fmt.Sprintf(observedFormat, args...)
	Expected(expected)
	AddReportEntry(reports.EntryObserved, observed, quiet)
	Fail(fmt.Sprintf("expected %s; observed %s", expected, observed))
}

// FailShould fails the spec for breaking a recommendation only: what the
// server did is allowed but not what the specification recommends (e.g.
// the reason code of a DISCONNECT before a required close, which 5.0
// section 4.13.1 asks for with SHOULD). The verdict is non-strict: it fails
// the run only with --strict.
func FailShould(expected, observedFormat string, args ...any) {
	GinkgoHelper()
	AddReportEntry(reports.EntryShould, expected, quiet)
	Failf(expected, observedFormat, args...)
}

var packetIDs = newIDs()

type ids struct{ n chan uint16 }

func newIDs() *ids {
	i := &ids{n: make(chan uint16, 1)}
	i.n <- 0
	return i
}

// nextPacketID hands out packet identifiers 1..65535, cycling.
func nextPacketID() uint16 {
	n := <-packetIDs.n
	n++
	if n == 0 {
		n = 1
	}
	packetIDs.n <- n
	return n
}

func (t *trace) register(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.names = append(t.names, name)
}

func (t *trace) clients() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.names...)
}

// Sentinel publishes a marker at QoS 1 on topic from a fresh client and
// returns its payload. A subscriber that receives it has received, before
// it, everything routed to it earlier: the way to prove that something did
// not happen without sleeping (DESIGN.md).
func Sentinel(v packet.Version, topic string) string {
	GinkgoHelper()
	c := Connected(v, Named("sentinel"))
	payload := "sentinel-" + strings.ReplaceAll(ClientID(), "mqttspec-", "")
	c.Publish(topic, []byte(payload), 1, false)
	c.Disconnect()
	return payload
}
