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

// Job is a job's status.
func (s *Service) Job(ctx context.Context, id string) (wire.JobStatus, error) {
	r, err := s.loadJob(ctx, id)
	if err != nil {
		return wire.JobStatus{}, err
	}
	return r.Status(time.Now()), nil
}

// Jobs lists up to limit of the caller's jobs, the most recent first; it
// reads the tenant's index, never anyone else's jobs.
func (s *Service) Jobs(ctx context.Context, limit int) ([]wire.JobStatus, error) {
	if limit < 1 || limit > s.cfg.MaxJobsListed {
		return nil, api.Errorf(api.CodeBadRequest, "limit must be an integer in [1, %d]", s.cfg.MaxJobsListed)
	}
	p := caller(ctx)
	ids, err := s.jobs.IDsOf(ctx, p.Tenant)
	if err != nil {
		return nil, err
	}
	slices.Sort(ids)
	slices.Reverse(ids)
	out := make([]wire.JobStatus, 0, min(limit, len(ids)))
	now := time.Now()
	for _, id := range ids {
		if len(out) == limit {
			break
		}
		rec, err := s.jobs.Get(ctx, id)
		if err != nil || !owns(p, rec) {
			continue // expired between list and get
		}
		out = append(out, rec.Status(now))
	}
	return out, nil
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
	return s.reader.op(ctx)
}
