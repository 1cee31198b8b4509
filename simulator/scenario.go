package simulator

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/mqttspec/mqttspec/reference/packet"
)

// Scenario describes a fleet: homes made of rooms, device classes placed in
// the rooms, how devices connect and what they publish, and the observers
// that count what arrives. It is read from YAML (LoadScenario); the built-in
// "home" scenario (BuiltinScenario) is the default.
type Scenario struct {
	Name string `yaml:"name"`
	// Duration of the publishing phase (the drain that follows is extra).
	Duration Duration `yaml:"duration"`
	// MQTT is the protocol version of every connection: "3.1.1" or "5".
	MQTT string `yaml:"mqtt"`
	// Homes is the fleet size in homes and how homes are named.
	Homes Homes `yaml:"homes"`
	// Rooms every home has, in order.
	Rooms []string `yaml:"rooms"`
	// Connection settings shared by every device.
	Connection Connection `yaml:"connection"`
	// Devices are the device classes.
	Devices []DeviceClass `yaml:"devices"`
	// Observers subscribe with wildcards and account for what arrives.
	Observers []Observer `yaml:"observers"`

	// dir is the scenario file's folder (relative certificate paths).
	dir string
}

// Homes says how many homes there are and how they are named: Names first
// (e.g. "Long-Home"), then NameTemplate with {n} the 1-based home number.
type Homes struct {
	Count        int      `yaml:"count"`
	Names        []string `yaml:"names"`
	NameTemplate string   `yaml:"name_template"`
}

// Connection holds how devices connect.
type Connection struct {
	// ClientID template; placeholders {home} {room} {class} {k} {device}.
	ClientID string `yaml:"client_id"`
	// Username and Password templates (optional; same placeholders), put
	// into every device's CONNECT, e.g. username "{home}-{room}-{class}"
	// and password "{device}": per-device credentials for a broker that
	// checks them. A device class may set its own.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// CleanSession true (default) starts every connection afresh; false
	// keeps sessions so that in-flight QoS 1/2 messages survive a reconnect.
	CleanSession *bool `yaml:"clean_session"`
	// SessionExpiry (MQTT 5, persistent sessions): how long the broker keeps
	// a session after a disconnect. Zero with clean_session false means
	// "never expires".
	SessionExpiry Duration `yaml:"session_expiry"`
	KeepAlive     Duration `yaml:"keep_alive"`
	// RampRate is the number of new connections per second at start.
	RampRate float64 `yaml:"ramp_rate"`
	// ConnectTimeout bounds dial + CONNECT/CONNACK.
	ConnectTimeout Duration  `yaml:"connect_timeout"`
	Reconnect      Reconnect `yaml:"reconnect"`
	// TLS, for an ssl:// target, gives every device its own client
	// certificate.
	TLS *ConnectionTLS `yaml:"tls"`
}

// ConnectionTLS names each device's client certificate and key files
// (PEM): templates with the device placeholders, e.g.
// "certs/{device}.crt"; a relative path is taken from the scenario
// file's folder.
type ConnectionTLS struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// Reconnect is exponential backoff with full jitter: the n-th retry waits a
// uniformly random time in [0, min(Max, Initial*Multiplier^n)].
type Reconnect struct {
	Initial    Duration `yaml:"initial"`
	Max        Duration `yaml:"max"`
	Multiplier float64  `yaml:"multiplier"`
}

