package model

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// recorder is a Predictor that records the batches it is given.
type recorder struct {
	meta    *Metadata
	batches []int
	lo, hi  float32
	fail    error
}

func (r *recorder) Meta() *Metadata { return r.meta }

func (r *recorder) Predict(in []float32, n int) ([]float32, error) {
	if len(in) != n*r.meta.ItemSize() {
		return nil, errors.New("wrong input size")
	}
	r.batches = append(r.batches, n)
	for _, v := range in {
		r.lo, r.hi = min(r.lo, v), max(r.hi, v)
	}
	return make([]float32, n*r.meta.OutputSize()), r.fail
}

func TestWarmup(t *testing.T) {
	lo, hi := 2.0, 16.0
	meta := &Metadata{Name: "m", Version: "1", Input: TensorSpec{Shape: []int64{-1, 8}, Min: &lo, Max: &hi}, Output: TensorSpec{Shape: []int64{-1, 2}}}
	for _, tc := range []struct {
		name     string
		maxBatch int
		w        Warmup
		want     []int
	}{
		{"rounds of each size", 0, Warmup{Rounds: 2, Batches: []int{1, 64, 256}}, []int{1, 64, 256, 1, 64, 256}},
		{"capped by max_batch, no repeats", 32, Warmup{Rounds: 1, Batches: []int{1, 64, 256}}, []int{1, 32}},
		{"off", 0, Warmup{Rounds: 0, Batches: []int{1, 64}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := *meta
			m.MaxBatch = tc.maxBatch
			r := &recorder{meta: &m, lo: 1e9, hi: -1e9}
			if err := tc.w.Run(r); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r.batches, tc.want) {
				t.Fatalf("batches %v, want %v", r.batches, tc.want)
			}
			if len(tc.want) > 0 && (r.lo < 2 || r.hi > 16 || r.hi-r.lo < 10) {
				t.Fatalf("inputs in [%g, %g], want spread over the declared [2, 16]", r.lo, r.hi)
			}
		})
	}
	r := &recorder{meta: meta, fail: errors.New("boom")}
	if err := (Warmup{Rounds: 1, Batches: []int{4}}).Run(r); err == nil || !strings.Contains(err.Error(), "warm up m:1 with a batch of 4: boom") {
		t.Fatalf("failing model: %v", err)
	}
}
