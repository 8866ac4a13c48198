package service

import (
	"context"
	"sync"
	"testing"

	"batchinfer/api"
	"batchinfer/gateway/auth"
	"batchinfer/internal/store"
	"batchinfer/internal/wire"
)

// 48 concurrent submissions of one tenant against jobs=16 accept exactly
// 16: the reservation is one compare-and-set on the tenant's record, not a
// count read before the job is written.
func TestConcurrentSubmissionsNeverPassTheJobsQuota(t *testing.T) {
	e := start(t, testConfig())
	ctx := auth.With(context.Background(), &auth.Principal{Tenant: "acme", Limits: auth.Limits{Jobs: 16, Items: 1_000_000}})
	var mu sync.Mutex
	var accepted []wire.JobStatus
	refused := 0
	var wg sync.WaitGroup
	for i := 0; i < 48; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, _, err := e.svc.Submit(ctx, Submission{Model: "tiny", Items: rows(5)})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				accepted = append(accepted, st)
			case code(err) == api.CodeQuotaExceeded:
				refused++
			default:
				t.Errorf("submission: %v", err)
			}
		}()
	}
	wg.Wait()
	if len(accepted) != 16 || refused != 32 {
		t.Fatalf("%d accepted, %d refused; want 16 and 32", len(accepted), refused)
	}
	// A finished job gives its reservation back: one more is accepted.
	e.complete(accepted[0], 0)
	if _, _, err := e.svc.Submit(ctx, Submission{Model: "tiny", Items: rows(5)}); err != nil {
		t.Fatalf("after one job finished: %v", err)
	}
	if _, _, err := e.svc.Submit(ctx, Submission{Model: "tiny", Items: rows(5)}); code(err) != api.CodeQuotaExceeded {
		t.Fatalf("17th unfinished job: %v", err)
	}
}

// Cost, not count: items= bounds the cost of the items in flight; a job
// that finished without its reservation being released (its worker died
// in between) is found and dropped by the next admission that needs room,
// and the cost of a job half done counts half.
func TestCostQuotaAndSelfHealing(t *testing.T) {
	e := start(t, testConfig())
	ctx := auth.With(context.Background(), &auth.Principal{Tenant: "acme", Limits: auth.Limits{Jobs: 100, Items: 30}})
	first, _, err := e.svc.Submit(ctx, Submission{Model: "tiny", Items: rows(20)}) // 2 chunks of 10
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.Submit(ctx, Submission{Model: "tiny", Items: rows(11)}); code(err) != api.CodeQuotaExceeded {
		t.Fatalf("20 + 11 items at items=30: %v", err)
	}
	e.complete(first, 0) // half done: 10 left
	if _, _, err := e.svc.Submit(ctx, Submission{Model: "tiny", Items: rows(20)}); err != nil {
		t.Fatalf("10 left + 20 at items=30: %v", err)
	}
	// Finish a job behind the quota's back: the record says finished, the
	// reservation is still there.
	q := store.NewQuotas(store.NewJobs(e.in))
	u, _ := q.Usage(context.Background(), "acme")
	if len(u.Jobs) != 2 {
		t.Fatalf("reservations %+v", u.Jobs)
	}
	e.complete(first, 1)
	if err := q.Reserve(context.Background(), "acme", first.ID, 20, 0, store.QuotaLimits{}); err != nil { // back in, as if never released
		t.Fatal(err)
	}
	if _, _, err := e.svc.Submit(ctx, Submission{Model: "tiny", Items: rows(10)}); err != nil {
		t.Fatalf("a finished job's stale reservation was not dropped: %v", err)
	}
}
