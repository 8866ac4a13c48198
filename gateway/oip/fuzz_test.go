package oip

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"batchinfer/api"
	"batchinfer/internal/wire"
)

// Bodies of any bytes, with any Inference-Header-Content-Length, never
// crash the reader: they are refused with an api.Error, or give at most
// MaxItems items of exactly the model's size, whose answer encodes with
// binary sizes that add up to the binary data.
func FuzzParseRequest(f *testing.F) {
	meta := digits(f)
	one := jsonNumbers(ramp(1))
	f.Add([]byte(`{"inputs":[{"name":"pixels","shape":[1,64],"datatype":"FP32","data":`+one+`}]}`), "")
	f.Add([]byte(`{"inputs":[{"name":"pixels","shape":[1,8,8,1],"datatype":"INT8","data":`+nested(ramp(1))+`}],"outputs":[{"name":"probabilities","parameters":{"classification":3}}]}`), "")
	js := `{"inputs":[{"name":"pixels","shape":[1,64],"datatype":"FP32","parameters":{"binary_data_size":256}}],"parameters":{"binary_data_output":true}}`
	f.Add(append([]byte(js), leFloat32(ramp(1))...), fmt.Sprint(len(js)))
	js = `{"inputs":[{"name":"pixels","shape":[2,64],"datatype":"FP16","parameters":{"binary_data_size":256}}],"outputs":[{"name":"label"},{"name":"class","parameters":{"binary_data":true}}]}`
	f.Add(append([]byte(js), make([]byte, 256)...), fmt.Sprint(len(js)))
	f.Add([]byte(`{"inputs":[{"name":"pixels","shape":[1,64],"datatype":"FP64","parameters":{"binary_data_size":-8}}]}`), "3")
	f.Fuzz(func(t *testing.T, body []byte, header string) {
		hl, err := HeaderLength(header, len(body))
		if err != nil {
			checkRefusal(t, err)
			return
		}
		req, err := ParseRequest(body, hl, meta, limits)
		if err != nil {
			checkRefusal(t, err)
			return
		}
		if req.Items < 1 || req.Items > limits.MaxItems || len(req.Tensor) != req.Width*64*req.Items || req.Width != 4 && req.Width != 1 {
			t.Fatalf("%d items, %d bytes", req.Items, len(req.Tensor))
		}
		res := make([]wire.ItemResult, req.Items)
		for i := range res {
			res[i] = results(probs(i%10, 0.5))[0]
		}
		js, bin, err := Encode(meta, req, res)
		if err != nil {
			t.Fatal(err)
		}
		var resp api.OIPInferResponse
		if err := json.Unmarshal(js, &resp); err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, o := range resp.Outputs {
			if o.Parameters != nil {
				total += o.Parameters.BinaryDataSize
			}
		}
		if total != len(bin) {
			t.Fatalf("binary sizes add to %d, the data has %d bytes", total, len(bin))
		}
	})
}

// checkRefusal: a refusal is a client error with a message.
func checkRefusal(t *testing.T, err error) {
	var e *api.Error
	if !errors.As(err, &e) || e.Code.HTTPStatus() >= 500 || e.Message == "" {
		t.Fatalf("refusal %v is not a client error with a message", err)
	}
}
