package broker

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/mqttspec/mqttspec/reference/packet"
)

// Persistence keeps sessions (subscriptions, in-flight and queued messages,
// QoS 2 identifiers awaiting PUBREL) and retained messages in a bbolt file.
// Like Mosquitto, the broker saves a snapshot when it shuts down and, if
// AutosaveInterval is set, periodically; a crash loses what changed since
// the last snapshot. bbolt was chosen because it is a small, pure-Go,
// embedded, transactional store: one file, no server, no cgo.

var (
	bucketSessions = []byte("sessions")
	bucketRetained = []byte("retained")
	bucketMeta     = []byte("meta")
)

// storeFormat is bumped when the record layout changes incompatibly.
const storeFormat = "mqttspec-broker-store/1"

type sessionRecord struct {
	ID       string         `json:"id"`
	Version  packet.Version `json:"version"`
	Username string         `json:"username,omitempty"`
	// Listener and OwnSecurity say whose rights the session is held to
	// (securityRef): a listener's own security is found again by name.
	Listener       string           `json:"listener,omitempty"`
	OwnSecurity    bool             `json:"own_security,omitempty"`
	Expiry         time.Duration    `json:"expiry"` // <0: never
	DisconnectedAt time.Time        `json:"disconnected_at"`
	Subs           []subRecord      `json:"subs,omitempty"`
	NextID         uint16           `json:"next_id"`
	Inflight       []inflightRecord `json:"inflight,omitempty"`
	Queue          []deliveryRecord `json:"queue,omitempty"`
	InQoS2         []uint16         `json:"in_qos2,omitempty"`
}

type subRecord struct {
	Filter string              `json:"filter"`
	Share  string              `json:"share,omitempty"`
	Opts   packet.Subscription `json:"opts"`
	ID     int                 `json:"id,omitempty"`
}

type inflightRecord struct {
	ID       uint16         `json:"id"`
	Pubrec   bool           `json:"pubrec,omitempty"`
	Delivery deliveryRecord `json:"delivery"`
}

type deliveryRecord struct {
	Message messageRecord `json:"message"`
	QoS     packet.QoS    `json:"qos"`
	Retain  bool          `json:"retain,omitempty"`
	SubIDs  []int         `json:"sub_ids,omitempty"`
}

// messageRecord stores an application message as the wire form of a 5.0
// PUBLISH, so every property survives through the codec we trust.
type messageRecord struct {
	Publish  []byte    `json:"publish"`
	Expires  time.Time `json:"expires,omitzero"`
	From     string    `json:"from,omitempty"`
	FromUser string    `json:"from_user,omitempty"`
}

func recordMessage(m *message) (messageRecord, error) {
	p := &packet.Publish{QoS: m.qos, Retain: m.retain, Topic: []byte(m.topic), Payload: m.payload, Properties: m.props}
	if m.qos > 0 {
		p.PacketID = 1
	}
	b, err := packet.Encode(p, packet.V5)
	return messageRecord{Publish: b, Expires: m.expires, From: m.from, FromUser: m.fromUser}, err
}

func (r messageRecord) message() (*message, error) {
	pk, _, err := packet.Decode(r.Publish, packet.DecodeOptions{Version: packet.V5})
	if err != nil {
		return nil, err
	}
	p, ok := pk.(*packet.Publish)
	if !ok {
		return nil, fmt.Errorf("stored message is a %s", pk.Type())
	}
	m := newMessage(string(p.Topic), p.Payload, p.QoS, p.Retain, &p.Properties, r.From, time.Now())
	m.expires, m.fromUser = r.Expires, r.FromUser
	return m, nil
}

func recordDelivery(d *delivery) (deliveryRecord, error) {
	mr, err := recordMessage(d.m)
	return deliveryRecord{Message: mr, QoS: d.qos, Retain: d.retain, SubIDs: d.subIDs}, err
}

func (r deliveryRecord) delivery(cache map[string]*message) (*delivery, error) {
	// Deliveries of one message share it again after a restore.
	key := string(r.Message.Publish) + "\x00" + r.Message.From
	m := cache[key]
	if m == nil {
		var err error
		if m, err = r.Message.message(); err != nil {
			return nil, err
		}
		cache[key] = m
	}
	return &delivery{m: m, qos: r.QoS, retain: r.Retain, subIDs: r.SubIDs}, nil
}

// snapshotSession copies a session's state; s.mu must not be held.
func snapshotSession(s *session, now time.Time) (sessionRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := sessionRecord{ID: s.id, Version: s.version, Username: s.username, Listener: s.secRef.Listener,
		OwnSecurity: s.secRef.Own, Expiry: s.expiry, DisconnectedAt: now, NextID: s.nextID}
	for k, sub := range s.subs {
		rec.Subs = append(rec.Subs, subRecord{Filter: k.filter, Share: k.share, Opts: sub.opts, ID: sub.id})
	}
	for _, f := range s.inflight {
		dr, err := recordDelivery(f.d)
		if err != nil {
			return rec, err
		}
		rec.Inflight = append(rec.Inflight, inflightRecord{ID: f.id, Pubrec: f.pubrec, Delivery: dr})
	}
	for _, d := range s.queue {
		dr, err := recordDelivery(d)
		if err != nil {
			return rec, err
		}
		rec.Queue = append(rec.Queue, dr)
	}
	for id := range s.inQoS2 {
		rec.InQoS2 = append(rec.InQoS2, id)
	}
	return rec, nil
}

