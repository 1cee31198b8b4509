package fuzz

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/mqttspec/mqttspec/reference/packet"
)

// Oracle names.
const (
	OracleCrash             = "crash"
	OracleHang              = "hang"
	OracleSpecViolation     = "spec-violation"
	OracleMalformedResponse = "malformed-response"
)

// Violation is a spec-violation verdict on one execution.
type Violation struct {
	// Statement is the rule the offending packet breaks, as the codec
	// reports it.
	Statement string `json:"statement"`
	// CloseRule is the statement that obliges the server to close the
	// connection on such a packet (MQTT-3.1.4-1 for CONNECT, MQTT-4.8.0-1
	// in 3.1.1, MQTT-4.13.1-1 in 5.0, MQTT-3.1.0-2 for a second CONNECT).
	CloseRule string `json:"close_rule"`
	Packet    int    `json:"packet"` // index of the offending packet in the stream
	Type      string `json:"type"`
	Reason    string `json:"reason"` // reason code a 5.0 server would give
	Detail    string `json:"detail"`
}

// closeReasons are the codec's reasons after which a server has no choice
// but to close. Topic Name invalid and Topic Filter invalid are left out:
// a 5.0 server may answer them with a reason code in PUBACK or SUBACK and go
// on. Unsupported Protocol Version is left out because servers accept
// extensions (bridge protocol levels), and Packet too large depends on the
// server's own limit.
func closeReason(r packet.ReasonCode) bool {
	switch r {
	case packet.MalformedPacket, packet.ProtocolError, packet.TopicAliasInvalid:
		return true
	}
	return false
}

// isPingreq reports whether frame f of the stream is an exact PINGREQ.
func isPingreq(stream []byte, f frame) bool {
	return f.Len == 2 && stream[f.Off] == 0xc0 && stream[f.Off+1] == 0
}

// CheckViolation decides whether the broker answered normally after a
// packet it was obliged to close the connection on. The evidence is strict:
// the broker must have answered a PINGREQ that comes after the offending
// packet, which it can only do if it read past that packet and kept the
// connection. A broker that merely ignores a bad packet and closes later,
// or answers it with an error reason and closes, is not flagged.
func CheckViolation(in *Input, r *Result) *Violation {
	if len(r.Frames) == 0 {
		return nil
	}
	pongs := r.Pongs()
	if pongs == 0 {
		return nil
	}
	// answeredAfter reports whether some PINGREQ after frame k was
	// answered. Every PINGREQ-typed frame up to k, k included, whatever
	// its flags or length, may have drawn one of the PINGRESPs: only more
	// PINGRESPs than those prove the broker read on past k.
	answeredAfter := func(k int) bool {
		upTo := 0
		for _, f := range r.Frames[:k+1] {
			if f.Type == byte(packet.PINGREQ) {
				upTo++
			}
		}
		return pongs > upTo
	}
	closeRule := "MQTT-4.8.0-1"
	if r.Version == packet.V5 {
		closeRule = "MQTT-4.13.1-1"
	}
	if r.Frames[0].Type != byte(packet.CONNECT) {
		if answeredAfter(0) {
			return &Violation{Statement: "MQTT-3.1.0-1", CloseRule: closeRule, Packet: 0, Type: packet.Type(r.Frames[0].Type).String(),
				Detail: "the first packet is not CONNECT, yet the broker answered a later PINGREQ"}
		}
		return nil
	}
	d := packet.Decoder{Options: packet.DecodeOptions{Version: in.Version}}
	for k, f := range r.Frames {
		switch packet.Type(f.Type) {
		case packet.CONNACK, packet.SUBACK, packet.UNSUBACK, packet.PINGRESP, 0:
			// A packet only a server sends: the codec judges it by the
			// rules for its sender, which say nothing of how a server
			// receiving one must react. Nothing after it is judged.
			return nil
		}
		_, _, err := d.Decode(r.Stream[f.Off : f.Off+f.Len])
		if err == nil {
			if k > 0 && f.Type == byte(packet.CONNECT) && answeredAfter(k) {
				return &Violation{Statement: "MQTT-3.1.0-2", CloseRule: "MQTT-3.1.0-2", Packet: k, Type: "CONNECT",
					Detail: "a second CONNECT on the connection, yet the broker answered a later PINGREQ"}
			}
			continue
		}
		e := packet.AsError(err)
		// Only a rule with a statement ID counts: the codec also rejects
		// what the specification states in prose alone (3.1.1's
		// non-minimal lengths, values it merely leaves undefined), where
		// a server that goes on is not clearly wrong.
		if e == nil || e.Statement == "" || !closeReason(e.Reason) || !answeredAfter(k) {
			return nil
		}
		stmt := e.Statement
		rule := closeRule
		if k == 0 {
			rule = "MQTT-3.1.4-1"
		}
		return &Violation{Statement: stmt, CloseRule: rule, Packet: k, Type: packet.Type(f.Type).String(),
			Reason: e.Reason.String(), Detail: fmt.Sprintf("the codec rejects packet %d (%v), yet the broker answered a later PINGREQ", k, e)}
	}
	return nil
}