// DeviceClass is a kind of device placed in rooms.
type DeviceClass struct {
	Class string `yaml:"class"`
	// Rooms where the class is placed (default: every room).
	Rooms []string `yaml:"rooms"`
	// Count of devices per room (default 1).
	Count int `yaml:"count"`
	// Topic the device publishes on (sensors: readings; actuators: their
	// state, sent in answer to each command).
	Topic string `yaml:"topic"`
	// Subscribe, for actuators: the command topic (filter) they listen on.
	Subscribe string `yaml:"subscribe"`
	// SubscribeQoS is the QoS of the command subscription (default 1).
	SubscribeQoS int `yaml:"subscribe_qos"`
	// Interval between publishes, and Jitter: each interval is moved by a
	// uniform random amount in [-Jitter, +Jitter]. Zero interval: the
	// device publishes only in answer to commands.
	Interval Duration `yaml:"interval"`
	Jitter   Duration `yaml:"jitter"`
	// Messages > 0 is how many readings each device of the class
	// publishes (due publishes skipped while disconnected included). When
	// every class that publishes on a schedule has such a budget, the
	// publishing phase ends as soon as all of them are spent, and the
	// duration is only its bound: a run then sends the same messages
	// however fast the machine is, which makes runs comparable.
	Messages int `yaml:"messages"`
	// QoS mix: weight per QoS level, e.g. {0: 80, 1: 15, 2: 5}.
	QoS map[int]float64 `yaml:"qos"`
	// Retain publishes as retained state.
	Retain bool `yaml:"retain"`
	// Model generates the values.
	Model Model `yaml:"model"`
	// Will, when set, is the device's last will.
	Will *Will `yaml:"will"`
	// Username and Password, when set, replace the connection's templates
	// for this class (same placeholders).
	Username string `yaml:"username"`
	Password string `yaml:"password"`
}

// Model is a value model.
type Model struct {
	// Kind: random_walk, sine, markov (on/off), counter.
	Kind string `yaml:"kind"`
	// Min and Max bound random_walk and sine values.
	Min float64 `yaml:"min"`
	Max float64 `yaml:"max"`
	// Step is the largest change per publish (random_walk).
	Step float64 `yaml:"step"`
	// Period of the sine (default 24h) and Noise added to it (uniform
	// in [-Noise, +Noise], then clamped to [Min, Max]).
	Period Duration `yaml:"period"`
	Noise  float64  `yaml:"noise"`
	// POn and POff are the per-publish probabilities of switching off→on
	// and on→off (markov).
	POn  float64 `yaml:"p_on"`
	POff float64 `yaml:"p_off"`
	// IncMin and IncMax bound a counter's increment per publish.
	IncMin float64 `yaml:"inc_min"`
	IncMax float64 `yaml:"inc_max"`
	// Decimals the value is rounded to (default 2).
	Decimals *int `yaml:"decimals"`
}

// Will is a last will; Topic and Payload are templates.
type Will struct {
	Topic   string `yaml:"topic"`
	Payload string `yaml:"payload"`
	QoS     int    `yaml:"qos"`
	Retain  bool   `yaml:"retain"`
}

// Observer is one subscriber connection. A filter that contains {home} is
// expanded once per home of the shard (so shards observe only their own
// homes); other filters are subscribed as given.
type Observer struct {
	Filters []string `yaml:"filters"`
	QoS     int      `yaml:"qos"`
	// Username and Password the observer connects with (literal: an
	// observer is not a device, so no placeholders). A broker that checks
	// credentials must let the observer subscribe to what it counts.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
}

// Duration is a time.Duration written as "10s", "1m30s" or "24h" in YAML.
type Duration time.Duration

// UnmarshalYAML reads a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("line %d: want a duration such as 10s or 1m", n.Line)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (examples: 500ms, 10s, 24h)", n.Line, s)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// D is the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

//go:embed home.yaml
var homeYAML []byte

// BuiltinScenario returns a built-in scenario by name ("home").
func BuiltinScenario(name string) (*Scenario, error) {
	switch name {
	case "home":
		return ParseScenario(bytes.NewReader(homeYAML), "built-in home")
	}
	return nil, fmt.Errorf("no built-in scenario %q (built-in: home)", name)
}

// BuiltinScenarioYAML returns a built-in scenario's YAML source, a starting
// point for one's own.
func BuiltinScenarioYAML(name string) ([]byte, error) {
	if name != "home" {
		return nil, fmt.Errorf("no built-in scenario %q (built-in: home)", name)
	}
	return bytes.Clone(homeYAML), nil
}

// LoadScenario reads a scenario file.
func LoadScenario(path string) (*Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	defer f.Close()
	s, err := ParseScenario(f, path)
	if err != nil {
		return nil, err
	}
	s.dir = filepath.Dir(path)
	return s, nil
}

