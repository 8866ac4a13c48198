package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"batchinfer/internal/wire"
)

// A reservation whose job record does not exist yet is a creation in
// progress and is kept; one older than orphanAfter is a failed creation
// and is dropped by the next admission that needs room; releasing twice
// changes nothing.
func TestQuotaReservationsAndOrphans(t *testing.T) {
	in := open(t)
	ctx := context.Background()
	jobs := NewJobs(in)
	q := NewQuotas(jobs)
	lim := QuotaLimits{Jobs: 2, Cost: 100}
	for _, id := range []string{"j-young", "j-old"} {
		if err := q.Reserve(ctx, "acme", id, 10, lim); err != nil {
			t.Fatal(err)
		}
	}
	var qe *QuotaError
	if err := q.Reserve(ctx, "acme", "j-third", 10, lim); !errors.As(err, &qe) || !qe.Jobs || qe.Have != 2 {
		t.Fatalf("a third job at jobs=2 while two are being created: %v", err)
	}
	// Age one reservation past orphanAfter, as a creation that failed.
	u, rev, _ := q.get(ctx, "acme")
	r := u.Jobs["j-old"]
	r.At = time.Now().Add(-2 * orphanAfter).UnixMilli()
	u.Jobs["j-old"] = r
	if err := q.put(ctx, "acme", u, rev); err != nil {
		t.Fatal(err)
	}
	if err := q.Reserve(ctx, "acme", "j-third", 10, lim); err != nil {
		t.Fatalf("the orphan was not dropped: %v", err)
	}
	u, _ = q.Usage(ctx, "acme")
	if _, ok := u.Jobs["j-old"]; ok || len(u.Jobs) != 2 {
		t.Fatalf("reservations %+v", u.Jobs)
	}
	// Finished releases (twice is harmless); the cost limit holds.
	for i := 0; i < 2; i++ {
		if err := jobs.Finished(ctx, &wire.JobRecord{ID: "j-young", Tenant: "acme"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Reserve(ctx, "acme", "j-big", 91, lim); !errors.As(err, &qe) || qe.Jobs || qe.Have != 10 || qe.Want != 91 {
		t.Fatalf("cost 10 + 91 at cost=100: %v", err)
	}
	if err := q.Reserve(ctx, "acme", "j-fits", 90, lim); err != nil {
		t.Fatalf("cost 10 + 90 at cost=100: %v", err)
	}
	if err := q.Reserve(ctx, "other", "j-x", 100, lim); err != nil {
		t.Fatalf("another tenant: %v", err)
	}
}
