package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrNotFound is returned for a job that does not exist (or expired).
var ErrNotFound = errors.New("job not found")

// maxCASAttempts bounds the retries of a contended compare-and-set.
const maxCASAttempts = 100

// Jobs is the job records, one key per job id in the jobs bucket, with two
// per-tenant records beside them: the set of every job (to list a tenant's
// jobs without reading anyone else's) and its quota reservations (Quotas).
type Jobs struct {
	kv, index, quotas jetstream.KeyValue
}

// NewJobs returns the store over the buckets.
func NewJobs(b *natsx.Buckets) *Jobs { return &Jobs{kv: b.Jobs, index: b.JobIndex, quotas: b.Quotas} }

// Get reads a job record; the error wraps ErrNotFound for an unknown job.
func (j *Jobs) Get(ctx context.Context, id string) (*wire.JobRecord, error) {
	r, _, err := j.get(ctx, id)
	return r, err
}

func (j *Jobs) get(ctx context.Context, id string) (*wire.JobRecord, uint64, error) {
	e, err := j.kv.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, fmt.Errorf("get job %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("get job %s: %w", id, err)
	}
	var r wire.JobRecord
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		return nil, 0, fmt.Errorf("decode job %s: %w", id, err)
	}
	return &r, e.Revision(), nil
}

// Create writes a new record and enters it in its tenant's index; it
// fails if the id exists. (Its quota is reserved before: Quotas.Reserve.)
func (j *Jobs) Create(ctx context.Context, r *wire.JobRecord) error {
	key := wire.TenantKey(tenantOf(r), r.ID)
	if _, err := j.index.Put(ctx, key, nil); err != nil {
		return fmt.Errorf("create job %s: %w", r.ID, err)
	}
	if _, err := j.kv.Create(ctx, r.ID, wire.Marshal(r)); err != nil {
		return fmt.Errorf("create job %s: %w", r.ID, err)
	}
	return nil
}

// NoTenant names the owner of records written without one.
const NoTenant = "anonymous"

func tenantOf(r *wire.JobRecord) string {
	if r.Tenant == "" {
		return NoTenant
	}
	return r.Tenant
}

// Update applies fn to the record with compare-and-set, retrying on
// conflicts; fn returns false to leave the record unchanged. It returns
// the record as fn left it.
func (j *Jobs) Update(ctx context.Context, id string, fn func(*wire.JobRecord) bool) (*wire.JobRecord, error) {
	for attempt := 0; ; attempt++ {
		r, rev, err := j.get(ctx, id)
		if err != nil {
			return nil, err
		}
		if !fn(r) {
			return r, nil
		}
		_, err = j.kv.Update(ctx, id, wire.Marshal(r), rev)
		if err == nil {
			return r, nil
		}
		if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) || attempt >= maxCASAttempts {
			return nil, fmt.Errorf("update job %s: %w", id, err)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

// Count adds a stored chunk result to its job, once: a chunk already
// counted changes nothing. A job that expired is not an error. The count
// that finishes the job releases its quota reservation.
func (j *Jobs) Count(ctx context.Context, cr *wire.ChunkResult) error {
	r, err := j.Update(ctx, cr.Job, func(r *wire.JobRecord) bool {
		return r.Count(cr.Chunk, cr.Done, cr.Failed, time.Now().UTC())
	})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err == nil && r.Finished() {
		err = j.Finished(ctx, r)
	}
	return err
}

// Finished releases a finished job's quota reservation (doing it twice
// changes nothing).
func (j *Jobs) Finished(ctx context.Context, r *wire.JobRecord) error {
	if err := NewQuotas(j).Release(ctx, tenantOf(r), r.ID); err != nil {
		return fmt.Errorf("job %s finished: %w", r.ID, err)
	}
	return nil
}

// MarkQueued moves a job from accepting to queued once all its chunks are
// in the queue.
func (j *Jobs) MarkQueued(ctx context.Context, id string) (*wire.JobRecord, error) {
	return j.Update(ctx, id, func(r *wire.JobRecord) bool {
		if r.State != wire.StateAccepting {
			return false
		}
		r.State = wire.StateQueued
		return true
	})
}

// Cancel marks a job cancelled unless it has finished; the record says
// which (CancelledAt is nil for a finished job).
func (j *Jobs) Cancel(ctx context.Context, id string, now time.Time) (*wire.JobRecord, error) {
	return j.Update(ctx, id, func(r *wire.JobRecord) bool {
		if r.CancelledAt != nil || r.Finished() {
			return false
		}
		r.CancelledAt = &now
		return true
	})
}

// IDsOf lists the ids of a tenant's jobs.
func (j *Jobs) IDsOf(ctx context.Context, tenant string) ([]string, error) {
	return tenantIDs(ctx, j.index, tenant)
}

func tenantIDs(ctx context.Context, kv jetstream.KeyValue, tenant string) ([]string, error) {
	lister, err := kv.ListKeysFiltered(ctx, tenant+".*")
	if err != nil {
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			return nil, nil
		}
		return nil, fmt.Errorf("list jobs of %s: %w", tenant, err)
	}
	defer func() { _ = lister.Stop() }()
	var ids []string
	for k := range lister.Keys() {
		ids = append(ids, k[len(tenant)+1:])
	}
	return ids, nil
}
