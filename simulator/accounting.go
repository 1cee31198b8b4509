package simulator

import (
	"math/bits"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// stream tracks which sequence numbers of one publisher at one QoS an
// observer has seen. Every number below base has been seen; bit i of the
// window says whether base+i has. In-order delivery keeps the window one
// word long; only gaps (losses, reordering) make it grow.
type stream struct {
	base    uint32 // sequence numbers start at 1
	window  []uint64
	maxSeen uint32

	unique, duplicates, reordered uint64
	// late counts arrivals below a base that was forced forward because
	// the window reached maxWindow: they cannot be told from duplicates.
	late uint64
	// forcedBelow: numbers below it may have been skipped unseen; givenUp
	// counts them, as lost.
	forcedBelow uint32
	givenUp     uint64
}

// maxWindow bounds a stream's memory (8 KiB) when a gap never fills.
const maxWindow = 1 << 16

func newStream() *stream { return &stream{base: 1} }

// add records an arrival and says whether it was a duplicate or arrived
// after a later number (reordered).
func (s *stream) add(seq uint32) (dup, reordered bool) {
	if seq < s.base {
		if seq < s.forcedBelow {
			s.late++
			return false, true
		}
		s.duplicates++
		return true, false
	}
	off := seq - s.base
	if off >= maxWindow {
		s.force(seq)
		off = seq - s.base
	}
	w, b := off/64, off%64
	for uint32(len(s.window)) <= w {
		s.window = append(s.window, 0)
	}
	if s.window[w]&(1<<b) != 0 {
		s.duplicates++
		return true, false
	}
	s.window[w] |= 1 << b
	s.unique++
	if seq < s.maxSeen {
		s.reordered++
		reordered = true
	} else {
		s.maxSeen = seq
	}
	// Slide past full words.
	n := 0
	for n < len(s.window) && s.window[n] == ^uint64(0) {
		n++
	}
	if n > 0 {
		s.base += uint32(64 * n)
		s.window = s.window[:copy(s.window, s.window[n:])]
	}
	return false, reordered
}

// force moves the window so that seq fits, giving up on older gaps.
func (s *stream) force(seq uint32) {
	words := (seq-s.base)/64 - maxWindow/64 + 1
	drop := min(int(words), len(s.window))
	for _, w := range s.window[:drop] {
		s.givenUp += uint64(64 - bits.OnesCount64(w))
	}
	s.givenUp += 64 * (uint64(words) - uint64(drop))
	s.window = s.window[:copy(s.window, s.window[drop:])]
	s.base += 64 * words
	s.forcedBelow = s.base
}

// seen reports whether seq has arrived. Below a forced base the answer is
// unknown and taken as yes (such gaps are already counted in givenUp).
func (s *stream) seen(seq uint32) bool {
	if seq < s.base {
		return true
	}
	off := seq - s.base
	w := off / 64
	return int(w) < len(s.window) && s.window[w]&(1<<(off%64)) != 0
}

// pending is the number of numbers in [1, upTo] not seen (exact while the
// window was never forced).
func (s *stream) pending(upTo uint32) uint64 {
	if upTo == 0 {
		return 0
	}
	if upTo < s.base {
		return 0
	}
	missing := uint64(0)
	for i, w := range s.window {
		lo := s.base + uint32(64*i)
		if lo > upTo {
			break
		}
		bitsIn := min(uint64(upTo-lo+1), 64)
		mask := ^uint64(0)
		if bitsIn < 64 {
			mask = 1<<bitsIn - 1
		}
		missing += bitsIn - uint64(bits.OnesCount64(w&mask))
	}
	covered := uint64(s.base) + uint64(64*len(s.window)) - 1
	if uint64(upTo) > covered {
		missing += uint64(upTo) - covered
	}
	return missing
}

// Latency histograms: microseconds from 1 µs to one hour at 3 significant
// digits. Every histogram of every shard uses these bounds, so that they
// merge exactly.
const (
	histLowest  = 1
	histHighest = 3_600_000_000
	histSigFigs = 3
)

func newHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histLowest, histHighest, histSigFigs)
}

