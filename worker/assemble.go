package worker

import (
	"errors"
	"fmt"
	"time"

	"batchinfer/internal/wire"
	"batchinfer/model"
)

// batch is one TensorFlow call: the inputs, one row per slot.
type batch struct {
	inputs []float32
	slots  []slot
	start  time.Time // when its assembly began (tracing on)
}

// slot is one row of a batch: item i of a chunk.
type slot struct {
	t *task
	i int
}

// assemble takes the next items of the queue into a batch, decoding each
// into its row; an item that does not decode gets its error at once and
// takes no row. Synchronous items, when any wait, form a batch of their
// own of at most maxSync (small, so that it runs fast); batch items fill
// batches of maxBatch. It returns nil when no item took a row.
func (b *batcher) assemble() *batch {
	bt := &batch{inputs: b.inputs[:0]}
	limit, syncOnly := b.d.maxBatch, b.q.headIsSync()
	if syncOnly {
		limit = b.d.maxSync
	}
	done := b.q.take(limit, syncOnly, func(t *task, i int) bool {
		if b.d.skip != nil {
			if reason := b.d.skip(t); reason != "" { // cancelled, or too late: not run
				t.skipOne(i, reason)
				return false
			}
		}
		off := len(bt.inputs)
		bt.inputs = append(bt.inputs, make([]float32, b.itemSize)...)
		if err := decodeItem(b.d.meta, t.items[i], bt.inputs[off:]); err != nil {
			bt.inputs = bt.inputs[:off]
			t.fail(i, err.Error())
			return false
		}
		bt.slots = append(bt.slots, slot{t, i})
		return true
	})
	b.inputs = bt.inputs[:0]
	for _, t := range done {
		if t.remaining == 0 { // every item failed before inference
			b.d.finish(t)
		}
	}
	if len(bt.slots) == 0 {
		return nil
	}
	return bt
}

// decodeItem writes one item's values into dst (ItemSize values).
func decodeItem(meta *model.Metadata, it wire.Item, dst []float32) error {
	switch it.Kind {
	case wire.ItemTensor:
		if !it.Tensor(dst) {
			return fmt.Errorf("tensor of %d bytes, want %d", len(it.Data), 4*len(dst))
		}
	case wire.ItemTensorU8:
		if !it.Tensor(dst) {
			return fmt.Errorf("tensor of %d values, want %d", it.Values(), len(dst))
		}
	case wire.ItemImage:
		px, err := model.DecodeImage(meta.Preprocessing.Image, it.Data)
		if err == nil && len(px) != len(dst) {
			err = fmt.Errorf("decoded to %d values, want %d", len(px), len(dst))
		}
		if err != nil {
			return fmt.Errorf("image: %w", err)
		}
		copy(dst, px)
	case wire.ItemInvalid: // found invalid by the gateway, accepted under max_invalid
		return errors.New(string(it.Data))
	default:
		return fmt.Errorf("unknown item kind %d", it.Kind)
	}
	return nil
}
