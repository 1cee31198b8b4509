package simulator

import (
	"math"
	"math/rand/v2"
	"time"
)

// rng is a device's random source: a PCG kept by value in the node (16
// bytes), seeded from the run seed and the device index, so that a device's
// readings, jitter and QoS choices repeat from run to run.
type rng struct{ pcg rand.PCG }

func newRNG(seed uint64, device int) rng {
	return rng{pcg: *rand.NewPCG(seed, uint64(device)*0x9E3779B97F4A7C15+1)}
}

// Float64 is uniform in [0, 1).
func (r *rng) Float64() float64 { return float64(r.pcg.Uint64()>>11) / (1 << 53) }

// A value model turns a device's previous value, its random source and the
// time into its next reading. The state is the single float64 the node
// keeps, so a model costs no memory beyond it.

// initialValue is a device's first reading.
func initialValue(m *Model, rng *rng) float64 {
	switch m.Kind {
	case "random_walk":
		return m.Min + rng.Float64()*(m.Max-m.Min)
	case "markov":
		return 0
	case "counter":
		// Meters start at different readings, like real ones.
		return math.Floor(rng.Float64() * 10000)
	}
	return 0
}

// nextValue advances the model. at is the time since the run started and
// device the global index (it spreads sine phases over the fleet).
func nextValue(m *Model, prev float64, rng *rng, at time.Duration, device int) float64 {
	switch m.Kind {
	case "random_walk":
		v := prev + (rng.Float64()*2-1)*m.Step
		// Reflect at the bounds so that values stay inside without piling
		// up at them.
		if v > m.Max {
			v = 2*m.Max - v
		}
		if v < m.Min {
			v = 2*m.Min - v
		}
		return clamp(v, m.Min, m.Max)
	case "sine":
		period := m.Period.D().Seconds()
		// The golden-ratio sequence gives each device its own phase.
		phase := math.Mod(float64(device)*0.6180339887498949, 1) * period
		mid, amp := (m.Max+m.Min)/2, (m.Max-m.Min)/2
		v := mid + amp*math.Sin(2*math.Pi*(at.Seconds()+phase)/period)
		if m.Noise > 0 {
			v += (rng.Float64()*2 - 1) * m.Noise
		}
		return clamp(v, m.Min, m.Max)
	case "markov":
		if prev == 0 {
			if rng.Float64() < m.POn {
				return 1
			}
			return 0
		}
		if rng.Float64() < m.POff {
			return 0
		}
		return 1
	case "counter":
		return prev + m.IncMin + rng.Float64()*(m.IncMax-m.IncMin)
	}
	return prev
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

// round rounds v to the given decimals, as a sensor reports it.
func round(v float64, decimals int) float64 {
	p := math.Pow10(decimals)
	return math.Round(v*p) / p
}
