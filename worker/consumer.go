package worker

import (
	"context"
	"errors"
	"sync"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go/jetstream"
)

// fetchWait is how long one pull request waits for chunks before the next
// is sent; it also bounds how long a graceful stop waits for the last one.
const fetchWait = time.Second

// fetcher pulls one queue (a priority of one model version) from its
// durable consumer with explicit flow control: it asks JetStream for
// exactly as many chunks as it has free slots, and hands each chunk over
// the moment it arrives, so that every chunk received is held (its lease
// renewed) and none waits unseen in a client buffer. A slot is given back
// when its chunk is acked, nak'ed or dropped.
//
// How many chunks it holds follows their size when it knows the model's
// batch: enough for two batches, between lo and hi chunks. A model whose
// chunks hold fewer items than a batch (large items: an image is a chunk
// of its own) thus runs full batches, and TensorFlow does not wait for the
// next chunk while the last ones are being stored.
type fetcher struct {
	cons    jetstream.Consumer
	deliver func(jetstream.Msg)
	epoch   *natsx.Epoch
	onError func(error)

	lo, hi, batch int // the limit's bounds; the model's batch (0: the limit stays lo)
	mu            sync.Mutex
	held, limit   int
	room          chan struct{} // a token when a slot may have come free

	draining chan struct{}
	drainOne sync.Once
	done     chan struct{}
}

// newFetcher holds lo chunks, up to hi when they are smaller than half a
// batch of batch items (batch 0: always lo).
func newFetcher(cons jetstream.Consumer, lo, hi, batch int, ep *natsx.Epoch, deliver func(jetstream.Msg), onError func(error)) *fetcher {
	return &fetcher{
		cons: cons, deliver: deliver, epoch: ep, onError: onError,
		lo: lo, hi: max(hi, lo), batch: batch, limit: lo, room: make(chan struct{}, 1),
		draining: make(chan struct{}), done: make(chan struct{}),
	}
}

// release gives back the slot of one chunk.
func (f *fetcher) release() {
	f.mu.Lock()
	f.held = max(f.held-1, 0)
	f.mu.Unlock()
	f.wake()
}

// fit sizes the chunks held to a chunk of items just received: two
// batches' worth, within [lo, hi], where lo counts chunks of up to a batch:
// chunks larger than a batch are held lo batches' worth, and never fewer
// than two (one running, the next read and ready: one alone leaves
// TensorFlow idle while it is stored and the next is pulled), unless lo is
// one. What a worker holds is what a job arriving without a newcomer's
// slot (wire.PriorityFirst) waits behind.
func (f *fetcher) fit(items int) {
	if f.batch <= 0 || items <= 0 {
		return
	}
	lo := max(wire.ChunksWorth(f.lo, f.batch, items), min(f.lo, 2))
	want := min(max((2*f.batch+items-1)/items, lo), f.hi)
	f.mu.Lock()
	more := want > f.limit
	f.limit = want
	f.mu.Unlock()
	if more {
		f.wake()
	}
}

func (f *fetcher) wake() {
	select {
	case f.room <- struct{}{}:
	default:
	}
}

// drain stops pulling: the pull request in flight is cut (chunks the server
// had already sent come back after their lease, to another worker), and
// chunks already delivered are still processed.
func (f *fetcher) drain() { f.drainOne.Do(func() { close(f.draining) }) }

// run pulls until drained, or until ctx ends (a kill: the request in flight
// is abandoned and its chunks come back after their lease).
func (f *fetcher) run(ctx context.Context) {
	defer close(f.done)
	backoff := 50 * time.Millisecond
	for {
		n, ok := f.reserve(ctx)
		if !ok {
			return
		}
		got, err := f.pull(ctx, n)
		for ; got < n; got++ {
			f.release()
		}
		switch {
		case err == nil:
			backoff = 50 * time.Millisecond
		case ctx.Err() != nil:
			return
		default:
			f.onError(err)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return
			case <-f.draining:
				return
			}
			backoff = min(2*backoff, time.Second)
		}
	}
}

// reserve waits for one free slot, then takes every other free one; it
// takes none once the fetcher drains or ctx ends.
func (f *fetcher) reserve(ctx context.Context) (int, bool) {
	for {
		select {
		case <-ctx.Done():
			return 0, false
		case <-f.draining:
			return 0, false
		default:
		}
		f.mu.Lock()
		n := f.limit - f.held
		if n > 0 {
			f.held += n
		}
		f.mu.Unlock()
		if n > 0 {
			return n, true
		}
		select {
		case <-f.room:
		case <-ctx.Done():
			return 0, false
		case <-f.draining:
			return 0, false
		}
	}
}

// pull sends one pull request for n chunks and delivers what arrives. A
// reconnect ends it at once: the request died with the old connection.
func (f *fetcher) pull(ctx context.Context, n int) (int, error) {
	ectx, stop := f.epoch.Context(ctx, f.draining)
	defer stop()
	fctx, cancel := context.WithTimeout(ectx, fetchWait)
	defer cancel()
	batch, err := f.cons.Fetch(n, jetstream.FetchContext(fctx))
	if err != nil {
		return 0, err
	}
	got := 0
	for m := range batch.Messages() {
		got++
		f.deliver(m)
	}
	err = batch.Error()
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) && ctx.Err() == nil {
		err = nil // expired, or cut by a reconnect or a drain
	}
	return got, err
}
