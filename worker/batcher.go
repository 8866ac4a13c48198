package worker

import (
	"time"

	"batchinfer/internal/tracing"
	"batchinfer/model"
)

// clock is the batcher's time, a seam for tests.
type clock interface {
	// After is time.After with a way to stop the timer.
	After(d time.Duration) (<-chan time.Time, func())
}

type realClock struct{}

func (realClock) After(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTimer(d)
	return t.C, func() { t.Stop() }
}

// batchDeps is what the batcher needs: the model, and what to do with a
// chunk once it is done or must be tried again.
type batchDeps struct {
	meta       *model.Metadata
	predict    func(inputs []float32, n int) ([]float32, error)
	maxBatch   int           // items of a batch of batch work
	maxSync    int           // items of a batch of synchronous work
	maxWait    time.Duration // 0: greedy (take what is ready, never wait)
	maxDeliver int
	clock      clock
	// finish takes a chunk all of whose items have a result (store, count, ack).
	finish func(*task)
	// retry gives a chunk back for another try, by any worker, after delay.
	retry func(t *task, delay time.Duration, err error)
	// observe reports each TensorFlow call (batch size, duration, error).
	observe func(n int, d time.Duration, err error)
	// skip says why a chunk's items not in a batch yet are not to run
	// (its job was cancelled, its deadline passed), or "".
	skip func(t *task) string
	// execTimeout bounds one TensorFlow call: past it, its items fail and
	// the batcher goes on (0: no bound).
	execTimeout time.Duration
	// tracer makes the batches' spans (nil: tracing off).
	tracer *tracing.Tracer
}

// batcher forms batches across chunks (synchronous chunks first) and runs
// them: fill (receive), assemble the inputs, infer, deliver the results.
type batcher struct {
	d           batchDeps
	sync, batch <-chan *task
	q           queue
	itemSize    int
	outSize     int
	inputs      []float32
}

func newBatcher(d batchDeps, sync, batch <-chan *task) *batcher {
	if d.clock == nil {
		d.clock = realClock{}
	}
	return &batcher{
		d: d, sync: sync, batch: batch, itemSize: d.meta.ItemSize(), outSize: d.meta.OutputSize(),
		inputs: make([]float32, 0, max(d.maxBatch, d.maxSync)*d.meta.ItemSize()),
	}
}

// run batches until both inputs are closed and every chunk is delivered.
func (b *batcher) run() {
	for {
		if b.q.pending == 0 {
			if b.sync == nil && b.batch == nil {
				return
			}
			b.receive(nil) // block for the first chunk
			continue
		}
		b.fill()
		var start time.Time
		if b.d.tracer.On() {
			start = time.Now()
		}
		if bt := b.assemble(); bt != nil {
			bt.start = start
			b.infer(bt)
		}
	}
}

// receive takes one chunk, preferring the synchronous queue; it returns
// false when stop fires first (a nil stop blocks).
func (b *batcher) receive(stop <-chan time.Time) bool {
	select {
	case t, ok := <-b.sync:
		b.got(t, ok, &b.sync)
		return true
	default:
	}
	select {
	case t, ok := <-b.sync:
		b.got(t, ok, &b.sync)
	case t, ok := <-b.batch:
		b.got(t, ok, &b.batch)
	case <-stop:
		return false
	}
	return true
}

func (b *batcher) got(t *task, ok bool, ch *<-chan *task) {
	if !ok {
		*ch = nil
		return
	}
	if len(t.items) == t.next {
		b.d.finish(t) // nothing to run (e.g. every item failed already)
		return
	}
	b.q.push(t)
}

// fill takes every chunk ready now into the queue (synchronous ones first),
// whose order then decides the next batch: what the worker holds is
// bounded by its fetch slots, and a chunk that passes the held ones (a
// newcomer's, the next job's in round robin) must be in the queue to do
// so. What arrives during inference forms the next batch; with maxWait, a
// batch not full waits up to maxWait for more.
func (b *batcher) fill() {
	open := func() bool { return b.sync != nil || b.batch != nil }
	for b.sync != nil && b.trySync() { // every synchronous chunk ready, first
	}
	for open() && b.tryReceive() {
	}
	if b.d.maxWait == 0 || b.q.pending >= b.d.maxBatch || !open() {
		return
	}
	stop, cancel := b.d.clock.After(b.d.maxWait)
	defer cancel()
	for b.q.pending < b.d.maxBatch && open() && b.receive(stop) {
	}
}

// trySync takes a synchronous chunk that is ready now, if any.
func (b *batcher) trySync() bool {
	select {
	case t, ok := <-b.sync:
		b.got(t, ok, &b.sync)
		return true
	default:
		return false
	}
}

// tryReceive takes a chunk that is ready now, if any.
func (b *batcher) tryReceive() bool {
	select {
	case t, ok := <-b.sync:
		b.got(t, ok, &b.sync)
		return true
	case t, ok := <-b.batch:
		b.got(t, ok, &b.batch)
		return true
	default:
		return false
	}
}
