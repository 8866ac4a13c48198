package input

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"batchinfer/api"
	"batchinfer/internal/wire"
	"batchinfer/model"
)

const (
	digitsDir       = "../../model/models/digits/1"
	breastCancerDir = "../../model/models/breast_cancer/1"
	testMaxImage    = 1 << 20
)

func loadMeta(tb testing.TB, dir string) *model.Metadata {
	tb.Helper()
	m, err := model.ReadMetadata(dir)
	if err != nil {
		tb.Fatalf("read metadata: %v", err)
	}
	return m
}

func digitsMeta(tb testing.TB) *model.Metadata { return loadMeta(tb, digitsDir) }
func cancerMeta(tb testing.TB) *model.Metadata { return loadMeta(tb, breastCancerDir) }

// numArray renders vals as a flat JSON array.
func numArray[T float32 | float64 | int](vals []T) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = fmt.Sprint(v)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// ramp returns n values i%17, all within the digits range 0..16.
func ramp(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i % 17)
	}
	return v
}

// nestedDigits renders vals (64) nested to the digits shape [8,8,1].
func nestedDigits(vals []float32) string {
	var b strings.Builder
	b.WriteString("[")
	for r := 0; r < 8; r++ {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteString("[")
		for c := 0; c < 8; c++ {
			if c > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "[%v]", vals[8*r+c])
		}
		b.WriteString("]")
	}
	b.WriteString("]")
	return b.String()
}

func f32LE(vals []float32) []byte {
	b := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func b64Item(b []byte) string {
	return `{"b64":"` + base64.StdEncoding.EncodeToString(b) + `"}`
}

func imageItem(b []byte) string {
	return `{"image":"` + base64.StdEncoding.EncodeToString(b) + `"}`
}

func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile("../../model/testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// tensorValues decodes a tensor item's little-endian float32 values.
func tensorValues(t *testing.T, it wire.Item) []float32 {
	t.Helper()
	if it = it.Float32(); it.Kind != wire.ItemTensor { // either tensor kind
		t.Fatalf("item kind %d, want tensor", it.Kind)
	}
	if len(it.Data)%4 != 0 {
		t.Fatalf("tensor of %d bytes", len(it.Data))
	}
	v := make([]float32, len(it.Data)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(it.Data[4*i:]))
	}
	return v
}

func asAPI(t *testing.T, err error) *api.Error {
	t.Helper()
	var ae *api.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an *api.Error", err, err)
	}
	return ae
}

// wantInvalid checks that err is the 400 invalid_input of result() with
// details naming item idx (and line) with a message containing substr.
func wantInvalid(t *testing.T, err error, idx, line int, substr string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want invalid_input containing %q", substr)
	}
	ae := asAPI(t, err)
	if ae.Code.HTTPStatus() != http.StatusBadRequest || ae.Code != api.CodeInvalidInput {
		t.Fatalf("got %d %s (%s), want 400 %s", ae.Code.HTTPStatus(), ae.Code, ae.Message, api.CodeInvalidInput)
	}
	if len(ae.Details) == 0 {
		t.Fatalf("no details in %v", ae)
	}
	d := ae.Details[0]
	if d.Item == nil || *d.Item != idx {
		t.Fatalf("detail item %v, want %d (%+v)", d.Item, idx, d)
	}
	if d.Line != line {
		t.Errorf("detail line %d, want %d", d.Line, line)
	}
	if !strings.Contains(d.Message, substr) {
		t.Errorf("detail message %q does not contain %q", d.Message, substr)
	}
	if !strings.Contains(ae.Message, substr) {
		t.Errorf("message %q does not contain %q", ae.Message, substr)
	}
}

