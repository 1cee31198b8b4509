package simulator

import (
	"strings"
	"testing"
)

func homeScenario(t *testing.T) *Scenario {
	t.Helper()
	s, err := BuiltinScenario("home")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFleetNodesOverride(t *testing.T) {
	f, err := NewFleet(homeScenario(t), 100, Shard{})
	if err != nil {
		t.Fatal(err)
	}
	// 100 devices: three full homes of 28 and 16 devices of a fourth.
	if f.Total != 100 || f.Homes != 4 || f.Len() != 100 {
		t.Errorf("total %d homes %d len %d", f.Total, f.Homes, f.Len())
	}
	if d := f.Device(99); d.Home != 3 || d.HomeName != "home-0004" {
		t.Errorf("device 99 in home %d %q", d.Home, d.HomeName)
	}
}

// The shards of a fleet hold every device exactly once, and the mapping
// between local and global indexes is a bijection, for any fleet size.
func TestShardsPartitionTheFleet(t *testing.T) {
	s := homeScenario(t)
	for _, nodes := range []int{1, 27, 28, 29, 100, 281, 1000} {
		for _, n := range []int{1, 2, 3, 7} {
			seen := make([]int, nodes)
			for i := 0; i < n; i++ {
				f, err := NewFleet(s, nodes, Shard{I: i, N: n})
				if err != nil {
					t.Fatal(err)
				}
				for l := 0; l < f.Len(); l++ {
					g := f.Global(l)
					if g < 0 || g >= nodes {
						t.Fatalf("nodes %d shard %d/%d: local %d -> global %d out of range", nodes, i, n, l, g)
					}
					if back := f.Local(g); back != l {
						t.Fatalf("nodes %d shard %d/%d: Local(Global(%d)) = %d", nodes, i, n, l, back)
					}
					if f.Device(g).Home%n != i {
						t.Fatalf("device %d of home %d in shard %d/%d", g, f.Device(g).Home, i, n)
					}
					seen[g]++
				}
			}
			for g, c := range seen {
				if c != 1 {
					t.Fatalf("nodes %d, %d shards: device %d appears %d times", nodes, n, g, c)
				}
			}
		}
	}
}

// The device space is a function of the scenario alone.
func TestFleetDeterministic(t *testing.T) {
	a, _ := NewFleet(homeScenario(t), 500, Shard{I: 1, N: 3})
	b, _ := NewFleet(homeScenario(t), 500, Shard{I: 1, N: 3})
	for l := 0; l < a.Len(); l++ {
		da, db := a.Device(a.Global(l)), b.Device(b.Global(l))
		if da.Topic() != db.Topic() || a.ClientID(&da) != b.ClientID(&db) {
			t.Fatalf("device %d differs: %s vs %s", l, da.Topic(), db.Topic())
		}
	}
	// Client identifiers are unique.
	ids := map[string]bool{}
	for g := 0; g < a.Total; g++ {
		d := a.Device(g)
		id := a.ClientID(&d)
		if ids[id] {
			t.Fatalf("client id %q twice", id)
		}
		ids[id] = true
	}
}

func TestParseShard(t *testing.T) {
	if s, err := ParseShard("2/5"); err != nil || s != (Shard{2, 5}) {
		t.Errorf("2/5: %v %v", s, err)
	}
	for _, bad := range []string{"", "1", "5/5", "-1/3", "a/b", "1/0"} {
		if _, err := ParseShard(bad); err == nil || !strings.Contains(err.Error(), "i/n") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
