package simulator

import (
	"bytes"
	"strconv"
)

// The payload is compact JSON with a fixed key order, for example
//
//	{"v":21.4,"id":1234,"q":1,"seq":17,"t":5012345,"run":"5f3a9c01"}
//
// v is the sensor reading, id the publisher (global device index), q the QoS
// it was published with, seq the publisher's sequence number for that QoS
// (1, 2, 3, ...), t the intended send time in microseconds since the run
// started, and run identifies the run, so that retained messages and
// traffic of other runs are told apart. JSON because real fleets send it
// and any MQTT tool shows it readably; the fixed order lets the observer
// parse it without allocating. Anything else that arrives (a last will, a
// stranger's message) is counted as foreign.
type header struct {
	id  uint32
	q   uint8
	seq uint32
	t   int64 // µs since run start
	run []byte
}

func appendPayload(dst []byte, value float64, decimals int, h *header) []byte {
	dst = append(dst, `{"v":`...)
	dst = strconv.AppendFloat(dst, value, 'f', decimals, 64)
	dst = append(dst, `,"id":`...)
	dst = strconv.AppendUint(dst, uint64(h.id), 10)
	dst = append(dst, `,"q":`...)
	dst = strconv.AppendUint(dst, uint64(h.q), 10)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendUint(dst, uint64(h.seq), 10)
	dst = append(dst, `,"t":`...)
	dst = strconv.AppendInt(dst, h.t, 10)
	dst = append(dst, `,"run":"`...)
	dst = append(dst, h.run...)
	return append(dst, `"}`...)
}

// parsePayload reads a payload written by appendPayload. ok is false for
// anything else.
func parsePayload(b []byte) (h header, value float64, ok bool) {
	p := payloadParser{b: b}
	if !p.lit(`{"v":`) {
		return h, 0, false
	}
	end := bytes.IndexByte(p.b, ',')
	if end <= 0 {
		return h, 0, false
	}
	value, err := strconv.ParseFloat(string(p.b[:end]), 64)
	if err != nil {
		return h, 0, false
	}
	p.b = p.b[end:]
	id, ok1 := p.field(`,"id":`, 32)
	q, ok2 := p.field(`,"q":`, 8)
	seq, ok3 := p.field(`,"seq":`, 32)
	t, ok4 := p.field(`,"t":`, 63)
	if !(ok1 && ok2 && ok3 && ok4) || q > 2 || !p.lit(`,"run":"`) {
		return h, 0, false
	}
	end = bytes.IndexByte(p.b, '"')
	if end < 0 || string(p.b[end:]) != `"}` {
		return h, 0, false
	}
	return header{id: uint32(id), q: uint8(q), seq: uint32(seq), t: int64(t), run: p.b[:end]}, value, true
}

type payloadParser struct{ b []byte }

func (p *payloadParser) lit(s string) bool {
	if len(p.b) < len(s) || string(p.b[:len(s)]) != s {
		return false
	}
	p.b = p.b[len(s):]
	return true
}

// field reads a key literal and an unsigned decimal that fits in bits.
func (p *payloadParser) field(key string, bits int) (uint64, bool) {
	if !p.lit(key) {
		return 0, false
	}
	var n uint64
	i := 0
	for ; i < len(p.b) && p.b[i] >= '0' && p.b[i] <= '9'; i++ {
		if i >= 19 {
			return 0, false
		}
		n = n*10 + uint64(p.b[i]-'0')
	}
	if i == 0 || (bits < 64 && n >= 1<<bits) {
		return 0, false
	}
	p.b = p.b[i:]
	return n, true
}
