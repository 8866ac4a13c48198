package worker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/store"
	"batchinfer/internal/tracing"
	"batchinfer/internal/wire"
	"batchinfer/model"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// laneDeps is what a lane needs of its worker.
type laneDeps struct {
	cfg         Config
	nc          *nats.Conn
	js          jetstream.JetStream
	epoch       *natsx.Epoch
	metrics     *metrics
	log         zerolog.Logger
	killed      func() bool
	isCancelled func(job string) bool
	// redelivered finishes a redelivered chunk whose result is already
	// stored and reports whether it did.
	redelivered func(*task) bool
	// finish stores, counts and acks a chunk, then calls t.release.
	finish func(*task)
	// inputs reads the input of batch tickets.
	inputs *store.Inputs
	// goneReason says why a job's input is gone: its record's cancel or
	// deadline, else reasonInputGone.
	goneReason func(job string) string
	// tracer makes the chunks' and batches' spans (nil: tracing off).
	tracer *tracing.Tracer
}

// lane serves one model version: a fetcher per queue (synchronous and
// batch) feeds the batcher that runs the model; leases keep what it holds.
type lane struct {
	d    laneDeps
	p    Predictor
	meta *model.Metadata
	id   string
	log  zerolog.Logger
	// runtime names the runtime of a registry version (for logs).
	runtime string

	fetchers map[string]*fetcher // by priority
	stopPull context.CancelFunc
	syncCh   chan *task
	batchCh  chan *task
	leases   *leases
	takes    sync.WaitGroup // tickets reading their input
	rt       realtime
	done     chan struct{}
	// items counts the items run (the announcement's per-model rate).
	items atomic.Uint64
}

func newLane(d laneDeps, p Predictor) *lane {
	meta := p.Meta()
	return &lane{
		d: d, p: p, meta: meta, id: meta.ID(), log: d.log.With().Str("model", meta.ID()).Logger(),
		syncCh:   make(chan *task, d.cfg.MaxSyncBatch+d.cfg.SyncQueue),
		batchCh:  make(chan *task, d.cfg.prefetchMax()+d.cfg.newcomerSlots()),
		done:     make(chan struct{}),
		leases:   newLeases(),
		fetchers: map[string]*fetcher{},
	}
}

// start creates the consumers and starts fetching and batching.
func (l *lane) start(ctx context.Context) error {
	l.d.metrics.presentModel(l.id)
	if err := l.workConsumers(ctx); err != nil {
		return err
	}
	if err := l.backlogConsumer(ctx); err != nil {
		return err
	}
	if err := l.startRealtime(l.d.nc); err != nil {
		return err
	}
	pctx, stop := context.WithCancel(context.Background())
	l.stopPull = stop
	for _, f := range l.fetchers {
		go f.run(pctx)
	}
	go func() {
		for _, f := range l.fetchers {
			<-f.done
		}
		l.takes.Wait() // tickets still reading their input hand them over first
		l.stopRealtime()
		close(l.syncCh)
		close(l.batchCh)
	}()
	go func() {
		defer close(l.done)
		newBatcher(l.batchDeps(), l.syncCh, l.batchCh).run()
	}()
	go l.leases.renew(l.d.cfg.AckWait, l.d.epoch.Changed, l.done, l.d.killed)
	return nil
}

