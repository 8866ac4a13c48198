package service

import (
	"context"
	"errors"
	"time"

	"batchinfer/api"
	"batchinfer/gateway/auth"
	"batchinfer/internal/store"
	"batchinfer/internal/wire"
)

// caller is the principal of ctx: the authenticated one, or Anonymous
// (authentication off, and the service's own tests).
func caller(ctx context.Context) *auth.Principal {
	if p := auth.From(ctx); p != nil {
		return p
	}
	return auth.Anonymous
}

// owns reports whether p's tenant owns the job: another tenant's job is,
// to p, a job that does not exist.
func owns(p *auth.Principal, r *wire.JobRecord) bool {
	t := r.Tenant
	if t == "" {
		t = store.NoTenant
	}
	return t == p.Tenant
}

// quotaRetry is the retry hint of a tenant over its quotas.
const quotaRetry = 5 * time.Second

// admit checks a new job of n items against its tenant's quotas: jobs not
// yet finished, and their items not yet done. Finished jobs still in the
// set (their worker died between finishing and cleaning up) are taken out
// on the way. Concurrent submissions of one tenant may each pass.
// self, when set, is the job being admitted (its record exists already):
// it is not counted against itself.
func (s *Service) admit(ctx context.Context, p *auth.Principal, n int, self string) error {
	if p.Limits.Jobs <= 0 && p.Limits.Items <= 0 {
		return nil
	}
	ids, err := s.jobs.ActiveOf(ctx, p.Tenant)
	if err != nil {
		return queueErr(err)
	}
	jobs, pending := 0, 0
	for _, id := range ids {
		if id == self {
			continue
		}
		r, err := s.jobs.Get(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			continue // expired
		case err != nil:
			return queueErr(err)
		case r.Finished():
			_ = s.jobs.Finished(ctx, r)
			continue
		}
		jobs++
		pending += r.Total - r.Done - r.Failed
	}
	if p.Limits.Jobs > 0 && jobs >= p.Limits.Jobs {
		return api.RetryLater(api.CodeQuotaExceeded, quotaRetry, nil,
			"tenant %s has %d unfinished jobs, its limit (GATEWAY_MAX_TENANT_JOBS, or the key's jobs=): retry when one finishes", p.Tenant, jobs)
	}
	if p.Limits.Items > 0 && pending+n > p.Limits.Items {
		return api.RetryLater(api.CodeQuotaExceeded, quotaRetry, nil,
			"tenant %s has %d items in flight; %d more would pass its limit of %d (GATEWAY_MAX_TENANT_ITEMS, or the key's items=)",
			p.Tenant, pending, n, p.Limits.Items)
	}
	return nil
}