// Save writes a snapshot of all persistent sessions and retained messages.
// Sessions that end at disconnect (expiry 0) are not kept.
func (b *Broker) Save() error {
	if b.db == nil {
		return nil
	}
	now := b.now()
	b.mu.Lock()
	sessions := make([]*session, 0, len(b.sessions))
	for _, s := range b.sessions {
		sessions = append(sessions, s)
	}
	b.mu.Unlock()
	var recs []sessionRecord
	for _, s := range sessions {
		rec, err := snapshotSession(s, now)
		if err != nil {
			return fmt.Errorf("snapshot of session %q: %w", s.id, err)
		}
		if rec.Expiry != 0 {
			recs = append(recs, rec)
		}
	}
	b.retained.mu.RLock()
	retained := make([]*message, 0, len(b.retained.m))
	for _, m := range b.retained.m {
		retained = append(retained, m)
	}
	b.retained.mu.RUnlock()
	return b.db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketSessions, bucketRetained, bucketMeta} {
			if tx.Bucket(name) != nil {
				if err := tx.DeleteBucket(name); err != nil {
					return err
				}
			}
		}
		meta, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		if err := meta.Put([]byte("format"), []byte(storeFormat)); err != nil {
			return err
		}
		sb, err := tx.CreateBucket(bucketSessions)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			v, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			if err := sb.Put([]byte(rec.ID), v); err != nil {
				return err
			}
		}
		rb, err := tx.CreateBucket(bucketRetained)
		if err != nil {
			return err
		}
		for _, m := range retained {
			mr, err := recordMessage(m)
			if err != nil {
				return err
			}
			v, err := json.Marshal(mr)
			if err != nil {
				return err
			}
			if err := rb.Put([]byte(m.topic), v); err != nil {
				return err
			}
		}
		return nil
	})
}

// openStore opens the bbolt file and restores what it holds.
func (b *Broker) openStore(path string) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return fmt.Errorf("open store %s: %w", path, err)
	}
	b.db = db
	now := b.now()
	err = db.View(func(tx *bolt.Tx) error {
		if meta := tx.Bucket(bucketMeta); meta != nil {
			if f := string(meta.Get([]byte("format"))); f != storeFormat {
				return fmt.Errorf("store format %q, this broker reads %q", f, storeFormat)
			}
		}
		cache := map[string]*message{}
		if rb := tx.Bucket(bucketRetained); rb != nil {
			if err := rb.ForEach(func(k, v []byte) error {
				var mr messageRecord
				if err := json.Unmarshal(v, &mr); err != nil {
					return fmt.Errorf("retained %q: %w", k, err)
				}
				m, err := mr.message()
				if err != nil {
					return fmt.Errorf("retained %q: %w", k, err)
				}
				if !m.expired(now) {
					b.retained.m[m.topic] = m
				}
				return nil
			}); err != nil {
				return err
			}
		}
		sb := tx.Bucket(bucketSessions)
		if sb == nil {
			return nil
		}
		return sb.ForEach(func(k, v []byte) error {
			var rec sessionRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("session %q: %w", k, err)
			}
			return b.restoreSession(rec, cache, now)
		})
	})
	if err != nil {
		db.Close()
		b.db = nil
		return fmt.Errorf("restore from %s: %w", path, err)
	}
	return nil
}

func (b *Broker) restoreSession(rec sessionRecord, cache map[string]*message, now time.Time) error {
	left := rec.Expiry
	if rec.Expiry > 0 {
		left = rec.Expiry - now.Sub(rec.DisconnectedAt)
		if left <= 0 {
			return nil // expired while the broker was down
		}
	}
	s := newSession(b, rec.ID)
	s.version, s.username, s.expiry, s.nextID = rec.Version, rec.Username, rec.Expiry, rec.NextID
	// The listener's security is looked up when first needed: listeners
	// are served after the store is restored.
	s.secRef = securityRef{Listener: rec.Listener, Own: rec.OwnSecurity}
	if s.secRef.Own {
		b.anyAuthorizer.Store(true)
	}
	for _, sr := range rec.Subs {
		sub := &subscription{session: s, filter: sr.Filter, share: sr.Share, opts: sr.Opts, id: sr.ID}
		s.subs[subKey{sr.Share, sr.Filter}] = sub
		b.subs.add(sub)
	}
	for _, ir := range rec.Inflight {
		d, err := ir.Delivery.delivery(cache)
		if err != nil {
			return fmt.Errorf("session %q in-flight %d: %w", rec.ID, ir.ID, err)
		}
		s.inflight = append(s.inflight, &inflightMsg{id: ir.ID, d: d, pubrec: ir.Pubrec})
	}
	for i, dr := range rec.Queue {
		d, err := dr.delivery(cache)
		if err != nil {
			return fmt.Errorf("session %q queued %d: %w", rec.ID, i, err)
		}
		s.queue = append(s.queue, d)
	}
	for _, id := range rec.InQoS2 {
		s.inQoS2[id] = struct{}{}
	}
	b.sessions[rec.ID] = s
	if left > 0 {
		gen := s.generation
		s.expireTimer = time.AfterFunc(left, func() { b.sessionExpired(s, gen) })
	}
	return nil
}

func (b *Broker) autosaveLoop() {
	defer b.wg.Done()
	t := time.NewTicker(b.cfg.AutosaveInterval)
	defer t.Stop()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-t.C:
			if err := b.Save(); err != nil {
				b.log.Error("autosave failed", "err", err.Error())
			}
		}
	}
}
