package worker

import (
	"context"
	"errors"
	"sync"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/store"
	"batchinfer/internal/tracing"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/trace"
)

// finisher stores, counts and acks finished chunks on a few goroutines, so
// that the batcher goes on with the next batch meanwhile.
type finisher struct {
	ch      chan *task
	wg      sync.WaitGroup
	nc      *nats.Conn
	epoch   *natsx.Epoch
	jobs    *store.Jobs
	results *store.Results
	inputs  *store.Inputs
	letters *store.DeadLetters
	metrics *metrics
	// syncLetterTTL is how long a dead synchronous request's letter lives.
	syncLetterTTL time.Duration
	log           zerolog.Logger
	worker        string
	killed        func() bool
	// storeRetry is how long a result the full store refuses is retried.
	storeRetry time.Duration
	full       fullState
	tracer     *tracing.Tracer // nil: tracing off
	// jsonResults stores results as JSON instead of the compact form
	// (ResultFormatJSON: gateways older than the compact form read them).
	jsonResults bool
	// counts writes stored chunks' counts, a few of a job's per write.
	counts *counter
}

func (f *finisher) start(n int) {
	f.ch = make(chan *task, 1024)
	for i := 0; i < n; i++ {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			for t := range f.ch {
				if !f.killed() {
					f.complete(t)
				}
			}
		}()
	}
}

// submit hands over a chunk all of whose items have a result. A
// synchronous prediction is answered at once, on the caller's goroutine
// (encoding and an asynchronous publish): it never waits behind batch
// chunks being stored.
func (f *finisher) submit(t *task) {
	if f.killed() {
		return // a crashed worker acks nothing
	}
	if t.reply != "" {
		f.reply(t)
		t.release()
		return
	}
	f.ch <- t
}

// reply answers a synchronous prediction (and acks it when it came from
// the durable sync queue).
func (f *finisher) reply(t *task) {
	cr := t.chunkResult(f.worker)
	f.metrics.items.WithLabelValues(t.lane, "ok").Add(float64(cr.Done))
	f.metrics.items.WithLabelValues(t.lane, "failed").Add(float64(cr.Failed))
	buf := encodeResult(cr, true) // a reply is JSON: the gateway passes it on
	if err := f.publishReply(t, *buf); err != nil {
		tracing.Event(f.log.Warn(), t.sc).Err(err).Msg("sync reply failed")
		t.spanError(err)
	}
	releaseResult(buf) // Publish copied the bytes

	if t.msg != nil { // nil: a realtime request, nothing to ack
		if t.deadReason != "" {
			ctx, cancel := context.WithTimeout(context.Background(), natsOpTimeout)
			d := letterOf(t)
			d.inline = t.msg.Data()
			f.keepSync(ctx, d)
			cancel()
		}
		_ = t.msg.Ack()
	}
	f.metrics.chunks.WithLabelValues(t.lane, "replied").Inc()
}

// close waits until every submitted chunk is finished (its count written
// at once, not lingering).
func (f *finisher) close() {
	close(f.ch)
	f.wg.Wait()
	f.counts.close()
}

// complete stores the chunk's results, counts them into the job record and
// acks the chunk, in that order, so a crash at any point leads to a
// redelivery that finds the stored result, never to a lost or doubled one.
// A result the results store refuses because it is full is retried while
// room may come back (StoreRetry); then its items fail with the reason,
// recorded in the job record (which is not in that stream), so the job
// still ends. The count is written by the counter, with those of the job's
// next chunks (it acks and releases the chunk once written): the finisher
// goes on with the next chunk meanwhile.
func (f *finisher) complete(t *task) {
	cr := t.chunkResult(f.worker)
	f.metrics.items.WithLabelValues(t.lane, "ok").Add(float64(cr.Done))
	f.metrics.items.WithLabelValues(t.lane, "failed").Add(float64(cr.Failed))
	buf := encodeResult(cr, f.jsonResults)
	defer releaseResult(buf) // the store's publish copies it
	size := len(*buf)
	span := t.child(f.tracer, "chunk.store")
	count, outcome, err := f.store(cr, *buf)
	if err != nil {
		f.counted(t, span, outcome, size, err)
		return
	}
	count.Started = t.started
	t.counting.Store(true)
	if t.freeSlot != nil {
		t.freeSlot()
	}
	f.counts.add(t.job, counting{c: count, more: t.more, done: func(err error) { f.counted(t, span, outcome, size, err) }})
}

