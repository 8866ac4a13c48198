package system

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"batchinfer/gateway"
	"batchinfer/internal/wire"
	"batchinfer/worker"
)

// finishedAt waits for a job to finish and returns when it did.
func (s *System) finishedAt(t *testing.T, id string, timeout time.Duration) (jobStatus, time.Time) {
	t.Helper()
	var st struct {
		jobStatus
		FinishedAt *time.Time `json:"finished_at"`
	}
	Eventually(t, timeout, func() error {
		st.FinishedAt = nil
		s.GetJSON("/v1/jobs/"+id, &st)
		if st.FinishedAt == nil || st.Done+st.Failed+st.Skipped < st.Total {
			return fmt.Errorf("job %s: %+v", id, st.jobStatus)
		}
		return nil
	})
	return st.jobStatus, *st.FinishedAt
}

// Fair share: a small job of tenant B submitted behind tenant A's backlog
// finishes in a fraction of A's drain time (first come, first served took
// all of it). The ratio is asserted loosely; the figure belongs to make
// bench.
func TestFairShareSmallJobNotBehindBacklog(t *testing.T) {
	s := Start(t, Options{Models: slow(2 * time.Millisecond)})
	inputs, _ := DigitInputs(t, 6000)
	start := time.Now()
	var big []string
	for range 4 {
		big = append(big, s.submit(t, map[string]any{"model": "digits", "inputs": inputs}).ID)
	}
	Eventually(t, 30*time.Second, func() error {
		var st jobStatus
		s.GetJSON("/v1/jobs/"+big[0], &st)
		if st.Done == 0 {
			return fmt.Errorf("A's first job has not started")
		}
		return nil
	})
	b := s.As(KeyB)
	small := b.submit(t, map[string]any{"model": "digits", "inputs": inputs[:256]})
	bSubmitted := time.Now()
	_, bDone := b.finishedAt(t, small.ID, 60*time.Second)
	aDone := start
	for _, id := range big {
		st, at := s.finishedAt(t, id, 120*time.Second)
		if st.Done != 6000 {
			t.Fatalf("A's job %s: %+v", id, st)
		}
		aDone = maxTime(aDone, at)
	}
	ratio := bDone.Sub(bSubmitted).Seconds() / aDone.Sub(start).Seconds()
	t.Logf("B's 256 items took %s, A's 24,000 drained in %s: ratio %.3f", bDone.Sub(bSubmitted).Round(time.Millisecond),
		aDone.Sub(start).Round(time.Millisecond), ratio)
	if ratio > 0.25 {
		t.Fatalf("B's small job waited %.0f%% of A's drain time (want < 25%%)", 100*ratio)
	}
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Within a tenant, high goes before normal before low, whatever the order
// they were submitted in; the priority is shown on the job.
func TestPrioritiesWithinTenant(t *testing.T) {
	g := newGate()
	s := Start(t, Options{Models: g.wrap, Worker: func(c *worker.Config) { c.Prefetch, c.PrefetchMax = 1, 1; c.MaxBatch = 64 }})
	g.close()
	// Jobs of 16 chunks: more than the scheduler keeps waiting in the queue
	// (SCHED_QUEUE_CHUNKS, 2), which it filled before the others came.
	inputs, _ := DigitInputs(t, 16*256)
	blocker := s.submit(t, map[string]any{"model": "digits", "inputs": inputs[:64]}) // holds the worker
	ids := map[string]string{}
	for _, p := range []string{"low", "normal", "high"} {
		var r submitResp
		if code := s.PostJSON("/v1/jobs", map[string]any{"model": "digits", "inputs": inputs, "priority": p}, &r); code != http.StatusAccepted {
			t.Fatalf("submit %s: %d", p, code)
		}
		ids[p] = r.Job.ID
		var st struct {
			Priority string `json:"priority"`
		}
		s.GetJSON("/v1/jobs/"+r.Job.ID, &st)
		if st.Priority != p {
			t.Fatalf("job %s shows priority %q", p, st.Priority)
		}
	}
	var bad apiError
	if code := s.PostJSON("/v1/jobs", map[string]any{"model": "digits", "inputs": inputs[:1], "priority": "urgent"}, &bad); code != 400 ||
		!strings.Contains(bad.Error.Message, "high, normal or low") {
		t.Fatalf("unknown priority: %d %+v", code, bad)
	}
	g.open()
	s.waitJob(t, blocker.ID, 30*time.Second)
	type fin struct {
		p  string
		at time.Time
	}
	var order []fin
	for p, id := range ids {
		_, at := s.finishedAt(t, id, 60*time.Second)
		order = append(order, fin{p, at})
	}
	slices.SortFunc(order, func(a, b fin) int { return a.at.Compare(b.at) })
	if got := []string{order[0].p, order[1].p, order[2].p}; !slices.Equal(got, []string{"high", "normal", "low"}) {
		t.Fatalf("finished in the order %v", got)
	}
}

// A deadline skips the items not started by then (deadline_exceeded, an
// item error of its own and the job's end state); bad deadlines are 400.
func TestDeadlineSkipsItemsNotStarted(t *testing.T) {
	g := newGate()
	s := Start(t, Options{Models: g.wrap, Worker: func(c *worker.Config) { c.MaxBatch = 64 }})
	g.close()
	inputs, _ := DigitInputs(t, 3000)
	var r submitResp
	if code := s.PostJSON("/v1/jobs", map[string]any{"model": "digits", "inputs": inputs, "deadline": "1s"}, &r); code != http.StatusAccepted {
		t.Fatalf("submit: %d", code)
	}
	for _, d := range []string{"2001-01-01T00:00:00Z", "yesterday", "-1h"} {
		var e apiError
		if code := s.PostJSON("/v1/jobs", map[string]any{"model": "digits", "inputs": inputs[:1], "deadline": d}, &e); code != 400 || !strings.Contains(e.Error.Message, "deadline") {
			t.Fatalf("deadline %q: %d %+v", d, code, e)
		}
	}
	time.Sleep(1500 * time.Millisecond) // past the deadline, the gate still closed
	g.open()
	st := s.waitJob(t, r.Job.ID, 30*time.Second)
	if st.State != wire.StateDeadlineExceeded || st.Skipped == 0 || st.Done+st.Skipped != 3000 || st.Done > 64*7 {
		t.Fatalf("after the deadline: %+v", st)
	}
	skipped := 0
	for _, it := range s.allResults(t, r.Job.ID, 3000) {
		if it.Skipped {
			skipped++
			if !strings.HasPrefix(it.Error, "deadline_exceeded") {
				t.Fatalf("item %d: %q", it.Index, it.Error)
			}
		}
	}
	if skipped != st.Skipped {
		t.Fatalf("%d skipped items in the results, %d counted", skipped, st.Skipped)
	}
}

// Cancel stops the work in flight: chunks the workers hold are dropped, not
// finished; the batches started after the cancel is acknowledged are at
// most about one per worker. (Chunks computed before the cancel may still
// be counted after it: their results were on their way to the store.)
func TestCancelStopsWorkInFlight(t *testing.T) {
	const maxBatch = 64
	var mu sync.Mutex
	var starts []time.Time
	record := func(ps []worker.Predictor) []worker.Predictor {
		return observe(slow(20*time.Millisecond)(ps), func(int) { // the start, before the batch's 20 ms
			mu.Lock()
			starts = append(starts, time.Now())
			mu.Unlock()
		})
	}
	s := Start(t, Options{Models: record, Worker: func(c *worker.Config) { c.MaxBatch = maxBatch }})
	inputs, _ := DigitInputs(t, 20000)
	job := s.submit(t, map[string]any{"model": "digits", "inputs": inputs})
	Eventually(t, 30*time.Second, func() error {
		var st jobStatus
		s.GetJSON("/v1/jobs/"+job.ID, &st)
		if st.Done < 500 {
			return fmt.Errorf("running: %d done", st.Done)
		}
		return nil
	})
	var at jobStatus
	if code := s.PostJSON("/v1/jobs/"+job.ID+"/cancel", nil, &at); code != 200 {
		t.Fatalf("cancel: %d", code)
	}
	acked := time.Now()
	st := s.waitJob(t, job.ID, 30*time.Second)
	mu.Lock()
	started := 0
	for _, at := range starts {
		if at.After(acked) {
			started++
		}
	}
	mu.Unlock()
	t.Logf("%d items done when the cancel was acknowledged, %d after; %d batches started after it", at.Done, st.Done-at.Done, started)
	if st.State != wire.StateCancelled || started > 2 || st.Done+st.Skipped != 20000 {
		t.Fatalf("after cancel: %+v (%d batches of up to %d started after the cancel; want at most about one)", st, started, maxBatch)
	}
}

// The scheduler leads from one gateway; when that gateway stops mid-job,
// another's takes over from the saved cursors: every item once.
func TestSchedulerFailoverLosesNothing(t *testing.T) {
	s := Start(t, Options{Models: slow(5 * time.Millisecond), Worker: func(c *worker.Config) { c.MaxBatch = 64 }})
	second := s.NewGatewayWith(func(*gateway.Config) {})
	first := s.Gateway
	Eventually(t, 10*time.Second, func() error {
		if first.Leading() == second.Leading() {
			return fmt.Errorf("leading: first %v second %v", first.Leading(), second.Leading())
		}
		return nil
	})
	leader, other := first, second
	if second.Leading() {
		leader, other = second, first
	}
	s.Gateway, s.BaseURL = other, "http://"+other.Addr() // the client talks to the one that stays
	const n = 12000
	inputs, labels := DigitInputs(t, n)
	job := s.submit(t, map[string]any{"model": "digits", "inputs": inputs})
	f := follow(t, s, job.ID)
	Eventually(t, 30*time.Second, func() error {
		if !f.advancedSince(time.Now().Add(-time.Second)) {
			return fmt.Errorf("not running yet")
		}
		return nil
	})
	ctxStop(t, leader)
	Eventually(t, 10*time.Second, func() error {
		if !other.Leading() {
			return fmt.Errorf("the other gateway does not lead")
		}
		return nil
	})
	select {
	case <-f.ended:
	case <-time.After(120 * time.Second):
		t.Fatal("the job did not end")
	}
	if f.err != nil {
		t.Fatal(f.err)
	}
	if err := checkAll(f.seen, n); err != nil {
		t.Fatal(err)
	}
	for _, it := range s.allResults(t, job.ID, n) {
		if it.Class == nil || *it.Class != labels[it.Index] {
			t.Fatalf("item %d: %+v want %d", it.Index, it, labels[it.Index])
		}
	}
}
