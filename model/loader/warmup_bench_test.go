package loader_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"batchinfer/model"
	"batchinfer/model/loader"
)

// BenchmarkFirstPredictions measures what warm-up is for: it loads a model
// (then warms it up, or not), times the first 100 predictions of one item
// after that, then 1,000 more, and reports the p99 latency of each and
// their ratio (first100_p99/steady_p99; the target with warm-up is ≤ 2).
// The worker's warm-up (modelflags.WarmupBatches: 1, 64 and 256 items,
// model.DefaultWarmupRounds rounds) is what runs. Each iteration is a fresh
// load; the figures are the iterations' means.
func BenchmarkFirstPredictions(b *testing.B) {
	root := modelsDir(b)
	for _, rt := range []loader.Runtime{tf, lite} {
		for _, name := range []string{"digits", "breast_cancer"} {
			for _, rounds := range []int{0, model.DefaultWarmupRounds} {
				b.Run(fmt.Sprintf("%s/%s/warmup=%d", rt.Name, name, rounds), func(b *testing.B) {
					var first, steady float64
					for b.Loop() {
						f, s := firstAndSteady(b, root, rt, name, rounds)
						first, steady = first+f, steady+s
					}
					n := float64(b.N)
					b.ReportMetric(first/n, "first100_p99_µs")
					b.ReportMetric(steady/n, "steady_p99_µs")
					b.ReportMetric(first/steady, "ratio")
				})
			}
		}
	}
}

func firstAndSteady(b *testing.B, root string, rt loader.Runtime, name string, rounds int) (first, steady float64) {
	b.StopTimer()
	defer b.StartTimer()
	reg, err := loader.LoadDir(root, []loader.Runtime{rt}, loader.Options{
		Only:   []string{name},
		Warmup: model.Warmup{Rounds: rounds, Batches: []int{1, 64, 256}},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer reg.Close()
	m, _ := reg.Get(name, "")
	in := make([]float32, m.Meta().ItemSize())
	for i := range in {
		in[i] = float32(i%7) / 7
	}
	lat := func(k int) float64 {
		ds := make([]time.Duration, k)
		for i := range ds {
			start := time.Now()
			if _, err := m.Predict(in, 1); err != nil {
				b.Fatal(err)
			}
			ds[i] = time.Since(start)
		}
		slices.Sort(ds)
		return float64(ds[(len(ds)*99)/100-1].Nanoseconds()) / 1e3
	}
	return lat(100), lat(1000)
}
