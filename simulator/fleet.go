package simulator

import (
	"fmt"
	"strconv"
	"strings"
)

// Shard selects part of the device space: shard I of N takes the homes
// whose 0-based number h satisfies h % N == I, with all their devices. Any
// process can compute any shard's devices from the scenario alone, so shards
// need no coordination, and together the N shards hold every device once.
type Shard struct{ I, N int }

// ParseShard reads "i/n" (0 <= i < n).
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("shard %q: want i/n with 0 <= i < n, e.g. 0/4", s)
	}
	return Shard{I: i, N: n}, nil
}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.I, s.N) }

// Fleet is the enumerated device space of a scenario: Total devices, home
// after home, each home laid out the same way. A device is known by its
// global index; nothing per device is stored until it runs.
type Fleet struct {
	plan  *plan
	Total int // devices in the whole fleet (all shards)
	Homes int // homes in the whole fleet (the last may be partial)
	Shard Shard
	// local is the number of devices in this shard.
	local int
}

// Device is one device of the fleet.
type Device struct {
	Index    int // global index: the publisher id in payloads
	Home     int // 0-based home number
	HomeName string
	Room     string
	Class    string
	K        int // 1-based within room and class
	class    *classPlan
}

// NewFleet enumerates the scenario's devices. nodes > 0 replaces the
// scenario's size: the fleet then has exactly nodes devices (the last home
// may be incomplete). shard zero means the whole fleet.
func NewFleet(s *Scenario, nodes int, shard Shard) (*Fleet, error) {
	p, err := s.compile()
	if err != nil {
		return nil, err
	}
	if shard.N == 0 {
		shard = Shard{0, 1}
	}
	perHome := len(p.perHome)
	f := &Fleet{plan: p, Shard: shard}
	if nodes > 0 {
		f.Total = nodes
		f.Homes = (nodes + perHome - 1) / perHome
	} else {
		f.Homes = s.Homes.Count
		f.Total = f.Homes * perHome
	}
	if f.Total > 1<<31-1 {
		return nil, fmt.Errorf("fleet of %d devices is too large", f.Total)
	}
	// Homes of this shard: shard.I, shard.I+N, ...; all full except
	// possibly the fleet's last home.
	shardHomes := 0
	if f.Homes > shard.I {
		shardHomes = (f.Homes-1-shard.I)/shard.N + 1
	}
	f.local = shardHomes * perHome
	if shardHomes > 0 {
		lastHome := shard.I + (shardHomes-1)*shard.N
		if lastHome == f.Homes-1 {
			f.local -= f.Homes*perHome - f.Total
		}
	}
	return f, nil
}

// Len is the number of devices in this shard.
func (f *Fleet) Len() int { return f.local }

// PerHome is the number of devices in a full home.
func (f *Fleet) PerHome() int { return len(f.plan.perHome) }

// Global maps a shard-local position (0 <= l < Len) to a global index.
func (f *Fleet) Global(l int) int {
	per := len(f.plan.perHome)
	home := f.Shard.I + (l/per)*f.Shard.N
	return home*per + l%per
}

// Local maps a global index to its position in this shard, or -1.
func (f *Fleet) Local(global int) int {
	if global < 0 || global >= f.Total {
		return -1
	}
	per := len(f.plan.perHome)
	home := global / per
	if home%f.Shard.N != f.Shard.I {
		return -1
	}
	return (home/f.Shard.N)*per + global%per
}

// ShardHomes lists the 0-based home numbers of this shard.
func (f *Fleet) ShardHomes() []int {
	var out []int
	for h := f.Shard.I; h < f.Homes; h += f.Shard.N {
		out = append(out, h)
	}
	return out
}

// HomeName is the name of home h (0-based).
func (f *Fleet) HomeName(h int) string {
	if names := f.plan.s.Homes.Names; h < len(names) {
		return names[h]
	}
	return f.plan.homeName.expand(&vars{n: h + 1})
}

// Device describes the device with a global index.
func (f *Fleet) Device(global int) Device {
	per := len(f.plan.perHome)
	sl := f.plan.perHome[global%per]
	cp := &f.plan.classes[sl.class]
	home := global / per
	return Device{Index: global, Home: home, HomeName: f.HomeName(home), Room: f.plan.s.Rooms[sl.room],
		Class: cp.c.Class, K: int(sl.k), class: cp}
}

func (d *Device) vars() vars {
	return vars{home: d.HomeName, room: d.Room, class: d.Class, k: d.K, device: d.Index}
}

// Topic is the topic the device publishes on.
func (d *Device) Topic() string { v := d.vars(); return d.class.topic.expand(&v) }

// ClientID is the device's MQTT client identifier.
func (f *Fleet) ClientID(d *Device) string { v := d.vars(); return f.plan.clientID.expand(&v) }
