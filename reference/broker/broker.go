package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/mqttspec/mqttspec/reference/packet"
)

// Version is the broker's version, reported in $SYS.
const Version = "mqttspec-reference/0.1"

// Broker is a running MQTT server. Create it with New, give it listeners
// with Serve, stop it with Shutdown.
type Broker struct {
	cfg Config
	log *slog.Logger
	sec *Security // broker-wide, for listeners without their own

	// listenerSec holds the Security of each named listener with its own,
	// for sessions restored from persistence (session.security).
	secMu       sync.RWMutex
	listenerSec map[string]*Security
	// anyAuthorizer is set once some Security with an Authorizer may apply
	// to a session, so that routing skips the per-session check otherwise.
	anyAuthorizer atomic.Bool

	mu        sync.Mutex
	sessions  map[string]*session
	clients   map[*client]struct{}
	listeners []net.Listener
	closed    bool

	subs     subTree
	retained retainStore
	stats    stats
	started  time.Time

	db *bolt.DB // nil without persistence

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type stats struct {
	connected, total         atomic.Int64
	received, sent, dropped  atomic.Int64
	publishedIn, deliveredTo atomic.Int64
}

// New creates a broker in memory; it accepts no connection until Serve.
// It ignores PersistencePath: use Open for a broker that keeps its state.
func New(cfg Config) *Broker {
	cfg.PersistencePath = ""
	b, _ := Open(cfg)
	return b
}

// Open creates a broker and, when cfg.PersistencePath is set, restores the
// sessions and retained messages saved there by a previous run.
func Open(cfg Config) (*Broker, error) {
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	b := &Broker{cfg: cfg, log: cfg.Logger, sec: cfg.security(), listenerSec: map[string]*Security{},
		sessions: map[string]*session{}, clients: map[*client]struct{}{}, started: time.Now(), ctx: ctx, cancel: cancel}
	b.anyAuthorizer.Store(cfg.Authorizer != nil)
	b.retained.m = map[string]*message{}
	if cfg.PersistencePath != "" {
		if err := b.openStore(cfg.PersistencePath); err != nil {
			cancel()
			return nil, err
		}
		if cfg.AutosaveInterval > 0 {
			b.wg.Add(1)
			go b.autosaveLoop()
		}
	}
	if cfg.SysInterval > 0 {
		b.wg.Add(1)
		go b.sysLoop()
	}
	return b, nil
}

func (b *Broker) now() time.Time { return b.cfg.Now() }

// ErrClosed is returned by Serve after Shutdown.
var ErrClosed = errors.New("broker: closed")

// Serve accepts connections on ln until ln fails or the broker shuts down.
// It blocks; run it in a goroutine for each listener.
func (b *Broker) Serve(ln net.Listener) error { return b.ServeWith(ln, ServeOptions{}) }

// ServeWith is Serve with per-listener options.
func (b *Broker) ServeWith(ln net.Listener, opts ServeOptions) error {
	if err := b.registerSecurity(opts); err != nil {
		ln.Close()
		return err
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		ln.Close()
		return ErrClosed
	}
	b.listeners = append(b.listeners, ln)
	b.mu.Unlock()
	b.log.Info("listening", "addr", ln.Addr().String())
	for {
		conn, err := ln.Accept()
		if err != nil {
			if b.ctx.Err() != nil {
				return ErrClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		if !b.admit() {
			b.log.Warn("connection refused: maximum connections reached", "remote", conn.RemoteAddr().String())
			conn.Close()
			continue
		}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.handle(conn, opts)
		}()
	}
}

// registerSecurity records a named listener's own Security, so that a
// restored session of that listener finds it again.
func (b *Broker) registerSecurity(opts ServeOptions) error {
	if opts.Security == nil {
		return nil
	}
	if opts.Security.Authorizer != nil {
		b.anyAuthorizer.Store(true)
	}
	if opts.Name == "" {
		return nil
	}
	b.secMu.Lock()
	defer b.secMu.Unlock()
	if cur, ok := b.listenerSec[opts.Name]; ok && cur != opts.Security {
		return fmt.Errorf("broker: listener name %q is already served with other security settings", opts.Name)
	}
	b.listenerSec[opts.Name] = opts.Security
	return nil
}

// securityOf resolves a session's remembered listener security: the
// broker-wide one, a named listener's own, or, when that listener is not
// served (a restored session of a listener gone from the configuration, or
// an unnamed one), denyEverything.
func (b *Broker) securityOf(ref securityRef) (sec *Security, found bool) {
	if !ref.Own {
		return b.sec, true
	}
	b.secMu.RLock()
	defer b.secMu.RUnlock()
	if sec := b.listenerSec[ref.Listener]; sec != nil && ref.Listener != "" {
		return sec, true
	}
	return denyEverything, false
}

// ListenAndServe listens on a TCP address and serves in the background. It
// returns the listener's address (useful with port 0).
func (b *Broker) ListenAndServe(addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	go b.Serve(ln)
	return ln.Addr(), nil
}

// Addrs returns the addresses of the listeners being served.
func (b *Broker) Addrs() []net.Addr {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]net.Addr, 0, len(b.listeners))
	for _, ln := range b.listeners {
		out = append(out, ln.Addr())
	}
	return out
}

