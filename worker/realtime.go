package worker

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go"
)

// realtime takes the synchronous predictions of a lane that come over core
// NATS (wire.SyncSubject, one queue group for all workers): no storage, no
// acks, no leases. A request this worker cannot take (it is full or
// stopping) is answered busy at once, and the gateway queues it on the
// durable sync queue instead, for any worker.
type realtime struct {
	sub      *nats.Subscription
	mu       sync.RWMutex // closed, against sends on a closed channel
	closed   bool
	inflight atomic.Int64 // requests taken and not answered yet
	limit    int64
}

// Limits of a lane's realtime subscription (the client buffer of requests
// not yet taken; those taken are bounded by Config.SyncQueue).
const (
	realtimePendingMsgs  = 4096
	realtimePendingBytes = 64 << 20
)

// startRealtime subscribes the lane to its realtime subject.
func (l *lane) startRealtime(nc *nats.Conn) error {
	l.rt.limit = int64(l.d.cfg.SyncQueue)
	sub, err := nc.QueueSubscribe(wire.SyncSubject(l.meta.Name, l.meta.Version), wire.SyncQueueGroup, l.onRealtime)
	if err != nil {
		return fmt.Errorf("subscribe %s: %w", wire.SyncSubject(l.meta.Name, l.meta.Version), err)
	}
	if err := sub.SetPendingLimits(realtimePendingMsgs, realtimePendingBytes); err != nil {
		_ = sub.Unsubscribe()
		return fmt.Errorf("subscribe %s: %w", wire.SyncSubject(l.meta.Name, l.meta.Version), err)
	}
	l.rt.sub = sub
	return nil
}

// stopRealtime unsubscribes; requests taken already are still answered.
func (l *lane) stopRealtime() {
	if l.rt.sub != nil {
		_ = l.rt.sub.Unsubscribe()
	}
	l.rt.mu.Lock()
	l.rt.closed = true
	l.rt.mu.Unlock()
}

// onRealtime takes one request: into the batcher's synchronous queue, or
// answered busy.
func (l *lane) onRealtime(m *nats.Msg) {
	if m.Reply == "" {
		return
	}
	h, err := wire.ParseChunkHeader(m.Header)
	if err == nil && !h.Expires.IsZero() && time.Now().After(h.Expires) {
		l.d.metrics.chunks.WithLabelValues(l.id, "expired").Inc()
		return // nobody waits for it any more
	}
	var items []wire.Item
	if err == nil {
		items, err = wire.DecodeChunk(m.Data)
	}
	if err != nil {
		l.log.Error().Err(err).Msg("dropping undecodable prediction request")
		return
	}
	t := &task{
		priority: wire.PrioritySync, lane: l.id, job: h.Job, reply: m.Reply, start: h.Start, enqueued: h.Enqueued,
		delivered: uint64(l.d.cfg.MaxDeliver), // no redelivery: a failure is the answer
		items:     items, results: make([]wire.ItemResult, len(items)), remaining: len(items),
		release: func() { l.rt.inflight.Add(-1) },
	}
	l.rt.mu.RLock()
	defer l.rt.mu.RUnlock()
	if l.rt.closed || l.d.killed() || !l.rt.take() {
		l.d.metrics.chunks.WithLabelValues(l.id, "busy").Inc()
		_ = m.RespondMsg(&nats.Msg{Header: nats.Header{wire.HdrBusy: []string{"1"}}})
		return
	}
	if !t.enqueued.IsZero() {
		l.d.metrics.queueWait.WithLabelValues(l.id, wire.PrioritySync).Observe(time.Since(t.enqueued).Seconds())
	}
	l.traceTask(t, m.Header)
	l.syncCh <- t // room for SyncQueue realtime tasks beside the fetcher's
}

// take counts one more request in flight, unless there are limit already.
func (r *realtime) take() bool {
	if r.inflight.Add(1) > r.limit {
		r.inflight.Add(-1)
		return false
	}
	return true
}
