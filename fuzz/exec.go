package fuzz

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mqttspec/mqttspec/brokers"
	"github.com/mqttspec/mqttspec/reference/packet"
)

// How an execution ended.
const (
	EndPong    = "pong"    // every PINGREQ sent was answered: the broker read the whole input
	EndClosed  = "closed"  // the broker closed the connection (or reset it)
	EndTimeout = "timeout" // the broker neither answered nor closed within the bound
	EndDial    = "dial"    // no connection could be opened
)

// pingreq is the sentinel every execution sends last (before a final
// DISCONNECT): its PINGRESP proves the broker read everything before it and
// kept the connection.
var pingreq = []byte{0xc0, 0x00}

// Response is one packet the broker sent.
type Response struct {
	Type packet.Type
	// Reasons are the reason or return codes it carried, if any.
	Reasons []packet.ReasonCode
	Raw     []byte
	At      time.Duration // since the input was written
	// Err is set when the codec rejects the packet.
	Err *packet.Error
}

// Result is what one execution observed.
type Result struct {
	Version   packet.Version // the version responses were read at
	Stream    []byte         // exactly what was written, sentinel included
	Frames    []frame        // Stream as a parser delimits it
	Complete  bool           // Stream ends at a packet boundary
	Responses []Response
	End       string
	Err       error // the dial or read error behind End, if any
	Duration  time.Duration
}

// Pongs counts the PINGRESP packets received.
func (r *Result) Pongs() int {
	n := 0
	for _, resp := range r.Responses {
		if resp.Type == packet.PINGRESP && resp.Err == nil {
			n++
		}
	}
	return n
}

// Signature sums up the broker's behaviour: the packets it answered with
// and their reason codes, in order, and how the connection ended. Server
// PUBLISH packets are left out: their timing relative to the other answers
// is not the broker's parser behaviour.
func (r *Result) Signature() string {
	var b strings.Builder
	fmt.Fprintf(&b, "v%d|", r.Version)
	prev := ""
	for _, resp := range r.Responses {
		if resp.Type == packet.PUBLISH {
			continue
		}
		var one strings.Builder
		one.WriteString(resp.Type.String())
		if resp.Err != nil {
			one.WriteString("!malformed")
		}
		for i, c := range resp.Reasons {
			if i == 0 {
				one.WriteByte(':')
			} else {
				one.WriteByte(',')
			}
			const digits = "0123456789abcdef"
			one.WriteByte(digits[c>>4])
			one.WriteByte(digits[c&0xf])
		}
		// A run of equal answers counts as one behaviour: five PUBACKs
		// are no newer than two.
		if s := one.String(); s != prev {
			b.WriteString(s + " ")
			prev = s
		}
	}
	b.WriteString("|" + r.End)
	return b.String()
}

// readBufs recycles the read buffers of executions: thousands a second
// would otherwise keep the garbage collector busy.
var readBufs = sync.Pool{New: func() any { return &[2][]byte{make([]byte, 0, 4096), make([]byte, 4096)} }}

// behaviour is the corpus feedback key: the set of distinct answers (type
// and reason codes, order and repetition ignored) and how the connection
// ended, hashed. It is coarser than Signature so that the corpus keeps
// inputs that make the broker do something new, not merely the same
// things in another order or number.
func (r *Result) behaviour() uint64 {
	tokens := strings.Fields(strings.SplitN(r.Signature(), "|", 3)[1])
	slices.Sort(tokens)
	tokens = slices.Compact(tokens)
	h := fnv.New64a()
	fmt.Fprintf(h, "v%d|%s|%s", r.Version, strings.Join(tokens, " "), r.End)
	return h.Sum64()
}

// Executor runs inputs against one endpoint, each on a fresh connection.
type Executor struct {
	Endpoint brokers.Endpoint
	// Timeout bounds one execution (default 1 s).
	Timeout time.Duration
	// Login, when set, is sent in the health check's CONNECT (a broker
	// without anonymous access).
	Login *brokers.Credential

	tcpAddr string // set for tcp:// endpoints, which skip brokers.Dial
}

// NewExecutor prepares an executor for e.
func NewExecutor(e brokers.Endpoint, timeout time.Duration) (*Executor, error) {
	u, err := url.Parse(e.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("endpoint %q: want a URL such as tcp://127.0.0.1:1883", e.URL)
	}
	if timeout <= 0 {
		timeout = time.Second
	}
	x := &Executor{Endpoint: e, Timeout: timeout}
	if u.Scheme == "tcp" || u.Scheme == "mqtt" {
		x.tcpAddr = u.Host
	}
	return x, nil
}

func (x *Executor) dial(ctx context.Context) (net.Conn, error) {
	if x.tcpAddr != "" {
		// No TCP keep-alive: connections live for milliseconds, and its
		// socket options cost system calls on every dial.
		d := net.Dialer{Timeout: x.Timeout, KeepAlive: -1}
		return d.DialContext(ctx, "tcp", x.tcpAddr)
	}
	ctx, cancel := context.WithTimeout(ctx, x.Timeout)
	defer cancel()
	return brokers.Dial(ctx, x.Endpoint, nil)
}

