package oip

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"batchinfer/api"
	"batchinfer/model"
)

func digits(t testing.TB) *model.Metadata {
	t.Helper()
	m, err := model.ReadMetadata("../../model/models/digits/1")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var limits = Limits{MaxItems: 64, MinTimeout: 10 * time.Millisecond, MaxTimeout: 10 * time.Second}

// ramp is n items of digits' 64 values: item i's value j is (i+j)%17.
func ramp(n int) []float32 {
	v := make([]float32, 64*n)
	for i := range v {
		v[i] = float32((i/64 + i%64) % 17)
	}
	return v
}

func jsonNumbers(v []float32) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return "[" + strings.Join(s, ",") + "]"
}

func leFloat32(v []float32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// withBinary is a body of js then data, and the header length.
func withBinary(js string, data ...[]byte) ([]byte, int) {
	b := []byte(js)
	for _, d := range data {
		b = append(b, d...)
	}
	return b, len(js)
}

func nested(v []float32) string {
	var b strings.Builder
	b.WriteString("[")
	for i := 0; i < len(v)/64; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("[")
		for r := 0; r < 8; r++ {
			if r > 0 {
				b.WriteString(",")
			}
			b.WriteString("[")
			for c := 0; c < 8; c++ {
				if c > 0 {
					b.WriteString(",")
				}
				fmt.Fprintf(&b, "[%g]", v[i*64+r*8+c])
			}
			b.WriteString("]")
		}
		b.WriteString("]")
	}
	b.WriteString("]")
	return b.String()
}

// Requests that are read: the float32 items they give, and the outputs.
func TestParseRequest(t *testing.T) {
	meta := digits(t)
	two := ramp(2)
	f64 := make([]byte, 0, 8*128)
	i64 := make([]byte, 0, 8*128)
	f16 := make([]byte, 0, 2*128)
	u8 := make([]byte, 0, 128)
	for _, x := range two {
		u8 = append(u8, byte(x))
		f64 = binary.LittleEndian.AppendUint64(f64, math.Float64bits(float64(x)))
		i64 = binary.LittleEndian.AppendUint64(i64, uint64(int64(x)))
		f16 = binary.LittleEndian.AppendUint16(f16, half(x))
	}
	binBody := func(dt string, data []byte, extra string) ([]byte, int) {
		return withBinary(fmt.Sprintf(`{"inputs":[{"name":"pixels","shape":[2,8,8,1],"datatype":%q,"parameters":{"binary_data_size":%d}}]%s}`, dt, len(data), extra), data)
	}
	for _, tc := range []struct {
		name    string
		body    []byte
		hl      int
		items   []float32
		outputs string // name:binary:classes, ...
		id      string
		timeout time.Duration
	}{
		{name: "json flat", body: []byte(`{"inputs":[{"name":"pixels","shape":[2,8,8,1],"datatype":"FP32","data":` + jsonNumbers(two) + `}]}`), hl: -1,
			items: two, outputs: "probabilities:false:0,label:false:0,class:false:0"},
		{name: "json nested, id, kserve's model_name", body: []byte(`{"id":"r1","model_name":"digits","inputs":[{"name":"pixels","shape":[2,8,8,1],"datatype":"FP32","data":` + nested(two) + `}]}`), hl: -1,
			items: two, id: "r1", outputs: "probabilities:false:0,label:false:0,class:false:0"},
		{name: "json [n, item_size]", body: []byte(`{"inputs":[{"name":"pixels","shape":[2,64],"datatype":"FP32","data":` + jsonNumbers(two) + `}]}`), hl: -1,
			items: two, outputs: "probabilities:false:0,label:false:0,class:false:0"},
		{name: "json INT32", body: []byte(`{"inputs":[{"name":"pixels","shape":[2,64],"datatype":"INT32","data":` + jsonNumbers(two) + `}]}`), hl: -1,
			items: two, outputs: "probabilities:false:0,label:false:0,class:false:0"},
		{name: "binary FP32, all outputs binary (tritonclient's default)", hl: 0, items: two, outputs: "probabilities:true:0,label:true:0,class:true:0"},
		{name: "binary FP64, asked outputs", hl: 0, items: two, outputs: "label:false:0,probabilities:true:3"},
		{name: "binary INT64, timeout", hl: 0, items: two, outputs: "class:true:0", timeout: 250 * time.Millisecond},
		{name: "binary FP16", hl: 0, items: two, outputs: "probabilities:false:0,label:false:0,class:false:0"},
		{name: "binary UINT8: kept one byte a value", hl: 0, items: two, outputs: "probabilities:false:0,label:false:0,class:false:0"},
	} {
		switch tc.name {
		case "binary FP32, all outputs binary (tritonclient's default)":
			tc.body, tc.hl = binBody("FP32", leFloat32(two), `,"parameters":{"binary_data_output":true}`)
		case "binary FP64, asked outputs":
			tc.body, tc.hl = binBody("FP64", f64, `,"outputs":[{"name":"label","parameters":{"binary_data":false}},{"name":"probabilities","parameters":{"binary_data":true,"classification":3}}]`)
		case "binary INT64, timeout":
			tc.body, tc.hl = binBody("INT64", i64, `,"parameters":{"timeout":250000,"priority":1},"outputs":[{"name":"class","parameters":{"binary_data":true}}]`)
		case "binary FP16":
			tc.body, tc.hl = binBody("FP16", f16, "")
		case "binary UINT8: kept one byte a value":
			tc.body, tc.hl = binBody("UINT8", u8, "")
		}
		t.Run(tc.name, func(t *testing.T) {
			req, err := ParseRequest(tc.body, tc.hl, meta, limits)
			if err != nil {
				t.Fatal(err)
			}
			want, width := leFloat32(tc.items), 4
			if strings.Contains(tc.name, "UINT8") {
				want, width = u8, 1
			}
			if req.Items != len(tc.items)/64 || req.Width != width || string(req.Tensor) != string(want) {
				t.Fatalf("%d items of width %d, tensor differs: %v", req.Items, req.Width, req.Tensor[:16])
			}
			var outs []string
			for _, o := range req.Outputs {
				outs = append(outs, fmt.Sprintf("%s:%v:%d", o.Name, o.Binary, o.Classes))
			}
			if got := strings.Join(outs, ","); got != tc.outputs {
				t.Errorf("outputs %s, want %s", got, tc.outputs)
			}
			if req.ID != tc.id || req.Timeout != tc.timeout {
				t.Errorf("id %q timeout %s", req.ID, req.Timeout)
			}
		})
	}
}

