package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
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
// jobs without reading anyone else's), the unfinished ones (what the
// scheduler and admission follow) and its quota reservations (Quotas). A job
// that finishes leaves the unfinished set, releases its reservation and gets
// its expiry timer.
type Jobs struct {
	kv, index, active, quotas jetstream.KeyValue
	timers                    *Timers
	hooks                     *Webhooks
	inputs                    *Inputs
	recent                    *recentRecords
}

// NewJobs returns the store over in's buckets.
func NewJobs(in *natsx.Infra) *Jobs {
	b := in.Buckets
	return &Jobs{kv: b.Jobs, index: b.JobIndex, active: b.Active, quotas: b.Quotas, timers: NewTimers(in.JS), hooks: NewWebhooks(in),
		inputs: NewInputs(in), recent: &recentRecords{}}
}

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
	// The record first: whoever follows the unfinished set (the scheduler,
	// admission) reads the record when a job enters it.
	if _, err := j.kv.Create(ctx, r.ID, wire.Marshal(r)); err != nil {
		return fmt.Errorf("create job %s: %w", r.ID, err)
	}
	key := wire.TenantKey(tenantOf(r), r.ID)
	if _, err := j.index.Put(ctx, key, nil); err != nil {
		return fmt.Errorf("create job %s: %w", r.ID, err)
	}
	if _, err := j.active.Put(ctx, key, wire.Marshal(activeOf(r, r.Total, r.ResultBytesEst))); err != nil {
		return fmt.Errorf("create job %s: %w", r.ID, err)
	}
	return nil
}

// Active is the value of an unfinished job in the active-jobs bucket: what
// admission reserves for it, and its model version ("name:version"; empty
// in entries of an older deployment).
type Active struct {
	Items       int    `json:"items"`
	ResultBytes int64  `json:"result_bytes"`
	Model       string `json:"model,omitempty"`
}

func activeOf(r *wire.JobRecord, items int, resultBytes int64) Active {
	return Active{Items: items, ResultBytes: resultBytes, Model: r.Model + ":" + r.Version}
}

