package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// maxDeliveriesAdvisory is published by JetStream when a chunk exhausted
// MaxDeliver without an ack (its workers crashed or timed out each time).
const maxDeliveriesAdvisory = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + wire.StreamInfer + ".*"

// finalize hands a task whose items all have results to the finalizers.
func (w *Worker) finalize(l *lane, t *task) {
	if w.killed.Load() {
		return // a crashed worker acks nothing
	}
	w.finalizeCh <- finalizeReq{l, t}
}

func (w *Worker) finalizer() {
	defer w.finalWG.Done()
	for req := range w.finalizeCh {
		if w.killed.Load() {
			continue
		}
		w.complete(req.l, req.t)
		req.l.release(req.t)
	}
}

// complete stores the chunk's results, counts them into the job record and
// acks the chunk, in that order, so a crash at any point leads to a
// redelivery that finds the stored result and never to a lost or doubled one.
func (w *Worker) complete(l *lane, t *task) {
	ctx, cancel := context.WithTimeout(context.Background(), natsOpTimeout)
	defer cancel()
	cr := t.chunkResult(w.cfg.ID)
	data := cr.AppendJSON(make([]byte, 0, 64+len(cr.Items)*256))
	if t.reply != "" {
		if err := w.nc.Publish(t.reply, data); err != nil {
			w.log.Warn().Err(err).Msg("sync reply failed")
		}
		_ = t.msg.Ack()
		l.w.metrics.chunks.WithLabelValues(l.id, "replied").Inc()
		return
	}
	stored, err := w.storeResult(ctx, cr, data)
	if err != nil {
		w.log.Error().Err(err).Str("job", t.job).Int("chunk", t.chunk).Msg("store result failed")
		_ = t.msg.NakWithDelay(time.Second)
		l.w.metrics.chunks.WithLabelValues(l.id, "nak").Inc()
		return
	}
	if err := w.count(ctx, stored); err != nil {
		w.log.Error().Err(err).Str("job", t.job).Int("chunk", t.chunk).Msg("count result failed")
		_ = t.msg.NakWithDelay(time.Second)
		return
	}
	if err := t.msg.DoubleAck(ctx); err != nil {
		w.log.Warn().Err(err).Str("job", t.job).Int("chunk", t.chunk).Msg("ack failed")
	}
	outcome := "stored"
	if stored != cr {
		outcome = "duplicate"
	}
	l.w.metrics.chunks.WithLabelValues(l.id, outcome).Inc()
}

// storeResult publishes cr unless a result for that chunk is already
// stored, and returns the stored one.
func (w *Worker) storeResult(ctx context.Context, cr *wire.ChunkResult, data []byte) (*wire.ChunkResult, error) {
	subj := wire.ResultSubject(cr.Job, cr.Chunk)
	ack, err := w.js.Publish(ctx, subj, data, jetstream.WithMsgID(wire.ChunkMsgID(cr.Job, cr.Chunk)), jetstream.WithExpectStream(wire.StreamResults))
	if err == nil && !ack.Duplicate {
		return cr, nil
	}
	if err != nil && !strings.Contains(err.Error(), "maximum messages per subject") {
		return nil, fmt.Errorf("publish %s: %w", subj, err)
	}
	prev, err := w.storedResult(ctx, cr.Job, cr.Chunk)
	if err != nil {
		return nil, err
	}
	if prev == nil {
		return nil, fmt.Errorf("publish %s: refused as duplicate but no stored result", subj)
	}
	return prev, nil
}

func (w *Worker) storedResult(ctx context.Context, job string, chunk int) (*wire.ChunkResult, error) {
	return natsx.GetChunkResult(ctx, w.results, job, chunk)
}

// count adds a stored chunk result to its job record, once.
func (w *Worker) count(ctx context.Context, cr *wire.ChunkResult) error {
	_, err := natsx.UpdateJob(ctx, w.b.Jobs, cr.Job, func(r *wire.JobRecord) bool {
		return r.Count(cr.Chunk, cr.Done, cr.Failed, time.Now().UTC())
	})
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil // the job expired; nothing to count into
	}
	return err
}

// alreadyStored finishes a redelivered chunk whose result was stored by an
// earlier delivery (whose worker died before acking) and reports whether it
// did.
func (w *Worker) alreadyStored(t *task) bool {
	ctx, cancel := context.WithTimeout(context.Background(), natsOpTimeout)
	defer cancel()
	prev, err := w.storedResult(ctx, t.job, t.chunk)
	if err != nil || prev == nil {
		return false
	}
	if err := w.count(ctx, prev); err != nil {
		return false
	}
	_ = t.msg.DoubleAck(ctx)
	return true
}

// advisory is the part of a JetStream max-deliveries advisory we use.
type advisory struct {
	Stream     string `json:"stream"`
	Consumer   string `json:"consumer"`
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries uint64 `json:"deliveries"`
}

// onMaxDeliveries dead-letters a chunk that exhausted its deliveries: its
// items are failed with the reason, a copy is kept in the dead-letter
// stream and the chunk leaves the queue, so it never blocks the job.
func (w *Worker) onMaxDeliveries(m *nats.Msg) {
	var a advisory
	if err := json.Unmarshal(m.Data, &a); err != nil || a.Stream != wire.StreamInfer {
		return
	}
	ctx, cancel := context.WithTimeout(w.ctx, natsOpTimeout)
	defer cancel()
	raw, err := w.infer.GetMsg(ctx, a.StreamSeq)
	if err != nil {
		return // already handled by another worker
	}
	job := raw.Header.Get(wire.HdrJob)
	chunk, _ := strconv.Atoi(raw.Header.Get(wire.HdrChunk))
	start, _ := strconv.Atoi(raw.Header.Get(wire.HdrStart))
	count, _ := strconv.Atoi(raw.Header.Get(wire.HdrCount))
	reason := fmt.Sprintf("gave up after %d deliveries: every worker that took this chunk crashed or timed out", a.Deliveries)
	cr := &wire.ChunkResult{Job: job, Chunk: chunk, Start: start, Worker: w.cfg.ID, Failed: count}
	for i := 0; i < count; i++ {
		cr.Items = append(cr.Items, wire.ItemResult{Index: start + i, Error: reason})
	}
	if reply := raw.Header.Get(wire.HdrReply); reply != "" {
		_ = w.nc.Publish(reply, cr.AppendJSON(nil))
	} else {
		stored, err := w.storeResult(ctx, cr, cr.AppendJSON(nil))
		if err != nil {
			w.log.Error().Err(err).Str("job", job).Msg("dead-letter store failed")
			return
		}
		if err := w.count(ctx, stored); err != nil {
			w.log.Error().Err(err).Str("job", job).Msg("dead-letter count failed")
			return
		}
	}
	dl := &nats.Msg{Subject: "dlq." + raw.Subject, Header: raw.Header, Data: raw.Data}
	dl.Header.Del(wire.HdrMsgID)
	dl.Header.Del(wire.HdrTTL)
	if _, err := w.js.PublishMsg(ctx, dl); err != nil {
		w.log.Warn().Err(err).Str("job", job).Msg("dead-letter copy failed")
	}
	_ = w.infer.DeleteMsg(ctx, a.StreamSeq)
	w.metrics.deadLettered.Inc()
	w.log.Warn().Str("job", job).Int("chunk", chunk).Uint64("deliveries", a.Deliveries).Msg("chunk dead-lettered")
}