// half is x as IEEE 754 half precision (x small integers: exact).
func half(x float32) uint16 {
	if x == 0 {
		return 0
	}
	b := math.Float32bits(x)
	exp := int(b>>23&0xff) - 127 + 15
	return uint16(b>>31<<15 | uint32(exp)<<10 | b>>13&0x3ff)
}

// Requests that are refused: the code and what the message names.
func TestParseRequestRefuses(t *testing.T) {
	meta := digits(t)
	one := jsonNumbers(ramp(1))
	in := func(fields string) []byte {
		return []byte(`{"inputs":[{"name":"pixels","shape":[1,64],"datatype":"FP32",` + fields + `}]}`)
	}
	big := make([]byte, 0, 8*64)
	for i := range 64 {
		big = binary.LittleEndian.AppendUint64(big, uint64(i)<<30)
	}
	bigBody, bigHL := withBinary(`{"inputs":[{"name":"pixels","shape":[1,64],"datatype":"INT64","parameters":{"binary_data_size":512}}]}`, big)
	binBody, binHL := withBinary(`{"inputs":[{"name":"pixels","shape":[1,64],"datatype":"FP32","parameters":{"binary_data_size":256}}]}`, leFloat32(ramp(1)))
	for _, tc := range []struct {
		name string
		body []byte
		hl   int
		code api.Code
		msg  string
	}{
		{"empty body", nil, -1, api.CodeInvalidJSON, "empty inference request"},
		{"not JSON", []byte("{inputs"), -1, api.CodeInvalidJSON, "invalid inference request"},
		{"unknown field", []byte(`{"input":[]}`), -1, api.CodeInvalidJSON, `unknown field "input"`},
		{"binary without the header", binBody, -1, api.CodeInvalidJSON, "Inference-Header-Content-Length"},
		{"no inputs", []byte(`{"inputs":[]}`), -1, api.CodeInvalidInput, `0 inputs: model digits:1 takes one input, "pixels"`},
		{"wrong input name", []byte(`{"inputs":[{"name":"x","shape":[1,64],"datatype":"FP32","data":` + one + `}]}`), -1, api.CodeInvalidInput, `unknown input "x"`},
		{"wrong shape", []byte(`{"inputs":[{"name":"pixels","shape":[1,8,8],"datatype":"FP32","data":` + one + `}]}`), -1, api.CodeInvalidInput, "has shape [1 8 8]: model digits:1 takes [n, 8, 8, 1] (or [n, 64])"},
		{"empty batch", []byte(`{"inputs":[{"name":"pixels","shape":[0,64],"datatype":"FP32","data":[]}]}`), -1, api.CodeInvalidInput, "the batch is empty"},
		{"too many items", []byte(`{"inputs":[{"name":"pixels","shape":[65,64],"datatype":"FP32","data":[]}]}`), -1, api.CodeTooManyItems, "65 items, the limit is 64"},
		{"BYTES", []byte(`{"inputs":[{"name":"pixels","shape":[1,64],"datatype":"BYTES","data":["a"]}]}`), -1, api.CodeInvalidInput, "datatype BYTES is not supported"},
		{"unknown datatype", []byte(`{"inputs":[{"name":"pixels","shape":[1,64],"datatype":"FLOAT","data":[]}]}`), -1, api.CodeInvalidInput, `unknown datatype "FLOAT"`},
		{"no data", in(`"parameters":{}`), -1, api.CodeInvalidInput, "neither data nor parameters.binary_data_size"},
		{"short data", in(`"data":[1,2,3]`), -1, api.CodeInvalidInput, "3 values where the shape [1 64] holds 64"},
		{"long data", in(`"data":` + jsonNumbers(ramp(2))), -1, api.CodeInvalidInput, "more values than the shape"},
		{"a string value", in(`"data":["1"]`), -1, api.CodeInvalidInput, "values must be numbers"},
		{"nested wrong", in(`"data":[[1,2],[3]]`), -1, api.CodeInvalidInput, "nested data does not match the shape [1 64]"},
		{"nested too deep", in(`"data":[[[1]]]`), -1, api.CodeInvalidInput, "deeper than the shape"},
		{"mixed", in(`"data":[1,[2]]`), -1, api.CodeInvalidInput, "mixes numbers and arrays"},
		{"out of FP32 range", in(`"data":[1e39]`), -1, api.CodeInvalidInput, `"1e39" is not a finite FP32 number`},
		{"integer beyond 2^24", bigBody, bigHL, api.CodeInvalidInput, "element 1: 1073741824 is beyond ±2^24"},
		{"JSON integer out of its type", []byte(`{"inputs":[{"name":"pixels","shape":[1,64],"datatype":"UINT8","data":[300]}]}`), -1, api.CodeInvalidInput, `"300" is not an integer in [0, 255]`},
		{"binary size wrong", func() []byte {
			b, _ := withBinary(`{"inputs":[{"name":"pixels","shape":[1,64],"datatype":"FP32","parameters":{"binary_data_size":255}}]}`, leFloat32(ramp(1)))
			return b
		}(), len(`{"inputs":[{"name":"pixels","shape":[1,64],"datatype":"FP32","parameters":{"binary_data_size":255}}]}`), api.CodeInvalidInput, "binary_data_size 255 where 64 FP32 values of shape [1 64] take 256 bytes"},
		{"binary short", binBody[:len(binBody)-1], binHL, api.CodeInvalidInput, "binary_data_size 256 but 255 bytes follow the JSON"},
		{"bytes after the binary", append(append([]byte{}, binBody...), 0), binHL, api.CodeInvalidInput, "1 bytes after the binary data"},
		{"both data and binary", in(`"data":` + one + `,"parameters":{"binary_data_size":256}`), -1, api.CodeInvalidInput, "both data and parameters.binary_data_size"},
		{"negative binary size", in(`"parameters":{"binary_data_size":-1}`), -1, api.CodeInvalidInput, "binary_data_size must be a length in bytes"},
		{"shared memory", in(`"parameters":{"shared_memory_region":"r"}`), -1, api.CodeInvalidInput, "shared memory is not supported"},
		{"other model's name", []byte(`{"model_name":"iris","inputs":[]}`), -1, api.CodeBadRequest, `model_name "iris" differs`},
		{"other version", []byte(`{"model_version":"2","inputs":[]}`), -1, api.CodeBadRequest, `model_version "2" differs`},
		{"timeout too long", []byte(`{"parameters":{"timeout":20000000},"inputs":[]}`), -1, api.CodeBadRequest, "parameters.timeout must be microseconds in [10000, 10000000]"},
		{"timeout not a number", []byte(`{"parameters":{"timeout":"1s"},"inputs":[]}`), -1, api.CodeInvalidInput, "parameters.timeout must be an integer"},
		{"binary_data_output not bool", []byte(`{"parameters":{"binary_data_output":1},"inputs":[]}`), -1, api.CodeInvalidInput, "binary_data_output must be true or false"},
		{"sequence", []byte(`{"parameters":{"sequence_id":7},"inputs":[]}`), -1, api.CodeInvalidInput, "sequences are not supported"},
		{"output unknown", outputsBody(one, `[{"name":"logits"}]`), -1, api.CodeInvalidInput, `unknown output "logits": model digits:1 has outputs "probabilities", "label", "class"`},
		{"output twice", outputsBody(one, `[{"name":"label"},{"name":"label"}]`), -1, api.CodeInvalidInput, `output "label" is asked for twice`},
		{"classification too many", outputsBody(one, `[{"name":"probabilities","parameters":{"classification":11}}]`), -1, api.CodeInvalidInput, "classification must be an integer in [1, 10], not 11"},
		{"classification of label", outputsBody(one, `[{"name":"label","parameters":{"classification":1}}]`), -1, api.CodeInvalidInput, "classification applies to the probabilities output"},
		{"binary_data not bool", outputsBody(one, `[{"name":"label","parameters":{"binary_data":"yes"}}]`), -1, api.CodeInvalidInput, "binary_data must be true or false"},
		{"output in shared memory", outputsBody(one, `[{"name":"label","parameters":{"shared_memory_region":"r"}}]`), -1, api.CodeInvalidInput, "shared memory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRequest(tc.body, tc.hl, meta, limits)
			var e *api.Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v, want an api.Error", err)
			}
			if e.Code != tc.code || !strings.Contains(e.Message, tc.msg) {
				t.Fatalf("got %s %q, want %s containing %q", e.Code, e.Message, tc.code, tc.msg)
			}
		})
	}
}

