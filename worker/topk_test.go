package worker

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"batchinfer/internal/wire"
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
			r := itemResult(meta, 7, tc.probs, nil)
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
	if r := itemResult(&model.Metadata{TopK: 5}, 0, many, newResultRoom(1)); r.Probabilities != nil || len(r.Top) != 5 || *r.Class != 999 {
		t.Fatalf("1000 classes: %+v", r.Top)
	}
}

// An item reaches the model with its float32 values, whether stored as
// float32s or one byte a value.
func TestDecodeItemTensors(t *testing.T) {
	b := make([]byte, 8)
	binary.LittleEndian.PutUint32(b, math.Float32bits(1.5))
	binary.LittleEndian.PutUint32(b[4:], math.Float32bits(-2))
	dst := make([]float32, 2)
	if err := decodeItem(nil, wire.Item{Kind: wire.ItemTensor, Data: b}, dst); err != nil || dst[0] != 1.5 || dst[1] != -2 {
		t.Fatalf("decoded %v %v", dst, err)
	}
	if err := decodeItem(nil, wire.Item{Kind: wire.ItemTensor, Data: b}, make([]float32, 3)); err == nil {
		t.Fatal("accepted a short tensor")
	}
	if err := decodeItem(nil, wire.Item{Kind: wire.ItemTensorU8, Data: []byte{0, 255}}, dst); err != nil || dst[0] != 0 || dst[1] != 255 {
		t.Fatalf("decoded %v %v", dst, err)
	}
	if err := decodeItem(nil, wire.Item{Kind: wire.ItemTensorU8, Data: []byte{1, 2, 3}}, dst); err == nil || !strings.Contains(err.Error(), "3 values, want 2") {
		t.Fatalf("a tensor of bytes of another size: %v", err)
	}
}

// TestSelectTopIsTheStableSort checks that top-k by selection gives what a
// stable sort by descending score gives (the order results always had), on
// rows with many ties, zeros of both signs and NaNs, for every k, and that
// results carved from one room keep their own parts.
func TestSelectTopIsTheStableSort(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	values := []float32{0, float32(math.Copysign(0, -1)), 0.25, 0.5, 1, 1e-7, float32(math.NaN()), float32(math.Inf(-1))}
	meta := &model.Metadata{Labels: []string{"a", "b", "c"}}
	room := newResultRoom(4)
	var kept []wire.ItemResult
	var rows [][]float32
	for n := range 20000 {
		probs := make([]float32, 1+r.IntN(12))
		for i := range probs {
			if r.IntN(3) == 0 {
				probs[i] = values[r.IntN(len(values))]
			} else {
				probs[i] = float32(r.IntN(4)) / 4
			}
		}
		if n%2 == 0 {
			for i := range probs {
				if probs[i] != probs[i] {
					probs[i] = 0.75
				}
			}
		}
		meta.TopK = r.IntN(len(probs) + 3)
		got := itemResult(meta, n, probs, room)
		want := make([]wire.Class, len(got.Top))
		sortTop(probs, want)
		for i := range want {
			want[i].Label = label(meta, want[i].Class)
			if got.Top[i].Class != want[i].Class || got.Top[i].Label != want[i].Label ||
				math.Float32bits(got.Top[i].Score) != math.Float32bits(want[i].Score) {
				t.Fatalf("probs %v k %d: top %v, the sort gives %v", probs, meta.TopK, got.Top, want)
			}
		}
		if *got.Class != want[0].Class || got.Label != want[0].Label {
			t.Fatalf("probs %v: result %+v", probs, got)
		}
		kept, rows = append(kept, got), append(rows, probs)
	}
	for i, res := range kept {
		if len(res.Probabilities) != len(rows[i]) || cap(res.Probabilities) != len(res.Probabilities) || cap(res.Top) != len(res.Top) {
			t.Fatalf("result %d: parts %d/%d, %d/%d", i, len(res.Probabilities), cap(res.Probabilities), len(res.Top), cap(res.Top))
		}
		for k, p := range res.Probabilities {
			if math.Float32bits(p) != math.Float32bits(rows[i][k]) {
				t.Fatalf("result %d: probabilities %v, want %v", i, res.Probabilities, rows[i])
			}
		}
		if *res.Class != res.Top[0].Class {
			t.Fatalf("result %d: class %d, top %v", i, *res.Class, res.Top)
		}
	}
}
