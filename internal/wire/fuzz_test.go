package wire

import (
	"bytes"
	"fmt"
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
	f.Add(EncodeChunkMeta(nil, []Item{{Kind: ItemTensor, Data: []byte{1}}}, ChunkMeta{Lines: []int{3}, IDs: []string{"a"}}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		items, meta, err := DecodeChunkMeta(b)
		if err != nil {
			if items != nil {
				t.Fatal("items with an error")
			}
			return
		}
		re := EncodeChunkMeta(nil, items, meta)
		if b[3] == 1 && !bytes.Equal(re, b) { // version 1 has one encoding
			t.Fatalf("re-encoding % x gives % x", b, re)
		}
		again, againMeta, err := DecodeChunkMeta(re)
		if err != nil || !itemsEqual(again, items) || fmt.Sprint(againMeta) != fmt.Sprint(meta) {
			t.Fatalf("decoding the re-encoding: %v", err)
		}
	})
}
