package service

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"batchinfer/gateway/input"
	"batchinfer/internal/store"
	"batchinfer/internal/tracing"
	"batchinfer/internal/wire"
	"batchinfer/model"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// Reading datasets.
const (
	// readLease is how long a gateway holds a dataset's reading without
	// extending it: a gateway that dies lets it go after that.
	readLease = 30 * time.Second
	// A reading records how far it got (the chunks so far may then run)
	// every checkpointEvery, or every checkpointChunks chunks: a reading
	// that waits for room in the input stream (QUEUE_MAX_BYTES) has let the
	// scheduler send what it wrote, so the room comes back.
	checkpointEvery  = 500 * time.Millisecond
	checkpointChunks = 8
)

// readers reads datasets into their jobs: every gateway runs up to
// Readers at once, each taking a job from the shared work queue (a lease
// it extends while it reads).
type readers struct {
	s     *Service
	cons  jetstream.Consumer
	slots chan struct{}
	log   zerolog.Logger
	done  chan struct{}
	busy  atomic.Int64 // readings in flight
}

// reading is the number of readings in flight here (0 without readers).
func (r *readers) reading() int {
	if r == nil {
		return 0
	}
	return int(r.busy.Load())
}

// run takes readings until ctx ends, at most cap(slots) at once.
func (r *readers) run(ctx context.Context) {
	defer close(r.done)
	for ctx.Err() == nil {
		select {
		case r.slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		m, ok := r.next(ctx)
		if !ok {
			<-r.slots
			continue
		}
		r.busy.Add(1)
		go func() {
			defer func() { r.busy.Add(-1); <-r.slots }()
			r.handle(ctx, m)
		}()
	}
	for range cap(r.slots) { // wait for the readings in flight
		r.slots <- struct{}{}
	}
}

// next fetches one reading to do.
func (r *readers) next(ctx context.Context) (jetstream.Msg, bool) {
	fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	b, err := r.cons.Fetch(1, jetstream.FetchContext(fctx))
	if err != nil {
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
		return nil, false
	}
	for m := range b.Messages() {
		return m, true
	}
	return nil, false
}

// handle reads one dataset, extending its lease meanwhile; it is acked
// when the job is read (or ended), given back when NATS fails.
func (r *readers) handle(ctx context.Context, m jetstream.Msg) {
	job := string(m.Data())
	hctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		t := time.NewTicker(readLease / 3)
		defer t.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-t.C:
				_ = m.InProgress()
			}
		}
	}()
	err := r.s.readDataset(hctx, job)
	switch {
	case err == nil:
		_ = m.Ack()
	case ctx.Err() != nil: // this gateway stops: another takes over
		_ = m.Nak()
	default:
		r.log.Warn().Err(err).Str("job", job).Msg("reading a dataset failed, taken again")
		_ = m.NakWithDelay(5 * time.Second)
	}
}

// readDataset reads a dataset job's upload from its checkpoint on, writing
// its chunks, recording checkpoints, and queues the job at the end. A job
// cancelled meanwhile is queued with what was read; too many invalid rows,
// or an upload gone, fail it. An error is a failure to retry (NATS).
func (s *Service) readDataset(ctx context.Context, id string) error {
	rec, err := s.jobs.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if rec.State != wire.StateAccepting || rec.Source == nil {
		return nil // read already (a repeated message)
	}
	meta, err := s.Model(rec.Model, rec.Version)
	if err != nil {
		return s.failDataset(ctx, rec, "the model is no longer served: "+err.Error())
	}
	rc, _, err := s.UploadStore.Open(ctx, rec.Tenant, rec.Source.Upload)
	if err != nil {
		if errors.Is(err, store.ErrUploadNotFound) || errors.Is(err, store.ErrUploadExpired) {
			return s.failDataset(ctx, rec, "the upload "+rec.Source.Upload+" is gone (deleted or expired)")
		}
		return err
	}
	defer rc.Close()
	ctx, span := s.startIngest(tracing.ContextOf(ctx, rec.Trace), rec)
	err = s.readInto(ctx, rec, meta, datasetSource(rec.Source.Format, rc))
	tracing.Fail(span, err)
	span.End()
	return err
}

// readInto reads src into rec's chunks from its checkpoint on.
func (s *Service) readInto(ctx context.Context, rec *wire.JobRecord, meta *model.Metadata, src input.Source) error {
	st := wire.IngestState{}
	if rec.Ingest != nil {
		st = *rec.Ingest
	}
	cw := newChunkWriter(rec, newPublishWindow(s.in.JS, wire.StreamInput, s.cfg.PublishWindow, time.Hour), s.cfg.MaxChunkBytes,
		s.metrics.ingestBytes.WithLabelValues(meta.ID()))
	cw.chunks = st.Chunks
	rd := &datasetReading{s: s, rec: rec, cw: cw, st: st, costOf: input.CostPer(meta), last: time.Now(), saved: st.Chunks}
	dec, err := input.Stream(meta, s.limits(meta, s.cfg.MaxItems), src, input.Options{IDColumn: rec.Source.IDColumn, Skip: st.Items}, rd.take)
	switch {
	case errors.Is(err, errStopReading):
		_ = cw.w.drain(ctx)
		return rd.stopped(ctx, dec)
	case err != nil && ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		_ = cw.w.drain(ctx)
		var we *writeError
		if errors.As(err, &we) {
			return err // NATS: taken again from the checkpoint
		}
		return s.failDataset(ctx, rec, "the dataset could not be read: "+err.Error())
	}
	if err := cw.finish(ctx); err != nil {
		return err
	}
	rd.st.Items, rd.st.Chunks = dec.Count(), cw.chunks
	return s.queueDataset(ctx, rec, meta, rd.st)
}

