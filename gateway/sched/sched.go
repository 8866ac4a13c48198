// Package sched is the batch scheduler: it sends the chunks of batch jobs
// to the workers' queues (a ticket each on the model version's work
// queue; the items stay in the input stream) in weighted fair order across
// tenants, by priority and fairly between a tenant's jobs, keeping only a
// few tickets waiting in each queue so that a job submitted behind a
// backlog is served within a round. Every gateway runs one; the one holding
// the lease leads (sends), the others follow the same jobs and take over
// when its lease lapses, resuming from the cursors it saved. Exactly-once
// does not depend on it: a ticket sent twice (a failover) is deduplicated
// by its message id, and a chunk is stored and counted once. Config.Policy
// fifo sends chunks in submission order instead, with the same tickets,
// cursors and leases: it exists so that a benchmark can compare the two.
package sched

import (
	"context"
	"fmt"
	"sync"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/store"
	"batchinfer/internal/tracing"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Config shapes a Scheduler.
type Config struct {
	// QueueChunks is how many tickets may wait in a model version's queue:
	// enough that its workers never idle between two rounds, few enough
	// that a job submitted now is served within one (default 2). It counts
	// chunks of up to QueueUnit items: of larger chunks, that many units'
	// worth wait (at least one).
	QueueChunks int
	// Tick is how often each queue's depth is read and topped up.
	Tick time.Duration
	// Policy is the order chunks are sent in: PolicyFair (weighted fair
	// share, the default) or PolicyFIFO (submission order, for comparison
	// in benchmarks).
	Policy string
}

// Validate checks the settings New does not default.
func (c Config) Validate() error {
	switch c.Policy {
	case "", PolicyFair, PolicyFIFO:
		return nil
	}
	return fmt.Errorf("scheduler: policy %q: want %s or %s", c.Policy, PolicyFair, PolicyFIFO)
}

// Defaults for Config.
const (
	DefaultQueueChunks = 2
	// QueueUnit is the chunk size QueueChunks counts in (the default chunk
	// size and the workers' default batch).
	QueueUnit     = 256
	DefaultTick   = 20 * time.Millisecond
	saveEvery     = 500 * time.Millisecond
	snapshotEvery = time.Second
	// opTimeout bounds one NATS operation of the scheduler. Every one is
	// asked again on the next tick (a ticket's message id makes a repeat
	// harmless), so it is short: a request sent to a stream or consumer
	// leader that was restarting is never answered, and the whole dispatch
	// waited for it (10 s before: the HA test's stalls after restarting the
	// INFER leader, the workers idle behind an empty queue).
	opTimeout = 2 * time.Second
)

// Scheduler sends batch chunks fairly; New, Start, Stop.
type Scheduler struct {
	cfg     Config
	log     zerolog.Logger
	in      *natsx.Infra
	jobs    *store.Jobs
	id      string
	metrics *metrics

	mu     sync.Mutex
	queues map[string]*modelQueue // by model id
	byID   map[string]*job
	dirty  map[string]bool // cursors to save
	// loading are the jobs whose record is being read to enter them; true
	// once a write of the record went by meanwhile (read it again).
	loading map[string]bool
	// checking are the jobs whose committed record is being read (check);
	// true once another check was asked meanwhile.
	checking map[string]bool
	closed   bool // Stop began: no check starts
	leading  bool
	wake     chan struct{}

	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	stopFeed func() // stops the job records' writes (follow)

	// Feed, when set (before Start), gives the scheduler the job records'
	// writes ($KV.jobs.*, as a core subscriber sees them) from a
	// subscription it shares, until the returned func is called; unset, it
	// subscribes itself.
	Feed func(nats.MsgHandler) (stop func(), err error)

	// Tracer, when set (before Start), makes a span per ticket sent: its
	// chunk's wait for the scheduler, in its job's trace (nil: tracing
	// off; a job's trace context is still carried).
	Tracer *tracing.Tracer
}

// modelQueue is one model version's fair queue and work queue.
type modelQueue struct {
	name, version string
	fq            order   // fair share or FIFO (Config.Policy)
	rate          float64 // items sent per second (moving average)
	sent          int     // items sent since the last rate update
	lastRate      time.Time
	// batch is the queue of tickets; first that of newcomers' first chunks,
	// which workers take beside the batch queue's.
	batch, first workQueue
}

// New returns a scheduler over in; Start it.
func New(cfg Config, in *natsx.Infra, reg prometheus.Registerer, log zerolog.Logger) *Scheduler {
	if cfg.QueueChunks <= 0 {
		cfg.QueueChunks = DefaultQueueChunks
	}
	if cfg.Tick <= 0 {
		cfg.Tick = DefaultTick
	}
	if cfg.Policy == "" {
		cfg.Policy = PolicyFair
	}
	s := &Scheduler{
		cfg: cfg, in: in, jobs: store.NewJobs(in), id: nuid.Next(),
		log:    log.With().Str("component", "scheduler").Logger(),
		queues: map[string]*modelQueue{}, byID: map[string]*job{}, dirty: map[string]bool{}, loading: map[string]bool{},
		checking: map[string]bool{},
		wake:     make(chan struct{}, 1),
	}
	s.metrics = newMetrics(reg, s.backlog)
	return s
}

// Start follows the unfinished jobs and competes for the lead; on error
// nothing is left running.
func (s *Scheduler) Start(ctx context.Context) (err error) {
	s.ctx, s.cancel = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	if err := s.follow(); err != nil {
		return err
	}
	if err := s.watchActive(ctx); err != nil {
		return err
	}
	s.run(s.lead)
	s.run(s.dispatchLoop)
	s.run(s.saveLoop)
	s.run(s.snapshotLoop)
	return nil
}

// follow starts taking the job records' writes: from Feed when set, else
// from a subscription of its own.
func (s *Scheduler) follow() error {
	if s.Feed != nil {
		stop, err := s.Feed(s.onRecord)
		if err != nil {
			return fmt.Errorf("scheduler: job records: %w", err)
		}
		s.stopFeed = stop
		return nil
	}
	sub, err := s.in.NC.Subscribe("$KV."+wire.BucketJobs+".*", s.onRecord)
	if err != nil {
		return fmt.Errorf("scheduler: subscribe job records: %w", err)
	}
	s.stopFeed = func() { _ = sub.Unsubscribe() }
	if err := sub.SetPendingLimits(-1, 64<<20); err != nil {
		return fmt.Errorf("scheduler: feed limits: %w", err)
	}
	return nil
}

func (s *Scheduler) run(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// Stop ends the scheduler (and its lead, which another gateway takes).
func (s *Scheduler) Stop() {
	if s.cancel != nil {
		s.cancel()
	}
	if s.stopFeed != nil {
		s.stopFeed()
	}
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.wg.Wait()
	s.mu.Lock()
	leading := s.leading
	s.leading = false
	s.mu.Unlock()
	if leading {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = s.in.Buckets.Leases.Delete(ctx, leaseKey)
		cancel()
	}
}

// Leading reports whether this scheduler sends (holds the lease).
func (s *Scheduler) Leading() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leading
}

// poke wakes the dispatch loop (a job changed, a chunk was counted).
func (s *Scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// op is the context of one NATS operation: it ends after opTimeout, or at
// a reconnect (its answer would never come: the next tick asks again).
func (s *Scheduler) op() (context.Context, context.CancelFunc) {
	ectx, cancel := s.in.Epoch.Context(s.ctx)
	tctx, stop := context.WithTimeout(ectx, opTimeout)
	return tctx, func() { stop(); cancel() }
}

// Pinned counts the unfinished jobs of model name:version this scheduler
// follows (every gateway's follows them all): the work a retired version
// must finish before it goes.
func (s *Scheduler) Pinned(name, version string) int {
	id := name + ":" + version
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, j := range s.byID {
		if j.model == id {
			n++
		}
	}
	return n
}
