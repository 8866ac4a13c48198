package oip

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"batchinfer/gateway/input"
	"batchinfer/internal/wire"
	"batchinfer/model"
)

// BenchmarkCodec is the gateway's work on an inference of n digits that
// /v1 predict does not do: read the binary request, decode the worker's
// results, write the binary (or JSON) response.
func BenchmarkCodec(b *testing.B) {
	meta := digits(b)
	for _, n := range []int{1, 64} {
		for _, binaryOut := range []bool{true, false} {
			js := fmt.Sprintf(`{"inputs":[{"name":"pixels","shape":[%d,8,8,1],"datatype":"FP32","parameters":{"binary_data_size":%d}}],"parameters":{"binary_data_output":%v}}`, n, 256*n, binaryOut)
			body := append([]byte(js), leFloat32(ramp(n))...)
			res := make([]wire.ItemResult, n)
			for i := range res {
				res[i] = results(probs(i%10, 0.9))[0]
				res[i].Top = []wire.Class{{Label: "1", Class: 1, Score: 0.9}, {Label: "2", Class: 2, Score: 0.05}, {Label: "3", Class: 3, Score: 0.01}}
			}
			items, _ := json.Marshal(res)
			b.Run(fmt.Sprintf("items=%d/binary=%v", n, binaryOut), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					req, err := ParseRequest(body, len(js), meta, limits)
					if err != nil {
						b.Fatal(err)
					}
					got, err := DecodeResults(items)
					if err != nil {
						b.Fatal(err)
					}
					if _, _, err := Encode(meta, req, got); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkImageInput is the gateway's work on the input of an image
// classifier's inference (one 224 × 224 × 3 image, as tritonclient sends
// it in binary): read the request, then check and take its tensor as the
// items that go to the worker. UINT8 pixels stay one byte a value; FP32
// pixels (integers in [0, 255]) are checked and narrowed to it.
func BenchmarkImageInput(b *testing.B) {
	lo, hi := 0.0, 255.0
	meta := &model.Metadata{Name: "image", Version: "1",
		Input:  model.TensorSpec{Key: "image", DType: "float32", Shape: []int64{-1, 224, 224, 3}, Min: &lo, Max: &hi},
		Output: model.TensorSpec{Key: "probabilities", DType: "float32", Shape: []int64{-1, 1000}}}
	px := make([]byte, 224*224*3)
	for i := range px {
		px[i] = byte(i * 7)
	}
	for _, tc := range []struct {
		dt   string
		data []byte
	}{{"UINT8", px}, {"FP32", leFloat32(widen(px))}} {
		js := fmt.Sprintf(`{"inputs":[{"name":"image","shape":[1,224,224,3],"datatype":%q,"parameters":{"binary_data_size":%d}}]}`, tc.dt, len(tc.data))
		body := append([]byte(js), tc.data...)
		b.Run(tc.dt, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				req, err := ParseRequest(body, len(js), meta, limits)
				if err != nil {
					b.Fatal(err)
				}
				src := input.Raw(bytes.NewReader(req.Tensor))
				if req.Width == 1 {
					src = input.RawBytes(bytes.NewReader(req.Tensor))
				}
				items, err := input.Decode(meta, input.Limits{MaxItems: 1}, src)
				if err != nil || len(items) != 1 || items[0].Kind != wire.ItemTensorU8 {
					b.Fatalf("%d items, %v", len(items), err)
				}
			}
		})
	}
}

func widen(px []byte) []float32 {
	v := make([]float32, len(px))
	for i, p := range px {
		v[i] = float32(p)
	}
	return v
}
