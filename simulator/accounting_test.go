package simulator

import "testing"

func feed(s *stream, seqs ...uint32) {
	for _, q := range seqs {
		s.add(q)
	}
}

func TestStreamInOrder(t *testing.T) {
	s := newStream()
	for i := uint32(1); i <= 1000; i++ {
		if dup, re := s.add(i); dup || re {
			t.Fatalf("seq %d: dup %v reordered %v", i, dup, re)
		}
	}
	if s.unique != 1000 || s.pending(1000) != 0 || len(s.window) > 1 {
		t.Errorf("unique %d pending %d window %d", s.unique, s.pending(1000), len(s.window))
	}
	if s.pending(1003) != 3 {
		t.Errorf("pending(1003) = %d, want 3", s.pending(1003))
	}
}

func TestStreamFaults(t *testing.T) {
	s := newStream()
	// 4 lost; 2 duplicated; 6 arrives after 7; 70 after 130 (across words);
	// 130 duplicated.
	feed(s, 1, 2, 2, 3, 5, 7, 6, 8)
	for i := uint32(9); i <= 140; i++ {
		if i != 70 {
			s.add(i)
		}
	}
	feed(s, 70, 130)
	if s.unique != 139 || s.duplicates != 2 || s.reordered != 2 {
		t.Errorf("unique %d duplicates %d reordered %d; want 139, 2, 2", s.unique, s.duplicates, s.reordered)
	}
	if p := s.pending(140); p != 1 {
		t.Errorf("pending %d, want 1 (seq 4)", p)
	}
	if s.seen(4) || !s.seen(70) || !s.seen(1) {
		t.Error("seen() wrong")
	}
}

// A gap that never fills (QoS 0 loss) does not grow memory without bound:
// the window is forced forward and the gap counted as given up.
func TestStreamWindowBounded(t *testing.T) {
	s := newStream()
	s.add(1)
	for i := uint32(3); i < 3*maxWindow; i++ {
		s.add(i)
	}
	if len(s.window) > maxWindow/64 {
		t.Fatalf("window has %d words", len(s.window))
	}
	if s.givenUp != 1 || s.pending(3*maxWindow-1) != 0 {
		t.Errorf("given up %d, pending %d; want 1, 0", s.givenUp, s.pending(3*maxWindow-1))
	}
	s.add(2)
	if s.late != 1 || s.duplicates != 0 {
		t.Errorf("late %d duplicates %d", s.late, s.duplicates)
	}
}

func payload(id uint32, q uint8, seq uint32, t int64, run string) []byte {
	return appendPayload(nil, 1, 0, &header{id: id, q: q, seq: seq, t: t, run: []byte(run)})
}

// The reconciliation of a synthetic run: what publishers sent against what
// an observer saw, per QoS.
func TestReconcile(t *testing.T) {
	a := newAccount("run1", 2)
	// Publisher 1, QoS 1: 5 sent, 3 never arrives, 4 arrives twice.
	for _, seq := range []uint32{1, 2, 4, 4, 5} {
		a.record(payload(1, 1, seq, 100, "run1"), 1, 1100)
	}
	// Publisher 2, QoS 2: 3 sent, 2 abandoned (connection dropped before
	// PUBREC on a clean session) and not received; 3 unacked at the end.
	for _, seq := range []uint32{1} {
		a.record(payload(2, 2, seq, 100, "run1"), 2, 2100)
	}
	// Publisher 3, QoS 0: 4 sent, 2 arrive.
	a.record(payload(3, 0, 1, 0, "run1"), 0, 500)
	a.record(payload(3, 0, 3, 0, "run1"), 0, 500)
	// Foreign traffic: another run, a will, a delivery below its QoS.
	a.record(payload(1, 1, 1, 0, "run0"), 1, 0)
	a.record([]byte("offline"), 1, 0)
	a.record(payload(4, 2, 1, 0, "run1"), 1, 0)
	ledgers := map[uint64]*ledger{
		1<<2 | 1: {sent: 5},
		2<<2 | 2: {sent: 3, abandoned: []uint32{2}, unacked: []uint32{3}},
		3<<2 | 0: {sent: 4},
		4<<2 | 2: {sent: 1},
		5<<2 | 1: {sent: 2}, // a publisher the observer did not subscribe to
	}
	var tl [3]Tally
	a.reconcile(ledgers, func(id uint32) bool { return id != 5 }, &tl)
	if got := tl[1]; got.Expected != 5 || got.Received != 4 || got.Lost != 1 || got.Duplicates != 1 {
		t.Errorf("QoS 1: %+v", got)
	}
	if got := tl[2]; got.Expected != 2 || got.Received != 2 || got.Lost != 0 {
		t.Errorf("QoS 2: %+v", got)
	}
	if got := tl[0]; got.Expected != 4 || got.Received != 2 || got.Lost != 2 {
		t.Errorf("QoS 0: %+v", got)
	}
	if a.foreign != 2 || a.downgraded != 1 {
		t.Errorf("foreign %d downgraded %d", a.foreign, a.downgraded)
	}
	// Latency is from the intended time; duplicates are not recorded.
	if n := a.latency[1].TotalCount(); n != 4 {
		t.Errorf("QoS 1 latency count %d, want 4", n)
	}
	if v := a.latency[1].Max(); v < 999 || v > 1001 {
		t.Errorf("QoS 1 latency %d µs, want 1000", v)
	}
}

// Histograms written to a result decode and merge exactly.
func TestHistogramMerge(t *testing.T) {
	a, b := newHistogram(), newHistogram()
	for i := int64(1); i <= 1000; i++ {
		a.RecordValue(i * 10)
		b.RecordValue(i * 1000)
	}
	la, lb := latencyOf(1, a), latencyOf(1, b)
	da, err1 := DecodeHistogram(la.Histogram)
	db, err2 := DecodeHistogram(lb.Histogram)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	da.Merge(db)
	whole := newHistogram()
	whole.Merge(a)
	whole.Merge(b)
	if !da.Equals(whole) || da.TotalCount() != 2000 {
		t.Error("decoded and merged histograms differ from the merge of the originals")
	}
}
