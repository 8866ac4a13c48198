package wire

import (
	"encoding/json"
	"math"
	"math/rand"
	"testing"

	"batchinfer/internal/benchcpu"
)

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	floats := []float32{0, 1, 0.5, 1e-7, 3.8355765e-07, 1e-45, 0.99999917, 123456789, 2e21, float32(math.SmallestNonzeroFloat32)}
	for n := 0; n < 200; n++ {
		c := ChunkResult{Job: "j0123", Chunk: r.Intn(100), Start: r.Intn(1000), Done: r.Intn(5), Failed: r.Intn(5), Skipped: r.Intn(2) * r.Intn(5)}
		if n%3 == 0 {
			c.Worker = "w-1"
		}
		if n%4 == 1 {
			c.Redrive = uint64(r.Int63())
		}
		for i := 0; i < r.Intn(5); i++ {
			it := ItemResult{Index: i, Line: r.Intn(2) * r.Intn(1000), ID: []string{"", "row-7", `"q" é`}[r.Intn(3)]}
			switch r.Intn(3) {
			case 0:
				it.Error = []string{"job cancelled", `image: "bad" <x> & ü`}[r.Intn(2)]
				it.Skipped = r.Intn(2) == 0
			default:
				cl := r.Intn(10)
				it.Class, it.Label = &cl, []string{"7", "benign", "naïve", ""}[r.Intn(4)]
				it.Score = floats[r.Intn(len(floats))]
				for k := 0; k < r.Intn(4); k++ {
					it.Top = append(it.Top, Class{Label: "x", Class: k, Score: r.Float32()})
				}
				for k := 0; k < r.Intn(12); k++ {
					f := floats[r.Intn(len(floats))]
					if r.Intn(2) == 0 {
						f = r.Float32() * float32(math.Pow(10, float64(-r.Intn(12))))
					}
					it.Probabilities = append(it.Probabilities, f)
				}
			}
			c.Items = append(c.Items, it)
		}
		want, err := json.Marshal(&c)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.AppendJSON(nil); string(got) != string(want) {
			t.Fatalf("case %d:\n got %s\nwant %s", n, got, want)
		}
	}
}

// TestAppendJSONRepeatedValues checks the bytes of items as workers make
// them, whose score and top scores are among their probabilities (written
// once, copied after): repeated values, zeros of both signs, more distinct
// values than are remembered.
func TestAppendJSONRepeatedValues(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	values := []float32{0, float32(math.Copysign(0, -1)), 1, 0.5, 1e-7, 3.8355765e-07, 0.99999917, 2e21}
	for n := 0; n < 2000; n++ {
		c := ChunkResult{Job: "j", Chunk: n}
		for i := 0; i < 1+r.Intn(4); i++ {
			probs := make([]float32, 1+r.Intn(16))
			for k := range probs {
				if r.Intn(2) == 0 {
					probs[k] = values[r.Intn(len(values))]
				} else {
					probs[k] = r.Float32() * float32(math.Pow(10, float64(-r.Intn(9))))
				}
			}
			best := r.Intn(len(probs))
			it := ItemResult{Index: i, Label: "x", Class: &best, Score: probs[best], Probabilities: probs}
			for k := 0; k < r.Intn(len(probs)+1); k++ {
				cl := r.Intn(len(probs))
				it.Top = append(it.Top, Class{Label: "y", Class: cl, Score: probs[cl]})
			}
			c.Items = append(c.Items, it)
		}
		want, err := json.Marshal(&c)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.AppendJSON([]byte("prefix")); string(got[6:]) != string(want) {
			t.Fatalf("case %d:\n got %s\nwant %s", n, got[6:], want)
		}
	}
}

func BenchmarkChunkResultJSON(b *testing.B) {
	cl := 3
	c := ChunkResult{Job: "j0123456789", Chunk: 3, Items: make([]ItemResult, 256)}
	for i := range c.Items {
		c.Items[i] = ItemResult{Index: i, Label: "3", Class: &cl, Score: 0.99, Top: []Class{{"3", 3, 0.99}, {"5", 5, 0.001}},
			Probabilities: []float32{1e-7, 0.2, 0.3, 0.99, 0.01, 0.001, 1e-9, 0.5, 0.25, 0.125}}
	}
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		cpu := benchcpu.Start()
		for b.Loop() {
			_, _ = json.Marshal(&c)
		}
		cpu.Report(b, b.N*len(c.Items), "item")
	})
	d := digitsResult(256) // as the digits model's worker writes them
	b.Run("AppendJSON-digits", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		cpu := benchcpu.Start()
		for b.Loop() {
			buf = d.AppendJSON(buf[:0])
		}
		cpu.Report(b, b.N*len(d.Items), "item")
	})
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		cpu := benchcpu.Start()
		for b.Loop() {
			buf = c.AppendJSON(buf[:0])
		}
		cpu.Report(b, b.N*len(c.Items), "item")
	})
}