// withSentinel returns the input's stream with a PINGREQ before a final
// DISCONNECT, or at the end.
func withSentinel(in *Input) []byte {
	n := len(in.Packets)
	last := n > 0 && len(in.Packets[n-1]) >= 2 && in.Packets[n-1][0] == 0xe0
	var out []byte
	for i, p := range in.Packets {
		if i == n-1 && last {
			out = append(out, pingreq...)
		}
		out = append(out, p...)
	}
	if !last {
		out = append(out, pingreq...)
	}
	return out
}

// responseVersion is the version the broker answers at: that of the first
// packet when it is a CONNECT the codec accepts, else the input's.
func responseVersion(in *Input) packet.Version {
	if len(in.Packets) > 0 {
		if c, _, err := packet.Decode(in.Packets[0], packet.DecodeOptions{}); err == nil {
			if cc, ok := c.(*packet.Connect); ok {
				return cc.ProtocolVersion
			}
		}
	}
	return in.Version
}

// Run sends in on a fresh connection and records the answers until every
// PINGREQ is answered, the broker closes, or the timeout.
func (x *Executor) Run(ctx context.Context, in *Input) *Result {
	r := &Result{Version: responseVersion(in), Stream: withSentinel(in)}
	r.Frames, r.Complete = scanFrames(r.Stream)
	want := 0
	for _, f := range r.Frames {
		if f.Len == 2 && r.Stream[f.Off] == 0xc0 && r.Stream[f.Off+1] == 0 {
			want++
		}
	}
	start := time.Now()
	defer func() { r.Duration = time.Since(start) }()
	conn, err := x.dial(ctx)
	if err != nil {
		r.End, r.Err = EndDial, err
		return r
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		// Reset rather than linger: thousands of connections a second
		// would otherwise pile up in TIME_WAIT and exhaust the ports.
		tc.SetLinger(0)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(x.Timeout))
	if _, err := conn.Write(r.Stream); err != nil {
		// The broker may close while the input is still being written;
		// what it answered before is still worth reading.
		r.Err = err
	}
	if !r.Complete || want == 0 {
		// The broker waits for the rest of a packet that never comes, or
		// a packet swallowed the sentinel as its body, so no PINGRESP will
		// end the exchange: end the stream so the broker sees end-of-file
		// instead of a stall.
		if cw, ok := conn.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
	}
	written := time.Now()
	opts := packet.DecodeOptions{Version: r.Version}
	bufs := readBufs.Get().(*[2][]byte)
	defer readBufs.Put(bufs)
	buf, chunk := bufs[0][:0], bufs[1]
	pongs := 0
	for {
		if r.Complete && want > 0 && pongs >= want {
			r.End = EndPong
			return r
		}
		n, err := conn.Read(chunk)
		buf = append(buf, chunk[:n]...)
		for {
			frames, _ := scanFrames(buf)
			if len(frames) == 0 {
				break
			}
			f := frames[0]
			raw := append([]byte(nil), buf[:f.Len]...)
			buf = buf[f.Len:]
			resp := decodeResponse(raw, opts)
			resp.At = time.Since(written)
			if resp.Type == packet.PINGRESP && resp.Err == nil {
				pongs++
			}
			r.Responses = append(r.Responses, resp)
			if len(r.Responses) > 1000 {
				r.End, r.Err = EndClosed, errors.New("more than 1000 packets in answer; stopped reading")
				return r
			}
		}
		if err != nil {
			var ne net.Error
			switch {
			case errors.As(err, &ne) && ne.Timeout():
				r.End = EndTimeout
			default:
				r.End = EndClosed
				if errors.Is(err, io.EOF) {
					err = nil
				}
			}
			if err != nil {
				r.Err = err
			}
			return r
		}
	}
}

// decodeResponse decodes one complete packet from the broker.
func decodeResponse(raw []byte, opts packet.DecodeOptions) Response {
	resp := Response{Type: packet.Type(raw[0] >> 4), Raw: raw}
	p, _, err := packet.Decode(raw, opts)
	if err != nil {
		resp.Err = packet.AsError(err)
		if resp.Err == nil {
			resp.Err = &packet.Error{Section: "2", Msg: err.Error()}
		}
		return resp
	}
	switch p := p.(type) {
	case *packet.Connack:
		resp.Reasons = []packet.ReasonCode{p.ReasonCode}
	case *packet.Suback:
		resp.Reasons = p.ReasonCodes
	case *packet.Unsuback:
		resp.Reasons = p.ReasonCodes
	case *packet.Puback:
		resp.Reasons = []packet.ReasonCode{p.ReasonCode}
	case *packet.Pubrec:
		resp.Reasons = []packet.ReasonCode{p.ReasonCode}
	case *packet.Pubrel:
		resp.Reasons = []packet.ReasonCode{p.ReasonCode}
	case *packet.Pubcomp:
		resp.Reasons = []packet.ReasonCode{p.ReasonCode}
	case *packet.Disconnect:
		resp.Reasons = []packet.ReasonCode{p.ReasonCode}
	case *packet.Auth:
		resp.Reasons = []packet.ReasonCode{p.ReasonCode}
	}
	return resp
}
