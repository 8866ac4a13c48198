package oip

import (
	"encoding/json"
	"fmt"
	"testing"

	"batchinfer/internal/wire"
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
