package system

import (
	"time"

	"batchinfer/worker"
)

// slowed wraps a real model so that each batch also takes a fixed time.
type slowed struct {
	worker.Predictor
	d time.Duration
}

func (p slowed) Predict(in []float32, n int) ([]float32, error) {
	time.Sleep(p.d)
	return p.Predictor.Predict(in, n)
}

// SlowModels makes every batch of the real models take d more (for
// Options.Models): a job then runs long enough to do something to the
// system under it.
func SlowModels(d time.Duration) func([]worker.Predictor) []worker.Predictor {
	return func(ps []worker.Predictor) []worker.Predictor {
		out := make([]worker.Predictor, len(ps))
		for i, p := range ps {
			out[i] = slowed{p, d}
		}
		return out
	}
}
