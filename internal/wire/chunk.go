package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Item kinds in a chunk.
const (
	// ItemTensor is ItemSize little-endian float32 values.
	ItemTensor byte = 1
	// ItemImage is an encoded image (PNG, JPEG, GIF) the worker decodes.
	ItemImage byte = 2
	// ItemInvalid is an input the gateway found invalid, accepted because
	// the job allows some (max_invalid): Data is the reason, and the worker
	// fails the item with it.
	ItemInvalid byte = 3
	// ItemTensorU8 is a tensor item every value of which is an integer in
	// [0, 255] (pixels, counts, one-hot codes), one byte a value (4 times
	// fewer bytes to store and read), bit for bit exact: the gateway's
	// decoder makes them (NarrowU8, PackU8), and the encoding writes an
	// ItemTensor so when it can; Item.Tensor reads either kind.
	ItemTensorU8 byte = 4
)

// Item is one input of a chunk.
type Item struct {
	Kind byte
	Data []byte
}

// chunkMagic starts every encoded chunk; the last byte is the format
// version: 1 is items only, 2 adds a flags byte and, after the items, each
// item's input line and id (ChunkMeta).
var (
	chunkMagic   = [4]byte{'B', 'I', 'C', 1}
	chunkMagicV2 = [4]byte{'B', 'I', 'C', 2}
)

// Flags of a version 2 chunk.
const (
	chunkHasLines = 1 << iota
	chunkHasIDs
)

// ChunkMeta is what a chunk may carry beside its items: each item's line in
// the job's input (1-based; 0 when unknown) and its id (a CSV id column).
// Either slice may be nil; when set, it has one entry per item.
type ChunkMeta struct {
	Lines []int
	IDs   []string
}

// ErrBadChunk is returned for a chunk payload that cannot be decoded.
var ErrBadChunk = errors.New("malformed chunk")

// EncodeChunk appends the binary encoding of items to dst:
// magic, uvarint count, then per item its kind byte, uvarint length and bytes.
func EncodeChunk(dst []byte, items []Item) []byte {
	dst = append(dst, chunkMagic[:]...)
	return appendItems(dst, items)
}

// EncodeChunkMeta appends the encoding of items with their lines and ids
// (version 2; version 1 when meta holds neither).
func EncodeChunkMeta(dst []byte, items []Item, meta ChunkMeta) []byte {
	if meta.Lines == nil && meta.IDs == nil {
		return EncodeChunk(dst, items)
	}
	var flags byte
	if meta.Lines != nil {
		flags |= chunkHasLines
	}
	if meta.IDs != nil {
		flags |= chunkHasIDs
	}
	dst = append(dst, chunkMagicV2[:]...)
	dst = append(dst, flags)
	dst = appendItems(dst, items)
	prev := 0
	for _, l := range meta.Lines { // usually one byte each: lines grow by one
		dst = binary.AppendVarint(dst, int64(l-prev))
		prev = l
	}
	for _, id := range meta.IDs {
		dst = binary.AppendUvarint(dst, uint64(len(id)))
		dst = append(dst, id...)
	}
	return dst
}

func appendItems(dst []byte, items []Item) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(items)))
	for _, it := range items {
		if it.Kind == ItemTensor && bytesFit(it.Data) {
			dst = append(dst, ItemTensorU8)
			dst = binary.AppendUvarint(dst, uint64(len(it.Data)/4))
			for i := 0; i < len(it.Data); i += 4 {
				dst = append(dst, uint8(math.Float32frombits(binary.LittleEndian.Uint32(it.Data[i:]))))
			}
			continue
		}
		dst = append(dst, it.Kind)
		dst = binary.AppendUvarint(dst, uint64(len(it.Data)))
		dst = append(dst, it.Data...)
	}
	return dst
}

// Tensor writes the item's values into dst, which must have one entry per
// value: an ItemTensor's little-endian float32s or an ItemTensorU8's bytes.
// It reports false for another kind or another number of values.
func (it Item) Tensor(dst []float32) bool {
	switch it.Kind {
	case ItemTensor:
		if len(it.Data) != 4*len(dst) {
			return false
		}
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(it.Data[4*i:]))
		}
	case ItemTensorU8:
		if len(it.Data) != len(dst) {
			return false
		}
		for i, b := range it.Data {
			dst[i] = float32(b)
		}
	default:
		return false
	}
	return true
}

// Values is the number of values of a tensor item (either kind).
func (it Item) Values() int {
	if it.Kind == ItemTensorU8 {
		return len(it.Data)
	}
	return len(it.Data) / 4
}

// Float32 is the item as an ItemTensor (an ItemTensorU8's values as
// little-endian float32s); other items are returned as they are.
func (it Item) Float32() Item {
	if it.Kind != ItemTensorU8 {
		return it
	}
	out := make([]byte, 4*len(it.Data))
	for i, b := range it.Data {
		binary.LittleEndian.PutUint32(out[4*i:], u8Float[b])
	}
	return Item{Kind: ItemTensor, Data: out}
}

