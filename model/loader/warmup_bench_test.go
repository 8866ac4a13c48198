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
// (then warms it up, or not), times the first 100 predictions of a batch
// size after that, then more (1,000 of one item, 200 of 256), and reports
// the p99 latency of each, their ratio (first100_p99/steady_p99; the target
// with warm-up is ≤ 2), and the slowest of the first 100 (first_max, which
// a p99 of 100 does not show). The worker's warm-up (modelflags'
// batches: 1, 64 and 256 items, model.DefaultWarmupRounds rounds) is what
// runs. Loading itself runs one prediction of one item (the check that the
// model runs). Each iteration is a fresh load; the figures are the
// iterations' medians (a shared machine preempts whole iterations).
func BenchmarkFirstPredictions(b *testing.B) {
	root := modelsDir(b)
	for _, rt := range []loader.Runtime{tf, lite} {
		for _, name := range []string{"digits", "breast_cancer"} {
			for _, batch := range []int{1, 256} {
				for _, rounds := range []int{0, model.DefaultWarmupRounds} {
					b.Run(fmt.Sprintf("%s/%s/batch=%d/warmup=%d", rt.Name, name, batch, rounds), func(b *testing.B) {
						var all []latencies
						for b.Loop() {
							all = append(all, firstAndSteady(b, root, rt, name, batch, rounds))
						}
						med := func(f func(latencies) float64) float64 {
							vs := make([]float64, len(all))
							for i, l := range all {
								vs[i] = f(l)
							}
							slices.Sort(vs)
							return vs[len(vs)/2]
						}
						first, steady := med(func(l latencies) float64 { return l.firstP99 }), med(func(l latencies) float64 { return l.steadyP99 })
						b.ReportMetric(first, "first100_p99_µs")
						b.ReportMetric(med(func(l latencies) float64 { return l.firstMax }), "first_max_µs")
						b.ReportMetric(steady, "steady_p99_µs")
						b.ReportMetric(first/steady, "ratio")
					})
				}
			}
		}
	}
}

type latencies struct{ firstP99, firstMax, steadyP99 float64 }

func firstAndSteady(b *testing.B, root string, rt loader.Runtime, name string, batch, rounds int) latencies {
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
	in := make([]float32, batch*m.Meta().ItemSize())
	for i := range in {
		in[i] = float32(i%7) / 7
	}
	lat := func(k int) []time.Duration {
		ds := make([]time.Duration, k)
		for i := range ds {
			start := time.Now()
			if _, err := m.Predict(in, batch); err != nil {
				b.Fatal(err)
			}
			ds[i] = time.Since(start)
		}
		slices.Sort(ds)
		return ds
	}
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	p99 := func(ds []time.Duration) float64 { return us(ds[(len(ds)*99)/100-1]) }
	steadyN := 1000
	if batch > 1 {
		steadyN = 200
	}
	first, steady := lat(100), lat(steadyN)
	return latencies{p99(first), us(first[len(first)-1]), p99(steady)}
}
