package worker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"batchinfer/internal/wire"
	"batchinfer/model"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// lane serves one model version: two fetchers (sync and batch queues) feed
// one batcher that runs the model.
type lane struct {
	w        *Worker
	p        Predictor
	meta     *model.Metadata
	id       string
	itemSize int
	outSize  int
	log      zerolog.Logger

	its     []jetstream.MessagesContext
	syncCh  chan *task
	batchCh chan *task
	fetchWG sync.WaitGroup
	done    chan struct{}

	mu   sync.Mutex
	held map[*task]struct{} // received and not yet acked, for in-progress acks
}

func newLane(w *Worker, p Predictor) *lane {
	meta := p.Meta()
	return &lane{
		w: w, p: p, meta: meta, id: meta.ID(), itemSize: meta.ItemSize(), outSize: meta.OutputSize(),
		log:     w.log.With().Str("model", meta.ID()).Logger(),
		syncCh:  make(chan *task, w.cfg.MaxBatch),
		batchCh: make(chan *task, 1),
		done:    make(chan struct{}),
		held:    map[*task]struct{}{},
	}
}

// start creates the consumers and starts fetching and batching.
func (l *lane) start(ctx context.Context) error {
	for _, prio := range []string{wire.PrioritySync, wire.PriorityBatch} {
		cons, err := l.w.js.CreateOrUpdateConsumer(ctx, wire.StreamInfer, jetstream.ConsumerConfig{
			Durable:       wire.ConsumerName(prio, l.meta.Name, l.meta.Version),
			Description:   prio + " queue of " + l.id,
			FilterSubject: wire.InferSubject(prio, l.meta.Name, l.meta.Version),
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       l.w.cfg.AckWait,
			MaxDeliver:    l.w.cfg.MaxDeliver,
			MaxAckPending: 100_000,
		})
		if err != nil {
			return fmt.Errorf("consumer %s for %s: %w", prio, l.id, err)
		}
		n, ch := l.w.cfg.Prefetch, l.batchCh
		if prio == wire.PrioritySync {
			n, ch = l.w.cfg.MaxBatch, l.syncCh
		}
		it, err := cons.Messages(jetstream.PullMaxMessages(n))
		if err != nil {
			return fmt.Errorf("pull %s for %s: %w", prio, l.id, err)
		}
		l.its = append(l.its, it)
		l.fetchWG.Add(1)
		go l.fetch(it, prio, ch)
	}
	go func() {
		l.fetchWG.Wait()
		close(l.syncCh)
		close(l.batchCh)
	}()
	go l.run()
	go l.keepAlive()
	return nil
}

// drain stops pulling; messages already received are still processed.
func (l *lane) drain() {
	for _, it := range l.its {
		it.Drain()
	}
}

// kill stops pulling at once and drops what was received, unacked.
func (l *lane) kill() {
	for _, it := range l.its {
		it.Stop()
	}
}

func (l *lane) fetch(it jetstream.MessagesContext, prio string, out chan<- *task) {
	defer l.fetchWG.Done()
	for {
		m, err := it.Next()
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return
			}
			continue
		}
		if l.w.killed.Load() {
			return
		}
		t, err := parseTask(m, prio)
		if err != nil {
			l.log.Error().Err(err).Msg("dropping undecodable chunk")
			_ = m.Term()
			continue
		}
		l.hold(t)
		if t.delivered > 1 && prio == wire.PriorityBatch {
			l.w.metrics.redelivered.Inc()
			if l.w.alreadyStored(t) {
				continue
			}
		}
		if prio == wire.PriorityBatch && l.w.isCancelled(t.job) {
			t.failRest("job cancelled")
			l.w.metrics.items.WithLabelValues(l.id, "cancelled").Add(float64(len(t.items)))
			l.w.finalize(l, t)
			continue
		}
		out <- t
	}
}

func (l *lane) hold(t *task) {
	l.mu.Lock()
	l.held[t] = struct{}{}
	l.mu.Unlock()
}

func (l *lane) release(t *task) {
	l.mu.Lock()
	delete(l.held, t)
	l.mu.Unlock()
}

// keepAlive extends the ack deadline of every held chunk while it waits or
// runs, so long batches are not redelivered to another worker.
func (l *lane) keepAlive() {
	tick := time.NewTicker(max(l.w.cfg.AckWait/3, 100*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-l.done:
			return
		case <-tick.C:
			if l.w.killed.Load() {
				return
			}
			l.mu.Lock()
			ts := make([]*task, 0, len(l.held))
			for t := range l.held {
				ts = append(ts, t)
			}
			l.mu.Unlock()
			for _, t := range ts {
				_ = t.msg.InProgress()
			}
		}
	}
}