// ParseScenario reads YAML strictly: unknown keys are errors. source names
// the input in messages. The result is validated.
func ParseScenario(r io.Reader, source string) (*Scenario, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var s Scenario
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("scenario %s: empty", source)
		}
		return nil, fmt.Errorf("scenario %s: %w", source, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("scenario %s: more than one YAML document", source)
	}
	s.applyDefaults()
	if _, err := s.compile(); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", source, err)
	}
	return &s, nil
}

func (s *Scenario) applyDefaults() {
	if s.Name == "" {
		s.Name = "unnamed"
	}
	if s.MQTT == "" {
		s.MQTT = "3.1.1"
	}
	if s.Homes.NameTemplate == "" {
		s.Homes.NameTemplate = "home-{n:04}"
	}
	c := &s.Connection
	if c.ClientID == "" {
		c.ClientID = "sim-{device}"
	}
	if c.CleanSession == nil {
		t := true
		c.CleanSession = &t
	}
	if c.KeepAlive == 0 {
		c.KeepAlive = Duration(60 * time.Second)
	}
	if c.RampRate == 0 {
		c.RampRate = 500
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = Duration(10 * time.Second)
	}
	if c.Reconnect.Initial == 0 {
		c.Reconnect.Initial = Duration(100 * time.Millisecond)
	}
	if c.Reconnect.Max == 0 {
		c.Reconnect.Max = Duration(30 * time.Second)
	}
	if c.Reconnect.Multiplier == 0 {
		c.Reconnect.Multiplier = 2
	}
	for i := range s.Devices {
		d := &s.Devices[i]
		if d.Count == 0 {
			d.Count = 1
		}
		if len(d.QoS) == 0 {
			d.QoS = map[int]float64{0: 1}
		}
		if d.Subscribe != "" && d.SubscribeQoS == 0 {
			d.SubscribeQoS = 1
		}
		if d.Model.Decimals == nil {
			two := 2
			d.Model.Decimals = &two
		}
		if d.Model.Kind == "sine" && d.Model.Period == 0 {
			d.Model.Period = Duration(24 * time.Hour)
		}
	}
}

// plan is a scenario compiled for running: templates parsed, rooms
// resolved, everything checked.
type plan struct {
	s        *Scenario
	version  packet.Version
	homeName template
	clientID template
	username template
	password template
	// tlsCert and tlsKey are connection.tls's templates (empty: none).
	tlsCert, tlsKey template
	classes         []classPlan
	// perHome lists the devices of one home in enumeration order.
	perHome   []slot
	observers []observerPlan
}

type classPlan struct {
	c         *DeviceClass
	topic     template
	subscribe template
	willTopic template
	willBody  template
	// username and password are the class's own templates, or the
	// connection's when the class sets none.
	username template
	password template
	qosCum   [3]float64 // cumulative QoS weights, normalised to 1
	maxQoS   packet.QoS
	decimals int
}

// slot is one device position inside a home.
type slot struct {
	room  uint16
	class uint16
	k     uint16 // 1-based within room and class
}

type observerPlan struct {
	perHome []template // filters with {home}
	global  []string   // filters without
	qos     packet.QoS
	// username and password go into the observer's CONNECT when set.
	username, password string
}

var deviceFields = []field{fieldHome, fieldRoom, fieldClass, fieldK, fieldDevice}

