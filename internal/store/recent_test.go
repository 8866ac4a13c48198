package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"batchinfer/internal/wire"
)

// Two workers (two stores, each keeping the records it wrote) counting one
// job's chunks interleaved, again and again, and concurrently within each,
// count every chunk exactly once: a kept record someone else wrote over
// is never written back.
func TestJobsCountFromKeptRecords(t *testing.T) {
	in := open(t)
	ctx := context.Background()
	a, b := NewJobs(in), NewJobs(in)
	const chunks, size = 60, 10
	rec := &wire.JobRecord{ID: "kept", Total: chunks * size, Chunks: chunks, ChunkSize: size, State: wire.StateAccepting, CreatedAt: time.Now()}
	if err := a.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := a.MarkQueued(ctx, "kept", chunks*size, chunks); err != nil {
		t.Fatal(err)
	}
	count := func(j *Jobs, c int) {
		t.Helper()
		if err := j.Count(ctx, "kept", wire.ChunkCount{Chunk: c, Done: size - 1, Failed: 1}); err != nil {
			t.Fatal(err)
		}
	}
	for c := range 20 { // one worker alone: its kept record is the latest
		count(a, c)
		count(a, c) // a second delivery counts nothing
	}
	for c := 20; c < 40; c++ { // two, taking turns
		count([]*Jobs{a, b}[c%2], c)
		count([]*Jobs{b, a}[c%2], c-1)
	}
	var wg sync.WaitGroup
	for c := 40; c < chunks; c++ { // two, each with several goroutines
		for _, j := range []*Jobs{a, b, a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := j.Count(ctx, "kept", wire.ChunkCount{Chunk: c, Done: size - 1, Failed: 1}); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	r, err := a.Get(ctx, "kept")
	if err != nil || r.Done != chunks*(size-1) || r.Failed != chunks || !r.Finished() {
		t.Fatalf("%+v %v", r, err)
	}
}

// A job's record written by someone else since is read, not overwritten:
// a cancel between two counts stays.
func TestJobsUpdateSeesOthersWrites(t *testing.T) {
	in := open(t)
	ctx := context.Background()
	w, g := NewJobs(in), NewJobs(in)
	rec := &wire.JobRecord{ID: "other", Total: 30, Chunks: 3, ChunkSize: 10, State: wire.StateAccepting, CreatedAt: time.Now()}
	if err := g.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := g.MarkQueued(ctx, "other", 30, 3); err != nil {
		t.Fatal(err)
	}
	if err := w.Count(ctx, "other", wire.ChunkCount{Chunk: 0, Done: 10}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Cancel(ctx, "other", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := w.Count(ctx, "other", wire.ChunkCount{Chunk: 1, Done: 10}); err != nil {
		t.Fatal(err)
	}
	r, err := g.Get(ctx, "other")
	if err != nil || r.CancelledAt == nil || r.Done != 20 {
		t.Fatalf("%+v %v", r, err)
	}
}

// The kept records are bounded, and a contended job reads first for a
// while.
func TestRecentRecordsBounded(t *testing.T) {
	var c recentRecords
	for i := range 3 * maxRecent {
		c.wrote(fmt.Sprint(i), []byte("{}"), uint64(i))
	}
	if len(c.m) > maxRecent {
		t.Fatalf("%d records kept, bound %d", len(c.m), maxRecent)
	}
	c.wrote("j", []byte("{}"), 7)
	if _, rev, ok := c.take("j"); !ok || rev != 7 {
		t.Fatalf("take: %d %v", rev, ok)
	}
	if _, _, ok := c.take("j"); ok {
		t.Fatal("a record taken twice")
	}
	c.stale("j")
	for range contendedSkip {
		c.wrote("j", []byte("{}"), 8)
		if _, _, ok := c.take("j"); ok {
			t.Fatal("a contended job's record used")
		}
	}
	c.wrote("j", []byte("{}"), 9)
	if _, rev, ok := c.take("j"); !ok || rev != 9 {
		t.Fatalf("after the contended updates: %d %v", rev, ok)
	}
}
