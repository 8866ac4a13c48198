package worker

import (
	"errors"
	"fmt"
	"time"
)

// infer runs one batch and delivers its rows.
func (b *batcher) infer(bt *batch) {
	n := len(bt.slots)
	tb := b.traceBatch(bt, bt.start)
	start := time.Now()
	out, err := b.predict(bt.inputs, n)
	b.d.observe(n, time.Since(start), err)
	if err == nil && len(out) != n*b.outSize {
		err = fmt.Errorf("model gave %d values for %d items of %d", len(out), n, b.outSize)
	}
	tb.ran(start, n, err)
	b.deliver(bt, out, err)
	tb.end(err)
}

// errExecTimeout is a TensorFlow call that outlasted execTimeout.
var errExecTimeout = errors.New("execution timed out")

// predict calls the model, bounded by execTimeout: a call that takes longer is
// left to finish on its own (its answer is dropped) and its items fail, so
// that one stuck batch cannot hold the worker.
func (b *batcher) predict(inputs []float32, n int) ([]float32, error) {
	if b.d.execTimeout <= 0 {
		return b.d.predict(inputs, n)
	}
	type answer struct {
		out []float32
		err error
	}
	ch := make(chan answer, 1)
	in := append([]float32(nil), inputs...) // the batcher reuses inputs
	go func() {
		out, err := b.d.predict(in, n)
		ch <- answer{out, err}
	}()
	timer := time.NewTimer(b.d.execTimeout)
	defer timer.Stop()
	select {
	case a := <-ch:
		return a.out, a.err
	case <-timer.C:
		return nil, fmt.Errorf("%w after %s (WORKER_EXEC_TIMEOUT)", errExecTimeout, b.d.execTimeout)
	}
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
		case errors.Is(err, errExecTimeout): // not tried again: it would hold the next worker too
			t.fail(s.i, err.Error())
		case err != nil && t.delivered < uint64(b.d.maxDeliver):
			t.abandoned = true
			b.q.drop(t)
			b.d.retry(t, time.Duration(t.delivered)*time.Second, err)
			continue
		case err != nil:
			t.deadReason = fmt.Sprintf("inference failed after %d attempts: %v", t.delivered, err)
			t.fail(s.i, t.deadReason)
		default:
			t.succeed(s.i, b.d.meta, out[k*b.outSize:(k+1)*b.outSize])
		}
		if t.remaining == 0 {
			b.d.finish(t)
		}
	}
}
