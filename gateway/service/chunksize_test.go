package service

import (
	"testing"

	"batchinfer/model"
)

// A job's items per chunk: the model's own when its metadata sets one, the
// gateway's default otherwise, and never more than a chunk of
// MaxChunkBytes holds (each item's float32 tensor and 16 bytes).
func TestChunkSize(t *testing.T) {
	s := &Service{cfg: Config{DefaultChunkSize: 2048, MaxChunkBytes: 768 << 10}}
	meta := func(chunk int, values int64) *model.Metadata {
		return &model.Metadata{ChunkSize: chunk, Input: model.TensorSpec{Shape: []int64{-1, values}}}
	}
	for _, c := range []struct {
		name string
		meta *model.Metadata
		want int
	}{
		{"digits, default", meta(0, 64), 2048},
		{"the model's own", meta(256, 64), 256},
		{"bounded by the chunk bytes", meta(0, 1024), 768 << 10 / (4*1024 + 16)},
		{"an image larger than a chunk", meta(0, 224*224*3), 1},
	} {
		if got := s.chunkSize(c.meta); got != c.want {
			t.Errorf("%s: %d items per chunk, want %d", c.name, got, c.want)
		}
	}
}
