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
	"batchinfer/internal/tracing"
	"batchinfer/internal/wire"
	"batchinfer/model"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// maxIdempotencyKey bounds an Idempotency-Key.
const maxIdempotencyKey = 256

// Submission is a batch job to queue.
type Submission struct {
	Model, Version string
	Items          input.Source
	// Name is the client's name for the input (e.g. its file's name),
	// listed with the job; optional, checked by CheckJobName.
	Name string
	// IdempotencyKey, when set, makes a repeated submission (same key, same
	// body) return the first job instead of a new one.
	IdempotencyKey string
	// BodyHash, set with an IdempotencyKey, is the request body's SHA-256
	// (hex); it is called once the items are read, as a streamed body is
	// hashed while decoded.
	BodyHash func() string
	// Drain, when set, reads the rest of the body (to hash it) without
	// decoding it: a replay of an earlier submission is not read twice.
	Drain func() error
	// MaxInvalid is how many invalid items the job accepts (they fail with
	// their reason); beyond it the submission is refused.
	MaxInvalid int
	// IDColumn names a CSV column passed through as each item's id.
	IDColumn string
	// Priority (high, normal, low) and Deadline (RFC 3339 or a duration)
	// as the client gave them.
	Priority, Deadline string
	// Streamed: Items are read as the body arrives (not held whole).
	Streamed bool
	// Webhook is the URL the job's end is posted to: "" for the tenant's
	// default, "none" for no webhook.
	Webhook string
}

// Submit reads the items, checking each against the model, into the input
// stream as they come (nothing is held but the chunk being filled), and
// queues the job. It reports whether the job was an idempotent replay of an
// earlier submission. A body with more invalid items than MaxInvalid, or
// whose results would not fit, is refused and leaves nothing behind.
func (s *Service) Submit(ctx context.Context, sub Submission) (wire.JobStatus, bool, error) {
	ctx, span := s.startSubmit(ctx, sub)
	st, replayed, err := s.submit(ctx, sub)
	endSubmit(span, st, replayed, err)
	return st, replayed, err
}

func (s *Service) submit(ctx context.Context, sub Submission) (wire.JobStatus, bool, error) {
	meta, err := s.Model(sub.Model, sub.Version)
	if err != nil {
		return wire.JobStatus{}, false, err
	}
	if sub.MaxInvalid < 0 {
		return wire.JobStatus{}, false, api.Errorf(api.CodeBadRequest, "max_invalid must not be negative")
	}
	p := caller(ctx)
	opts, err := s.jobOptions(ctx, p, sub.Priority, sub.Deadline, sub.Name, sub.Webhook)
	if err != nil {
		return wire.JobStatus{}, false, err
	}
	if err := s.backlog.admit("", meta.ID(), p.Tenant, 1); err != nil { // no room at all: the body is not read
		return wire.JobStatus{}, false, err
	}
	id, st, replayed, err := s.claimKey(ctx, p, sub)
	if err != nil || replayed {
		return st, replayed, err
	}
	key := ""
	if sub.IdempotencyKey != "" {
		key = idempotencyKey(p.Tenant, sub.IdempotencyKey)
	}
	if err := s.reserve(ctx, p, id, 0, 0); err != nil { // the jobs quota; the items' cost and results once they are read
		s.dropKey(key)
		return wire.JobStatus{}, false, err
	}
	rec := s.newRecord(id, meta, p)
	rec.Trace = tracing.Record(ctx)
	opts.apply(rec)
	if err := s.jobs.Create(ctx, rec); err != nil {
		s.unreserve(p, id)
		s.dropKey(key)
		return wire.JobStatus{}, false, queueErr(err)
	}
	// Once the record exists the job is read whole or removed, even if the
	// client goes away meanwhile: a half-read job would never finish.
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.QueueWait+2*natsOpTimeout)
	defer cancel()
	r, err := s.readAndQueue(ctx, qctx, p, rec, meta, sub)
	if err != nil {
		s.abort(qctx, rec, key)
		s.unreserve(p, id)
		return wire.JobStatus{}, false, err
	}
	s.metrics.jobs.WithLabelValues(meta.ID(), p.Tenant).Inc()
	s.metrics.items.WithLabelValues("batch", meta.ID(), p.Tenant).Add(float64(r.items))
	s.Audit.Job(ctx, "job_submitted", rec.ID, func(e *zerolog.Event) {
		e.Str("model", meta.ID()).Int("items", rec.Total).Int64("cost", rec.Cost)
	})
	return rec.Status(time.Now()), false, nil
}

