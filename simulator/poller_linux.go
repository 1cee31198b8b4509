//go:build linux

package simulator

import (
	"errors"
	"fmt"
	"net"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// poller watches device connections with epoll and reads them from one
// goroutine. A connection has no goroutine of its own: its socket is read
// here, directly through its (non-blocking) file descriptor, into a buffer
// the poller shares among all connections, and only the bytes of a packet
// that has not fully arrived are kept per connection.
//
// Go's own network poller also has these descriptors registered; as we
// never call Read on the net.Conn it never waits on them, and a second epoll
// instance watching the same descriptor is allowed.
type poller struct {
	epfd    int
	e       *engine
	buf     []byte
	in      inbound // decoder and scratch of the poller goroutine
	stopped atomic.Bool
}

func newPoller(e *engine) (*poller, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll: %w", err)
	}
	return &poller{epfd: fd, e: e, buf: make([]byte, 64<<10)}, nil
}

// rawFD returns the descriptor of a TCP connection.
func rawFD(c net.Conn) (int, error) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return -1, errors.New("the simulator engine reads plain TCP connections only")
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	if err := raw.Control(func(f uintptr) { fd = int(f) }); err != nil {
		return -1, err
	}
	return fd, nil
}

// watch registers a node's descriptor. The event carries the node's index
// and connection generation, so that an event for a connection that has
// since been closed (and its descriptor number reused) is recognised.
func (p *poller) watch(fd int, node int32, gen uint32, writable bool) error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: node, Pad: int32(gen)}
	if writable {
		ev.Events |= unix.EPOLLOUT
	}
	return unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev)
}

// wantWrite turns write readiness reporting on or off.
func (p *poller) wantWrite(fd int, node int32, gen uint32, on bool) error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: node, Pad: int32(gen)}
	if on {
		ev.Events |= unix.EPOLLOUT
	}
	return unix.EpollCtl(p.epfd, unix.EPOLL_CTL_MOD, fd, &ev)
}

func (p *poller) unwatch(fd int) { unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, nil) }

// run reads ready connections until stop is called. The 100 ms wait bound
// is how often it looks at the stop flag.
func (p *poller) run() {
	events := make([]unix.EpollEvent, 256)
	for !p.stopped.Load() {
		n, err := unix.EpollWait(p.epfd, events, 100)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			p.e.fail(fmt.Errorf("epoll_wait: %w", err))
			return
		}
		for _, ev := range events[:n] {
			nd := &p.e.nodes[ev.Fd]
			nd.mu.Lock()
			if nd.state != stateUp || nd.gen != uint32(ev.Pad) {
				nd.mu.Unlock()
				continue
			}
			if ev.Events&unix.EPOLLOUT != 0 {
				p.e.flush(nd, ev.Fd)
			}
			if nd.state == stateUp && ev.Events&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
				p.read(nd, ev.Fd)
			}
			nd.mu.Unlock()
		}
	}
}

// read takes what has arrived (one read per readiness: level-triggered
// epoll reports the rest next time, which keeps busy connections from
// starving the others) and hands complete packets to the engine.
func (p *poller) read(nd *node, idx int32) {
	n, err := unix.Read(nd.fd, p.buf)
	if err != nil {
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			return
		}
		p.e.lost(nd, idx, fmt.Errorf("read: %w", err))
		return
	}
	if n == 0 {
		p.e.lost(nd, idx, errors.New("the broker closed the connection"))
		return
	}
	p.e.receive(nd, idx, p.buf[:n], &p.in)
}

func (p *poller) stop() {
	p.stopped.Store(true)
}

func (p *poller) close() { unix.Close(p.epfd) }

// writeFD writes without blocking; it returns how much went out.
func writeFD(fd int, b []byte) (int, error) {
	n, err := unix.Write(fd, b)
	if err != nil {
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			return 0, nil
		}
		return 0, err
	}
	return n, nil
}
