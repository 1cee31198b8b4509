package fuzz

import (
	"bytes"
	"fmt"

	"github.com/mqttspec/mqttspec/brokers"
)

// Redaction marks where a reproducer's bytes held the login's password: on
// disk they are '*', and Replay and Minimize put the target's password back
// at exactly these places, so the bytes sent are the bytes found.
type Redaction struct {
	// Connection is the index in Preceding, or -1 for the input itself.
	Connection int `json:"connection"`
	Packet     int `json:"packet"`
	Offset     int `json:"offset"`
	Length     int `json:"length"`
}

// redactInput returns in with every occurrence of pw replaced by '*'
// (in itself is left alone), and where they were.
func redactInput(in *Input, pw []byte, conn int) (*Input, []Redaction) {
	if len(pw) == 0 {
		return in, nil
	}
	var rs []Redaction
	var out *Input
	for pi, p := range in.Packets {
		for off := 0; off+len(pw) <= len(p); {
			i := bytes.Index(p[off:], pw)
			if i < 0 {
				break
			}
			if out == nil {
				out = in.Clone()
			}
			at := off + i
			copy(out.Packets[pi][at:at+len(pw)], bytes.Repeat([]byte{'*'}, len(pw)))
			rs = append(rs, Redaction{Connection: conn, Packet: pi, Offset: at, Length: len(pw)})
			off = at + len(pw)
		}
	}
	if out == nil {
		return in, nil
	}
	return out, rs
}

// redactFinding fills the finding's packets from run's inputs, with the
// login's password taken out.
func redactFinding(f *Finding, in *Input, preceding []*Input, login *brokers.Credential) {
	var pw []byte
	if login != nil {
		pw = []byte(login.Password)
	}
	f.Redacted = nil
	f.Preceding = f.Preceding[:0]
	for i, p := range preceding {
		q, rs := redactInput(p, pw, i)
		f.Redacted = append(f.Redacted, rs...)
		f.Preceding = append(f.Preceding, Connection{Version: q.Version.String(), Packets: recordPackets(q)})
	}
	q, rs := redactInput(in, pw, -1)
	f.Redacted = append(f.Redacted, rs...)
	f.Version = q.Version.String()
	f.Packets = recordPackets(q)
	if len(f.Preceding) == 0 {
		f.Preceding = nil
	}
}

// loginSequence is the finding's inputs with the login's password put back
// where it was taken out.
func (f *Finding) loginSequence(login *brokers.Credential) ([]*Input, error) {
	seq, err := f.Sequence()
	if err != nil || len(f.Redacted) == 0 {
		return seq, err
	}
	if login == nil {
		return nil, fmt.Errorf("finding %s: its CONNECT held a password, taken out of the file: replay it with the same login (--username and MQTTSPEC_PASSWORD)", f.ID)
	}
	pw := []byte(login.Password)
	for _, r := range f.Redacted {
		idx := r.Connection
		if idx < 0 {
			idx = len(seq) - 1
		}
		if r.Length != len(pw) {
			return nil, fmt.Errorf("finding %s: the password taken out had %d bytes, the login's has %d: replay with the login the finding was made with", f.ID, r.Length, len(pw))
		}
		if idx >= len(seq) || r.Packet >= len(seq[idx].Packets) || r.Offset+r.Length > len(seq[idx].Packets[r.Packet]) {
			return nil, fmt.Errorf("finding %s: a redaction points outside the packets", f.ID)
		}
		copy(seq[idx].Packets[r.Packet][r.Offset:], pw)
	}
	return seq, nil
}
