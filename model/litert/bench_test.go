package litert_test

import (
	"fmt"
	"testing"
)

// BenchmarkPredict measures in-process LiteRT per model and batch size, at
// a fixed size (the input keeps its shape) and alternating between two
// sizes (every call resizes the input: what the worker's greedy batches of
// changing sizes cost). It reports items/s and ns/item.
func BenchmarkPredict(b *testing.B) {
	for _, name := range []string{"digits", "breast_cancer"} {
		m := load(b, name)
		size := m.Meta().ItemSize()
		for _, tc := range []struct {
			label string
			sizes []int
		}{
			{"batch=1", []int{1}}, {"batch=1/2", []int{1, 2}},
			{"batch=64", []int{64}}, {"batch=63/64", []int{63, 64}},
			{"batch=256", []int{256}}, {"batch=255/256", []int{255, 256}},
		} {
			b.Run(fmt.Sprintf("%s/%s", name, tc.label), func(b *testing.B) {
				in := make([]float32, 256*size)
				for i := range in {
					in[i] = float32(i%17) / 2
				}
				items := 0
				for i := 0; b.Loop(); i++ {
					n := tc.sizes[i%len(tc.sizes)]
					if _, err := m.Predict(in[:n*size], n); err != nil {
						b.Fatal(err)
					}
					items += n
				}
				sec := b.Elapsed().Seconds()
				b.ReportMetric(float64(items)/sec, "items/s")
				b.ReportMetric(sec*1e9/float64(items), "ns/item")
			})
		}
	}
}