func (s *Scenario) compile() (*plan, error) {
	p := &plan{s: s}
	v, err := packet.ParseVersion(s.MQTT)
	if err != nil || v == packet.V31 {
		return nil, fmt.Errorf("mqtt: %q is not supported (want 3.1.1 or 5)", s.MQTT)
	}
	p.version = v
	if s.Duration < 0 {
		return nil, errors.New("duration must not be negative")
	}
	if s.Homes.Count < 0 {
		return nil, fmt.Errorf("homes.count is %d, must be at least 0", s.Homes.Count)
	}
	for i, n := range s.Homes.Names {
		if n == "" || strings.ContainsAny(n, "/+#") {
			return nil, fmt.Errorf("homes.names[%d] %q: a home name must be non-empty and contain no '/', '+' or '#'", i, n)
		}
	}
	if p.homeName, err = parseTemplate("homes.name_template", s.Homes.NameTemplate, fieldN); err != nil {
		return nil, err
	}
	if !p.homeName.uses(fieldN) && s.Homes.Count > len(s.Homes.Names)+1 {
		return nil, fmt.Errorf("homes.name_template %q has no {n}: every home would get the same name", s.Homes.NameTemplate)
	}
	if len(s.Rooms) == 0 {
		return nil, errors.New("rooms: at least one room is needed")
	}
	roomIndex := map[string]int{}
	for i, r := range s.Rooms {
		if r == "" || strings.ContainsAny(r, "/+#") {
			return nil, fmt.Errorf("rooms[%d] %q: a room name must be non-empty and contain no '/', '+' or '#'", i, r)
		}
		if _, dup := roomIndex[r]; dup {
			return nil, fmt.Errorf("rooms: %q is listed twice", r)
		}
		roomIndex[r] = i
	}
	c := &s.Connection
	if p.clientID, err = parseTemplate("connection.client_id", c.ClientID, deviceFields...); err != nil {
		return nil, err
	}
	if !p.clientID.uses(fieldDevice) {
		return nil, fmt.Errorf("connection.client_id %q must contain {device} so that client identifiers are unique", c.ClientID)
	}
	if p.username, err = parseTemplate("connection.username", c.Username, deviceFields...); err != nil {
		return nil, err
	}
	if p.password, err = parseTemplate("connection.password", c.Password, deviceFields...); err != nil {
		return nil, err
	}
	if t := c.TLS; t != nil {
		if t.Cert == "" || t.Key == "" {
			return nil, errors.New("connection.tls: both cert and key are needed")
		}
		if p.tlsCert, err = parseTemplate("connection.tls.cert", t.Cert, deviceFields...); err != nil {
			return nil, err
		}
		if p.tlsKey, err = parseTemplate("connection.tls.key", t.Key, deviceFields...); err != nil {
			return nil, err
		}
	}
	if c.KeepAlive < 0 || c.KeepAlive.D() > 65535*time.Second {
		return nil, fmt.Errorf("connection.keep_alive %s: must be between 0 and 65535s", c.KeepAlive.D())
	}
	if c.RampRate < 0 {
		return nil, fmt.Errorf("connection.ramp_rate %g: must be positive (connections per second)", c.RampRate)
	}
	if c.ConnectTimeout < 0 {
		return nil, errors.New("connection.connect_timeout must be positive")
	}
	if c.SessionExpiry < 0 || c.SessionExpiry.D() > time.Duration(1<<32-1)*time.Second {
		return nil, errors.New("connection.session_expiry must be between 0 and 2^32-1 seconds")
	}
	if c.SessionExpiry != 0 && v != packet.V5 {
		return nil, errors.New("connection.session_expiry needs mqtt: 5")
	}
	r := c.Reconnect
	if r.Initial < 0 || r.Max < r.Initial {
		return nil, fmt.Errorf("connection.reconnect: want 0 < initial (%s) <= max (%s)", r.Initial.D(), r.Max.D())
	}
	if r.Multiplier < 1 {
		return nil, fmt.Errorf("connection.reconnect.multiplier %g: must be at least 1", r.Multiplier)
	}
	if len(s.Devices) == 0 {
		return nil, errors.New("devices: at least one device class is needed")
	}
	seen := map[string]bool{}
	for i := range s.Devices {
		cp, err := compileClass(&s.Devices[i], i)
		if err != nil {
			return nil, err
		}
		if s.Devices[i].Username == "" {
			cp.username = p.username
		}
		if s.Devices[i].Password == "" {
			cp.password = p.password
		}
		if seen[cp.c.Class] {
			return nil, fmt.Errorf("devices[%d]: class %q is defined twice", i, cp.c.Class)
		}
		seen[cp.c.Class] = true
		p.classes = append(p.classes, cp)
	}
	// The home layout: room by room, class by class, so that devices of
	// one room have neighbouring indexes.
	for ri, room := range s.Rooms {
		for ci, cp := range p.classes {
			if len(cp.c.Rooms) > 0 && !containsString(cp.c.Rooms, room) {
				continue
			}
			for k := 1; k <= cp.c.Count; k++ {
				p.perHome = append(p.perHome, slot{room: uint16(ri), class: uint16(ci), k: uint16(k)})
			}
		}
	}
	for i, cp := range p.classes {
		for _, room := range cp.c.Rooms {
			if _, ok := roomIndex[room]; !ok {
				return nil, fmt.Errorf("devices[%d] (%s): room %q is not in rooms %v", i, cp.c.Class, room, s.Rooms)
			}
		}
	}
	if len(p.perHome) == 0 {
		return nil, errors.New("devices: no device is placed in any room")
	}
	if len(p.perHome) > 1<<16 {
		return nil, fmt.Errorf("devices: %d devices per home is too many (at most 65536)", len(p.perHome))
	}
	for i, o := range s.Observers {
		op, err := compileObserver(o, i, v)
		if err != nil {
			return nil, err
		}
		p.observers = append(p.observers, op)
	}
	return p, nil
}

