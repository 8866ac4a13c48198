package input

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"net/http"
	"strings"
	"testing"

	"batchinfer/api"
	"batchinfer/internal/wire"
)

// checkDecodeErr checks that an error returned by a decoder entry point is
// an APIError a handler can send as a client error.
func checkDecodeErr(t *testing.T, err error) {
	t.Helper()
	var ae *api.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an APIError", err, err)
	}
	if ae.Code.HTTPStatus() < 400 || ae.Code.HTTPStatus() > 499 || ae.Code == "" || ae.Message == "" {
		t.Fatalf("error %+v is not a client error", ae)
	}
}

// checkResult checks the outcome of result() on a decoder after any input.
func checkResult(t *testing.T, d *Decoder) {
	t.Helper()
	items, err := d.result()
	if err != nil {
		checkDecodeErr(t, err)
		var ae *api.Error
		errors.As(err, &ae)
		if ae.Code.HTTPStatus() != http.StatusBadRequest || ae.Code != api.CodeInvalidInput {
			t.Fatalf("result error %d %s", ae.Code.HTTPStatus(), ae.Code)
		}
		if len(ae.Details) > maxItemErrors {
			t.Fatalf("%d details", len(ae.Details))
		}
		for _, det := range ae.Details {
			if det.Item == nil || *det.Item < 0 || *det.Item >= len(d.items) || det.Message == "" {
				t.Fatalf("bad detail %+v", det)
			}
		}
		return
	}
	if len(items) == 0 || len(items) > d.maxItems {
		t.Fatalf("%d items", len(items))
	}
	for i, it := range items {
		checkItem(t, d, i, it)
	}
}

// checkItem checks a successfully decoded item: a tensor of item_size
// finite values within the model's range, or an image (image models only).
func checkItem(t *testing.T, d *Decoder, i int, it wire.Item) {
	t.Helper()
	switch it = it.Float32(); it.Kind { // either tensor kind, as float32s
	case wire.ItemTensor:
		if len(it.Data) != 4*d.itemSize {
			t.Fatalf("item %d: tensor of %d bytes, want %d", i, len(it.Data), 4*d.itemSize)
		}
		for k := 0; k < d.itemSize; k++ {
			v := float64(math.Float32frombits(binary.LittleEndian.Uint32(it.Data[4*k:])))
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("item %d value %d is %v", i, k, v)
			}
			if mn := d.meta.Input.Min; mn != nil && v < *mn {
				t.Fatalf("item %d value %d is %v < %v", i, k, v, *mn)
			}
			if mx := d.meta.Input.Max; mx != nil && v > *mx {
				t.Fatalf("item %d value %d is %v > %v", i, k, v, *mx)
			}
		}
	case wire.ItemImage:
		if d.meta.Preprocessing.Image == nil {
			t.Fatalf("item %d: image accepted by a model without image preprocessing", i)
		}
		if len(it.Data) == 0 || len(it.Data) > d.maxImageBytes {
			t.Fatalf("item %d: image of %d bytes", i, len(it.Data))
		}
	default:
		t.Fatalf("item %d: kind %d", i, it.Kind)
	}
}

func FuzzParseNumberArray(f *testing.F) {
	shapes := [][]int64{{3}, {2, 3}, {8, 8, 1}, {1, 1, 1, 1}}
	for _, s := range []string{
		"[1,2,3]", "[[1,2,3],[4,5,6]]", " [ [1 ,2,3] , [4,5,6 ] ] ", "[]", "[[]]",
		"[1e999]", "[NaN]", "[-Infinity]", "[1,2,]", "[1 2]", "[[1],2]", "[1]x",
		"[-0.5e-3, +1, .5, 1.]", `["1"]`, "[true,null]", "[", "", "[[[[[[",
		nestedDigits(ramp(64)), numArray(ramp(64)),
	} {
		for sh := range shapes {
			f.Add([]byte(s), uint8(sh))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte, shape uint8) {
		dims := shapes[int(shape)%len(shapes)]
		want := int64(1)
		for _, d := range dims {
			want *= d
		}
		prefix := []float32{7}
		vals, err := parseNumberArray(b, dims, prefix)
		if err != nil {
			if vals != nil {
				t.Fatalf("values with an error")
			}
			return
		}
		if len(vals) < 1 || vals[0] != 7 {
			t.Fatalf("dst prefix lost: %v", vals)
		}
		for i, v := range vals[1:] {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("value %d is %v", i, v)
			}
		}
		// A nested array must have exactly the shape's element count.
		trimmed := bytes.TrimLeft(b, " \t\r\n")
		if len(trimmed) > 1 && bytes.HasPrefix(bytes.TrimLeft(trimmed[1:], " \t\r\n"), []byte("[")) && int64(len(vals)-1) != want {
			t.Fatalf("nested input gave %d values for shape %v", len(vals)-1, dims)
		}
	})
}

