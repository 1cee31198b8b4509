package simulator

import (
	"testing"
	"time"
)

func TestModelsStayBounded(t *testing.T) {
	two := 2
	models := []Model{
		{Kind: "random_walk", Min: 30, Max: 70, Step: 5, Decimals: &two},
		{Kind: "sine", Min: 17, Max: 24, Period: Duration(time.Hour), Noise: 3, Decimals: &two},
	}
	for _, m := range models {
		for dev := 0; dev < 20; dev++ {
			r := newRNG(7, dev)
			v := initialValue(&m, &r)
			for i := 0; i < 5000; i++ {
				v = nextValue(&m, v, &r, time.Duration(i)*time.Minute, dev)
				if v < m.Min || v > m.Max {
					t.Fatalf("%s device %d step %d: %g outside [%g, %g]", m.Kind, dev, i, v, m.Min, m.Max)
				}
			}
		}
	}
}

func TestMarkovAndCounter(t *testing.T) {
	r := newRNG(1, 1)
	m := Model{Kind: "markov", POn: 0.3, POff: 0.3}
	ons := 0
	v := 0.0
	for i := 0; i < 1000; i++ {
		v = nextValue(&m, v, &r, 0, 1)
		if v != 0 && v != 1 {
			t.Fatalf("markov value %g", v)
		}
		ons += int(v)
	}
	if ons == 0 || ons == 1000 {
		t.Errorf("markov never switched (%d on of 1000)", ons)
	}
	c := Model{Kind: "counter", IncMin: 0.5, IncMax: 2}
	v = initialValue(&c, &r)
	for i := 0; i < 1000; i++ {
		next := nextValue(&c, v, &r, 0, 1)
		if d := next - v; d < 0.5 || d > 2 {
			t.Fatalf("counter step %g outside [0.5, 2]", d)
		}
		v = next
	}
}

func TestSameSeedSameValues(t *testing.T) {
	m := Model{Kind: "random_walk", Min: 0, Max: 100, Step: 3}
	seq := func(seed uint64, dev int) []float64 {
		r := newRNG(seed, dev)
		v := initialValue(&m, &r)
		out := []float64{v}
		for i := 0; i < 50; i++ {
			v = nextValue(&m, v, &r, 0, dev)
			out = append(out, v)
		}
		return out
	}
	a, b, other, otherDev := seq(5, 3), seq(5, 3), seq(6, 3), seq(5, 4)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed differs at %d", i)
		}
	}
	if a[10] == other[10] && a[20] == other[20] {
		t.Error("another seed gives the same values")
	}
	if a[10] == otherDev[10] && a[20] == otherDev[20] {
		t.Error("another device gives the same values")
	}
}
