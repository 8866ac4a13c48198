package worker

import (
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/model"
)

// Predictor is one loaded model version. *tfmodel.Model implements it.
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
	// MaxBatch is the largest batch sent to TensorFlow.
	MaxBatch int
	// MaxWait is how long a partial batch waits for more items. 0 (the
	// default) is greedy: a batch takes every item ready now, and items
	// arriving while it runs form the next one, so batches grow with load
	// and a lone request never waits.
	MaxWait time.Duration
	// AckWait is the consumers' ack deadline; in-progress acks extend it
	// while a chunk waits or runs.
	AckWait time.Duration
	// MaxDeliver is how often a chunk is tried before its items are failed.
	MaxDeliver int
	// Prefetch is how many batch chunks a worker holds per model beyond the
	// one it works on.
	Prefetch int
	// HeartbeatInterval is how often the worker announces itself.
	HeartbeatInterval time.Duration
	// Finalizers is the number of goroutines storing results and acking.
	Finalizers int
}

func (c Config) withDefaults() Config {
	set(&c.MaxBatch, 64)
	set(&c.AckWait, 30*time.Second)
	set(&c.MaxDeliver, 5)
	set(&c.Prefetch, 4)
	set(&c.HeartbeatInterval, 5*time.Second)
	set(&c.Finalizers, 8)
	set(&c.Version, "dev")
	return c
}

func set[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}