// CheckResponses returns the first broker packet the codec rejects, when
// the connection was read at a version the client's CONNECT established.
func CheckResponses(in *Input, r *Result) *Response {
	if len(in.Packets) == 0 {
		return nil
	}
	if _, _, err := packet.Decode(in.Packets[0], packet.DecodeOptions{}); err != nil {
		return nil // the broker cannot know which version to speak
	}
	for i := range r.Responses {
		resp := &r.Responses[i]
		if resp.Err == nil {
			continue
		}
		// A server forwards a message's properties unaltered (MQTT-3.3.2-4
		// and others), so a property value it once accepted, maybe on an
		// earlier connection as a retained message, comes back in a
		// PUBLISH; the fault is the acceptance, not the forwarding.
		if resp.Type == packet.PUBLISH && (resp.Err.Reason == packet.ProtocolError || !streamValid(in.Version, r.Stream)) {
			continue
		}
		return resp
	}
	return nil
}

// streamValid reports whether every packet of a client stream decodes.
func streamValid(v packet.Version, stream []byte) bool {
	d := packet.Decoder{Options: packet.DecodeOptions{Version: v}}
	for off := 0; off < len(stream); {
		_, n, err := d.Decode(stream[off:])
		if err != nil {
			return false
		}
		off += n
	}
	return true
}

// Health is the verdict of a fresh connection's round trips.
type Health struct {
	OK     bool          `json:"ok"`
	Oracle string        `json:"oracle,omitempty"` // crash or hang when not OK
	Detail string        `json:"detail,omitempty"`
	Took   time.Duration `json:"took_ns"`
}

// HealthCheck opens a fresh connection and times a 3.1.1 CONNECT/CONNACK and
// a PINGREQ/PINGRESP round trip. A refused or reset connection is a crash;
// a round trip beyond bound is a hang. alive, when set, is the target's own
// liveness check (for containers: state and probe), consulted on failure to
// tell a dead process from a hung one.
func (x *Executor) HealthCheck(ctx context.Context, bound time.Duration, alive func(context.Context) error) Health {
	start := time.Now()
	h := x.roundTrips(ctx, bound)
	h.Took = time.Since(start)
	if !h.OK && alive != nil {
		// A hung listener and a dead process can look alike from here;
		// ask the target: a container's state says "exited (code 139)".
		actx, cancel := context.WithTimeout(ctx, bound)
		err := alive(actx)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) && !isTimeout(err) {
			h.Oracle, h.Detail = OracleCrash, h.Detail+"; target: "+err.Error()
		}
	}
	return h
}

// healthIDs keeps the client identifiers of concurrent health checks
// apart: a shared one would make the broker take one session over with the
// other and look like a crash.
var healthIDs atomic.Int64

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (x *Executor) roundTrips(ctx context.Context, bound time.Duration) Health {
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	var conn net.Conn
	var err error
	if x.tcpAddr != "" {
		d := net.Dialer{}
		conn, err = d.DialContext(ctx, "tcp", x.tcpAddr)
	} else {
		conn, err = x.dialCtx(ctx)
	}
	if err != nil {
		if ctx.Err() != nil || isTimeout(err) {
			return Health{Oracle: OracleHang, Detail: fmt.Sprintf("connecting took longer than %v: %v", bound, err)}
		}
		return Health{Oracle: OracleCrash, Detail: "connection refused: " + err.Error()}
	}
	defer conn.Close()
	dl, _ := ctx.Deadline()
	conn.SetDeadline(dl)
	rd := packet.NewReader(conn, packet.DecodeOptions{Version: packet.V311})
	var connack *packet.Connack
	step := func(send packet.Packet, want packet.Type) *Health {
		b, _ := packet.Encode(send, packet.V311)
		if _, err := conn.Write(b); err != nil {
			return &Health{Oracle: OracleCrash, Detail: fmt.Sprintf("sending %s: %v", send.Type(), err)}
		}
		p, err := rd.ReadPacket()
		switch {
		case err != nil && isTimeout(err):
			return &Health{Oracle: OracleHang, Detail: fmt.Sprintf("no %s within %v", want, bound)}
		case err != nil:
			return &Health{Oracle: OracleCrash, Detail: fmt.Sprintf("waiting for %s: %v", want, err)}
		case p.Type() != want:
			return &Health{Oracle: OracleCrash, Detail: fmt.Sprintf("answered %s with %s", send.Type(), p.Type())}
		}
		if ca, ok := p.(*packet.Connack); ok {
			c := *ca
			connack = &c
		}
		return nil
	}
	hello := &packet.Connect{ProtocolVersion: packet.V311, CleanStart: true, ClientID: fmt.Sprintf("mqttspec-fz-health-%d", healthIDs.Add(1))}
	if x.Login != nil {
		hello.Username, hello.Password = x.Login.Username, []byte(x.Login.Password)
	}
	if h := step(hello, packet.CONNACK); h != nil {
		return *h
	}
	if connack.ReasonCode != 0 {
		// A broker that wants credentials refuses promptly: it is alive,
		// but there is no session to send PINGREQ on.
		return Health{OK: true, Detail: fmt.Sprintf("CONNECT refused with return code %d", connack.ReasonCode)}
	}
	if h := step(&packet.Pingreq{}, packet.PINGRESP); h != nil {
		return *h
	}
	conn.Write([]byte{0xe0, 0x00})
	return Health{OK: true}
}

func (x *Executor) dialCtx(ctx context.Context) (net.Conn, error) {
	return x.dial(ctx)
}
