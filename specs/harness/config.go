package harness

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mqttspec/mqttspec/brokers"
	"github.com/mqttspec/mqttspec/reference/packet"
)

// Config is what a run of the suite is about. The runner sets it before
// the spec tree is built; the specs read it through Cfg.
type Config struct {
	Target   *brokers.Target
	Versions []packet.Version
	// ReadTimeout bounds every wait for a packet or a close.
	ReadTimeout time.Duration
	// RunID makes topics and client identifiers unique to this run, so a
	// suite can share a long-running broker with others.
	RunID string
}

var (
	cfgMu sync.RWMutex
	cfg   Config
	seq   atomic.Int64
	down  atomic.Pointer[string] // set once the target is found dead
)

// Configure sets the suite configuration (defaults for zero fields).
func Configure(c Config) {
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = 3 * time.Second
	}
	if len(c.Versions) == 0 {
		c.Versions = []packet.Version{packet.V311, packet.V5}
	}
	if c.RunID == "" {
		c.RunID = fmt.Sprintf("%x", time.Now().UnixNano()&0xFFFFFFFFFF)
	}
	cfgMu.Lock()
	cfg = c
	cfgMu.Unlock()
	down.Store(nil)
}

// Cfg returns the suite configuration.
func Cfg() Config {
	cfgMu.RLock()
	defer cfgMu.RUnlock()
	return cfg
}

// Target is the broker under test.
func Target() *brokers.Target { return Cfg().Target }

// unique returns a run-unique short name.
func unique(kind string) string {
	return fmt.Sprintf("mqttspec-%s-%s%d", Cfg().RunID, kind, seq.Add(1))
}

// ClientID returns a client identifier unique to this run (at most 23
// characters would be safer for 3.1, but 3.1.1 and 5.0 servers must accept
// up to 23 and usually more; the run ID keeps it short).
func ClientID() string { return unique("c") }

// Topic returns a topic under a prefix unique to this spec and run, with
// the given levels appended: Topic("Küche", "Temperatur").
func Topic(levels ...string) string {
	base := "mqttspec/" + Cfg().RunID + "/" + fmt.Sprint(seq.Add(1))
	if len(levels) == 0 {
		return base
	}
	return base + "/" + strings.Join(levels, "/")
}