// readAndQueue reads the body into the job's chunks and queues the job.
func (s *Service) readAndQueue(ctx, qctx context.Context, p *auth.Principal, rec *wire.JobRecord, meta *model.Metadata, sub Submission) (reading, error) {
	r, err := s.readBody(ctx, qctx, rec, meta, sub)
	if err != nil {
		return r, err
	}
	// The job pins the version chosen at its start; one retired while its
	// body was read takes it no more.
	if _, err := s.cat.resolve(meta.Name, meta.Version, time.Now()); err != nil {
		return r, err
	}
	return r, s.queueJob(qctx, p, rec, meta, r, sub)
}

// readBody reads the submission's items into rec's chunks: a body with
// more invalid items than allowed is invalid_input, naming them.
func (s *Service) readBody(ctx, qctx context.Context, rec *wire.JobRecord, meta *model.Metadata, sub Submission) (reading, error) {
	r, err := s.ingest(qctx, rec, meta, sub.Items, ingestOptions{maxItems: s.cfg.MaxItems, maxInvalid: sub.MaxInvalid, idColumn: sub.IDColumn})
	var ae *api.Error
	var we *writeError
	switch {
	case errors.As(err, &ae):
		return r, err
	case err != nil && ctx.Err() != nil:
		return r, api.Errorf(api.CodeBadRequest, "the request ended before its body was read")
	case errors.As(err, &we):
		return r, queueFullErr(err)
	case err != nil:
		return r, &api.Error{Code: api.CodeBadRequest, Message: "the request body could not be read: " + err.Error(), Err: err}
	case r.stopped:
		e := r.dec.Invalid()
		if sub.MaxInvalid > 0 {
			e.Message += fmt.Sprintf(" (more than max_invalid=%d)", sub.MaxInvalid)
		}
		return r, e
	case r.items == 0:
		return r, api.Errorf(api.CodeInvalidInput, "no inputs: the batch is empty")
	}
	return r, nil
}

// queueJob admits a fully read job against its model's backlog, the
// results store and the tenant's quotas, then marks it queued: the
// scheduler starts on it.
func (s *Service) queueJob(ctx context.Context, p *auth.Principal, rec *wire.JobRecord, meta *model.Metadata, r reading, sub Submission) error {
	ctx, span := s.startSpan(ctx, "job.queue")
	defer span.End()
	if err := s.backlog.admit(rec.ID, meta.ID(), p.Tenant, r.items); err != nil {
		return err
	}
	est := s.resultBytes(meta, r.items, rec.ChunkSize)
	if err := s.store.admit(ctx, rec.ID, est, r.items); err != nil {
		return err
	}
	if err := s.setCost(ctx, p, rec.ID, r.cost, est); err != nil {
		s.store.release(rec.ID)
		return err
	}
	sha := ""
	if sub.BodyHash != nil {
		sha = sub.BodyHash()
	}
	q, err := s.jobs.Queue(ctx, rec.ID, store.Queueing{Items: r.items, Chunks: r.chunks, BodySHA: sha, ResultBytes: est, Cost: r.cost})
	if err != nil {
		s.store.release(rec.ID)
		return queueErr(err)
	}
	*rec = *q
	if sub.IdempotencyKey != "" {
		return s.sealKey(ctx, p, sub.IdempotencyKey, rec.ID, sha)
	}
	return nil
}

