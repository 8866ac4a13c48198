package input

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"batchinfer/api"
	"batchinfer/internal/wire"
)

func f32s(vals ...[]float32) []byte {
	var b bytes.Buffer
	for _, v := range vals {
		_ = binary.Write(&b, binary.LittleEndian, v)
	}
	return b.Bytes()
}

func f64s(vals ...[]float32) []byte {
	var b bytes.Buffer
	for _, v := range vals {
		for _, x := range v {
			_ = binary.Write(&b, binary.LittleEndian, float64(x))
		}
	}
	return b.Bytes()
}

// npy is a .npy file (version 1) with header dict h and body data.
func npy(h string, data []byte) []byte {
	pad := (64 - (10+len(h)+1)%64) % 64
	h += strings.Repeat(" ", pad) + "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)), byte(len(h)>>8))
	return append(append(b, h...), data...)
}

func npyDict(descr string, fortran bool, shape string) string {
	f := "False"
	if fortran {
		f = "True"
	}
	return fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr, f, shape)
}

// Raw float32 and .npy bodies give the same items as JSON numbers, and
// every way they can be wrong is an invalid_input naming the problem.
func TestBinarySources(t *testing.T) {
	meta := digitsMeta(t)
	a, b := ramp(64), ramp(64)
	b[0] = 16
	bad := ramp(64)
	bad[3] = float32(math.NaN())
	high := ramp(64)
	high[5] = 17
	lim := Limits{MaxItems: 3, MaxImageBytes: testMaxImage}
	for _, tc := range []struct {
		name  string
		src   Source
		items int
		err   string
		code  api.Code
	}{
		{"raw", Raw(bytes.NewReader(f32s(a, b))), 2, "", ""},
		{"raw trailing bytes", Raw(bytes.NewReader(append(f32s(a), 1, 2, 3))), 0, "the body ends inside item 1 (3 of its 256 bytes)", api.CodeInvalidInput},
		{"raw NaN", Raw(bytes.NewReader(f32s(a, bad))), 0, "value 3 is NaN", api.CodeInvalidInput},
		{"raw above max", Raw(bytes.NewReader(f32s(high))), 0, "above the maximum 16", api.CodeInvalidInput},
		{"raw empty", Raw(bytes.NewReader(nil)), 0, "the batch is empty", api.CodeInvalidInput},
		{"raw too many", Raw(bytes.NewReader(f32s(a, a, a, a))), 0, "more than 3 items", api.CodeTooManyItems},
		{"npy f4 shaped", NPY(bytes.NewReader(npy(npyDict("<f4", false, "(2, 8, 8, 1)"), f32s(a, b)))), 2, "", ""},
		{"npy f8 flat", NPY(bytes.NewReader(npy(npyDict("<f8", false, "(2, 64)"), f64s(a, b)))), 2, "", ""},
		{"npy wrong shape", NPY(bytes.NewReader(npy(npyDict("<f4", false, "(2, 8, 4)"), f32s(a, b)))), 0, "array of shape [2 8 4]: want (n, 8, 8, 1) or (n, 64)", api.CodeInvalidInput},
		{"npy same size other dims", NPY(bytes.NewReader(npy(npyDict("<f4", false, "(2, 8, 8)"), f32s(a, b)))), 2, "", ""},
		{"npy 1-d", NPY(bytes.NewReader(npy(npyDict("<f4", false, "(64,)"), f32s(a)))), 0, "array of shape [64]", api.CodeInvalidInput},
		{"npy fortran", NPY(bytes.NewReader(npy(npyDict("<f4", true, "(1, 64)"), f32s(a)))), 0, "Fortran order", api.CodeInvalidInput},
		{"npy big-endian", NPY(bytes.NewReader(npy(npyDict(">f4", false, "(1, 64)"), f32s(a)))), 0, `dtype ">f4"`, api.CodeInvalidInput},
		{"npy int", NPY(bytes.NewReader(npy(npyDict("<i8", false, "(1, 64)"), f32s(a)))), 0, `dtype "<i8"`, api.CodeInvalidInput},
		{"npy short body", NPY(bytes.NewReader(npy(npyDict("<f4", false, "(2, 64)"), f32s(a)))), 0, "the body ends inside item 1 (0 of its 256 bytes)", api.CodeInvalidInput},
		{"npy extra bytes", NPY(bytes.NewReader(npy(npyDict("<f4", false, "(1, 64)"), f32s(a, b)))), 0, "bytes after the 1 items", api.CodeInvalidInput},
		{"npy too many", NPY(bytes.NewReader(npy(npyDict("<f4", false, "(4, 64)"), f32s(a, a, a, a)))), 0, "4 items, the limit is 3", api.CodeTooManyItems},
		{"not npy", NPY(bytes.NewReader(f32s(a))), 0, "no \\x93NUMPY magic", api.CodeInvalidInput},
		{"npy no shape", NPY(bytes.NewReader(npy("{'descr': '<f4', 'fortran_order': False}", nil))), 0, "lacks descr, fortran_order or shape", api.CodeInvalidInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			items, err := Decode(meta, lim, tc.src)
			if tc.err == "" {
				if err != nil || len(items) != tc.items {
					t.Fatalf("%d items, %v", len(items), err)
				}
				want := f32s(a, b)
				if got := append(append([]byte{}, items[0].Float32().Data...), items[1].Float32().Data...); !bytes.Equal(got, want) {
					t.Fatal("items differ from the values sent")
				}
				return
			}
			var ae *api.Error
			if !errors.As(err, &ae) || ae.Code != tc.code || !strings.Contains(ae.Message, tc.err) {
				t.Fatalf("error %v, want %s containing %q", err, tc.code, tc.err)
			}
		})
	}
}