func outputsBody(data, outputs string) []byte {
	return []byte(`{"inputs":[{"name":"pixels","shape":[1,64],"datatype":"FP32","data":` + data + `}],"outputs":` + outputs + `}`)
}

func TestHeaderLength(t *testing.T) {
	for _, tc := range []struct {
		v    string
		body int
		want int
		err  string
	}{
		{"", 10, -1, ""},
		{"7", 10, 7, ""},
		{" 10 ", 10, 10, ""},
		{"11", 10, 0, "more than the body's 10 bytes"},
		{"-1", 10, 0, "is not a length"},
		{"x", 10, 0, "is not a length"},
		{"99999999999999999999", 10, 0, "is not a length"},
	} {
		n, err := HeaderLength(tc.v, tc.body)
		if tc.err == "" && (err != nil || n != tc.want) || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("HeaderLength(%q, %d) = %d, %v", tc.v, tc.body, n, err)
		}
	}
}

// Each datatype's elements convert exactly, or are refused.
func TestDatatypes(t *testing.T) {
	for _, tc := range []struct {
		dt   string
		elem []byte
		want float32
		err  string
	}{
		{"FP32", binary.LittleEndian.AppendUint32(nil, math.Float32bits(1.5)), 1.5, ""},
		{"FP16", []byte{0x00, 0x3e}, 1.5, ""},
		{"FP16", []byte{0x01, 0x00}, 1.0 / (1 << 24), ""}, // smallest subnormal
		{"FP16", []byte{0x00, 0xfc}, float32(math.Inf(-1)), ""},
		{"BF16", []byte{0xc0, 0x3f}, 1.5, ""},
		{"FP64", binary.LittleEndian.AppendUint64(nil, math.Float64bits(0.1)), 0.1, ""},
		{"FP64", binary.LittleEndian.AppendUint64(nil, math.Float64bits(1e300)), 0, "beyond the range of FP32"},
		{"INT8", []byte{0xff}, -1, ""},
		{"INT16", []byte{0x00, 0x80}, -32768, ""},
		{"INT32", binary.LittleEndian.AppendUint32(nil, 1<<24), 1 << 24, ""},
		{"INT32", binary.LittleEndian.AppendUint32(nil, 1<<24+1), 0, "beyond ±2^24"},
		{"INT64", binary.LittleEndian.AppendUint64(nil, uint64(1)<<63), 0, "beyond ±2^24"},
		{"UINT8", []byte{0xff}, 255, ""},
		{"UINT16", []byte{0xff, 0xff}, 65535, ""},
		{"UINT32", []byte{0xff, 0xff, 0xff, 0xff}, 0, "beyond ±2^24"},
		{"UINT64", binary.LittleEndian.AppendUint64(nil, 7), 7, ""},
		{"UINT64", binary.LittleEndian.AppendUint64(nil, math.MaxUint64), 0, "beyond ±2^24"},
	} {
		got, err := numerics[tc.dt].binary(tc.elem)
		if tc.err == "" && (err != nil || got != tc.want) || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s % x = %v, %v; want %v %q", tc.dt, tc.elem, got, err, tc.want, tc.err)
		}
	}
}
