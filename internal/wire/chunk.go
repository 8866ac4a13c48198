package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Item kinds in a chunk.
const (
	// ItemTensor is ItemSize little-endian float32 values.
	ItemTensor byte = 1
	// ItemImage is an encoded image (PNG, JPEG, GIF) the worker decodes.
	ItemImage byte = 2
)

// Item is one input of a chunk.
type Item struct {
	Kind byte
	Data []byte
}

// chunkMagic starts every encoded chunk; the last byte is the format version.
var chunkMagic = [4]byte{'B', 'I', 'C', 1}

// ErrBadChunk is returned for a chunk payload that cannot be decoded.
var ErrBadChunk = errors.New("malformed chunk")

// EncodeChunk appends the binary encoding of items to dst:
// magic, uvarint count, then per item its kind byte, uvarint length and bytes.
func EncodeChunk(dst []byte, items []Item) []byte {
	dst = append(dst, chunkMagic[:]...)
	dst = binary.AppendUvarint(dst, uint64(len(items)))
	for _, it := range items {
		dst = append(dst, it.Kind)
		dst = binary.AppendUvarint(dst, uint64(len(it.Data)))
		dst = append(dst, it.Data...)
	}
	return dst
}

// DecodeChunk decodes a chunk payload. Item data alias b.
func DecodeChunk(b []byte) ([]Item, error) {
	if len(b) < len(chunkMagic) || [4]byte(b[:4]) != chunkMagic {
		return nil, fmt.Errorf("%w: bad magic", ErrBadChunk)
	}
	b = b[4:]
	n, k := uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, fmt.Errorf("%w: bad item count", ErrBadChunk)
	}
	b = b[k:]
	items := make([]Item, 0, n)
	for i := uint64(0); i < n; i++ {
		if len(b) < 1 {
			return nil, fmt.Errorf("%w: item %d truncated", ErrBadChunk, i)
		}
		kind := b[0]
		l, k := uvarint(b[1:])
		if k <= 0 || l > uint64(len(b)-1-k) {
			return nil, fmt.Errorf("%w: item %d length", ErrBadChunk, i)
		}
		start := 1 + k
		items = append(items, Item{Kind: kind, Data: b[start : start+int(l)]})
		b = b[start+int(l):]
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrBadChunk, len(b))
	}
	return items, nil
}

// uvarint is binary.Uvarint rejecting (k == 0) overlong encodings such as
// 0x80 0x00 for 0, so that a chunk has exactly one encoding: EncodeChunk of
// a decoded chunk gives back the same bytes.
func uvarint(b []byte) (uint64, int) {
	v, k := binary.Uvarint(b)
	if k > 1 && b[k-1] == 0 {
		return 0, 0
	}
	return v, k
}
