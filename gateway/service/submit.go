package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"batchinfer/api"
	"batchinfer/gateway/auth"
	"batchinfer/gateway/input"
	"batchinfer/internal/natsx"
	"batchinfer/internal/store"
	"batchinfer/internal/wire"
	"batchinfer/model"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// maxIdempotencyKey bounds an Idempotency-Key.
const maxIdempotencyKey = 256

// Submission is a batch job to queue.
type Submission struct {
	Model, Version string
	Items          input.Source
	// IdempotencyKey, when set, makes a repeated submission (same key, same
	// body) return the first job instead of a new one.
	IdempotencyKey string
	// BodyHash, when set, is the request body's SHA-256 (hex); it is called
	// once the items are read, as a streamed body is hashed while decoded.
	BodyHash func() string
}

// Submit checks the items against the model and queues the job. It reports
// whether the job was an idempotent replay of an earlier submission.
func (s *Service) Submit(ctx context.Context, sub Submission) (wire.JobStatus, bool, error) {
	meta, err := s.Model(sub.Model, sub.Version)
	if err != nil {
		return wire.JobStatus{}, false, err
	}
	items, err := input.Decode(meta, s.limits(meta, s.cfg.MaxItems), sub.Items)
	if err != nil {
		return wire.JobStatus{}, false, err
	}
	sha := ""
	if sub.BodyHash != nil {
		sha = sub.BodyHash()
	}
	p := caller(ctx)
	id := newJobID()
	if sub.IdempotencyKey != "" {
		st, replayed, prev, err := s.replay(ctx, p, sub.IdempotencyKey, sha, meta, items, id)
		if err != nil || replayed {
			return st, replayed, err
		}
		id = prev
	}
	cost := input.Cost(meta, items)
	if err := s.reserve(ctx, p, id, cost); err != nil {
		return wire.JobStatus{}, false, err
	}
	rec := s.newRecord(id, meta, items, sha)
	rec.Tenant, rec.Cost = p.Tenant, cost
	if err := s.jobs.Create(ctx, rec); err != nil {
		s.unreserve(p, id)
		return wire.JobStatus{}, false, queueErr(err)
	}
	// Once the record exists the job is queued whole even if the client
	// goes away meanwhile: a half-queued job would never finish.
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*natsOpTimeout)
	defer cancel()
	r, err := s.queue(qctx, rec, meta, items)
	if err != nil {
		return wire.JobStatus{}, false, err
	}
	s.metrics.jobs.Inc()
	s.metrics.items.WithLabelValues("batch").Add(float64(len(items)))
	s.Audit.Job(ctx, "job_submitted", r.ID, func(e *zerolog.Event) {
		e.Str("model", meta.ID()).Int("items", r.Total).Int64("cost", cost)
	})
	return r.Status(time.Now()), false, nil
}

func (s *Service) limits(meta *model.Metadata, maxItems int) input.Limits {
	return input.Limits{MaxItems: maxItems, MaxImageBytes: s.cfg.MaxImageBytes, MaxLineBytes: s.cfg.MaxLineBytes,
		MaxImagePixels: input.MaxImagePixels(meta, s.cfg.MaxImagePixelsFactor)}
}

func (s *Service) newRecord(id string, meta *model.Metadata, items []wire.Item, bodySHA string) *wire.JobRecord {
	size := s.chunkSize(meta, items)
	return &wire.JobRecord{
		ID: id, Model: meta.Name, Version: meta.Version, Total: len(items),
		Chunks: (len(items) + size - 1) / size, ChunkSize: size,
		State: wire.StateAccepting, CreatedAt: time.Now().UTC(), BodySHA256: bodySHA,
	}
}