// errStopReading ends a reading early (cancelled, too many invalid rows).
var errStopReading = errors.New("reading stopped")

// datasetReading is one reading's state: the writer, the checkpoint.
type datasetReading struct {
	s       *Service
	rec     *wire.JobRecord
	cw      *chunkWriter
	st      wire.IngestState // as of the last full chunk written
	costOf  func(wire.Item) int64
	last    time.Time
	saved   int    // chunks as of the last checkpoint
	reason  string // why it stopped
	pending struct {
		invalid int
		cost    int64
	}
}

// take writes one item; at chunk boundaries it records checkpoints.
func (rd *datasetReading) take(i int, it wire.Item, line int, id string, invalid error) error {
	ctx := rd.s.ctx
	rd.pending.cost += rd.costOf(it)
	if invalid != nil {
		if rd.pending.invalid++; rd.st.Invalid+rd.pending.invalid > rd.rec.Source.MaxInvalid {
			rd.reason = fmt.Sprintf("too many invalid rows (more than max_invalid=%d); the first past it: %s", rd.rec.Source.MaxInvalid, invalidReason(line, invalid))
			return errStopReading
		}
		it = wire.Item{Kind: wire.ItemInvalid, Data: []byte(invalidReason(line, invalid))}
	}
	before := rd.cw.chunks
	if err := rd.cw.add(ctx, it, line, id); err != nil {
		return &writeError{err}
	}
	if rd.cw.chunks == before { // not at a chunk boundary
		return nil
	}
	rd.st.Items, rd.st.Chunks = i+1, rd.cw.chunks
	rd.st.Invalid += rd.pending.invalid
	rd.st.Cost += rd.pending.cost
	rd.pending.invalid, rd.pending.cost = 0, 0
	if time.Since(rd.last) < checkpointEvery && rd.cw.chunks-rd.saved < checkpointChunks {
		return nil
	}
	return rd.checkpoint(ctx)
}

// checkpoint waits until the chunks written are stored, then records how
// far the reading got; a cancelled job stops it.
func (rd *datasetReading) checkpoint(ctx context.Context) error {
	if err := rd.cw.w.drain(ctx); err != nil {
		return &writeError{err}
	}
	rec, err := rd.s.jobs.Checkpoint(ctx, rd.rec.ID, rd.st)
	if err != nil {
		return &writeError{err}
	}
	rd.last, rd.saved = time.Now(), rd.st.Chunks
	if rec.CancelledAt != nil || rec.State != wire.StateAccepting {
		rd.reason = ""
		return errStopReading
	}
	return nil
}

// stopped ends a reading that stopped early: too many invalid rows fail
// the job; a cancelled one is queued with what was read (the scheduler
// skips it).
func (rd *datasetReading) stopped(ctx context.Context, dec *input.Decoder) error {
	if rd.reason != "" {
		return rd.s.failDataset(ctx, rd.rec, rd.reason)
	}
	meta, err := rd.s.Model(rd.rec.Model, rd.rec.Version)
	if err != nil {
		return nil
	}
	return rd.s.queueDataset(ctx, rd.rec, meta, rd.st)
}

// queueDataset marks a dataset job read (queued), with its real size: the
// quota and results store reservations shrink to it.
func (s *Service) queueDataset(ctx context.Context, rec *wire.JobRecord, meta *model.Metadata, st wire.IngestState) error {
	est := s.resultBytes(meta, st.Items, rec.ChunkSize)
	if _, err := s.jobs.Checkpoint(ctx, rec.ID, st); err != nil {
		return err
	}
	q, err := s.jobs.Queue(ctx, rec.ID, store.Queueing{Items: st.Items, Chunks: st.Chunks, ResultBytes: est, Cost: st.Cost})
	if err != nil {
		return err
	}
	_ = s.quotas.SetCost(ctx, q.Tenant, q.ID, st.Cost, est, store.QuotaLimits{})
	s.metrics.items.WithLabelValues("batch", meta.ID(), q.Tenant).Add(float64(st.Items))
	return nil
}

// failDataset ends a dataset job as failed with reason: what was read and
// sent runs no further (the workers skip it).
func (s *Service) failDataset(ctx context.Context, rec *wire.JobRecord, reason string) error {
	if _, err := s.jobs.Fail(ctx, rec.ID, reason); err != nil {
		return err
	}
	if _, err := s.in.Buckets.Cancel.Put(ctx, rec.ID, []byte("1")); err != nil {
		return err
	}
	s.log.Info().Str("job", rec.ID).Str("reason", reason).Msg("dataset job failed")
	return nil
}