func compileClass(d *DeviceClass, i int) (classPlan, error) {
	cp := classPlan{c: d}
	name := fmt.Sprintf("devices[%d]", i)
	if d.Class == "" || strings.ContainsAny(d.Class, "/+#") {
		return cp, fmt.Errorf("%s: class %q must be non-empty and contain no '/', '+' or '#'", name, d.Class)
	}
	name = fmt.Sprintf("devices[%d] (%s)", i, d.Class)
	var err error
	if d.Count < 1 || d.Count > 1000 {
		return cp, fmt.Errorf("%s: count %d must be between 1 and 1000 per room", name, d.Count)
	}
	if d.Topic == "" {
		return cp, fmt.Errorf("%s: topic is required", name)
	}
	if cp.topic, err = parseTemplate(name+": topic", d.Topic, deviceFields...); err != nil {
		return cp, err
	}
	if cp.topic.hasWildcard() {
		return cp, fmt.Errorf("%s: topic %q contains a wildcard; publish topics cannot", name, d.Topic)
	}
	if d.Subscribe != "" {
		if cp.subscribe, err = parseTemplate(name+": subscribe", d.Subscribe, deviceFields...); err != nil {
			return cp, err
		}
		if d.SubscribeQoS < 0 || d.SubscribeQoS > 2 {
			return cp, fmt.Errorf("%s: subscribe_qos %d must be 0, 1 or 2", name, d.SubscribeQoS)
		}
	}
	if d.Interval < 0 || d.Jitter < 0 {
		return cp, fmt.Errorf("%s: interval and jitter must not be negative", name)
	}
	if d.Interval == 0 && d.Subscribe == "" {
		return cp, fmt.Errorf("%s: interval is required (only actuators, which have subscribe, may publish on commands alone)", name)
	}
	if d.Messages < 0 || (d.Messages > 0 && d.Interval == 0) {
		return cp, fmt.Errorf("%s: messages %d must be positive and needs an interval", name, d.Messages)
	}
	if d.Interval > 0 && d.Jitter >= d.Interval {
		return cp, fmt.Errorf("%s: jitter %s must be smaller than the interval %s", name, d.Jitter.D(), d.Interval.D())
	}
	var total float64
	for q, w := range d.QoS {
		if q < 0 || q > 2 {
			return cp, fmt.Errorf("%s: qos level %d does not exist (0, 1, 2)", name, q)
		}
		if w < 0 {
			return cp, fmt.Errorf("%s: qos %d has negative weight %g", name, q, w)
		}
		total += w
	}
	if total <= 0 {
		return cp, fmt.Errorf("%s: qos weights add up to 0", name)
	}
	acc := 0.0
	for q := 0; q < 3; q++ {
		acc += d.QoS[q] / total
		cp.qosCum[q] = acc
		if d.QoS[q] > 0 {
			cp.maxQoS = packet.QoS(q)
		}
	}
	cp.qosCum[2] = 1
	if err := checkModel(d.Model); err != nil {
		return cp, fmt.Errorf("%s: model: %w", name, err)
	}
	cp.decimals = *d.Model.Decimals
	if cp.username, err = parseTemplate(name+": username", d.Username, deviceFields...); err != nil {
		return cp, err
	}
	if cp.password, err = parseTemplate(name+": password", d.Password, deviceFields...); err != nil {
		return cp, err
	}
	if d.Will != nil {
		if cp.willTopic, err = parseTemplate(name+": will.topic", d.Will.Topic, deviceFields...); err != nil {
			return cp, err
		}
		if cp.willTopic.empty() || cp.willTopic.hasWildcard() {
			return cp, fmt.Errorf("%s: will.topic must be a topic name without wildcards", name)
		}
		if cp.willBody, err = parseTemplate(name+": will.payload", d.Will.Payload, deviceFields...); err != nil {
			return cp, err
		}
		if d.Will.QoS < 0 || d.Will.QoS > 2 {
			return cp, fmt.Errorf("%s: will.qos %d must be 0, 1 or 2", name, d.Will.QoS)
		}
	}
	return cp, nil
}