func itemSeeds() []string {
	vals := ramp(64)
	nan := f32LE(vals)
	binary.LittleEndian.PutUint32(nan[8:], 0x7f800001)
	return []string{
		numArray(vals), nestedDigits(vals), numArray(ramp(63)), "[]", "[17" + strings.Repeat(",0", 63) + "]",
		b64Item(f32LE(vals)), b64Item(f32LE(ramp(63))), b64Item(nan), `{"b64":"***"}`,
		`{"image":"iVBORw0KGgo="}`, `{"image":"R0lGODlhAQABAAAAACw="}`,
		`{"features":{"a":1}}`, `{}`, `{"b64":"","image":""}`, `{"x":1}`, `{"b64":null}`,
		`5`, `"x"`, `null`, `{"b64":"AAAA"} x`, "[NaN]", "[1e999]",
	}
}

func FuzzDecodeItem(f *testing.F) {
	meta := digitsMeta(f)
	for _, s := range itemSeeds() {
		f.Add([]byte(s))
	}
	f.Add([]byte(imageItem(readTestdata(f, "digits_7.png"))))
	f.Fuzz(func(t *testing.T, raw []byte) {
		d := NewDecoder(meta, 10, 4096)
		it, err := d.decodeItem(raw)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		checkItem(t, d, 0, it)
		// Through add and result as well.
		if err := d.add(raw, 0); err != nil {
			t.Fatal(err)
		}
		items, err := d.result()
		if err != nil || len(items) != 1 || items[0].Kind != it.Kind || !bytes.Equal(items[0].Data, it.Data) {
			t.Fatalf("add/result disagrees with decodeItem: %v", err)
		}
	})
}

func FuzzDecodeNDJSON(f *testing.F) {
	meta := digitsMeta(f)
	f.Add([]byte(strings.Join(itemSeeds(), "\n")), uint16(1<<15))
	f.Add(readTestdata(f, "digits_sample.ndjson"), uint16(1<<15))
	f.Add([]byte("\n\n"+numArray(ramp(64))+"\r\n\n"), uint16(300))
	f.Add([]byte(numArray(ramp(64))+"\n"+numArray(ramp(64))), uint16(10))
	f.Add([]byte(""), uint16(0))
	f.Fuzz(func(t *testing.T, body []byte, maxLine uint16) {
		d := NewDecoder(meta, 8, 4096)
		limit := int(maxLine)%(1<<16) + 1
		if err := d.decodeNDJSON(bytes.NewReader(body), limit); err != nil {
			checkDecodeErr(t, err)
			return
		}
		nonBlank := 0
		for _, l := range bytes.Split(body, []byte("\n")) {
			if len(bytes.TrimSpace(l)) > 0 {
				nonBlank++
			}
			if len(l) >= limit {
				t.Fatalf("line of %d bytes accepted with a %d limit", len(l), limit)
			}
		}
		if len(d.items) != nonBlank {
			t.Fatalf("%d items from %d non-blank lines", len(d.items), nonBlank)
		}
		checkResult(t, d)
	})
}

func FuzzDecodeCSV(f *testing.F) {
	meta := cancerMeta(f)
	header := strings.Join(meta.Features, ",")
	row := strings.TrimSuffix(csvLine(ramp(30)), "\n")
	f.Add(readTestdata(f, "breast_cancer_sample.csv"))
	for _, s := range []string{
		header + "\n" + row + "\n", row + "\n" + row, header, "", "\n\n",
		strings.Replace(header, "mean area", "mean radius", 1) + "\n" + row,
		strings.Replace(header, "mean area", "x", 1) + "\n" + row,
		"a,b\n1,2\n", row + ",1\n" + row, strings.Replace(row, "1", "NaN", 1),
		strings.Replace(row, "1", "Inf", 1), strings.Replace(row, "1", `"1"`, 1),
		`1,2"3`, "\"a\nb\",1\n", "NaN\n", "\ufeff" + header + "\n" + row,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		d := NewDecoder(meta, 16, 4096)
		if err := d.decodeCSV(bytes.NewReader(body)); err != nil {
			checkDecodeErr(t, err)
			return
		}
		checkResult(t, d)
	})
}
