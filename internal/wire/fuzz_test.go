package wire

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
)

func fitsBytes(it Item) bool { return it.Kind == ItemTensor && bytesFit(it.Data) }

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
	f.Add(EncodeChunk(nil, []Item{{Kind: ItemTensorU8, Data: []byte{0, 7, 255}}, {Kind: ItemTensor, Data: []byte{0, 0, 0, 0x80}}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		items, meta, err := DecodeChunkMeta(b)
		if err != nil {
			if items != nil {
				t.Fatal("items with an error")
			}
			return
		}
		re := EncodeChunkMeta(nil, items, meta)
		// Version 1 has one encoding, once tensors that fit are in bytes.
		if b[3] == 1 && !bytes.Equal(re, b) && !slices.ContainsFunc(items, fitsBytes) {
			t.Fatalf("re-encoding % x gives % x", b, re)
		}
		again, againMeta, err := DecodeChunkMeta(re)
		if err != nil || !itemsEqual(again, items) || fmt.Sprint(againMeta) != fmt.Sprint(meta) {
			t.Fatalf("decoding the re-encoding: %v", err)
		}
		if re2 := EncodeChunkMeta(nil, again, againMeta); !bytes.Equal(re2, re) {
			t.Fatalf("encoding is not stable: % x, then % x", re, re2)
		}
	})
}
