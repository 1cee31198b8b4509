package broker

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mqttspec/mqttspec/reference/broker/listener"
	"github.com/mqttspec/mqttspec/reference/packet"
)

// client is one network connection. Its reader goroutine decodes and
// handles inbound packets; its writer goroutine encodes the outbound queue,
// so a slow reader of ours never blocks a publisher elsewhere.
type client struct {
	b    *Broker
	conn net.Conn
	r    *packet.Reader
	v    packet.Version

	s         *session
	id        string
	username  string
	sec       *Security   // of the listener it came through (ServeOptions)
	secRef    securityRef // names sec for the session's persistence
	keepAlive time.Duration
	maxOut    int               // the client's Maximum Packet Size (5.0); 0: protocol limit
	aliases   map[uint16]string // inbound topic aliases (5.0)
	// sessionExpiryZero records that CONNECT asked for expiry 0; DISCONNECT
	// may then not raise it (a Protocol Error stated without an ID, 3.14.2.2.2).
	sessionExpiryZero bool
	certIdentity      string           // client certificate CN, with use_identity_as_username
	authMethod        string           // enhanced authentication method of CONNECT
	reauthConv        AuthConversation // re-authentication in progress
	willOnClose       atomic.Bool      // false after a normal DISCONNECT [MQTT-3.1.2-10]

	outMu      sync.Mutex
	outCond    *sync.Cond
	out        []packet.Packet
	spare      []packet.Packet
	kicked     bool
	connacked  bool
	writing    bool // a drain goroutine is running
	connClosed bool
	writerEnd  chan struct{} // closed when the connection is closed
	detached   chan struct{} // closed once the session no longer points here
}

// Limits on what a connection may pile up before backpressure or dropping.
const (
	ctlBacklog   = 1024             // reader waits while this many packets are queued
	writeTimeout = 30 * time.Second // a client that does not read is cut off
)

func (b *Broker) handle(conn net.Conn, opts ServeOptions) {
	c := &client{b: b, conn: conn, writerEnd: make(chan struct{}),
		detached: make(chan struct{}), sec: b.sec}
	if opts.Security != nil {
		c.sec, c.secRef = opts.Security, securityRef{Listener: opts.Name, Own: true}
	}
	c.willOnClose.Store(true)
	c.outCond = sync.NewCond(&c.outMu)
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		conn.Close()
		return
	}
	b.clients[c] = struct{}{}
	b.mu.Unlock()
	b.stats.total.Add(1)
	defer func() {
		b.mu.Lock()
		delete(b.clients, c)
		b.mu.Unlock()
	}()

	// A small read buffer: most connections are idle most of the time.
	c.r = packet.NewReaderSize(conn, packet.DecodeOptions{MaxPacketSize: b.cfg.MaxPacketSize}, 1024)
	c.r.Reuse = true
	defer func() {
		// The session goes offline before the socket closes, so a client
		// that sees the close can rely on the broker treating it as gone.
		if c.s != nil {
			b.detach(c)
		}
		c.terminate()
		<-c.writerEnd
		close(c.detached)
	}()

	// A client must send CONNECT first, within the connect timeout.
	conn.SetReadDeadline(time.Now().Add(b.cfg.ConnectTimeout))
	p, err := c.r.ReadPacket()
	if err != nil {
		c.connectFailed(err)
		return
	}
	cp, ok := p.(*packet.Connect)
	if !ok {
		// [MQTT-3.1.0-1] the first packet must be CONNECT.
		b.log.Debug("first packet is not CONNECT", "remote", conn.RemoteAddr().String(), "type", p.Type().String())
		return
	}
	if opts.UseIdentityAsUsername {
		if info, ok := listener.InfoOf(conn); ok && info.CommonName() != "" {
			c.certIdentity = info.CommonName()
		}
	}
	if !c.connect(cp) {
		return
	}
	c.readLoop()
}

// connectFailed answers a CONNECT that could not be decoded.
func (c *client) connectFailed(err error) {
	perr := packet.AsError(err)
	if perr == nil {
		return
	}
	c.b.log.Debug("bad CONNECT", "remote", c.conn.RemoteAddr().String(), "err", perr.Error())
	if perr.Statement == "MQTT-3.1.2-2" {
		// Unsupported protocol level: answer with return code 0x01 in the
		// 3.1.1 form, the one every level understands, then close
		// [MQTT-3.1.2-2].
		c.v = packet.V311
		c.pushConnack(&packet.Connack{ReasonCode: packet.ConnRefusedProtocolVersion})
	}
}