// ParseActive reads an Active value (an older deployment's bare item count
// too).
func ParseActive(b []byte) (Active, bool) {
	var a Active
	if err := json.Unmarshal(b, &a); err == nil {
		return a, true
	}
	n, err := strconv.Atoi(string(b))
	return Active{Items: n}, err == nil
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
//
// It first tries the record as this store last wrote it, without reading
// (recentRecords): a change fn makes to it is written only if no one wrote
// since; fn leaving it unchanged, or a write since, sends it the read way.
func (j *Jobs) Update(ctx context.Context, id string, fn func(*wire.JobRecord) bool) (*wire.JobRecord, error) {
	if r, done, err := j.updateRecent(ctx, id, fn); done {
		return r, err
	}
	for attempt := 0; ; attempt++ {
		r, rev, err := j.get(ctx, id)
		if err != nil {
			return nil, err
		}
		if !fn(r) {
			return r, nil
		}
		data := wire.Marshal(r)
		rev, err = j.kv.Update(ctx, id, data, rev)
		if err == nil {
			j.recent.wrote(id, data, rev)
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

// updateRecent is Update on the record this store last wrote: done says
// whether it is written (or the write failed otherwise than by a write
// since).
func (j *Jobs) updateRecent(ctx context.Context, id string, fn func(*wire.JobRecord) bool) (*wire.JobRecord, bool, error) {
	data, rev, ok := j.recent.take(id)
	if !ok {
		return nil, false, nil
	}
	var r wire.JobRecord
	if json.Unmarshal(data, &r) != nil || !fn(&r) {
		return nil, false, nil // nothing to write as far as it shows: read the latest
	}
	data = wire.Marshal(&r)
	rev, err := j.kv.Update(ctx, id, data, rev)
	switch {
	case err == nil:
		j.recent.wrote(id, data, rev)
		return &r, true, nil
	case errors.Is(err, jetstream.ErrKeyRevisionMismatch):
		j.recent.stale(id)
		return nil, false, nil
	default:
		return nil, true, fmt.Errorf("update job %s: %w", id, err)
	}
}

// Count adds one chunk's outcome to its job, once: a chunk already counted
// changes nothing. A job that expired is not an error. The count that
// finishes the job takes it out of its tenant's unfinished set and starts
// its retention.
func (j *Jobs) Count(ctx context.Context, job string, c wire.ChunkCount) error {
	return j.CountAll(ctx, job, []wire.ChunkCount{c})
}

// CountAll is Count for several chunks of one job, in one record write.
func (j *Jobs) CountAll(ctx context.Context, job string, cs []wire.ChunkCount) error {
	r, err := j.Update(ctx, job, func(r *wire.JobRecord) bool {
		now, changed := time.Now().UTC(), false
		for _, c := range cs {
			changed = r.Count(c, now) || changed
		}
		return changed
	})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err == nil && r.Finished() {
		j.recent.forget(job)
		// Once the record says finished, the clean-up is not cut short by
		// the caller's context.
		err = j.Finished(context.WithoutCancel(ctx), r)
	}
	return err
}

// Finished takes a finished job out of its tenant's unfinished set,
// settles its quota reservation (what it stored stays counted against
// its tenant's share of the results store until it expires), queues its webhook event (when it has a
// webhook URL) and sets its expiry timer. It is idempotent: every writer
// that sees the job finished may call it.
func (j *Jobs) Finished(ctx context.Context, r *wire.JobRecord) error {
	ctx, cancel := context.WithTimeout(ctx, cleanupTimeout)
	defer cancel()
	if err := NewQuotas(j).Settle(ctx, tenantOf(r), r.ID, r.ResultBytes); err != nil {
		return fmt.Errorf("job %s finished: %w", r.ID, err)
	}
	if err := j.leaveActive(ctx, r); err != nil {
		return fmt.Errorf("job %s finished: %w", r.ID, err)
	}
	if err := j.hooks.queue(ctx, r); err != nil {
		return err
	}
	if r.ExpiresAt != nil && r.State != wire.StateExpired {
		return j.timers.Schedule(ctx, wire.TimerExpire, r.ID, *r.ExpiresAt)
	}
	return nil
}

// leaveActive deletes a finished job's entry in the unfinished set, unless
// a redrive opened the job again meanwhile: the entry is read, then the
// record, and the entry deleted at the revision read (a redrive writes the
// record, then the entry).
func (j *Jobs) leaveActive(ctx context.Context, r *wire.JobRecord) error {
	key := wire.TenantKey(tenantOf(r), r.ID)
	e, err := j.active.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if now, err := j.Get(ctx, r.ID); err == nil && !now.Finished() {
		return nil // open again
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	err = j.active.Delete(ctx, key, jetstream.LastRevision(e.Revision()))
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) && !errors.Is(err, jetstream.ErrKeyExists) && !natsx.IsWrongLastSequence(err) {
		return err
	}
	return nil
}

// cleanupTimeout bounds a clean-up that runs even when the request that
// caused it has ended: a finished job's, a failed upload write's parts.
const cleanupTimeout = 10 * time.Second

// MarkQueued moves a job from accepting to queued once all its items are
// read: total items in chunks chunks.
func (j *Jobs) MarkQueued(ctx context.Context, id string, total, chunks int) (*wire.JobRecord, error) {
	r, err := j.Update(ctx, id, func(r *wire.JobRecord) bool {
		return r.MarkQueued(total, chunks, time.Now().UTC())
	})
	if err == nil && r.Finished() {
		err = j.Finished(context.WithoutCancel(ctx), r)
	}
	return r, err
}

// Queueing is what a job's reading found: Items in Chunks, the body's hash,
// the results estimate admission reserved, and the items' quota cost.
type Queueing struct {
	Items, Chunks int
	BodySHA       string
	ResultBytes   int64
	Cost          int64
}

// Queue marks an accepting job queued once its items are all read; the
// scheduler then starts on it.
func (j *Jobs) Queue(ctx context.Context, id string, q Queueing) (*wire.JobRecord, error) {
	r, err := j.Update(ctx, id, func(r *wire.JobRecord) bool {
		if !r.MarkQueued(q.Items, q.Chunks, time.Now().UTC()) {
			return false
		}
		r.BodySHA256, r.ResultBytesEst, r.Cost = q.BodySHA, q.ResultBytes, q.Cost
		return true
	})
	if err != nil {
		return nil, err
	}
	if r.State == wire.StateAccepting {
		return nil, fmt.Errorf("queue job %s: still accepting", id)
	}
	key := wire.TenantKey(tenantOf(r), r.ID)
	if _, err := j.active.Put(ctx, key, wire.Marshal(activeOf(r, q.Items, q.ResultBytes))); err != nil {
		return nil, fmt.Errorf("queue job %s: %w", id, err)
	}
	if r.Finished() {
		err = j.Finished(context.WithoutCancel(ctx), r)
	}
	return r, err
}

// Checkpoint records how far a dataset's reading got: its chunks so far
// may run (Ingested). It returns the record, whose CancelledAt or State
// say whether to go on.
func (j *Jobs) Checkpoint(ctx context.Context, id string, st wire.IngestState) (*wire.JobRecord, error) {
	return j.Update(ctx, id, func(r *wire.JobRecord) bool {
		if r.State != wire.StateAccepting || r.Ingest != nil && r.Ingest.Chunks >= st.Chunks {
			return false
		}
		r.Ingest, r.Ingested = &st, st.Chunks
		return true
	})
}

// Skip counts a job's chunks from chunk from on as skipped with reason:
// the scheduler sent them to no worker (the job was cancelled or passed its
// deadline).
func (j *Jobs) Skip(ctx context.Context, id string, from int, reason string) (*wire.JobRecord, error) {
	changed := false
	r, err := j.Update(ctx, id, func(r *wire.JobRecord) bool {
		changed = r.Skip(from, reason, time.Now().UTC())
		return changed
	})
	if err == nil && changed {
		err = j.dropInputs(ctx, r)
	}
	if err == nil && r.Finished() {
		err = j.Finished(context.WithoutCancel(ctx), r)
	}
	return r, err
}

// dropInputs deletes the input of a job that runs no more items (it was
// cancelled, passed its deadline or failed): chunks never sent would keep
// theirs for good, in the backlog autoscalers read. A ticket sent before
// finds no input and skips its items, as it would have for the job's end.
func (j *Jobs) dropInputs(ctx context.Context, r *wire.JobRecord) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	return j.inputs.Purge(ctx, r.ID)
}

// Fail ends a job as a whole with reason (its items not run are skipped);
// a job already finished is left as it is.
func (j *Jobs) Fail(ctx context.Context, id, reason string) (*wire.JobRecord, error) {
	changed := false
	r, err := j.Update(ctx, id, func(r *wire.JobRecord) bool {
		changed = r.Fail(reason, time.Now().UTC())
		return changed
	})
	if err == nil && changed {
		err = j.dropInputs(ctx, r)
	}
	if err == nil && r.Finished() {
		err = j.Finished(context.WithoutCancel(ctx), r)
	}
	return r, err
}

// Expire marks a finished job's results expired: the record stays, state
// expired, and its deletion is scheduled after recordTTL.
func (j *Jobs) Expire(ctx context.Context, id string, recordTTL time.Duration) (*wire.JobRecord, error) {
	// Its tenant's share of the results store first: a failure after it
	// retries, and frees twice at worst (the store-wide bound still holds),
	// where the other order would hold the bytes against the tenant for good.
	if r, err := j.Get(ctx, id); err == nil && r.State != wire.StateExpired && r.Finished() {
		if err := NewQuotas(j).Free(ctx, tenantOf(r), r.ResultBytes); err != nil {
			return nil, fmt.Errorf("expire job %s: %w", id, err)
		}
	}
	r, err := j.Update(ctx, id, func(r *wire.JobRecord) bool {
		if r.State == wire.StateExpired {
			return false
		}
		r.State = wire.StateExpired
		return true
	})
	if err != nil {
		return nil, err
	}
	if err := j.timers.Schedule(ctx, wire.TimerDelete, id, time.Now().Add(recordTTL)); err != nil {
		return nil, err
	}
	return r, nil
}

// Delete removes a job's record, its entries in its tenant's sets and its
// webhook delivery log.
func (j *Jobs) Delete(ctx context.Context, r *wire.JobRecord) error {
	if err := j.hooks.delete(ctx, r.ID); err != nil {
		return err
	}
	key := wire.TenantKey(tenantOf(r), r.ID)
	for _, kv := range []jetstream.KeyValue{j.active, j.index, j.kv} {
		k := key
		if kv == j.kv {
			k = r.ID
		}
		if err := kv.Purge(ctx, k); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			return fmt.Errorf("delete job %s: %w", r.ID, err)
		}
	}
	return nil
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

// ActiveOf lists the ids of a tenant's unfinished jobs.
func (j *Jobs) ActiveOf(ctx context.Context, tenant string) ([]string, error) {
	return tenantIDs(ctx, j.active, tenant)
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
