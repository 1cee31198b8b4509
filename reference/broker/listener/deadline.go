package listener

import (
	"sync"
	"time"
)

// deadline turns a settable point in time into a channel that is closed
// once the time has passed, so a blocked Read can select on it and be woken
// by a deadline set after it started waiting.
type deadline struct {
	mu    sync.Mutex
	timer *time.Timer
	ch    chan struct{} // closed while the deadline is exceeded
}

func newDeadline() *deadline { return &deadline{ch: make(chan struct{})} }

// set moves the deadline; the zero time removes it.
func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil && !d.timer.Stop() {
		// The timer already fired: wait until its function has closed ch,
		// so the state below is settled.
		<-d.ch
	}
	d.timer = nil
	expired := isClosed(d.ch)
	if t.IsZero() {
		if expired {
			d.ch = make(chan struct{})
		}
		return
	}
	if wait := time.Until(t); wait > 0 {
		if expired {
			d.ch = make(chan struct{})
		}
		ch := d.ch
		d.timer = time.AfterFunc(wait, func() { close(ch) })
		return
	}
	if !expired {
		close(d.ch)
	}
}

// wait returns a channel closed when the deadline passes.
func (d *deadline) wait() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ch
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