// replay claims the tenant's idempotency key for id, or finds the job an earlier submission with the key made:
// replayed, or the id to create the job under (that of a first attempt
// that died before writing it). Each tenant has its own key space.
func (s *Service) replay(ctx context.Context, p *auth.Principal, idemKey, sha string, meta *model.Metadata, items []wire.Item, id string) (wire.JobStatus, bool, string, error) {
	if len(idemKey) > maxIdempotencyKey {
		return wire.JobStatus{}, false, "", api.Errorf(api.CodeBadRequest, "Idempotency-Key longer than %d bytes", maxIdempotencyKey)
	}
	sum := sha256.Sum256([]byte(p.Tenant + "\x00" + idemKey))
	key := hex.EncodeToString(sum[:])
	kv := s.in.Buckets.Idempotency
	_, err := kv.Create(ctx, key, wire.Marshal(wire.IdempotencyRecord{Job: id, BodySHA256: sha}))
	if err == nil {
		return wire.JobStatus{}, false, id, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return wire.JobStatus{}, false, "", fmt.Errorf("store idempotency key: %w", err)
	}
	e, err := kv.Get(ctx, key)
	if err != nil {
		return wire.JobStatus{}, false, "", fmt.Errorf("read idempotency key: %w", err)
	}
	var prev wire.IdempotencyRecord
	if err := json.Unmarshal(e.Value(), &prev); err != nil {
		return wire.JobStatus{}, false, "", fmt.Errorf("decode idempotency key: %w", err)
	}
	if prev.BodySHA256 != sha {
		return wire.JobStatus{}, false, "", api.Errorf(api.CodeConflict, "Idempotency-Key already used for a different request body")
	}
	r, err := s.jobs.Get(ctx, prev.Job)
	switch {
	case err == nil && !owns(p, r):
		return wire.JobStatus{}, false, "", api.Errorf(api.CodeConflict, "Idempotency-Key already used")
	case errors.Is(err, store.ErrNotFound):
		return wire.JobStatus{}, false, prev.Job, nil
	case err != nil:
		return wire.JobStatus{}, false, "", err
	case r.State == wire.StateAccepting: // the first attempt was cut short
		if r, err = s.queue(ctx, r, meta, items); err != nil {
			return wire.JobStatus{}, false, "", err
		}
	}
	return r.Status(time.Now()), true, "", nil
}

// chunkSize is the model's chunk size, reduced so a chunk of the job's
// largest items fits in MaxChunkBytes.
func (s *Service) chunkSize(meta *model.Metadata, items []wire.Item) int {
	size := meta.ChunkSize
	if size <= 0 {
		size = s.cfg.DefaultChunkSize
	}
	biggest := 0
	for _, it := range items {
		biggest = max(biggest, len(it.Data)+16)
	}
	return max(1, min(size, s.cfg.MaxChunkBytes/max(biggest, 1)))
}

// queue publishes the job's chunks and marks it queued. JetStream
// deduplicates the chunks by message id, so this is safe to repeat.
func (s *Service) queue(ctx context.Context, rec *wire.JobRecord, meta *model.Metadata, items []wire.Item) (*wire.JobRecord, error) {
	if len(items) != rec.Total {
		return nil, api.Errorf(api.CodeConflict, "job %s has %d items, the request has %d", rec.ID, rec.Total, len(items))
	}
	subject := wire.InferSubject(wire.PriorityBatch, meta.Name, meta.Version)
	enq := time.Now()
	w := newPublishWindow(s.in.JS, s.cfg.PublishWindow)
	for c := 0; c < rec.Chunks; c++ {
		start := c * rec.ChunkSize
		end := min(start+rec.ChunkSize, len(items))
		msg := &nats.Msg{
			Subject: subject,
			Header:  wire.ChunkHeader{Job: rec.ID, Chunk: c, Start: start, Count: end - start, Enqueued: enq}.Header(),
			Data:    wire.EncodeChunk(nil, items[start:end]),
		}
		if err := w.publish(ctx, msg, wire.ChunkMsgID(rec.ID, c)); err != nil {
			return nil, queueErr(fmt.Errorf("queue chunk %d of job %s: %w", c, rec.ID, err))
		}
	}
	if err := w.drain(ctx); err != nil {
		return nil, queueErr(fmt.Errorf("queue job %s: %w", rec.ID, err))
	}
	return s.jobs.MarkQueued(ctx, rec.ID)
}

// queueErr maps a failure to queue work to 503: the queue is full or NATS
// is unreachable. The client may retry with the same Idempotency-Key.
func queueErr(err error) error {
	if natsx.IsFull(err) {
		return api.RetryLater(api.CodeQueueFull, time.Second, err, "the queue is full, retry later")
	}
	return api.RetryLater(api.CodeUnavailable, time.Second, err, "the queue is unavailable, retry later")
}
