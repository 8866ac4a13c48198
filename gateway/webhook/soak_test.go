package webhook

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"batchinfer/internal/wire"
)

// Thousands of jobs with webhooks, some delivered at the first attempt,
// some after a failure: every event arrives, signed, and the stream, the
// consumer, the attempts in flight and the goroutines return to where they
// were; deleting the jobs empties the delivery logs.
func TestWebhookSoakReturnsToBaseline(t *testing.T) {
	n := 2000
	if raceEnabled || testing.Short() {
		n = 400
	}
	rcv := newReceiver(t, secretA, func(k int) int {
		if k == 1 && time.Now().UnixNano()%4 == 0 { // about a quarter fail once
			return http.StatusBadGateway
		}
		return http.StatusOK
	})
	cfg := testConfig(t)
	cfg.TenantConcurrency = cfg.Concurrency
	e := start(t, cfg)
	e.drained()
	goroutines := runtime.NumGoroutine()

	began := time.Now()
	jobs := make([]string, n)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				jobs[i] = e.finish("tenant-a", rcv.url(), "completed")
			}
		}()
	}
	wg.Wait()
	t.Logf("%d jobs finished in %s", n, time.Since(began))
	e.drained()
	e.settled(wire.DeliveryDelivered, jobs...)
	t.Logf("their webhooks delivered %s after the start", time.Since(began))

	ok := map[string]bool{}
	for _, r := range rcv.requests() {
		if r.verified != nil {
			t.Fatalf("request %s: %v", r.id, r.verified)
		}
		ok[r.job] = true
	}
	if len(ok) != n {
		t.Errorf("%d jobs' events arrived, want %d", len(ok), n)
	}
	e.d.client.CloseIdleConnections() // bounded (MaxIdleConnsPerHost), not a leak
	eventually(t, 10*time.Second, func() error {
		if g := runtime.NumGoroutine(); g > goroutines+5 {
			return fmt.Errorf("%d goroutines, %d before", g, goroutines)
		}
		return nil
	})

	ctx := context.Background()
	for _, j := range jobs {
		rec, err := e.jobs.Get(ctx, j)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.jobs.Delete(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	if keys := e.logKeys(); keys != 0 {
		t.Errorf("%d delivery logs left after the jobs went", keys)
	}
}

// logKeys counts the delivery logs.
func (e *env) logKeys() int {
	e.t.Helper()
	lister, err := e.in.Buckets.Webhooks.ListKeys(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	defer func() { _ = lister.Stop() }()
	n := 0
	for range lister.Keys() {
		n++
	}
	return n
}
