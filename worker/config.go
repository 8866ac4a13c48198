package worker

import (
	"fmt"
	"time"

	"batchinfer/internal/config"

	"batchinfer/internal/natsx"
	"batchinfer/internal/tracing"
	"batchinfer/internal/wire"
	"batchinfer/model"
)

// Predictor is one loaded model version. *tfmodel.Model (TensorFlow) and
// *litert.Model (LiteRT) implement it; the worker takes them as they come
// and runs one batch at a time per model version.
type Predictor interface {
	Meta() *model.Metadata
	// Predict runs n items (n*ItemSize values) and returns n*OutputSize values.
	Predict(inputs []float32, n int) ([]float32, error)
}

// Config configures a Worker. Zero values take the defaults below.
type Config struct {
	NATS    natsx.ConnConfig
	Streams natsx.StreamConfig
	// ID names the worker in the catalogue; default host-<random>.
	ID string
	// Version is reported in the worker's announcement.
	Version string
	// HealthAddr serves /health, /ready and /metrics; empty disables it.
	HealthAddr string
	// MaxBatch is the largest batch of batch-job items sent to TensorFlow,
	// and MaxSyncBatch the largest of synchronous items (which run in
	// batches of their own, before batch work); a model's metadata may
	// lower both (max_batch).
	MaxBatch     int
	MaxSyncBatch int
	// SyncQueue bounds the synchronous requests over core NATS a worker
	// has taken per model and not answered; past it, it answers busy and
	// the gateway queues the request durably for any worker.
	SyncQueue int
	// MaxWait is how long a partial batch waits for more items. 0 (the
	// default) is greedy: a batch takes every item ready now, and items
	// arriving while it runs form the next one, so batches grow with load
	// and a lone request never waits.
	MaxWait time.Duration
	// AckWait is the lease of a chunk: the worker renews it four times per
	// AckWait while it holds the chunk (waiting or running, for as long as
	// that takes), so only the chunks of a dead worker, or lost in flight
	// when NATS restarts, wait for it before they are redelivered.
	AckWait time.Duration
	// MaxDeliver is how often a chunk is tried before its items are failed.
	MaxDeliver int
	// Prefetch is how many batch chunks a worker holds per model: pulled
	// ahead, running and being stored.
	Prefetch int
	// PrefetchMax is the most batch chunks a worker holds per model when
	// they are small: it holds two batches' worth of items, at least
	// Prefetch chunks and at most PrefetchMax (at least Prefetch), so that
	// a model whose chunks hold fewer items than a batch (images: a chunk
	// each) runs full batches.
	PrefetchMax int
	// NewcomerSlots is how many chunks a worker takes per model from the
	// newcomers' queue (wire.PriorityFirst) beside its Prefetch ones: a
	// pull stays open there, and the chunk it brings goes into the next
	// batch, ahead of the other jobs' chunks held (it does not wait for the
	// chunk running to finish). Negative: none (the worker does not pull
	// that queue; the scheduler sends a newcomer's chunk to the batch queue).
	NewcomerSlots int
	// HeartbeatInterval is how often an idle worker announces itself.
	HeartbeatInterval time.Duration
	// RateInterval is the window of the announced items/s: while the
	// worker runs items it announces at this period, so the rates follow
	// the work within about one interval.
	RateInterval time.Duration
	// Finalizers is the number of goroutines storing results and acking.
	Finalizers int
	// CountLinger is how long a stored chunk waits to be counted into its
	// job's record with the job's next chunks, while this worker holds
	// another of them: one record write (and one wake-up of the scheduler
	// and of each follower) per few chunks. A chunk with no other of its
	// job held is counted at once. Negative: every chunk is counted on its
	// own; at most a second (a chunk's lease is renewed while it waits).
	CountLinger time.Duration
	// CountBatch is the most chunks of a job one record write counts: a
	// write wakes the scheduler, which refills the model's queue, so a
	// worker that counts many at once takes more tickets than the queue
	// holds before it is refilled.
	CountBatch int
	// StoreRetry is how long a chunk whose result the results store refuses
	// (full) is retried, holding its lease, before its items fail with the
	// reason recorded in the job.
	StoreRetry time.Duration
	// ExecTimeout bounds one TensorFlow call; past it the batch's items
	// fail with the reason and the worker goes on (negative: no bound; zero
	// takes the default, like every setting).
	ExecTimeout time.Duration
	// ResultFormat is how results are stored: ResultFormatCompact (the
	// default), or ResultFormatJSON, which gateways of versions before the
	// compact form read too (set it while those still run; every gateway
	// reads both).
	ResultFormat string
	// Tracing says whether and where spans go (the OTEL_* settings,
	// registered by the command: tracing.Config.Flags).
	Tracing tracing.Config
}

