package worker

import (
	"encoding/binary"
	"math"
	"testing"

	"batchinfer/model"
)

func TestItemResultTopK(t *testing.T) {
	meta := &model.Metadata{Labels: []string{"a", "b", "c", "d"}, TopK: 2}
	for _, tc := range []struct {
		name      string
		probs     []float32
		topK      int
		wantLabel string
		wantTop   []int
	}{
		{"clear winner", []float32{0.1, 0.7, 0.15, 0.05}, 2, "b", []int{1, 2}},
		{"ties keep class order", []float32{0.25, 0.25, 0.25, 0.25}, 3, "a", []int{0, 1, 2}},
		{"top_k 0 means up to 5", []float32{0.4, 0.3, 0.2, 0.1}, 0, "a", []int{0, 1, 2, 3}},
		{"top_k above classes", []float32{0.1, 0.2, 0.3, 0.4}, 9, "d", []int{3, 2, 1, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			meta.TopK = tc.topK
			r := itemResult(meta, 7, tc.probs)
			if r.Index != 7 || r.Label != tc.wantLabel || r.Class == nil || r.Score != tc.probs[*r.Class] {
				t.Fatalf("result %+v", r)
			}
			if len(r.Top) != len(tc.wantTop) {
				t.Fatalf("top %+v", r.Top)
			}
			for i, c := range tc.wantTop {
				if r.Top[i].Class != c || r.Top[i].Label != meta.Labels[c] {
					t.Fatalf("top[%d] = %+v, want class %d", i, r.Top[i], c)
				}
			}
			if len(r.Probabilities) != 4 {
				t.Fatalf("probabilities %v", r.Probabilities)
			}
		})
	}
	many := make([]float32, 1000)
	many[999] = 1
	if r := itemResult(&model.Metadata{TopK: 5}, 0, many); r.Probabilities != nil || len(r.Top) != 5 || *r.Class != 999 {
		t.Fatalf("1000 classes: %+v", r.Top)
	}
}

func TestDecodeTensor(t *testing.T) {
	b := make([]byte, 8)
	binary.LittleEndian.PutUint32(b, math.Float32bits(1.5))
	binary.LittleEndian.PutUint32(b[4:], math.Float32bits(-2))
	dst := make([]float32, 2)
	if !decodeTensor(dst, b) || dst[0] != 1.5 || dst[1] != -2 {
		t.Fatalf("decoded %v", dst)
	}
	if decodeTensor(make([]float32, 3), b) {
		t.Fatal("accepted a short tensor")
	}
}