func compileObserver(o Observer, i int, v packet.Version) (observerPlan, error) {
	name := fmt.Sprintf("observers[%d]", i)
	op := observerPlan{qos: packet.QoS(o.QoS), username: o.Username, password: o.Password}
	if o.QoS < 0 || o.QoS > 2 {
		return op, fmt.Errorf("%s: qos %d must be 0, 1 or 2", name, o.QoS)
	}
	if len(o.Filters) == 0 {
		return op, fmt.Errorf("%s: filters: at least one topic filter is needed", name)
	}
	for _, f := range o.Filters {
		t, err := parseTemplate(name+": filter", f, fieldHome)
		if err != nil {
			return op, err
		}
		sample := t.expand(&vars{home: "h"})
		if err := packet.ValidateTopicFilter(sample, v); err != nil {
			return op, fmt.Errorf("%s: filter %q: %v", name, f, err)
		}
		if t.uses(fieldHome) {
			op.perHome = append(op.perHome, t)
		} else {
			op.global = append(op.global, f)
		}
	}
	return op, nil
}

func checkModel(m Model) error {
	if *m.Decimals < 0 || *m.Decimals > 9 {
		return fmt.Errorf("decimals %d must be between 0 and 9", *m.Decimals)
	}
	switch m.Kind {
	case "random_walk":
		if m.Max <= m.Min {
			return fmt.Errorf("random_walk needs min < max (got %g, %g)", m.Min, m.Max)
		}
		if m.Step <= 0 || m.Step > m.Max-m.Min {
			return fmt.Errorf("random_walk needs 0 < step <= max-min (got step %g)", m.Step)
		}
	case "sine":
		if m.Max <= m.Min {
			return fmt.Errorf("sine needs min < max (got %g, %g)", m.Min, m.Max)
		}
		if m.Period <= 0 {
			return errors.New("sine needs a positive period")
		}
		if m.Noise < 0 {
			return errors.New("sine noise must not be negative")
		}
	case "markov":
		if m.POn < 0 || m.POn > 1 || m.POff < 0 || m.POff > 1 {
			return fmt.Errorf("markov p_on (%g) and p_off (%g) are probabilities between 0 and 1", m.POn, m.POff)
		}
	case "counter":
		if m.IncMin < 0 || m.IncMax < m.IncMin {
			return fmt.Errorf("counter needs 0 <= inc_min <= inc_max (got %g, %g)", m.IncMin, m.IncMax)
		}
	case "":
		return errors.New("kind is required: random_walk, sine, markov or counter")
	default:
		return fmt.Errorf("unknown kind %q (want random_walk, sine, markov or counter)", m.Kind)
	}
	return nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