// workConsumers creates the model version's work-queue consumers (its
// synchronous, batch and newcomers' queues) and a fetcher for each.
func (l *lane) workConsumers(ctx context.Context) error {
	prios := []string{wire.PrioritySync, wire.PriorityBatch}
	if l.d.cfg.newcomerSlots() > 0 {
		prios = append(prios, wire.PriorityFirst)
	}
	for _, prio := range prios {
		var cons jetstream.Consumer
		err := natsx.Retry(ctx, func(ctx context.Context) (err error) {
			cons, err = l.d.js.CreateOrUpdateConsumer(ctx, wire.StreamInfer, jetstream.ConsumerConfig{
				Durable:       wire.ConsumerName(prio, l.meta.Name, l.meta.Version),
				Description:   prio + " queue of " + l.id,
				FilterSubject: wire.InferSubject(prio, l.meta.Name, l.meta.Version),
				AckPolicy:     jetstream.AckExplicitPolicy,
				AckWait:       l.d.cfg.AckWait,
				MaxDeliver:    l.d.cfg.MaxDeliver,
				MaxAckPending: 100_000,
			})
			return err
		})
		if err != nil {
			return fmt.Errorf("consumer %s for %s: %w", prio, l.id, err)
		}
		lo, hi, batch := l.d.cfg.Prefetch, l.d.cfg.prefetchMax(), 0
		switch prio {
		case wire.PrioritySync:
			lo, hi = l.d.cfg.MaxSyncBatch, l.d.cfg.MaxSyncBatch
		case wire.PriorityFirst:
			lo, hi = l.d.cfg.newcomerSlots(), l.d.cfg.newcomerSlots()
		default:
			batch, _ = l.d.cfg.batchLimits(l.meta)
		}
		l.fetchers[prio] = newFetcher(cons, lo, hi, batch, l.d.epoch, func(m jetstream.Msg) { l.onMessage(prio, m) },
			func(err error) { l.log.Debug().Err(err).Str("priority", prio).Msg("pull failed, retrying") })
	}
	return nil
}

// backlogConsumer declares the model version's backlog consumer on the
// input stream: nobody pulls it; its pending count is the chunks whose
// results are not stored yet, which autoscalers read.
func (l *lane) backlogConsumer(ctx context.Context) error {
	err := natsx.Retry(ctx, func(ctx context.Context) error {
		_, err := l.d.js.CreateOrUpdateConsumer(ctx, wire.StreamInput, store.BacklogConsumer(l.meta.Name, l.meta.Version))
		return err
	})
	if err != nil {
		return fmt.Errorf("backlog consumer for %s: %w", l.id, err)
	}
	return nil
}

func (l *lane) batchDeps() batchDeps {
	m := l.d.metrics
	maxBatch, maxSync := l.d.cfg.batchLimits(l.meta)
	return batchDeps{
		meta: l.meta, predict: l.p.Predict, maxBatch: maxBatch, maxSync: maxSync, maxWait: l.d.cfg.MaxWait, maxDeliver: l.d.cfg.MaxDeliver, tracer: l.d.tracer,
		finish: l.d.finish, skip: l.skipReason, execTimeout: l.d.cfg.ExecTimeout,
		retry: func(t *task, delay time.Duration, err error) {
			tracing.Event(l.log.Warn(), t.sc).Err(err).Str("job", t.job).Int("chunk", t.chunk).Msg("inference failed, chunk given back")
			t.spanError(err)
			m.chunks.WithLabelValues(l.id, "nak").Inc()
			_ = t.msg.NakWithDelay(delay)
			t.release()
		},
		observe: func(n int, d time.Duration, err error) {
			m.batchSize.WithLabelValues(l.id).Observe(float64(n))
			m.inference.WithLabelValues(l.id).Observe(d.Seconds())
			m.batches.Add(1)
			m.itemsRun.Add(uint64(n))
			l.items.Add(uint64(n))
			if err != nil {
				l.log.Error().Err(err).Int("batch", n).Msg("inference failed")
			}
		},
	}
}

// drain stops pulling; chunks already received are still processed.
func (l *lane) drain() {
	l.stopRealtime()
	for _, f := range l.fetchers {
		f.drain()
	}
}

// kill stops pulling at once and drops what was received, unacked.
func (l *lane) kill() {
	l.stopRealtime()
	if l.stopPull != nil {
		l.stopPull()
	}
}

// giveBack naks every chunk still held (a stop that ran out of time).
func (l *lane) giveBack() {
	for _, t := range l.leases.all() {
		_ = t.msg.Nak()
	}
}

// onMessage takes one chunk as it arrives: it is held (its lease renewed)
// from now until acked, and handed to the batcher; this never blocks, the
// channels having room for every slot.
func (l *lane) onMessage(prio string, m jetstream.Msg) {
	if l.d.killed() {
		return
	}
	t, err := parseTask(m, prio)
	if err != nil {
		l.log.Error().Err(err).Msg("dropping undecodable chunk")
		_ = m.Term()
		l.fetchers[prio].release()
		return
	}
	t.model, t.version = l.meta.Name, l.meta.Version
	if prio == wire.PriorityBatch {
		l.fetchers[prio].fit(cmp.Or(t.count, len(t.items)))
	}
	l.hold(t)
	l.traceTask(t, m.Headers())
	if t.parts > 0 && prio != wire.PrioritySync {
		l.takes.Add(1)
		go func() { // reads the input: must not hold up the fetcher
			defer l.takes.Done()
			l.take(t)
		}()
		return
	}
	l.accept(t)
}