// Defaults are every setting's default, written once: the flags and
// in-process users (tests) both take them from here.
func Defaults() Config {
	return Config{
		Version: "dev", HealthAddr: "", MaxBatch: 256, MaxSyncBatch: 64, SyncQueue: 512, AckWait: 2 * time.Second, MaxDeliver: 5, Prefetch: 3, PrefetchMax: 64, NewcomerSlots: 2,
		HeartbeatInterval: 5 * time.Second, RateInterval: time.Second, Finalizers: 8, StoreRetry: 30 * time.Second, CountLinger: 10 * time.Millisecond, CountBatch: 2, ExecTimeout: 60 * time.Second,
		ResultFormat: ResultFormatCompact, Tracing: tracing.Defaults(),
	}
}

func (c Config) validate() error {
	switch {
	case c.NATS.URL == "":
		return fmt.Errorf("%w: worker: NATS URL is required", config.ErrInvalid)
	case c.MaxBatch <= 0 || c.MaxSyncBatch <= 0 || c.SyncQueue <= 0 || c.Prefetch <= 0 || c.MaxDeliver <= 0 || c.Finalizers <= 0:
		return fmt.Errorf("%w: worker: MaxBatch, MaxSyncBatch, SyncQueue, Prefetch, MaxDeliver and Finalizers must be positive", config.ErrInvalid)
	case c.PrefetchMax < 0:
		return fmt.Errorf("%w: worker: PrefetchMax must not be negative", config.ErrInvalid)
	case c.AckWait < 100*time.Millisecond || c.HeartbeatInterval <= 0 || c.RateInterval < 100*time.Millisecond || c.MaxWait < 0 || c.StoreRetry <= 0:
		return fmt.Errorf("%w: worker: AckWait and RateInterval must be at least 100ms, HeartbeatInterval and StoreRetry positive, MaxWait not negative", config.ErrInvalid)
	}
	if err := c.validResults(); err != nil {
		return err
	}
	return c.Tracing.Validate()
}

// validResults checks how results are stored and counted, and the
// newcomer slots.
func (c Config) validResults() error {
	switch {
	case c.CountBatch < 0:
		return fmt.Errorf("%w: worker: CountBatch must not be negative", config.ErrInvalid)
	case c.NewcomerSlots > maxNewcomerSlots:
		return fmt.Errorf("%w: worker: NewcomerSlots %d: at most %d", config.ErrInvalid, c.NewcomerSlots, maxNewcomerSlots)
	case c.CountLinger > time.Second:
		return fmt.Errorf("%w: worker: CountLinger %s: at most 1s", config.ErrInvalid, c.CountLinger)
	}
	return c.validFormat()
}

func (c Config) validFormat() error {
	switch c.ResultFormat {
	case ResultFormatCompact, ResultFormatJSON:
		return nil
	}
	return fmt.Errorf("%w: worker: ResultFormat %q: want %q or %q", config.ErrInvalid, c.ResultFormat, ResultFormatCompact, ResultFormatJSON)
}

// The forms a worker stores results in (Config.ResultFormat).
const (
	ResultFormatCompact = wire.ResultFormatCompact
	ResultFormatJSON    = "json"
)

// maxNewcomerSlots bounds NewcomerSlots: each slot's chunk passes the held
// ones, so many would undo the batch queue's order.
const maxNewcomerSlots = 8

// newcomerSlots is NewcomerSlots, 0 when negative (none).
func (c Config) newcomerSlots() int { return max(c.NewcomerSlots, 0) }

// prefetchMax is PrefetchMax, never below Prefetch.
func (c Config) prefetchMax() int { return max(c.PrefetchMax, c.Prefetch) }

// batchLimits are the largest batches of a model: batch work, sync work.
func (c Config) batchLimits(meta *model.Metadata) (batch, sync int) {
	batch, sync = c.MaxBatch, c.MaxSyncBatch
	if meta.MaxBatch > 0 {
		batch, sync = min(batch, meta.MaxBatch), min(sync, meta.MaxBatch)
	}
	return batch, sync
}

// DefaultHealthAddr is where the command serves /health, /ready and
// /metrics unless told otherwise (in-process workers serve none).
const DefaultHealthAddr = ":8001"

// GoProcs is how many of the n processors Go would use the worker command
// gives Go code when the environment sets no GOMAXPROCS
// (runx.DefaultGOMAXPROCS): half, at least one. TensorFlow's calls run on
// threads that hold no Go processor while they compute, so every
// processor Go holds beside them only adds threads that spin, hand off and
// wake around those calls: on 2 cores, one gave ~6 % more items/s and
// ~1.3 µs less CPU per digits item, and more synchronous predictions per
// second (docs/benchmarks.md, issue 23 round 8).
func GoProcs(n int) int { return n / 2 }

// GOGC is the garbage collector's target the worker commands set when the
// environment sets none (runx.DefaultGOGC): 4 × the live heap.
const GOGC = 400
