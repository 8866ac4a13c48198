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
	// ResultTTL is how long a finished job's results are kept, from when it
	// finished (each job's record states it); then they expire.
	ResultTTL time.Duration
	// RecordTTL is how long a job's record (state expired) stays once its
	// results have expired.
	RecordTTL time.Duration
	// MaxAge is the backstop: anything older than this (a job still not
	// finished, a result whose expiry was lost) is dropped.
	MaxAge time.Duration
	// ResultMaxBytes bounds the results stream (0 = unlimited).
	ResultMaxBytes int64
	// QueueMaxBytes bounds the queued inputs (the input stream of batch
	// jobs, and the work queue of tickets and synchronous requests, each);
	// a body that cannot be queued within its wait gets 503, a dataset's
	// reading waits for room (0 = unlimited).
	QueueMaxBytes int64
	// UploadTTL is how long an unfinished upload is kept after its
	// creation; UploadRetention how long a finished one is kept after its
	// last byte (both 24 h for 0).
	UploadTTL, UploadRetention time.Duration
	// UploadMaxBytes bounds the uploads stream: the bytes of every stored
	// upload together (0 = unlimited).
	UploadMaxBytes int64
	// DeadLetterMaxBytes bounds the dead-letter stream (letters with their
	// payloads, webhook events given up): when full, a new letter is
	// refused (its items still fail, with the reason), nothing kept is
	// dropped (0: DefaultDeadLetterMaxBytes, -1: unlimited).
	DeadLetterMaxBytes int64
	// RegistryMaxBytes bounds the model registry (the Object Store of
	// pushed versions, every version together; 0 = unlimited).
	RegistryMaxBytes int64
	// Replicas for clustered JetStream: 1 (the default, also for 0) to
	// MaxReplicas, and no more than the cluster has servers. Setup moves
	// streams and buckets declared with another count to this one.
	Replicas int
}

// MaxReplicas is the most copies JetStream keeps of a stream.
const MaxReplicas = 5

// LeaseTTL is how long a leader's lease lasts unless renewed: how long a
// role (the scheduler) may have no leader after its leader dies.
const LeaseTTL = 3 * time.Second

// Retention defaults.
const (
	DefaultResultTTL = 24 * time.Hour
	DefaultRecordTTL = 7 * 24 * time.Hour
	DefaultMaxAge    = 30 * 24 * time.Hour
	// DefaultDeadLetterMaxBytes bounds the dead-letter stream.
	DefaultDeadLetterMaxBytes = 256 << 20
)

// Validate checks the settings as given (STREAM_REPLICAS must be 1..5).
func (c StreamConfig) Validate() error {
	if c.Replicas < 1 || c.Replicas > MaxReplicas {
		return fmt.Errorf("stream replicas %d: want 1 to %d", c.Replicas, MaxReplicas)
	}
	if c.DeadLetterMaxBytes < -1 {
		return fmt.Errorf("dead-letter max bytes %d: want -1 (unlimited), 0 (the default) or more", c.DeadLetterMaxBytes)
	}
	if c.MaxAge > 0 && c.MaxAge < c.ResultTTL {
		return fmt.Errorf("stream max age %s is shorter than the result TTL %s", c.MaxAge, c.ResultTTL)
	}
	return nil
}

// WithDefaults returns c with every zero setting at its default.
func (c StreamConfig) WithDefaults() StreamConfig { return c.withDefaults() }