func (b *Broker) admit() bool {
	if b.cfg.MaxConnections <= 0 {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.clients) < b.cfg.MaxConnections
}

// Shutdown stops accepting, tells 5.0 clients the server is shutting down
// (DISCONNECT 0x8B), closes every connection and waits for them, bounded by
// ctx. Wills are not published: no client failed.
func (b *Broker) Shutdown(ctx context.Context) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	// Cancelled before the listeners close, so that Serve, woken by the
	// close, sees the shutdown and returns ErrClosed.
	b.cancel()
	for _, ln := range b.listeners {
		ln.Close()
	}
	clients := make([]*client, 0, len(b.clients))
	for c := range b.clients {
		clients = append(clients, c)
	}
	b.mu.Unlock()
	for _, c := range clients {
		c.shutdown(packet.ServerShuttingDown)
	}
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	var saveErr error
	if b.db != nil {
		saveErr = b.Save()
		if err := b.db.Close(); saveErr == nil {
			saveErr = err
		}
	}
	b.mu.Lock()
	for _, s := range b.sessions {
		s.mu.Lock()
		stopTimer(s.expireTimer)
		stopTimer(s.willTimer)
		s.mu.Unlock()
	}
	b.mu.Unlock()
	return saveErr
}

func stopTimer(t *time.Timer) {
	if t != nil {
		t.Stop()
	}
}

// route delivers a message to every matching subscription. For a session
// with several matching subscriptions it sends one copy, at the highest QoS
// granted [MQTT-3.3.5-1], carrying every Subscription Identifier
// [MQTT-3.3.4-3..5]. It returns how many sessions it was delivered to.
func (b *Broker) route(m *message) int {
	type target struct {
		s *session
		d *delivery
	}
	var normal map[*session]*delivery
	var shared []target
	add := func(sub *subscription, into func(*delivery)) {
		// No Local: not back to the publishing client's own session
		// [MQTT-3.8.3-3].
		if sub.opts.NoLocal && sub.session.id == m.from {
			return
		}
		if b.anyAuthorizer.Load() && !b.allowedRead(sub.session, m.topic) {
			return
		}
		into(&delivery{m: m, qos: min(m.qos, sub.opts.QoS), retain: m.retain && sub.opts.RetainAsPublished})
	}
	b.subs.match(m.topic, func(sub *subscription) {
		add(sub, func(d *delivery) {
			if normal == nil {
				normal = map[*session]*delivery{}
			}
			cur := normal[sub.session]
			if cur == nil {
				cur = d
				normal[sub.session] = cur
			} else {
				cur.qos = max(cur.qos, d.qos)
				cur.retain = cur.retain || d.retain
			}
			if sub.id > 0 {
				cur.subIDs = append(cur.subIDs, sub.id)
			}
		})
	}, func(sub *subscription) {
		add(sub, func(d *delivery) {
			if sub.id > 0 {
				d.subIDs = []int{sub.id}
			}
			shared = append(shared, target{sub.session, d})
		})
	})
	n := 0
	for s, d := range normal {
		sort.Ints(d.subIDs)
		s.enqueue(d)
		n++
	}
	for _, t := range shared {
		t.s.enqueue(t.d)
		n++
	}
	b.stats.deliveredTo.Add(int64(n))
	return n
}

func (b *Broker) allowedRead(s *session, topic string) bool {
	// The user name and the listener's security are set together at every
	// connect, so they are the connected client's and, offline, the last
	// one's.
	s.mu.Lock()
	user := s.username
	sec := s.security()
	s.mu.Unlock()
	return sec.mayRead(user, s.id, topic)
}

// publish stores a retained message and routes it.
func (b *Broker) publish(m *message) int {
	b.stats.publishedIn.Add(1)
	if m.retain {
		b.retained.set(m)
	}
	return b.route(m)
}

// retainStore keeps the last retained message per topic [MQTT-3.3.1-5].
type retainStore struct {
	mu sync.RWMutex
	m  map[string]*message
}

// set stores or, for an empty payload, removes the retained message for the
// topic [MQTT-3.3.1-10, MQTT-3.3.1-11].
func (r *retainStore) set(m *message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(m.payload) == 0 {
		delete(r.m, m.topic)
		return
	}
	r.m[m.topic] = m
}

// matching returns the unexpired retained messages whose topic matches filter.
func (r *retainStore) matching(filter string, now time.Time) []*message {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []*message
	for topic, m := range r.m {
		if m.expired(now) {
			continue
		}
		if packet.MatchTopic(filter, topic) {
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].topic < out[j].topic })
	return out
}

func (r *retainStore) count() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.m)
}

// isSysTopic reports whether topic is in the broker's own $SYS tree, which
// clients may read but not write.
func isSysTopic(topic string) bool { return strings.HasPrefix(topic, "$SYS/") || topic == "$SYS" }
