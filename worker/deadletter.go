package worker

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/store"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// maxDeliveriesAdvisory is published by JetStream when a chunk exhausted
// MaxDeliver without an ack (its workers crashed or timed out each time).
const maxDeliveriesAdvisory = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + wire.StreamInfer + ".*"

// advisory is the part of a JetStream max-deliveries advisory we use.
type advisory struct {
	Stream     string `json:"stream"`
	Consumer   string `json:"consumer"`
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries uint64 `json:"deliveries"`
}

// deadChunk is a chunk given up: what its letter says.
type deadChunk struct {
	h              wire.ChunkHeader
	model, version string
	reason         string
	deliveries     uint64
	inline         []byte // a synchronous request's payload
}

// onMaxDeliveries dead-letters a chunk that exhausted its deliveries: its
// payload is kept as a dead letter, its items fail with the reason and it
// leaves the queue, so it never blocks the job. The workers share the
// advisory through a queue subscription.
func (w *Worker) onMaxDeliveries(m *nats.Msg) {
	var a advisory
	if err := json.Unmarshal(m.Data, &a); err != nil || a.Stream != wire.StreamInfer {
		return
	}
	err := w.in.Epoch.Do(w.ctx, natsOpTimeout, opAttempts, func(ctx context.Context) error { return w.giveUp(ctx, a) })
	if err != nil {
		w.log.Error().Err(err).Uint64("seq", a.StreamSeq).Msg("dead-lettering a chunk failed")
	}
}

// giveUp fails the chunk at the advisory's sequence, keeps its letter and
// takes it off the queue; a chunk gone already was handled by another
// worker.
func (w *Worker) giveUp(ctx context.Context, a advisory) error {
	raw, err := w.in.Infer.GetMsg(ctx, a.StreamSeq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read chunk %d: %w", a.StreamSeq, err)
	}
	h, err := wire.ParseChunkHeader(raw.Header)
	if err != nil {
		w.log.Error().Err(err).Uint64("seq", a.StreamSeq).Msg("dead-letter: undecodable chunk dropped")
		return w.in.Infer.DeleteMsg(ctx, a.StreamSeq)
	}
	d := deadChunk{h: h, reason: fmt.Sprintf("gave up after %d deliveries: every worker that took this chunk crashed or timed out", a.Deliveries),
		deliveries: a.Deliveries}
	d.model, d.version = queueModel(raw.Subject)
	if h.Reply != "" {
		_ = w.in.NC.Publish(h.Reply, failedResult(h, w.cfg.ID, d.reason).AppendJSON(nil))
		d.inline = raw.Data
		w.fin.keepSync(ctx, d)
	} else if err := w.fin.giveUpBatch(ctx, d); err != nil {
		return err
	}
	if err := w.in.Infer.DeleteMsg(ctx, a.StreamSeq); err != nil {
		w.log.Debug().Err(err).Str("job", h.Job).Msg("dead-letter: deleting the chunk failed (taken already)")
	}
	w.log.Warn().Str("job", h.Job).Int("chunk", h.Chunk).Uint64("deliveries", a.Deliveries).Msg("chunk dead-lettered")
	return nil
}

// queueModel is the model name and version of a work-queue subject
// (wire.InferSubject).
func queueModel(subject string) (string, string) {
	f := strings.Split(subject, ".")
	if len(f) != 4 {
		return "", ""
	}
	return f[2], f[3]
}

// giveUpBatch stores and counts a dead-lettered batch chunk's failed
// result, keeps its letter, then deletes its input. When the results store
// is full, the chunk is counted as unstored with the reason, so the job
// still ends. A chunk whose earlier delivery stored a result with no
// failure (its worker died before acking) is counted as it is, with no
// letter.
func (f *finisher) giveUpBatch(ctx context.Context, d deadChunk) error {
	cr := failedResult(d.h, f.worker, d.reason)
	stored, size, err := f.results.Put(ctx, cr, cr.AppendJSON(nil))
	count := wire.ChunkCount{}
	switch {
	case natsx.IsFull(err):
		f.metrics.unstored.Inc()
		stored, count = cr, unstoredCount(cr, d.reason)
	case err != nil:
		return err
	default:
		count = countOf(stored, size)
	}
	if stored.Failed > 0 {
		f.keepLetter(ctx, d)
	}
	if err := f.jobs.Count(ctx, cr.Job, count); err != nil {
		return err
	}
	if err := f.inputs.DeleteChunk(ctx, d.model, d.version, d.h.Job, d.h.Chunk); err != nil {
		f.log.Debug().Err(err).Str("job", d.h.Job).Msg("deleting a dead chunk's input failed")
	}
	return nil
}

// keepLetter keeps a dead batch chunk's letter with its input (best
// effort: a letter that cannot be kept is logged and counted, the chunk's
// items fail all the same).
func (f *finisher) keepLetter(ctx context.Context, d deadChunk) {
	model := d.model + ":" + d.version
	rec, err := f.jobs.Get(ctx, d.h.Job)
	var parts [][]byte
	if err == nil {
		parts, err = f.inputs.Raw(ctx, d.model, d.version, d.h.Job, d.h.Chunk)
	}
	if err == nil {
		l := &wire.DeadLetter{Kind: wire.LetterBatch, Tenant: cmp.Or(rec.Tenant, store.NoTenant), Job: d.h.Job, Model: d.model, Version: d.version,
			Chunk: d.h.Chunk, Start: d.h.Start, Count: d.h.Count, Reason: d.reason, Deliveries: d.deliveries, DeadAt: time.Now().UTC(), Redrive: d.h.Redrive}
		_, err = f.letters.Put(ctx, l, parts, 0)
	}
	f.lettered(model, d.h.Job, d.h.Chunk, err)
}

// keepSync keeps a dead synchronous request's letter with its payload,
// for RESULT_TTL (its caller has the failure as its answer).
func (f *finisher) keepSync(ctx context.Context, d deadChunk) {
	l := &wire.DeadLetter{Kind: wire.LetterSync, Job: wire.SyncJob, Model: d.model, Version: d.version, Count: d.h.Count,
		Reason: d.reason, Deliveries: d.deliveries, DeadAt: time.Now().UTC()}
	_, err := f.letters.Put(ctx, l, [][]byte{d.inline}, f.syncLetterTTL)
	f.lettered(d.model+":"+d.version, wire.SyncJob, 0, err)
}

// lettered records a letter kept, or not.
func (f *finisher) lettered(model, job string, chunk int, err error) {
	if err != nil {
		f.metrics.lettersLost.WithLabelValues(model).Inc()
		f.log.Warn().Err(err).Str("job", job).Int("chunk", chunk).Msg("dead letter not kept: its items fail without it")
		return
	}
	f.metrics.deadLettered.WithLabelValues(model).Inc()
}

// letterOf is the dead chunk of a task whose items failed on its last
// delivery.
func letterOf(t *task) deadChunk {
	return deadChunk{h: wire.ChunkHeader{Job: t.job, Chunk: t.chunk, Start: t.start, Count: len(t.items), Redrive: t.redrive},
		model: t.model, version: t.version, reason: t.deadReason, deliveries: t.delivered}
}
