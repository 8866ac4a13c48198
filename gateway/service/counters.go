package service

import (
	"context"
	"sync"
	"time"

	"batchinfer/api"
)

// tenantCounter counts what each tenant holds on this gateway (uploads
// being decoded, jobs followed) against a per-tenant limit.
type tenantCounter struct {
	mu sync.Mutex
	n  map[string]int
}

// acquire counts one more for tenant unless it holds limit already;
// release gives it back (once).
func (c *tenantCounter) acquire(tenant string, limit int) (release func(), ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	if limit > 0 && c.n[tenant] >= limit {
		return nil, false
	}
	c.n[tenant]++
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.n[tenant]--; c.n[tenant] <= 0 {
				delete(c.n, tenant)
			}
		})
	}, true
}

// counts is the number of tenants holding something, and of what they hold.
func (c *tenantCounter) counts() (tenants, held int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.n {
		held += n
	}
	return len(c.n), held
}

// BeginUpload takes one of the caller's tenant's upload slots
// (Limits.Uploads) for a batch submission being received and decoded, on
// either transport: call it before reading the body, and release when the
// submission is answered. Over the limit: 429 quota_exceeded.
func (s *Service) BeginUpload(ctx context.Context) (func(), error) {
	p := caller(ctx)
	release, ok := s.uploads.acquire(p.Tenant, p.Limits.Uploads)
	if !ok {
		s.metrics.quota.WithLabelValues("uploads").Inc()
		return nil, api.RetryLater(api.CodeQuotaExceeded, time.Second, nil,
			"tenant %s has %d submissions uploading on this gateway, its limit (GATEWAY_MAX_TENANT_SUBMISSIONS, or the key's uploads=): retry when one is answered",
			p.Tenant, p.Limits.Uploads)
	}
	return release, nil
}

// acquireFollower takes one of the gateway's follower slots and one of the
// caller's tenant's (Limits.Follows), or answers busy (the gateway's are
// taken: the pod stays ready, the client retries, maybe elsewhere) or
// quota_exceeded (the tenant's are).
func (s *Service) acquireFollower(ctx context.Context) (func(), error) {
	p := caller(ctx)
	tenant, ok := s.follows.acquire(p.Tenant, p.Limits.Follows)
	if !ok {
		s.metrics.quota.WithLabelValues("follows").Inc()
		return nil, api.RetryLater(api.CodeQuotaExceeded, time.Second, nil,
			"tenant %s follows %d jobs on this gateway, its limit (GATEWAY_MAX_TENANT_FOLLOWS, or the key's follows=): end a stream or subscription first",
			p.Tenant, p.Limits.Follows)
	}
	if n := s.followers.Add(1); n > int64(s.cfg.MaxSubscriptions) {
		s.followers.Add(-1)
		tenant()
		s.metrics.busy.Inc()
		return nil, api.RetryLater(api.CodeBusy, time.Second, nil,
			"this gateway follows %d jobs, its limit (GATEWAY_MAX_SUBSCRIPTIONS): retry later or elsewhere", s.cfg.MaxSubscriptions)
	}
	var once sync.Once
	return func() { once.Do(func() { s.followers.Add(-1); tenant() }) }, nil
}
