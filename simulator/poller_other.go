//go:build !linux

package simulator

import (
	"errors"
	"net"
)

// The engine reads device connections through epoll; elsewhere it stops
// with a clear error instead (a kqueue poller would go here).
type poller struct{}

var errNoPoller = errors.New("the fleet simulator's engine needs Linux (epoll) for now")

func newPoller(*engine) (*poller, error)               { return nil, errNoPoller }
func rawFD(net.Conn) (int, error)                      { return -1, errNoPoller }
func (p *poller) watch(int, int32, uint32, bool) error { return errNoPoller }
func (p *poller) wantWrite(int, int32, uint32, bool) error {
	return errNoPoller
}
func (p *poller) unwatch(int)          {}
func (p *poller) run()                 {}
func (p *poller) stop()                {}
func (p *poller) close()               {}
func writeFD(int, []byte) (int, error) { return 0, errNoPoller }
