package store

import (
	"context"
	"errors"
	"fmt"
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
		if err := q.Reserve(ctx, "acme", id, 10, 0, lim); err != nil {
			t.Fatal(err)
		}
	}
	var qe *QuotaError
	if err := q.Reserve(ctx, "acme", "j-third", 10, 0, lim); !errors.As(err, &qe) || !qe.Jobs || qe.Have != 2 {
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
	if err := q.Reserve(ctx, "acme", "j-third", 10, 0, lim); err != nil {
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
	if err := q.Reserve(ctx, "acme", "j-big", 91, 0, lim); !errors.As(err, &qe) || qe.Jobs || qe.Have != 10 || qe.Want != 91 {
		t.Fatalf("cost 10 + 91 at cost=100: %v", err)
	}
	if err := q.Reserve(ctx, "acme", "j-fits", 90, 0, lim); err != nil {
		t.Fatalf("cost 10 + 90 at cost=100: %v", err)
	}
	if err := q.Reserve(ctx, "other", "j-x", 100, 0, lim); err != nil {
		t.Fatalf("another tenant: %v", err)
	}
}

// A tenant's share of the results store: unfinished jobs reserve their
// estimate (a streamed body's once it is read); a finished job holds
// what it stored until it expires; a redrive moves the held bytes back to
// the job, and settling it again counts them once.
func TestQuotaResultsShare(t *testing.T) {
	in := open(t)
	ctx := context.Background()
	jobs := NewJobs(in)
	q := NewQuotas(jobs)
	lim := QuotaLimits{Results: 1000}
	var qe *QuotaError
	if err := q.Reserve(ctx, "acme", "j-a", 1, 600, lim); err != nil {
		t.Fatal(err)
	}
	if err := q.Reserve(ctx, "acme", "j-b", 1, 0, lim); err != nil { // streamed: its estimate comes later
		t.Fatal(err)
	}
	if err := q.SetCost(ctx, "acme", "j-b", 1, 500, lim); !errors.As(err, &qe) || !qe.Results || qe.Have != 600 || qe.Want != 500 {
		t.Fatalf("600 + 500 at results=1000: %v", err)
	}
	if err := q.SetCost(ctx, "acme", "j-b", 1, 400, lim); err != nil {
		t.Fatalf("600 + 400 at results=1000: %v", err)
	}
	if err := q.Reserve(ctx, "other", "j-x", 1, 1000, lim); err != nil {
		t.Fatalf("another tenant has its own share: %v", err)
	}
	// j-a stored 300 of its 600: 300 held; j-b still reserves 400.
	rec := &wire.JobRecord{ID: "j-a", Tenant: "acme", Total: 1, Done: 1, ResultBytes: 300}
	if err := jobs.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	for range 2 { // idempotent
		if err := jobs.Finished(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	want := func(held int64) {
		t.Helper()
		u, err := q.Usage(ctx, "acme")
		if err != nil || u.ResultBytes() != held {
			t.Fatalf("held and reserved %d, want %d (%v)", u.ResultBytes(), held, err)
		}
	}
	want(700)
	if err := q.Reserve(ctx, "acme", "j-c", 1, 301, lim); !errors.As(err, &qe) || !qe.Results {
		t.Fatalf("700 + 301 at results=1000: %v", err)
	}
	// A redrive re-opens j-a: its 300 move to it, and count once when it
	// settles again with 350.
	if err := jobs.Reserve(ctx, rec); err != nil {
		t.Fatal(err)
	}
	want(700)
	rec, err := jobs.Update(ctx, "j-a", func(r *wire.JobRecord) bool { r.ResultBytes = 350; return true })
	if err != nil {
		t.Fatal(err)
	}
	if err := jobs.Finished(ctx, rec); err != nil {
		t.Fatal(err)
	}
	want(750)
	// Its expiry frees what it held, once.
	for range 2 {
		if _, err := jobs.Expire(ctx, "j-a", time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	want(400)
	if err := q.Reserve(ctx, "acme", "j-c", 1, 600, lim); err != nil {
		t.Fatalf("400 + 600 at results=1000 after the expiry: %v", err)
	}
}

// Two thousand jobs reserved, settled and expired leave the tenant's
// record as it started: no reservation, no bytes held.
func TestQuotaResultsShareReturnsToBaseline(t *testing.T) {
	in := open(t)
	ctx := context.Background()
	jobs := NewJobs(in)
	q := NewQuotas(jobs)
	lim := QuotaLimits{Jobs: 4096, Results: 1 << 30}
	const n = 2000
	for i := range n {
		id := fmt.Sprintf("j-%d", i)
		if err := q.Reserve(ctx, "acme", id, 1, 500, lim); err != nil {
			t.Fatal(err)
		}
		rec := &wire.JobRecord{ID: id, Tenant: "acme", Total: 1, Done: 1, ResultBytes: int64(100 + i%300)}
		if err := jobs.Create(ctx, rec); err != nil {
			t.Fatal(err)
		}
		if err := jobs.Finished(ctx, rec); err != nil {
			t.Fatal(err)
		}
		if i%2 == 1 { // expire in pairs, one behind: some bytes are held meanwhile
			for _, e := range []string{fmt.Sprintf("j-%d", i-1), id} {
				if _, err := jobs.Expire(ctx, e, time.Minute); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	u, err := q.Usage(ctx, "acme")
	if err != nil || len(u.Jobs) != 0 || u.Results != 0 {
		t.Fatalf("after %d jobs: %d reservations, %d bytes held (%v)", n, len(u.Jobs), u.Results, err)
	}
}
