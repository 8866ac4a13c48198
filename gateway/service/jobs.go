package service

import (
	"context"
	"errors"
	"slices"
	"time"

	"batchinfer/api"
	"batchinfer/internal/store"
	"batchinfer/internal/wire"
)

// loadJob reads a job record; unknown ids (and malformed ones) are
// unknown_job.
func (s *Service) loadJob(ctx context.Context, id string) (*wire.JobRecord, error) {
	if !validJobID(id) {
		return nil, api.Errorf(api.CodeUnknownJob, "unknown job %q", id)
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	r, err := s.jobs.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !owns(caller(ctx), r)) {
		return nil, api.Errorf(api.CodeUnknownJob, "unknown job %q", id)
	}
	return r, err
}

// Job is a job's status; a queued one says where it stands.
func (s *Service) Job(ctx context.Context, id string) (wire.JobStatus, error) {
	r, err := s.loadJob(ctx, id)
	if err != nil {
		return wire.JobStatus{}, err
	}
	return s.status(r), nil
}

// status is r's status now, with its queue position when queued.
func (s *Service) status(r *wire.JobRecord) wire.JobStatus {
	st := r.Status(time.Now())
	if st.State == wire.StateQueued {
		st.Queue = s.queued.position(r.ID)
	}
	return st
}

// Jobs lists a page of the caller's jobs, the most recent first; it reads
// the tenant's index, never anyone else's jobs. A filtered page reads at
// most MaxJobsScanned records: it may end early (even empty) with a
// cursor to go on from.
func (s *Service) Jobs(ctx context.Context, q JobQuery) (JobPage, error) {
	if err := s.checkJobQuery(q); err != nil {
		return JobPage{}, err
	}
	p := caller(ctx)
	ids, err := s.jobs.IDsOf(ctx, p.Tenant)
	if err != nil {
		return JobPage{}, err
	}
	slices.Sort(ids)
	slices.Reverse(ids)
	page := JobPage{Jobs: []wire.JobStatus{}, Total: -1}
	if !q.filtered() {
		page.Total = len(ids)
	}
	i := 0
	if q.Cursor != "" { // ids after the cursor are older: smaller
		i = slices.IndexFunc(ids, func(id string) bool { return id < q.Cursor })
		if i < 0 {
			i = len(ids)
		}
	}
	now := time.Now()
	for read := 0; i < len(ids); i++ {
		if len(page.Jobs) == q.Limit || (q.filtered() && read == s.cfg.MaxJobsScanned) {
			page.NextCursor = ids[i-1]
			break
		}
		read++
		rec, err := s.jobs.Get(ctx, ids[i])
		if err != nil || !owns(p, rec) {
			continue // expired between list and get
		}
		if st := rec.Status(now); q.matches(st) {
			page.Jobs = append(page.Jobs, st)
		}
	}
	return page, nil
}

// Cancel cancels a job: its remaining items fail with "job cancelled". A
// finished job is a conflict.
func (s *Service) Cancel(ctx context.Context, id string) (wire.JobStatus, error) {
	rec, err := s.loadJob(ctx, id)
	if err != nil {
		return wire.JobStatus{}, err
	}
	if rec.Finished() && rec.CancelledAt == nil {
		return wire.JobStatus{}, api.Errorf(api.CodeConflict, "job %s already completed", rec.ID)
	}
	// The record first: a job that finishes meanwhile stays completed, and
	// then no worker may fail its items as cancelled (the key is not put).
	if rec, err = s.jobs.Cancel(ctx, rec.ID, time.Now().UTC()); err != nil {
		return wire.JobStatus{}, err
	}
	if rec.CancelledAt == nil { // finished meanwhile: it stays completed
		return wire.JobStatus{}, api.Errorf(api.CodeConflict, "job %s already completed", rec.ID)
	}
	// Then the workers' signal; a failure here is retried by the client
	// (cancelling a cancelled job puts the key again).
	if _, err := s.in.Buckets.Cancel.Put(ctx, rec.ID, []byte("1")); err != nil {
		return wire.JobStatus{}, queueErr(err)
	}
	s.Audit.Job(ctx, "job_cancelled", rec.ID, nil)
	return rec.Status(time.Now()), nil
}

// op is the context of one read: it ends after natsOpTimeout, or at a
// reconnect, whose answer would never come (the caller reads again).
func (s *Service) op(ctx context.Context) (context.Context, context.CancelFunc) {
	return s.reader.Op(ctx)
}