func (c StreamConfig) withDefaults() StreamConfig {
	if c.ResultTTL <= 0 {
		c.ResultTTL = DefaultResultTTL
	}
	if c.RecordTTL <= 0 {
		c.RecordTTL = DefaultRecordTTL
	}
	if c.MaxAge <= 0 {
		c.MaxAge = DefaultMaxAge
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.UploadTTL <= 0 {
		c.UploadTTL = 24 * time.Hour
	}
	if c.UploadRetention <= 0 {
		c.UploadRetention = 24 * time.Hour
	}
	if c.UploadMaxBytes == 0 {
		c.UploadMaxBytes = -1
	}
	if c.ResultMaxBytes == 0 {
		c.ResultMaxBytes = -1
	}
	if c.RegistryMaxBytes == 0 {
		c.RegistryMaxBytes = -1
	}
	if c.QueueMaxBytes == 0 {
		c.QueueMaxBytes = -1
	}
	if c.DeadLetterMaxBytes == 0 {
		c.DeadLetterMaxBytes = DefaultDeadLetterMaxBytes
	}
	return c
}

// Buckets are the key-value buckets both services use, and the model
// registry's Object Store.
type Buckets struct {
	Jobs, Cancel, Idempotency, Workers, Models, JobIndex, Active, Uploads jetstream.KeyValue
	Sched, Leases, Quotas, Outputs, Aliases, Pushes                       jetstream.KeyValue
	// Webhooks holds each job's webhook delivery log.
	Webhooks jetstream.KeyValue
	// Registry holds pushed model versions.
	Registry jetstream.ObjectStore
}

// uploadSlack is added to the longest life of an upload for the backstop
// retention of its parts and record.
const uploadSlack = time.Hour

// UploadMaxAge is the backstop retention of upload parts and records: the
// longest an upload lives (UploadTTL unfinished, then UploadRetention
// finished) and an hour. Uploads are deleted at their own expiry; this
// bounds what a missed deletion (every gateway down) can leave behind.
func (c StreamConfig) UploadMaxAge() time.Duration {
	c = c.withDefaults()
	return c.UploadTTL + c.UploadRetention + uploadSlack
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
	run := func(f func(ctx context.Context) error) {
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
		run(func(ctx context.Context) error {
			if _, err := js.CreateOrUpdateStream(ctx, sc); err != nil {
				return fmt.Errorf("declare stream %s: %w", sc.Name, err)
			}
			return nil
		})
	}
	for _, k := range buckets(&b, cfg) {
		run(func(ctx context.Context) error {
			kv, err := js.CreateOrUpdateKeyValue(ctx, k.cfg)
			if err != nil {
				return fmt.Errorf("declare bucket %s: %w", k.cfg.Bucket, err)
			}
			*k.p = kv
			return nil
		})
	}
	run(func(ctx context.Context) error {
		obs, err := js.CreateOrUpdateObjectStore(ctx, registryConfig(cfg))
		if err != nil {
			return fmt.Errorf("declare object store %s: %w", wire.BucketRegistry, err)
		}
		b.Registry = obs
		return nil
	})
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
		{&b.Jobs, wire.BucketJobs, "job records (deleted when they expire; MaxAge is a backstop)", cfg.MaxAge},
		{&b.Cancel, wire.BucketCancel, "cancelled jobs", cfg.MaxAge},
		{&b.Idempotency, wire.BucketIdempotency, "Idempotency-Key to job", cfg.ResultTTL},
		{&b.Workers, wire.BucketWorkers, "live workers", wire.DefaultWorkerTTL},
		{&b.Models, wire.BucketModels, "model metadata announced by workers", 0},
		{&b.JobIndex, wire.BucketJobIndex, "jobs of each tenant", cfg.MaxAge},
		{&b.Active, wire.BucketActive, "unfinished jobs of each tenant", cfg.MaxAge},
		{&b.Sched, wire.BucketSched, "the scheduler's next chunk of each unfinished job", cfg.MaxAge},
		{&b.Leases, wire.BucketLeases, "leases of single-leader roles (expire unless renewed)", LeaseTTL},
		{&b.Uploads, wire.BucketUploads, "resumable uploads of each tenant", cfg.UploadMaxAge()},
		{&b.Quotas, wire.BucketQuotas, "each tenant's reservations against its job quotas", cfg.MaxAge},
		{&b.Webhooks, wire.BucketWebhooks, "webhook delivery log of each job (deleted with the job; MaxAge is a backstop)", cfg.MaxAge},
		{&b.Outputs, wire.BucketOutputs, "byte layout of finished jobs' download files (deleted with their results)", cfg.MaxAge},
		{&b.Aliases, wire.BucketAliases, "model aliases: weighted routes to model versions", 0},
		{&b.Pushes, wire.BucketPushes, "model versions being pushed to the registry (claims until a deadline)", 0},
	} {
		out = append(out, bucket{p: k.p, cfg: jetstream.KeyValueConfig{
			Bucket: k.name, Description: k.desc, TTL: k.ttl, History: 1,
			Storage: jetstream.FileStorage, Replicas: cfg.Replicas,
		}})
	}
	return out
}

// registryConfig is the model registry's Object Store: the pushed versions.
func registryConfig(cfg StreamConfig) jetstream.ObjectStoreConfig {
	return jetstream.ObjectStoreConfig{
		Bucket:      wire.BucketRegistry,
		Description: "model registry: one object per pushed model version (its upload as pushed; state in its metadata)",
		Storage:     jetstream.FileStorage,
		MaxBytes:    cfg.RegistryMaxBytes,
		Replicas:    cfg.Replicas,
	}
}

// streams are the stream definitions.
// duplicates is the streams' message-id window: JetStream refuses one
// longer than the streams' MaxAge, so a short RESULT_TTL shortens it.
func (c StreamConfig) duplicates() time.Duration {
	return min(wire.DefaultDuplicateWindow, c.MaxAge)
}

func streams(cfg StreamConfig) []jetstream.StreamConfig {
	return []jetstream.StreamConfig{streamInfer(cfg), streamInput(cfg), streamResults(cfg), streamDeadLetter(cfg), streamTimers(cfg), streamUploads(cfg), streamIngest(cfg), streamWebhooks(cfg)}
}

func streamInfer(cfg StreamConfig) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        wire.StreamInfer,
		Description: "input chunks: a work queue shared by all workers",
		Subjects:    []string{"infer.>"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Discard:     jetstream.DiscardNew,
		MaxBytes:    cfg.QueueMaxBytes,
		MaxAge:      cfg.MaxAge,
		Duplicates:  cfg.duplicates(),
		Replicas:    cfg.Replicas,
		AllowMsgTTL: true,
	}
}