// accept hands a held chunk with its items to the batcher, or finishes it
// at once: a redelivery whose result is stored, a cancelled job's.
func (l *lane) accept(t *task) {
	prio := t.priority
	t.started = time.Now()
	if !t.enqueued.IsZero() {
		l.d.metrics.queueWait.WithLabelValues(l.id, prio).Observe(time.Since(t.enqueued).Seconds())
	}
	switch {
	case prio == wire.PrioritySync:
		l.syncCh <- t
		return
	case t.delivered > 1 && t.parts == 0: // a ticket was checked in take
		l.d.metrics.redelivered.Inc()
		if l.d.redelivered(t) {
			t.release()
			return
		}
	}
	if reason := l.skipReason(t); reason != "" {
		t.skipRest(reason)
		l.d.metrics.items.WithLabelValues(l.id, "skipped").Add(float64(len(t.items)))
		l.d.finish(t)
		return
	}
	l.batchCh <- t
}

// skipReason says why a chunk's items are not to run now: its job was
// cancelled, or its deadline passed before they started ("" to run them).
func (l *lane) skipReason(t *task) string {
	switch {
	case t.job != wire.SyncJob && l.d.isCancelled(t.job):
		return reasonCancelled
	case !t.deadline.IsZero() && time.Now().After(t.deadline):
		return reasonDeadline
	}
	return ""
}

// take reads a ticket's input from the input stream, then accepts it. A
// redelivered ticket whose result is stored is finished without reading,
// so is one whose job was cancelled or passed its deadline (its items
// skipped: its input may be gone with the job's end); one whose input is
// gone (its job purged) is skipped; a read that fails gives the ticket
// back.
func (l *lane) take(t *task) {
	if l.d.killed() {
		return
	}
	if t.delivered > 1 {
		l.d.metrics.redelivered.Inc()
		if l.d.redelivered(t) {
			t.release()
			return
		}
	}
	if reason := l.skipReason(t); reason != "" {
		t.setItems(make([]wire.Item, t.count), wire.ChunkMeta{})
		t.skipRest(reason)
		l.d.metrics.items.WithLabelValues(l.id, "skipped").Add(float64(t.count))
		l.d.finish(t)
		return
	}
	var items []wire.Item
	var meta wire.ChunkMeta
	span := t.child(l.d.tracer, "chunk.read_input")
	err := l.d.epoch.Do(context.Background(), natsOpTimeout, opAttempts, func(ctx context.Context) (err error) {
		items, meta, err = l.d.inputs.Chunk(ctx, t.model, t.version, t.job, t.chunk)
		return err
	})
	endChild(span, err)
	switch {
	case errors.Is(err, store.ErrInputGone):
		tracing.Event(l.log.Warn(), t.sc).Str("job", t.job).Int("chunk", t.chunk).Msg("ticket without input: its items are skipped")
		t.setItems(make([]wire.Item, t.count), wire.ChunkMeta{})
		t.skipRest(l.d.goneReason(t.job))
		l.d.finish(t)
		return
	case err != nil:
		tracing.Event(l.log.Warn(), t.sc).Err(err).Str("job", t.job).Int("chunk", t.chunk).Msg("reading a chunk's input failed, chunk given back")
		_ = t.msg.NakWithDelay(time.Second)
		t.release()
		return
	}
	t.setItems(items, meta)
	l.accept(t)
}

// hold starts t's lease; t.release ends it and frees its fetch slot.
func (l *lane) hold(t *task) {
	l.leases.hold(t)
	t.lane = l.id
	t.freeSlot = func() {
		if t.slotFree.CompareAndSwap(false, true) {
			l.fetchers[t.priority].release()
		}
	}
	t.release = func() {
		if l.leases.forget(t) {
			t.freeSlot()
		}
	}
	t.more = func() bool { return l.leases.others(t) }
}