// DecodeChunk decodes a chunk payload (either version), without its meta.
// Item data alias b.
func DecodeChunk(b []byte) ([]Item, error) {
	items, _, err := DecodeChunkMeta(b)
	return items, err
}

// DecodeChunkMeta decodes a chunk payload and what it carries beside its
// items. Item data alias b.
func DecodeChunkMeta(b []byte) ([]Item, ChunkMeta, error) {
	if len(b) < len(chunkMagic) {
		return nil, ChunkMeta{}, fmt.Errorf("%w: bad magic", ErrBadChunk)
	}
	switch [4]byte(b[:4]) {
	case chunkMagic:
		items, rest, err := decodeItems(b[4:])
		if err == nil && len(rest) != 0 {
			err = fmt.Errorf("%w: %d trailing bytes", ErrBadChunk, len(rest))
		}
		if err != nil {
			return nil, ChunkMeta{}, err
		}
		return items, ChunkMeta{}, nil
	case chunkMagicV2:
		return decodeV2(b[4:])
	}
	return nil, ChunkMeta{}, fmt.Errorf("%w: bad magic", ErrBadChunk)
}

// ChunkItemCount reads how many items an encoded chunk (either version)
// holds, from its header alone.
func ChunkItemCount(b []byte) (int, error) {
	if len(b) < len(chunkMagic) {
		return 0, fmt.Errorf("%w: bad magic", ErrBadChunk)
	}
	switch [4]byte(b[:4]) {
	case chunkMagic:
		b = b[4:]
	case chunkMagicV2:
		b = b[min(5, len(b)):]
	default:
		return 0, fmt.Errorf("%w: bad magic", ErrBadChunk)
	}
	n, k := uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return 0, fmt.Errorf("%w: bad item count", ErrBadChunk)
	}
	return int(n), nil
}

func decodeV2(b []byte) ([]Item, ChunkMeta, error) {
	if len(b) < 1 || b[0]&^(chunkHasLines|chunkHasIDs) != 0 {
		return nil, ChunkMeta{}, fmt.Errorf("%w: bad flags", ErrBadChunk)
	}
	flags := b[0]
	items, rest, err := decodeItems(b[1:])
	if err != nil {
		return nil, ChunkMeta{}, err
	}
	var meta ChunkMeta
	if flags&chunkHasLines != 0 {
		meta.Lines = make([]int, len(items))
		prev := int64(0)
		for i := range items {
			d, k := binary.Varint(rest)
			if k <= 0 {
				return nil, ChunkMeta{}, fmt.Errorf("%w: line of item %d", ErrBadChunk, i)
			}
			prev += d
			meta.Lines[i], rest = int(prev), rest[k:]
		}
	}
	if flags&chunkHasIDs != 0 {
		meta.IDs = make([]string, len(items))
		for i := range items {
			l, k := uvarint(rest)
			if k <= 0 || l > uint64(len(rest)-k) {
				return nil, ChunkMeta{}, fmt.Errorf("%w: id of item %d", ErrBadChunk, i)
			}
			meta.IDs[i], rest = string(rest[k:k+int(l)]), rest[k+int(l):]
		}
	}
	if len(rest) != 0 {
		return nil, ChunkMeta{}, fmt.Errorf("%w: %d trailing bytes", ErrBadChunk, len(rest))
	}
	return items, meta, nil
}

// decodeItems decodes the item count and items, returning what follows.
func decodeItems(b []byte) ([]Item, []byte, error) {
	n, k := uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, nil, fmt.Errorf("%w: bad item count", ErrBadChunk)
	}
	b = b[k:]
	items := make([]Item, 0, n)
	for i := uint64(0); i < n; i++ {
		if len(b) < 1 {
			return nil, nil, fmt.Errorf("%w: item %d truncated", ErrBadChunk, i)
		}
		kind := b[0]
		l, k := uvarint(b[1:])
		if k <= 0 || l > uint64(len(b)-1-k) {
			return nil, nil, fmt.Errorf("%w: item %d length", ErrBadChunk, i)
		}
		start := 1 + k
		items = append(items, Item{Kind: kind, Data: b[start : start+int(l)]})
		b = b[start+int(l):]
	}
	return items, b, nil
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

// ChunksWorth is what a count of n chunks of up to unit items is worth in
// chunks of size items: n, or n units' worth of larger chunks, at least one.
// The scheduler's queue depth, a worker's prefetch and its count batch are
// set in unit-item chunks and scaled by it. A unit of 0 or less scales
// nothing.
func ChunksWorth(n, unit, size int) int {
	if unit <= 0 || size <= unit {
		return n
	}
	return max(1, (n*unit+size-1)/size)
}