func (c *client) pushConnack(ca *packet.Connack) {
	c.outMu.Lock()
	c.out = append(c.out, ca)
	c.connacked = true
	c.startWriterLocked()
	c.outMu.Unlock()
}

func (c *client) refuse(code311, code5 packet.ReasonCode) bool {
	if c.v == packet.V5 {
		c.pushConnack(&packet.Connack{ReasonCode: code5})
	} else {
		c.pushConnack(&packet.Connack{ReasonCode: code311})
	}
	return false
}

func newClientID() string {
	var b [12]byte
	rand.Read(b[:])
	return "mqttspec-" + hex.EncodeToString(b[:])
}

// connect runs the CONNECT handshake; false means the connection is done.
func (c *client) connect(cp *packet.Connect) bool {
	b := c.b
	c.v = cp.ProtocolVersion
	v5 := c.v == packet.V5
	id := cp.ClientID
	assigned := false
	if id == "" {
		switch {
		case c.v == packet.V31:
			// 3.1 requires 1 to 23 characters.
			return c.refuse(packet.ConnRefusedIdentifierRejected, packet.ClientIdentifierNotValid)
		case !v5 && !cp.CleanStart:
			// A zero-length identifier needs a clean session [MQTT-3.1.3-8].
			return c.refuse(packet.ConnRefusedIdentifierRejected, packet.ClientIdentifierNotValid)
		}
		id, assigned = newClientID(), true
	}
	if c.v == packet.V31 && len(id) > 23 {
		return c.refuse(packet.ConnRefusedIdentifierRejected, packet.ClientIdentifierNotValid)
	}
	// The will is copied out of the CONNECT first: an enhanced
	// authentication exchange reads AUTH packets into the buffer that
	// cp's byte slices point into.
	var will *message
	if w := cp.Will; w != nil {
		will = newMessage(w.Topic, w.Payload, w.QoS, w.Retain, &w.Properties, id, b.now())
		will.expires = time.Time{} // counted from when it is published
	}
	var authFinal []byte
	if v5 && cp.Properties.AuthMethod != nil {
		method := string(cp.Properties.AuthMethod)
		final, user, ok := c.enhancedConnect(cp, method, id)
		if !ok {
			return false
		}
		authFinal, c.authMethod = final, method
		cp.Username, cp.UsernameFlag = user, true
	} else if c.certIdentity != "" {
		// The verified certificate is the credential; its CN is the user.
		cp.Username, cp.UsernameFlag = c.certIdentity, true
	} else if a := c.sec.Authenticator; a != nil {
		if !cp.UsernameFlag && !c.sec.AllowAnonymous {
			return c.refuse(packet.ConnRefusedNotAuthorized, packet.NotAuthorized)
		}
		if cp.UsernameFlag && !a.Authenticate(id, cp.Username, cp.Password, cp.UsernameFlag, cp.PasswordFlag) {
			return c.refuse(packet.ConnRefusedBadUsernamePassword, packet.BadUserNameOrPassword)
		}
	}
	if w := cp.Will; w != nil && v5 {
		if byte(w.QoS) > *b.cfg.MaximumQoS {
			return c.refuse(0, packet.QoSNotSupported) // [MQTT-3.2.2-12]
		}
		if w.Retain && b.cfg.DisableRetain {
			return c.refuse(0, packet.RetainNotSupported) // [MQTT-3.2.2-13]
		}
	}
	c.id, c.username = id, cp.Username

	// Keep alive: the server closes a connection silent for 1.5 times the
	// interval [MQTT-3.1.2-24 / MQTT-3.1.2-22]; 5.0 servers may impose theirs.
	c.keepAlive = time.Duration(cp.KeepAlive) * time.Second
	if b.cfg.ServerKeepAlive > 0 && v5 {
		c.keepAlive = b.cfg.ServerKeepAlive
	}

	var expiry time.Duration
	switch {
	case v5:
		expiry = time.Duration(cp.Properties.SessionExpiry) * time.Second
		if cp.Properties.SessionExpiry == 0xFFFFFFFF {
			expiry = -1
		}
		c.sessionExpiryZero = cp.Properties.SessionExpiry == 0
		c.maxOut = int(cp.Properties.MaximumPacketSize)
	case cp.CleanStart:
		expiry = 0
	default:
		expiry = -1
	}
	if m := b.cfg.MaxSessionExpiry; m > 0 && (expiry < 0 || expiry > m) {
		expiry = m
	}

	s, present := b.attach(c, cp.CleanStart)
	s.mu.Lock()
	s.version = c.v
	s.username = c.username
	s.sec, s.secRef = c.sec, c.secRef
	s.expiry = expiry
	s.clientReceiveMax = 0
	s.clientMaxPacket = c.maxOut
	if v5 {
		s.clientReceiveMax = int(cp.Properties.ReceiveMaximum)
		if s.clientReceiveMax == 0 {
			s.clientReceiveMax = 65535
		}
	}
	s.will, s.willDelay = nil, 0
	if w := cp.Will; w != nil {
		s.will = will
		s.will.fromUser = c.username
		if v5 {
			s.willDelay = time.Duration(w.Properties.WillDelay) * time.Second
		}
	}

	ack := &packet.Connack{SessionPresent: present}
	if v5 {
		p := &ack.Properties
		if assigned {
			p.AssignedClientID = []byte(id) // [MQTT-3.2.2-16]
		}
		if expiry >= 0 && uint32(expiry/time.Second) != cp.Properties.SessionExpiry {
			p.SessionExpiry = uint32(expiry / time.Second)
			p.Present = p.Present.With(packet.PropSessionExpiry)
		}
		p.ReceiveMaximum = b.cfg.ReceiveMaximum
		if mq := *b.cfg.MaximumQoS; mq < 2 {
			p.MaximumQoS = mq
			p.Present = p.Present.With(packet.PropMaximumQoS)
		}
		if b.cfg.DisableRetain {
			p.Present = p.Present.With(packet.PropRetainAvailable)
		}
		p.MaximumPacketSize = uint32(b.cfg.MaxPacketSize)
		p.TopicAliasMaximum = b.cfg.TopicAliasMaximum
		p.WildcardSubAvailable = boolByte(!b.cfg.DisableWildcardSubscriptions)
		p.SubIDAvailable = boolByte(!b.cfg.DisableSubscriptionIdentifier)
		p.SharedSubAvailable = boolByte(!b.cfg.DisableSharedSubscriptions)
		p.Present = p.Present.With(packet.PropWildcardSubAvailable).With(packet.PropSubIDAvailable).With(packet.PropSharedSubAvailable)
		if b.cfg.ServerKeepAlive > 0 {
			p.ServerKeepAlive = uint16(b.cfg.ServerKeepAlive / time.Second)
			p.Present = p.Present.With(packet.PropServerKeepAlive)
		}
		if c.authMethod != "" {
			p.AuthMethod, p.AuthData = []byte(c.authMethod), authFinal
		}
		if cp.Properties.RequestResponseInfo == 1 {
			p.ResponseInfo = []byte("mqttspec/response/" + id)
		}
	}
	// CONNACK goes first; only then may deliveries reach this connection.
	c.pushConnack(ack)
	s.c = c
	s.isOnline.Store(true)
	if present {
		s.resumeLocked()
	}
	s.mu.Unlock()
	b.stats.connected.Add(1)
	b.log.Debug("connected", "client", id, "version", c.v.String(), "clean", cp.CleanStart, "present", present)
	return true
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// readLoop handles packets until the connection ends.
func (c *client) readLoop() {
	for {
		if c.keepAlive > 0 {
			c.conn.SetReadDeadline(time.Now().Add(c.keepAlive * 3 / 2))
		} else {
			c.conn.SetReadDeadline(time.Time{})
		}
		p, err := c.r.ReadPacket()
		if err != nil {
			c.readFailed(err)
			return
		}
		c.b.stats.received.Add(1)
		if !c.handlePacket(p) {
			return
		}
	}
}

func (c *client) readFailed(err error) {
	if perr := packet.AsError(err); perr != nil {
		// A malformed packet or protocol error closes the connection; a 5.0
		// client is told why first [MQTT-4.13.1-1].
		c.b.log.Debug("protocol violation", "client", c.id, "err", perr.Error())
		reason := perr.Reason
		if !packet.ReasonAllowed(packet.DISCONNECT, reason) {
			// A code only CONNACK may carry: a second CONNECT, itself
			// refused by the decoder (an unknown protocol level, say). A
			// second CONNECT is a Protocol Error [MQTT-3.1.0-2].
			reason = packet.ProtocolError
		}
		c.kick(reason)
		return
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() && !c.isKicked() {
		c.b.log.Debug("keep alive expired", "client", c.id)
		c.kick(packet.KeepAliveTimeout)
	}
}

func (c *client) isKicked() bool {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	return c.kicked
}

// handlePacket acts on one inbound packet; false ends the connection.
func (c *client) handlePacket(p packet.Packet) bool {
	switch p := p.(type) {
	case *packet.Publish:
		return c.onPublish(p)
	case *packet.Puback:
		c.s.acked(p.PacketID, 1, false)
	case *packet.Pubrec:
		if p.ReasonCode.IsError() {
			// A 5.0 PUBREC with an error ends the exchange.
			c.s.acked(p.PacketID, 2, false)
		} else if c.s.received(p.PacketID) {
			c.pushCtl(&packet.Pubrel{PacketID: p.PacketID})
		} else {
			c.pushCtl(&packet.Pubrel{PacketID: p.PacketID, ReasonCode: c.code(packet.PacketIdentifierNotFound)})
		}
	case *packet.Pubrel:
		c.s.mu.Lock()
		_, ok := c.s.inQoS2[p.PacketID]
		delete(c.s.inQoS2, p.PacketID)
		c.s.mu.Unlock()
		code := packet.Success
		if !ok {
			code = c.code(packet.PacketIdentifierNotFound)
		}
		c.pushCtl(&packet.Pubcomp{PacketID: p.PacketID, ReasonCode: code})
	case *packet.Pubcomp:
		c.s.acked(p.PacketID, 2, true)
	case *packet.Subscribe:
		c.onSubscribe(p)
	case *packet.Unsubscribe:
		c.onUnsubscribe(p)
	case *packet.Pingreq:
		c.pushCtl(&packet.Pingresp{})
	case *packet.Disconnect:
		c.onDisconnect(p)
		return false
	case *packet.Connect:
		// A second CONNECT is a protocol violation [MQTT-3.1.0-2].
		c.kick(packet.ProtocolError)
		return false
	case *packet.Auth:
		return c.reauth(p)
	default:
		// CONNACK, SUBACK, UNSUBACK, PINGRESP travel only from the server.
		c.b.log.Debug("packet only a server may send", "client", c.id, "type", p.Type().String())
		c.kick(packet.ProtocolError)
		return false
	}
	return true
}

// code returns a 5.0 reason code, or Success for 3.x where acks carry none.
func (c *client) code(r packet.ReasonCode) packet.ReasonCode {
	if c.v == packet.V5 {
		return r
	}
	return packet.Success
}

func (c *client) onPublish(p *packet.Publish) bool {
	b := c.b
	topic := string(p.Topic)
	if c.v == packet.V5 && p.Properties.Has(packet.PropTopicAlias) {
		alias := p.Properties.TopicAlias
		if alias > b.cfg.TopicAliasMaximum {
			c.kick(packet.TopicAliasInvalid) // [MQTT-3.3.2-9]
			return false
		}
		if topic != "" {
			if c.aliases == nil {
				c.aliases = map[uint16]string{}
			}
			c.aliases[alias] = topic
		} else if t, ok := c.aliases[alias]; ok {
			topic = t
		} else {
			c.kick(packet.ProtocolError) // an alias never set: a Protocol Error (5.0 section 3.3.2.3.4)
			return false
		}
	}
	if byte(p.QoS) > *b.cfg.MaximumQoS {
		c.kick(packet.QoSNotSupported) // [MQTT-3.2.2-11]
		return false
	}
	if p.Retain && b.cfg.DisableRetain {
		c.kick(packet.RetainNotSupported) // [MQTT-3.2.2-14]
		return false
	}
	if len(topic) > b.cfg.MaxTopicLength || packet.TopicLevels(topic) > b.cfg.MaxTopicLevels {
		c.kick(packet.TopicNameInvalid)
		return false
	}
	if c.v == packet.V5 && len(p.Properties.SubscriptionIDs) > 0 {
		// Clients must not send Subscription Identifiers [MQTT-3.3.4-6].
		c.kick(packet.ProtocolError)
		return false
	}
	allowed := c.sec.mayWrite(c.username, c.id, topic)

	switch p.QoS {
	case 0:
		if allowed {
			b.publish(newMessage(topic, p.Payload, 0, p.Retain, &p.Properties, c.id, b.now()))
		}
	case 1:
		code := packet.NotAuthorized
		if allowed {
			code = packet.Success
			if b.publish(newMessage(topic, p.Payload, 1, p.Retain, &p.Properties, c.id, b.now())) == 0 {
				code = packet.NoMatchingSubscribers
			}
		}
		// 3.1.1 has no way to refuse: acknowledge and drop [MQTT-3.3.5-2].
		c.pushCtl(&packet.Puback{PacketID: p.PacketID, ReasonCode: c.code(code)})
	case 2:
		c.s.mu.Lock()
		_, dup := c.s.inQoS2[p.PacketID]
		if !dup && c.v == packet.V5 && len(c.s.inQoS2) >= int(b.cfg.ReceiveMaximum) {
			c.s.mu.Unlock()
			c.kick(packet.ReceiveMaximumExceeded) // [MQTT-3.3.4-9]
			return false
		}
		if !dup && allowed {
			c.s.inQoS2[p.PacketID] = struct{}{}
		}
		c.s.mu.Unlock()
		code := packet.NotAuthorized
		if allowed {
			code = packet.Success
			if !dup {
				if b.publish(newMessage(topic, p.Payload, 2, p.Retain, &p.Properties, c.id, b.now())) == 0 {
					code = packet.NoMatchingSubscribers
				}
			}
		} else if c.v != packet.V5 {
			// 3.1.1 acknowledges normally; keep the identifier for PUBREL.
			c.s.mu.Lock()
			c.s.inQoS2[p.PacketID] = struct{}{}
			c.s.mu.Unlock()
		}
		c.pushCtl(&packet.Pubrec{PacketID: p.PacketID, ReasonCode: c.code(code)})
	}
	return true
}

func (c *client) onSubscribe(p *packet.Subscribe) {
	b := c.b
	ack := &packet.Suback{PacketID: p.PacketID, ReasonCodes: make([]packet.ReasonCode, len(p.Subscriptions))}
	subID := 0
	if len(p.Properties.SubscriptionIDs) > 0 {
		subID = p.Properties.SubscriptionIDs[0]
	}
	type retainedSend struct {
		filter string
		qos    packet.QoS
		id     int
		rap    bool
	}
	var sendRetained []retainedSend
	for i, sub := range p.Subscriptions {
		filter, share := sub.Filter, ""
		if c.v == packet.V5 {
			if sf, ok := packet.ParseShared(sub.Filter); ok {
				filter, share = sf.Filter, sf.ShareName
			}
		}
		code := packet.ReasonCode(min(sub.QoS, packet.QoS(*b.cfg.MaximumQoS)))
		switch {
		case share != "" && b.cfg.DisableSharedSubscriptions:
			code = packet.SharedSubscriptionsNotSupported
		case subID > 0 && b.cfg.DisableSubscriptionIdentifier:
			code = packet.SubscriptionIdentifiersNotSupported
		case b.cfg.DisableWildcardSubscriptions && hasWildcard(filter):
			code = packet.WildcardSubscriptionsNotSupported
		case len(sub.Filter) > b.cfg.MaxTopicLength || packet.TopicLevels(filter) > b.cfg.MaxTopicLevels:
			code = packet.TopicFilterInvalid
		case c.sec.Authorizer != nil && !c.sec.Authorizer.AllowedSubscribe(c.username, c.id, filter):
			code = packet.NotAuthorized
		}
		if code.IsError() {
			if c.v != packet.V5 {
				code = packet.SubackFailure311
			}
			ack.ReasonCodes[i] = code
			continue
		}
		granted := sub
		granted.QoS = packet.QoS(code)
		s := &subscription{session: c.s, filter: filter, share: share, opts: granted, id: subID}
		existed := b.subs.add(s)
		c.s.mu.Lock()
		c.s.subs[subKey{share, filter}] = s
		c.s.mu.Unlock()
		ack.ReasonCodes[i] = code
		// Retained messages: on every subscribe (0), only a new one (1),
		// never (2) [MQTT-3.3.1-9..11]; never for shared subscriptions
		// (5.0 section 4.8.2, stated without an ID).
		if share == "" && !b.cfg.DisableRetain && (granted.RetainHandling == 0 || (granted.RetainHandling == 1 && !existed)) {
			sendRetained = append(sendRetained, retainedSend{filter, granted.QoS, subID, granted.RetainAsPublished})
		}
	}
	// SUBACK first, then the retained messages, through the same ordered queue.
	c.pushCtl(ack)
	now := b.now()
	for _, r := range sendRetained {
		for _, m := range b.retained.matching(r.filter, now) {
			if !c.sec.mayRead(c.username, c.id, m.topic) {
				continue // retained messages are not leaked past the ACL
			}
			d := &delivery{m: m, qos: min(m.qos, r.qos), retain: true} // [MQTT-3.3.1-8]
			if r.id > 0 {
				d.subIDs = []int{r.id}
			}
			c.s.enqueue(d)
		}
	}
}

func hasWildcard(f string) bool {
	for i := 0; i < len(f); i++ {
		if f[i] == '+' || f[i] == '#' {
			return true
		}
	}
	return false
}

func (c *client) onUnsubscribe(p *packet.Unsubscribe) {
	ack := &packet.Unsuback{PacketID: p.PacketID}
	for _, f := range p.Filters {
		filter, share := f, ""
		if c.v == packet.V5 {
			if sf, ok := packet.ParseShared(f); ok {
				filter, share = sf.Filter, sf.ShareName
			}
		}
		found := c.b.subs.remove(c.id, filter, share)
		c.s.mu.Lock()
		delete(c.s.subs, subKey{share, filter})
		c.s.mu.Unlock()
		if c.v == packet.V5 {
			code := packet.Success
			if !found {
				code = packet.NoSubscriptionExisted
			}
			ack.ReasonCodes = append(ack.ReasonCodes, code)
		}
	}
	c.pushCtl(ack)
}

func (c *client) onDisconnect(p *packet.Disconnect) {
	if c.v == packet.V5 && p.Properties.Has(packet.PropSessionExpiry) {
		if c.sessionExpiryZero && p.Properties.SessionExpiry != 0 {
			c.kick(packet.ProtocolError) // 5.0 section 3.14.2.2.2
			return
		}
		c.s.mu.Lock()
		c.s.expiry = time.Duration(p.Properties.SessionExpiry) * time.Second
		if p.Properties.SessionExpiry == 0xFFFFFFFF {
			c.s.expiry = -1
		}
		if m := c.b.cfg.MaxSessionExpiry; m > 0 && (c.s.expiry < 0 || c.s.expiry > m) {
			c.s.expiry = m
		}
		c.s.mu.Unlock()
	}
	// A normal DISCONNECT discards the will; 0x04 asks for it to be sent
	// [MQTT-3.1.2-10, MQTT-3.14.4-3].
	c.willOnClose.Store(c.v == packet.V5 && p.ReasonCode == packet.DisconnectWithWill)
}

// fits reports whether p is within the client's Maximum Packet Size.
func (c *client) fits(p packet.Packet) bool {
	return c.maxOut <= 0 || p.Size(c.v) <= c.maxOut
}

// push queues an outbound packet from any goroutine. QoS 0 deliveries are
// dropped when the queue is long: the client is not keeping up.
func (c *client) push(p packet.Packet) {
	c.outMu.Lock()
	if c.kicked {
		c.outMu.Unlock()
		return
	}
	if pub, ok := p.(*packet.Publish); ok && pub.QoS == 0 && len(c.out) >= c.b.cfg.MaxQueued {
		c.outMu.Unlock()
		c.b.stats.dropped.Add(1)
		return
	}
	c.out = append(c.out, p)
	c.startWriterLocked()
	c.outMu.Unlock()
}

// pushCtl queues a packet from the reader goroutine, waiting while the
// queue is long so a client that floods but does not read is slowed down.
func (c *client) pushCtl(p packet.Packet) {
	c.outMu.Lock()
	for len(c.out) >= ctlBacklog && !c.kicked {
		c.outCond.Wait()
	}
	if !c.kicked {
		c.out = append(c.out, p)
	}
	c.startWriterLocked()
	c.outMu.Unlock()
}

// startWriterLocked makes sure a writer goroutine is draining the queue;
// c.outMu is held. The writer exists only while there is something to
// write, so an idle connection costs one goroutine (its reader), not two.
func (c *client) startWriterLocked() {
	if c.writing || c.connClosed || (len(c.out) == 0 && !c.kicked) {
		return
	}
	c.writing = true
	go c.drain()
}

// kick ends the connection from any goroutine, telling a 5.0 client why
// with DISCONNECT once CONNACK has been sent [MQTT-4.13.2-1 / 4.13].
func (c *client) kick(reason packet.ReasonCode) {
	c.outMu.Lock()
	if c.kicked {
		c.outMu.Unlock()
		return
	}
	// connacked first: c.v is written by the connection's goroutine before
	// it sets connacked under outMu, so only then may another goroutine
	// (Shutdown's) read it.
	if c.connacked && c.v == packet.V5 && reason != 0 {
		c.out = append(c.out, &packet.Disconnect{ReasonCode: reason})
	}
	c.kicked = true
	c.outCond.Broadcast()
	c.startWriterLocked()
	c.outMu.Unlock()
	c.conn.SetReadDeadline(time.Now()) // wake the reader
}

// shutdown ends the connection because the server stops; no will.
func (c *client) shutdown(reason packet.ReasonCode) {
	c.willOnClose.Store(false)
	c.kick(reason)
}

// terminate is called by the reader when it is done: the writer flushes
// what is queued (a final DISCONNECT included) and closes the connection.
func (c *client) terminate() {
	c.outMu.Lock()
	c.kicked = true
	c.outCond.Broadcast()
	c.startWriterLocked()
	c.outMu.Unlock()
}

var (
	writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 8<<10) }}
	encodePool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}
)

