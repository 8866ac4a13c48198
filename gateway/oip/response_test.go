package oip

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"batchinfer/api"
	"batchinfer/internal/wire"
	"batchinfer/model"
)

func results(probs ...[]float32) []wire.ItemResult {
	out := make([]wire.ItemResult, len(probs))
	for i, p := range probs {
		best := 0
		for c := range p {
			if p[c] > p[best] {
				best = c
			}
		}
		out[i] = wire.ItemResult{Index: i, Label: string(rune('0' + best)), Class: &best, Score: p[best], Probabilities: p}
	}
	return out
}

func probs(hot int, v float32) []float32 {
	p := make([]float32, 10)
	for i := range p {
		p[i] = (1 - v) / 9
	}
	p[hot] = v
	return p
}

// The response's JSON part and binary data for each kind of output.
func TestEncode(t *testing.T) {
	meta := digits(t)
	res := results(probs(7, 0.9), probs(2, 0.6))
	for _, tc := range []struct {
		name    string
		outputs []Output
		js      string
		bin     []byte
	}{
		{"json, all", []Output{{Name: "probabilities"}, {Name: "label", kind: label}, {Name: "class", kind: class}},
			`{"model_name":"digits","model_version":"1","id":"r","outputs":[` +
				`{"name":"probabilities","datatype":"FP32","shape":[2,10],"data":[0.011111114,0.011111114,0.011111114,0.011111114,0.011111114,0.011111114,0.011111114,0.9,0.011111114,0.011111114,0.04444444,0.04444444,0.6,0.04444444,0.04444444,0.04444444,0.04444444,0.04444444,0.04444444,0.04444444]},` +
				`{"name":"label","datatype":"BYTES","shape":[2],"data":["7","2"]},` +
				`{"name":"class","datatype":"INT64","shape":[2],"data":[7,2]}]}`, nil},
		{"binary label and class", []Output{{Name: "label", kind: label, Binary: true}, {Name: "class", kind: class, Binary: true}},
			`{"model_name":"digits","model_version":"1","id":"r","outputs":[` +
				`{"name":"label","datatype":"BYTES","shape":[2],"parameters":{"binary_data_size":10}},` +
				`{"name":"class","datatype":"INT64","shape":[2],"parameters":{"binary_data_size":16}}]}`,
			[]byte{1, 0, 0, 0, '7', 1, 0, 0, 0, '2', 7, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0}},
		{"classification", []Output{{Name: "probabilities", Classes: 2}},
			`{"model_name":"digits","model_version":"1","id":"r","outputs":[` +
				`{"name":"probabilities","datatype":"BYTES","shape":[2,2],"data":["0.9:7:7","0.011111114:0:0","0.6:2:2","0.04444444:0:0"]}]}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			js, bin, err := Encode(meta, &Request{ID: "r", Items: 2, Outputs: tc.outputs}, res)
			if err != nil {
				t.Fatal(err)
			}
			if string(js) != tc.js {
				t.Errorf("JSON\n%s\nwant\n%s", js, tc.js)
			}
			if string(bin) != string(tc.bin) {
				t.Errorf("binary % x\nwant % x", bin, tc.bin)
			}
		})
	}
}

func TestEncodeBinaryProbabilities(t *testing.T) {
	meta := digits(t)
	p := probs(3, 0.75)
	js, bin, err := Encode(meta, &Request{Items: 1, Outputs: []Output{{Name: "probabilities", Binary: true}}}, results(p))
	if err != nil {
		t.Fatal(err)
	}
	var resp api.OIPInferResponse
	if err := json.Unmarshal(js, &resp); err != nil {
		t.Fatal(err)
	}
	if o := resp.Outputs[0]; o.Parameters == nil || o.Parameters.BinaryDataSize != 40 || o.Data != nil || len(bin) != 40 {
		t.Fatalf("%s, %d bytes", js, len(bin))
	}
	for i := range p {
		if got := math.Float32frombits(binary.LittleEndian.Uint32(bin[4*i:])); got != p[i] {
			t.Fatalf("probability %d: %v, want %v", i, got, p[i])
		}
	}
}

// A model of more classes than the worker sends probabilities of: its
// probabilities are not an output by default, and classification reads
// the top classes the worker sends.
func TestManyClasses(t *testing.T) {
	meta := &model.Metadata{Name: "wide", Version: "1", Input: model.TensorSpec{Key: "x", DType: "float32", Shape: []int64{-1, 2}},
		Output: model.TensorSpec{Key: "scores", DType: "float32", Shape: []int64{-1, 40}}, TopK: 3}
	body := []byte(`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,2]}]}`)
	req, err := ParseRequest(body, -1, meta, limits)
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Outputs) != 2 || req.Outputs[0].Name != "label" || req.Outputs[1].Name != "class" {
		t.Fatalf("default outputs %+v", req.Outputs)
	}
	_, err = ParseRequest([]byte(`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,2]}],"outputs":[{"name":"scores"}]}`), -1, meta, limits)
	if err == nil || !strings.Contains(err.Error(), "only the top 3 of each item are kept") {
		t.Fatalf("asking the probabilities: %v", err)
	}
	req, err = ParseRequest([]byte(`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,2]}],"outputs":[{"name":"scores","parameters":{"classification":2}}]}`), -1, meta, limits)
	if err != nil {
		t.Fatal(err)
	}
	c := 17
	r := []wire.ItemResult{{Label: "a", Class: &c, Score: 0.5, Top: []wire.Class{{Label: "a", Class: 17, Score: 0.5}, {Label: "b", Class: 3, Score: 0.25}, {Class: 9, Score: 0.125}}}}
	js, _, err := Encode(meta, req, r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `"data":["0.5:17:a","0.25:3:b"]`) {
		t.Fatalf("%s", js)
	}
	if got := ModelMetadata(meta, []string{"1"}); len(got.Outputs) != 3 || got.Outputs[0].Name != "scores" {
		t.Fatalf("metadata %+v", got)
	}
}

func TestEncodeFailedItem(t *testing.T) {
	meta := digits(t)
	res := results(probs(1, 0.5))
	res[0].Error = "model failed"
	_, _, err := Encode(meta, &Request{Items: 1, Outputs: []Output{{Name: "label", kind: label}}}, res)
	var e *api.Error
	if !errors.As(err, &e) || e.Code != api.CodeInternal || !strings.Contains(e.Message, "item 0 failed on the worker: model failed") {
		t.Fatalf("%v", err)
	}
	if _, _, err := Encode(meta, &Request{Items: 2}, res); err == nil {
		t.Fatal("2 items, 1 result: no error")
	}
}

func TestModelMetadata(t *testing.T) {
	got, _ := json.Marshal(ModelMetadata(digits(t), []string{"1", "2"}))
	want := `{"name":"digits","versions":["1","2"],"platform":"batchinfer",` +
		`"inputs":[{"name":"pixels","datatype":"FP32","shape":[-1,8,8,1]}],` +
		`"outputs":[{"name":"probabilities","datatype":"FP32","shape":[-1,10]},{"name":"label","datatype":"BYTES","shape":[-1]},{"name":"class","datatype":"INT64","shape":[-1]}]}`
	if string(got) != want {
		t.Fatalf("%s\nwant\n%s", got, want)
	}
}

// The workers' results read back as encoding/json reads them (float32
// parsing included), and anything else is an error.
func TestDecodeResults(t *testing.T) {
	c := 2
	want := []wire.ItemResult{
		{Index: 0, Label: "2", Class: &c, Score: 0.7, Top: []wire.Class{{Label: "2", Class: 2, Score: 0.7}, {Label: "x:y", Class: 0, Score: 1.0 / 3}}, Probabilities: []float32{1.0 / 3, 0.1, 0.7, 1e-45}},
		{Index: 1, Error: "model failed"},
	}
	b, _ := json.Marshal(want)
	var std []wire.ItemResult
	if err := json.Unmarshal(b, &std); err != nil {
		t.Fatal(err)
	}
	got, err := DecodeResults(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range std {
		std[i].Index, std[i].Score = 0, 0 // not read: the order is the index, top has the score
	}
	if !reflect.DeepEqual(got, std) {
		t.Fatalf("\n%+v\nwant\n%+v", got, std)
	}
	for _, bad := range []string{``, `{}`, `[{"class":"x"}]`, `[{"probabilities":[1,"x"]}]`, `[{"top":[{"score":null}]}]`, `[{"probabilities":[1e99]}]`} {
		if _, err := DecodeResults([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