// A tensor whose values are all integers in [0, 255] is read into the
// one-byte form, from every source, and any other stays float32; either
// gives back exactly the values sent. An integer out of the model's range
// is refused naming it, as a float is.
func TestTensorOneByteForm(t *testing.T) {
	meta := digitsMeta(t)
	ints, frac, negZero := ramp(64), ramp(64), ramp(64)
	frac[9] = 2.5
	negZero[0] = float32(math.Copysign(0, -1))
	lim := Limits{MaxItems: 3, MaxImageBytes: testMaxImage, MaxLineBytes: 1 << 16}
	for _, src := range []struct {
		name string
		of   func([]float32) Source
	}{
		{"octet-stream", func(v []float32) Source { return Raw(bytes.NewReader(f32s(v))) }},
		{"npy float64", func(v []float32) Source {
			return NPY(bytes.NewReader(npy(npyDict("<f8", false, "(1, 64)"), f64s(v))))
		}},
		{"ndjson numbers", func(v []float32) Source { return NDJSON(strings.NewReader(numArray(v) + "\n")) }},
		{"ndjson b64", func(v []float32) Source { return NDJSON(strings.NewReader(b64Item(f32s(v)) + "\n")) }},
	} {
		for _, tc := range []struct {
			name string
			vals []float32
			kind byte
		}{
			{"integers", ints, wire.ItemTensorU8},
			{"a fraction", frac, wire.ItemTensor},
			{"-0", negZero, wire.ItemTensor},
		} {
			t.Run(src.name+"/"+tc.name, func(t *testing.T) {
				items, err := Decode(meta, lim, src.of(tc.vals))
				if err != nil || len(items) != 1 {
					t.Fatalf("%d items, %v", len(items), err)
				}
				if items[0].Kind != tc.kind {
					t.Fatalf("kind %d, want %d", items[0].Kind, tc.kind)
				}
				if got := items[0].Float32().Data; !bytes.Equal(got, f32s(tc.vals)) {
					t.Fatal("values differ from those sent")
				}
			})
		}
		t.Run(src.name+"/integer above the maximum", func(t *testing.T) {
			high := ramp(64)
			high[5] = 200
			_, err := Decode(meta, lim, src.of(high))
			if err == nil || !strings.Contains(err.Error(), "value 5 is 200, above the maximum 16") {
				t.Fatalf("got %v", err)
			}
		})
	}
}

// Bytes are checked against the model's range as floats are: a fractional
// bound admits the integers within it, and none is admitted outside it.
func TestTensorOneByteFormBounds(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	for _, tc := range []struct {
		name     string
		min, max *float64
		ok, bad  float32 // a value within the range, one outside it
	}{
		{"fractional minimum", f(2.5), nil, 3, 2},
		{"fractional maximum", nil, f(9.5), 9, 10},
		{"negative minimum", f(-1), f(0.5), 0, 1},
		{"minimum above a byte", f(300), nil, 300, 255},
		{"maximum below zero", nil, f(-0.5), -1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			meta := *digitsMeta(t)
			meta.Input.Min, meta.Input.Max = tc.min, tc.max
			lim := Limits{MaxItems: 3}
			vals := make([]float32, 64)
			for i := range vals {
				vals[i] = tc.ok
			}
			if _, err := Decode(&meta, lim, Raw(bytes.NewReader(f32s(vals)))); err != nil {
				t.Fatalf("%v refused: %v", tc.ok, err)
			}
			vals[7] = tc.bad
			_, err := Decode(&meta, lim, Raw(bytes.NewReader(f32s(vals))))
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("value 7 is %g", tc.bad)) {
				t.Fatalf("%v: got %v", tc.bad, err)
			}
		})
	}
}