// drain writes the queue until it is empty, then exits. Once the connection
// is kicked and the queue is flushed, it closes the connection.
func (c *client) drain() {
	bw := writerPool.Get().(*bufio.Writer)
	bw.Reset(c.conn)
	bufp := encodePool.Get().(*[]byte)
	defer func() {
		bw.Reset(nil)
		writerPool.Put(bw)
		*bufp = (*bufp)[:0]
		encodePool.Put(bufp)
	}()
	failed := false
	for {
		c.outMu.Lock()
		batch := c.out
		c.out = c.spare[:0]
		c.spare = nil
		kicked := c.kicked
		c.outCond.Broadcast()
		if len(batch) == 0 {
			c.spare = batch
			if !kicked {
				c.writing = false
				c.outMu.Unlock()
				return
			}
			c.connClosed = true
			c.writing = false
			c.outMu.Unlock()
			if !failed {
				bw.Flush()
			}
			c.conn.Close()
			close(c.writerEnd)
			return
		}
		c.outMu.Unlock()
		if !failed {
			failed = !c.writeBatch(bw, bufp, batch)
		}
		clear(batch)
		c.outMu.Lock()
		c.spare = batch[:0]
		c.outMu.Unlock()
	}
}

// writeBatch encodes and writes packets; false means the connection is done
// (a write failed, or a final DISCONNECT or refusing CONNACK was sent).
func (c *client) writeBatch(bw *bufio.Writer, bufp *[]byte, batch []packet.Packet) bool {
	c.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	for _, p := range batch {
		var err error
		*bufp, err = p.Append((*bufp)[:0], c.v)
		if err != nil {
			c.b.log.Warn("cannot encode packet", "client", c.id, "err", err.Error())
			continue
		}
		if _, err := bw.Write(*bufp); err != nil {
			c.kickQuiet()
			return false
		}
		c.b.stats.sent.Add(1)
		final := false
		switch p := p.(type) {
		case *packet.Disconnect:
			final = true // nothing follows a DISCONNECT [MQTT-3.14.4-1]
		case *packet.Connack:
			final = p.ReasonCode != 0 // a refused CONNECT closes [MQTT-3.2.2-5]
		}
		if final {
			bw.Flush()
			c.kickQuiet()
			return false
		}
	}
	if err := bw.Flush(); err != nil {
		c.kickQuiet()
		return false
	}
	return true
}

// kickQuiet stops the reader after a write failure or a final packet.
func (c *client) kickQuiet() {
	c.outMu.Lock()
	c.kicked = true
	c.outCond.Broadcast()
	c.outMu.Unlock()
	c.conn.SetReadDeadline(time.Now())
}
