package broker

import (
	"time"

	"github.com/mqttspec/mqttspec/reference/packet"
)

// takeoverWait bounds how long a new connection waits for the connection it
// replaces to let go of the session.
const takeoverWait = 5 * time.Second

// attach binds c to the session of its client identifier, taking it over
// from an existing connection [MQTT-3.1.4-2 / MQTT-3.1.4-3] and starting
// fresh when clean is set [MQTT-3.1.2-4 / MQTT-3.1.2-6 3.1.1; MQTT-3.1.2-4 5.0].
// It returns the session, locked by the caller afterwards, and whether an
// existing session was resumed (Session Present) [MQTT-3.2.2-2/-3].
func (b *Broker) attach(c *client, clean bool) (*session, bool) {
	for {
		b.mu.Lock()
		s := b.sessions[c.id]
		if s == nil {
			s = newSession(b, c.id)
			b.sessions[c.id] = s
			s.mu.Lock()
			s.generation++
			s.mu.Unlock()
			c.s = s
			b.mu.Unlock()
			return s, false
		}
		s.mu.Lock()
		old := s.c
		if old != nil {
			s.mu.Unlock()
			b.mu.Unlock()
			// Session taken over: close the old connection and wait until it
			// has let go of the session (its will is handled there).
			old.kick(sessionTakenOverCode)
			select {
			case <-old.detached:
			case <-time.After(takeoverWait):
				b.log.Warn("previous connection did not close in time", "client", c.id)
			}
			continue
		}
		var will *message
		s.generation++
		stopTimer(s.expireTimer)
		if clean {
			// The old session ends; a will still waiting on its delay is
			// sent now [5.0 3.1.3.2.2], under the rights of the connection
			// that set it.
			will = s.takeWillLocked()
			willSec := s.security()
			s.mu.Unlock()
			b.endSessionLocked(s)
			s = newSession(b, c.id)
			b.sessions[c.id] = s
			s.mu.Lock()
			s.generation++
			s.mu.Unlock()
			c.s = s
			b.mu.Unlock()
			if will != nil {
				b.publishWill(will, willSec)
			}
			return s, false
		}
		// Resumed: a will waiting on its delay is not sent [MQTT-3.1.3-9 5.0].
		stopTimer(s.willTimer)
		s.willTimer = nil
		s.will = nil
		s.mu.Unlock()
		c.s = s
		b.mu.Unlock()
		return s, true
	}
}

// sessionTakenOverCode is the DISCONNECT reason sent to the replaced
// connection [MQTT-3.1.4-3 5.0].
const sessionTakenOverCode = 0x8E

func (s *session) takeWillLocked() *message {
	w := s.will
	s.will = nil
	stopTimer(s.willTimer)
	s.willTimer = nil
	return w
}

// endSessionLocked removes a session and its subscriptions; b.mu is held.
func (b *Broker) endSessionLocked(s *session) {
	if b.sessions[s.id] == s {
		delete(b.sessions, s.id)
	}
	s.mu.Lock()
	subs := s.subs
	s.subs = map[subKey]*subscription{}
	s.queue, s.inflight = nil, nil
	stopTimer(s.expireTimer)
	s.mu.Unlock()
	for k := range subs {
		b.subs.remove(s.id, k.filter, k.share)
	}
}

// detach runs when a connection ends: the session goes offline, the will is
// published now or after its delay unless the client disconnected normally
// [MQTT-3.1.2-8 / MQTT-3.1.2-10], and the session ends now or after its
// expiry interval.
func (b *Broker) detach(c *client) {
	s := c.s
	b.mu.Lock()
	s.mu.Lock()
	if s.c != c {
		s.mu.Unlock()
		b.mu.Unlock()
		return
	}
	s.c = nil
	s.isOnline.Store(false)
	b.stats.connected.Add(-1)
	gen := s.generation
	var willNow *message
	if !c.willOnClose.Load() {
		s.will = nil
	} else if s.will != nil {
		if s.willDelay > 0 && (s.expiry < 0 || s.expiry > s.willDelay) {
			s.willTimer = time.AfterFunc(s.willDelay, func() { b.willDue(s, gen) })
		} else if s.willDelay == 0 || s.expiry == 0 {
			willNow = s.takeWillLocked()
		}
		// Otherwise the session expires first and sends the will then.
	}
	switch {
	case s.expiry == 0:
		if willNow == nil {
			willNow = s.takeWillLocked()
		}
		s.mu.Unlock()
		b.endSessionLocked(s)
	case s.expiry > 0:
		s.expireTimer = time.AfterFunc(s.expiry, func() { b.sessionExpired(s, gen) })
		s.mu.Unlock()
	default:
		s.mu.Unlock()
	}
	b.mu.Unlock()
	if willNow != nil {
		b.publishWill(willNow, c.sec)
	}
	b.log.Debug("disconnected", "client", c.id)
}

// publishWill publishes a will under sec, the Security of the listener
// its client connected through.
func (b *Broker) publishWill(w *message, sec *Security) {
	// A will goes through the same write check as a PUBLISH would.
	if !sec.mayWrite(w.fromUser, w.from, w.topic) {
		b.log.Debug("will not published: not authorised", "client", w.from, "topic", w.topic)
		return
	}
	if w.props.Has(packet.PropMessageExpiry) { // counted from publication
		w.expires = b.now().Add(time.Duration(w.props.MessageExpiry) * time.Second)
	}
	b.publish(w)
}

func (b *Broker) willDue(s *session, gen uint64) {
	s.mu.Lock()
	if s.generation != gen || s.c != nil {
		s.mu.Unlock()
		return
	}
	w := s.takeWillLocked()
	sec := s.security()
	s.mu.Unlock()
	if w != nil {
		b.publishWill(w, sec)
	}
}

func (b *Broker) sessionExpired(s *session, gen uint64) {
	b.mu.Lock()
	s.mu.Lock()
	if s.generation != gen || s.c != nil {
		s.mu.Unlock()
		b.mu.Unlock()
		return
	}
	w := s.takeWillLocked()
	sec := s.security()
	s.mu.Unlock()
	b.endSessionLocked(s)
	b.mu.Unlock()
	if w != nil {
		b.publishWill(w, sec)
	}
}