// dropKey removes an idempotency claim (at key, when not "") of a
// submission that created nothing.
func (s *Service) dropKey(key string) {
	if key == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), natsOpTimeout)
	defer cancel()
	_ = s.in.Buckets.Idempotency.Purge(ctx, key)
}

// abort removes a job that was not queued: its record, its chunks and its
// idempotency claim (at key, when not ""). Nothing of it was run.
func (s *Service) abort(ctx context.Context, rec *wire.JobRecord, key string) {
	s.store.release(rec.ID)
	s.backlog.release(rec.ID)
	log := tracing.LogSC(tracing.FromRecord(rec.Trace), s.log)
	if err := s.inputs.Purge(ctx, rec.ID); err != nil {
		log.Warn().Err(err).Str("job", rec.ID).Msg("purging a refused job's input failed")
	}
	if err := s.jobs.Delete(ctx, rec); err != nil {
		log.Warn().Err(err).Str("job", rec.ID).Msg("deleting a refused job failed")
	}
	if key != "" {
		_ = s.in.Buckets.Idempotency.Purge(ctx, key)
	}
}

func (s *Service) limits(meta *model.Metadata, maxItems int) input.Limits {
	return input.Limits{MaxItems: maxItems, MaxImageBytes: s.cfg.MaxImageBytes, MaxLineBytes: s.cfg.MaxLineBytes,
		MaxImagePixels: input.MaxImagePixels(meta, s.cfg.MaxImagePixelsFactor)}
}

func (s *Service) newRecord(id string, meta *model.Metadata, p *auth.Principal) *wire.JobRecord {
	return &wire.JobRecord{
		ID: id, Tenant: p.Tenant, Model: meta.Name, Version: meta.Version, ChunkSize: s.chunkSize(meta),
		State: wire.StateAccepting, CreatedAt: time.Now().UTC(), RetentionMS: s.cfg.ResultTTL.Milliseconds(),
		Weight: max(p.Limits.Weight, 1e-3),
	}
}

// idempotencyKey is where a tenant's Idempotency-Key is kept.
func idempotencyKey(tenant, key string) string {
	sum := sha256.Sum256([]byte(tenant + "\x00" + key))
	return hex.EncodeToString(sum[:])
}

// claimKey claims the tenant's Idempotency-Key for a new job, or answers
// for an earlier submission with the key: its job (replayed) when the body
// is the same, 409 when it differs or is still being read. A claim left by
// a submission that died while reading its body is taken over.
func (s *Service) claimKey(ctx context.Context, p *auth.Principal, sub Submission) (string, wire.JobStatus, bool, error) {
	id := newJobID()
	if sub.IdempotencyKey == "" {
		return id, wire.JobStatus{}, false, nil
	}
	if len(sub.IdempotencyKey) > maxIdempotencyKey {
		return "", wire.JobStatus{}, false, api.Errorf(api.CodeBadRequest, "Idempotency-Key longer than %d bytes", maxIdempotencyKey)
	}
	key := idempotencyKey(p.Tenant, sub.IdempotencyKey)
	kv := s.in.Buckets.Idempotency
	for attempt := 0; attempt < 3; attempt++ {
		_, err := kv.Create(ctx, key, wire.Marshal(wire.IdempotencyRecord{Job: id}))
		if err == nil {
			return id, wire.JobStatus{}, false, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return "", wire.JobStatus{}, false, fmt.Errorf("store idempotency key: %w", err)
		}
		st, replayed, retry, err := s.replay(ctx, p, key, sub)
		if !retry {
			return "", st, replayed, err
		}
	}
	return "", wire.JobStatus{}, false, api.Errorf(api.CodeConflict, "Idempotency-Key is being claimed by another request, retry")
}

// staleClaim is how long a claim of a submission still reading its body
// is honoured without progress before another submission takes it over.
const staleClaim = 2 * time.Minute