// counted finishes a chunk once its count is written (err nil) or its
// result could not be stored or counted (err: the chunk is given back).
func (f *finisher) counted(t *task, span trace.Span, outcome string, size int, err error) {
	if f.killed() {
		return // a crashed worker acks nothing
	}
	defer t.release()
	endStore(span, outcome, size, err)
	if err != nil {
		tracing.Event(f.log.Error(), t.sc).Err(err).Str("job", t.job).Int("chunk", t.chunk).Msg("storing the result failed, chunk given back")
		t.spanError(err)
		_ = t.msg.NakWithDelay(time.Second)
		f.metrics.chunks.WithLabelValues(t.lane, "nak").Inc()
		return
	}
	if t.deadReason != "" { // its items failed on its last delivery: kept as a dead letter
		ctx, cancel := context.WithTimeout(context.Background(), natsOpTimeout)
		f.keepLetter(ctx, letterOf(t))
		cancel()
	}
	// A plain ack, not waiting for the server's: one lost with a connection
	// brings the chunk back after its lease, to find its result stored and
	// counted (the redelivered path), like a worker killed before its ack.
	if err := f.epoch.Do(context.Background(), natsOpTimeout, opAttempts, func(context.Context) error { return t.msg.Ack() }); err != nil {
		tracing.Event(f.log.Warn(), t.sc).Err(err).Str("job", t.job).Int("chunk", t.chunk).Msg("ack failed")
	}
	f.metrics.chunks.WithLabelValues(t.lane, outcome).Inc()
	f.dropInput(t)
}

// dropInput deletes a finished ticket's input, without waiting for the
// answer (best effort: what is left goes when the job's results expire).
// Waiting held the chunk's prefetch slot for a round trip, and a delete
// sent as the server went down was never answered (the slots held that
// way stalled a job ~9 s after a NATS restart, before a reconnect ended
// the wait).
func (f *finisher) dropInput(t *task) {
	if t.parts == 0 {
		return
	}
	if err := f.inputs.DropChunk(t.model, t.version, t.job, t.chunk); err != nil {
		f.log.Debug().Err(err).Str("job", t.job).Int("chunk", t.chunk).Msg("deleting a chunk's input failed")
	}
}

// store puts a chunk's result, retrying while the results store is full,
// and returns what to count: the stored result (this one, or an earlier
// delivery's), or the chunk as unstored once the store stayed full for
// StoreRetry.
func (f *finisher) store(cr *wire.ChunkResult, data []byte) (wire.ChunkCount, string, error) {
	backoff := 100 * time.Millisecond
	for {
		var stored *wire.ChunkResult
		var size int
		err := f.epoch.Do(context.Background(), natsOpTimeout, opAttempts, func(ctx context.Context) (err error) {
			stored, size, err = f.results.Put(ctx, cr, data)
			return err
		})
		switch {
		case err == nil:
			f.full.ok()
			if stored != cr {
				return countOf(stored, size), "duplicate", nil
			}
			return countOf(cr, size), "stored", nil
		case !natsx.IsFull(err):
			return wire.ChunkCount{}, "", err
		}
		wait, more := f.full.failed(time.Now(), f.storeRetry, backoff)
		if !more || f.killed() {
			f.metrics.unstored.Inc()
			f.log.Warn().Str("job", cr.Job).Int("chunk", cr.Chunk).Msg("results store full, chunk counted as unstored")
			return unstoredCount(cr, reasonStoreFull), "unstored", nil
		}
		time.Sleep(wait)
		backoff = min(2*backoff, 5*time.Second)
	}
}

// reasonStoreFull is what the items of a chunk whose result could not be
// stored fail with.
const reasonStoreFull = "result not stored: the results store is full (RESULT_MAX_BYTES); retry the job later"

// reasonCancelled is what the items of a cancelled job not run say, and
// reasonDeadline those of a job whose deadline passed before they started.
const (
	reasonCancelled = "job cancelled"
	reasonDeadline  = "deadline_exceeded: not started before the job's deadline"
)

// reasonInputGone is what the items of a ticket whose input is no longer
// stored say (their job was cancelled, failed or expired meanwhile).
const reasonInputGone = "not run: the job's input is no longer stored (the job was cancelled, failed or expired)"

