package wire

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

func le32(vals ...float32) []byte {
	b := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func TestNarrowU8(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	nan := float32(math.NaN())
	tests := []struct {
		name string
		data []byte
		want []byte // nil: does not fit
	}{
		{"pixels", le32(0, 7, 255, 128), []byte{0, 7, 255, 128}},
		{"one value", le32(16), []byte{16}},
		{"-0 first", le32(negZero, 1, 2), nil},
		{"-0 last", le32(1, 2, negZero), nil},
		{"NaN in the middle", le32(1, nan, 2), nil},
		{"256", le32(3, 4, 5, 256), nil},
		{"a fraction", le32(9, 1.5), nil},
		{"negative", le32(9, 8, 7, 6, 5, -1), nil},
		{"just above an integer", le32(3, math.Nextafter32(3, 4)), nil},
		{"+Inf", le32(float32(math.Inf(1))), nil},
		{"empty", nil, nil},
		{"not whole values", []byte{0, 0, 128}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orig := bytes.Clone(tc.data)
			out, ok := NarrowU8(tc.data)
			if tc.want == nil {
				if ok || !bytes.Equal(tc.data, orig) {
					t.Fatalf("ok %v, data %v: want false and the data as it was, %v", ok, tc.data, orig)
				}
				return
			}
			if !ok || !bytes.Equal(out, tc.want) {
				t.Fatalf("got %v %v, want %v", out, ok, tc.want)
			}
			if got := (Item{Kind: ItemTensorU8, Data: out}).Float32().Data; !bytes.Equal(got, orig) {
				t.Fatalf("widened back: %v, want %v", got, orig)
			}
		})
	}
}

// A value that does not fit, anywhere in a long run of values that do,
// leaves every byte as it was.
func TestNarrowU8LeavesDataOnFailure(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		vals := make([]float32, 1+r.IntN(600))
		for i := range vals {
			vals[i] = float32(r.IntN(256))
		}
		vals[r.IntN(len(vals))] = []float32{0.5, -3, 300, float32(math.Copysign(0, -1))}[r.IntN(4)]
		data := le32(vals...)
		orig := bytes.Clone(data)
		if _, ok := NarrowU8(data); ok || !bytes.Equal(data, orig) {
			t.Fatalf("ok %v; data changed: %v", ok, !bytes.Equal(data, orig))
		}
	}
}

func TestPackU8(t *testing.T) {
	dst := make([]byte, 4)
	if !PackU8(dst, []float32{0, 16, 255, 3}) || !bytes.Equal(dst, []byte{0, 16, 255, 3}) {
		t.Fatalf("pixels: %v", dst)
	}
	for _, vals := range [][]float32{{1, 2.5}, {float32(math.Copysign(0, -1))}, {256}, {-1}, {}} {
		if PackU8(make([]byte, 4), vals) {
			t.Errorf("%v packed", vals)
		}
	}
	if PackU8(make([]byte, 1), []float32{1, 2}) {
		t.Error("packed into too short a dst")
	}
}

// BenchmarkNarrowU8 is one MobileNet item of pixels (224 × 224 × 3).
func BenchmarkNarrowU8(b *testing.B) {
	vals := make([]float32, 224*224*3)
	for i := range vals {
		vals[i] = float32(i % 256)
	}
	src := le32(vals...)
	data := make([]byte, len(src))
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		copy(data, src)
		if _, ok := NarrowU8(data); !ok {
			b.Fatal("does not fit")
		}
	}
}
