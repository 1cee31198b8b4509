package simulator

import (
	"errors"
	"fmt"
	"syscall"
)

// errLimit marks an error that no retry can cure: the machine's limits stop
// the fleet, and the run ends with advice instead of retrying forever.
type errLimit struct{ msg string }

func (e *errLimit) Error() string { return e.msg }

// explainDialError turns the two errors that mean "this machine cannot open
// more connections" into advice; other errors pass unchanged.
func explainDialError(err error, addr string) error {
	switch {
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		soft, hard := fileLimit()
		return &errLimit{fmt.Sprintf("connecting to %s: the open-file limit is reached (%v; soft limit %d, hard limit %d): "+
			"raise it (ulimit -n, or LimitNOFILE for a service) or split the fleet with --shard i/n over several processes", addr, err, soft, hard)}
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return &errLimit{fmt.Sprintf("connecting to %s: no ephemeral port left (%v): each source address has about 28,000 ports "+
			"(net.ipv4.ip_local_port_range); for a loopback target the simulator spreads connections over 127.0.0.x "+
			"(raise --source-addresses), otherwise widen the port range or split the fleet with --shard over several machines", addr, err)}
	}
	return err
}

// fileLimit is the process's open-file limit.
func fileLimit() (soft, hard uint64) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, 0
	}
	return uint64(r.Cur), uint64(r.Max)
}

// ensureFiles raises the soft open-file limit towards need, and says
// clearly when the hard limit is too low.
func ensureFiles(need int) error {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return nil
	}
	if uint64(r.Cur) >= uint64(need) {
		return nil
	}
	if uint64(r.Max) >= uint64(need) {
		r.Cur = r.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r); err == nil {
			return nil
		}
	}
	return &errLimit{fmt.Sprintf("this shard needs about %d open files (one per device, plus observers) but the limit is %d (hard %d): "+
		"raise it (ulimit -n) or split the fleet with --shard i/n over several processes", need, r.Cur, r.Max)}
}