// goneReason is why a job's input is no longer stored, from its record: it
// was cancelled, or its deadline passed (the worker's view of cancels may
// lag the record's); reasonInputGone when the record does not say.
func (f *finisher) goneReason(job string) string {
	var rec *wire.JobRecord
	err := f.epoch.Do(context.Background(), natsOpTimeout, opAttempts, func(ctx context.Context) (err error) {
		rec, err = f.jobs.Get(ctx, job)
		return err
	})
	switch {
	case err != nil:
		return reasonInputGone
	case rec.CancelledAt != nil:
		return reasonCancelled
	case rec.State == wire.StateDeadlineExceeded:
		return reasonDeadline
	}
	return reasonInputGone
}

// fullState tracks how long the results store has refused results for
// being full, shared by the finishers: once it has for StoreRetry, chunks
// fail at once instead of each waiting its own StoreRetry, until a result
// is stored again.
type fullState struct {
	mu    sync.Mutex
	since time.Time // zero: not full
}

func (s *fullState) ok() {
	s.mu.Lock()
	s.since = time.Time{}
	s.mu.Unlock()
}

// failed records a refusal at now and says how long to wait before the
// next try, or more false when the store has been full for retry.
func (s *fullState) failed(now time.Time, retry, backoff time.Duration) (wait time.Duration, more bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.since.IsZero() {
		s.since = now
	}
	left := retry - now.Sub(s.since)
	if left <= 0 {
		return 0, false
	}
	return min(backoff, left), true
}

// redelivered finishes a redelivered chunk whose result an earlier delivery
// stored (its worker died before acking) and reports whether it did.
func (f *finisher) redelivered(t *task) bool {
	err := f.epoch.Do(context.Background(), natsOpTimeout, opAttempts, func(ctx context.Context) error {
		prev, size, err := f.results.Chunk(ctx, t.job, t.chunk)
		if err != nil {
			return err
		}
		if prev == nil || prev.Redrive < t.redrive { // none, or the run's that died
			return errNotStored
		}
		if err := f.jobs.Count(ctx, t.job, countOf(prev, size)); err != nil {
			return err
		}
		return t.msg.DoubleAck(ctx)
	})
	if err == nil {
		f.dropInput(t)
	}
	return err == nil
}

// resultBufs keeps the buffers chunk results are encoded into from one
// chunk to the next (a 256-item digits chunk's is ~15 KB compact, ~90 KB
// as JSON, allocated,
// cleared and grown per chunk otherwise).
var resultBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledResult bounds the buffers kept.
const maxPooledResult = 4 << 20

// encodeResult encodes cr into a pooled buffer, as JSON or in the compact
// form the results stream stores (rendered to JSON where it is read);
// releaseResult gives it back once its bytes are sent (a NATS publish
// copies them).
func encodeResult(cr *wire.ChunkResult, asJSON bool) *[]byte {
	buf := resultBufs.Get().(*[]byte)
	if asJSON {
		*buf = cr.AppendJSON((*buf)[:0])
	} else {
		*buf = cr.AppendCompact((*buf)[:0])
	}
	return buf
}

func releaseResult(buf *[]byte) {
	if cap(*buf) <= maxPooledResult {
		resultBufs.Put(buf)
	}
}

// opAttempts bounds how often a NATS operation cut by reconnects is tried.
const opAttempts = 3

// Counting a chunk into its job record gets countTimeout per attempt and
// countAttempts attempts (Epoch.DoAgain): an update no server answers (the
// job bucket's leader was restarting while this worker stayed connected to
// another server) is made again rather than holding the chunk for the
// whole natsOpTimeout (the HA test saw 10 s stalls).
const (
	countTimeout  = 3 * time.Second
	countAttempts = 4
)

var errNotStored = errors.New("no stored result")

// failedResult is the result of a chunk given up: every item fails with reason.
func failedResult(h wire.ChunkHeader, worker, reason string) *wire.ChunkResult {
	cr := &wire.ChunkResult{Job: h.Job, Chunk: h.Chunk, Start: h.Start, Worker: worker, Failed: h.Count, Redrive: h.Redrive}
	for i := 0; i < h.Count; i++ {
		cr.Items = append(cr.Items, wire.ItemResult{Index: h.Start + i, Error: reason})
	}
	return cr
}
