package store

import (
	"context"
	"time"
)

// admit checks a just created upload against its tenant's limits. Every
// creation writes its record first and then lists the tenant's records,
// counting only those written before it (a lower revision: the bucket's
// stream orders every write): of two concurrent creations the later one
// sees the earlier, so limits hold across gateways with no lock and no
// counter to drift. Expired records on the way are deleted.
func (u *Uploads) admit(ctx context.Context, info UploadInfo) error {
	if u.cfg.MaxTenantUploads <= 0 && u.cfg.MaxTenantBytes <= 0 {
		return nil
	}
	recs, err := u.records(ctx, info.Tenant+".*")
	if err != nil {
		return err
	}
	now := u.Now()
	var (
		open, bytes         int64
		firstOpen, firstAny time.Time
	)
	for _, r := range recs {
		if r.Expired(now) {
			_ = u.remove(ctx, r) // best effort: the sweeper retries
			continue
		}
		if r.rev >= info.rev {
			continue
		}
		bytes += r.Size
		earliest(&firstAny, r.ExpiresAt)
		if !r.Finished() {
			open++
			earliest(&firstOpen, r.ExpiresAt)
		}
	}
	if u.cfg.MaxTenantUploads > 0 && !info.Finished() && open+1 > int64(u.cfg.MaxTenantUploads) {
		return &UploadQuotaError{Limit: QuotaUploads, Max: int64(u.cfg.MaxTenantUploads), Used: open, Want: 1, RetryAfter: until(now, firstOpen)}
	}
	if u.cfg.MaxTenantBytes > 0 && bytes+info.Size > u.cfg.MaxTenantBytes {
		return &UploadQuotaError{Limit: QuotaBytes, Max: u.cfg.MaxTenantBytes, Used: bytes, Want: info.Size, RetryAfter: until(now, firstAny)}
	}
	return nil
}

func earliest(t *time.Time, c time.Time) {
	if t.IsZero() || c.Before(*t) {
		*t = c
	}
}

// until is the wait from now to t, at least a second (and a second when
// nothing of the tenant's will expire: a deletion frees room any time).
func until(now, t time.Time) time.Duration {
	return max(t.Sub(now), time.Second)
}

// UploadUsage is what a tenant's uploads hold.
type UploadUsage struct {
	// Uploads counts stored uploads, Open the unfinished ones among them.
	Uploads, Open int
	// Bytes is the sum of their declared sizes.
	Bytes int64
}

// Usage sums a tenant's uploads that have not expired.
func (u *Uploads) Usage(ctx context.Context, tenant string) (UploadUsage, error) {
	recs, err := u.records(ctx, tenant+".*")
	if err != nil {
		return UploadUsage{}, err
	}
	var us UploadUsage
	now := u.Now()
	for _, r := range recs {
		if r.Expired(now) {
			continue
		}
		us.Uploads++
		us.Bytes += r.Size
		if !r.Finished() {
			us.Open++
		}
	}
	return us, nil
}
