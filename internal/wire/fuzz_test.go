package wire

import (
	"bytes"
	"testing"
)

func FuzzDecodeChunk(f *testing.F) {
	f.Add(EncodeChunk(nil, nil))
	f.Add(EncodeChunk(nil, []Item{{Kind: ItemTensor, Data: []byte{0, 0, 128, 63}}}))
	f.Add(EncodeChunk(nil, []Item{{Kind: ItemImage, Data: bytes.Repeat([]byte{7}, 200)}, {Kind: ItemTensor}}))
	f.Add([]byte("BIC\x01\x80\x00"))
	f.Add([]byte("BIC\x01\x01\x01\x80\x00"))
	f.Add([]byte("BIC\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"))
	f.Add([]byte("BIC\x02\x00"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		items, err := DecodeChunk(b)
		if err != nil {
			if items != nil {
				t.Fatal("items with an error")
			}
			return
		}
		re := EncodeChunk(nil, items)
		if !bytes.Equal(re, b) {
			t.Fatalf("re-encoding % x gives % x", b, re)
		}
		again, err := DecodeChunk(re)
		if err != nil || !itemsEqual(again, items) {
			t.Fatalf("decoding the re-encoding: %v", err)
		}
	})
}