func TestParseNumberArray(t *testing.T) {
	digitsShape := []int64{8, 8, 1}
	flat64 := numArray(ramp(64))
	tests := []struct {
		name  string
		in    string
		dims  []int64
		want  []float32 // nil: only the length is checked (wantN)
		wantN int
		err   string // substring of the error; "" for success
	}{
		{name: "flat", in: "[1,2,3]", dims: []int64{3}, want: []float32{1, 2, 3}},
		{name: "flat any length", in: "[1,2,3,4,5]", dims: []int64{3}, want: []float32{1, 2, 3, 4, 5}},
		{name: "flat digits", in: flat64, dims: digitsShape, want: ramp(64)},
		{name: "nested digits", in: nestedDigits(ramp(64)), dims: digitsShape, want: ramp(64)},
		{name: "nested 2x3", in: "[[1,2,3],[4,5,6]]", dims: []int64{2, 3}, want: []float32{1, 2, 3, 4, 5, 6}},
		{name: "whitespace everywhere", in: " \t\r\n[ \n[ 1 ,\t2 , 3 ] ,\r\n [4, 5,6\n]\n ] \n", dims: []int64{2, 3}, want: []float32{1, 2, 3, 4, 5, 6}},
		{name: "whitespace flat", in: "\n[ 1 , 2 ]\t", dims: []int64{2}, want: []float32{1, 2}},
		{name: "negative and exponents", in: "[-1.5, 2e3, -3E-2, 0.25e+1, 0, -0]", dims: []int64{6},
			want: []float32{-1.5, 2000, -0.03, 2.5, 0, 0}},
		{name: "underflow is zero", in: "[1e-999]", dims: []int64{1}, want: []float32{0}},
		{name: "float32 max", in: "[3.4028234e38]", dims: []int64{1}, want: []float32{math.MaxFloat32}},

		{name: "empty array", in: "[]", dims: []int64{3}, want: []float32{}},
		{name: "empty nested outer", in: "[[]]", dims: []int64{2, 3}, err: "innermost array has 0 values"},
		{name: "nested wrong outer count", in: "[[1,2,3]]", dims: []int64{2, 3}, err: "nested array has 1 elements where the shape wants 2"},
		{name: "nested too many rows", in: "[[1,2,3],[4,5,6],[7,8,9]]", dims: []int64{2, 3}, err: "nested array has 3 elements"},
		{name: "nested wrong innermost", in: "[[1,2],[3,4]]", dims: []int64{2, 3}, err: "innermost array has 2 values where the shape wants 3"},
		{name: "digits nested 8x8 without channel", in: "[[1,2,3,4,5,6,7,8]]", dims: digitsShape, err: "unexpected"},
		{name: "digits nested one row short", in: nestedDigits(ramp(64))[:strings.LastIndex(nestedDigits(ramp(64)), ", [")] + "]", dims: digitsShape, err: "nested array has 7 elements"},
		{name: "nesting too deep", in: "[[[1]]]", dims: []int64{1, 1}, err: "values must be numbers"},
		{name: "nesting on a flat shape", in: "[[1,2]]", dims: []int64{2}, err: "values must be numbers"},
		{name: "mixed nesting", in: "[[1,2],3]", dims: []int64{2, 2}, err: "expected '['"},
		{name: "trailing garbage", in: "[1,2] x", dims: []int64{2}, err: `unexpected 'x' after the array`},
		{name: "second array", in: "[1][2]", dims: []int64{1}, err: "after the array"},
		{name: "trailing comma", in: "[1,2,]", dims: []int64{2}, err: "values must be numbers"},
		{name: "nested trailing comma", in: "[[1],[2],]", dims: []int64{3, 1}, err: "expected '['"},
		{name: "leading comma", in: "[,1]", dims: []int64{1}, err: "values must be numbers"},
		{name: "missing comma", in: "[1 2]", dims: []int64{2}, err: "expected ']'"},
		{name: "unterminated", in: "[1,2", dims: []int64{2}, err: "unexpected end of array"},
		{name: "unterminated after comma", in: "[1,", dims: []int64{2}, err: "unexpected end of array"},
		{name: "unterminated nested", in: "[[1,2],", dims: []int64{2, 2}, err: "unexpected end of array"},
		{name: "only bracket", in: "[", dims: []int64{1}, err: "unexpected end of array"},
		{name: "empty input", in: "", dims: []int64{1}, err: "unexpected end of array"},
		{name: "not an array", in: "1", dims: []int64{1}, err: "expected '['"},
		{name: "string token", in: `[1,"2"]`, dims: []int64{2}, err: `value 1: unexpected '"'`},
		{name: "true token", in: "[true]", dims: []int64{1}, err: "values must be numbers"},
		{name: "null token", in: "[0,null]", dims: []int64{2}, err: "value 1"},
		{name: "object token", in: "[{}]", dims: []int64{1}, err: "values must be numbers"},
		{name: "NaN", in: "[NaN]", dims: []int64{1}, err: "values must be numbers"},
		{name: "Infinity", in: "[Infinity]", dims: []int64{1}, err: "values must be numbers"},
		{name: "-Infinity", in: "[-Infinity]", dims: []int64{1}, err: "not a finite float32"},
		{name: "overflow 1e999", in: "[1e999]", dims: []int64{1}, err: `"1e999" is not a finite float32`},
		{name: "float32 overflow", in: "[1e39]", dims: []int64{1}, err: "not a finite float32"},
		{name: "negative overflow", in: "[-1e999]", dims: []int64{1}, err: "not a finite float32"},
		{name: "lone minus", in: "[-]", dims: []int64{1}, err: "not a finite float32"},
		{name: "bad exponent", in: "[1e]", dims: []int64{1}, err: "not a finite float32"},
		{name: "double dot", in: "[1..2]", dims: []int64{1}, err: "not a finite float32"},
		{name: "hex", in: "[0x10]", dims: []int64{1}, err: "expected ']'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseNumberArray([]byte(tc.in), tc.dims, nil)
			if tc.err != "" {
				if err == nil {
					t.Fatalf("parse %q: got %v, want error containing %q", tc.in, got, tc.err)
				}
				if !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("parse %q: error %q does not contain %q", tc.in, err, tc.err)
				}
				if got != nil {
					t.Errorf("values %v returned with an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse %q: %v", tc.in, err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d values %v, want %v", len(got), got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("value %d = %v, want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestParseNumberArrayAppends(t *testing.T) {
	dst := []float32{42}
	got, err := parseNumberArray([]byte("[1,2]"), []int64{2}, dst)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0] != 42 || got[1] != 1 || got[2] != 2 {
		t.Fatalf("got %v, want [42 1 2]", got)
	}
}

// TestDecodeItemDigits decodes one item through add and result.
func TestDecodeItemDigits(t *testing.T) {
	meta := digitsMeta(t)
	png := readTestdata(t, "digits_7.png")
	vals := ramp(64)
	withNaN := f32LE(vals)
	binary.LittleEndian.PutUint32(withNaN[4*5:], 0x7fc00001)
	withInf := f32LE(vals)
	binary.LittleEndian.PutUint32(withInf[4*63:], math.Float32bits(float32(math.Inf(1))))
	withNegInf := f32LE(vals)
	binary.LittleEndian.PutUint32(withNegInf[0:], math.Float32bits(float32(math.Inf(-1))))
	tooBig := append([]float32(nil), vals...)
	tooBig[10] = 17
	tooSmall := append([]float32(nil), vals...)
	tooSmall[3] = -1
	edge := make([]float32, 64)
	edge[0], edge[63] = 16, 0

	tests := []struct {
		name     string
		in       string
		maxImage int
		kind     byte
		want     []float32 // for tensors
		err      string
	}{
		{name: "flat array of 64", in: numArray(vals), kind: wire.ItemTensor, want: vals},
		{name: "nested array", in: nestedDigits(vals), kind: wire.ItemTensor, want: vals},
		{name: "padded with whitespace", in: "  \n" + numArray(vals) + "\t ", kind: wire.ItemTensor, want: vals},
		{name: "bounds inclusive", in: numArray(edge), kind: wire.ItemTensor, want: edge},
		{name: "b64 of 64 float32", in: b64Item(f32LE(vals)), kind: wire.ItemTensor, want: vals},
		{name: "image png", in: imageItem(png), kind: wire.ItemImage},

		{name: "63 values", in: numArray(ramp(63)), err: "expected 64 values (shape [8 8 1]), got 63"},
		{name: "65 values", in: numArray(ramp(65)), err: "expected 64 values"},
		{name: "empty array", in: "[]", err: "expected 64 values"},
		{name: "above max", in: numArray(tooBig), err: "value 10 is 17, above the maximum 16"},
		{name: "below min", in: numArray(tooSmall), err: "value 3 is -1, below the minimum 0"},
		{name: "NaN token", in: "[NaN" + strings.Repeat(",0", 63) + "]", err: "values must be numbers"},
		{name: "overflow token", in: "[1e999" + strings.Repeat(",0", 63) + "]", err: "not a finite float32"},
		{name: "trailing garbage", in: numArray(vals) + "]", err: "after the array"},
		{name: "b64 wrong length", in: b64Item(f32LE(ramp(63))), err: "b64: 252 bytes, want 256"},
		{name: "b64 empty", in: `{"b64":""}`, err: "b64: 0 bytes, want 256"},
		{name: "b64 invalid base64", in: `{"b64":"not*base64"}`, err: "b64: illegal base64"},
		{name: "b64 NaN bits", in: b64Item(withNaN), err: "value 5 is NaN: values must be finite"},
		{name: "b64 +Inf", in: b64Item(withInf), err: "value 63 is +Inf: values must be finite"},
		{name: "b64 -Inf", in: b64Item(withNegInf), err: "finite"},
		{name: "b64 out of range", in: b64Item(f32LE(tooBig)), err: "above the maximum 16"},
		{name: "b64 not a string", in: `{"b64":[1,2]}`, err: `field "b64"`},
		{name: "image not an image", in: imageItem([]byte("hello, this is not an image")), err: "image: not a PNG, JPEG or GIF"},
		{name: "image invalid base64", in: `{"image":"%%%"}`, err: "image: invalid base64"},
		{name: "image too large", in: imageItem(png), maxImage: 100, err: "image larger than 100 bytes"},
		{name: "image too large before decoding", in: imageItem(bytes.Repeat([]byte{1}, 4096)), maxImage: 100, err: "image larger than 100 bytes"},
		{name: "features on digits", in: `{"features":{"a":1}}`, err: "model digits:1 takes no named features"},
		{name: "two keys", in: `{"b64":"","image":""}`, err: `exactly one of "b64", "image" or "features"`},
		{name: "unknown key", in: `{"pixels":[1,2]}`, err: `unknown field "pixels"`},
		{name: "empty object", in: `{}`, err: "exactly one of"},
		{name: "null member", in: `{"b64":null}`, err: "exactly one of"},
		{name: "malformed object", in: `{"b64":`, err: "invalid item object"},
		{name: "object then garbage", in: b64Item(f32LE(vals)) + ` x`, err: "invalid item object"},
		{name: "two objects", in: b64Item(f32LE(vals)) + b64Item(f32LE(vals)), err: "invalid item object"},
		{name: "scalar number", in: `5`, err: "an item must be an array of numbers or an object"},
		{name: "scalar string", in: `"x"`, err: "an item must be an array"},
		{name: "null", in: `null`, err: "an item must be"},
		{name: "empty", in: ``, err: "empty item"},
		{name: "blank", in: " \n ", err: "empty item"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			maxImage := testMaxImage
			if tc.maxImage > 0 {
				maxImage = tc.maxImage
			}
			d := NewDecoder(meta, 10, maxImage)
			// A valid item first, so the failing one is item 1.
			if err := d.add([]byte(numArray(vals)), 0); err != nil {
				t.Fatal(err)
			}
			if err := d.add([]byte(tc.in), 0); err != nil {
				t.Fatalf("add: %v", err)
			}
			items, err := d.result()
			if tc.err != "" {
				wantInvalid(t, err, 1, 0, tc.err)
				if items != nil {
					t.Errorf("items returned with an error")
				}
				ae := asAPI(t, err)
				if !strings.HasPrefix(ae.Message, "1 invalid item(s); first: item 1: ") {
					t.Errorf("message %q", ae.Message)
				}
				return
			}
			if err != nil {
				t.Fatalf("result: %v", err)
			}
			if len(items) != 2 {
				t.Fatalf("%d items, want 2", len(items))
			}
			it := items[1]
			if it.Kind == wire.ItemTensorU8 { // integers in [0, 255]: one byte each
				it = it.Float32()
			}
			if it.Kind != tc.kind {
				t.Fatalf("kind %d, want %d", it.Kind, tc.kind)
			}
			switch tc.kind {
			case wire.ItemTensor:
				if len(it.Data) != 4*64 {
					t.Fatalf("%d bytes, want 256", len(it.Data))
				}
				got := tensorValues(t, it)
				for i := range got {
					if got[i] != tc.want[i] {
						t.Fatalf("value %d = %v, want %v", i, got[i], tc.want[i])
					}
				}
			case wire.ItemImage:
				if !bytes.Equal(it.Data, png) {
					t.Fatalf("image data differs from the input")
				}
			}
		})
	}
}

func TestDecodeItemImageOnTabular(t *testing.T) {
	d := NewDecoder(cancerMeta(t), 10, testMaxImage)
	_, err := d.decodeItem([]byte(imageItem(readTestdata(t, "digits_7.png"))))
	if err == nil || !strings.Contains(err.Error(), "model breast_cancer:1 does not accept images") {
		t.Fatalf("err %v, want does not accept images", err)
	}
}

func TestDecodeItemImageSides(t *testing.T) {
	// A GIF header with a logical screen of 5000x1: DecodeConfig reads the
	// size without the pixel data.
	gif := []byte("GIF89a\x88\x13\x01\x00\x00\x00\x00")
	d := NewDecoder(digitsMeta(t), 10, testMaxImage)
	_, err := d.decodeItem([]byte(imageItem(gif)))
	if err == nil || !strings.Contains(err.Error(), "gif of 5000x1, sides must be 1..4096") {
		t.Fatalf("err %v, want a side error", err)
	}
}

func TestDecodeManyInvalid(t *testing.T) {
	meta := digitsMeta(t)
	d := NewDecoder(meta, 1000, testMaxImage)
	bad := []byte(numArray(ramp(63)))
	good := []byte(numArray(ramp(64)))
	for i := 0; i < 150; i++ {
		raw := good
		if i%3 != 0 { // 100 bad items: 1, 2, 4, 5, ...
			raw = bad
		}
		if err := d.add(raw, 0); err != nil {
			t.Fatal(err)
		}
	}
	_, err := d.result()
	wantInvalid(t, err, 1, 0, "expected 64 values")
	ae := asAPI(t, err)
	if len(ae.Details) != maxItemErrors {
		t.Fatalf("%d details, want %d", len(ae.Details), maxItemErrors)
	}
	want := []int{}
	for i := 0; len(want) < maxItemErrors; i++ {
		if i%3 != 0 {
			want = append(want, i)
		}
	}
	for k, det := range ae.Details {
		if det.Item == nil || *det.Item != want[k] {
			t.Fatalf("detail %d names item %v, want %d", k, det.Item, want[k])
		}
	}
	if !strings.HasPrefix(ae.Message, "100 invalid item(s); first: item 1: expected 64 values") {
		t.Fatalf("message %q", ae.Message)
	}
	// The JSON form of the error is what clients get.
	b, err := json.Marshal(api.ErrorBody{Error: ae})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"code":"invalid_input"`)) || !bytes.Contains(b, []byte(`"item":1,`)) {
		t.Fatalf("JSON %s", b)
	}
}

func TestDecodeDetailsDoNotAlias(t *testing.T) {
	d := NewDecoder(digitsMeta(t), 10, testMaxImage)
	for i := 0; i < 3; i++ {
		_ = d.add([]byte("[]"), 0)
	}
	_, err := d.result()
	ae := asAPI(t, err)
	for k, det := range ae.Details {
		if *det.Item != k {
			t.Fatalf("detail %d names item %d", k, *det.Item)
		}
	}
}

func TestDecodeBatchLimits(t *testing.T) {
	meta := digitsMeta(t)
	t.Run("empty batch", func(t *testing.T) {
		_, err := NewDecoder(meta, 10, testMaxImage).result()
		ae := asAPI(t, err)
		if ae.Code.HTTPStatus() != http.StatusBadRequest || ae.Code != api.CodeInvalidInput || !strings.Contains(ae.Message, "empty") {
			t.Fatalf("got %d %s %q", ae.Code.HTTPStatus(), ae.Code, ae.Message)
		}
	})
	t.Run("exactly max items", func(t *testing.T) {
		d := NewDecoder(meta, 3, testMaxImage)
		for i := 0; i < 3; i++ {
			if err := d.add([]byte(numArray(ramp(64))), 0); err != nil {
				t.Fatal(err)
			}
		}
		items, err := d.result()
		if err != nil || len(items) != 3 {
			t.Fatalf("%d items, %v", len(items), err)
		}
	})
	t.Run("too many items", func(t *testing.T) {
		d := NewDecoder(meta, 3, testMaxImage)
		var err error
		for i := 0; i < 4 && err == nil; i++ {
			err = d.add([]byte(numArray(ramp(64))), 0)
		}
		ae := asAPI(t, err)
		if ae.Code.HTTPStatus() != http.StatusRequestEntityTooLarge || ae.Code != api.CodeTooManyItems || !strings.Contains(ae.Message, "more than 3 items") {
			t.Fatalf("got %d %s %q", ae.Code.HTTPStatus(), ae.Code, ae.Message)
		}
	})
	t.Run("invalid items count toward the limit", func(t *testing.T) {
		d := NewDecoder(meta, 2, testMaxImage)
		_ = d.add([]byte("x"), 0)
		_ = d.add([]byte("x"), 0)
		if err := d.add([]byte("x"), 0); asAPI(t, err).Code != api.CodeTooManyItems {
			t.Fatalf("err %v", err)
		}
	})
}

func cancerFeatures(meta *model.Metadata) map[string]any {
	m := make(map[string]any, len(meta.Features))
	for i, f := range meta.Features {
		m[f] = float64(i) + 0.5
	}
	return m
}

func TestDecodeFeatures(t *testing.T) {
	meta := cancerMeta(t)
	if len(meta.Features) != 30 {
		t.Fatalf("%d features", len(meta.Features))
	}
	item := func(mod func(m map[string]any)) string {
		m := cancerFeatures(meta)
		if mod != nil {
			mod(m)
		}
		b, err := json.Marshal(map[string]any{"features": m})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name string
		in   string
		err  string
	}{
		{name: "all features", in: item(nil)},
		{name: "missing feature", in: item(func(m map[string]any) { delete(m, "worst symmetry") }), err: `missing feature "worst symmetry" (29 of 30 given)`},
		{name: "unknown feature", in: item(func(m map[string]any) { m["mean colour"] = 1 }), err: `unknown feature "mean colour"`},
		{name: "renamed feature", in: item(func(m map[string]any) { delete(m, "mean area"); m["Mean Area"] = 1 }), err: `unknown feature "Mean Area"`},
		{name: "null feature", in: item(func(m map[string]any) { m["mean area"] = nil }), err: `feature "mean area" is null`},
		{name: "string feature", in: item(func(m map[string]any) { m["mean area"] = "12" }), err: "invalid item object"},
		{name: "float32 overflow", in: item(func(m map[string]any) { m["mean area"] = 1e300 }), err: "values must be finite"},
		{name: "empty features", in: `{"features":{}}`, err: "missing feature \"mean radius\" (0 of 30 given)"},
		{name: "features not an object", in: `{"features":[1,2]}`, err: "invalid item object"},
		{name: "flat array of 30", in: numArray(ramp(30))},
		{name: "flat array of 29", in: numArray(ramp(29)), err: "expected 30 values (shape [30]), got 29"},
		{name: "b64 of 30", in: b64Item(f32LE(ramp(30)))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(meta, 10, testMaxImage)
			if err := d.add([]byte(tc.in), 0); err != nil {
				t.Fatal(err)
			}
			items, err := d.result()
			if tc.err != "" {
				wantInvalid(t, err, 0, 0, tc.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := tensorValues(t, items[0])
			if len(got) != 30 {
				t.Fatalf("%d values", len(got))
			}
			if tc.name == "all features" {
				// Placed in metadata order whatever the JSON order.
				for i := range got {
					if got[i] != float32(i)+0.5 {
						t.Fatalf("value %d (%s) = %v, want %v", i, meta.Features[i], got[i], float32(i)+0.5)
					}
				}
			}
		})
	}
}

func TestDecodeNDJSON(t *testing.T) {
	meta := digitsMeta(t)
	good := numArray(ramp(64))
	tests := []struct {
		name    string
		in      string
		maxLine int
		n       int // items on success
		errIdx  int
		errLine int
		err     string
		status  int // for errors returned by decodeNDJSON itself
		code    api.Code
	}{
		{name: "two lines", in: good + "\n" + good + "\n", n: 2},
		{name: "no final newline", in: good + "\n" + good, n: 2},
		{name: "blank lines skipped", in: "\n\n" + good + "\n   \n\t\n" + good + "\n\n", n: 2},
		{name: "crlf", in: good + "\r\n" + good + "\r\n", n: 2},
		{name: "mixed forms", in: good + "\n" + b64Item(f32LE(ramp(64))) + "\n" + nestedDigits(ramp(64)) + "\n", n: 3},
		{name: "sample file", in: string(readTestdata(t, "digits_sample.ndjson")), n: -1},
		{name: "empty body", in: "", err: "empty"},
		{name: "only blank lines", in: "\n \n\n", err: "empty"},
		{name: "malformed line", in: good + "\n\n" + `{"b64":` + "\n" + good + "\n", errIdx: 1, errLine: 3, err: "invalid item object"},
		{name: "short line", in: "\n" + good + "\n" + good + "\n\n" + numArray(ramp(10)) + "\n", errIdx: 2, errLine: 5, err: "expected 64 values"},
		{name: "garbage line", in: "hello\n", errIdx: 0, errLine: 1, err: "an item must be"},
		{name: "two items on a line", in: good + " " + good + "\n", errIdx: 0, errLine: 1, err: "after the array"},
		{name: "line too long", in: good + "\n" + good + "\n" + strings.Repeat(" ", 300) + good + "\n", maxLine: 400,
			status: http.StatusRequestEntityTooLarge, code: api.CodeBodyTooLarge, err: "NDJSON line 3 longer than 400 bytes"},
		{name: "line too long over 64KiB", in: "[" + strings.Repeat("0,", 40000) + "0]\n", maxLine: 70000,
			status: http.StatusRequestEntityTooLarge, code: api.CodeBodyTooLarge, err: "NDJSON line 1 longer than 70000 bytes"},
		{name: "too many items", in: strings.Repeat(good+"\n", 6),
			status: http.StatusRequestEntityTooLarge, code: api.CodeTooManyItems, err: "more than 5 items"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			maxLine := 1 << 20
			if tc.maxLine > 0 {
				maxLine = tc.maxLine
			}
			d := NewDecoder(meta, 5, testMaxImage)
			if tc.n < 0 {
				d.maxItems = 1000
			}
			err := d.decodeNDJSON(strings.NewReader(tc.in), maxLine)
			if tc.status != 0 {
				ae := asAPI(t, err)
				if ae.Code.HTTPStatus() != tc.status || ae.Code != tc.code || !strings.Contains(ae.Message, tc.err) {
					t.Fatalf("got %d %s %q, want %d %s %q", ae.Code.HTTPStatus(), ae.Code, ae.Message, tc.status, tc.code, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("decodeNDJSON: %v", err)
			}
			items, err := d.result()
			switch {
			case tc.err == "empty":
				ae := asAPI(t, err)
				if ae.Code != api.CodeInvalidInput || !strings.Contains(ae.Message, "empty") {
					t.Fatalf("got %v", ae)
				}
			case tc.err != "":
				wantInvalid(t, err, tc.errIdx, tc.errLine, tc.err)
			default:
				if err != nil {
					t.Fatal(err)
				}
				if tc.n >= 0 && len(items) != tc.n {
					t.Fatalf("%d items, want %d", len(items), tc.n)
				}
				if tc.n < 0 && len(items) == 0 {
					t.Fatal("no items from the sample file")
				}
				for _, it := range items {
					if it := it.Float32(); it.Kind != wire.ItemTensor || len(it.Data) != 256 {
						t.Fatalf("item %d/%d bytes", it.Kind, len(it.Data))
					}
				}
			}
		})
	}
}

// errReader fails after its data.
type errReader struct {
	data []byte
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestDecodeReadErrors(t *testing.T) {
	mbe := &http.MaxBytesError{Limit: 10}
	good := numArray(ramp(64))
	t.Run("ndjson", func(t *testing.T) {
		d := NewDecoder(digitsMeta(t), 10, testMaxImage)
		err := d.decodeNDJSON(&errReader{data: []byte(good + "\n"), err: mbe}, 1<<20)
		if !errors.As(err, new(*http.MaxBytesError)) {
			t.Fatalf("err %v, want a MaxBytesError", err)
		}
		if ae := api.As(err); ae.Code.HTTPStatus() != http.StatusRequestEntityTooLarge || ae.Code != api.CodeBodyTooLarge {
			t.Fatalf("mapped to %d %s", ae.Code.HTTPStatus(), ae.Code)
		}
	})
	t.Run("csv", func(t *testing.T) {
		d := NewDecoder(cancerMeta(t), 10, testMaxImage)
		err := d.decodeCSV(&errReader{data: []byte(numArray(ramp(30))[1:] + "\n"), err: mbe})
		if ae := api.As(err); ae.Code.HTTPStatus() != http.StatusRequestEntityTooLarge || ae.Code != api.CodeBodyTooLarge {
			t.Fatalf("err %v mapped to %d %s", err, ae.Code.HTTPStatus(), ae.Code)
		}
	})
}

// csvLine renders vals as one CSV row.
func csvLine(vals []float32) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = strconv.FormatFloat(float64(v), 'g', -1, 32)
	}
	return strings.Join(parts, ",") + "\n"
}

func TestDecodeCSVHeaderOrder(t *testing.T) {
	meta := cancerMeta(t)
	rng := rand.New(rand.NewPCG(1, 2))
	perm := rng.Perm(len(meta.Features)) // column c holds feature perm[c]
	header := make([]string, len(perm))
	row := make([]float32, len(perm))
	for c, f := range perm {
		header[c] = meta.Features[f]
		if c%2 == 0 {
			header[c] = " " + header[c] + " " // trimmed
		}
		row[c] = float32(f)*10 + 0.25
	}
	var in bytes.Buffer
	w := csv.NewWriter(&in)
	_ = w.Write(header)
	w.Flush()
	in.WriteString(csvLine(row))
	in.WriteString(csvLine(row))

	d := NewDecoder(meta, 10, testMaxImage)
	if err := d.decodeCSV(&in); err != nil {
		t.Fatal(err)
	}
	items, err := d.result()
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 {
		t.Fatalf("%d items", len(items))
	}
	want := make([]float32, len(meta.Features))
	for i := range want {
		want[i] = float32(i)*10 + 0.25
	}
	for _, it := range items {
		if !bytes.Equal(it.Data, f32LE(want)) {
			t.Fatalf("encoded bytes are not in metadata order: %v", tensorValues(t, it))
		}
	}
}

func TestDecodeCSV(t *testing.T) {
	cancer := cancerMeta(t)
	digits := digitsMeta(t)
	header := strings.Join(cancer.Features, ",") + "\n"
	row := csvLine(ramp(30))
	sample := string(readTestdata(t, "breast_cancer_sample.csv"))
	tests := []struct {
		name    string
		meta    *model.Metadata
		in      string
		n       int
		errIdx  int
		errLine int
		err     string
		direct  string // error returned by decodeCSV itself (400 invalid_input unless status)
		status  int
	}{
		{name: "sample file", meta: cancer, in: sample, n: 50},
		{name: "no header", meta: cancer, in: row + row + row, n: 3},
		{name: "crlf and spaces", meta: cancer, in: strings.ReplaceAll(header+row, ",", " , ") + "\r\n", n: 1},
		{name: "digits without header", meta: digits, in: csvLine(ramp(64)), n: 1},
		{name: "header only", meta: cancer, in: header, err: "empty"},
		{name: "empty", meta: cancer, in: "", err: "empty"},
		{name: "wrong column count", meta: cancer, in: header + row + csvLine(ramp(29)), errIdx: 1, errLine: 3, err: "29 columns, expected 30"},
		{name: "wrong column count no header", meta: cancer, in: csvLine(ramp(31)) + row, errIdx: 0, errLine: 1, err: "31 columns, expected 30"},
		{name: "non-numeric cell", meta: cancer, in: row + strings.Replace(row, "3", "x", 1), errIdx: 1, errLine: 2, err: `column 4: "x" is not a finite number`},
		{name: "empty cell", meta: cancer, in: strings.Replace(row, ",1,", ",,", 1), errIdx: 0, errLine: 1, err: `column 2: "" is not a finite number`},
		{name: "NaN cell", meta: cancer, in: row + strings.Replace(row, "3", "NaN", 1), errIdx: 1, errLine: 2, err: "NaN"},
		{name: "Inf cell", meta: cancer, in: row + strings.Replace(row, "3", "Inf", 1), errIdx: 1, errLine: 2, err: "not a finite number"},
		{name: "overflow cell", meta: cancer, in: strings.Replace(row, "3", "1e39", 1), errIdx: 0, errLine: 1, err: "not a finite number"},
		{name: "NaN first cell", meta: cancer, in: strings.Replace(row, "0", "NaN", 1), errIdx: 0, errLine: 1, err: "finite"},
		{name: "digits out of range", meta: digits, in: csvLine(ramp(64)) + strings.Replace(csvLine(ramp(64)), "16", "17", 1), errIdx: 1, errLine: 2, err: "above the maximum 16"},
		{name: "unknown header name", meta: cancer, in: strings.Replace(header, "mean area", "mean colour", 1) + row, direct: `csv header: unknown feature "mean colour"`},
		{name: "duplicate header", meta: cancer, in: strings.Replace(header, "mean area", "mean radius", 1) + row, direct: `csv header: feature "mean radius" twice`},
		{name: "short header", meta: cancer, in: "mean radius,mean area\n" + row, direct: "csv header: 2 columns, model breast_cancer:1 has 30 features"},
		{name: "header on digits", meta: digits, in: "a,b\n" + csvLine(ramp(64)), direct: `csv: header "a" given but model digits:1 has no named features`},
		{name: "bare quote", meta: cancer, in: row + `1,2"3` + "\n", direct: "csv: "},
		{name: "too many rows", meta: cancer, in: header + strings.Repeat(row, 11), direct: "more than 10 items", status: http.StatusRequestEntityTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			maxItems := 10
			if tc.n > maxItems {
				maxItems = tc.n
			}
			d := NewDecoder(tc.meta, maxItems, testMaxImage)
			err := d.decodeCSV(strings.NewReader(tc.in))
			if tc.direct != "" {
				ae := asAPI(t, err)
				status, code := http.StatusBadRequest, api.CodeInvalidInput
				if tc.status != 0 {
					status, code = tc.status, api.CodeTooManyItems
				}
				if ae.Code.HTTPStatus() != status || ae.Code != code || !strings.Contains(ae.Message, tc.direct) {
					t.Fatalf("got %d %s %q, want %d %s %q", ae.Code.HTTPStatus(), ae.Code, ae.Message, status, code, tc.direct)
				}
				return
			}
			if err != nil {
				t.Fatalf("decodeCSV: %v", err)
			}
			items, err := d.result()
			switch {
			case tc.err == "empty":
				if ae := asAPI(t, err); !strings.Contains(ae.Message, "empty") {
					t.Fatalf("got %v", ae)
				}
			case tc.err != "":
				wantInvalid(t, err, tc.errIdx, tc.errLine, tc.err)
			default:
				if err != nil {
					t.Fatal(err)
				}
				if len(items) != tc.n {
					t.Fatalf("%d items, want %d", len(items), tc.n)
				}
				for _, it := range items {
					if it := it.Float32(); it.Kind != wire.ItemTensor || len(it.Data) != 4*tc.meta.ItemSize() {
						t.Fatalf("item kind %d, %d bytes", it.Kind, len(it.Data))
					}
				}
			}
		})
	}
}

// TestDecodeCSVSampleValues checks the first row of the sample file.
func TestDecodeCSVSampleValues(t *testing.T) {
	d := NewDecoder(cancerMeta(t), 100, testMaxImage)
	if err := d.decodeCSV(bytes.NewReader(readTestdata(t, "breast_cancer_sample.csv"))); err != nil {
		t.Fatal(err)
	}
	items, err := d.result()
	if err != nil {
		t.Fatal(err)
	}
	got := tensorValues(t, items[0])
	if got[0] != 12.75 || got[1] != 16.7 || got[29] != 0.08557 {
		t.Fatalf("first row %v", got)
	}
}

func TestDecodeJSONBody(t *testing.T) {
	tests := []struct {
		name string
		in   string
		err  string // "" for success
	}{
		{name: "ok", in: `{"model":"digits","inputs":[[1,2],{"b64":"AA=="}]}`},
		{name: "ok with whitespace", in: " \n{\"model\":\"digits\"}\n\t "},
		{name: "malformed", in: `{"model":`, err: "malformed JSON: unexpected EOF"},
		{name: "syntax error", in: `{"model" "digits"}`, err: "malformed JSON: invalid character"},
		{name: "syntax error offset", in: `{"model":"digits",}`, err: "at offset"},
		{name: "empty body", in: ``, err: "empty body: expected a JSON object"},
		{name: "blank body", in: " \n ", err: "empty body"},
		{name: "trailing object", in: `{"model":"digits"}{"model":"x"}`, err: "trailing data after the object"},
		{name: "trailing garbage", in: `{"model":"digits"} x`, err: "malformed JSON: trailing data after the object"},
		{name: "trailing brace", in: `{"model":"digits"}}`, err: "trailing data"},
		{name: "unknown field", in: `{"model":"digits","input":[]}`, err: `malformed JSON: json: unknown field "input"`},
		{name: "wrong type", in: `{"model":5}`, err: `field "model": expected string, got number`},
		{name: "array body", in: `[1]`, err: "got array"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var req api.JobRequest
			err := DecodeJSONBody(strings.NewReader(tc.in), &req)
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if req.Model != "digits" {
					t.Fatalf("model %q", req.Model)
				}
				return
			}
			ae := asAPI(t, err)
			if ae.Code.HTTPStatus() != http.StatusBadRequest || ae.Code != api.CodeInvalidJSON {
				t.Fatalf("got %d %s, want 400 %s", ae.Code.HTTPStatus(), ae.Code, api.CodeInvalidJSON)
			}
			if !strings.Contains(ae.Message, tc.err) {
				t.Fatalf("message %q does not contain %q", ae.Message, tc.err)
			}
		})
	}
}

func TestDecodeJSONBodyTooLarge(t *testing.T) {
	for _, in := range []string{`{"model":"digits"}`, `{"model":"dig`} {
		r := &errReader{data: []byte(in), err: &http.MaxBytesError{Limit: 5}}
		var req api.JobRequest
		err := DecodeJSONBody(r, &req)
		if ae := api.As(err); ae.Code.HTTPStatus() != http.StatusRequestEntityTooLarge || ae.Code != api.CodeBodyTooLarge {
			t.Fatalf("%q: err %v mapped to %d %s", in, err, ae.Code.HTTPStatus(), ae.Code)
		}
	}
}
