package natsx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	// Replicas for clustered JetStream (default 1).
	Replicas int
}

func (c StreamConfig) withDefaults() StreamConfig {
	if c.ResultTTL <= 0 {
		c.ResultTTL = 24 * time.Hour
	}
	if c.Replicas <= 0 {
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
	Jobs, Cancel, Idempotency, Workers, Models jetstream.KeyValue
}

// Setup declares (or updates) the streams and buckets. It is idempotent and
// safe to run concurrently from every gateway and worker.
func Setup(ctx context.Context, js jetstream.JetStream, cfg StreamConfig) (*Buckets, error) {
	cfg = cfg.withDefaults()
	streams := []jetstream.StreamConfig{{
		Name:        wire.StreamInfer,
		Description: "input chunks: a work queue shared by all workers",
		Subjects:    []string{"infer.>"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Discard:     jetstream.DiscardNew,
		MaxBytes:    cfg.QueueMaxBytes,
		MaxAge:      cfg.ResultTTL,
		Duplicates:  wire.DefaultDuplicateWindow,
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
		Duplicates:           wire.DefaultDuplicateWindow,
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
	for _, sc := range streams {
		if _, err := js.CreateOrUpdateStream(ctx, sc); err != nil {
			return nil, fmt.Errorf("declare stream %s: %w", sc.Name, err)
		}
	}
	kv := func(name, desc string, ttl time.Duration) (jetstream.KeyValue, error) {
		b, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: name, Description: desc, TTL: ttl, History: 1,
			Storage: jetstream.FileStorage, Replicas: cfg.Replicas,
		})
		if err != nil {
			return nil, fmt.Errorf("declare bucket %s: %w", name, err)
		}
		return b, nil
	}
	var b Buckets
	var errs []error
	var err error
	b.Jobs, err = kv(wire.BucketJobs, "job records", cfg.ResultTTL)
	errs = append(errs, err)
	b.Cancel, err = kv(wire.BucketCancel, "cancelled jobs", cfg.ResultTTL)
	errs = append(errs, err)
	b.Idempotency, err = kv(wire.BucketIdempotency, "Idempotency-Key to job", cfg.ResultTTL)
	errs = append(errs, err)
	b.Workers, err = kv(wire.BucketWorkers, "live workers", wire.DefaultWorkerTTL)
	errs = append(errs, err)
	b.Models, err = kv(wire.BucketModels, "model metadata announced by workers", 0)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &b, nil
}

// UpdateJob applies fn to the job record with compare-and-set, retrying on
// conflicts. fn returns false to leave the record unchanged.
func UpdateJob(ctx context.Context, kv jetstream.KeyValue, id string, fn func(*wire.JobRecord) bool) (*wire.JobRecord, error) {
	for attempt := 0; ; attempt++ {
		r, rev, err := getJob(ctx, kv, id)
		if err != nil {
			return nil, err
		}
		if !fn(r) {
			return r, nil
		}
		_, err = kv.Update(ctx, id, wire.Marshal(r), rev)
		if err == nil {
			return r, nil
		}
		if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) || attempt > 100 {
			return nil, fmt.Errorf("update job %s: %w", id, err)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

// GetJob reads a job record; the error wraps jetstream.ErrKeyNotFound for an
// unknown job.
func GetJob(ctx context.Context, kv jetstream.KeyValue, id string) (*wire.JobRecord, error) {
	r, _, err := getJob(ctx, kv, id)
	return r, err
}

func getJob(ctx context.Context, kv jetstream.KeyValue, id string) (*wire.JobRecord, uint64, error) {
	e, err := kv.Get(ctx, id)
	if err != nil {
		return nil, 0, fmt.Errorf("get job %s: %w", id, err)
	}
	var r wire.JobRecord
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		return nil, 0, fmt.Errorf("decode job %s: %w", id, err)
	}
	return &r, e.Revision(), nil
}

// GetChunkResult reads the stored result of one chunk of a job from the
// results stream; nil (and no error) when it is not stored yet.
func GetChunkResult(ctx context.Context, results jetstream.Stream, job string, chunk int) (*wire.ChunkResult, error) {
	m, err := results.GetLastMsgForSubject(ctx, wire.ResultSubject(job, chunk))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read result %s/%d: %w", job, chunk, err)
	}
	var cr wire.ChunkResult
	if err := json.Unmarshal(m.Data, &cr); err != nil {
		return nil, fmt.Errorf("decode result %s/%d: %w", job, chunk, err)
	}
	return &cr, nil
}