// replay answers a submission whose key is claimed: the earlier job when
// the body is the same, 409 otherwise. retry says the claim was stale and
// removed: claim it again.
func (s *Service) replay(ctx context.Context, p *auth.Principal, key string, sub Submission) (st wire.JobStatus, replayed, retry bool, err error) {
	kv := s.in.Buckets.Idempotency
	e, err := kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return st, false, true, nil
	}
	if err != nil {
		return st, false, false, fmt.Errorf("read idempotency key: %w", err)
	}
	var prev wire.IdempotencyRecord
	if err := json.Unmarshal(e.Value(), &prev); err != nil {
		return st, false, false, fmt.Errorf("decode idempotency key: %w", err)
	}
	r, err := s.jobs.Get(ctx, prev.Job)
	switch {
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return st, false, false, err
	case err == nil && !owns(p, r):
		return st, false, false, api.Errorf(api.CodeConflict, "Idempotency-Key already used")
	case prev.BodySHA256 == "":
		retry, err := s.pendingClaim(ctx, key, e.Revision(), r)
		return st, false, retry, err
	}
	if err := sameBody(sub, prev); err != nil {
		return st, false, false, err
	}
	if r == nil { // the job expired: the key outlived it
		return st, false, false, api.Errorf(api.CodeConflict, "Idempotency-Key already used for job %s, which no longer exists", prev.Job)
	}
	return r.Status(time.Now()), true, false, nil
}

// pendingClaim answers a key claimed by a submission still reading its
// body (409), or takes the claim over when that submission died (r nil or
// stale): retry claims it again.
func (s *Service) pendingClaim(ctx context.Context, key string, rev uint64, r *wire.JobRecord) (retry bool, err error) {
	if r != nil && (r.State != wire.StateAccepting || time.Since(lastWrite(r)) <= staleClaim) {
		return false, api.RetryLater(api.CodeConflict, time.Second, nil, "a request with this Idempotency-Key is still being read: retry later")
	}
	if r != nil { // a submission that died while reading its body
		s.abort(ctx, r, "")
	}
	_ = s.in.Buckets.Idempotency.Delete(ctx, key, jetstream.LastRevision(rev))
	return true, nil
}

// sameBody reads the rest of the body (to hash it) and checks it is the
// one the key was first used with.
func sameBody(sub Submission, prev wire.IdempotencyRecord) error {
	if sub.Drain != nil {
		if err := sub.Drain(); err != nil {
			return api.Errorf(api.CodeBadRequest, "reading the body: %v", err)
		}
	}
	if sub.BodyHash == nil || sub.BodyHash() != prev.BodySHA256 {
		return api.Errorf(api.CodeConflict, "Idempotency-Key already used for a different request body")
	}
	return nil
}

func lastWrite(r *wire.JobRecord) time.Time {
	if r.UpdatedAt != nil {
		return *r.UpdatedAt
	}
	return r.CreatedAt
}

// sealKey records the body's hash with the claim once the job is queued.
func (s *Service) sealKey(ctx context.Context, p *auth.Principal, idemKey, job, sha string) error {
	key := idempotencyKey(p.Tenant, idemKey)
	if _, err := s.in.Buckets.Idempotency.Put(ctx, key, wire.Marshal(wire.IdempotencyRecord{Job: job, BodySHA256: sha})); err != nil {
		return fmt.Errorf("store idempotency key: %w", err)
	}
	return nil
}

// queueErr maps a failure to queue work to 503: the queue is full or NATS
// is unreachable. The client may retry with the same Idempotency-Key.
func queueErr(err error) error {
	if natsx.IsFull(err) {
		return api.RetryLater(api.CodeQueueFull, time.Second, err, "the queue is full, retry later")
	}
	return api.RetryLater(api.CodeUnavailable, time.Second, err, "the queue is unavailable, retry later")
}