// account is what one observer saw.
type account struct {
	run     []byte
	streams map[uint64]*stream // key: publisher id << 2 | published QoS
	latency [3]*hdrhistogram.Histogram
	// arrivals counts every message of this run by published QoS, with
	// duplicates.
	arrivals [3]uint64
	// unique counts distinct messages of this run by published QoS.
	unique [3]uint64
	// duplicates counts copies of messages already seen, by published QoS
	// (live; the final tally comes from the streams).
	duplicates [3]uint64
	// foreign counts messages that are not ours: other payloads (last
	// wills), other runs, retained leftovers.
	foreign uint64
	// downgraded counts messages delivered at a lower QoS than published
	// although the subscription allowed the published one.
	downgraded uint64
	subQoS     uint8
	// window is the interval histogram for live progress (all QoS).
	window *hdrhistogram.Histogram
}

func newAccount(run string, subQoS uint8) *account {
	a := &account{run: []byte(run), streams: map[uint64]*stream{}, subQoS: subQoS, window: newHistogram()}
	for i := range a.latency {
		a.latency[i] = newHistogram()
	}
	return a
}

// record accounts for one message. nowUS is the arrival time in µs since
// the run started.
func (a *account) record(payload []byte, delivered uint8, nowUS int64) {
	h, _, ok := parsePayload(payload)
	if !ok || string(h.run) != string(a.run) {
		a.foreign++
		return
	}
	if delivered < min(h.q, a.subQoS) {
		a.downgraded++
	}
	a.arrivals[h.q]++
	key := uint64(h.id)<<2 | uint64(h.q)
	s := a.streams[key]
	if s == nil {
		s = newStream()
		a.streams[key] = s
	}
	if dup, _ := s.add(h.seq); dup {
		a.duplicates[h.q]++
		// A duplicate's latency says nothing about delivery.
		return
	}
	a.unique[h.q]++
	lat := max(nowUS-h.t, histLowest)
	lat = min(lat, histHighest)
	a.latency[h.q].RecordValue(lat)
	a.window.RecordValue(lat)
}

// ledger is what one publisher stream put on the wire: sequence numbers 1
// to sent, minus the abandoned ones (QoS 1/2 messages whose connection
// dropped before the broker acknowledged them, with a clean session: the
// broker owes nothing for them), and unacked (QoS 1/2 still unacknowledged
// when the run ended).
type ledger struct {
	sent      uint32
	abandoned []uint32
	unacked   []uint32
}

// Tally is the accounting of one QoS level.
type Tally struct {
	QoS int `json:"qos"`
	// Sent: messages written to the broker.
	Sent uint64 `json:"sent"`
	// Expected: sent messages that observers must receive (for QoS 1/2
	// those the broker acknowledged; summed over observers).
	Expected uint64 `json:"expected"`
	// Received: distinct expected-or-not messages observers got.
	Received uint64 `json:"received"`
	// Lost: expected and never received. For QoS 0 this is allowed loss;
	// for QoS 1/2 it is a broken guarantee.
	Lost uint64 `json:"lost"`
	// Duplicates: copies of a message already received (a violation at
	// QoS 2; allowed at QoS 1 only after a reconnect).
	Duplicates uint64 `json:"duplicates"`
	// Reordered: messages that arrived after a later one of the same
	// publisher and QoS (MQTT orders them, 4.6).
	Reordered uint64 `json:"reordered"`
	// Abandoned: QoS 1/2 messages unacknowledged when their connection
	// dropped on a clean session; Unacked: still unacknowledged at the end.
	Abandoned uint64 `json:"abandoned,omitempty"`
	Unacked   uint64 `json:"unacked,omitempty"`
	// Late: arrivals too far behind to tell from duplicates (see maxWindow).
	Late uint64 `json:"late,omitempty"`
}

// reconcile compares what publishers sent with what one observer saw.
// interested says whether the observer subscribed to a publisher's topic.
func (a *account) reconcile(ledgers map[uint64]*ledger, interested func(id uint32) bool, into *[3]Tally) {
	for key, l := range ledgers {
		id, q := uint32(key>>2), key&3
		if !interested(id) {
			continue
		}
		t := &into[q]
		s := a.streams[key]
		if s == nil {
			s = newStream()
		}
		excluded := uint64(0)
		for _, list := range [][]uint32{l.abandoned, l.unacked} {
			for _, seq := range list {
				if !s.seen(seq) && seq <= l.sent {
					excluded++
				}
			}
		}
		t.Expected += uint64(l.sent) - uint64(len(l.abandoned)) - uint64(len(l.unacked))
		t.Lost += s.pending(l.sent) + s.givenUp - excluded
	}
	for key, s := range a.streams {
		t := &into[key&3]
		t.Received += s.unique
		t.Duplicates += s.duplicates
		t.Reordered += s.reordered
		t.Late += s.late
	}
}
