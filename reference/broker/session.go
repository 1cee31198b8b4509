package broker

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/mqttspec/mqttspec/reference/packet"
)

// session is the state the broker keeps for a client identifier, across
// connections while it has not expired (3.1.1 section 3.1.2.4, 5.0 4.1).
type session struct {
	id string
	b  *Broker

	isOnline atomic.Bool

	mu       sync.Mutex
	c        *client // current connection, nil when offline
	version  packet.Version
	username string // of the last connection, for ACL checks while offline
	// sec is the Security of the listener the last connection came
	// through: deliveries, retained messages and wills obey it, offline
	// too. It is nil only in a restored session whose listener has not
	// been found yet (security resolves secRef then).
	sec    *Security
	secRef securityRef // which listener's security, for persistence
	subs   map[subKey]*subscription

	// Outbound QoS 1 and 2: messages sent and not yet completed, in the
	// order they were sent, and the queue behind the in-flight window.
	nextID   uint16
	inflight []*inflightMsg
	queue    []*delivery
	dropped  uint64

	// Inbound QoS 2: packet identifiers received and not yet released. The
	// message was forwarded on receipt, so a redelivered PUBLISH with the
	// same identifier is not forwarded again [MQTT-4.3.3-2 / 5.0 4.3.3].
	inQoS2 map[uint16]struct{}

	expiry      time.Duration // session expiry after disconnect; <0: never
	expireTimer *time.Timer
	generation  uint64 // bumped at every connect, so stale timers do nothing

	will      *message
	willDelay time.Duration
	willTimer *time.Timer

	// Limits the client announced in its 5.0 CONNECT.
	clientReceiveMax int
	clientMaxPacket  int
}

// securityRef says whose Security a session is held to: the broker-wide
// one, or the own one of the listener named Listener ("" when that
// listener has no name, which a restart cannot find again).
type securityRef struct {
	Listener string
	Own      bool
}

// security returns the Security the session is held to; s.mu is held.
func (s *session) security() *Security {
	if s.sec != nil {
		return s.sec
	}
	sec, found := s.b.securityOf(s.secRef)
	if found {
		s.sec = sec
	}
	return sec
}

type subKey struct{ share, filter string }

type inflightMsg struct {
	id     uint16
	d      *delivery
	pubrec bool // PUBREC received; waiting for PUBCOMP
}

func newSession(b *Broker, id string) *session {
	return &session{id: id, b: b, subs: map[subKey]*subscription{}, inQoS2: map[uint16]struct{}{}}
}

func (s *session) online() bool { return s.isOnline.Load() }

func (s *session) window() int {
	w := s.b.cfg.MaxInflight
	if s.clientReceiveMax > 0 && s.clientReceiveMax < w {
		w = s.clientReceiveMax
	}
	return w
}

// freeID returns an unused packet identifier [MQTT-2.3.1-2 / MQTT-2.2.1-3].
func (s *session) freeID() uint16 {
	for {
		s.nextID++
		if s.nextID == 0 {
			s.nextID = 1
		}
		used := false
		for _, f := range s.inflight {
			if f.id == s.nextID {
				used = true
				break
			}
		}
		if !used {
			return s.nextID
		}
	}
}

// enqueue hands a delivery to the session: sent at once when the client is
// connected and the window allows, queued otherwise, dropped when the queue
// is full (drop-newest) or when it is QoS 0 and the client is offline.
func (s *session) enqueue(d *delivery) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.b.now()
	if d.m.expired(now) {
		return
	}
	if d.qos == 0 && s.c == nil {
		s.b.stats.dropped.Add(1)
		return
	}
	if s.c != nil && len(s.queue) == 0 && (d.qos == 0 || len(s.inflight) < s.window()) {
		s.sendLocked(d, now)
		return
	}
	if len(s.queue) >= s.b.cfg.MaxQueued {
		s.dropped++
		s.b.stats.dropped.Add(1)
		return
	}
	s.queue = append(s.queue, d)
}

// sendLocked writes a delivery to the current connection; QoS 1 and 2 take a
// packet identifier and a place in the in-flight window.
func (s *session) sendLocked(d *delivery, now time.Time) {
	var id uint16
	if d.qos > 0 {
		id = s.freeID()
		s.inflight = append(s.inflight, &inflightMsg{id: id, d: d})
	}
	p := d.publishPacket(id, false, s.version, now)
	if !s.c.fits(p) {
		// Too large for the client's Maximum Packet Size: discard it as if it
		// had been delivered [MQTT-3.1.2-25].
		if d.qos > 0 {
			s.inflight = s.inflight[:len(s.inflight)-1]
		}
		s.b.stats.dropped.Add(1)
		return
	}
	s.c.push(p)
}

// pump moves queued deliveries into the window while it has room.
func (s *session) pumpLocked() {
	if s.c == nil {
		return
	}
	now := s.b.now()
	for len(s.queue) > 0 {
		d := s.queue[0]
		if d.qos > 0 && len(s.inflight) >= s.window() {
			return
		}
		s.queue[0] = nil
		s.queue = s.queue[1:]
		if d.m.expired(now) {
			continue
		}
		s.sendLocked(d, now)
	}
}

// acked completes an outbound exchange (PUBACK for QoS 1, PUBCOMP for QoS 2,
// or a 5.0 PUBREC with an error code). It reports whether id was in flight.
func (s *session) acked(id uint16, wantQoS packet.QoS, afterPubrec bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.inflight {
		if f.id == id && f.d.qos == wantQoS && f.pubrec == afterPubrec {
			s.inflight = append(s.inflight[:i], s.inflight[i+1:]...)
			s.pumpLocked()
			return true
		}
	}
	return false
}

// received records a PUBREC: the message now waits for PUBCOMP.
func (s *session) received(id uint16) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.inflight {
		if f.id == id && f.d.qos == 2 {
			f.pubrec = true
			return true
		}
	}
	return false
}

// resumeLocked is called when a client reconnects to this session: it
// resends unacknowledged PUBLISH packets with DUP set and PUBREL packets
// with their original identifiers [MQTT-4.4.0-1], then sends the queue.
func (s *session) resumeLocked() {
	now := s.b.now()
	for _, f := range s.inflight {
		if f.pubrec {
			s.c.push(&packet.Pubrel{PacketID: f.id})
			continue
		}
		s.c.push(f.d.publishPacket(f.id, true, s.version, now))
	}
	s.pumpLocked()
}
