package natsx

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go/jetstream"
)

// StreamConfig sets the retention limits of the streams and buckets.
type StreamConfig struct {
	// ResultTTL bounds how long job records and results are kept.
	ResultTTL time.Duration
	// ResultMaxBytes bounds the results stream (0 = unlimited).
	ResultMaxBytes int64
	// QueueMaxBytes bounds the work queue; publishes beyond it are refused,
	// which the gateway turns into 503 (0 = unlimited).
	QueueMaxBytes int64
	// Replicas for clustered JetStream: 1 (the default, also for 0) to
	// MaxReplicas, and no more than the cluster has servers. Setup moves
	// streams and buckets declared with another count to this one.
	Replicas int
}

// MaxReplicas is the most copies JetStream keeps of a stream.
const MaxReplicas = 5

// Validate checks the settings as given (STREAM_REPLICAS must be 1..5).
func (c StreamConfig) Validate() error {
	if c.Replicas < 1 || c.Replicas > MaxReplicas {
		return fmt.Errorf("stream replicas %d: want 1 to %d", c.Replicas, MaxReplicas)
	}
	return nil
}

func (c StreamConfig) withDefaults() StreamConfig {
	if c.ResultTTL <= 0 {
		c.ResultTTL = 24 * time.Hour
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.ResultMaxBytes == 0 {
		c.ResultMaxBytes = -1
	}
	if c.QueueMaxBytes == 0 {
		c.QueueMaxBytes = -1
	}
	return c
}

// Buckets are the key-value buckets both services use.
type Buckets struct {
	Jobs, Cancel, Idempotency, Workers, Models, JobIndex, Quotas jetstream.KeyValue
}

// Setup declares (or updates) the streams and buckets, all at once (a
// cluster creating ten R3 groups one after the other can outlast a start-up
// deadline). It is idempotent and safe to run concurrently from every
// gateway and worker. In a cluster an update also changes their replicas
// (R1 streams of an older deployment become R3 with Replicas 3); a single
// server refuses Replicas above 1.
func Setup(ctx context.Context, js jetstream.JetStream, cfg StreamConfig) (*Buckets, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var (
		b    Buckets
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	run := func(f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := Retry(ctx, f); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	for _, sc := range streams(cfg) {
		run(func() error {
			if _, err := js.CreateOrUpdateStream(ctx, sc); err != nil {
				return fmt.Errorf("declare stream %s: %w", sc.Name, err)
			}
			return nil
		})
	}
	for _, k := range buckets(&b, cfg) {
		run(func() error {
			kv, err := js.CreateOrUpdateKeyValue(ctx, k.cfg)
			if err != nil {
				return fmt.Errorf("declare bucket %s: %w", k.cfg.Bucket, err)
			}
			*k.p = kv
			return nil
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &b, nil
}

// bucket is a bucket's definition and where Setup puts it.
type bucket struct {
	p   *jetstream.KeyValue
	cfg jetstream.KeyValueConfig
}

// buckets are the bucket definitions, each bound to its field of b.
func buckets(b *Buckets, cfg StreamConfig) []bucket {
	var out []bucket
	for _, k := range []struct {
		p          *jetstream.KeyValue
		name, desc string
		ttl        time.Duration
	}{
		{&b.Jobs, wire.BucketJobs, "job records", cfg.ResultTTL},
		{&b.Cancel, wire.BucketCancel, "cancelled jobs", cfg.ResultTTL},
		{&b.Idempotency, wire.BucketIdempotency, "Idempotency-Key to job", cfg.ResultTTL},
		{&b.Workers, wire.BucketWorkers, "live workers", wire.DefaultWorkerTTL},
		{&b.Models, wire.BucketModels, "model metadata announced by workers", 0},
		{&b.JobIndex, wire.BucketJobIndex, "jobs of each tenant", cfg.ResultTTL},
		{&b.Quotas, wire.BucketQuotas, "each tenant's reservations against its job quotas", cfg.ResultTTL},
	} {
		out = append(out, bucket{p: k.p, cfg: jetstream.KeyValueConfig{
			Bucket: k.name, Description: k.desc, TTL: k.ttl, History: 1,
			Storage: jetstream.FileStorage, Replicas: cfg.Replicas,
		}})
	}
	return out
}

// streams are the stream definitions.
// duplicates is the streams' message-id window: JetStream refuses one
// longer than the streams' MaxAge, so a short RESULT_TTL shortens it.
func (c StreamConfig) duplicates() time.Duration {
	return min(wire.DefaultDuplicateWindow, c.ResultTTL)
}

func streams(cfg StreamConfig) []jetstream.StreamConfig {
	return []jetstream.StreamConfig{{
		Name:        wire.StreamInfer,
		Description: "input chunks: a work queue shared by all workers",
		Subjects:    []string{"infer.>"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Discard:     jetstream.DiscardNew,
		MaxBytes:    cfg.QueueMaxBytes,
		MaxAge:      cfg.ResultTTL,
		Duplicates:  cfg.duplicates(),
		Replicas:    cfg.Replicas,
		AllowMsgTTL: true,
	}, {
		Name:        wire.StreamResults,
		Description: "one result message per chunk; a second one for the same chunk is refused",
		Subjects:    []string{"res.>"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		// One message per chunk subject, and DiscardNewPerSubject refuses a
		// second: a redelivered chunk can never produce a duplicate result.
		MaxMsgsPerSubject:    1,
		Discard:              jetstream.DiscardNew,
		DiscardNewPerSubject: true,
		MaxAge:               cfg.ResultTTL,
		MaxBytes:             cfg.ResultMaxBytes,
		Duplicates:           cfg.duplicates(),
		AllowDirect:          true,
		Replicas:             cfg.Replicas,
	}, {
		Name:        wire.StreamDeadLetter,
		Description: "chunks that exhausted their deliveries, kept for inspection",
		Subjects:    []string{"dlq.>"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		MaxAge:      cfg.ResultTTL,
		MaxBytes:    256 << 20,
		Discard:     jetstream.DiscardOld,
		Replicas:    cfg.Replicas,
	}}
}
