package worker

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"batchinfer/internal/benchcpu"
	"batchinfer/internal/wire"
	"batchinfer/model"
)

// BenchmarkChunkPath measures the worker's own CPU per item of a digits
// chunk (64 float32 in, 10 probabilities out), everything but TensorFlow
// and NATS: decode the chunk, assemble the batch, build each result (top-k,
// probabilities) and encode the chunk result (compact, as stored).
func BenchmarkChunkPath(b *testing.B) {
	meta := &model.Metadata{
		Name: "digits", Version: "1", Labels: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, TopK: 3,
		Input: model.TensorSpec{Shape: []int64{-1, 8, 8, 1}}, Output: model.TensorSpec{Shape: []int64{-1, 10}},
	}
	const n = 256
	r := rand.New(rand.NewPCG(1, 2))
	items := make([]wire.Item, n)
	for i := range items {
		buf := make([]byte, 4*64)
		for j := 0; j < 64; j++ {
			binary.LittleEndian.PutUint32(buf[4*j:], math.Float32bits(float32(r.IntN(17))))
		}
		items[i] = wire.Item{Kind: wire.ItemTensor, Data: buf}
	}
	chunk := wire.EncodeChunk(nil, items)
	out := make([]float32, n*10)
	for i := range out {
		out[i] = r.Float32()
	}
	var finished *task
	bt := newBatcher(batchDeps{
		meta: meta, maxBatch: n, maxSync: 64,
		predict: func([]float32, int) ([]float32, error) { return out, nil },
		finish:  func(t *task) { finished = t },
		observe: func(int, time.Duration, error) {},
	}, nil, nil)
	b.ReportAllocs()
	cpu := benchcpu.Start()
	for b.Loop() {
		its, err := wire.DecodeChunk(chunk)
		if err != nil {
			b.Fatal(err)
		}
		t := &task{priority: wire.PriorityBatch, job: "j", items: its, results: make([]wire.ItemResult, n), remaining: n}
		bt.q.push(t)
		bt.infer(bt.assemble())
		buf := encodeResult(finished.chunkResult("w"), false)
		if len(*buf) == 0 {
			b.Fatal("empty result")
		}
		releaseResult(buf)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/item")
	cpu.Report(b, b.N*n, "item")
}
