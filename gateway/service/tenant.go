package service

import (
	"context"
	"errors"
	"fmt"
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

// reserve admits a new job of cost and results estimate against its
// tenant's quotas (its unfinished jobs, the cost of their items not done,
// its share of the results store) with one
// compare-and-set on the tenant's quota record (store.Quotas): concurrent
// submissions, through any gateways, never pass a limit together. The
// reservation is released when the job finishes.
func (s *Service) reserve(ctx context.Context, p *auth.Principal, id string, cost, results int64) error {
	if !hasQuotas(p) {
		return nil
	}
	return s.quotaErr(p, s.quotas.Reserve(ctx, p.Tenant, id, cost, results, limitsOf(p)))
}

// hasQuotas says whether p's tenant has any limit kept in its quota record.
func hasQuotas(p *auth.Principal) bool {
	return p.Limits.Jobs > 0 || p.Limits.Items > 0 || p.Limits.Results > 0
}

// setCost sets a reserved job's cost and results estimate once its items
// are read (a streamed body: they were unknown when it was reserved),
// within the tenant's items and results quotas.
func (s *Service) setCost(ctx context.Context, p *auth.Principal, id string, cost, results int64) error {
	if !hasQuotas(p) {
		return nil
	}
	return s.quotaErr(p, s.quotas.SetCost(ctx, p.Tenant, id, cost, results, limitsOf(p)))
}

func limitsOf(p *auth.Principal) store.QuotaLimits {
	return store.QuotaLimits{Jobs: p.Limits.Jobs, Cost: int64(p.Limits.Items), Results: p.Limits.Results}
}

// quotaErr turns a reservation's failure into the client's answer.
func (s *Service) quotaErr(p *auth.Principal, err error) error {
	var qe *store.QuotaError
	switch {
	case errors.As(err, &qe) && qe.Results:
		s.metrics.quota.WithLabelValues("results").Inc()
		need := ""
		if qe.Want > 0 {
			need = fmt.Sprintf("; this job's results need about %d more", qe.Want)
		}
		return api.RetryLater(api.CodeInsufficientStorage, storageRetry, nil,
			"tenant %s's jobs hold or have reserved %d bytes of the results store, its share is %d (GATEWAY_MAX_TENANT_RESULT_BYTES, or the key's results=)%s. Results expire RESULT_TTL after their job finishes: retry later, or submit fewer items",
			p.Tenant, qe.Have, p.Limits.Results, need)
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
