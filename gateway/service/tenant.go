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

// reserve admits a new job of cost against its tenant's quotas (its
// unfinished jobs, and the cost of their items not done) with one
// compare-and-set on the tenant's quota record (store.Quotas): concurrent
// submissions, through any gateways, never pass a limit together. The
// reservation is released when the job finishes.
func (s *Service) reserve(ctx context.Context, p *auth.Principal, id string, cost int64) error {
	if p.Limits.Jobs <= 0 && p.Limits.Items <= 0 {
		return nil
	}
	return s.quotaErr(p, s.quotas.Reserve(ctx, p.Tenant, id, cost, limitsOf(p)))
}

// setCost sets a reserved job's cost once its items are read (a streamed
// body: its cost was unknown when it was reserved), within the tenant's
// items quota.
func (s *Service) setCost(ctx context.Context, p *auth.Principal, id string, cost int64) error {
	if p.Limits.Jobs <= 0 && p.Limits.Items <= 0 {
		return nil
	}
	return s.quotaErr(p, s.quotas.SetCost(ctx, p.Tenant, id, cost, limitsOf(p)))
}

func limitsOf(p *auth.Principal) store.QuotaLimits {
	return store.QuotaLimits{Jobs: p.Limits.Jobs, Cost: int64(p.Limits.Items)}
}

// quotaErr turns a reservation's failure into the client's answer.
func (s *Service) quotaErr(p *auth.Principal, err error) error {
	var qe *store.QuotaError
	switch {
	case errors.As(err, &qe) && qe.Jobs:
		s.metrics.quota.WithLabelValues("jobs").Inc()
		return api.RetryLater(api.CodeQuotaExceeded, quotaRetry, nil,
			"tenant %s has %d unfinished jobs, its limit (GATEWAY_MAX_TENANT_JOBS, or the key's jobs=): retry when one finishes", p.Tenant, qe.Have)
	case errors.As(err, &qe):
		s.metrics.quota.WithLabelValues("items").Inc()
		return api.RetryLater(api.CodeQuotaExceeded, quotaRetry, nil,
			"tenant %s has %d items in flight (by cost: an image counts once per model input's worth of pixels); %d more would pass its limit of %d (GATEWAY_MAX_TENANT_ITEMS, or the key's items=)",
			p.Tenant, qe.Have, qe.Want, p.Limits.Items)
	case err != nil:
		return queueErr(err)
	}
	return nil
}

// unreserve gives back the reservation of a job that was not created.
func (s *Service) unreserve(p *auth.Principal, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), natsOpTimeout)
	defer cancel()
	if err := s.quotas.Release(ctx, p.Tenant, id); err != nil {
		s.log.Warn().Err(err).Str("job", id).Msg("quota reservation not released: the next admission that needs it drops it")
	}
}
