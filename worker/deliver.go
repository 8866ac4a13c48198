package worker

import (
	"fmt"
	"time"
)

// infer runs one batch and delivers its rows.
func (b *batcher) infer(bt *batch) {
	n := len(bt.slots)
	start := time.Now()
	out, err := b.d.predict(bt.inputs, n)
	b.d.observe(n, time.Since(start), err)
	if err == nil && len(out) != n*b.outSize {
		err = fmt.Errorf("model gave %d values for %d items of %d", len(out), n, b.outSize)
	}
	b.deliver(bt, out, err)
}

// deliver gives each row's chunk its result. When TensorFlow failed, a
// chunk that has deliveries left is given back whole (its other items
// too, to any worker, after a delay growing with its deliveries); one on
// its last delivery gets the error for its items, so the job still ends.
func (b *batcher) deliver(bt *batch, out []float32, err error) {
	for k, s := range bt.slots {
		t := s.t
		switch {
		case t.abandoned:
			continue
		case err != nil && t.delivered < uint64(b.d.maxDeliver):
			t.abandoned = true
			b.q.drop(t)
			b.d.retry(t, time.Duration(t.delivered)*time.Second, err)
			continue
		case err != nil:
			t.fail(s.i, fmt.Sprintf("inference failed after %d attempts: %v", t.delivered, err))
		default:
			t.succeed(s.i, b.d.meta, out[k*b.outSize:(k+1)*b.outSize])
		}
		if t.remaining == 0 {
			b.d.finish(t)
		}
	}
}