// A .npy of uint8 (a decoded image's pixels) is read one byte a value, as
// it is, and checked like any other: its range, its shape, its length.
func TestNPYUint8(t *testing.T) {
	meta := digitsMeta(t)
	lim := Limits{MaxItems: 3}
	pix := func(vals ...[]float32) []byte {
		var b []byte
		for _, v := range vals {
			for _, x := range v {
				b = append(b, byte(x))
			}
		}
		return b
	}
	a, b := ramp(64), ramp(64)
	b[0] = 16
	high := ramp(64)
	high[5] = 200
	for _, tc := range []struct {
		name, descr, shape string
		data               []byte
		items              int
		err                string
	}{
		{"two items", "|u1", "(2, 64)", pix(a, b), 2, ""},
		{"little-endian spelling, model shape", "<u1", "(2, 8, 8, 1)", pix(a, b), 2, ""},
		{"above the maximum", "|u1", "(1, 64)", pix(high), 0, "value 5 is 200, above the maximum 16"},
		{"wrong shape", "|u1", "(1, 32)", pix(a)[:32], 0, "array of shape [1 32]"},
		{"short body", "|u1", "(2, 64)", pix(a, b)[:100], 0, "the body ends inside item 1 (36 of its 64 bytes)"},
		{"signed bytes", "|i1", "(1, 64)", pix(a), 0, `dtype "|i1": want uint8 (|u1)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			items, err := Decode(meta, lim, NPY(bytes.NewReader(npy(npyDict(tc.descr, false, tc.shape), tc.data))))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || len(items) != tc.items {
				t.Fatalf("%d items, %v", len(items), err)
			}
			for i, it := range items {
				if it.Kind != wire.ItemTensorU8 || !bytes.Equal(it.Float32().Data, f32s([][]float32{a, b}[i])) {
					t.Fatalf("item %d: kind %d, values differ from those sent", i, it.Kind)
				}
			}
		})
	}
}

// TestRawBytes reads uint8 tensors sent back to back (an OIP UINT8 input's
// binary data): taken one byte a value as they are, checked as bytes.
func TestRawBytes(t *testing.T) {
	meta := digitsMeta(t)
	lim := Limits{MaxItems: 3}
	a, b := make([]byte, 64), make([]byte, 64)
	for i := range a {
		a[i], b[i] = byte(i%17), byte(16-i%17)
	}
	high := slices.Clone(a)
	high[7] = 17
	for _, tc := range []struct {
		name  string
		data  []byte
		items int
		err   string
		code  api.Code
	}{
		{"two items", slices.Concat(a, b), 2, "", ""},
		{"above the maximum", high, 0, "value 7 is 17, above the maximum 16", api.CodeInvalidInput},
		{"trailing bytes", slices.Concat(a, b[:10]), 0, "the body ends inside item 1 (10 of its 64 bytes)", api.CodeInvalidInput},
		{"empty", nil, 0, "the batch is empty", api.CodeInvalidInput},
		{"too many", slices.Concat(a, a, a, a), 0, "more than 3 items", api.CodeTooManyItems},
	} {
		t.Run(tc.name, func(t *testing.T) {
			items, err := Decode(meta, lim, RawBytes(bytes.NewReader(tc.data)))
			if tc.err != "" {
				var ae *api.Error
				if !errors.As(err, &ae) || ae.Code != tc.code || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want %s %q", err, tc.code, tc.err)
				}
				return
			}
			if err != nil || len(items) != tc.items {
				t.Fatalf("%d items, %v", len(items), err)
			}
			for i, it := range items {
				if it.Kind != wire.ItemTensorU8 || !bytes.Equal(it.Data, [][]byte{a, b}[i]) {
					t.Fatalf("item %d: kind %d, data % x", i, it.Kind, it.Data[:8])
				}
			}
		})
	}
}
