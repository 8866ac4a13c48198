package output

import (
	"testing"

	"batchinfer/internal/benchcpu"
	"batchinfer/internal/wire"
)

// digitsChunk is a chunk of 256 items as the digits model's worker stores
// it: label, class, score, top 5 and ten probabilities, line.
func digitsChunk() []byte {
	cr := wire.ChunkResult{Job: "j", Chunk: 3, Start: 768}
	for i := 0; i < 256; i++ {
		c := i % 10
		probs := make([]float32, 10)
		for k := range probs {
			probs[k] = 0.0012345 * float32(k+1)
		}
		probs[c] = 0.93456789
		it := wire.ItemResult{Index: 768 + i, Label: "7", Class: &c, Score: probs[c], Probabilities: probs, Line: 769 + i}
		for k := 0; k < 5; k++ {
			it.Top = append(it.Top, wire.Class{Label: "7", Class: k, Score: probs[k]})
		}
		cr.Items = append(cr.Items, it)
	}
	return cr.AppendJSON(nil)
}

func benchRender(b *testing.B, f File, cols []string) {
	for _, form := range []string{"json", "compact"} {
		b.Run(form, func(b *testing.B) { benchRenderForm(b, f, cols, form == "compact") })
	}
}

func benchRenderForm(b *testing.B, f File, cols []string, compact bool) {
	data := digitsChunk()
	if compact {
		cr, err := wire.DecodeResult(data)
		if err != nil {
			b.Fatal(err)
		}
		data = cr.AppendCompact(nil)
	}
	r := NewRenderer(f, cols)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu := benchcpu.Start()
	for b.Loop() {
		if _, err := r.Chunk(data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/256, "ns/item")
	cpu.Report(b, b.N*256, "item")
}

func BenchmarkRenderOutputNDJSON(b *testing.B) { benchRender(b, File{KindOutput, FormatNDJSON}, nil) }
func BenchmarkRenderOutputCSV(b *testing.B) {
	benchRender(b, File{KindOutput, FormatCSV}, Columns([]string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, 10, 32))
}
func BenchmarkRenderErrorsNDJSON(b *testing.B) { benchRender(b, File{KindErrors, FormatNDJSON}, nil) }
