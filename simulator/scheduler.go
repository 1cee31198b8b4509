package simulator

import (
	"container/heap"
	"sync"
	"time"
)

// The scheduler is the one place where time drives the fleet: every
// publish, keep-alive check and reconnect of every device is an event in
// one heap, run by one goroutine. There is no goroutine or timer per
// device; an event costs 16 bytes.
type eventKind uint8

const (
	evPublish eventKind = iota
	evPing
	evReconnect
)

type event struct {
	at   int64 // µs since the run started
	node int32
	kind eventKind
}

type eventHeap []event

func (h eventHeap) Len() int           { return len(h) }
func (h eventHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h eventHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)        { *h = append(*h, x.(event)) }
func (h *eventHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

type scheduler struct {
	mu       sync.Mutex
	events   eventHeap
	handling bool          // an event has been taken and is being handled
	wake     chan struct{} // an earlier event was added
	clock    func() int64  // µs since start
}

func newScheduler(clock func() int64) *scheduler {
	return &scheduler{wake: make(chan struct{}, 1), clock: clock}
}

// add schedules an event; safe from any goroutine.
func (s *scheduler) add(ev event) {
	s.mu.Lock()
	heap.Push(&s.events, ev)
	first := s.events[0].node == ev.node && s.events[0].at == ev.at
	s.mu.Unlock()
	if first {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// run hands due events to handle until stop closes. Events are handled in
// time order; a late scheduler hands them late, and the handler uses the
// intended time ev.at, never the time it runs, for what it stamps.
func (s *scheduler) run(stop <-chan struct{}, handle func(event)) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var wait time.Duration = time.Hour
		for {
			s.mu.Lock()
			if len(s.events) == 0 {
				s.mu.Unlock()
				break
			}
			now := s.clock()
			if next := s.events[0].at; next > now {
				s.mu.Unlock()
				wait = time.Duration(next-now) * time.Microsecond
				break
			}
			ev := heap.Pop(&s.events).(event)
			s.handling = true
			s.mu.Unlock()
			handle(ev)
			s.mu.Lock()
			s.handling = false
			s.mu.Unlock()
			select {
			case <-stop:
				return
			default:
			}
		}
		timer.Reset(wait)
		select {
		case <-stop:
			return
		case <-s.wake:
		case <-timer.C:
		}
	}
}

// caughtUp reports whether every event due before t has been handled: a
// late scheduler may still owe publishes that were due before the end.
func (s *scheduler) caughtUp(t int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.handling && (len(s.events) == 0 || s.events[0].at >= t)
}

// len is the number of pending events.
func (s *scheduler) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.events)
}