// run is the batcher: it takes sync items first, fills a batch up to
// MaxBatch items waiting at most MaxWait for more, and runs it.
func (l *lane) run() {
	defer close(l.done)
	var (
		queue   []*task // tasks with unscheduled items, sync ones first
		pending int     // unscheduled items in queue
		syncCh  = l.syncCh
		batchCh = l.batchCh
	)
	add := func(t *task) {
		n := len(t.items) - t.next
		if n == 0 {
			l.w.finalize(l, t)
			return
		}
		if !t.enqueued.IsZero() {
			l.w.metrics.queueWait.WithLabelValues(l.id, t.priority).Observe(time.Since(t.enqueued).Seconds())
		}
		if t.priority == wire.PrioritySync {
			i := 0
			for i < len(queue) && queue[i].priority == wire.PrioritySync {
				i++
			}
			queue = append(queue[:i], append([]*task{t}, queue[i:]...)...)
		} else {
			queue = append(queue, t)
		}
		pending += n
	}
	recv := func(t *task, ok bool, ch *chan *task) {
		if !ok {
			*ch = nil
			return
		}
		add(t)
	}
	inputs := make([]float32, 0, l.w.cfg.MaxBatch*l.itemSize)
	type slot struct {
		t *task
		i int
	}
	slots := make([]slot, 0, l.w.cfg.MaxBatch)
	var timer *time.Timer
	for {
		if pending == 0 {
			if syncCh == nil && batchCh == nil {
				return
			}
			select {
			case t, ok := <-syncCh:
				recv(t, ok, &syncCh)
			case t, ok := <-batchCh:
				recv(t, ok, &batchCh)
			}
			continue
		}
		// Fill: take whatever is ready, then wait up to MaxWait.
		if pending < l.w.cfg.MaxBatch && l.w.cfg.MaxWait == 0 {
			// Greedy: take what is ready now; items that arrive while
			// this batch runs form the next one.
		greedy:
			for pending < l.w.cfg.MaxBatch && (syncCh != nil || batchCh != nil) {
				select {
				case t, ok := <-syncCh:
					recv(t, ok, &syncCh)
				case t, ok := <-batchCh:
					recv(t, ok, &batchCh)
				default:
					break greedy
				}
			}
		} else if pending < l.w.cfg.MaxBatch && (syncCh != nil || batchCh != nil) {
			if timer == nil {
				timer = time.NewTimer(l.w.cfg.MaxWait)
			} else {
				timer.Reset(l.w.cfg.MaxWait)
			}
		fill:
			for pending < l.w.cfg.MaxBatch && (syncCh != nil || batchCh != nil) {
				select {
				case t, ok := <-syncCh:
					recv(t, ok, &syncCh)
					continue
				default:
				}
				select {
				case t, ok := <-syncCh:
					recv(t, ok, &syncCh)
				case t, ok := <-batchCh:
					recv(t, ok, &batchCh)
				case <-timer.C:
					break fill
				}
			}
			timer.Stop()
		}
		// Form the batch.
		inputs = inputs[:0]
		slots = slots[:0]
		for len(queue) > 0 && len(slots) < l.w.cfg.MaxBatch {
			t := queue[0]
			for t.next < len(t.items) && len(slots) < l.w.cfg.MaxBatch {
				i := t.next
				t.next++
				pending--
				it := t.items[i]
				off := len(inputs)
				inputs = append(inputs, make([]float32, l.itemSize)...)
				switch it.Kind {
				case wire.ItemTensor:
					if !decodeTensor(inputs[off:], it.Data) {
						inputs = inputs[:off]
						t.fail(i, fmt.Sprintf("tensor of %d bytes, want %d", len(it.Data), 4*l.itemSize))
						continue
					}
				case wire.ItemImage:
					px, err := model.DecodeImage(l.meta.Preprocessing.Image, it.Data)
					if err != nil || len(px) != l.itemSize {
						inputs = inputs[:off]
						if err == nil {
							err = fmt.Errorf("decoded to %d values, want %d", len(px), l.itemSize)
						}
						t.fail(i, "image: "+err.Error())
						continue
					}
					copy(inputs[off:], px)
				default:
					inputs = inputs[:off]
					t.fail(i, fmt.Sprintf("unknown item kind %d", it.Kind))
					continue
				}
				slots = append(slots, slot{t, i})
			}
			if t.next == len(t.items) {
				queue = queue[1:]
				if t.remaining == 0 {
					l.w.finalize(l, t) // every item failed before inference
				}
			}
		}
		if len(slots) == 0 {
			continue
		}
		n := len(slots)
		l.w.metrics.batchSize.WithLabelValues(l.id).Observe(float64(n))
		start := time.Now()
		out, err := l.p.Predict(inputs, n)
		l.w.metrics.inference.WithLabelValues(l.id).Observe(time.Since(start).Seconds())
		l.w.batches.Add(1)
		l.w.itemsDone.Add(uint64(n))
		if err != nil {
			l.log.Error().Err(err).Int("batch", n).Msg("inference failed")
		}
		for k, s := range slots {
			t := s.t
			if t.abandoned {
				continue
			}
			if err != nil {
				if t.delivered >= uint64(l.w.cfg.MaxDeliver) {
					t.fail(s.i, fmt.Sprintf("inference failed after %d attempts: %v", t.delivered, err))
					l.w.metrics.items.WithLabelValues(l.id, "failed").Inc()
				} else {
					// Give the chunk back for another try, by any worker.
					t.abandoned = true
					queue = removeTask(queue, t, &pending)
					l.release(t)
					_ = t.msg.NakWithDelay(time.Duration(t.delivered) * time.Second)
					l.w.metrics.chunks.WithLabelValues(l.id, "nak").Inc()
					continue
				}
			} else {
				t.results[s.i] = itemResult(l.meta, t.start+s.i, out[k*l.outSize:(k+1)*l.outSize])
				t.remaining--
				l.w.metrics.items.WithLabelValues(l.id, "ok").Inc()
			}
			if t.remaining == 0 {
				l.w.finalize(l, t)
			}
		}
	}
}

// removeTask drops t's unscheduled items from the queue.
func removeTask(queue []*task, t *task, pending *int) []*task {
	for i, q := range queue {
		if q == t {
			*pending -= len(t.items) - t.next
			t.next = len(t.items)
			return append(queue[:i], queue[i+1:]...)
		}
	}
	return queue
}
