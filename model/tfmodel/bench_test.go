package tfmodel

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	tf "github.com/galeone/tensorflow/tensorflow/go"
)

// BenchmarkPredict measures raw in-process TensorFlow throughput, per model
// and batch size: the limit for a worker. It reports items/s and ns/item.
// mobilenet_bench runs only if models/mobilenet_bench/1 exists.
func BenchmarkPredict(b *testing.B) {
	small := []int{1, 8, 32, 64, 128, 256}
	for _, tc := range []struct {
		name    string
		samples string // testdata file of real inputs; "" for random ones
		key     string
		batches []int
	}{
		{"digits", "digits_samples.json", "pixels", small},
		{"breast_cancer", "breast_cancer_samples.json", "features", small},
		{"mobilenet_bench", "", "", []int{1, 4, 8, 16, 32}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			dir := repoDir(b, "models", tc.name, "1")
			if _, err := os.Stat(dir); tc.samples == "" && os.IsNotExist(err) {
				b.Skipf("%s not present", dir)
			}
			m := loadModel(b, tc.name)
			var items [][]float32
			if tc.samples != "" {
				for _, s := range loadSamples(b, tc.samples, tc.key) {
					items = append(items, s.input)
				}
			} else {
				items = randomItems(m, 8)
			}
			for _, n := range tc.batches {
				in := make([]float32, 0, n*m.Meta().ItemSize())
				for i := range n {
					in = append(in, items[i%len(items)]...)
				}
				b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
					for b.Loop() {
						if _, err := m.Predict(in, n); err != nil {
							b.Fatal(err)
						}
					}
					sec := b.Elapsed().Seconds()
					b.ReportMetric(float64(b.N*n)/sec, "items/s")
					b.ReportMetric(sec*1e9/float64(b.N*n), "ns/item")
				})
			}
		})
	}
}

// randomItems makes k inputs uniform in the metadata's input range (0..1 if
// it has none).
func randomItems(m *Model, k int) [][]float32 {
	lo, hi := 0.0, 1.0
	if in := m.Meta().Input; in.Min != nil && in.Max != nil {
		lo, hi = *in.Min, *in.Max
	}
	r := rand.New(rand.NewPCG(1, 2))
	items := make([][]float32, k)
	for i := range items {
		items[i] = make([]float32, m.Meta().ItemSize())
		for j := range items[i] {
			items[i][j] = float32(lo + (hi-lo)*r.Float64())
		}
	}
	return items
}

// BenchmarkInputTensor compares ways to build a [256 8 8 1] float32 input
// tensor from a flat slice, and to read a [256 10] output back.
func BenchmarkInputTensor(b *testing.B) {
	const n = 256
	shape := []int64{n, 8, 8, 1}
	flat := make([]float32, n*64)
	for i := range flat {
		flat[i] = float32(i % 17)
	}
	b.Run("ReadTensor", func(b *testing.B) {
		for b.Loop() {
			t, err := float32Tensor(append([]int64(nil), shape...), flat)
			if err != nil {
				b.Fatal(err)
			}
			freeTensor(t)
		}
	})
	b.Run("NewTensor+Reshape", func(b *testing.B) {
		for b.Loop() {
			t, err := tf.NewTensor(flat)
			if err != nil {
				b.Fatal(err)
			}
			if err := t.Reshape(append([]int64(nil), shape...)); err != nil {
				b.Fatal(err)
			}
			freeTensor(t)
		}
	})
	b.Run("NewTensor-nested", func(b *testing.B) {
		for b.Loop() {
			// The conversion a caller would do from a flat slice, then NewTensor.
			nested := make([][][][]float32, n)
			for i := range nested {
				nested[i] = make([][][]float32, 8)
				for y := range nested[i] {
					nested[i][y] = make([][]float32, 8)
					for x := range nested[i][y] {
						nested[i][y][x] = flat[i*64+y*8+x : i*64+y*8+x+1]
					}
				}
			}
			t, err := tf.NewTensor(nested)
			if err != nil {
				b.Fatal(err)
			}
			freeTensor(t)
		}
	})
	out, err := float32Tensor([]int64{n, 10}, flat[:n*10])
	if err != nil {
		b.Fatal(err)
	}
	b.Run("output-copy", func(b *testing.B) {
		for b.Loop() {
			dst := make([]float32, n*10)
			if err := copyFloat32s(dst, out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("output-Value", func(b *testing.B) {
		for b.Loop() {
			v := out.Value().([][]float32)
			dst := make([]float32, 0, n*10)
			for _, row := range v {
				dst = append(dst, row...)
			}
		}
	})
}
