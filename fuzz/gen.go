package fuzz

import (
	"fmt"
	"math/rand/v2"

	"github.com/mqttspec/mqttspec/reference/packet"
)

// Input is one fuzz case: the packets a client sends on one connection, in
// wire form, and the protocol version they were built for. The packets may
// be malformed: they are what goes on the wire, not what the codec accepts.
type Input struct {
	Version packet.Version
	Packets [][]byte
}

// Bytes is the stream the input sends.
func (in *Input) Bytes() []byte {
	n := 0
	for _, p := range in.Packets {
		n += len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range in.Packets {
		out = append(out, p...)
	}
	return out
}

// Clone copies the input deeply, so mutating the copy leaves the corpus alone.
func (in *Input) Clone() *Input {
	c := &Input{Version: in.Version, Packets: make([][]byte, len(in.Packets))}
	for i, p := range in.Packets {
		c.Packets[i] = append([]byte(nil), p...)
	}
	return c
}

// Generator builds valid sessions. Its only source of randomness is the rng
// it is given, so the same seed gives the same sessions.
type Generator struct {
	rng      *rand.Rand
	versions []packet.Version
	prefix   string // topic prefix, distinct per worker so runs do not mix
	clientID string // client identifier prefix
	// login, when set, goes into every CONNECT: the broker admits no
	// anonymous client.
	login    bool
	username string
	password []byte
}

// UseLogin makes every generated CONNECT carry this user name and
// password, for a broker without anonymous access; without it sessions
// would end at the CONNACK and the fuzzer would reach nothing beyond.
func (g *Generator) UseLogin(username, password string) {
	g.login, g.username, g.password = true, username, []byte(password)
}

// NewGenerator returns a generator for the given versions (both 3.1.1 and 5.0
// when empty). worker keeps topic names and client identifiers of parallel
// workers apart.
func NewGenerator(rng *rand.Rand, versions []packet.Version, worker int) *Generator {
	if len(versions) == 0 {
		versions = []packet.Version{packet.V311, packet.V5}
	}
	return &Generator{rng: rng, versions: versions,
		prefix: fmt.Sprintf("mqttspec/fuzz/%d/", worker), clientID: fmt.Sprintf("mqttspec-fz-%d-", worker)}
}

// Topic levels in the style of the project's home-automation fleet.
var topicLevels = []string{"Long-Home/Küche/Temperatur", "Long-Home/Wohnzimmer/Licht", "Long-Home/Bad/Feuchte",
	"sensor/1", "a/b/c", "x"}

func (g *Generator) pick(n int) int      { return g.rng.IntN(n) }
func (g *Generator) chance(pct int) bool { return g.rng.IntN(100) < pct }

func (g *Generator) topic() string { return g.prefix + topicLevels[g.pick(len(topicLevels))] }

func (g *Generator) filter() string {
	switch g.pick(5) {
	case 0:
		return g.prefix + "#"
	case 1:
		return g.prefix + "+/+/Temperatur"
	case 2:
		return g.prefix + "Long-Home/#"
	}
	return g.topic()
}

func (g *Generator) payload() []byte {
	switch g.pick(4) {
	case 0:
		return nil
	case 1:
		return []byte("21.5")
	case 2:
		b := make([]byte, 1+g.pick(300))
		for i := range b {
			b[i] = byte(g.rng.Uint32())
		}
		return b
	}
	return []byte(`{"t":21.5,"h":40}`)
}

func (g *Generator) userProps(p *packet.Properties) {
	for i := g.pick(3); i > 0; i-- {
		p.AddUser("k", "Küche")
	}
}

// Session returns a valid session: a CONNECT with a random combination of
// flags and (5.0) properties, then one to six operations, sometimes ending
// with DISCONNECT.
func (g *Generator) Session() *Input {
	v := g.versions[g.pick(len(g.versions))]
	in := &Input{Version: v}
	add := func(p packet.Packet) {
		b, err := packet.Encode(p, v)
		if err == nil {
			in.Packets = append(in.Packets, b)
		}
	}
	add(g.connect(v))
	nextID := uint16(1 + g.pick(100))
	id := func() uint16 { nextID++; return nextID }
	aliases := 0
	for ops := 1 + g.pick(6); ops > 0; ops-- {
		switch g.pick(10) {
		case 0, 1:
			add(g.subscribe(v, id()))
		case 2, 3, 4:
			pub := g.publish(v, id(), &aliases)
			add(pub)
			if pub.QoS == packet.ExactlyOnce {
				add(&packet.Pubrel{PacketID: pub.PacketID})
			}
		case 5:
			add(&packet.Unsubscribe{PacketID: id(), Filters: []string{g.filter()}})
		case 6:
			add(&packet.Pingreq{})
		case 7:
			if v == packet.V5 {
				// The broker offered no enhanced authentication, so an AUTH
				// here tests the Protocol Error path.
				a := &packet.Auth{ReasonCode: packet.ContinueAuthentication}
				a.Properties.AuthMethod = []byte("SCRAM-SHA-256")
				add(a)
			} else {
				add(&packet.Pingreq{})
			}
		default:
			add(&packet.Subscribe{PacketID: id(), Subscriptions: []packet.Subscription{{Filter: g.filter(), QoS: packet.QoS(g.pick(3))}}})
		}
	}
	if g.chance(30) {
		d := &packet.Disconnect{}
		if v == packet.V5 && g.chance(50) {
			d.ReasonCode = []packet.ReasonCode{packet.Success, packet.DisconnectWithWill}[g.pick(2)]
			if g.chance(30) {
				d.Properties.SessionExpiry = 0
				d.Properties.Present = d.Properties.Present.With(packet.PropSessionExpiry)
			}
		}
		add(d)
	}
	return in
}

func (g *Generator) connect(v packet.Version) *packet.Connect {
	c := &packet.Connect{ProtocolVersion: v, CleanStart: !g.chance(20), KeepAlive: []uint16{0, 1, 30, 60, 65535}[g.pick(5)],
		ClientID: g.clientID + fmt.Sprint(g.pick(4))}
	if g.chance(10) {
		c.ClientID = "" // the server assigns one (3.1.1 only with a clean session)
		c.CleanStart = true
	}
	if g.chance(20) {
		c.Username = "alice"
		if g.chance(70) {
			c.Password = []byte("correct horse")
		}
	}
	if g.login {
		// Drawn above all the same, so a seed's sessions keep their shape.
		c.Username, c.Password = g.username, g.password
	}
	if g.chance(25) {
		w := &packet.Will{QoS: packet.QoS(g.pick(3)), Retain: g.chance(30), Topic: g.topic(), Payload: g.payload()}
		if v == packet.V5 {
			wp := &w.Properties
			if g.chance(40) {
				wp.WillDelay = uint32(g.pick(3))
				wp.Present = wp.Present.With(packet.PropWillDelay)
			}
			if g.chance(30) {
				wp.PayloadFormat = byte(g.pick(2))
				wp.Present = wp.Present.With(packet.PropPayloadFormat)
				if wp.PayloadFormat == 1 {
					w.Payload = []byte("21.5")
				}
			}
			if g.chance(30) {
				wp.MessageExpiry = uint32(1 + g.pick(60))
			}
			if g.chance(20) {
				wp.ContentType = []byte("application/json")
			}
			if g.chance(20) {
				wp.ResponseTopic = []byte(g.topic())
			}
			if g.chance(20) {
				wp.CorrelationData = []byte{1, 2, 3}
			}
			g.userProps(wp)
		}
		c.Will = w
	}
	if v == packet.V5 {
		p := &c.Properties
		if g.chance(40) {
			p.SessionExpiry = []uint32{0, 1, 60}[g.pick(3)]
			p.Present = p.Present.With(packet.PropSessionExpiry)
		}
		if g.chance(30) {
			p.ReceiveMaximum = uint16(1 + g.pick(100))
		}
		if g.chance(30) {
			p.MaximumPacketSize = uint32(128 + g.pick(1<<16))
		}
		if g.chance(30) {
			p.TopicAliasMaximum = uint16(g.pick(20))
			p.Present = p.Present.With(packet.PropTopicAliasMaximum)
		}
		if g.chance(20) {
			p.RequestResponseInfo = byte(g.pick(2))
			p.Present = p.Present.With(packet.PropRequestResponseInfo)
		}
		if g.chance(20) {
			p.RequestProblemInfo = byte(g.pick(2))
			p.Present = p.Present.With(packet.PropRequestProblemInfo)
		}
		if g.chance(5) {
			// No method is offered by an open broker: tests the refusal path.
			p.AuthMethod = []byte("SCRAM-SHA-256")
		}
		g.userProps(p)
	}
	return c
}

func (g *Generator) subscribe(v packet.Version, id uint16) *packet.Subscribe {
	s := &packet.Subscribe{PacketID: id}
	for n := 1 + g.pick(3); n > 0; n-- {
		sub := packet.Subscription{Filter: g.filter(), QoS: packet.QoS(g.pick(3))}
		if v == packet.V5 {
			sub.NoLocal = g.chance(20)
			sub.RetainAsPublished = g.chance(20)
			sub.RetainHandling = byte(g.pick(3))
			if g.chance(10) {
				sub.Filter = "$share/g/" + g.filter()
				sub.NoLocal = false
			}
		}
		s.Subscriptions = append(s.Subscriptions, sub)
	}
	if v == packet.V5 {
		if g.chance(30) {
			s.Properties.SubscriptionIDs = []int{1 + g.pick(1000)}
		}
		g.userProps(&s.Properties)
	}
	return s
}

func (g *Generator) publish(v packet.Version, id uint16, aliases *int) *packet.Publish {
	p := &packet.Publish{QoS: packet.QoS(g.pick(3)), Retain: g.chance(15), Topic: []byte(g.topic()), Payload: g.payload()}
	if p.QoS > 0 {
		p.PacketID = id
		p.Dup = g.chance(10)
	}
	if p.Retain && len(p.Payload) > 0 && g.chance(50) {
		p.Payload = nil // clears the retained message again
	}
	if v == packet.V5 {
		pp := &p.Properties
		if g.chance(20) {
			pp.PayloadFormat = 1
			p.Payload = []byte("21.5 °C")
		}
		if g.chance(20) {
			pp.MessageExpiry = uint32(1 + g.pick(3600))
		}
		if g.chance(15) {
			pp.ContentType = []byte("text/plain")
		}
		if g.chance(15) {
			pp.ResponseTopic = []byte(g.topic())
			pp.CorrelationData = []byte("req-1")
		}
		if g.chance(20) {
			// A topic alias the broker allows (the reference broker allows
			// 10): set it with a topic first, then sometimes use it alone.
			if *aliases > 0 && g.chance(50) {
				pp.TopicAlias = uint16(1 + g.pick(*aliases))
				p.Topic = nil
			} else {
				*aliases = min(*aliases+1, 5)
				pp.TopicAlias = uint16(*aliases)
			}
		}
		g.userProps(pp)
	}
	return p
}
