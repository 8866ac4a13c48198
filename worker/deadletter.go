package worker

import (
	"context"
	"encoding/json"
	"fmt"

	"batchinfer/internal/natsx"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go"
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

// onMaxDeliveries dead-letters a chunk that exhausted its deliveries: its
// items are failed with the reason, a copy is kept in the dead-letter
// stream and the chunk leaves the queue, so it never blocks the job. The
// workers share the advisory through a queue subscription.
func (w *Worker) onMaxDeliveries(m *nats.Msg) {
	var a advisory
	if err := json.Unmarshal(m.Data, &a); err != nil || a.Stream != wire.StreamInfer {
		return
	}
	ctx, cancel := context.WithTimeout(w.ctx, natsOpTimeout)
	defer cancel()
	raw, err := w.in.Infer.GetMsg(ctx, a.StreamSeq)
	if err != nil {
		return // already handled by another worker
	}
	h, err := wire.ParseChunkHeader(raw.Header)
	if err != nil {
		w.log.Error().Err(err).Uint64("seq", a.StreamSeq).Msg("dead-letter: undecodable chunk")
		_ = w.in.Infer.DeleteMsg(ctx, a.StreamSeq)
		return
	}
	reason := fmt.Sprintf("gave up after %d deliveries: every worker that took this chunk crashed or timed out", a.Deliveries)
	cr := failedResult(h, w.cfg.ID, reason)
	if h.Reply != "" {
		_ = w.in.NC.Publish(h.Reply, cr.AppendJSON(nil))
	} else if err := w.storeFailed(ctx, cr, reason); err != nil {
		w.log.Error().Err(err).Str("job", h.Job).Msg("dead-letter store failed")
		return
	}
	dl := &nats.Msg{Subject: "dlq." + raw.Subject, Header: raw.Header, Data: raw.Data}
	dl.Header.Del(wire.HdrMsgID)
	dl.Header.Del(wire.HdrTTL)
	if _, err := w.in.JS.PublishMsg(ctx, dl); err != nil {
		w.log.Warn().Err(err).Str("job", h.Job).Msg("dead-letter copy failed")
	}
	_ = w.in.Infer.DeleteMsg(ctx, a.StreamSeq)
	w.metrics.deadLettered.Inc()
	w.log.Warn().Str("job", h.Job).Int("chunk", h.Chunk).Uint64("deliveries", a.Deliveries).Msg("chunk dead-lettered")
}

// storeFailed stores and counts a dead-lettered chunk's failed result;
// when the results store is full, the chunk is counted as unstored with
// the reason, so the job still ends.
func (w *Worker) storeFailed(ctx context.Context, cr *wire.ChunkResult, reason string) error {
	stored, size, err := w.fin.results.Put(ctx, cr, cr.AppendJSON(nil))
	switch {
	case natsx.IsFull(err):
		w.metrics.unstored.Inc()
		return w.fin.jobs.Count(ctx, cr.Job, unstoredCount(cr, reason))
	case err != nil:
		return err
	}
	return w.fin.jobs.Count(ctx, cr.Job, countOf(stored, size))
}