func streamInput(cfg StreamConfig) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        wire.StreamInput,
		Description: "input chunks of batch jobs, one message per chunk part (a second is refused); deleted once the chunk's result is stored",
		Subjects:    []string{"in.>"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		// One message per part subject, and DiscardNewPerSubject refuses a
		// second: reading a job's items again (a retried submission, a
		// resumed dataset) cannot store a part twice.
		MaxMsgsPerSubject:    1,
		Discard:              jetstream.DiscardNew,
		DiscardNewPerSubject: true,
		MaxBytes:             cfg.QueueMaxBytes,
		MaxAge:               cfg.MaxAge,
		AllowDirect:          true,
		Replicas:             cfg.Replicas,
	}
}

func streamResults(cfg StreamConfig) jetstream.StreamConfig {
	return jetstream.StreamConfig{
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
		// Results expire per job (a timer at its ExpiresAt purges them);
		// MaxAge is the backstop.
		MaxAge:      cfg.MaxAge,
		MaxBytes:    cfg.ResultMaxBytes,
		Duplicates:  cfg.duplicates(),
		AllowDirect: true,
		Replicas:    cfg.Replicas,
	}
}

func streamDeadLetter(cfg StreamConfig) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        wire.StreamDeadLetter,
		Description: "chunks that exhausted their deliveries, with their payloads, to read, redrive or purge; webhook events given up",
		Subjects:    []string{"dlq.>"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		// A job's letters go with its record; MaxAge is the backstop. Full: a
		// new letter is refused (its chunk's items fail all the same), no
		// letter kept is dropped for it.
		MaxAge:   cfg.MaxAge,
		MaxBytes: cfg.DeadLetterMaxBytes,
		Discard:  jetstream.DiscardNew,
		Replicas: cfg.Replicas,
		// Letters of synchronous requests expire with RESULT_TTL (Nats-TTL).
		AllowMsgTTL: true,
	}
}

func streamTimers(cfg StreamConfig) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        wire.StreamTimers,
		Description: "durable timers: a schedule per job and kind fires a message the gateways act on (results expiry, record deletion)",
		Subjects:    []string{wire.TimerSubjects},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		MaxAge:      cfg.MaxAge,
		Replicas:    cfg.Replicas,
		// AllowMsgSchedules: the server publishes each schedule's message at
		// its time, so no process has to be alive then.
		AllowMsgSchedules: true,
	}
}

func streamIngest(cfg StreamConfig) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        wire.StreamIngest,
		Description: "datasets to read into jobs: one message per job, held by the gateway reading it (a lease)",
		Subjects:    []string{"ingest.>"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		MaxAge:      cfg.MaxAge,
		Duplicates:  cfg.duplicates(),
		Replicas:    cfg.Replicas,
	}
}

func streamUploads(cfg StreamConfig) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        wire.StreamUploads,
		Description: "bytes of resumable uploads: parts in order, one subject per upload",
		Subjects:    []string{wire.UploadsFilter},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		// Full: a new part is refused (the client is told), nothing stored is
		// dropped. Uploads are deleted at their expiry; MaxAge is a backstop.
		Discard:    jetstream.DiscardNew,
		MaxBytes:   cfg.UploadMaxBytes,
		MaxAge:     cfg.UploadMaxAge(),
		MaxMsgSize: MaxUploadPart + 4096,
		Duplicates: wire.DefaultDuplicateWindow,
		Replicas:   cfg.Replicas,
	}
}

func streamWebhooks(cfg StreamConfig) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        wire.StreamWebhooks,
		Description: "webhook events of finished jobs, one per job and event (message id), until delivered or dead-lettered",
		Subjects:    []string{wire.WebhookSubjects},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		// Events are small and leave once delivered or given up (a retry
		// window ends each); MaxAge is the backstop. No byte bound: a job's
		// end is never refused because endpoints are down.
		MaxAge:     cfg.MaxAge,
		Duplicates: cfg.duplicates(),
		Replicas:   cfg.Replicas,
	}
}

// MaxUploadPart is the largest part of an upload the stream takes.
const MaxUploadPart = 1 << 20

// Reserved is what the streams' bounds reserve in a server's JetStream
// file store (max_file_store): both queue streams, the results, uploads,
// dead letters and the registry (an unlimited stream reserves nothing).
func (c StreamConfig) Reserved() int64 {
	dl := c.DeadLetterMaxBytes
	if dl == 0 {
		dl = DefaultDeadLetterMaxBytes
	}
	var sum int64
	for _, b := range []int64{c.QueueMaxBytes, c.QueueMaxBytes, c.ResultMaxBytes, c.UploadMaxBytes, dl, c.RegistryMaxBytes} {
		sum += max(b, 0)
	}
	return sum
}
