package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/natsx/natstest"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go/jetstream"
)

func open(t *testing.T) *natsx.Infra {
	t.Helper()
	in, _ := natstest.Infra(t)
	return in
}

// Counting is exactly once per chunk, however often and from however many
// workers it is tried, and a finished job cannot be cancelled.
func TestJobsCountOnceAndCancel(t *testing.T) {
	in := open(t)
	ctx := context.Background()
	jobs := NewJobs(in)
	rec := &wire.JobRecord{ID: "j1", Total: 30, Chunks: 3, ChunkSize: 10, State: wire.StateAccepting, CreatedAt: time.Now()}
	if err := jobs.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := jobs.Create(ctx, rec); err == nil {
		t.Fatal("a second Create of the same id succeeded")
	}
	if r, err := jobs.MarkQueued(ctx, "j1", 30, 3); err != nil || r.State != wire.StateQueued {
		t.Fatalf("%+v %v", r, err)
	}
	done := make(chan error, 30)
	for i := 0; i < 30; i++ { // ten racing attempts for each chunk
		go func(c int) { done <- jobs.Count(ctx, "j1", wire.ChunkCount{Chunk: c, Done: 9, Failed: 1}) }(i % 3)
	}
	for i := 0; i < 30; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	r, err := jobs.Get(ctx, "j1")
	if err != nil || r.Done != 27 || r.Failed != 3 || !r.Finished() {
		t.Fatalf("%+v %v", r, err)
	}
	if r, err := jobs.Cancel(ctx, "j1", time.Now()); err != nil || r.CancelledAt != nil {
		t.Fatalf("cancel of a finished job: %+v %v", r, err)
	}
	if _, err := jobs.Get(ctx, "j2"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown job: %v", err)
	}
	if err := jobs.Count(ctx, "gone", wire.ChunkCount{Chunk: 0}); err != nil {
		t.Fatalf("counting into an expired job: %v", err)
	}
}

// A chunk's result is stored once: a second Put returns the first.
func TestResultsStoredOnce(t *testing.T) {
	in := open(t)
	ctx := context.Background()
	res := NewResults(in.JS, in.Results)
	first := &wire.ChunkResult{Job: "j1", Chunk: 4, Worker: "a", Done: 1}
	if got, _, err := res.Put(ctx, first, first.AppendJSON(nil)); err != nil || got != first {
		t.Fatalf("%+v %v", got, err)
	}
	second := &wire.ChunkResult{Job: "j1", Chunk: 4, Worker: "b", Done: 1}
	got, _, err := res.Put(ctx, second, second.AppendJSON(nil))
	if err != nil || got.Worker != "a" {
		t.Fatalf("second put returned %+v, %v; want the first (worker a)", got, err)
	}
	if cr, _, err := res.Chunk(ctx, "j1", 5); err != nil || cr != nil {
		t.Fatalf("missing chunk: %+v %v", cr, err)
	}
}

// A finished job's expiry timer fires at its ExpiresAt; Expire keeps the
// record (state expired) and Delete removes it and its index entries.
func TestJobsExpiryTimer(t *testing.T) {
	in := open(t)
	ctx := context.Background()
	jobs := NewJobs(in)
	rec := &wire.JobRecord{ID: "j1", Tenant: "t1", Total: 1, Chunks: 1, ChunkSize: 1, State: wire.StateQueued, CreatedAt: time.Now(), RetentionMS: 1}
	if err := jobs.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	cons, err := NewTimers(in.JS).Consumer(ctx, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := jobs.Count(ctx, "j1", wire.ChunkCount{Chunk: 0, Done: 1}); err != nil {
		t.Fatal(err)
	}
	if ids, err := jobs.ActiveOf(ctx, "t1"); err != nil || len(ids) != 0 {
		t.Fatalf("still active: %v %v", ids, err)
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var fired []string
	for m := range batch.Messages() {
		kind, job, ok := ParseFired(m.Subject())
		if !ok {
			t.Fatalf("subject %s", m.Subject())
		}
		fired = append(fired, kind+" "+job)
		_ = m.Ack()
	}
	if len(fired) != 1 || fired[0] != wire.TimerExpire+" j1" {
		t.Fatalf("fired %v", fired)
	}
	r, err := jobs.Expire(ctx, "j1", time.Hour)
	if err != nil || r.Status(time.Now()).State != wire.StateExpired {
		t.Fatalf("%+v %v", r, err)
	}
	if err := jobs.Delete(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := jobs.Get(ctx, "j1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted job: %v", err)
	}
	if ids, err := jobs.IDsOf(ctx, "t1"); err != nil || len(ids) != 0 {
		t.Fatalf("still indexed: %v %v", ids, err)
	}
}
