package model

import (
	"fmt"
	"math/rand/v2"
)

// Predictor is a loaded model version: what a runtime's model offers.
type Predictor interface {
	Meta() *Metadata
	// Predict runs n items (n*ItemSize values) and returns n*OutputSize values.
	Predict(inputs []float32, n int) ([]float32, error)
}

// Warmup says how a loaded model version is warmed up before it serves:
// Rounds times, a batch of each size in Batches, of synthetic inputs of its
// signature. The first predictions of a model pay for what a runtime does
// once (TensorFlow's graph optimization and memory pools, LiteRT's tensor
// planning and XNNPACK's weight packing for a shape), so without it the
// first requests after a start are the slowest.
type Warmup struct {
	Rounds  int
	Batches []int
}

// DefaultWarmupRounds is how many rounds of warm-up batches run unless
// configured otherwise.
const DefaultWarmupRounds = 3

// For returns the warm-up for meta: Batches capped by the model's max_batch,
// without repeats.
func (w Warmup) For(meta *Metadata) Warmup {
	out := Warmup{Rounds: w.Rounds}
	seen := map[int]bool{}
	for _, n := range w.Batches {
		if meta.MaxBatch > 0 {
			n = min(n, meta.MaxBatch)
		}
		if n > 0 && !seen[n] {
			seen[n] = true
			out.Batches = append(out.Batches, n)
		}
	}
	return out
}

// Run warms p up: Rounds times a batch of each size in Batches, of inputs
// drawn uniformly from the input's declared range (input.min..input.max;
// 0..1 where the metadata declares none). It returns the first error.
func (w Warmup) Run(p Predictor) error {
	meta := p.Meta()
	w = w.For(meta)
	lo, hi := 0.0, 1.0
	if meta.Input.Min != nil {
		lo = *meta.Input.Min
	}
	if meta.Input.Max != nil {
		hi = *meta.Input.Max
	}
	if hi < lo {
		return fmt.Errorf("warm up %s: input range [%g, %g] is empty", meta.ID(), lo, hi)
	}
	largest := 0
	for _, n := range w.Batches {
		largest = max(largest, n)
	}
	r := rand.New(rand.NewPCG(1, 2))
	in := make([]float32, largest*meta.ItemSize())
	for i := range in {
		in[i] = float32(lo + (hi-lo)*r.Float64())
	}
	for range w.Rounds {
		for _, n := range w.Batches {
			if _, err := p.Predict(in[:n*meta.ItemSize()], n); err != nil {
				return fmt.Errorf("warm up %s with a batch of %d: %w", meta.ID(), n, err)
			}
		}
	}
	return nil
}
